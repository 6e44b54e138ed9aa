"""`studio config edit`: the file opens in $VISUAL/$EDITOR and is kept only once it is valid."""

from __future__ import annotations

import io
import json
import shlex
import stat
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from studio import paths
from studio.cli import main

Editor = Callable[..., Path]
FAKE_EDITOR = """
import json, sys
plan_file, target = sys.argv[1], sys.argv[2]
plan = json.loads(open(plan_file).read())
step = plan.pop(0)
open(plan_file, "w").write(json.dumps(plan))
with open(plan_file + ".seen", "a") as seen:
    seen.write(json.dumps(open(target).read()) + "\\n")
if step == "FAIL":
    sys.exit(1)
if step != "KEEP":
    open(target, "w").write(step)
"""


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Editor:
    """Install a fake editor that writes each planned text in turn; returns (plan, seen)."""
    script = tmp_path / "fake_editor.py"
    script.write_text(FAKE_EDITOR)
    plan = tmp_path / "plan.json"

    def use(*steps: str) -> Path:
        plan.write_text(json.dumps(list(steps)))
        command = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))} {plan}"
        monkeypatch.setenv("EDITOR", command)
        monkeypatch.delenv("VISUAL", raising=False)
        return plan.with_name("plan.json.seen")

    return use


def _seen(seen: Path) -> list[str]:
    return [json.loads(line) for line in seen.read_text().splitlines()]


def _terminal(monkeypatch: pytest.MonkeyPatch, answers: str) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal(answers))


def test_a_valid_edit_is_saved_with_mode_0600_keeping_unknown_keys(
    editor: Editor, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = paths.config_file()
    cfg.parent.mkdir(parents=True)
    cfg.write_text('mystery = "kept"\nmax_retries = 1\n')
    editor('mystery = "kept"\nmax_retries = 4\n')
    assert main(["config", "edit"]) == 0
    assert tomllib.loads(cfg.read_text()) == {"mystery": "kept", "max_retries": 4}
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    out, err = capsys.readouterr()
    assert "saved" in out
    assert "unknown setting 'mystery'" in err and str(cfg) in err
    assert [p.name for p in cfg.parent.iterdir()] == ["config.toml"]  # no draft left


def test_a_new_file_starts_from_a_commented_template(editor: Editor) -> None:
    seen = editor("KEEP")
    assert main(["config", "edit"]) == 0
    template = _seen(seen)[0]
    assert "# max_retries = 2" in template and "# api_key_command = ..." in template
    assert tomllib.loads(paths.config_file().read_text()) == {}


def test_an_unchanged_file_says_so(editor: Editor, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = paths.config_file()
    cfg.parent.mkdir(parents=True)
    cfg.write_text("bell = false\n")
    editor("KEEP")
    assert main(["config", "edit"]) == 0
    assert "no changes" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("max_retries = = 3\n", "not valid TOML"),
        ("max_retries = 99\n", "max_retries: expected a whole number from 0 to 10"),
        ('clipboard = "x"\n', "clipboard: expected one of auto, osc52, native, off"),
    ],
)
def test_a_broken_edit_off_a_terminal_leaves_the_file_and_keeps_the_edit(
    editor: Editor, capsys: pytest.CaptureFixture[str], text: str, reason: str
) -> None:
    cfg = paths.config_file()
    cfg.parent.mkdir(parents=True)
    cfg.write_text("bell = false\n")
    editor(text)
    assert main(["config", "edit"]) == 2
    assert cfg.read_text() == "bell = false\n"
    rejected = cfg.with_name("config.toml.rejected")
    assert rejected.read_text() == text
    err = capsys.readouterr().err
    assert reason in err and f"your edit is kept in {rejected}" in err


def test_on_a_terminal_a_broken_edit_opens_again_with_the_broken_text(
    editor: Editor, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = editor("max_retries = 99\n", "max_retries = 5\n")
    _terminal(monkeypatch, "\n")  # Enter: edit again
    assert main(["config", "edit"]) == 0
    assert _seen(seen)[1] == "max_retries = 99\n"  # the second run starts from the edit
    assert tomllib.loads(paths.config_file().read_text()) == {"max_retries": 5}
    assert "max_retries: expected a whole number from 0 to 10" in capsys.readouterr().err


def test_declining_to_edit_again_keeps_the_file(
    editor: Editor, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = paths.config_file()
    cfg.parent.mkdir(parents=True)
    cfg.write_text("bell = false\n")
    editor("bell = 3\n")
    _terminal(monkeypatch, "n\n")
    assert main(["config", "edit"]) == 2
    assert cfg.read_text() == "bell = false\n"


def test_an_editor_that_fails_changes_nothing(
    editor: Editor, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = paths.config_file()
    cfg.parent.mkdir(parents=True)
    cfg.write_text("bell = false\n")
    editor("FAIL")
    assert main(["config", "edit"]) == 1
    assert cfg.read_text() == "bell = false\n"
    assert "the editor exited with status 1; the settings file is unchanged" in (
        capsys.readouterr().err
    )


def test_visual_wins_over_editor_and_a_missing_editor_is_named(
    editor: Editor, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    editor("bell = false\n")
    monkeypatch.setenv("VISUAL", "no-such-editor-xyz --wait")
    assert main(["config", "edit"]) == 2
    assert "cannot start the editor 'no-such-editor-xyz'" in capsys.readouterr().err
    assert not paths.config_file().exists()
