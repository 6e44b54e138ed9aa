"""``jobs watch``'s table: it fits the terminal, shows untrusted text safely, keeps ended jobs a
while, and its options are checked."""

from __future__ import annotations

import argparse
import time

import pytest

from studio.commands.common import CommandError
from studio.commands.jobs_watch import LINGER, Board, run_watch, table_lines, wanted_states
from studio.jobs import ACTIVE_STATES, Job, JobState
from studio.store import Store
from studio.store.job_records import JobKind, JobProvider


def jobs(count: int, state: JobState = JobState.RUNNING, prompt: str = "a fox") -> list[Job]:
    made = []
    with Store.open(":memory:") as store:
        for n in range(count):
            job = store.create_job(
                kind=JobKind.VIDEO,
                provider=JobProvider.SEEDANCE,
                action="generate",
                model="seedance-2.0",
                prompt=f"{prompt} {n}",
                params={},
                idempotency_key=f"k{n}",
            )
            updated = store.update_job(job.id, state=state, progress=40)
            assert updated is not None
            made.append(updated)
    return made


def test_the_table_fits_the_terminal() -> None:
    lines = table_lines(jobs(30, prompt="x" * 300), time.time(), width=60, height=10, interval=1)
    assert len(lines) <= 9
    assert all(len(text) <= 59 for _, text in lines)
    assert lines[-1][1].strip() == "… and 24 more"  # 6 of the 30 shown
    wide = table_lines(jobs(1), time.time(), width=140, height=40, interval=1)
    assert "PROGRESS" in wide[1][1] and "████" in wide[2][1] and " 40%" in wide[2][1]


def test_untrusted_text_is_shown_not_sent() -> None:
    (job,) = jobs(1, prompt="evil \x1b]52;c;eA==\x07\u202e")
    ((_, row),) = table_lines([job], time.time(), width=200, height=10, interval=1)[2:]
    assert "\x1b" not in row and "\x07" not in row and "\u202e" not in row
    assert "evil ␛]52;c;eA==␇" in row


def test_ended_jobs_linger_then_leave_and_filters_apply() -> None:
    running, done = jobs(1)[0], jobs(1, JobState.SUCCEEDED)[0]
    board = Board(jobs={1: running})
    assert board.rows(0.0) == [running]
    board.jobs[1] = done
    board.ended[1] = 100.0
    assert board.rows(100.0 + LINGER - 1) == [done]
    assert board.rows(100.0 + LINGER + 1) == []
    assert Board(states=frozenset({JobState.SUCCEEDED}), jobs={1: done}).rows(0.0) == [done]


def test_options_are_checked() -> None:
    assert wanted_states(None) is None
    assert wanted_states(["active"]) == ACTIVE_STATES
    assert wanted_states(["failed", "timed_out"]) == {JobState.FAILED, JobState.TIMED_OUT}
    with pytest.raises(CommandError):
        wanted_states(["sleeping"])
    with pytest.raises(CommandError, match="--interval"):
        run_watch(argparse.Namespace(state=None, interval=-1.0))
