"""``studio ask``: one prompt in, the reply streamed to stdout, usage on stderr."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import TextIO

from studio.api import media
from studio.api.client import AnyFastClient
from studio.api.errors import AnyFastError, StreamError
from studio.api.types import JSON, Usage
from studio.cli import EXIT_OK, EXIT_USAGE
from studio.commands.common import (
    CommandError,
    Gateway,
    open_gateway,
    settings_or_fail,
    timeouts_for,
)
from studio.config import Settings

# C0 controls (but tab and newline), DEL and C1 controls: an escape sequence in a reply must not
# reach the terminal (client-guide §6). ESC becomes a visible symbol so nothing is silently lost.
_UNSAFE: dict[int, str | None] = {
    c: None for c in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0))
}
_UNSAFE[0x1B] = "␛"
_UNSAFE[0x0D] = None


def neutralise(text: str) -> str:
    """Remove control characters that could drive the terminal; keep tabs and newlines."""
    return text.translate(_UNSAFE)


def read_prompt(words: list[str], stdin: TextIO) -> str:
    """The prompt from the arguments, with piped stdin appended."""
    prompt = " ".join(words).strip()
    if not stdin.isatty():
        piped = stdin.read().strip()
        if piped:
            prompt = f"{prompt}\n\n{piped}" if prompt else piped
    if not prompt:
        raise CommandError(
            'no prompt: give one as an argument (studio ask "...") or pipe text on stdin',
            EXIT_USAGE,
        )
    return prompt


def build_messages(prompt: str, system: str | None, attachments: list[str]) -> list[JSON]:
    messages: list[JSON] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": media.chat_content(prompt, attachments)})
    return messages


def run_ask(args: argparse.Namespace) -> int:
    settings = settings_or_fail()
    prompt = read_prompt(args.prompt, sys.stdin)
    messages = build_messages(prompt, args.system, args.attach)
    with open_gateway(settings, demo=args.demo) as gateway:
        return asyncio.run(_ask(args, settings, gateway, messages))


async def _ask(
    args: argparse.Namespace, settings: Settings, gateway: Gateway, messages: list[JSON]
) -> int:
    model = args.model or settings.default_model
    params = {"temperature": args.temperature, "max_tokens": args.max_tokens}
    out = _Output(sys.stdout, raw=args.raw)
    started = time.monotonic()
    usage: Usage | None = None
    async with AnyFastClient(
        api_key=gateway.api_key,
        base_url=gateway.base_url,
        max_retries=settings.max_retries,
        timeouts=timeouts_for(settings),
        on_retry=_announce_retry,
    ) as client:
        try:
            if args.no_stream:
                reply = await client.chat(model, messages, **params)
                if args.reasoning and reply.reasoning:
                    print(neutralise(reply.reasoning), file=sys.stderr)
                out.write(reply.content)
                usage = reply.usage
            else:
                async for delta in client.stream_chat(model, messages, **params):
                    if delta.reasoning and args.reasoning:
                        sys.stderr.write(neutralise(delta.reasoning))
                        sys.stderr.flush()
                    if delta.content:
                        out.write(delta.content)
                    if delta.usage:
                        usage = delta.usage
        except StreamError:
            out.end()  # the partial reply stays on stdout; the error follows on stderr
            raise
    out.end()
    if not args.quiet:
        _print_usage(model, usage, time.monotonic() - started, demo=gateway.demo)
    return EXIT_OK


class _Output:
    """Writes the reply as it arrives and remembers whether it ended with a newline."""

    def __init__(self, stream: TextIO, *, raw: bool) -> None:
        self.stream = stream
        self.raw = raw
        self.wrote = False
        self.at_line_start = True

    def write(self, text: str) -> None:
        if not text:
            return
        if not self.raw:
            text = neutralise(text)
        self.stream.write(text)
        self.stream.flush()
        self.wrote = True
        self.at_line_start = text.endswith("\n")

    def end(self) -> None:
        if self.wrote and not self.at_line_start:
            self.stream.write("\n")
            self.stream.flush()
            self.at_line_start = True


def _announce_retry(attempt: int, delay: float, err: AnyFastError) -> None:
    print(f"studio: {err} — retry {attempt} in {delay:.1f} s", file=sys.stderr)


def _print_usage(model: str, usage: Usage | None, elapsed: float, *, demo: bool) -> None:
    parts = [f"{model}{' (demo)' if demo else ''}"]
    if usage:
        parts.append(f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens")
        if elapsed > 0 and usage.completion_tokens:
            parts.append(f"{usage.completion_tokens / elapsed:.0f} tok/s")
    parts.append(f"{elapsed:.1f} s")
    print(f"[{' · '.join(parts)}]", file=sys.stderr)
