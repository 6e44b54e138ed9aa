"""Jobs in a conversation: each job's message (live while it runs, its outcome in place when it
ends, back after a restart), retry on a job's message, honest submission toasts, no results in
chat requests, and /video commands typed quickly that each make their own job."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from studio.emulator import EmulatorServer
from studio.jobs import Job, JobFile, JobKind, JobProvider, JobState
from studio.store import MessageStatus, Role
from studio.tui.app import StudioApp
from studio.tui.screens.dialogs import Confirm
from studio.tui.widgets.chat_pane import ChatPane
from studio.tui.widgets.message_view import MessageView
from studio.tui.widgets.prompt import PromptInput

from .conftest import SIZE, Toasts, active_pane, wait_for
from .test_chat import send


def jobs_of(app: StudioApp) -> list[Job]:
    return sorted(app.jobs.jobs.values(), key=lambda j: j.id)


def job_view(pane: ChatPane, job_id: int) -> MessageView | None:
    return next((v for v in pane.views() if v.is_job and v.message.job_id == job_id), None)


def live_line(view: MessageView) -> str:
    line = view.query_one_optional(".job-live", Static)  # gone once the view is replaced
    return str(line.render()) if line is not None and line.display else ""


def keys_for(text: str) -> list[str]:
    return ["space" if ch == " " else ch for ch in text]


async def select(view: Callable[[], MessageView | None]) -> None:
    """Select (focus) the message ``view()`` finds, as alt+up and up/down would."""

    def selected() -> bool:
        found = view()
        if found is not None and not found.has_focus:
            found.focus()
        return found is not None and found.has_focus

    await wait_for(selected)


async def answer_confirm(pilot: Pilot[None], done: Callable[[], bool]) -> None:
    """Wait for ``done``, saying yes to a confirmation on the way (a paid retry asks)."""

    def settled() -> bool:
        return done() or isinstance(pilot.app.screen, Confirm)

    await wait_for(settled, limit=20)
    if not done():
        await pilot.press("y")
        await wait_for(done, limit=20)


async def test_video_commands_typed_while_a_reply_streams_each_make_their_own_job(
    media_app: Callable[[], StudioApp],
) -> None:
    """Typed 0.3 s apart (and faster) while a reply streamed, /video commands were refused,
    given back to the prompt and joined the next one: one job, two prompts."""
    app = media_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = active_pane(app)
        prompt = pane.query_one(PromptInput)
        prompt.focus()
        prompt.text = "tell me a long story [[emulator: rate=5; tokens=2000]]"
        await pilot.press("enter")
        await wait_for(lambda: pane.streaming)
        typed = [f"/video long video {n} [[emulator: delay=0.3]]" for n in range(20, 23)]
        keys: list[str] = []
        for text in typed:
            keys += [*keys_for(text), "enter"]
        await pilot.press(*keys)
        await wait_for(lambda: len(app.jobs.jobs) == len(typed), limit=30)
        assert pane.streaming  # they did not wait for the reply
        assert sorted(j.prompt for j in jobs_of(app)) == [t.removeprefix("/video ") for t in typed]
        assert prompt.text == ""
        commands = [
            m.content for m in app.store.messages(pane.conversation_id) if m.role is Role.USER
        ]
        assert commands[1:] == typed


async def test_retry_on_a_failed_jobs_message_retries_the_job(
    media_app: Callable[[], StudioApp], emu: EmulatorServer
) -> None:
    app = media_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, "/video doomed [[emulator: fault=fail:content policy says no]]")
        await wait_for(lambda: any(j.state is JobState.FAILED for j in jobs_of(app)), limit=30)
        first = jobs_of(app)[0]
        await wait_for(lambda: (v := job_view(pane, first.id)) is not None and v.message.error)
        failed = job_view(pane, first.id)
        assert failed is not None and failed.message.status is MessageStatus.ERROR
        chats = sum(r.path == "/v1/chat/completions" for r in emu.requests)

        await select(lambda: job_view(pane, first.id))
        await pilot.press("r")
        await answer_confirm(pilot, lambda: len(app.jobs.jobs) == 2)
        retried = jobs_of(app)[1]
        assert retried.retry_of == first.id and retried.prompt == first.prompt
        # The failure stays where it was; the new job has its own message after it.
        await wait_for(lambda: job_view(pane, retried.id) is not None)
        still = app.store.get_message(failed.message_id)
        assert still is not None and still.error and "content policy" in still.error
        assert [v.message.job_id for v in pane.views()][1:] == [first.id, retried.id]

        # Regenerate on the /video command itself retries the job it made (the latest).
        await wait_for(lambda: app.jobs.jobs[retried.id].state.is_final, limit=30)
        await select(lambda: pane.views()[0])
        await pilot.press("r")
        await answer_confirm(pilot, lambda: len(app.jobs.jobs) == 3)
        assert jobs_of(app)[2].retry_of == retried.id

        # Nothing went to the chat model, and no chat reply was made.
        assert sum(r.path == "/v1/chat/completions" for r in emu.requests) == chats
        stored = app.store.messages(pane.conversation_id)
        assert all(m.job_id is not None for m in stored if m.role is Role.ASSISTANT)
        assert not pane.streaming


@pytest.mark.parametrize("fault", ["500", "disconnect:0"])
async def test_an_uncertain_submission_is_announced_as_such_and_shown(
    media_app: Callable[[], StudioApp], fault: str, toasts: Toasts
) -> None:
    app = media_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        pane = await send(pilot, f"/video lost in transit [[emulator: fault={fault}]]")
        await wait_for(lambda: any(not j.state.is_active for j in jobs_of(app)), limit=20)
        job = jobs_of(app)[0]
        assert job.state is JobState.SUBMISSION_UNCERTAIN
        await wait_for(lambda: any("may not have received it" in t for t in toasts.messages()))
        await wait_for(lambda: (v := job_view(pane, job.id)) is not None and v.message.error)
        view = job_view(pane, job.id)
        assert view is not None and view.message.status is MessageStatus.ERROR
        assert "ctrl+g" in (view.message.error or "")
        assert "not confirmed" in str(view.query_one(".mark", Static).render())  # not "failed"
        await pilot.pause(0.5)  # the engine's word and the submit's answer both came back
        said = toasts.messages()
        assert not any("submitted" in t for t in said)
        assert sum("may not have received it" in t for t in said) == 1
        assert any(n.severity == "warning" for n in toasts.shown)


async def test_a_running_video_shows_a_live_placeholder_replaced_by_its_result(
    media_app: Callable[[], StudioApp],
) -> None:
    app = media_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await send(pilot, "/video slow boat [[emulator: seconds=3]]")
        await wait_for(lambda: bool(app.jobs.jobs))
        job = jobs_of(app)[0]
        await wait_for(lambda: (v := job_view(pane, job.id)) is not None and bool(live_line(v)))
        command = pane.views()[0]
        view = job_view(pane, job.id)
        assert view is not None
        first = live_line(view)
        await wait_for(lambda: "running" in live_line(view), limit=10)
        await wait_for(lambda: live_line(view) not in ("", first), limit=5)  # it ticks
        assert re.search(r"running \S+ \d+% · 0:0\d", live_line(view))

        await wait_for(lambda: app.jobs.jobs[job.id].state is JobState.SUCCEEDED, limit=30)
        await wait_for(
            lambda: (
                len(pane.views()) == 2
                and "is done" in (job_view(pane, job.id) or view).message.content
            )
        )
        done = job_view(pane, job.id)
        assert done is not None and done is not view and not view.is_attached
        assert not live_line(done)
        assert pane.views() == [command, done]  # replaced in place, nothing else redrawn


async def test_a_running_jobs_placeholder_survives_a_restart(
    media_app: Callable[[], StudioApp],
) -> None:
    app = media_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "/video slow one [[emulator: seconds=4]]")
        await wait_for(lambda: any(j.task_id for j in app.jobs.jobs.values()))
        job_id = jobs_of(app)[0].id
    again = media_app()
    async with again.run_test(size=SIZE):
        pane = active_pane(again)
        await wait_for(lambda: (v := job_view(pane, job_id)) is not None and bool(live_line(v)))
        assert len(pane.views()) == 2
        await wait_for(lambda: again.jobs.jobs.get(job_id) is not None, limit=10)
        await wait_for(lambda: again.jobs.jobs[job_id].state is JobState.SUCCEEDED, limit=30)
        await wait_for(
            lambda: (
                len(pane.views()) == 2
                and "is done" in pane.views()[-1].message.content
                and pane.views()[-1].message.job_id == job_id
            )
        )
        command = pane.views()[0].message
        assert command.role is Role.USER
        assert again.store.get_message(command.id).job_id == job_id  # type: ignore[union-attr]


async def test_generated_images_are_not_sent_with_later_chat_messages(
    media_app: Callable[[], StudioApp],
) -> None:
    app = media_app()
    async with app.run_test(size=SIZE) as pilot:
        for n in range(3):
            pane = await send(pilot, f"/image lighthouse {n}")
        await wait_for(
            lambda: (
                len(app.jobs.jobs) == 3
                and all(j.state is JobState.SUCCEEDED for j in app.jobs.jobs.values())
            ),
            limit=30,
        )
        results = [job_view(pane, j.id) for j in jobs_of(app)]
        await wait_for(
            lambda: all((v := job_view(pane, j.id)) and v.message.attachments for j in jobs_of(app))
        )
        assert all(results)
        await send(pilot, "what do you see?")
        await wait_for(lambda: not pane.streaming and pane.views()[-1].message.usage is not None)
        reply = pane.views()[-1]
        # The emulator's reply starts by naming every image the request carried.
        assert "You attached" not in reply.text
        assert "what do you see?" in reply.text
        usage = reply.message.usage
        assert usage is not None and usage.prompt_tokens < 85  # one image alone costs 85


def test_reports_written_before_schema_5_are_linked_to_their_jobs(tmp_path: Path) -> None:
    """Old reports carried their images into every chat request: the migration links them
    to their job (so they are no longer sent); other messages are left alone."""
    import sqlite3

    from studio.jobs import JobKind, JobProvider
    from studio.store import Store

    path = tmp_path / "studio.db"
    store = Store.open(path)
    cid = store.create_conversation().id
    jobs = [
        store.create_job(
            kind=JobKind.IMAGE if n < 12 else JobKind.VIDEO,
            provider=JobProvider.SEEDREAM if n < 12 else JobProvider.SEEDANCE,
            action="generate",
            model="m",
            prompt=f"p{n}",
            params={},
            idempotency_key=f"k{n}",
            conversation_id=cid,
        )
        for n in range(13)
    ]
    store.add_message(cid, Role.USER, "/image p0")
    first = store.add_message(cid, Role.ASSISTANT, f"Image job #{jobs[0].id} is done (m).")
    twelfth = store.add_message(cid, Role.ASSISTANT, f"Image job #{jobs[11].id} is done.")
    video = store.add_message(cid, Role.ASSISTANT, f"Video job #{jobs[12].id} did not finish.")
    chat = store.add_message(cid, Role.ASSISTANT, "Image job #999 is a fine name for a song.")
    store.close()
    raw = sqlite3.connect(path, isolation_level=None)  # back to schema 4
    for later in (  # what versions 7 (search), 6 (uuids) and 5 (job links) added
        "DROP TRIGGER messages_fts_insert",
        "DROP TRIGGER messages_fts_delete",
        "DROP TRIGGER messages_fts_update",
        "DROP TABLE messages_fts",
        "DROP INDEX messages_created",
        "DROP INDEX messages_search",
        "DROP INDEX conversations_uuid",
        "ALTER TABLE conversations DROP COLUMN uuid",
        "DROP INDEX messages_job",
        "ALTER TABLE messages DROP COLUMN job_id",
    ):
        raw.execute(later)
    raw.execute("PRAGMA user_version = 4")
    raw.close()

    store = Store.open(path)
    try:
        linked = {m.id: m.job_id for m in store.messages(cid)}
        assert linked[first.id] == jobs[0].id
        assert linked[twelfth.id] == jobs[11].id  # not job #1's (#1 is a prefix of #11)
        assert linked[video.id] == jobs[12].id
        assert linked[chat.id] is None
        assert sum(v is not None for v in linked.values()) == 3
    finally:
        store.close()


async def test_a_video_from_the_f12_form_shows_in_the_conversation_in_view(
    media_app: Callable[[], StudioApp],
) -> None:
    from studio.tui.screens.media_forms import VideoForm

    app = media_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = active_pane(app)
        await pilot.press("f12")
        await wait_for(lambda: isinstance(app.screen, VideoForm))
        app.screen.query_one("#prompt").text = "a kite [[emulator: seconds=3]]"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await wait_for(lambda: bool(app.jobs.jobs), limit=20)
        job = jobs_of(app)[0]
        assert job.conversation_id == pane.conversation_id
        await wait_for(lambda: (v := job_view(pane, job.id)) is not None and bool(live_line(v)))
        await wait_for(lambda: app.jobs.jobs[job.id].state is JobState.SUCCEEDED, limit=30)
        await wait_for(
            lambda: len(pane.views()) == 1 and "is done" in pane.views()[0].message.content
        )


async def test_an_uncertain_job_sent_again_is_live_again_in_its_message(
    media_app: Callable[[], StudioApp], emu: EmulatorServer, toasts: Toasts
) -> None:
    app = media_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        emu.inject("500", 1, "/v1/video/generations")
        pane = await send(pilot, "/video second chance [[emulator: seconds=3]]")
        await wait_for(lambda: any(not j.state.is_active for j in jobs_of(app)), limit=20)
        job = jobs_of(app)[0]
        assert job.state is JobState.SUBMISSION_UNCERTAIN
        await wait_for(lambda: (v := job_view(pane, job.id)) is not None and v.message.error)

        engine = await app.jobs.ensure_started()
        await engine.resend(job.id)  # the same job, under the same idempotency key

        def live_again() -> bool:  # the old view may show the live line until it is replaced
            v = job_view(pane, job.id)
            return v is not None and v.message.error is None and bool(live_line(v))

        await wait_for(live_again)
        await wait_for(lambda: app.jobs.jobs[job.id].state is JobState.SUCCEEDED, limit=30)
        await wait_for(
            lambda: len(pane.views()) == 2 and "is done" in pane.views()[-1].message.content
        )
        assert sum("is done" in t for t in toasts.messages()) == 1


async def test_a_finished_image_that_cannot_be_read_still_gets_its_outcome(
    media_app: Callable[[], StudioApp], tmp_path: Path
) -> None:
    """A saved result that is not an image after all (or gone): its message still says the
    job is done and lists the file, without a preview (it stayed a placeholder)."""
    not_an_image = tmp_path / "media" / "result.png"
    not_an_image.parent.mkdir(parents=True, exist_ok=True)
    not_an_image.write_bytes(b"<html>an error page saved as the image</html>")
    app = media_app()
    async with app.run_test(size=SIZE):
        pane = active_pane(app)
        store = app.store
        job = store.create_job(
            kind=JobKind.IMAGE,
            provider=JobProvider.SEEDREAM,
            action="generate",
            model="seedream-4-0",
            prompt="a fox",
            params={},
            idempotency_key="k",
            conversation_id=pane.conversation_id,
        )
        app.jobs.reporter.started(job)  # its placeholder in the conversation
        done = store.update_job(
            job.id,
            state=JobState.SUCCEEDED,
            files=(JobFile(0, None, str(not_an_image), 45, True),),
        )
        assert done is not None
        app.jobs.reporter.finished(done)
        shown = store.job_message(job.id)
        assert shown is not None and "is done" in shown.content
        assert str(not_an_image) in shown.content and shown.attachments == ()
        await wait_for(
            lambda: (v := job_view(pane, job.id)) is not None and "is done" in v.message.content
        )


async def test_a_refused_command_is_not_linked_to_a_later_identical_one(
    media_app: Callable[[], StudioApp], monkeypatch: pytest.MonkeyPatch, toasts: Toasts
) -> None:
    """A /image refused before its job existed no longer waits for a job: the same command
    typed again is the one linked to the job it makes."""
    from studio.jobs.submission import JobRequestError

    app = media_app()
    async with app.run_test(size=SIZE, message_hook=toasts.hook) as pilot:
        real = app.jobs.submit
        calls = 0

        async def refuse_once(*args: object, **kwargs: object) -> Job:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise JobRequestError("seedream does not take this")  # before any job exists
            return await real(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(app.jobs, "submit", refuse_once)
        pane = await send(pilot, "/image a fox in snow")
        await wait_for(lambda: any("does not take" in t for t in toasts.messages()))
        await send(pilot, "/image a fox in snow")
        await wait_for(lambda: bool(app.jobs.jobs), limit=20)
        job = jobs_of(app)[0]
        await wait_for(lambda: job_view(pane, job.id) is not None)
        commands = [m for m in app.store.messages(pane.conversation_id) if m.role is Role.USER]
        assert [m.content for m in commands] == ["/image a fox in snow"] * 2
        assert [m.job_id for m in commands] == [None, job.id]
