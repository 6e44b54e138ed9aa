"""Chat completions: request building and the streamed-reply reader."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import httpx

from studio.api.errors import (
    AnyFastError,
    IncompleteStreamError,
    StreamError,
    StreamStalledError,
    error_from_response,
)
from studio.api.http import RetryBudget, seconds_text
from studio.api.sse import SSEDecoder
from studio.api.types import JSON, ChatCompletion, ChatDelta, usage_from_json


def chat_body(
    model: str, messages: Sequence[JSON], *, stream: bool, params: dict[str, Any]
) -> JSON:
    """The request body; ``None`` parameters are left out so the gateway's defaults apply."""
    body: JSON = {"model": model, "messages": list(messages)}
    body.update({k: v for k, v in params.items() if v is not None})
    if stream:
        body["stream"] = True
        body.setdefault("stream_options", {"include_usage": True})
    return body


def parse_completion(data: Any) -> ChatCompletion:
    """A :class:`ChatCompletion` from a non-streamed answer."""
    obj = data if isinstance(data, dict) else {}
    choices = obj.get("choices") or [{}]
    first = choices[0] if isinstance(choices[0], dict) else {}
    message = first.get("message") or {}
    return ChatCompletion(
        id=str(obj.get("id") or ""),
        model=str(obj.get("model") or ""),
        content=str(message.get("content") or ""),
        reasoning=str(message.get("reasoning_content") or message.get("reasoning") or ""),
        finish_reason=first.get("finish_reason"),
        usage=usage_from_json(obj.get("usage")),
        raw=obj,
    )


OpenResponse = Callable[[RetryBudget], Awaitable[httpx.Response]]
"""Sends the request (with the HTTP retries, counted in the budget) and returns the response."""
RetryPause = Callable[[AnyFastError, RetryBudget], Awaitable[bool]]
"""Waits before another try when the retry policy allows one (see
:meth:`~studio.api.http.HTTPSession.pause_before_retry`); False means give up."""


async def read_stream(
    open_response: OpenResponse,
    *,
    stall_timeout: float,
    idle_timeout: float,
    secrets: tuple[str, ...],
    pause_before_retry: RetryPause | None = None,
) -> AsyncIterator[ChatDelta]:
    """Yield the deltas of one streamed reply; raise a typed error if it ends badly.

    A stream that ends without ``[DONE]`` and without a finish reason raises
    :class:`IncompleteStreamError` carrying the partial text; so does a dropped connection.
    Keep-alive comments reset httpx's byte timer, so a content watchdog (``stall_timeout``)
    catches a stream that only pings. ``open_response`` sends the request (with retries) when
    iteration starts; the response is closed when iteration ends, however it ends.

    A stream that fails before any content or reasoning was yielded (dropped at once, or headers
    and then nothing) is sent again under the same retry budget, when ``pause_before_retry``
    allows it. Silence is not resent (the gateway may still be working), and nothing is once
    content has been shown. After the finish reason, trouble (a malformed usage chunk, junk
    before ``[DONE]``) does not fail the complete reply: a delta with a ``warning`` says what
    happened.
    """
    budget = RetryBudget()
    while True:
        response = await open_response(budget)
        shown = False
        try:
            async for delta in _deltas(response, [], stall_timeout, idle_timeout, secrets):
                if delta.content or delta.reasoning:
                    shown = True
                yield delta
            return
        except StreamError as exc:
            if shown or pause_before_retry is None or isinstance(exc, StreamStalledError):
                raise
            failure = exc
        finally:
            await response.aclose()
        if not await pause_before_retry(failure, budget):
            raise failure


_MALFORMED = "The gateway sent a malformed chunk"
_ODD_SHAPE = "The gateway sent a chunk of an unexpected shape"
_INCOMPLETE = "; the reply is incomplete"
_IGNORED = " after the reply was complete; it was ignored"


async def _deltas(
    response: httpx.Response,
    parts: list[str],
    stall_timeout: float,
    idle_timeout: float,
    secrets: tuple[str, ...],
) -> AsyncIterator[ChatDelta]:
    decoder = SSEDecoder()
    finished = False
    scan = _SCANNER
    monotonic = time.monotonic
    last_content = monotonic()
    try:
        async for chunk in response.aiter_bytes():
            events = decoder.feed(chunk)
            if not events:
                if monotonic() - last_content > stall_timeout:
                    if finished:
                        yield _late("only keep-alives followed the finished reply")
                        return
                    raise StreamStalledError(
                        f"No content for {seconds_text(stall_timeout)}, only keep-alives "
                        f"(the limit is stream_stall_timeout = {seconds_text(stall_timeout)})",
                        partial="".join(parts),
                        retryable=True,
                        waited=stall_timeout,
                        setting="stream_stall_timeout",
                    )
                continue
            last_content = monotonic()
            for event in events:
                data = event.data
                if data == "[DONE]":
                    return
                if event.event != "message":
                    if event.event == "error":
                        if not finished:
                            raise _stream_error(data, parts, secrets)
                        yield _late_error(data, secrets)
                    continue  # named events such as `event: ping` carry nothing for us
                try:
                    # The C scanner behind json.loads, without its two wrapper layers (a third
                    # of the per-chunk cost); anything unusual goes the slow, strict way.
                    obj, end = scan(data, 0)
                    if end != len(data):
                        raise StopIteration(end)
                except (StopIteration, ValueError):
                    try:
                        obj = json.loads(data)
                    except ValueError:
                        if not finished:
                            raise StreamError(
                                _MALFORMED + _INCOMPLETE, partial="".join(parts), retryable=True
                            ) from None
                        yield _late(_MALFORMED + _IGNORED)
                        continue
                if not isinstance(obj, dict):
                    continue
                if "error" in obj:
                    if not finished:
                        raise _stream_error(data, parts, secrets)
                    yield _late_error(data, secrets)
                    continue
                try:
                    delta = _delta(obj)
                except (AttributeError, IndexError, TypeError):
                    if not finished:
                        raise StreamError(
                            _ODD_SHAPE + _INCOMPLETE,
                            partial="".join(parts),
                            retryable=True,
                            raw=obj,
                        ) from None
                    yield _late(_ODD_SHAPE + _IGNORED)
                    continue
                if delta is None:
                    continue
                if delta.content:
                    parts.append(delta.content)
                if delta.finish_reason:
                    finished = True
                yield delta
    except httpx.ReadTimeout:
        if finished:
            yield _late("the stream stayed open and silent after the reply finished")
            return
        what = "went silent mid-reply" if parts else "sent no reply"
        raise StreamStalledError(
            f"The gateway {what} for {seconds_text(idle_timeout)} "
            f"(the limit is stream_idle_timeout = {seconds_text(idle_timeout)})",
            partial="".join(parts),
            retryable=True,
            waited=idle_timeout,
            setting="stream_idle_timeout",
        ) from None
    except httpx.TransportError as exc:
        if finished:
            return
        raise IncompleteStreamError(
            f"Response cut off: the connection dropped ({type(exc).__name__})",
            partial="".join(parts),
            retryable=True,
        ) from None
    decoder.close()
    if not finished:
        raise IncompleteStreamError(partial="".join(parts), retryable=True)


def _late(message: str) -> ChatDelta:
    """A delta that only carries a warning about trouble after the reply was complete."""
    return ChatDelta(warning=message[:1].upper() + message[1:])


def _late_error(data: str, secrets: tuple[str, ...]) -> ChatDelta:
    err = error_from_response(500, data, secrets=secrets)
    return _late(f"The gateway reported an error{_IGNORED}: {err.message}")


def _delta(obj: JSON) -> ChatDelta | None:
    """One chunk object to a delta; None for a chunk that carries nothing."""
    choices = obj.get("choices")
    usage = obj.get("usage")
    if choices:
        choice = choices[0]
        delta = choice.get("delta") or {}
        return ChatDelta(
            delta.get("content") or "",
            delta.get("reasoning_content") or delta.get("reasoning") or "",
            delta.get("role"),
            choice.get("finish_reason"),
            usage_from_json(usage) if usage else None,
            obj.get("model"),
            obj.get("id"),
        )
    if usage:
        return ChatDelta(usage=usage_from_json(usage), model=obj.get("model"))
    return None


# json.JSONDecoder's C scanner: (text, index) -> (value, end index); typeshed does not list it.
_SCANNER: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _stream_error(data: str, parts: list[str], secrets: tuple[str, ...]) -> StreamError:
    err = error_from_response(500, data, secrets=secrets)
    out = StreamError(
        f"The gateway reported an error mid-reply: {err.message}",
        code=err.code,
        error_type=err.error_type,
        request_id=err.request_id,
        partial="".join(parts),
        retryable=True,
        raw=err.raw,
    )
    out.scrub(secrets)
    return out
