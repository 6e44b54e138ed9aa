"""Reading and writing the settings file: TOML in, the environment over it, atomic 0600 out.

Environment variables win over the file (``ENV_OVERRIDES``); values taken from the environment
are never written back unless the caller changed them. Writing keeps every other key in the
file, unknown ones included.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import tomli_w

from studio import paths
from studio.config.checks import (
    ConfigError,
    from_text,
    plain_http_warning,
    unknown_key,
    validated,
)
from studio.config.settings import DEFAULTS, ENV_OVERRIDES, SETTING_NAMES, SPECS, Settings
from studio.userfile import MAX_BYTES, FileRefused, read_small_file

FILE_MODE = 0o600
MAX_CONFIG_BYTES = MAX_BYTES
"""A settings file is a few hundred bytes; anything over 1 MiB is a mistake (or /dev/zero)."""


def _read_file(path: Path) -> tuple[bytes, int] | None:
    """The bytes of the settings file and its mode, or None when there is no file."""
    try:
        return read_small_file(path, "a settings file")
    except FileNotFoundError:
        return None
    except FileRefused as exc:  # a FIFO, a device, a directory, over 1 MiB
        raise ConfigError(f"{path}: {exc}", path) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc.strerror or exc}", path) from None


def _read_table(path: Path) -> dict[str, Any]:
    read = _read_file(path)
    return {} if read is None else _parse_table(path, read[0])


def _parse_table(path: Path, data: bytes) -> dict[str, Any]:
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (bad byte at offset {exc.start})", path
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid TOML: {exc}. Fix that line, or move the file aside to start"
            " with the defaults (your conversations and jobs are not in it).",
            path,
        ) from None


def _config_path(path: str | os.PathLike[str] | None, env: Mapping[str, str] | None) -> Path:
    return Path(path).expanduser() if path is not None else paths.config_file(env)


def load_settings(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Read the settings file (``paths.config_file()`` by default) and apply the environment.

    A missing file means defaults. Unknown keys are ignored and listed in ``settings.warnings``,
    as are the problems of the ``[keymap]`` table (``studio.keymap.check_keymap``).
    Raises :class:`ConfigError` for an unreadable file, invalid TOML or an invalid value.
    """
    env = os.environ if env is None else env
    cfg = _config_path(path, env)
    values: dict[str, Any] = {}
    warnings: list[str] = []
    read = _read_file(cfg)
    table, file_mode = (_parse_table(cfg, read[0]), read[1]) if read else ({}, 0)
    for key, raw in table.items():
        if key in SPECS:
            values[key] = validated(key, raw, str(cfg), cfg)
        else:
            warnings.append(str(unknown_key(key, str(cfg), cfg, " ignored")))
    source: Literal["env", "config"] | None = "config" if values.get("api_key") else None
    if source and os.name == "posix" and file_mode & 0o077:
        warnings.append(
            f"{cfg} holds the API key but other users may access it "
            f"(mode {stat.S_IMODE(file_mode):04o}); run: chmod 600 {cfg}"
        )
    from_env: dict[str, Any] = {}
    for variable, key in ENV_OVERRIDES.items():
        raw = env.get(variable, "")
        if raw.strip():
            from_env[key] = validated(key, raw, f"environment variable {variable}", cfg)
    if from_env.get("api_key"):
        source = "env"
    values.update(from_env)
    insecure = plain_http_warning(values.get("base_url", DEFAULTS["base_url"]))
    if insecure:
        warnings.append(insecure)
    if values.get("keymap"):
        from studio.keymap import check_keymap  # its catalog is read only when there is a keymap

        warnings += check_keymap(values["keymap"]).problems
    return Settings(
        **values,
        api_key_source=source,
        config_path=cfg,
        warnings=tuple(warnings),
        from_env=from_env,
        from_file=frozenset(key for key in table if key in SPECS),
    )


def _write_atomic(path: Path, table: Mapping[str, Any]) -> None:
    """Write to a 0600 temporary file beside ``path``, then rename it over ``path``."""
    if path.is_symlink():
        path = path.resolve()  # keep a dotfile manager's symlink intact
    try:
        paths.ensure_dir(path.parent)
        payload = tomli_w.dumps(dict(table)).encode("utf-8")
        import secrets  # only when the config is written

        temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            with os.fdopen(fd, "wb") as handle:
                if hasattr(os, "fchmod"):
                    os.fchmod(handle.fileno(), FILE_MODE)  # in case the umask removed bits
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the file: {exc.strerror or exc}", path) from None


def save_settings(
    settings: Settings | Mapping[str, Any], path: str | os.PathLike[str] | None = None
) -> Path:
    """Write settings to the TOML file atomically (mode 0600, directory 0700); return its path.

    Given a :class:`Settings`, values still equal to what the environment supplied are not
    written, and defaults are only written for keys the file already has. Given a mapping, each
    entry is written (``None`` removes the key). Other keys in the file, unknown ones included,
    are kept. The default path is the one ``settings`` was loaded from, else the config file.
    """
    if path is None and isinstance(settings, Settings) and settings.config_path is not None:
        path = settings.config_path
    cfg = _config_path(path, None)
    table = _read_table(cfg)
    changes: dict[str, Any] = {}
    if isinstance(settings, Settings):
        for name in SETTING_NAMES:
            value = getattr(settings, name)
            from_env = name in settings.from_env and value == settings.from_env[name]
            if not from_env and (name in table or value != DEFAULTS[name]):
                changes[name] = value
    else:
        changes = dict(settings)
    for key, value in changes.items():
        if key not in SPECS:
            raise unknown_key(key, str(cfg), cfg)
        checked = None if value is None else validated(key, value, str(cfg), cfg)
        if checked is None:
            table.pop(key, None)
        else:
            table[key] = checked
    _write_atomic(cfg, table)
    return cfg


def set_value(key: str, raw: str, path: str | os.PathLike[str] | None = None) -> Any:
    """``studio config set KEY VALUE``: parse ``raw`` to the setting's type, validate, save.

    Booleans accept true/false/yes/no/on/off/1/0; lists are comma-separated; an empty string
    clears an optional setting. Returns the stored value (``None`` when cleared).
    """
    cfg = _config_path(path, None)
    if key not in SPECS:
        raise unknown_key(key, "studio config", cfg)
    value = validated(key, from_text(key, raw), "studio config", cfg)
    save_settings({key: value}, cfg)
    return value


def unset_value(key: str, path: str | os.PathLike[str] | None = None) -> bool:
    """``studio config unset KEY``: remove a key so its default applies; True if it was present.

    Unknown keys present in the file may be removed too (to clean up a typo).
    """
    cfg = _config_path(path, None)
    table = _read_table(cfg)
    if key not in table:
        if key not in SPECS:
            raise unknown_key(key, "studio config", cfg)
        return False
    del table[key]
    _write_atomic(cfg, table)
    return True
