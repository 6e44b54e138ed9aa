"""Chat completions: request building and the streamed-reply reader."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import httpx

from studio.api.errors import (
    IncompleteStreamError,
    StreamError,
    StreamStalledError,
    error_from_response,
)
from studio.api.sse import SSEDecoder
from studio.api.types import JSON, ChatCompletion, ChatDelta, Usage


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
        usage=Usage.from_json(obj.get("usage")),
        raw=obj,
    )


async def read_stream(
    open_response: Callable[[], Awaitable[httpx.Response]],
    *,
    stall_timeout: float,
    secrets: tuple[str, ...],
) -> AsyncIterator[ChatDelta]:
    """Yield the deltas of one streamed reply; raise a typed error if it ends badly.

    A stream that ends without ``[DONE]`` and without a finish reason raises
    :class:`IncompleteStreamError` carrying the partial text; so does a dropped connection.
    Keep-alive comments reset httpx's byte timer, so a content watchdog (``stall_timeout``)
    catches a stream that only pings. ``open_response`` sends the request (with retries) when
    iteration starts; the response is closed when iteration ends, however it ends.
    """
    response = await open_response()
    parts: list[str] = []
    try:
        async for delta in _deltas(response, parts, stall_timeout, secrets):
            yield delta
    finally:
        await response.aclose()


async def _deltas(
    response: httpx.Response, parts: list[str], stall_timeout: float, secrets: tuple[str, ...]
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
                    raise StreamStalledError(
                        f"No content for {stall_timeout:.0f} s (only keep-alives arrived)",
                        partial="".join(parts),
                        retryable=True,
                    )
                continue
            last_content = monotonic()
            for event in events:
                data = event.data
                if data == "[DONE]":
                    return
                if event.event != "message":
                    if event.event == "error":
                        raise _stream_error(data, parts, secrets)
                    continue  # named events such as `event: ping` carry nothing for us
                try:
                    # The C scanner behind json.loads, without its two wrapper layers (a third
                    # of the per-chunk cost); anything unusual goes the slow, strict way.
                    obj, end = scan(data, 0)
                    if end != len(data):
                        raise StopIteration(end)
                except (StopIteration, ValueError):
                    obj = _strict_loads(data, parts)
                if not isinstance(obj, dict):
                    continue
                if "error" in obj:
                    raise _stream_error(data, parts, secrets)
                try:
                    delta = _delta(obj)
                except (AttributeError, IndexError, TypeError):
                    raise StreamError(
                        "The gateway sent a chunk of an unexpected shape; the reply is incomplete",
                        partial="".join(parts),
                        retryable=True,
                        raw=obj,
                    ) from None
                if delta is None:
                    continue
                if delta.content:
                    parts.append(delta.content)
                if delta.finish_reason:
                    finished = True
                yield delta
    except httpx.ReadTimeout:
        raise StreamStalledError(
            "The gateway went silent mid-reply", partial="".join(parts), retryable=True
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
            Usage.from_json(usage) if usage else None,
            obj.get("model"),
            obj.get("id"),
        )
    if usage:
        return ChatDelta(usage=Usage.from_json(usage), model=obj.get("model"))
    return None


# json.JSONDecoder's C scanner: (text, index) -> (value, end index); typeshed does not list it.
_SCANNER: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _strict_loads(data: str, parts: list[str]) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        raise StreamError(
            "The gateway sent a malformed chunk; the reply is incomplete",
            partial="".join(parts),
            retryable=True,
        ) from None


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
