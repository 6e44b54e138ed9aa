"""Telling the user a job ended when they are not looking: the ``notify_command`` setting, and
the bell and desktop notification a terminal shows.

``notify_command`` is split like a shell line (:func:`shlex.split`) and run without a shell,
once per job that finished, failed, timed out or whose submission was not confirmed (not for a
job the user cancelled), with :func:`~studio.jobs.payload.job_payload` as JSON on its standard
input. It runs in the background: :meth:`JobNotifier.job_ended` returns at once, at most
:data:`MAX_RUNNING` commands run together, and one still running after :data:`COMMAND_TIMEOUT`
seconds is killed (with its process group). Its output is discarded. The API key is neither in
its input nor in its environment.

A command that cannot start, exits with a failure or hangs never breaks anything: each reason
is written once per session to ``notify.log`` in the state directory, and the first one is
also said once through ``on_problem`` (a toast in the TUI, a line on stderr in a command).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shlex
import signal
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from studio.config import Settings
from studio.jobs.payload import job_payload
from studio.paths import ensure_dir, state_dir
from studio.store.job_records import Job, JobState
from studio.termnotify import BELL, notification_sequence

COMMAND_TIMEOUT = 30.0
"""Seconds a ``notify_command`` may run before it is killed."""
MAX_RUNNING = 4
"""Commands run at once; more jobs ending together wait their turn."""
LOG_NAME = "notify.log"
_STDERR_TAIL = 2000

log = logging.getLogger("studio.jobs.notify")


def is_reported_end(job: Job) -> bool:
    """Whether the user hears of this end: every final state but a cancel (they asked for it)."""
    return job.state.is_final and job.state is not JobState.CANCELLED


def ended_before(job: Job, moment: float) -> bool:
    """Whether ``job`` ended before ``moment`` (epoch seconds): when
    its task finished on the gateway (the gateway's clock, in whole seconds), its deadline for
    one that timed out, else when an engine recorded its end. A window that opens after a job
    ended does not notify of it."""
    ended = job.result.get("finished_at") if isinstance(job.result, dict) else None
    if job.state is JobState.TIMED_OUT:
        ended = job.deadline_at
    if not isinstance(ended, int | float):
        ended = job.finished_at
    return ended is not None and ended < moment


def notification_text(job: Job) -> tuple[str, str]:
    """The title and body of the notification for a job that ended (untrusted text inside:
    the prompt, a failure reason; sanitised where it is written)."""
    what = f"{job.kind.value.capitalize()} job #{job.id}"
    prompt = " ".join(job.prompt.split())
    if job.state is JobState.SUCCEEDED:
        saved = [Path(f.path).name for f in job.files if f.done]
        more = f" (+{len(saved) - 1} more)" if len(saved) > 1 else ""
        body = f"saved {saved[0]}{more}" if saved else prompt
        return f"{what} is done", body or job.model
    if job.state is JobState.SUBMISSION_UNCERTAIN:
        return f"{what} not confirmed", "the gateway may not have received it"
    state = job.state.value.replace("_", " ")
    return f"{what} {state}", job.failure_reason or job.message or prompt or job.model


def desktop_notification(job: Job, settings: Settings, env: Mapping[str, str]) -> str:
    """The desktop notification to write to the terminal (``env`` describes it) when ``job``
    ended, following setting ``notify``; ``""`` when there is none."""
    if not is_reported_end(job):
        return ""
    title, body = notification_text(job)
    return notification_sequence(title, body, env=env, mode=settings.notify)


def terminal_alert(job: Job, settings: Settings, env: Mapping[str, str]) -> str:
    """What a command writes to its terminal when ``job`` ended: the bell (setting ``bell``)
    and the desktop notification (setting ``notify``), or ``""``."""
    if not is_reported_end(job):
        return ""
    return (BELL if settings.bell else "") + desktop_notification(job, settings, env)


def command_environment(settings: Settings, env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without the API key: neither its variable nor any value holding the key."""
    key = settings.api_key
    return {
        name: value
        for name, value in env.items()
        if name != "ANYFAST_API_KEY" and not (key and key in value)
    }


class JobNotifier:
    """Runs the ``notify_command`` setting when a job ends (see the module's docstring)."""

    def __init__(
        self,
        settings: Settings,
        *,
        on_problem: Callable[[str], None] | None = None,
        timeout: float = COMMAND_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.on_problem = on_problem
        self.timeout = timeout
        self._argv: list[str] = []
        if settings.notify_command:
            with contextlib.suppress(ValueError):  # the setting's check refused it already
                self._argv = shlex.split(settings.notify_command)
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots: asyncio.Semaphore | None = None
        self._reasons: set[str] = set()
        self._said = False

    @property
    def enabled(self) -> bool:
        """Whether a command is set."""
        return bool(self._argv)

    async def job_ended(self, job: Job) -> None:
        """``job`` reached an end: start its command in the background and return at once.
        Nothing when no command is set or the job was cancelled; never raises."""
        if not self._argv or not is_reported_end(job):
            return
        try:
            data = json.dumps(job_payload(job), ensure_ascii=False).encode("utf-8", "replace")
            task = asyncio.create_task(self._run(job.id, data), name=f"notify-job-{job.id}")
        except Exception as exc:  # a payload that does not serialise, no loop: a bug, not fatal
            self._failed("error", f"job {job.id}: cannot run notify_command: {exc!r}")
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the commands still running (a process about to exit calls it, bounded by
        ``asyncio.timeout``: those still running when it expires are killed)."""
        tasks = list(self._tasks)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- one command ---------------------------------------------------------------------------

    async def _run(self, job_id: int, data: bytes) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(MAX_RUNNING)
        async with self._slots:
            try:
                await self._run_command(job_id, data)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never let a notification break its caller
                self._failed("error", f"job {job_id}: notify_command failed: {exc!r}")

    async def _run_command(self, job_id: int, data: bytes) -> None:
        name = self._argv[0]
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                env=command_environment(self.settings, os.environ),
                start_new_session=True,  # its own process group: a timeout kills all of it
            )
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            self._failed(f"start:{reason}", f"notify_command {name!r} cannot start: {reason}")
            return
        try:
            async with asyncio.timeout(self.timeout):
                _, tail = await asyncio.gather(_feed(proc, data), _tail(proc))
                code = await proc.wait()
        except TimeoutError:
            _kill(proc)
            await proc.wait()
            self._failed(
                "timeout", f"job {job_id}: notify_command {name!r} killed after {self.timeout:g} s"
            )
            return
        except asyncio.CancelledError:
            _kill(proc)
            raise
        if code != 0:
            detail = f": {tail}" if tail else ""
            self._failed(
                f"exit:{code}", f"job {job_id}: notify_command {name!r} exited with {code}{detail}"
            )

    def _failed(self, reason: str, message: str) -> None:
        """Log a failure once per ``reason``; say the first one on the screen once."""
        if reason in self._reasons:
            return
        self._reasons.add(reason)
        log.warning("%s", message)
        where = _append_log(message)
        if self._said or self.on_problem is None:
            return
        self._said = True
        more = f" (details in {where})" if where else ""
        with contextlib.suppress(Exception):
            self.on_problem(f"notify_command did not work{more}")


async def _feed(proc: asyncio.subprocess.Process, data: bytes) -> None:
    """Write the job to the command's stdin and close it; a command that does not read it is
    fine."""
    stdin = proc.stdin
    if stdin is None:
        return
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        stdin.write(data)
        await stdin.drain()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        stdin.close()
        await stdin.wait_closed()


async def _tail(proc: asyncio.subprocess.Process) -> str:
    """The last line of what the command wrote on stderr (kept short)."""
    stream = proc.stderr
    if stream is None:
        return ""
    kept = b""
    while chunk := await stream.read(4096):
        kept = (kept + chunk)[-_STDERR_TAIL:]
    lines = kept.decode("utf-8", "replace").strip().splitlines()
    return lines[-1][:300] if lines else ""


def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


def _append_log(message: str) -> Path | None:
    """Add ``message`` to ``notify.log``; where it is, or ``None`` when it cannot be written."""
    try:
        path = ensure_dir(state_dir()) / LOG_NAME
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"{stamp} {message}\n")
    except OSError:
        return None
    return path
