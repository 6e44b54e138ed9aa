"""Which process wrote a row or holds a job, and whether it may still be running.

A streaming reply records its writer as ``host:pid``; a job engine claims jobs as
``host:pid#instance``. Other processes read these names to tell a live writer from a dead one.
"""

from __future__ import annotations

import os
import socket

HOST = socket.gethostname()


def current_writer() -> str:
    """``host:pid`` of this process, recorded with each reply it streams."""
    return f"{HOST}:{os.getpid()}"


def writer_alive(writer: str | None) -> bool:
    """Whether the process named ``host:pid`` may still be running (unknown hosts: assume so)."""
    if not writer:
        return True
    host, _, pid_text = writer.rpartition(":")
    if host != HOST or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, but not ours to signal
    return True


def owner_alive(owner: str | None) -> bool:
    """Whether the engine named ``host:pid#n`` may still run (another host: assume so)."""
    if not owner:
        return False
    host_pid, _, _ = owner.partition("#")
    return writer_alive(host_pid)


def engine_owner(instance: int) -> str:
    """The claim name of engine ``instance`` of this process: ``host:pid#instance``."""
    return f"{HOST}:{os.getpid()}#{instance}"
