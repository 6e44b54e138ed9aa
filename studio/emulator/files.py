"""``GET /files/{name}``: generated images and videos, like pre-signed TOS links.

No authentication (the signature is in the query and not checked). Supports single
``Range: bytes=a-b`` requests so downloads can resume, and the ``expired``, ``disconnect:N``
and ``drip:MS`` faults.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator

from starlette.responses import Response

from studio.emulator.config import Slot
from studio.emulator.responses import Drop, ScriptedResponse, Step, random_alnum
from studio.emulator.state import Call

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")
_XML_ERROR = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<Error>\n"
    "  <Code>{code}</Code>\n"
    "  <Message>{message}</Message>\n"
    "  <RequestId>{rid}</RequestId>\n"
    "  <HostId>ark-content-generation-cn-beijing.tos-cn-beijing.volces.com</HostId>\n"
    "  <Resource>/{name}</Resource>\n"
    "{ec}"
    "</Error>\n"
)


def _xml_error(
    status: int,
    code: str,
    message: str,
    name: str,
    ec: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    """A TOS (S3-like) XML error; ``ec`` is TOS's own error code, where one is known."""
    body = _XML_ERROR.format(
        code=code,
        message=message,
        rid=random_alnum(24),
        name=name,
        ec=f"  <EC>{ec}</EC>\n" if ec else "",
    )
    return Response(body, status_code=status, headers=headers, media_type="application/xml")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``(first, last)`` byte of a single satisfiable range; ``None`` for no usable range
    (none, several, or an invalid one such as ``bytes=5-3``: the header is then ignored, as
    RFC 9110 §14.1.1 and S3 do).

    Raises ``ValueError`` for a valid range that cannot be satisfied (answer 416).
    """
    match = _RANGE.match(header)
    if not match or not (match.group(1) or match.group(2)):
        return None
    first_text, last_text = match.groups()
    if not first_text:
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise ValueError("empty suffix range")
        return max(0, size - suffix), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None
    if first >= size:
        raise ValueError("range not satisfiable")
    last = min(int(last_text), size - 1) if last_text else size - 1
    return first, last


async def serve_file(call: Call) -> Response:
    """Serve one stored file, whole or a byte range."""
    name = str(call.request.path_params["name"])
    answer = call.fault(Slot.ANSWER)
    if answer is not None and answer.kind == "expired":
        return _xml_error(403, "AccessDenied", "Request has expired", name, "0003-00000017")
    found = call.state.files.get(name)
    if found is None:
        return _xml_error(
            404, "NoSuchKey", "The specified key does not exist.", name, "0017-00000003"
        )
    data, content_type = found
    etag = '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'
    headers = {"Accept-Ranges": "bytes", "ETag": etag, "Content-Type": content_type}
    wanted = call.request.headers.get("range")
    if_range = call.request.headers.get("if-range")
    status = 200
    body = data
    if wanted and (if_range is None or if_range == etag):
        try:
            span = parse_range(wanted, len(data))
        except ValueError:
            return _xml_error(
                416,
                "InvalidRange",
                "The requested range is not satisfiable",
                name,
                headers={"Accept-Ranges": "bytes", "Content-Range": f"bytes */{len(data)}"},
            )
        if span is not None:
            first, last = span
            status = 206
            body = data[first : last + 1]
            headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
    headers["Content-Length"] = str(len(body))
    drip = call.fault(Slot.DRIP)
    cut = answer.count if answer is not None and answer.kind == "disconnect" else None
    if drip is None and cut is None:
        return Response(body, status_code=status, headers=headers)
    return ScriptedResponse(
        _pieces(body, cut),
        call.state.lifecycle,
        status_code=status,
        headers=headers,
        drip=call.config.delay(drip.number / 1000.0) if drip is not None else 0.0,
    )


async def _pieces(body: bytes, cut: int | None) -> AsyncIterator[Step]:
    if cut is None:
        yield body
        return
    yield body[:cut]
    yield Drop()
