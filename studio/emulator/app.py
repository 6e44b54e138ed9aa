"""The emulator's ASGI application: routing, authentication, directives, faults, request log.

Every request passes through :class:`EmulatorApp`, which stamps an ``X-Oneapi-Request-Id``,
records the request and remembers the server transport (so faults can drop the connection).
Gateway routes then go through :func:`_dispatch`: auth, body, directives, fault selection, and
finally the endpoint code in ``chat``, ``images``, ``tasks`` or ``files``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from studio.emulator import chat, files, images, tasks
from studio.emulator.config import (
    JSON_ANSWERS,
    KIND_NAMES,
    EmulatorConfig,
    FaultError,
    RequestKind,
    Slot,
    check_applies,
    extract_markers,
    parse_directives,
)
from studio.emulator.hostile import HOSTILE_MODEL_ID
from studio.emulator.responses import (
    ON_DROP_KEY,
    REQUEST_ID_KEY,
    TRANSPORT_KEY,
    ApiError,
    Drop,
    DropResponse,
    Family,
    Pause,
    ScriptedResponse,
    ShuttingDown,
    Step,
    fault_response,
    invalid_request,
    new_request_id,
    openai_error,
    task_error,
)
from studio.emulator.state import Call, EmulatorState
from studio.emulator.store import RequestRecord

Handler = Callable[[Call], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class _Endpoint:
    handler: Handler
    family: Family
    auth: bool
    kind: Callable[[Any], RequestKind]
    marker: Callable[[Any], str] | None = None


def _fixed(kind: RequestKind) -> Callable[[Any], RequestKind]:
    return lambda _body: kind


def _model_name(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    name = body.get("model") or body.get("model_name")
    return name if isinstance(name, str) else ""


def _check_auth(state: EmulatorState, request: Request) -> Response | None:
    header = request.headers.get("authorization", "").strip()
    if header.lower().startswith("bearer"):
        header = header[6:]
    token = header.strip()
    if not token:
        return openai_error(401, "No token provided")
    expected = state.api_key
    if expected is not None and not hmac.compare_digest(token.encode(), expected.encode()):
        return openai_error(
            401,
            "Invalid API key provided.",
            type_="authentication_error",
            code="invalid_api_key",
            param=None,
        )
    return None


async def _read_json(request: Request) -> tuple[Any, str | None]:
    raw = await request.body()
    if not raw.strip():
        return None, "the request body is empty; a JSON object is required"
    try:
        return json.loads(raw), None
    except (ValueError, UnicodeDecodeError) as exc:
        return None, f"invalid JSON in the request body: {exc}"


def _bad_body(family: Family, message: str) -> Response:
    if family == "task":
        return task_error(400, "invalid_request", message)
    return openai_error(400, message, code="bad_request_body")


async def _dispatch(state: EmulatorState, endpoint: _Endpoint, request: Request) -> Response:
    request_id = str(request.scope.get(REQUEST_ID_KEY) or new_request_id())
    if endpoint.auth:
        denied = _check_auth(state, request)
        if denied is not None:
            return denied
    body: Any = None
    body_error: str | None = None
    if request.method == "POST":
        body, body_error = await _read_json(request)
    try:
        directives = parse_directives(";".join(request.headers.getlist("x-emulator")))
        if endpoint.marker is not None and body_error is None:
            _, marked = extract_markers(endpoint.marker(body))
            directives = directives.over(marked)
        kind = endpoint.kind(body)
        for fault in directives.faults:  # accepted and then ignored would mislead the tester
            check_applies(fault, frozenset({kind}), KIND_NAMES[kind])
    except FaultError as exc:
        return invalid_request(endpoint.family, str(exc))
    faults = state.faults.select(request.url.path, kind, directives.faults)
    answer = faults.get(Slot.ANSWER)
    if answer is not None and answer.kind == "status":
        route = f"{request.method} {request.url.path}"
        return fault_response(answer, endpoint.family, _model_name(body), request_id, route)
    if body_error is not None:
        return _bad_body(endpoint.family, body_error)
    call = Call(
        request=request,
        state=state,
        body=body,
        directives=directives,
        faults=faults,
        kind=kind,
        family=endpoint.family,
        request_id=request_id,
    )
    try:
        response = await endpoint.handler(call)
    except ApiError as exc:
        response = exc.response
    except ShuttingDown:
        return DropResponse()
    streamed = kind in (RequestKind.CHAT_STREAM, RequestKind.FILE)
    if answer is not None and answer.kind == "disconnect" and not streamed:
        # The work is done (a task may exist now) but the answer is lost, as when a proxy
        # drops the connection after forwarding the request.
        return DropResponse()
    if kind in JSON_ANSWERS:
        return _paced(call, response)
    return response


def _paced(call: Call, response: Response) -> Response:
    """A JSON answer with the ``stall`` or ``drip`` fault chosen for it, if any.

    ``stall:S``: the status line and headers (Content-Length included) go out at once, the body
    is held for S seconds, then the connection closes without it; the work is done (a created
    task exists), only its answer is lost. ``drip:MS``: the body trickles out in ~7-byte pieces
    MS ms apart.
    """
    stall = call.fault(Slot.STREAM)
    drip = call.fault(Slot.DRIP)
    if (stall is None or stall.kind != "stall") and drip is None:
        return response
    body = bytes(response.body)
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in response.raw_headers}
    loop = asyncio.get_running_loop()

    async def script() -> AsyncIterator[Step]:
        if stall is not None and stall.kind == "stall":
            yield Pause(loop.time() + call.config.delay(stall.number))
            yield Drop()
            return
        yield body

    return ScriptedResponse(
        script(),
        call.state.lifecycle,
        status_code=response.status_code,
        headers=headers,
        drip=call.config.delay(drip.number / 1000.0) if drip is not None else 0.0,
    )


async def _models(call: Call) -> Response:
    listing = call.state.catalog.listing()
    if call.fault(Slot.TEXT) is not None:
        hostile = dict(listing["data"][0], id=HOSTILE_MODEL_ID)
        listing["data"] = [*listing["data"], hostile]
    return JSONResponse(listing)


async def _kling_create(call: Call) -> Response:
    action = str(call.request.path_params["action"])
    if action not in tasks.KLING_ACTIONS:
        path = call.request.url.path
        return openai_error(404, f"Invalid URL (POST {path})", type_="invalid_request_error")
    return await tasks.create_kling(call)


_ENDPOINTS: list[tuple[str, list[str], _Endpoint]] = [
    ("/v1/models", ["GET"], _Endpoint(_models, "openai", True, _fixed(RequestKind.MODELS))),
    (
        "/v1/chat/completions",
        ["POST"],
        _Endpoint(chat.chat_completions, "openai", True, chat.request_kind, chat.marker_text),
    ),
    (
        "/v1/images/generations",
        ["POST"],
        _Endpoint(
            images.generate_images,
            "openai",
            True,
            _fixed(RequestKind.IMAGE),
            images.marker_text,
        ),
    ),
    (
        "/v1/video/generations",
        ["POST"],
        _Endpoint(
            tasks.create_seedance,
            "task",
            True,
            _fixed(RequestKind.VIDEO_CREATE),
            tasks.marker_text,
        ),
    ),
    (
        "/v1/video/generations/{task_id}",
        ["GET"],
        _Endpoint(tasks.query_seedance, "task", True, _fixed(RequestKind.VIDEO_QUERY)),
    ),
    (
        "/kling/v1/videos/{action}",
        ["POST"],
        _Endpoint(_kling_create, "task", True, _fixed(RequestKind.VIDEO_CREATE), tasks.marker_text),
    ),
    (
        "/kling/v1/videos/{task_id}",
        ["GET"],
        _Endpoint(tasks.query_kling, "task", True, _fixed(RequestKind.VIDEO_QUERY)),
    ),
    (
        "/kling/v1/videos/{action}/{task_id}",
        ["GET"],
        _Endpoint(tasks.query_kling, "task", True, _fixed(RequestKind.VIDEO_QUERY)),
    ),
    (
        "/files/{name}",
        ["GET"],
        _Endpoint(files.serve_file, "file", False, _fixed(RequestKind.FILE)),
    ),
]


def _gateway_route(state: EmulatorState, path: str, methods: list[str], ep: _Endpoint) -> Route:
    async def run(request: Request) -> Response:
        return await _dispatch(state, ep, request)

    return Route(path, run, methods=methods)


def _control_routes(state: EmulatorState) -> list[Route]:
    """``/_emulator/*``: fault injection and the request log over HTTP (no auth)."""

    async def add_fault(request: Request) -> Response:
        body, error = await _read_json(request)
        if error is not None or not isinstance(body, dict):
            return openai_error(400, error or "expected a JSON object", code="bad_request_body")
        spec, count, path = body.get("spec"), body.get("count", 1), body.get("path", "/")
        if not isinstance(spec, str) or not isinstance(path, str):
            return openai_error(400, "spec and path must be strings", code="invalid_request")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            return openai_error(400, "count must be an integer or null", code="invalid_request")
        try:
            state.inject(spec, count, path)
        except ValueError as exc:
            return openai_error(400, str(exc), code="invalid_fault")
        return JSONResponse({"ok": True, "faults": state.faults.describe()})

    async def list_faults(_request: Request) -> Response:
        return JSONResponse({"faults": state.faults.describe()})

    async def clear_faults(_request: Request) -> Response:
        return JSONResponse({"ok": True, "cleared": state.clear_faults()})

    async def list_requests(_request: Request) -> Response:
        records = [
            {
                "method": r.method,
                "path": r.path,
                "status": r.status,
                "idempotency_key": r.idempotency_key,
                "at": r.at,
            }
            for r in state.requests
        ]
        return JSONResponse({"requests": records})

    async def clear_requests(_request: Request) -> Response:
        state.log.clear()
        return JSONResponse({"ok": True})

    return [
        Route("/_emulator/faults", add_fault, methods=["POST"]),
        Route("/_emulator/faults", list_faults, methods=["GET"]),
        Route("/_emulator/faults", clear_faults, methods=["DELETE"]),
        Route("/_emulator/requests", list_requests, methods=["GET"]),
        Route("/_emulator/requests", clear_requests, methods=["DELETE"]),
    ]


async def _unknown_route(request: Request, exc: Exception) -> Response:
    path = request.url.path
    if isinstance(exc, HTTPException) and path.startswith(("/v1/", "/kling/")):
        message = f"Invalid URL ({request.method} {path})"
        return openai_error(404, message, type_="invalid_request_error")
    return PlainTextResponse("404 page not found", status_code=404)


def _transport_of(send: Send) -> asyncio.BaseTransport | None:
    """The server's transport for this connection, when the server exposes it.

    uvicorn passes a bound method of its request cycle as ``send``; the cycle holds the
    transport. Without it, emulated drops fall back to raising inside the application.
    """
    owner = getattr(send, "__self__", None)
    transport = getattr(owner, "transport", None)
    return transport if isinstance(transport, asyncio.BaseTransport) else None


class EmulatorApp:
    """The ASGI application of one emulator; ``state`` holds its faults, log, files, tasks."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        routes = [_gateway_route(state, p, m, ep) for p, m, ep in _ENDPOINTS]
        self._router = Starlette(
            routes=[*routes, *_control_routes(state)],
            exception_handlers={404: _unknown_route, 405: _unknown_route},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._router(scope, receive, send)
            return
        request_id = new_request_id()
        scope[REQUEST_ID_KEY] = request_id
        scope[TRANSPORT_KEY] = _transport_of(send)
        method = str(scope["method"])
        path = str(scope["path"])
        key = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"idempotency-key"), None
        )
        received = time.time()
        recorded = False

        async def stamped(message: Message) -> None:
            nonlocal recorded
            if message["type"] == "http.response.start" and not recorded:
                recorded = True
                headers = [
                    *message.get("headers", []),
                    (b"x-oneapi-request-id", request_id.encode()),
                ]
                message = {**message, "headers": headers}
                self.state.log.append(
                    RequestRecord(method, path, int(message["status"]), key, received)
                )
            await send(message)

        def record_drop() -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                self.state.log.append(RequestRecord(method, path, 0, key, received))

        scope[ON_DROP_KEY] = record_drop
        try:
            await self._router(scope, receive, stamped)
        finally:
            record_drop()


def create_app(config: EmulatorConfig | None = None) -> EmulatorApp:
    """A new emulator application. With ``config.api_key`` unset it accepts any non-empty key."""
    return EmulatorApp(EmulatorState(config or EmulatorConfig()))
