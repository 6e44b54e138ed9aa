"""The job sidebar on its own: redraws that keep the list, the highlight and the filter."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import OptionList

from studio.jobs import Job, JobKind, JobProvider, JobState
from studio.tui import job_styles
from studio.tui.job_styles import ROW_HEIGHT
from studio.tui.widgets import job_sidebar
from studio.tui.widgets.job_sidebar import JobSidebar

NOW = 1_700_000_000.0


def make_job(job_id: int, **changes: Any) -> Job:
    values: dict[str, Any] = {
        "id": job_id,
        "kind": JobKind.VIDEO,
        "provider": JobProvider.SEEDANCE,
        "action": "generate",
        "model": "seedance-2.0",
        "prompt": f"a lighthouse at dusk, take {job_id}",
        "params": {},
        "conversation_id": None,
        "retry_of": None,
        "state": JobState.RUNNING,
        "task_id": f"task-{job_id}",
        "idempotency_key": f"k-{job_id}",
        "progress": 10,
        "progress_points": (),
        "result": {},
        "files": (),
        "failure_reason": None,
        "message": None,
        "last_response": None,
        "history": (),
        "created_at": NOW - 60,
        "submitted_at": NOW - 59,
        "started_at": NOW - 50,
        "finished_at": None,
        "updated_at": NOW - 1,
        "deadline_at": None,
        "next_poll_at": None,
        "poll_count": 3,
        "urls_expire_at": None,
        "claimed_by": None,
        "lease_until": None,
    }
    values.update(changes)
    return Job(**values)


class SidebarApp(App[None]):
    CSS = "JobSidebar { width: 46; } JobSidebar OptionList { height: 1fr; border: none; }"

    def compose(self) -> ComposeResult:
        yield JobSidebar(id="jobs-sidebar")


class Calls:
    """Counts the option list's whole-list rebuilds."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rebuilds = 0
        for name in ("clear_options", "set_options", "add_options"):
            original = getattr(OptionList, name)

            def counted(self_: OptionList, *args: Any, _original: Any = original) -> Any:
                self.rebuilds += 1
                return _original(self_, *args)

            monkeypatch.setattr(OptionList, name, counted)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(JobSidebar, "clock", staticmethod(lambda: NOW))


def highlighted_id(options: OptionList) -> str | None:
    option = options.highlighted_option
    return option.id if option is not None else None


async def test_a_redraw_of_the_same_jobs_keeps_the_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    jobs = [make_job(i) for i in range(1, 41)]
    app = SidebarApp()
    async with app.run_test(size=(80, 30)) as pilot:
        sidebar = app.query_one(JobSidebar)
        options = sidebar.query_one(OptionList)
        sidebar.show(jobs)
        await pilot.pause()
        options.highlighted = 5
        options.scroll_to(y=6, animate=False, immediate=True)
        await pilot.pause()
        before = list(options.options)
        calls = Calls(monkeypatch)

        jobs[34] = dataclasses.replace(jobs[34], progress=55)  # job #35
        sidebar.show(jobs)
        await pilot.pause()

        assert calls.rebuilds == 0
        assert list(options.options) == before
        assert all(a is b for a, b in zip(options.options, before, strict=True))
        assert "55%" in str(options.get_option("35").prompt)
        assert highlighted_id(options) == "35"
        assert options.scroll_y == 6
        assert options.virtual_size.height == 40 * ROW_HEIGHT


async def test_the_highlighted_job_survives_new_and_removed_jobs() -> None:
    jobs = [make_job(i) for i in range(1, 21)]
    app = SidebarApp()
    async with app.run_test(size=(80, 30)) as pilot:
        sidebar = app.query_one(JobSidebar)
        options = sidebar.query_one(OptionList)
        sidebar.show(jobs)
        await pilot.pause()
        options.focus()
        for _ in range(4):
            await pilot.press("down")
        assert highlighted_id(options) == "16"

        sidebar.show([*jobs, make_job(21), make_job(22)])  # two new jobs on top
        await pilot.pause()
        assert highlighted_id(options) == "16"
        assert options.highlighted == 6

        sidebar.show([j for j in jobs if j.id not in (18, 19, 20)])
        await pilot.pause()
        assert highlighted_id(options) == "16"

        sidebar.show([j for j in jobs if j.id not in (16, 18, 19, 20)])  # it left
        await pilot.pause()
        assert highlighted_id(options) == "15"  # the next one down


async def test_filters_still_choose_jobs_by_state() -> None:
    jobs = [
        make_job(1, state=JobState.SUCCEEDED, progress=100, finished_at=NOW - 10),
        make_job(2),
        make_job(3, state=JobState.FAILED, finished_at=NOW - 5, failure_reason="nope"),
        make_job(4, state=JobState.QUEUED, progress=0),
    ]
    app = SidebarApp()
    async with app.run_test(size=(80, 30)) as pilot:
        sidebar = app.query_one(JobSidebar)
        options = sidebar.query_one(OptionList)
        sidebar.show(jobs)
        await pilot.pause()
        options.focus()
        await pilot.press("down")  # job #3
        shown: dict[str, list[str | None]] = {}
        for _ in job_styles.FILTERS:
            name = job_styles.FILTERS[sidebar.filter_index][0]
            shown[name] = [option.id for option in options.options]
            await pilot.press("f")
        assert shown == {
            "all": ["4", "3", "2", "1"],
            "active": ["4", "2"],
            "done": ["1"],
            "problems": ["3"],
            "cancelled": [],
        }
        assert highlighted_id(options) == "3"  # last highlighted under "problems"
        sidebar.show([*jobs[:3], dataclasses.replace(jobs[3], state=JobState.RUNNING)])
        await pilot.pause()
        assert highlighted_id(options) == "3"


async def test_rows_are_two_lines_built_only_when_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []
    label = job_sidebar.job_label

    def counted(job: Job, now: float, *args: Any) -> Any:
        built.append(job.id)
        return label(job, now, *args)

    monkeypatch.setattr(job_sidebar, "job_label", counted)
    jobs = [make_job(i, prompt="a very long prompt " * 5) for i in range(1, 501)]
    app = SidebarApp()
    async with app.run_test(size=(80, 30)) as pilot:
        sidebar = app.query_one(JobSidebar)
        options = sidebar.query_one(OptionList)
        sidebar.show(jobs)
        await pilot.pause()
        on_screen = options.scrollable_content_region.height // ROW_HEIGHT + 1
        assert 0 < len(set(built)) <= on_screen
        assert options.virtual_size.height == 500 * ROW_HEIGHT
        first, second = (options.render_line(y).text for y in (0, 1))
        assert first.startswith("▶ #500 a very long prompt") and first.rstrip().endswith("…")
        assert second.startswith("  running ")

        built.clear()
        monkeypatch.setattr(JobSidebar, "clock", staticmethod(lambda: NOW + 1))
        sidebar.show(jobs)  # every elapsed time changed: still only the rows on screen
        await pilot.pause()
        assert 0 < len(set(built)) <= on_screen
        # every row on screen is redrawn, not only the first one that changed
        for row in range(on_screen - 1):
            assert "1m01s" in options.render_line(row * ROW_HEIGHT + 1).text


async def test_a_running_job_shows_its_eta_in_full() -> None:
    """Rows are cut at the sidebar's width: the second line must fit, ETA included."""
    long_running = make_job(
        7,
        progress=45,
        started_at=NOW - 3599,
        created_at=NOW - 3599,
        progress_points=((NOW - 3000, 5), (NOW - 1, 45)),
    )
    assert long_running.eta(NOW) is not None
    others = [make_job(i) for i in range(1, 7)]  # enough rows for a scrollbar
    app = SidebarApp()
    app.CSS += " JobSidebar { border-left: solid red; }"  # as in the app
    async with app.run_test(size=(46, 12)) as pilot:
        sidebar = app.query_one(JobSidebar)
        options = sidebar.query_one(OptionList)
        sidebar.show([*others, long_running])
        await pilot.pause()
        assert options.show_vertical_scrollbar
        second = options.render_line(1).text.rstrip()
        assert "45%" in second and "59m59s" in second
        assert second.endswith("left"), second
        assert "…" not in second
