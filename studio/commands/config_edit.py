"""``studio config edit``: the settings file in ``$VISUAL`` / ``$EDITOR``, checked before it is
kept.

The editor works on a copy beside the file (mode 0600); the copy replaces the file only once it
reads as valid settings, so a typo never leaves Studio unable to start. On a terminal a refused
edit can be opened again; otherwise (or when the person declines) the file stays as it was and
the refused text is kept beside it, its path printed.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from studio.commands.common import CommandError, warn
from studio.commands.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from studio.config import FILE_MODE, ConfigError, describe_settings, load_settings, toml_value
from studio.paths import config_file, ensure_dir
from studio.textsafe import clean_line

FALLBACK_EDITORS = ("nano", "vi")
"""Tried in order when neither VISUAL nor EDITOR is set."""


def run_edit() -> int:
    """Edit the settings file until it is valid or the person gives up; the exit code."""
    target = config_file()
    if target.is_symlink():
        target = target.resolve()  # keep a dotfile manager's symlink intact
    editor = _editor()
    ensure_dir(target.parent)
    draft = target.with_name(f".{target.name}.edit.toml")
    original = _read(target)
    _write(draft, original if original is not None else _template())
    try:
        while True:
            _open(editor, draft)
            problem, warnings = _check(draft)
            if problem is None:
                return _keep(draft, target, original, warnings)
            print(f"studio: {clean_line(problem)}", file=sys.stderr)
            if not _again():
                return _refuse(draft, target)
    finally:
        draft.unlink(missing_ok=True)


def _editor() -> list[str]:
    """The editor's command line: $VISUAL, then $EDITOR, then nano or vi (split like a shell
    line, run without a shell)."""
    for variable in ("VISUAL", "EDITOR"):
        text = os.environ.get(variable, "").strip()
        if text:
            try:
                words = shlex.split(text)
            except ValueError as exc:
                raise CommandError(
                    f"{variable} cannot be split into words ({exc})", EXIT_USAGE
                ) from None
            if words:
                return words
    for name in FALLBACK_EDITORS:
        if shutil.which(name):
            return [name]
    raise CommandError("no editor: set EDITOR (e.g. export EDITOR=nano)", EXIT_USAGE)


def _open(editor: list[str], draft: Path) -> None:
    try:
        done = subprocess.run([*editor, str(draft)], check=False)
    except OSError as exc:
        raise CommandError(
            f"cannot start the editor {editor[0]!r}: {exc.strerror or exc}; "
            "the settings file is unchanged",
            EXIT_USAGE,
        ) from None
    if done.returncode != 0:
        raise CommandError(
            f"the editor exited with status {done.returncode}; the settings file is unchanged",
            EXIT_FAILED,
        )


def _check(draft: Path) -> tuple[str | None, tuple[str, ...]]:
    """(what is wrong with the edited file or None, its warnings). The environment is left out:
    only the file is judged."""
    try:
        settings = load_settings(draft, env={})
    except ConfigError as exc:
        return str(exc), ()
    return None, settings.warnings


def _keep(draft: Path, target: Path, original: bytes | None, warnings: tuple[str, ...]) -> int:
    for warning in warnings:
        warn(warning.replace(str(draft), str(target)))
    if draft.read_bytes() == original:
        print(f"{target}: no changes")
        return EXIT_OK
    os.chmod(draft, FILE_MODE)  # an editor that writes a new file may not keep the mode
    os.replace(draft, target)
    print(f"{target}: saved (checked, mode 0600)")
    return EXIT_OK


def _again() -> bool:
    """On a terminal, whether to open the editor again (the default); never elsewhere."""
    if not sys.stdin.isatty():
        return False
    try:
        answer = input("Edit again? [Y/n] ").strip().lower()
    except EOFError:
        return False
    return answer in ("", "y", "yes")


def _refuse(draft: Path, target: Path) -> int:
    kept = target.with_name(f"{target.name}.rejected")
    os.replace(draft, kept)
    print(
        f"studio: {target} is unchanged; your edit is kept in {kept}",
        file=sys.stderr,
    )
    return EXIT_USAGE


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CommandError(
            f"{path}: cannot read the file: {exc.strerror or exc}", EXIT_USAGE
        ) from None


def _write(path: Path, data: bytes) -> None:
    path.unlink(missing_ok=True)  # a draft left by an editor that was killed
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _template() -> bytes:
    """A new file: every setting commented out with its help and default."""
    lines = [
        "# Studio settings (TOML). Uncomment a line to change it;",
        "# `studio config show` lists the values in effect.",
        "",
    ]
    for name, default, help_text in describe_settings():
        lines.append(f"# {help_text}")
        if name == "keymap":
            lines += ["# [keymap]", '# "main.regenerate" = "f5"', ""]
            continue
        shown = "..." if default is None else toml_value(default)
        lines += [f"# {name} = {shown}", ""]
    return "\n".join(lines).encode("utf-8")
