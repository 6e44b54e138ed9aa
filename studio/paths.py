"""Where Studio keeps its files: XDG locations through platformdirs, created lazily.

Nothing here touches the disk at import time, and the location functions only compute paths;
:func:`ensure_dir` creates a directory (and any missing parents) owner-only (``0o700``) when a
caller is about to write into it.

Two environment variables override the platform defaults (tests use both to isolate themselves):

``STUDIO_CONFIG``
    the full path of the configuration file.
``STUDIO_HOME``
    a single root for everything: ``config/``, ``data/``, ``cache/`` and ``state/`` live under it.

Every location is absolute: a relative ``STUDIO_HOME``, ``STUDIO_CONFIG`` or ``media_dir`` is
taken against the working directory when it is decided, so paths recorded from it (job files in
the store) still point at the same place when read from another directory.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs

APP_NAME = "anyfast-studio"
CONFIG_FILE_NAME = "config.toml"
DATABASE_FILE_NAME = "studio.db"
DIR_MODE = 0o700

ENV_CONFIG = "STUDIO_CONFIG"
ENV_HOME = "STUDIO_HOME"


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def absolute(path: str | os.PathLike[str]) -> Path:
    """``path`` with ``~`` expanded, made absolute against the working directory and
    normalised (``..`` removed); symbolic links are kept as they are."""
    return Path(os.path.abspath(Path(path).expanduser()))


def _home(env: Mapping[str, str] | None) -> Path | None:
    value = _env(env).get(ENV_HOME, "").strip()
    return absolute(value) if value else None


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """The directory that holds ``config.toml`` (``~/.config/anyfast-studio`` on Linux)."""
    home = _home(env)
    if home is not None:
        return home / "config"
    return absolute(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def config_file(env: Mapping[str, str] | None = None) -> Path:
    """The configuration file: ``$STUDIO_CONFIG`` if set, else ``config_dir()/config.toml``."""
    override = _env(env).get(ENV_CONFIG, "").strip()
    if override:
        return absolute(override)
    return config_dir(env) / CONFIG_FILE_NAME


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Durable user data: the database and downloaded media (``~/.local/share/...``)."""
    home = _home(env)
    if home is not None:
        return home / "data"
    return absolute(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """Data that may be deleted at any time, such as the cached model list (``~/.cache/...``)."""
    home = _home(env)
    if home is not None:
        return home / "cache"
    return absolute(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """State kept between runs but not worth a backup, such as logs (``~/.local/state/...``)."""
    home = _home(env)
    if home is not None:
        return home / "state"
    return absolute(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def media_dir(
    override: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """Where generated images and videos are saved, always absolute: ``override`` (the
    ``media_dir`` setting, ``~`` expanded) when given, else ``data_dir()/media``."""
    if override is not None and str(override).strip():
        return absolute(override)
    return data_dir(env) / "media"


def database_file(env: Mapping[str, str] | None = None) -> Path:
    """The SQLite database: ``data_dir()/studio.db``."""
    return data_dir(env) / DATABASE_FILE_NAME


def ensure_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` and any missing parents with mode ``0o700``; return it as a ``Path``.

    Only directories created here get their mode set (explicitly, so the umask cannot widen or
    narrow it); directories that already exist are left as they are. Raises ``NotADirectoryError``
    when ``path`` (or a parent) exists but is not a directory.
    """
    target = Path(path).expanduser()
    missing: list[Path] = []
    probe = target
    while not probe.exists() and not probe.is_symlink() and probe.parent != probe:
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # created concurrently by someone else: fine if it is a directory
        os.chmod(directory, DIR_MODE)
    if not target.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(target))
    return target
