"""The HTTP policy every AnyFast call goes through (client-guide §1).

- explicit timeouts (never httpx's 5 s defaults);
- retries with the reference SDKs' policy: connection errors and timeouts before any answer, and
  408/409/429/5xx; ``x-should-retry`` obeyed; ``retry-after-ms`` / ``Retry-After`` honoured up to
  :data:`MAX_RETRY_AFTER` seconds, else capped exponential backoff with jitter;
- paid creates (video tasks, images) carry an ``Idempotency-Key`` reused across their retries and
  are retried only when the request surely did not reach the server (connect error, 429);
- every failure becomes a typed :mod:`studio.api.errors` exception with secrets scrubbed.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

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
    ) -> httpx.Response:
        """Send with retries; returns a 2xx response (streamed when ``stream``) or raises."""
        req_headers = dict(headers or {})
        if method == "POST":
            req_headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        timeout = self.timeouts.for_stream() if stream else self.timeouts.for_request()
        attempt = 0
        while True:
            err, surely_not_sent = await self._attempt(
                method, url, json_body, req_headers, timeout, stream
            )
            if isinstance(err, httpx.Response):
                return err
            if not self._should_retry(err, kind, attempt, surely_not_sent):
                raise err
            delay = backoff_delay(attempt, err.retry_after)
            if delay is None:
                raise err
            attempt += 1
            log.info(
                "retry %d/%d of %s %s in %.1fs after: %s",
                attempt,
                self.max_retries,
                method,
                url,
                delay,
                err,
            )
            if self.on_retry is not None:
                result = self.on_retry(attempt, delay, err)
                if result is not None:
                    await result
            await asyncio.sleep(delay)

    def _should_retry(
        self, err: AnyFastError, kind: CallKind, attempt: int, surely_not_sent: bool
    ) -> bool:
        if attempt >= self.max_retries or not err.retryable:
            return False
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
    ) -> tuple[Any, bool]:
        """One try: (response, _) on 2xx, else (typed error, whether it surely was not sent)."""
        may_have_arrived = method != "GET"
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
        except (httpx.TimeoutException, TimeoutError) as exc:
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
