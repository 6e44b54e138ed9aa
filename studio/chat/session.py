"""One conversation's chat: the user's messages in, a reply streamed out as typed events.

:class:`ChatSession` builds the history sent for a conversation (system prompt, attachments as
image parts, its temperature and max tokens), adds the user's message (or replaces one: edit and
resend), and starts a :class:`Reply`. Iterating a reply sends the request through the client,
saves the partial reply every :data:`SAVE_EVERY` s, and ends it with its status: complete
(perhaps cut at the token limit), stopped, cut or error. No Textual here: the TUI's chat pane and
``studio ask`` consume the same events.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from studio.api.errors import AnyFastError, IncompleteStreamError, StreamError, describe
from studio.api.types import ChatDelta, Usage
from studio.chat.events import (
    ReplyDelta,
    ReplyEvent,
    ReplyFailed,
    ReplyFinished,
    ReplyStarted,
    ReplyWarning,
)
from studio.chat.history import api_messages, job_command, title_from_prompt
from studio.store import Message, MessageStatus, NewAttachment, NotFoundError, Role

if TYPE_CHECKING:
    from studio.api.client import AnyFastClient
    from studio.chat.records import ChatRecords

SAVE_EVERY = 1.0
"""Seconds between flushes of a streaming reply to the store (kill -9 loses at most this)."""

Connect = Callable[[], Awaitable["AnyFastClient"]]
"""How a session gets its client (started on first use, perhaps with the demo emulator)."""


@dataclass(frozen=True, slots=True)
class FinishedReply:
    """A reply's final state, kept until the store has taken it."""

    message_id: int
    content: str
    status: MessageStatus
    usage: Usage | None
    error: str | None
    finish_reason: str | None
    reasoning: str

    def save(self, records: ChatRecords) -> Message:
        return records.finish_reply(
            self.message_id,
            self.content,
            status=self.status,
            usage=self.usage,
            error=self.error,
            finish_reason=self.finish_reason,
            reasoning=self.reasoning,
        )

    def shown_as(self, message: Message) -> Message:
        """``message`` (as it was when the reply began) in this final state."""
        return replace(
            message,
            content=self.content,
            status=self.status,
            usage=self.usage,
            error=self.error,
            finish_reason=self.finish_reason,
            reasoning=self.reasoning,
        )


@dataclass(frozen=True, slots=True)
class Sent:
    """A message the user added; ``title`` is the conversation's new automatic title, if the
    message gave it one."""

    message: Message
    title: str | None


class ChatSession:
    """The chat of one conversation, kept in ``records`` (the store, or memory).

    ``connect`` gives the client; ``default_model`` gives the model used when the conversation
    names none (read at each reply: the setting may change meanwhile). ``commands_are_jobs=False``
    (``studio ask``, which has no jobs) sends a ``/image`` or ``/video`` prompt to the model.
    Finished replies the store refused are kept and saved again by :meth:`retry_saves`.
    """

    def __init__(
        self,
        records: ChatRecords,
        conversation_id: int,
        connect: Connect,
        *,
        default_model: Callable[[], str],
        stream: bool = True,
        commands_are_jobs: bool = True,
    ) -> None:
        self.records = records
        self.conversation_id = conversation_id
        self.connect = connect
        self.default_model = default_model
        self.stream = stream
        """False: each reply is asked for whole (``studio ask --no-stream``), one delta."""
        self.commands_are_jobs = commands_are_jobs
        self.unsaved: dict[int, FinishedReply] = {}
        """Finished replies the store refused, by message id."""

    # -- the user's messages ---------------------------------------------------------------------

    def send(
        self,
        text: str,
        attachments: Sequence[NewAttachment] = (),
        *,
        replacing: Message | None = None,
    ) -> Sent:
        """Add the user's message. ``replacing`` (edit and resend): that message and everything
        after it are deleted, and its attachments come first on the new one."""
        records, cid = self.records, self.conversation_id
        if replacing is not None:
            attachments = [*self.reattach(replacing), *attachments]
            records.delete_messages_from(cid, replacing.position)
        message = records.add_message(cid, Role.USER, text, attachments=attachments)
        records.add_prompt_history(text)
        return Sent(message, self._auto_title(title_from_prompt(text)))

    def add_command(self, text: str) -> Sent:
        """Keep a ``/image`` or ``/video`` command in the conversation (never sent to the
        chat model: the caller starts its job)."""
        kind, rest = job_command(text) or ("", text.strip())
        message = self.records.add_message(self.conversation_id, Role.USER, text.strip())
        self.records.add_prompt_history(text)
        return Sent(message, self._auto_title(title_from_prompt(f"{kind.capitalize()}: {rest}")))

    def _auto_title(self, title: str) -> str | None:
        return title if self.records.set_auto_title(self.conversation_id, title) else None

    def reattach(self, message: Message) -> list[NewAttachment]:
        """``message``'s attachments, to attach again."""
        return [
            NewAttachment(
                name=a.name,
                mime=a.mime,
                data=self.records.attachment_data(a.id),
                url=a.url,
                width=a.width,
                height=a.height,
            )
            for a in message.attachments
        ]

    # -- replies -----------------------------------------------------------------------------------

    def start_reply(self) -> Reply | None:
        """A reply to the conversation as it stands (its placeholder is stored at once; iterate
        the reply to stream it). ``None`` when the conversation is gone."""
        conversation = self.records.get_conversation(self.conversation_id)
        if conversation is None:
            return None
        model = conversation.model or self.default_model()
        history = api_messages(self.records, conversation, commands_are_jobs=self.commands_are_jobs)
        params: dict[str, Any] = {
            "temperature": conversation.temperature,
            "max_tokens": conversation.max_tokens,
        }
        placeholder = self.records.start_reply(self.conversation_id, model=model)
        return Reply(self, placeholder, model, history, params)

    def regenerate(self, reply: Message) -> Reply | None:
        """Delete ``reply`` (the last one) and start a new reply in its place."""
        self.records.delete_messages_from(self.conversation_id, reply.position)
        return self.start_reply()

    def keep_unsaved(self, finished: FinishedReply) -> None:
        self.unsaved[finished.message_id] = finished

    def retry_saves(self) -> int:
        """Save the finished replies the store refused; quietly keep those it still refuses.
        Returns how many were saved now."""
        saved = 0
        for mid, finished in list(self.unsaved.items()):
            try:
                finished.save(self.records)
            except NotFoundError:
                del self.unsaved[mid]  # deleted meanwhile (regenerated, edited away)
            except Exception:
                break  # still failing: the next write or tick tries again
            else:
                del self.unsaved[mid]
                saved += 1
        return saved


class Reply:
    """One reply: iterate it (once) for its events; :meth:`stop` stops it, keeping its text.

    However the iteration ends (stopped, cancelled, the consumer gone), :meth:`end` gives the
    reply's end, saving it as stopped if nothing else ended it.
    """

    def __init__(
        self,
        session: ChatSession,
        message: Message,
        model: str,
        history: list[dict[str, Any]],
        params: dict[str, Any],
    ) -> None:
        self.session = session
        self.message = message
        """The placeholder, as stored when the reply began."""
        self.model = model
        self.history = history
        """The messages sent (system prompt first)."""
        self.params = params
        self.ended: ReplyFinished | ReplyFailed | None = None
        self._parts: list[str] = []
        self._reasoning: list[str] = []
        self._usage: Usage | None = None
        self._finish: str | None = None
        self._events: AsyncGenerator[ReplyEvent, None] | None = None
        self._task: asyncio.Task[Any] | None = None
        self._waiting = False
        self._stopping = False

    @property
    def text(self) -> str:
        """The reply so far."""
        return "".join(self._parts)

    def __aiter__(self) -> AsyncIterator[ReplyEvent]:
        if self._events is None:
            self._events = self._run()
        return self._events

    def stop(self) -> None:
        """Stop the reply: it ends with :class:`ReplyFinished`, status stopped, text kept."""
        self._stopping = True
        if self._waiting and self._task is not None:
            self._task.cancel()  # only ever while it waits for the gateway, never mid-event

    async def end(self) -> ReplyFinished | ReplyFailed:
        """The reply's end; a reply that did not end yet (its consumer stopped iterating) is
        closed and saved as stopped."""
        if self.ended is None and self._events is not None:
            await self._events.aclose()
        return self.ended or self._end(MessageStatus.STOPPED)

    async def _run(self) -> AsyncGenerator[ReplyEvent, None]:
        self._task = asyncio.current_task()
        outcome, error = MessageStatus.COMPLETE, None
        failure: BaseException | None = None
        deltas: AsyncIterator[ChatDelta] | None = None
        try:
            yield ReplyStarted(self.message, self.model)
            if self._stopping:
                raise asyncio.CancelledError
            self._waiting = True
            client = await self.session.connect()
            if self.session.stream:
                deltas = client.stream_chat(model=self.model, messages=self.history, **self.params)
            else:
                deltas = _whole(client, self.model, self.history, self.params)
            last_save = time.monotonic()
            while True:
                self._waiting = True
                try:
                    delta = await anext(deltas)
                except StopAsyncIteration:
                    break
                finally:
                    self._waiting = False
                if delta.content:
                    self._parts.append(delta.content)
                if delta.reasoning:
                    self._reasoning.append(delta.reasoning)
                if delta.usage:
                    self._usage = delta.usage
                if delta.finish_reason:
                    self._finish = delta.finish_reason
                if delta.content or delta.reasoning:
                    yield ReplyDelta(delta.content, delta.reasoning)
                if delta.warning:
                    yield ReplyWarning(delta.warning)
                if self._stopping:
                    raise asyncio.CancelledError
                now = time.monotonic()
                if now - last_save >= SAVE_EVERY:
                    last_save = now
                    self._save_partial()
        except (asyncio.CancelledError, GeneratorExit, KeyboardInterrupt) as exc:
            # KeyboardInterrupt: ctrl+c raised in the task itself (not turned into a cancel)
            self._waiting = False
            outcome = MessageStatus.STOPPED
            task = self._task
            asked = self._stopping and isinstance(exc, asyncio.CancelledError)
            if not asked or (task is not None and task.cancelling() > 1):
                raise  # cancelled from outside (the app quits): end() has the outcome
            if task is not None and task.cancelling():
                task.uncancel()  # the cancel was stop()'s own
        except IncompleteStreamError as exc:
            outcome, error, failure = MessageStatus.CUT, describe(exc), exc
        except StreamError as exc:
            outcome = MessageStatus.CUT if exc.partial else MessageStatus.ERROR
            error, failure = describe(exc), exc
        except AnyFastError as exc:
            outcome, error, failure = MessageStatus.ERROR, describe(exc), exc
        except Exception as exc:  # never let a bug take a surface down mid-reply
            outcome, failure = MessageStatus.ERROR, exc
            error = f"Unexpected error: {type(exc).__name__}: {exc}"
        finally:
            self._waiting = False
            # Saved before the stream is closed: closing awaits, and a second cancel landing
            # there (the app quitting) must not skip the save.
            ended = self.ended or self._end(outcome, error, failure)
            if deltas is not None:
                close = getattr(deltas, "aclose", None)
                if close is not None:
                    with contextlib.suppress(Exception):
                        await close()
        yield ended

    def _save_partial(self) -> None:
        # A busy store loses nothing: the next flush, or the end, saves it all.
        with contextlib.suppress(Exception):
            self.session.records.save_partial(
                self.message.id, self.text, reasoning="".join(self._reasoning)
            )

    def _end(
        self,
        outcome: MessageStatus,
        error: str | None = None,
        failure: BaseException | None = None,
    ) -> ReplyFinished | ReplyFailed:
        finished = FinishedReply(
            self.message.id,
            self.text,
            outcome,
            self._usage,
            error,
            self._finish,
            "".join(self._reasoning),
        )
        save_error: Exception | None = None
        try:
            message = finished.save(self.session.records)
        except Exception as exc:
            save_error = exc
            self.session.keep_unsaved(finished)
            message = finished.shown_as(self.message)
        if failure is None:
            self.ended = ReplyFinished(message, save_error)
        else:
            self.ended = ReplyFailed(message, save_error, failure)
        return self.ended


async def _whole(
    client: AnyFastClient, model: str, history: list[dict[str, Any]], params: dict[str, Any]
) -> AsyncIterator[ChatDelta]:
    """A reply asked for whole, as one delta."""
    reply = await client.chat(model, history, **params)
    yield ChatDelta(
        content=reply.content,
        reasoning=reply.reasoning or "",
        finish_reason=reply.finish_reason,
        usage=reply.usage,
    )
