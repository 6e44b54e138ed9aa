"""Two windows on one data folder: each sees the other's jobs as they change, within a second.

Two ``StudioApp`` instances run side by side in one test, each with its own connection to the
same database file (``Store.open()`` on the shared data folder), as two terminals would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from textual.widgets import OptionList, Static

from studio.emulator import EmulatorServer
from studio.jobs import Job, JobKind, JobProvider, JobState
from studio.store import Role, Store
from studio.tui.app import StudioApp
from studio.tui.screens.dialogs import Choice, Confirm
from studio.tui.screens.job_detail import JobDetail
from studio.tui.screens.jobs_screen import JobsScreen
from studio.tui.widgets.chat_pane import ChatPane
from studio.tui.widgets.job_sidebar import JobSidebar
from studio.tui.widgets.message_view import MessageView

from .conftest import SIZE, Toasts, active_pane, wait_for
from .test_chat import send

SEEN_WITHIN = 1.0
"""How soon (seconds) the other window must show a change (issue 11: "about a second")."""


@pytest.fixture
def window(media_app: Callable[[], StudioApp]) -> Callable[[], StudioApp]:
    """Each call opens another window: its own ``Store.open()`` on the shared data folder."""
    return media_app


def shared_conversation() -> int:
    """A conversation both windows open on start (the newest one)."""
    with Store.open() as store:
        return store.create_conversation(title="shared").id


def title(app: StudioApp) -> str:
    """The terminal title last set (without its OSC 2 framing)."""
    titles: list[str] = app.titles  # type: ignore[attr-defined]
    last = titles[-1] if titles else ""
    return last.removeprefix("\x1b]2;").removesuffix("\x07")


def listed(app: StudioApp) -> set[str]:
    """The job ids the window's open job list shows (sidebar or ctrl+g screen)."""
    found = app.screen.query(JobSidebar)
    if not found:
        return set()
    options = found.first().query_one(OptionList)
    return {str(options.get_option_at_index(i).id) for i in range(options.option_count)}


def job_view(pane: ChatPane, job_id: int) -> MessageView | None:
    return next((v for v in pane.views() if v.is_job and v.message.job_id == job_id), None)


def live_line(view: MessageView | None) -> str:
    """The live line of a job's message ('' when it shows none, or there is no message)."""
    line = view.query_one_optional(".job-live", Static) if view is not None else None
    return str(line.render()) if line is not None and line.display else ""


def other_window_toasts(shown: Toasts) -> list[str]:
    return [message for message in shown.messages() if "another window" in message]


async def started(*apps: StudioApp) -> None:
    await wait_for(lambda: all(a.jobs.engine is not None for a in apps), limit=10)


async def test_a_second_window_follows_a_job_from_start_to_end(
    window: Callable[[], StudioApp],
) -> None:
    cid = shared_conversation()
    a, b = window(), window()
    ta, tb = Toasts(), Toasts()
    async with (
        a.run_test(size=SIZE, message_hook=ta.hook) as pa,
        b.run_test(size=SIZE, message_hook=tb.hook) as pb,
    ):
        await started(a, b)
        assert active_pane(b).conversation_id == cid
        await pb.press("ctrl+g")  # B watches the queue
        await send(pa, "/video a paper boat [[emulator: seconds=3]]")
        await wait_for(lambda: bool(a.jobs.jobs))
        job_id = next(iter(a.jobs.jobs))

        # B sees the job appear, running, in its list and in its terminal title.
        await wait_for(lambda: str(job_id) in listed(b), limit=SEEN_WITHIN + 1)
        await wait_for(lambda: "1 job running" in title(b), limit=SEEN_WITHIN + 1)
        await pb.press("enter")
        await wait_for(lambda: isinstance(b.screen, JobDetail))
        detail = b.screen
        assert isinstance(detail, JobDetail) and detail.job.id == job_id
        assert detail.job.state.is_active

        # A finishes it; B's details, list and title follow within about a second.
        await wait_for(lambda: a.jobs.jobs[job_id].state is JobState.SUCCEEDED, limit=30)
        loop = asyncio.get_running_loop()
        ended = loop.time()
        await wait_for(lambda: detail.job.state is JobState.SUCCEEDED, limit=SEEN_WITHIN)
        assert loop.time() - ended <= SEEN_WITHIN
        assert "succeeded" in str(detail.query_one("#job-text").render())
        await wait_for(lambda: title(b) == "AnyFast Studio", limit=SEEN_WITHIN)
        assert b.jobs.jobs[job_id] == b.store.get_job(job_id)

        # A reported it (toast, bell, message); B only shows a quiet toast, once.
        await wait_for(lambda: other_window_toasts(tb) != [])
        assert other_window_toasts(tb) == [f"Video job #{job_id} is done (in another window)"]
        assert not other_window_toasts(ta)
        await wait_for(lambda: a.bells == 1)  # type: ignore[attr-defined]
        assert b.bells == 0  # type: ignore[attr-defined]

        # The conversation holds exactly one result message, and B shows it too.
        await pb.press("escape")
        pane_b = active_pane(b)

        def results() -> list[int]:
            return [
                m.id
                for m in a.store.messages(cid)
                if m.role is Role.ASSISTANT and f"job #{job_id}" in m.content
            ]

        await wait_for(lambda: len(results()) == 1)
        result_id = results()[0]
        await wait_for(
            lambda: result_id in [v.message.id for v in pane_b.views()], limit=SEEN_WITHIN + 1
        )
        await pa.pause(0.6)  # a few more ticks: nothing is reported twice
        assert len(results()) == 1
        assert [v.message.id for v in pane_b.views()].count(result_id) == 1
        assert len(other_window_toasts(tb)) == 1


async def test_both_windows_list_both_jobs(window: Callable[[], StudioApp]) -> None:
    a, b = window(), window()
    async with a.run_test(size=SIZE) as pa, b.run_test(size=SIZE) as pb:
        await started(a, b)
        await send(pa, "/image a red kite")
        await send(pb, "/image a blue kite")
        await wait_for(lambda: len(a.store.list_jobs()) == 2)
        ids = {str(j.id) for j in a.store.list_jobs()}
        for app in (a, b):
            app.push_screen(JobsScreen())
            await wait_for(lambda app=app: isinstance(app.screen, JobsScreen))
            await wait_for(lambda app=app: listed(app) == ids, limit=SEEN_WITHIN + 1)
        # Each finishes its own; both see both end, and each rings only for its own.
        await wait_for(lambda: all(j.state.is_final for j in a.jobs.jobs.values()), limit=20)
        await wait_for(lambda: all(j.state.is_final for j in b.jobs.jobs.values()), limit=20)
        assert {j.id for j in a.jobs.jobs.values()} == {j.id for j in b.jobs.jobs.values()}
        await wait_for(lambda: a.bells == 1 and b.bells == 1)  # type: ignore[attr-defined]
        await pa.pause(0.5)
        assert a.bells == 1 and b.bells == 1  # type: ignore[attr-defined]


async def test_a_job_removed_in_one_window_disappears_in_the_other(
    window: Callable[[], StudioApp],
) -> None:
    a, b = window(), window()
    tb = Toasts()
    async with a.run_test(size=SIZE) as pa, b.run_test(size=SIZE, message_hook=tb.hook):
        await started(a, b)
        await send(pa, "/image a lighthouse")
        await wait_for(lambda: any(j.state.is_final for j in a.jobs.jobs.values()), limit=20)
        job: Job = next(iter(a.jobs.jobs.values()))
        await wait_for(lambda: b.jobs.jobs.get(job.id) == a.store.get_job(job.id))
        b.push_screen(JobDetail(b.jobs.jobs[job.id]))
        await wait_for(lambda: isinstance(b.screen, JobDetail))
        engine = a.jobs.engine
        assert engine is not None
        await engine.remove(job.id, delete_files=False)  # what the detail's "x" does
        a.jobs.forget(job.id)
        await wait_for(lambda: job.id not in b.jobs.jobs, limit=SEEN_WITHIN)
        await wait_for(lambda: not isinstance(b.screen, JobDetail))
        await wait_for(lambda: tb.any(f"Job #{job.id} was removed"))


async def test_the_highlight_stays_on_its_job_when_another_window_adds_one(
    window: Callable[[], StudioApp],
) -> None:
    a, b = window(), window()
    async with a.run_test(size=SIZE) as pa, b.run_test(size=SIZE) as pb:
        await started(a, b)
        await send(pa, "/video first [[emulator: seconds=6]]")
        await wait_for(lambda: bool(a.jobs.jobs))
        first = next(iter(a.jobs.jobs))
        await pb.press("ctrl+g")
        await wait_for(lambda: listed(b) == {str(first)}, limit=SEEN_WITHIN + 1)
        options = b.screen.query_one(JobSidebar).query_one(OptionList)
        await wait_for(lambda: options.highlighted_option is not None)
        assert options.highlighted_option is not None
        assert options.highlighted_option.id == str(first)
        await send(pa, "/video second [[emulator: seconds=6]]")
        await wait_for(lambda: len(listed(b)) == 2, limit=SEEN_WITHIN + 1)
        assert options.highlighted_option is not None
        assert options.highlighted_option.id == str(first)  # not the new row at the top


async def test_a_question_about_a_job_removed_elsewhere_is_closed(
    window: Callable[[], StudioApp],
) -> None:
    """A asks "Remove job #N?" while B removes it: A's question and details close, A says so
    once, and carries on (answering the question used to end the app)."""
    a, b = window(), window()
    ta = Toasts()
    async with a.run_test(size=SIZE, message_hook=ta.hook) as pa, b.run_test(size=SIZE) as pb:
        await started(a, b)
        await send(pb, "/image a windmill")
        await wait_for(lambda: any(j.state.is_final for j in b.jobs.jobs.values()), limit=20)
        job: Job = next(iter(b.jobs.jobs.values()))
        await wait_for(lambda: a.jobs.jobs.get(job.id) == b.store.get_job(job.id))
        # Pushed from inside A: a screen started from the test body would take B, the app
        # entered last, as its ``app`` (Textual's context variable), and follow B's jobs.
        a.call_later(a.push_screen, JobDetail(a.jobs.jobs[job.id]))
        await wait_for(lambda: isinstance(a.screen, JobDetail))
        await pa.press("x")
        await wait_for(lambda: isinstance(a.screen, Choice))
        engine = b.jobs.engine
        assert engine is not None
        await engine.remove(job.id, delete_files=False)  # B's "x", answered
        b.jobs.forget(job.id)
        await wait_for(lambda: not isinstance(a.screen, Choice | JobDetail), limit=SEEN_WITHIN + 1)
        await wait_for(lambda: any(f"Job #{job.id}" in n for n in ta.messages()))
        await pa.pause()
        removed = [n for n in ta.messages() if f"Job #{job.id}" in n]
        assert removed == [f"Job #{job.id} was removed in another window"]
        assert a.is_running


async def test_a_way_out_chosen_after_another_window_sent_the_job_again_does_nothing(
    window: Callable[[], StudioApp], emu: EmulatorServer
) -> None:
    """B offers the ways out of an uncertain submission while A sends it again: B's "New
    request" then makes no second (paid) task, and says why."""
    a, b = window(), window()
    tb = Toasts()
    async with a.run_test(size=SIZE) as pa, b.run_test(size=SIZE, message_hook=tb.hook) as pb:
        await started(a, b)
        emu.inject("500", 1, "/v1/video/generations")
        await send(pa, "/video a lantern [[emulator: seconds=4]]")
        await wait_for(lambda: bool(a.jobs.jobs))
        job_id = next(iter(a.jobs.jobs))
        uncertain = JobState.SUBMISSION_UNCERTAIN
        await wait_for(lambda: (j := b.jobs.jobs.get(job_id)) is not None and j.state is uncertain)
        await b.job_action(job_id, "recheck")  # k: nothing to check, the ways out are offered
        await wait_for(lambda: isinstance(b.screen, Choice))

        engine = a.jobs.engine
        assert engine is not None
        sent = await engine.resend(job_id)  # A's "s", answered
        assert sent.task_id and sent.state.is_active

        def creates() -> int:
            return sum(r.path == "/v1/video/generations" for r in emu.requests)

        before = creates()
        await pb.press("r")  # B: "New request"
        await wait_for(
            lambda: any(f"Job #{job_id} was sent again meanwhile" in t for t in tb.messages())
        )
        assert not isinstance(b.screen, Choice)
        assert [j.id for j in b.store.list_jobs()] == [job_id]  # no second task
        assert creates() == before  # nothing sent from B


async def test_a_job_checked_again_in_one_window_is_live_and_reported_in_the_other(
    window: Callable[[], StudioApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both windows show a timed-out job's message; A checks it again (k): B's message goes
    live again and then shows the result, also long after B stopped following it."""
    from studio.tui.job_reports import outcome, placeholder_text
    from studio.tui.widgets import chat_jobs

    monkeypatch.setattr(chat_jobs, "OUTCOME_WAIT", 0.5)  # B stops following the ended job soon
    cid = shared_conversation()
    a = window()
    async with a.run_test(size=SIZE):
        client = await a.gateway.client()
        task = await client.create_seedance_task("seedance-2.0", "late [[emulator: seconds=8]]")
        with Store.open() as store:  # as an earlier session left it: timed out, in C
            job = store.create_job(
                kind=JobKind.VIDEO,
                provider=JobProvider.SEEDANCE,
                action="generate",
                model="seedance-2.0",
                prompt="late",
                params={},
                idempotency_key="late",
                conversation_id=cid,
            )
            timed_out = store.update_job(job.id, state=JobState.TIMED_OUT, task_id=task.task_id)
            assert timed_out is not None
            message = store.add_job_message(cid, job.id, placeholder_text(job))
            assert message is not None
            content, status, error, _ = outcome(timed_out)
            store.show_job_outcome(message.id, content, status=status, error=error)
        b = window()
        async with b.run_test(size=SIZE):
            await started(a, b)
            pane_b = active_pane(b)
            assert pane_b.conversation_id == cid
            await wait_for(lambda: job_view(pane_b, job.id) is not None)
            view = job_view(pane_b, job.id)
            assert view is not None and "timed out" in view.message.content
            await wait_for(lambda: not pane_b.job_messages.followed)  # B no longer follows it

            await a.job_action(job.id, "recheck")  # A's k
            await wait_for(lambda: bool(live_line(job_view(pane_b, job.id))), limit=5)
            shown = job_view(pane_b, job.id)
            assert shown is not None and shown.message.error is None
            await wait_for(lambda: b.jobs.jobs[job.id].state is JobState.SUCCEEDED, limit=20)
            await wait_for(lambda: "is done" in (job_view(pane_b, job.id) or view).message.content)
            assert not live_line(job_view(pane_b, job.id))
            assert [v.message.job_id for v in pane_b.views()].count(job.id) == 1


async def test_a_retry_confirmed_after_another_window_retried_the_job_does_nothing(
    window: Callable[[], StudioApp],
) -> None:
    """B asks "Retry job #N?" while A retries it: B's yes then makes no third job."""
    a, b = window(), window()
    tb = Toasts()
    async with a.run_test(size=SIZE) as pa, b.run_test(size=SIZE, message_hook=tb.hook) as pb:
        await started(a, b)
        await send(pa, "/image a red barn")
        await wait_for(lambda: any(j.state.is_final for j in a.jobs.jobs.values()), limit=20)
        job_id = next(iter(a.jobs.jobs))
        await wait_for(lambda: (j := b.jobs.jobs.get(job_id)) is not None and j.state.is_final)
        await b.job_action(job_id, "retry")
        await wait_for(lambda: isinstance(b.screen, Confirm))

        engine = a.jobs.engine
        assert engine is not None
        retried = await engine.retry(job_id)  # A's "r", answered
        await pb.press("y")
        await wait_for(
            lambda: any(
                f"Job #{job_id} was retried meanwhile (in another window) as job #{retried.id}" in t
                for t in tb.messages()
            )
        )
        assert sorted(j.id for j in b.store.list_jobs()) == [job_id, retried.id]
