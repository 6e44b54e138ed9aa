"""Reading a small file the user controls (the settings file, a theme file) without hanging.

Only a regular file of at most :data:`MAX_BYTES` is read: a FIFO blocks the reader until someone
writes to it, a link to /dev/zero never ends, and a huge file is a mistake, never a setting.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_BYTES = 1024 * 1024
"""A settings or theme file is a few hundred bytes; anything over 1 MiB is a mistake."""

_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class FileRefused(ValueError):
    """Not a regular file, or too big; the message says which (the caller names the path)."""


def check_regular(path: Path, info: os.stat_result, what: str) -> None:
    """Refuse anything but a regular file of at most :data:`MAX_BYTES`; ``what`` is the kind of
    file expected, for the message ("a settings file")."""
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _FILE_KINDS if test(info.st_mode)), "not a file")
        target = os.path.realpath(path)
        via = f" ({target})" if target != str(path) else ""
        raise FileRefused(f"is {kind}{via}, expected a TOML file")
    if info.st_size > MAX_BYTES:
        raise FileRefused(
            f"too big for {what} ({info.st_size / MAX_BYTES:.1f} MiB; the limit is 1 MiB)"
        )


def read_small_file(path: Path, what: str) -> tuple[bytes, int]:
    """The bytes of the regular file at ``path`` and its mode.

    Raises :class:`FileRefused` for anything but a regular file of at most :data:`MAX_BYTES`,
    ``FileNotFoundError`` when there is no file and ``OSError`` when it cannot be read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    check_regular(path, path.stat(), what)
    fd = os.open(path, flags)  # O_NONBLOCK: a FIFO swapped in after stat() cannot block
    with open(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        check_regular(path, info, what)
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:  # grew since fstat()
        raise FileRefused(f"too big for {what} (the limit is 1 MiB)")
    return data, info.st_mode
