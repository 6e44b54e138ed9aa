"""Snapshots of the main screen with a reply (code, a table, headings) in each built-in theme.

Run ``pytest tests/tui/test_theme_snapshots.py --snapshot-update`` after an intended change to a
theme file or to how Studio's roles are drawn, then look at the SVGs before committing them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from studio.config import Settings

from .test_snapshots import SIZE, conversation_with_reply, fixed_time, seeded_app

__all__ = ["fixed_time"]  # the snapshot module's fixed clock applies here too

BUILT_IN = ("studio-dark", "studio-light", "high-contrast", "ansi-16", "ember", "lagoon")


@pytest.mark.parametrize("theme", BUILT_IN)
def test_main_screen_with_a_reply(
    snap_compare: Callable[..., bool], tmp_path: Path, settings: Settings, theme: str
) -> None:
    app = seeded_app(tmp_path, dataclasses.replace(settings, theme=theme), conversation_with_reply)
    assert snap_compare(app, terminal_size=SIZE)
