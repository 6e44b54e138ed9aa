"""Layering: the service layers never import Textual, and headless commands start lean."""

from __future__ import annotations

import subprocess
import sys

import pytest

TEXTUAL_FREE = [
    "studio.api",
    "studio.api.client",
    "studio.config",
    "studio.paths",
    "studio.themefiles",
    "studio.emulator",
    "studio.cli",
    "studio.commands.ask",
    "studio.commands.chats",
    "studio.commands.config",
    "studio.commands.models",
    "studio.commands.emulator",
    "studio.commands.jobs",
    "studio.commands.media",
    "studio.store",
    "studio.clipboard",
    "studio.models",
    "studio.model_cache",
    "studio.fuzzy",
    "studio.termnotify",
    "studio.jobs.notify",
    "studio.commands.jobs_watch",
    "studio.commands.search",
    "studio.gateway",
    "studio.chat",
    "studio.chat.session",
]


def modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


@pytest.mark.parametrize("module", TEXTUAL_FREE)
def test_module_does_not_import_textual(module: str) -> None:
    loaded = modules_after(f"import {module}")
    assert "textual" not in loaded, f"{module} pulled in Textual"


def test_help_imports_neither_textual_nor_the_server_stack() -> None:
    code = "import sys\nfrom studio.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    loaded = modules_after(code)
    assert not {"textual", "starlette", "uvicorn", "httpx"} & loaded


def test_the_tui_imports_textual_only_when_it_starts() -> None:
    loaded = modules_after("import studio.cli, studio.commands.common")
    assert "textual" not in loaded
    assert "textual" in modules_after("import studio.tui.app")


def test_ask_without_demo_does_not_load_the_emulator() -> None:
    loaded = modules_after("import studio.commands.ask")
    assert not {"starlette", "uvicorn"} & loaded


def test_the_tui_loads_httpx_only_after_its_first_frame() -> None:
    """httpx costs a tenth of a second: the gateway imports it when it first makes a client."""
    code = "import studio.tui.app, studio.api, studio.tui.jobs, studio.tui.screens.main"
    loaded = modules_after(code)
    assert "httpx" not in loaded
    assert "markdown_it" not in loaded  # Markdown loads when a message is first shown
    # Dialogs, the model picker, media forms and job details load when first opened.
    assert (
        not {
            "studio.tui.screens.dialogs",
            "studio.tui.screens.model_picker",
            "studio.tui.screens.media_forms",
            "studio.tui.screens.job_detail",
            "urllib.request",
        }
        & loaded
    )
    # Nor the job sidebar (ctrl+g), the clipboard (first copy), Rich's Markdown, email's date
    # parser (a Retry-After date) or secrets (writing the config).
    assert (
        not {
            "studio.tui.widgets.job_sidebar",
            "studio.clipboard",
            "rich.markdown",
            "email.utils",
            "secrets",
        }
        & loaded
    )
    assert "httpx" in modules_after("from studio.api import AnyFastClient")


def test_preparing_previews_loads_neither_pillow_nor_textual_image_widgets() -> None:
    """Before the app starts only the terminal is asked; Pillow loads with the first preview
    (except where the terminal may speak Kitty graphics: textual-image probes that itself)."""
    code = "from studio.tui import previews\nassert previews.prepare({'TERM': 'xterm-256color'})"
    loaded = modules_after(code)
    assert "PIL" not in loaded and "textual_image.widget" not in loaded
    kitty = modules_after(code.replace("xterm-256color", "xterm-kitty"))
    assert "textual_image.widget" in kitty


def test_opening_the_studio_builds_no_subcommand_parser() -> None:
    """`studio` and `studio --demo` go straight to the TUI: the subcommands' parsers (tens of
    milliseconds to import and build) are not loaded before the first frame."""
    code = (
        "import sys\n"
        "import studio.cli as cli\n"
        "cli._dispatch = lambda args: print(args.command, args.demo) or 0\n"
        "assert cli.main(['--demo']) == 0 and cli.main([]) == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith('studio.commands.parsers.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.splitlines() == ["None True", "None False", "[]"]
