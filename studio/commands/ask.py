"""``studio ask``: one prompt in, the reply streamed to stdout (or one JSON object with
``--json``), usage on stderr; the exchange saved in the store like a TUI conversation unless
``--no-save``."""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from typing import Any, TextIO

from studio.api.errors import AnyFastError
from studio.api.types import Usage, finish_note
from studio.chat import (
    ChatSession,
    Reply,
    ReplyDelta,
    ReplyFailed,
    ReplyFinished,
    ReplyWarning,
)
from studio.commands.ask_records import AskTarget, ask_target, stored_attachment
from studio.commands.common import (
    CommandError,
    encodable,
    open_gateway,
    say,
    settings_or_fail,
    warn,
    write_stdout,
)
from studio.commands.conversations import open_store
from studio.commands.exits import EXIT_OK, EXIT_STORE, EXIT_USAGE
from studio.commands.models import safe_json
from studio.commands.waiting import WaitingLine
from studio.config import Settings
from studio.gateway import Gateway
from studio.store import Message, NewAttachment
from studio.textsafe import clean, clean_line

ASK_JSON_VERSION = 1
"""Raised only when a key of :func:`ask_payload` is renamed or removed."""
MAX_TEMPERATURE = 2.0
_URL_SCHEMES = ("http://", "https://", "data:", "asset://")


def check_args(args: argparse.Namespace) -> None:
    """Refuse, before anything is sent, what the gateway would refuse; make every text argument
    valid UTF-8 (bytes that are not become U+FFFD, with a warning)."""
    temperature = args.temperature
    if temperature is not None and not (
        math.isfinite(temperature) and 0 <= temperature <= MAX_TEMPERATURE
    ):
        raise CommandError(
            f"-t/--temperature must be a number from 0 to {MAX_TEMPERATURE:g}, got {temperature:g}",
            EXIT_USAGE,
        )
    if args.max_tokens is not None and args.max_tokens < 1:
        raise CommandError(
            f"--max-tokens must be a whole number of at least 1, got {args.max_tokens}",
            EXIT_USAGE,
        )
    args.prompt = [as_utf8(" ".join(args.prompt), "the prompt argument")] if args.prompt else []
    if args.system is not None:
        args.system = as_utf8(args.system, "the -s/--system prompt")
    if args.model is not None:
        args.model = as_utf8(args.model, "the -m/--model name")
    for source in args.attach:  # a local path may hold any bytes; a URL is sent as text
        if source[:12].lower().startswith(_URL_SCHEMES) and encodable(source) != source:
            raise CommandError(f"-a {encodable(source)}: the URL is not valid UTF-8", EXIT_USAGE)


def as_utf8(text: str, what: str) -> str:
    """``text`` (from the command line) with bytes that are not UTF-8 replaced by U+FFFD."""
    if encodable(text) == text:
        return text
    try:  # the surrogate escapes Python uses for such bytes in argv become U+FFFD
        fixed = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        fixed = encodable(text)
    warn(f"{what} is not valid UTF-8; the bytes that are not were replaced by U+FFFD")
    return fixed


def read_stdin(stdin: TextIO) -> str:
    """Piped stdin as text: UTF-8, bytes that are not replaced by U+FFFD (with a warning)."""
    buffer = getattr(stdin, "buffer", None)
    if buffer is None:  # a text stream without bytes below it (tests)
        return as_utf8(stdin.read(), "standard input")
    data = buffer.read()
    try:
        return str(data.decode("utf-8"))
    except UnicodeDecodeError:
        warn("standard input is not valid UTF-8; the bytes that are not were replaced by U+FFFD")
        return str(data.decode("utf-8", "replace"))


def read_prompt(words: list[str], stdin: TextIO) -> str:
    """The prompt from the arguments, with piped stdin appended."""
    prompt = " ".join(words).strip()
    if not stdin.isatty():
        piped = read_stdin(stdin).strip()
        if piped:
            prompt = f"{prompt}\n\n{piped}" if prompt else piped
    if not prompt:
        raise CommandError(
            'no prompt: give one as an argument (studio ask "...") or pipe text on stdin',
            EXIT_USAGE,
        )
    return prompt


def run_ask(args: argparse.Namespace) -> int:
    check_args(args)
    settings = settings_or_fail(demo=args.demo)
    prompt = read_prompt(args.prompt, sys.stdin)
    attachments = [stored_attachment(source) for source in args.attach]
    waiting = WaitingLine(sys.stderr)  # until the first byte of the reply is shown

    def on_retry(attempt: int, delay: float, err: AnyFastError) -> None:
        waiting.clear()
        _announce_retry(attempt, delay, err)

    gateway = open_gateway(settings, demo=args.demo, on_retry=on_retry)  # no key: nothing saved
    store = None if args.no_save and not continues(args) else open_store()
    try:
        target = ask_target(args, settings, store)
        exchange = _Exchange(args, settings, target, waiting)
        return asyncio.run(exchange.run(gateway, prompt, attachments))
    finally:
        if store is not None:
            store.close()


def continues(args: argparse.Namespace) -> bool:
    """Whether ``args`` continue a conversation (-c or --cid)."""
    return bool(args.continue_latest or args.cid is not None)


class _Exchange:
    """One prompt and its reply: sent through a :class:`ChatSession`, shown as it arrives (or
    as one JSON object at the end), saved by the session wherever ``target`` keeps it."""

    def __init__(
        self, args: argparse.Namespace, settings: Settings, target: AskTarget, waiting: WaitingLine
    ) -> None:
        self.args = args
        self.settings = settings
        self.target = target
        self.waiting = waiting
        self.out = _Output(sys.stdout, raw=args.raw)
        self.warnings: list[str] = []

    async def run(self, gateway: Gateway, prompt: str, attachments: list[NewAttachment]) -> int:
        args, target = self.args, self.target
        started = time.monotonic()
        async with gateway:
            session = ChatSession(
                target.records,
                target.conversation_id,
                gateway.client,
                default_model=lambda: self.settings.default_model,
                stream=not args.no_stream,
                commands_are_jobs=False,  # no jobs here: "/image ..." is a question like any other
            )
            session.send(prompt, attachments)
            reply = session.start_reply()
            if reply is None:
                raise CommandError("the conversation was deleted meanwhile")
            ended = await self._follow(reply)
        if ended.save_error is not None and session.retry_saves() == 0:
            raise CommandError(f"the reply could not be saved: {ended.save_error}", EXIT_STORE)
        self.out.end()
        if args.json:
            self._print_json(reply, ended)
        if isinstance(ended, ReplyFailed):
            raise ended.error  # said on stderr, after what was printed
        for warning in self.warnings:
            warn(warning)
        _say_finish(ended.finish_reason, args.max_tokens)
        if not args.quiet and not args.json:
            elapsed = time.monotonic() - started
            _print_usage(reply.model, ended.usage, elapsed, demo=gateway.demo)
        return EXIT_OK

    async def _follow(self, reply: Reply) -> ReplyFinished | ReplyFailed:
        """Show the reply's events until it ends. Interrupted (ctrl+c), the session saves it
        as stopped with its text, and ``--json`` still prints its object."""
        self.waiting.start()
        try:
            async for event in reply:
                if isinstance(event, ReplyDelta):
                    self._show_delta(event)
                elif isinstance(event, ReplyWarning):  # trouble after a complete reply
                    self.warnings.append(event.text)
        except (asyncio.CancelledError, KeyboardInterrupt):
            self.waiting.stop()
            ended = await reply.end()
            self.out.end()
            if self.args.json:
                self._print_json(reply, ended)
            raise
        finally:
            self.waiting.stop()
            # A reply left early (closed pipe, full disk) closes its stream while the client
            # is still open, and is saved as stopped.
            ended = await reply.end()
        return ended

    def _show_delta(self, delta: ReplyDelta) -> None:
        if self.args.json:
            if delta.content:
                self.waiting.stop()
            return
        _show_delta(delta, self.args, self.out, self.waiting)

    def _print_json(self, reply: Reply, ended: ReplyFinished | ReplyFailed) -> None:
        payload = ask_payload(reply.model, ended.message, self.target)
        write_stdout(encodable(safe_json(payload)) + "\n")


def ask_payload(model: str, message: Message, target: AskTarget) -> dict[str, Any]:
    """What ``studio ask --json`` prints (stable: see the README); the ids are ``null`` when
    nothing is saved (``--no-save``)."""
    usage, saved = message.usage, target.saved
    return {
        "version": ASK_JSON_VERSION,
        "reply": message.content,
        "reasoning": message.reasoning or None,
        "model": model,
        "usage": None
        if usage is None
        else {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
            "reasoning_tokens": usage.reasoning_tokens,
            "cached_tokens": usage.cached_tokens,
        },
        "finish_reason": message.finish_reason,
        "status": message.status.value,
        "error": message.error,
        "conversation_id": target.conversation_id if saved else None,
        "conversation_uuid": target.uuid if saved else None,
        "message_id": message.id if saved else None,
    }


def _show_delta(
    delta: ReplyDelta, args: argparse.Namespace, out: _Output, waiting: WaitingLine
) -> None:
    """A piece of the reply on stdout; its reasoning on stderr with ``--reasoning``, else the
    waiting line says the model is thinking."""
    if args.no_stream:  # the whole reply at once: its reasoning first, on a line of its own
        waiting.stop()
        if args.reasoning and delta.reasoning:
            print(clean(delta.reasoning), file=sys.stderr)
    elif delta.reasoning and args.reasoning:
        waiting.stop()
        sys.stderr.write(clean(delta.reasoning))
        sys.stderr.flush()
    elif delta.reasoning:
        waiting.text = "the model is thinking"
    if delta.content:
        waiting.stop()
        out.write(delta.content)


class _Output:
    """Writes the reply as it arrives and remembers whether it ended with a newline."""

    def __init__(self, stream: TextIO, *, raw: bool) -> None:
        self.stream = stream
        self.raw = raw
        self.wrote = False
        self.at_line_start = True
        self.held_cr = False  # a chunk ended in CR: the next one may start with its LF

    def write(self, text: str) -> None:
        if not text:
            return
        if not self.raw:  # --raw is the only way around the sanitiser (client-guide §6)
            if self.held_cr:
                text = "\r" + text
            self.held_cr = text.endswith("\r")
            text = clean(text[:-1] if self.held_cr else text)
        self._emit(encodable(text))

    def _emit(self, text: str) -> None:
        if not text:
            return
        write_stdout(text, self.stream)
        self.wrote = True
        self.at_line_start = text.endswith("\n")

    def end(self) -> None:
        if self.held_cr:  # a lone CR at the very end
            self.held_cr = False
            self._emit(clean("\r"))
        if self.wrote and not self.at_line_start:
            self._emit("\n")


def _say_finish(finish: str | None, max_tokens: int | None) -> None:
    """A reply that is not the model's whole answer says so (the exit code stays 0)."""
    note = finish_note(finish)
    if note is None:
        return
    if finish == "length":
        limit = f"--max-tokens {max_tokens}" if max_tokens else "the model's default limit"
        hint = f"it stopped at {limit}: set a higher --max-tokens for a longer reply"
    else:
        hint = "what was printed may be incomplete"
    warn(f'the reply was {note} (finish_reason "{finish}"); {hint}')


def _announce_retry(attempt: int, delay: float, err: AnyFastError) -> None:
    say(f"{err} — retry {attempt} in {delay:.1f} s")


def _print_usage(model: str, usage: Usage | None, elapsed: float, *, demo: bool) -> None:
    parts = [f"{model}{' (demo)' if demo else ''}"]
    if usage:
        parts.append(f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens")
        if elapsed > 0 and usage.completion_tokens:
            parts.append(f"{usage.completion_tokens / elapsed:.0f} tok/s")
    parts.append(f"{elapsed:.1f} s")
    print(encodable(clean_line(f"[{' · '.join(parts)}]")), file=sys.stderr)
