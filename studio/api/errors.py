"""Typed errors for every way an AnyFast call can fail.

The gateway answers errors in four shapes (``shared/anyfast-api.md`` §0.1):

A. ``{"error": {"message", "type", "code", "param"?}}`` (OpenAI style, and new-api's flavour)
B. ``{"code", "message", "data": null}`` (task endpoints; ``message`` may itself be JSON text)
C. ``{"code", "message"}`` (plain)
D. an empty (or non-JSON) body, typically a 429 from the per-IP limiter

:func:`error_from_response` turns any of them into one of the classes below. Every error carries
the HTTP status, the server's message, its code, the request id if any and whether retrying
makes sense. Secrets are scrubbed from every text an error holds.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

_REQUEST_ID_IN_MESSAGE = re.compile(r"\s*\(request id: ([^)]+)\)\s*$")
_REQUEST_ID_HEADERS = ("x-request-id", "x-oneapi-request-id", "x-tt-logid", "request-id")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{6,}")
_SK_TOKEN = re.compile(r"\bsk-[A-Za-z0-9_-]{8,}")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove secrets (the API key, any bearer token, anything shaped like ``sk-...``)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _BEARER.sub(r"\1***", text)
    return _SK_TOKEN.sub("sk-***", text)


class AnyFastError(Exception):
    """Base of every error the client raises.

    ``retryable`` says whether trying again later can help (a 429, a 5xx, a dropped connection);
    ``uncertain`` says the request may have reached the server before it failed, so a paid create
    must not be resubmitted blindly. For timeouts, ``waited`` is how long the client waited
    (seconds) and ``setting`` the user setting that sets the limit.
    """

    default_message = "AnyFast request failed"

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
        retryable: bool = False,
        uncertain: bool = False,
        retry_after: float | None = None,
        raw: Any = None,
        waited: float | None = None,
        setting: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.status = status
        self.code = code or None
        self.error_type = error_type or None
        self.request_id = request_id or None
        self.retryable = retryable
        self.uncertain = uncertain
        self.retry_after = retry_after
        self.raw = raw
        self.waited = waited
        self.setting = setting
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.insert(0, f"HTTP {self.status}:")
        if self.code and self.code not in self.message:
            parts.append(f"[{self.code}]")
        if self.request_id:
            parts.append(f"(request id {self.request_id})")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r}, "
            f"retryable={self.retryable!r})"
        )

    def scrub(self, secrets: Iterable[str]) -> None:
        """Remove secrets from every text this error holds (called by the client)."""
        secrets = tuple(s for s in secrets if s)
        self.message = redact(self.message, secrets)
        self.args = (self.message,)
        if isinstance(self.raw, str):
            self.raw = redact(self.raw, secrets)
        elif self.raw is not None:
            self.raw = json.loads(redact(json.dumps(self.raw, ensure_ascii=False), secrets))


class APIStatusError(AnyFastError):
    """The gateway answered with an error status."""


class BadRequestError(APIStatusError):
    default_message = "The gateway rejected the request as invalid"


class AuthenticationError(APIStatusError):
    default_message = "The API key is missing or invalid"


class PermissionDeniedError(APIStatusError):
    default_message = "The API key may not do this (quota exhausted or model not allowed)"


class NotFoundError(APIStatusError):
    default_message = "Not found"


class TaskNotFoundError(NotFoundError):
    """A task id the gateway does not know (HTTP 400 ``task_not_exist`` or 404)."""

    default_message = "No such task"


class RateLimitError(APIStatusError):
    default_message = "Rate limited by the gateway; try again shortly"


class ServerError(APIStatusError):
    default_message = "The gateway or its upstream failed"


class APIConnectionError(AnyFastError):
    default_message = "Could not reach the gateway"


class APITimeoutError(APIConnectionError):
    """No answer in time. ``waited`` is how long the client waited (seconds) and ``setting``
    the user setting that sets the limit, when one does."""

    default_message = "The gateway did not answer in time"


class StreamError(AnyFastError):
    """A stream that failed after it started; ``partial`` holds the text received so far."""

    default_message = "The reply stream failed"

    def __init__(self, message: str | None = None, *, partial: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.partial = partial


class IncompleteStreamError(StreamError):
    """The stream ended (or was cut) before ``[DONE]`` and before a finish reason."""

    default_message = "Response cut off: the stream ended before the reply was complete"


class StreamStalledError(StreamError):
    """Only keep-alives (or nothing) arrived for longer than the content watchdog allows.
    ``waited`` and ``setting`` as for :class:`APITimeoutError`."""

    default_message = "The reply stalled: no content arrived for too long"


class MediaInputError(AnyFastError):
    """A local media file that cannot be sent (missing, unreadable, not an image, too big)."""

    default_message = "This file cannot be attached"


class ProtocolError(AnyFastError):
    """The gateway answered 2xx with something that is not the documented shape."""

    default_message = "The gateway sent an answer Studio cannot read"


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: BadRequestError,
    429: RateLimitError,
}

_RETRYABLE_STATUSES = frozenset({408, 409, 429})


def _decode_body(body: bytes | str) -> Any:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _nested_message(message: str) -> tuple[str, str | None]:
    """Shape B': ``message`` may be a JSON string holding the upstream error."""
    stripped = message.strip()
    if not stripped.startswith("{"):
        return message, None
    try:
        inner = json.loads(stripped)
    except ValueError:
        return message, None
    if isinstance(inner, dict):
        err = inner.get("error", inner)
        if isinstance(err, dict) and err.get("message"):
            code = err.get("code")
            return str(err["message"]), str(code) if code else None
    return message, None


def parse_error_body(body: Any) -> tuple[str | None, str | None, str | None]:
    """(message, code, type) from any of the four error shapes; Nones where absent."""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            msg = err.get("message")
            code = err.get("code")
            etype = err.get("type")
            return (
                str(msg) if msg else None,
                str(code) if code not in (None, "") else None,
                str(etype) if etype else None,
            )
        if isinstance(err, str) and err:
            return err, None, None
        msg = body.get("message") or body.get("msg") or body.get("detail")
        code = body.get("code")
        code_s = str(code) if code not in (None, "", "success") else None
        if isinstance(msg, str) and msg:
            inner_msg, inner_code = _nested_message(msg)
            if inner_code and (code_s is None or inner_msg != msg):
                return inner_msg, code_s or inner_code, inner_code
            return inner_msg, code_s, None
        return None, code_s, None
    if isinstance(body, str) and body:
        # A non-JSON body (an HTML error page, a proxy's text): keep a short, single-line excerpt.
        flat = " ".join(body.split())
        return (flat[:200] + "…" if len(flat) > 200 else flat), None, None
    return None, None, None


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asks us to wait: ``retry-after-ms``, else ``Retry-After`` (s or date)."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # rare: an HTTP date instead of seconds

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def error_from_response(
    status: int,
    body: bytes | str,
    headers: Mapping[str, str] | None = None,
    *,
    secrets: Iterable[str] = (),
) -> APIStatusError:
    """Build the typed error for an HTTP error answer, whatever its shape."""
    headers = headers or {}
    decoded = _decode_body(body)
    message, code, etype = parse_error_body(decoded)
    request_id = next((headers[h] for h in _REQUEST_ID_HEADERS if headers.get(h)), None)
    if message:
        match = _REQUEST_ID_IN_MESSAGE.search(message)
        if match:
            request_id = request_id or match.group(1).strip()
            message = message[: match.start()]
    if isinstance(decoded, dict) and not request_id:
        rid = decoded.get("request_id")
        request_id = str(rid) if rid else None

    cls: type[APIStatusError]
    if code == "task_not_exist" or (status == 404 and code and "task" in code):
        cls = TaskNotFoundError
    elif status >= 500:
        cls = ServerError
    else:
        cls = _STATUS_CLASSES.get(status, APIStatusError)
    retryable = status in _RETRYABLE_STATUSES or status >= 500
    should_retry = headers.get("x-should-retry")
    if should_retry == "true":
        retryable = True
    elif should_retry == "false":
        retryable = False
    if not message:
        message = _fallback_message(cls, status)
    err = cls(
        message,
        status=status,
        code=code,
        error_type=etype,
        request_id=request_id,
        retryable=retryable,
        retry_after=parse_retry_after(headers),
        raw=decoded,
    )
    err.scrub(secrets)
    return err


def _fallback_message(cls: type[APIStatusError], status: int) -> str:
    if cls is APIStatusError:
        return f"The gateway answered HTTP {status} with no explanation"
    return f"{cls.default_message} (the gateway sent no explanation)"


def describe(exc: BaseException) -> str:
    """One line for a person: what went wrong and what to do next."""
    if isinstance(exc, AuthenticationError):
        return (
            f"{exc} — set a valid key with `studio config set api_key sk-...` "
            "or the ANYFAST_API_KEY environment variable"
        )
    if isinstance(exc, RateLimitError):
        return f"{exc} — the gateway is busy or your rate limit is reached; wait and retry"
    if isinstance(exc, APITimeoutError | StreamStalledError) and exc.setting:
        return (
            f"{exc} — try again, or if replies need longer, raise the limit: "
            f"studio config set {exc.setting} SECONDS"
        )
    if isinstance(exc, APIConnectionError):
        return f"{exc} — check the network and the base URL"
    return str(exc)


def iter_error_classes() -> Iterable[type[AnyFastError]]:
    """Every public error class (used by tests to check they all scrub secrets)."""
    stack: list[type[AnyFastError]] = [AnyFastError]
    while stack:
        cls = stack.pop()
        yield cls
        stack.extend(cls.__subclasses__())
