"""`studio config edit`: the file opens in $VISUAL/$EDITOR and is kept only once it is valid."""

from __future__ import annotations

import io
import json
import os
import shlex
import stat
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from studio import paths
from studio.cli import main

Editor = Callable[..., Path]
FAKE_EDITOR = """
import json, os, signal, sys, time
plan_file, target = sys.argv[1], sys.argv[2]
plan = json.loads(open(plan_file).read())
step = plan.pop(0)
open(plan_file, "w").write(json.dumps(plan))
with open(plan_file + ".seen", "a") as seen:
    seen.write(json.dumps(open(target).read()) + "\\n")
with open(plan_file + ".drafts", "a") as drafts:
    drafts.write(json.dumps([target, os.stat(target).st_mode & 0o777]) + "\\n")
if step == "FAIL":
    sys.exit(1)
if step.startswith("SIGINT:"):  # Ctrl+C on the terminal: the whole foreground group gets it
    os.kill(os.getppid(), signal.SIGINT)
    time.sleep(0.5)
    step = step.removeprefix("SIGINT:")
if step.startswith("SAVE-BESIDE:"):  # another Studio saves while the editor is open
    from studio.config import set_value
    set_value("favourite_models", "gpt-4o")
    step = step.removeprefix("SAVE-BESIDE:")
fail = step.startswith("FAIL:")
step = step.removeprefix("FAIL:")
if step != "KEEP":
    open(target, "w").write(step)
if fail:
    sys.exit(1)
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


def _drafts(seen: Path) -> list[tuple[Path, int]]:
    lines = seen.with_name("plan.json.drafts").read_text().splitlines()
    return [(Path(path), mode) for path, mode in map(json.loads, lines)]


def test_an_editor_that_fails_after_an_edit_keeps_the_edit(
    editor: Editor, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = paths.config_file()
    cfg.parent.mkdir(parents=True)
    cfg.write_text("bell = false\n")
    editor("FAIL:bell = false\nmax_retries = 4\n")
    assert main(["config", "edit"]) == 1
    assert cfg.read_text() == "bell = false\n"
    kept = cfg.with_name("config.toml.unsaved")
    assert kept.read_text() == "bell = false\nmax_retries = 4\n"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    err = capsys.readouterr().err
    assert "the editor exited with status 1; the settings file is unchanged" in err
    assert f"your edit is kept in {kept}" in err
    assert sorted(p.name for p in cfg.parent.iterdir()) == ["config.toml", "config.toml.unsaved"]


def test_a_save_made_while_the_editor_is_open_is_not_overwritten(
    editor: Editor, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = paths.config_file()
    cfg.parent.mkdir(parents=True)
    cfg.write_text("bell = false\n")
    editor("SAVE-BESIDE:bell = false\nmax_retries = 4\n")
    assert main(["config", "edit"]) == 2
    assert tomllib.loads(cfg.read_text()) == {"bell": False, "favourite_models": ["gpt-4o"]}
    kept = cfg.with_name("config.toml.unsaved")
    assert kept.read_text() == "bell = false\nmax_retries = 4\n"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    err = capsys.readouterr().err
    assert f"{cfg} changed while you were editing" in err and "favourite_models" in err
    assert f"your edit is kept in {kept}" in err and "studio config edit" in err


def test_an_unchanged_edit_after_another_save_keeps_that_save(
    editor: Editor, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = paths.config_file()
    cfg.parent.mkdir(parents=True)
    cfg.write_text("bell = false\n")
    editor("SAVE-BESIDE:KEEP")
    assert main(["config", "edit"]) == 0
    assert tomllib.loads(cfg.read_text()) == {"bell": False, "favourite_models": ["gpt-4o"]}
    assert "no changes" in capsys.readouterr().out
    assert not cfg.with_name("config.toml.unsaved").exists()


def test_each_edit_has_its_own_private_toml_draft_beside_the_file(editor: Editor) -> None:
    seen = editor("max_retries = 99\n", "max_retries = 5\n")
    assert main(["config", "edit"]) == 2  # off a terminal: refused, so run again
    editor("max_retries = 5\n")
    assert main(["config", "edit"]) == 0
    cfg = paths.config_file()
    (first, first_mode), (second, second_mode) = _drafts(seen)
    assert first != second
    for draft, mode in ((first, first_mode), (second, second_mode)):
        assert draft.parent == cfg.parent and draft.name.endswith(".toml") and mode == 0o600
        assert draft.name.startswith(".config.toml.") and not draft.exists()


def test_ctrl_c_while_the_editor_is_open_leaves_it_to_the_editor(
    editor: Editor, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl+C in the editor (cancelling a search in vi) reaches Studio too: Studio waits on,
    as git does, instead of killing the editor and losing the edit."""
    editor("SIGINT:max_retries = 4\n")
    assert main(["config", "edit"]) == 0
    assert tomllib.loads(paths.config_file().read_text()) == {"max_retries": 4}
    assert "saved" in capsys.readouterr().out


WAITING_EDITOR = """
import sys, time
from pathlib import Path
text, marks, draft = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
draft.write_text(text)
(marks / ("ready-" + text)).write_text(str(draft))
deadline = time.monotonic() + 60
while not (marks / ("go-" + text)).exists() and time.monotonic() < deadline:
    time.sleep(0.02)
"""


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_two_edits_at_once_keep_their_own_drafts_and_the_second_does_not_undo_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = paths.config_file()
    cfg.parent.mkdir(parents=True)
    cfg.write_text("bell = true\n")
    script = tmp_path / "waiting_editor.py"
    script.write_text(WAITING_EDITOR)
    monkeypatch.delenv("VISUAL", raising=False)
    runs = {}
    for text in ("max_retries = 3\n", "bell = false\n"):
        editor = shlex.join([sys.executable, str(script), text, str(tmp_path)])
        runs[text] = subprocess.Popen(
            [sys.executable, "-m", "studio", "config", "edit"],
            env={**os.environ, "EDITOR": editor},
            stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
    first, second = runs.values()
    try:
        for text in runs:
            _wait_for((tmp_path / f"ready-{text}").exists, f"the editor of {text!r}")
        drafts = {text: Path((tmp_path / f"ready-{text}").read_text()) for text in runs}
        assert len(set(drafts.values())) == 2
        assert {text: d.read_text() for text, d in drafts.items()} == {t: t for t in runs}

        (tmp_path / "go-max_retries = 3\n").write_text("")
        assert first.wait(60) == 0
        assert tomllib.loads(cfg.read_text()) == {"max_retries": 3}

        (tmp_path / "go-bell = false\n").write_text("")
        assert second.wait(60) == 2
        assert tomllib.loads(cfg.read_text()) == {"max_retries": 3}  # the first edit stays
        assert cfg.with_name("config.toml.unsaved").read_text() == "bell = false\n"
        assert second.stderr is not None
        assert "changed while you were editing" in second.stderr.read()
    finally:
        for run in runs.values():
            run.kill()
            run.wait()
            if run.stderr:
                run.stderr.close()
