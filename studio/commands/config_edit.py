"""``studio config edit``: the settings file in ``$VISUAL`` / ``$EDITOR``, checked before it is
kept.

The editor works on a copy beside the file (a fresh 0600 ``.config.toml.*.edit.toml`` for each
run, so two runs at once never share one); the copy replaces the file only once it reads as
valid settings, so a typo never leaves Studio unable to start. On a terminal a refused edit can
be opened again; otherwise (or when the person declines) the file stays as it was and the
refused text is kept beside it as ``config.toml.rejected``, its path printed.

An edit is never thrown away: when the editor fails after a change, or when another Studio (or
``studio config set``) saved the file while the editor was open, the file is left as it is and
the edit is kept as ``config.toml.unsaved``. It is not merged into the newer file: merging would
rewrite the person's text (its comments and layout) and would have to pick a side when both
changed one setting; run ``studio config edit`` again and copy the change across.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import NoReturn

from studio.commands.common import CommandError, warn
from studio.commands.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from studio.config import FILE_MODE, ConfigError, describe_settings, load_settings, toml_value
from studio.paths import config_file, ensure_dir
from studio.textsafe import clean_line

FALLBACK_EDITORS = ("nano", "vi")
"""Tried in order when neither VISUAL nor EDITOR is set."""

REJECTED_SUFFIX = ".rejected"
"""Beside the file: an edit refused as invalid settings."""

UNSAVED_SUFFIX = ".unsaved"
"""Beside the file: an edit not saved because the editor failed or the file changed meanwhile."""


def run_edit() -> int:
    """Edit the settings file until it is valid or the person gives up; the exit code."""
    target = config_file()
    if target.is_symlink():
        target = target.resolve()  # keep a dotfile manager's symlink intact
    editor = _editor()
    ensure_dir(target.parent)
    original = _read(target)
    start = original if original is not None else _template()
    draft = _new_draft(target, start)
    try:
        while True:
            status = _open(editor, draft)
            if status != 0:
                _editor_failed(status, draft, target, start)
            problem, warnings = _check(draft)
            if problem is None:
                return _keep(draft, target, original, warnings)
            print(
                f"studio: {clean_line(problem.replace(str(draft), 'your edit'))}", file=sys.stderr
            )
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


def _open(editor: list[str], draft: Path) -> int:
    """Run the editor on the draft and wait for it; its exit status.

    Ctrl+C on the terminal reaches Studio as well as the editor, which may use it (vi cancels a
    command with it): Studio ignores it while the editor runs, as git does, rather than kill
    the editor and lose the edit. It is ignored only once the editor has started, so the editor
    does not inherit the ignoring."""
    import signal
    import threading

    try:
        process = subprocess.Popen([*editor, str(draft)])
    except OSError as exc:
        raise CommandError(
            f"cannot start the editor {editor[0]!r}: {exc.strerror or exc}; "
            "the settings file is unchanged",
            EXIT_USAGE,
        ) from None
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main_thread else None
    try:
        return process.wait()
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def _editor_failed(status: int, draft: Path, target: Path, start: bytes) -> NoReturn:
    """The editor exited with a failure: the file is unchanged; a changed draft is kept."""
    message = f"the editor exited with status {status}; the settings file is unchanged"
    if _read(draft) not in (None, start):  # the editor may have removed it
        message += f"; your edit is kept in {_set_aside(draft, target, UNSAVED_SUFFIX)}"
    raise CommandError(message, EXIT_FAILED)


def _check(draft: Path) -> tuple[str | None, tuple[str, ...]]:
    """(what is wrong with the edited file or None, its warnings). The environment is left out:
    only the file is judged."""
    try:
        settings = load_settings(draft, env={})
    except ConfigError as exc:
        return str(exc), ()
    return None, settings.warnings


def _keep(draft: Path, target: Path, original: bytes | None, warnings: tuple[str, ...]) -> int:
    edited = draft.read_bytes()
    if edited != original and _read(target) != original:
        return _changed_meanwhile(draft, target, original)
    for warning in warnings:
        warn(warning.replace(str(draft), str(target)))
    if edited == original:
        print(f"{target}: no changes")
        return EXIT_OK
    # Another save could still land between the look above and this rename: other writers
    # take no lock, so the window is closed only to the few microseconds in between.
    os.chmod(draft, FILE_MODE)  # an editor that writes a new file may not keep the mode
    os.replace(draft, target)
    print(f"{target}: saved (checked, mode 0600)")
    return EXIT_OK


def _changed_meanwhile(draft: Path, target: Path, original: bytes | None) -> int:
    """The file was saved by someone else while the editor was open: keep that save, set the
    edit aside and say how to bring it across."""
    kept = _set_aside(draft, target, UNSAVED_SUFFIX)
    changed = _changed_settings(original, _read(target))
    which = f": {', '.join(changed)} changed" if changed else ""
    message = (
        f"{target} changed while you were editing (another Studio or `studio config set` "
        f"saved it{which}); it is left as that save wrote it, and your edit is kept in {kept}. "
        f"Run `studio config edit` again and copy your changes across from {kept}."
    )
    print(f"studio: {clean_line(message)}", file=sys.stderr)
    return EXIT_USAGE


def _changed_settings(before: bytes | None, after: bytes | None) -> list[str]:
    """The top-level keys whose values differ between two versions of the file; empty when
    either cannot be read as TOML."""
    try:
        old, new = (tomllib.loads((data or b"").decode("utf-8")) for data in (before, after))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    return sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))


def _again() -> bool:
    """On a terminal, whether to open the editor again (the default); never elsewhere."""
    if not sys.stdin.isatty():
        return False
    try:
        answer = input("Edit again? [Y/n] ").strip().lower()
    except (EOFError, KeyboardInterrupt):  # either way the edit is kept as .rejected
        print(file=sys.stderr)
        return False
    return answer in ("", "y", "yes")


def _refuse(draft: Path, target: Path) -> int:
    kept = _set_aside(draft, target, REJECTED_SUFFIX)
    print(
        f"studio: {target} is unchanged; your edit is kept in {kept}",
        file=sys.stderr,
    )
    return EXIT_USAGE


def _set_aside(draft: Path, target: Path, suffix: str) -> Path:
    """Move the draft beside the file as ``<name><suffix>`` (mode 0600: it may hold the key)."""
    kept = target.with_name(f"{target.name}{suffix}")
    os.chmod(draft, FILE_MODE)
    os.replace(draft, kept)
    return kept


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CommandError(
            f"{path}: cannot read the file: {exc.strerror or exc}", EXIT_USAGE
        ) from None


def _new_draft(target: Path, data: bytes) -> Path:
    """A new draft beside ``target`` holding ``data``: a name no other run uses, ending in
    .toml so the editor highlights it, mode 0600 (it may hold the key)."""
    import tempfile

    fd, name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".edit.toml", dir=target.parent
    )  # mkstemp creates it 0600 whatever the umask
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return Path(name)


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
