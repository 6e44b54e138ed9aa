"""The HTTP policy every AnyFast call goes through (client-guide §1).

- explicit timeouts (never httpx's 5 s defaults);
- retries with the reference SDKs' policy: connection errors and timeouts before any answer, and
  408/409/429/5xx; ``x-should-retry`` obeyed; ``retry-after-ms`` / ``Retry-After`` honoured up to
  :data:`MAX_RETRY_AFTER` seconds, else capped exponential backoff with jitter;
- a *read* timeout of a chat or a create is not retried: the request arrived and the gateway
  may still be working on it (and billing it), so the wait ends after one timeout, not three;
- paid creates (video tasks, images) carry an ``Idempotency-Key`` reused across their retries and
  are retried only when the request surely did not reach the server (connect error, 429);
- every failure becomes a typed :mod:`studio.api.errors` exception with secrets scrubbed.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from studio.api.errors import (
    AnyFastError,
    APIConnectionError,
    APITimeoutError,
    error_from_response,
)

log = logging.getLogger("studio.api")

MAX_RETRY_AFTER = 120.0
"""The longest server-requested delay we wait out; a longer one is reported instead."""
BACKOFF_INITIAL = 0.5
BACKOFF_MAX = 8.0


class CallKind(enum.Enum):
    """How safe a call is to repeat."""

    READ = "read"
    """GETs: always safe to retry."""
    CHAT = "chat"
    """Chat completions: retried like the reference SDKs do, before any content is shown."""
    CREATE = "create"
    """Paid creates: retried only when the request surely never reached the server."""


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Timeouts in seconds. ``stream_idle`` is the allowed silence between bytes of a stream;
    ``stream_stall`` the allowed time without content (keep-alives do not count);
    ``request`` the total for a non-streamed call."""

    connect: float = 5.0
    write: float = 30.0
    pool: float = 10.0
    stream_idle: float = 120.0
    stream_stall: float = 300.0
    request: float = 600.0

    SETTINGS: ClassVar[dict[str, str]] = {
        "stream_idle": "stream_idle_timeout",
        "stream_stall": "stream_stall_timeout",
        "request": "request_timeout",
    }
    """The user setting (``studio.config``) behind each limit a person may need to raise."""

    def for_stream(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect, read=self.stream_idle, write=self.write, pool=self.pool
        )

    def for_request(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect, read=self.request, write=self.write, pool=self.pool
        )


RetryCallback = Callable[[int, float, AnyFastError], Awaitable[None] | None]
"""Called before each retry with (attempt number from 1, delay in seconds, the error)."""


@dataclass(slots=True)
class RetryBudget:
    """The retries one logical request has used, shared by every layer that may retry it (the
    HTTP exchange, then a stream that failed before its first content)."""

    used: int = 0


def seconds_text(seconds: float) -> str:
    """``0.5 s``, ``12 s``: tenths only where they matter."""
    return f"{seconds:.1f} s" if seconds < 9.95 and seconds != int(seconds) else f"{seconds:.0f} s"


def backoff_delay(attempt: int, retry_after: float | None = None) -> float | None:
    """Seconds to wait before retry ``attempt`` (0-based); None means "do not retry".

    A server-requested delay is honoured up to :data:`MAX_RETRY_AFTER`; longer means give up and
    tell the user. Otherwise ``min(0.5 * 2**n, 8) * (1 - 0.25 * random())``.
    """
    if retry_after is not None:
        return None if retry_after > MAX_RETRY_AFTER else retry_after
    return float(min(BACKOFF_INITIAL * 2**attempt, BACKOFF_MAX) * (1.0 - 0.25 * random.random()))


class HTTPSession:
    """One ``httpx.AsyncClient`` plus the retry policy. Owned by :class:`AnyFastClient`."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeouts: Timeouts,
        max_retries: int,
        on_retry: RetryCallback | None,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._secrets = (api_key,)
        self.timeouts = timeouts
        self.max_retries = max(0, max_retries)
        self.on_retry = on_retry
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/json",
                "User-Agent": _user_agent(),
                **(headers or {}),
            },
            timeout=timeouts.for_request(),
            transport=transport,
            follow_redirects=True,
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        return self._secrets

    @property
    def http(self) -> httpx.AsyncClient:
        return self._http

    async def aclose(self) -> None:
        await self._http.aclose()

    def scrubbed(self, err: AnyFastError) -> AnyFastError:
        err.scrub(self._secrets)
        return err

    async def send(
        self,
        method: str,
        url: str,
        *,
        kind: CallKind,
        json_body: Any = None,
        stream: bool = False,
        headers: dict[str, str] | None = None,
        idempotency_key: str | None = None,
        budget: RetryBudget | None = None,
    ) -> httpx.Response:
        """Send with retries; returns a 2xx response (streamed when ``stream``) or raises.

        ``budget`` counts the retries across calls that resend the same logical request.
        """
        req_headers = dict(headers or {})
        if method == "POST":
            req_headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        timeout = self.timeouts.for_stream() if stream else self.timeouts.for_request()
        budget = budget or RetryBudget()
        while True:
            err, surely_not_sent = await self._attempt(
                method, url, json_body, req_headers, timeout, stream, kind
            )
            if isinstance(err, httpx.Response):
                return err
            if not await self.pause_before_retry(
                err, kind, budget, surely_not_sent=surely_not_sent, what=f"{method} {url}"
            ):
                raise err

    async def pause_before_retry(
        self,
        err: AnyFastError,
        kind: CallKind,
        budget: RetryBudget,
        *,
        surely_not_sent: bool = False,
        what: str = "",
    ) -> bool:
        """If the policy allows another try after ``err``: count it, tell ``on_retry``, wait the
        delay and return True. False means: give up and raise ``err``."""
        if not self._should_retry(err, kind, budget.used, surely_not_sent):
            return False
        delay = backoff_delay(budget.used, err.retry_after)
        if delay is None:
            return False
        budget.used += 1
        log.info(
            "retry %d/%d of %s in %.1fs after: %s", budget.used, self.max_retries, what, delay, err
        )
        if self.on_retry is not None:
            result = self.on_retry(budget.used, delay, err)
            if result is not None:
                await result
        await asyncio.sleep(delay)
        return True

    def _should_retry(
        self, err: AnyFastError, kind: CallKind, attempt: int, surely_not_sent: bool
    ) -> bool:
        if attempt >= self.max_retries or not err.retryable:
            return False
        if isinstance(err, APITimeoutError) and err.waited is not None:
            # A read timeout: the request arrived. Resending a chat or a create may pay twice
            # while the first one is still being worked on; only reads are safe to repeat.
            return kind is CallKind.READ
        if kind is CallKind.CREATE:
            return surely_not_sent or err.status == 429
        return True

    async def _attempt(
        self,
        method: str,
        url: str,
        json_body: Any,
        headers: dict[str, str],
        limits: httpx.Timeout,
        stream: bool,
        kind: CallKind,
    ) -> tuple[Any, bool]:
        """One try: (response, _) on 2xx, else (typed error, whether it surely was not sent)."""
        may_have_arrived = method != "GET"
        started = time.monotonic()
        try:
            request = self._http.build_request(
                method, url, json=json_body, headers=headers, timeout=limits
            )
            if stream:
                response = await self._http.send(request, stream=True)
            else:
                async with asyncio.timeout(self.timeouts.request):
                    response = await self._http.send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return self._connection_error(exc, uncertain=False), True
        except (httpx.ReadTimeout, TimeoutError):
            field = "stream_idle" if stream else "request"
            waited = time.monotonic() - started
            return self._read_timeout(field, waited, resent=kind is CallKind.READ), False
        except httpx.TimeoutException as exc:
            err = APITimeoutError(
                f"The gateway did not answer in time ({type(exc).__name__})",
                retryable=True,
                uncertain=may_have_arrived,
            )
            return self.scrubbed(err), False
        except httpx.TransportError as exc:
            return self._connection_error(exc, uncertain=may_have_arrived), False
        if response.status_code < 400:
            return response, False
        try:
            body = await response.aread()
        except httpx.HTTPError:
            body = b""
        finally:
            await response.aclose()
        status_err = error_from_response(
            response.status_code, body, response.headers, secrets=self._secrets
        )
        if status_err.code == "model_not_found":
            status_err.retryable = False  # "no available channel" will not change in a second
        if method != "GET" and response.status_code >= 500:
            status_err.uncertain = True
        return status_err, False

    def _read_timeout(self, field: str, waited: float, *, resent: bool) -> AnyFastError:
        """The request went out and no answer came within the ``field`` limit."""
        limit: float = getattr(self.timeouts, field)
        setting = Timeouts.SETTINGS[field]
        message = (
            f"No answer from the gateway after {seconds_text(waited)} "
            f"(the limit is {setting} = {seconds_text(limit)})"
        )
        if not resent:
            message += "; not resent automatically, as the gateway may still be working on it"
        err = APITimeoutError(
            message, retryable=True, uncertain=not resent, waited=waited, setting=setting
        )
        return self.scrubbed(err)

    def _connection_error(self, exc: Exception, *, uncertain: bool) -> AnyFastError:
        detail = str(exc) or type(exc).__name__
        err = APIConnectionError(
            f"Could not reach the gateway at {self._http.base_url}: {detail}",
            retryable=True,
            uncertain=uncertain,
        )
        return self.scrubbed(err)


def _user_agent() -> str:
    from studio import __version__

    return f"anyfast-studio/{__version__} httpx/{httpx.__version__}"
