"""Isolation for every test: no test reads or writes the user's files or reaches the network."""

from __future__ import annotations

from pathlib import Path

import pytest

USER_VARIABLES = (
    "ANYFAST_API_KEY",
    "ANYFAST_BASE_URL",
    "STUDIO_DEFAULT_MODEL",
    "STUDIO_CONFIG",
    "TMUX",
    "STY",
    # The terminal's identity decides the desktop notification a job's end writes.
    "TERM_PROGRAM",
    "LC_TERMINAL",
    "KITTY_WINDOW_ID",
    "WEZTERM_PANE",
    "WT_SESSION",
    "VTE_VERSION",
)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME, every XDG directory and Studio's own root at a fresh temporary folder."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        monkeypatch.setenv(name, str(home / sub))
    monkeypatch.setenv("STUDIO_HOME", str(home / "studio"))
    for name in USER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return home
