"""``--demo`` is accepted by every command a script might run (issue 13): the gateway commands
use the built-in emulator with it, the store-only ones accept it and change nothing."""

from __future__ import annotations

import pytest

from studio.cli import build_parser

COMMANDS = [
    ["ask", "hi"],
    ["chats"],
    ["rm", "1"],
    ["show", "1"],
    ["export", "1"],
    ["import", "x.json"],
    ["search", "word"],
    ["image", "a cat"],
    ["video", "seedance", "a fox"],
    ["jobs"],
    ["jobs", "list"],
    ["jobs", "show", "1"],
    ["jobs", "wait", "1"],
    ["jobs", "retry", "1"],
    ["jobs", "cancel", "1"],
    ["jobs", "check", "1"],
    ["jobs", "run"],
    ["jobs", "watch"],
    ["models"],
    ["doctor"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_every_command_takes_demo(argv: list[str]) -> None:
    args = build_parser().parse_args([*argv, "--demo"])
    assert getattr(args, "demo", True) is True


def test_demo_may_come_before_the_video_kind() -> None:
    parser = build_parser()
    assert parser.parse_args(["video", "--demo", "seedance", "a fox"]).demo is True
    assert parser.parse_args(["video", "kling-t2v", "a fox"]).demo is False
