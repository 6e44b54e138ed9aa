"""`api_key_command`: the key printed by a command, run once, without a shell, never shown."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
import tomli_w

from studio.cli import main
from studio.config import ConfigError, load_settings, with_command_key
from studio.paths import config_file

KEY = "sk-fromthepasswordmanager1234"


def _command(tmp_path: Path, body: str) -> str:
    """A command line running ``body`` as a Python script that counts its runs."""
    script = tmp_path / "manager.py"
    counter = tmp_path / "runs"
    script.write_text(f"open({str(counter)!r}, 'a').write('x')\n{body}\n")
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"


def _runs(tmp_path: Path) -> int:
    counter = tmp_path / "runs"
    return len(counter.read_text()) if counter.exists() else 0


def _configure(command: str, **extra: str) -> None:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps({"api_key_command": command, **extra}))


def test_the_first_line_trimmed_is_the_key_and_it_runs_once(tmp_path: Path) -> None:
    _configure(_command(tmp_path, f"print('  {KEY}  ')\nprint('user: me')"))
    settings = load_settings()
    assert settings.api_key is None and _runs(tmp_path) == 0  # loading never runs it
    first = with_command_key(settings)
    again = with_command_key(load_settings())
    assert (first.api_key, first.api_key_source) == (KEY, "command")
    assert again.api_key == KEY and _runs(tmp_path) == 1
    assert KEY not in repr(first) and "(from api_key_command)" in first.as_display_dict()["api_key"]


def test_the_command_wins_over_a_stored_key_and_the_environment_over_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(_command(tmp_path, f"print({KEY!r})"), api_key="sk-storedinthefile0000")
    assert with_command_key(load_settings()).api_key == KEY
    monkeypatch.setenv("ANYFAST_API_KEY", "sk-fromtheenvironment000")
    assert with_command_key(load_settings()).api_key == "sk-fromtheenvironment000"


def test_no_shell_runs_it(tmp_path: Path) -> None:
    script = tmp_path / "echo.py"
    script.write_text("import sys; print(sys.argv[1])")
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))} '$HOME;x'"
    _configure(command)
    assert with_command_key(load_settings()).api_key == "$HOME;x"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"import sys; print({KEY!r}); sys.exit(4)", "failed (exit status 4)"),
        ("print()", "printed nothing"),
        ("print('not a key with spaces')", "expected a key of printable ASCII characters"),
    ],
)
def test_a_failing_command_says_why_without_showing_its_output(
    tmp_path: Path, body: str, message: str
) -> None:
    _configure(_command(tmp_path, body))
    with pytest.raises(ConfigError, match="api_key_command") as caught:
        with_command_key(load_settings())
    assert message in str(caught.value)
    assert KEY not in str(caught.value) and "spaces')" not in str(caught.value)


def test_a_slow_command_is_stopped(tmp_path: Path) -> None:
    _configure(_command(tmp_path, "import time; time.sleep(30)"))
    with pytest.raises(ConfigError, match=r"did not finish within 0\.5 s"):
        with_command_key(load_settings(), timeout=0.5)


def test_a_missing_program_is_named() -> None:
    _configure("no-such-password-manager-xyz show anyfast")
    with pytest.raises(ConfigError, match="cannot run 'no-such-password-manager-xyz'"):
        with_command_key(load_settings())


def test_a_command_fails_with_exit_3_and_demo_never_runs_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _configure(_command(tmp_path, "import sys; sys.exit(1)"))
    assert main(["models"]) == 3
    assert "api_key_command: " in capsys.readouterr().err
    assert main(["config", "show"]) == 0
    assert _runs(tmp_path) == 1
    out = capsys.readouterr().out
    assert "api_key_command" in out and "run when a command or the TUI starts" in out


def test_doctor_names_a_failing_command_as_the_key_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _configure(_command(tmp_path, "import sys; sys.exit(2)"))
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "api_key_command: " in out and "failed (exit status 2)" in out
