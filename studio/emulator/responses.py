"""Answer building blocks: ids, the gateway's error shapes, fault answers, paced byte streams
and deliberately dropped connections."""

from __future__ import annotations

import asyncio
import secrets
import string
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from studio.emulator.config import Fault
from studio.emulator.hostile import HOSTILE_LINE, HOSTILE_REQUEST_ID

Family = Literal["openai", "task", "file"]
TRANSPORT_KEY = "emulator.transport"
ON_DROP_KEY = "emulator.on_drop"
REQUEST_ID_KEY = "emulator.request_id"

_ALNUM = string.ascii_letters + string.digits


def random_alnum(length: int) -> str:
    """Random letters and digits."""
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def random_digits(length: int) -> str:
    """Random digits, the first one non-zero."""
    first = secrets.choice("123456789")
    return first + "".join(secrets.choice(string.digits) for _ in range(length - 1))


def new_request_id() -> str:
    """A new-api style request id: UTC timestamp, 9 digits, 8 letters (31 characters)."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    return stamp + random_digits(9) + random_alnum(8)


class ApiError(Exception):
    """Raised by endpoint code to answer with ``response`` at once."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class ShuttingDown(Exception):
    """The server is stopping while a request waits; its connection is dropped."""


def openai_error(
    status: int,
    message: str,
    *,
    type_: str = "new_api_error",
    code: str = "",
    param: str | None = "",
) -> JSONResponse:
    """Shape A' (new-api's flavour of the OpenAI error); ``param=None`` gives plain shape A."""
    error = {"message": message, "type": type_, "param": param, "code": code}
    if param is None:
        del error["param"]
    return JSONResponse({"error": error}, status_code=status)


def task_error(status: int, code: str, message: str) -> JSONResponse:
    """Shape B (task endpoints)."""
    return JSONResponse({"code": code, "message": message, "data": None}, status_code=status)


def invalid_request(family: Family, message: str) -> JSONResponse:
    """A 400 in the family's shape."""
    if family == "task":
        return task_error(400, "invalid_request", message)
    return openai_error(400, message, type_="invalid_request_error", code="invalid_request")


def model_not_found(family: Family, model: str, request_id: str) -> JSONResponse:
    """503: no channel serves the model (new-api's router)."""
    message = (
        f"No available channel for model {model} under group default (request id: {request_id})"
    )
    if family == "task":
        return task_error(503, "model_not_found", message)
    return openai_error(503, message, code="model_not_found")


_NGINX_500 = (
    "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n"
    "<center><h1>500 Internal Server Error</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_STATUS_TEXT = {
    403: ("用户额度不足, 剩余额度: ＄0.000000", "insufficient_user_quota", "new_api_error"),
    500: ("upstream error: do request failed", "do_request_failed", "new_api_error"),
    502: ("bad response status code 502", "bad_response_status_code", "upstream_error"),
    504: (
        "upstream error: do request failed: context deadline exceeded",
        "do_request_failed",
        "new_api_error",
    ),
}


def _seconds_text(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def fault_response(
    fault: Fault, family: Family, model: str, request_id: str, route: str = ""
) -> Response:
    """The answer of a status fault (``429``, ``500:html`` …); ``route`` is ``METHOD /path``,
    quoted by ``404`` as the gateway does for a path it does not serve."""
    status = fault.status
    if fault.variant == "hostile":
        message = f"{HOSTILE_LINE} (request id: {HOSTILE_REQUEST_ID})"
        if family == "task":
            return task_error(status, "hostile", message)
        return openai_error(status, message, code="hostile")
    if status == 404:
        return openai_error(404, f"Invalid URL ({route})", type_="invalid_request_error")
    if status == 429:
        if fault.variant == "empty":
            return Response(b"", status_code=429)
        if fault.variant == "task":
            return task_error(429, "rate_limit", "当前分组上游负载已饱和，请稍后再试")
        response = openai_error(
            429, "您已达到请求数限制：1分钟内最多请求60次", code="rate_limit_exceeded"
        )
        if fault.variant == "retry-after":
            response.headers["Retry-After"] = _seconds_text(fault.number)
        elif fault.variant == "retry-after-ms":
            response.headers["retry-after-ms"] = _seconds_text(fault.number)
        return response
    if status == 500 and fault.variant == "html":
        return Response(_NGINX_500, status_code=500, media_type="text/html")
    if status == 503:
        return model_not_found(family, model or "unknown", request_id)
    message, code, type_ = _STATUS_TEXT[status]
    message = f"{message} (request id: {request_id})"
    if family == "task":
        return task_error(status, code, message)
    return openai_error(status, message, type_=type_, code=code)


class Lifecycle:
    """Lets slow answers (streams, paced waits) end at once when the server stops."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def reset(self) -> None:
        """A fresh, unset signal (called before each server start: events bind to one loop)."""
        self._event = asyncio.Event()

    def close(self) -> None:
        """Signal every waiter; must be called on the server's event loop."""
        self._event.set()

    @property
    def closing(self) -> bool:
        """Whether the server is stopping."""
        return self._event.is_set()

    async def wait_closed(self) -> None:
        """Return once the server starts stopping."""
        await self._event.wait()

    async def sleep(self, seconds: float) -> None:
        """Sleep, or raise :class:`ShuttingDown` as soon as the server stops."""
        if seconds <= 0:
            return
        try:
            await asyncio.wait_for(self._event.wait(), timeout=seconds)
        except TimeoutError:
            return
        raise ShuttingDown


async def drop_connection(scope: Scope, receive: Receive) -> None:
    """Close the client's connection without finishing (or starting) the answer.

    The socket is closed through the server's transport, which the outer app stored in the
    scope; then we wait until the server has noticed, so it neither logs an unfinished answer
    nor sends a 500 of its own.
    """
    on_drop = scope.get(ON_DROP_KEY)
    if callable(on_drop):
        on_drop()  # log the dropped request before the client can see the drop
    transport = scope.get(TRANSPORT_KEY)
    if not isinstance(transport, asyncio.BaseTransport):
        raise ConnectionAbortedError("emulated connection drop")
    transport.close()
    try:
        async with asyncio.timeout(2.0):
            while (await receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        return


class DropResponse(Response):
    """An "answer" that closes the connection without sending anything."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await drop_connection(scope, receive)


@dataclass(frozen=True, slots=True)
class Pause:
    """Wait until the loop time ``until``; send a keep-alive every ``ping_every`` seconds."""

    until: float
    ping_every: float | None = None


class Drop:
    """Close the connection here, leaving the answer unfinished."""


Step = bytes | Pause | Drop


class ScriptedResponse(Response):
    """A streamed answer played from a script of byte pieces, pauses and drops.

    Bytes are coalesced until the next pause (or 64 KiB) so fast streams cost few writes;
    with ``drip`` > 0 every write is cut into ``piece``-byte pieces ``drip`` seconds apart.
    The stream stops when the client leaves and drops the connection when the server stops.
    """

    def __init__(
        self,
        script: AsyncIterator[Step],
        lifecycle: Lifecycle,
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        media_type: str | None = None,
        drip: float = 0.0,
        keepalive: bytes = b": PING\n\n",
        piece: int = 7,
    ) -> None:
        self.status_code = status_code
        self.media_type = media_type
        self.background = None
        self.init_headers(headers)
        self._script = script
        self._lifecycle = lifecycle
        self._drip = drip
        self._keepalive = keepalive
        self._piece = piece

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        transport = scope.get(TRANSPORT_KEY)
        writer = asyncio.create_task(self._play(send, transport))
        left = asyncio.create_task(_wait_disconnect(receive))
        stopping = asyncio.create_task(self._lifecycle.wait_closed())
        done, pending = await asyncio.wait(
            {writer, left, stopping}, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if writer in done:
            if writer.result():
                await drop_connection(scope, receive)
            else:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        elif stopping in done:
            await drop_connection(scope, receive)

    async def _play(self, send: Send, transport: asyncio.BaseTransport | None = None) -> bool:
        """Run the script; True when it ends with a drop. Stops once the client has gone (at
        full speed nothing else would notice, and asyncio logs every write to a dead socket)."""
        buffer = bytearray()
        try:
            async for step in self._script:
                if transport is not None and transport.is_closing():
                    return False
                if isinstance(step, bytes):
                    buffer += step
                    if len(buffer) >= 65536:
                        await self._write(send, buffer)
                elif isinstance(step, Pause):
                    await self._write(send, buffer)
                    await self._pause(send, step)
                else:
                    await self._write(send, buffer)
                    return True
            await self._write(send, buffer)
            return False
        finally:
            aclose = getattr(self._script, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _write(self, send: Send, buffer: bytearray) -> None:
        if not buffer:
            return
        data = bytes(buffer)
        buffer.clear()
        if self._drip <= 0:
            await send({"type": "http.response.body", "body": data, "more_body": True})
            return
        for start in range(0, len(data), self._piece):
            piece = data[start : start + self._piece]
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            await asyncio.sleep(self._drip)

    async def _pause(self, send: Send, pause: Pause) -> None:
        """Wait until ``pause.until``. Keep-alives keep a steady beat, like the gateway's
        ticker: a late wake-up (a busy machine) skips the beats it missed instead of pushing
        every later one back, so the number sent does not shrink with scheduling delays."""
        loop = asyncio.get_running_loop()
        beat = pause.ping_every
        if beat is not None:
            tick = loop.time() + beat
            while tick < pause.until:
                await asyncio.sleep(tick - loop.time())
                await self._write(send, bytearray(self._keepalive))
                now = loop.time()
                tick += beat
                if tick <= now:
                    tick = now + beat - (now - tick) % beat
        await asyncio.sleep(pause.until - loop.time())


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message: dict[str, Any] = dict(await receive())
        if message["type"] == "http.disconnect":
            return
