"""Running the emulator: in-process on a background thread, or blocking for the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType, TracebackType
from typing import Any

import uvicorn

from studio.emulator.app import EmulatorApp
from studio.emulator.config import EmulatorConfig
from studio.emulator.responses import Lifecycle
from studio.emulator.state import EmulatorState
from studio.emulator.store import RequestRecord

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


class _Server(uvicorn.Server):
    """uvicorn's server, ending slow answers first on shutdown; signals are left to its owner
    (uvicorn would re-raise them after a graceful stop, while the CLI wants a clean return).

    Stopping does not wait on uvicorn's clocks: :meth:`wake` ends the 0.1 s tick of its main
    loop at once, and :meth:`shutdown` checks for closed connections every few milliseconds
    instead of sleeping 0.1 s first and then polling every 0.1 s (quitting ``--demo`` waited
    0.15-0.3 s on those)."""

    POLL = 0.005
    """Seconds between checks for connections still open while stopping."""

    def __init__(self, config: uvicorn.Config, lifecycle: Lifecycle) -> None:
        super().__init__(config)
        self._lifecycle = lifecycle
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def request_exit(self, sig: int, frame: FrameType | None = None) -> None:
        """Signal handler: the first signal stops gracefully, a second Ctrl-C forces it."""
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.should_exit = True
        self.wake()

    def wake(self) -> None:
        """Make the main loop look at ``should_exit`` now (from any thread)."""
        loop, wakeup = self._loop, self._wakeup
        if loop is not None and wakeup is not None and not loop.is_closed():
            # RuntimeError: the loop closed in between, so it has stopped anyway
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wakeup.set)

    async def main_loop(self) -> None:
        self._wakeup = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=0.1)
            self._wakeup.clear()
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's graceful shutdown (stop accepting, ask connections to close, wait for
        them up to ``timeout_graceful_shutdown``, then cancel what is left), with slow
        answers ended first and no fixed sleeps."""
        self._lifecycle.close()
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        state = self.server_state
        for connection in list(state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.config.timeout_graceful_shutdown or 0)
        while (state.connections or state.tasks) and not self.force_exit:
            if loop.time() >= deadline:
                break
            await asyncio.sleep(self.POLL)
        for task in list(state.tasks):
            task.cancel(msg="the emulator is stopping")
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()


def _uvicorn_config(app: EmulatorApp, *, quiet_logging: bool) -> uvicorn.Config:
    extra: dict[str, Any] = {"log_config": None} if quiet_logging else {}
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        http="h11",
        ws="none",
        loop="asyncio",
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=3,
        **extra,
    )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # An explicit IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections; without
    # it, a header write followed by a body write waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class EmulatorServer:
    """A real HTTP emulator on loopback, served by uvicorn on a daemon thread.

    Use as a context manager (or call :meth:`start` / :meth:`stop`). The socket is bound before
    the server starts, so :attr:`base_url` is known; :meth:`start` returns once connections
    are accepted. Without ``config.api_key`` a random ``sk-emu-...`` key is made up.
    """

    def __init__(
        self, config: EmulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or EmulatorConfig()
        self._key = self.config.api_key or "sk-emu-" + secrets.token_hex(16)
        self.state = EmulatorState(self.config, api_key=self._key)
        self.app = EmulatorApp(self.state)
        self._host = host
        self._port = port
        self._sock: socket.socket | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._url: str | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (available once started)."""
        if self._url is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return self._url

    @property
    def api_key(self) -> str:
        """The one key this emulator accepts."""
        return self._key

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request received so far (a snapshot)."""
        return self.state.requests

    @property
    def running(self) -> bool:
        """Whether the server thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def inject(self, spec: str, count: int | None = 1, path: str = "/") -> None:
        """Apply fault ``spec`` to the next ``count`` requests (``None``: until cleared) whose
        path starts with ``path``."""
        self.state.inject(spec, count, path)

    def clear_faults(self) -> None:
        """Remove every emulator-wide fault, including those from the config."""
        self.state.clear_faults()

    def start(self) -> EmulatorServer:
        """Bind, start serving on a background thread, and wait until connections are
        accepted."""
        if self.running:
            return self
        sock = _bind(self._host, self._port)
        self.state.lifecycle.reset()
        server = _Server(_uvicorn_config(self.app, quiet_logging=True), self.state.lifecycle)
        self._sock, self._server, self._error = sock, server, None
        self._thread = threading.Thread(
            target=self._run, args=(server, sock), name="anyfast-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the emulator failed to start") from self._error
            time.sleep(0.005)
        self._url = _url(sock)
        return self

    def _run(self, server: _Server, sock: socket.socket) -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # reported by start(); a thread has nobody else to tell
            self._error = exc

    def stop(self) -> None:
        """Stop serving: end slow answers, close connections, join the thread."""
        server, thread, sock = self._server, self._thread, self._sock
        if server is not None:
            server.should_exit = True
            server.wake()
        if thread is not None:
            thread.join(STOP_TIMEOUT)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join(STOP_TIMEOUT)
        if sock is not None:
            sock.close()
        self._server = self._thread = self._sock = None
        self._url = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_forever(
    config: EmulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 8000
) -> None:
    """Serve until Ctrl-C or SIGTERM, then return normally (for ``studio emulator``).

    Prints one line to stderr: the URL and the accepted key (any non-empty key when
    ``config.api_key`` is unset). Must be called from the main thread to handle signals.
    """
    config = config or EmulatorConfig()
    state = EmulatorState(config)
    server = _Server(_uvicorn_config(EmulatorApp(state), quiet_logging=False), state.lifecycle)
    previous: dict[signal.Signals, Any] = {}
    try:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, server.request_exit)
        with _bind(host, port) as sock:
            accepted = f"API key: {config.api_key}" if config.api_key else "any key accepted"
            print(f"AnyFast emulator on {_url(sock)} ({accepted})", file=sys.stderr, flush=True)
            asyncio.run(server.serve(sockets=[sock]))
    except KeyboardInterrupt:
        return
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
