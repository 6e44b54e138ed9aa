"""``POST /v1/chat/completions``: validation, deterministic replies, SSE streaming and the
chat faults (hang, disconnect, malformed, error-event, stall, silent, drip, content-filter)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse, Response

from studio.emulator.config import Fault, RequestKind, Slot, strip_markers, text_items
from studio.emulator.hostile import HOSTILE_LINE, HOSTILE_TEXT
from studio.emulator.media import describe_image_ref
from studio.emulator.replies import (
    Prompt,
    fingerprint,
    reasoning_tokens,
    reply_tokens,
    tokenize,
)
from studio.emulator.responses import (
    ApiError,
    Drop,
    DropResponse,
    Pause,
    ScriptedResponse,
    Step,
    invalid_request,
    random_alnum,
)
from studio.emulator.state import Call

DEFAULT_THINK_TOKENS = 60
IMAGE_PROMPT_TOKENS = 85
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_PART_TYPES = frozenset({"text", "image_url", "video_url", "input_audio", "file"})
_SSE_HEADERS = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}
_PING = b": PING\n\n"
_DONE = b"data: [DONE]\n\n"
_ERROR_EVENT = {
    "error": {
        "message": "upstream error: overloaded",
        "type": "upstream_error",
        "code": "overloaded",
    }
}


def request_kind(body: Any) -> RequestKind:
    """Streaming and plain chat requests take different faults."""
    if isinstance(body, dict) and body.get("stream") is True:
        return RequestKind.CHAT_STREAM
    return RequestKind.CHAT


def marker_text(body: Any) -> str:
    """The text of the last user message, where an ``[[emulator: ...]]`` marker may sit."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return ""
    for message in reversed(body["messages"]):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return text_items(content)
            return ""
    return ""


def model_of(body: Any) -> str:
    """The requested model name, for fault answers that quote it."""
    model = body.get("model") if isinstance(body, dict) else None
    return model if isinstance(model, str) else ""


@dataclass(frozen=True, slots=True)
class ChatPlan:
    """Everything the answer needs, decided before the first byte is sent."""

    id: str
    created: int
    model: str
    reasoning: list[str]
    content: list[str]
    finish_reason: str
    prompt_tokens: int
    stream: bool
    include_usage: bool
    interval: float

    def usage(self) -> dict[str, Any]:
        """The ``usage`` object (with reasoning details when the model thought)."""
        completion = len(self.reasoning) + len(self.content)
        usage: dict[str, Any] = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        }
        if self.reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": len(self.reasoning)}
        return usage


def _bad(message: str) -> ApiError:
    return ApiError(invalid_request("openai", message))


def _number(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(f"{key} must be a number")
    return float(value)


def _positive_int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _bad(f"{key} must be a positive integer")
    return value


def _read_messages(messages: Any) -> tuple[list[str], list[str], str, int]:
    """Validate the messages; return (fingerprint parts, image refs, last user text, words)."""
    if not isinstance(messages, list) or not messages:
        raise _bad("messages must be a non-empty array")
    parts: list[str] = []
    images: list[str] = []
    question = ""
    words = 0
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _bad(f"messages[{i}] must be an object")
        role = message.get("role")
        if role not in _ROLES:
            raise _bad(f"messages[{i}].role must be one of {', '.join(sorted(_ROLES))}")
        content = message.get("content")
        texts: list[str] = []
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            for j, part in enumerate(content):
                where = f"messages[{i}].content[{j}]"
                if not isinstance(part, dict) or part.get("type") not in _PART_TYPES:
                    raise _bad(f"{where} must be an object with a known type")
                if part["type"] == "text":
                    if not isinstance(part.get("text"), str):
                        raise _bad(f"{where}.text must be a string")
                    texts.append(part["text"])
                elif part["type"] == "image_url":
                    ref = part.get("image_url")
                    url = ref.get("url") if isinstance(ref, dict) else ref
                    if not isinstance(url, str) or not url:
                        raise _bad(f"{where}.image_url.url must be a non-empty string")
                    images.append(url)
                    parts.append(f"image:{url}")
        elif not (content is None and role in ("assistant", "tool")):
            raise _bad(f"messages[{i}].content must be a string or an array of parts")
        text = strip_markers("\n".join(texts))
        words += len(text.split())
        parts.append(f"{role}:{text}")
        if role == "user":
            question = text
    return parts, images, question, words


def plan_chat(call: Call) -> ChatPlan:
    """Validate the request and decide the whole reply."""
    body, model = call.openai_model("chat")
    parts, images, question, words = _read_messages(body.get("messages"))
    temperature = _number(body, "temperature")
    if temperature is not None and not 0 <= temperature <= 2:
        raise _bad("temperature must be between 0 and 2")
    cap = _positive_int(body, "max_completion_tokens") or _positive_int(body, "max_tokens")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise _bad("stream must be a boolean")
    options = body.get("stream_options")
    include_usage = not (isinstance(options, dict) and options.get("include_usage") is False)

    directives = call.directives
    config = call.config
    wanted = directives.tokens if directives.tokens is not None else config.reply_tokens
    default_think = DEFAULT_THINK_TOKENS if model.reasons_by_default else 0
    think = directives.think if directives.think is not None else default_think
    finish = "stop"
    if cap is not None and think + wanted > cap:
        think = min(think, cap)
        wanted = cap - think
        finish = "length"
    prompt = Prompt(question, fingerprint(parts), tuple(describe_image_ref(u) for u in images))
    # An explicit length is exact; the default one ends at a section boundary, unless that
    # boundary lies beyond max_tokens: then the reply is cut there, as a real model's would be.
    whole = directives.tokens is None and finish == "stop" and not config.exact_reply_length
    content = reply_tokens(prompt, wanted, whole_sections=whole)
    if cap is not None and think + len(content) > cap:
        content = reply_tokens(prompt, cap - think)
        finish = "length"
    if call.fault(Slot.TEXT) is not None:
        content = tokenize(HOSTILE_TEXT)
        finish = "stop"
    filtered = call.fault(Slot.FINISH)
    if filtered is not None and filtered.kind == "content-filter":
        content = content[: filtered.count]
        finish = "content_filter"
    rate = directives.rate if directives.rate is not None else config.token_rate
    return ChatPlan(
        id="chatcmpl-" + random_alnum(29),
        created=int(time.time()),
        model=model.id,
        reasoning=reasoning_tokens(prompt, think),
        content=content,
        finish_reason=finish,
        prompt_tokens=round(words * 1.3) + IMAGE_PROMPT_TOKENS * len(images),
        stream=stream,
        include_usage=include_usage,
        interval=0.0 if rate <= 0 else 1.0 / (rate * config.speed),
    )


async def chat_completions(call: Call) -> Response:
    """Answer a chat request, streamed or whole."""
    plan = plan_chat(call)
    hang = call.fault(Slot.ANSWER)
    if hang is not None and hang.kind == "hang":
        # A gateway that took the request and never answers: no status line, no headers.
        await _hang(call, call.config.delay(hang.number))
        return DropResponse()
    if plan.stream:
        drip = call.fault(Slot.DRIP)
        return ScriptedResponse(
            _stream(call, plan),
            call.state.lifecycle,
            headers=dict(_SSE_HEADERS),
            drip=call.config.delay(drip.number / 1000.0) if drip else 0.0,
        )
    total = len(plan.reasoning) + len(plan.content)
    await call.state.lifecycle.sleep(total * plan.interval)
    message: dict[str, Any] = {"role": "assistant", "content": "".join(plan.content)}
    if plan.reasoning:
        message["reasoning_content"] = "".join(plan.reasoning)
    return JSONResponse(
        {
            "id": plan.id,
            "object": "chat.completion",
            "created": plan.created,
            "model": plan.model,
            "choices": [{"index": 0, "message": message, "finish_reason": plan.finish_reason}],
            "usage": plan.usage(),
        }
    )


async def _hang(call: Call, seconds: float) -> None:
    """Wait ``seconds``, or less if the client leaves or the server stops."""

    async def client_left() -> None:
        while (await call.request.receive())["type"] != "http.disconnect":
            pass

    waiters = {
        asyncio.ensure_future(client_left()),
        asyncio.ensure_future(call.state.lifecycle.wait_closed()),
    }
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def _stream(call: Call, plan: ChatPlan) -> AsyncIterator[Step]:
    head = (
        f'data: {{"id":{_dumps(plan.id)},"object":"chat.completion.chunk",'
        f'"created":{plan.created},"model":{_dumps(plan.model)},"choices":'
    )
    tail = '"finish_reason":null}]}\n\n'

    def delta(key: str, token: str) -> bytes:
        return f'{head}[{{"index":0,"delta":{{{_dumps(key)}:{_dumps(token)}}},{tail}'.encode()

    loop = asyncio.get_running_loop()
    config = call.config
    ping_every = config.delay(config.ping_interval)
    stream_fault = call.fault(Slot.STREAM)
    if stream_fault is not None and stream_fault.kind == "silent":
        # The headers are out; not one byte follows, then the connection closes.
        yield Pause(loop.time() + config.delay(stream_fault.number))
        yield Drop()
        return
    usage_fault = None
    if stream_fault is not None and stream_fault.variant == "usage":
        usage_fault, stream_fault = stream_fault, None
    yield f'{head}[{{"index":0,"delta":{{"role":"assistant","content":""}},{tail}'.encode()
    yield _PING

    cut = call.fault(Slot.ANSWER)
    if stream_fault is not None and stream_fault.kind == "stall":
        yield Pause(loop.time() + config.delay(stream_fault.number), min(ping_every, 1.0))
        yield Drop()
        return

    start = loop.time()
    emitted = 0

    def pace() -> Pause | None:
        due = start + emitted * plan.interval
        return Pause(due, ping_every) if due - loop.time() > 0.002 else None

    for token in plan.reasoning:
        pause = pace()
        if pause is not None:
            yield pause
        yield delta("reasoning_content", token)
        emitted += 1

    last = len(plan.content)
    for sent in range(last + 1):  # the faults are checked after each of 0 … last content chunks
        if sent:
            pause = pace()
            if pause is not None:
                yield pause
            yield delta("content", plan.content[sent - 1])
            emitted += 1
        steps, stop = _fault_steps(
            plan, cut, stream_fault, sent, final=sent == last, hostile=call.fault(Slot.TEXT)
        )
        for step in steps:
            yield step
        if stop:
            return

    finish = _dumps(plan.finish_reason)
    yield f'{head}[{{"index":0,"delta":{{}},"finish_reason":{finish}}}]}}\n\n'.encode()
    if usage_fault is not None:  # the reply is whole; only its usage chunk is broken
        yield f'{head}[],"usage":{{"prompt_tokens":\n\n'.encode()
    elif plan.include_usage:
        yield f'{head}[],"usage":{_dumps(plan.usage())}}}\n\n'.encode()
    yield _DONE


def _fault_steps(
    plan: ChatPlan,
    cut: Fault | None,
    fault: Fault | None,
    sent: int,
    *,
    final: bool = False,
    hostile: Fault | None = None,
) -> tuple[list[Step], bool]:
    """What the faults add after ``sent`` content chunks, and whether the stream ends there
    (``final``: the content is exhausted, so a fault whose N lies beyond it fires now)."""

    def due(f: Fault | None) -> bool:
        if f is None:
            return False
        return f.count >= sent if final else f.count == sent

    steps: list[Step] = []
    if fault is not None and due(fault):
        if fault.kind == "malformed":
            broken = (
                f'data: {{"id":{_dumps(plan.id)},"object":"chat.completion.chunk",'
                '"choices":[{"index":0,"delta":{"content":'
            )
            steps.append(broken.encode() + b"\n\n")
        elif fault.kind == "error-event":
            event = _ERROR_EVENT
            if hostile is not None:
                event = {"error": dict(_ERROR_EVENT["error"], message=HOSTILE_LINE)}
            steps.append(f"data: {_dumps(event)}\n\n".encode())
            return steps, True
    if cut is not None and cut.kind == "disconnect" and due(cut):
        steps.append(Drop())
        return steps, True
    return steps, False
