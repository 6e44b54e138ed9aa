"""``studio config``: show, locate and change settings."""

from __future__ import annotations

import argparse
import getpass
import sys

from studio.commands.common import CommandError, warn
from studio.commands.exits import EXIT_OK, EXIT_USAGE
from studio.config import (
    ConfigError,
    describe_settings,
    load_settings,
    masked_key,
    set_value,
    toml_value,
    unset_value,
)
from studio.paths import config_file
from studio.textsafe import clean_line


def run_config(args: argparse.Namespace) -> int:
    action = args.config_command
    if action == "path":
        print(config_file())
        return EXIT_OK
    if action == "edit":
        from studio.commands.config_edit import run_edit

        return run_edit()
    if action == "set":
        raw = _read_secret() if args.value == "-" else args.value
        value = set_value(args.key, raw)
        text = masked_key(value) if args.key == "api_key" else repr(value)
        print(f"{args.key} = {text}  (saved to {config_file()}, mode 0600)")
        return EXIT_OK
    if action == "unset":
        removed = unset_value(args.key)
        print(f"{args.key} {'removed' if removed else 'was not set'}; the default applies")
        return EXIT_OK
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    keymap_problems: list[str] = []
    if settings.keymap:
        from studio.keymap import check_keymap

        keymap_problems = check_keymap(settings.keymap).problems
    for warning in settings.warnings:  # a file others may read, unknown keys... on stderr
        if warning not in keymap_problems:
            warn(warning)
    shown = settings.as_display_dict()
    width = max(len(name) for name in shown)
    print(f"# {settings.config_path}")
    for name, _default, help_text in describe_settings():
        # The value in effect, written as in the file (media_dir: the folder, never None).
        if name == "api_key":  # masked, its origin already said
            text = shown[name]
        else:
            value = settings.effective(name)
            # TOML has no null: an unset optional setting reads "(not set)", as the key does.
            written = "(not set)" if value is None else toml_value(value)
            text = f"{written}  # {settings.origin(name)}"
        print(clean_line(f"{name:<{width}} = {text}"))
        if name == "keymap":  # the keymap's problems where its value is shown
            for problem in keymap_problems:
                print(f"{'':<{width}}   warning: {clean_line(problem)}")
        if action is None:
            continue
        print(f"{'':<{width}}   {help_text}")
    return EXIT_OK


def _read_secret() -> str:
    """`studio config set api_key -` reads the key without echo (or from piped stdin), so it
    stays out of the shell history."""
    if sys.stdin.isatty():
        return getpass.getpass("value (not echoed): ").strip()
    return sys.stdin.readline().strip()
