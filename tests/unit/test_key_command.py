"""`api_key_command`: the key printed by a command, run once, without a shell, never shown."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import time
import tracemalloc
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


def _stopped(pid_file: Path) -> bool:
    """Whether the process whose id the command wrote is gone (reaped, or never alive)."""
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.skipif(shutil.which("yes") is None, reason="no `yes` program")
def test_yes_gives_its_first_line_at_once_in_bounded_memory() -> None:
    """`yes` never ends and prints without limit: its first line is taken, it is stopped, and
    what it printed after that is never read into memory."""
    _configure("yes sk-yesyesyes0000")
    settings = load_settings()
    tracemalloc.start()
    started = time.monotonic()
    try:
        settings = with_command_key(settings, timeout=20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 10
    assert settings.api_key == "sk-yesyesyes0000"
    assert peak < 1024 * 1024  # before, `yes` filled ~1 GB in 2 s


def test_a_command_that_prints_the_key_and_keeps_running_is_stopped(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    body = (
        f"import os, sys, time; open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        f"print({KEY!r}, flush=True)\ntime.sleep(60)"
    )
    _configure(_command(tmp_path, body))
    started = time.monotonic()
    assert with_command_key(load_settings(), timeout=30).api_key == KEY
    assert time.monotonic() - started < 15
    assert _stopped(pid_file)


@pytest.mark.parametrize(
    "output",
    [KEY, f"\n \n{KEY}\n", f"\r\n{KEY}\r\nsecond line\n"],
    ids=["no-newline", "blank-first", "crlf"],
)
def test_the_first_non_blank_line_is_taken_however_it_ends(tmp_path: Path, output: str) -> None:
    _configure(_command(tmp_path, f"import sys; sys.stdout.write({output!r})"))
    assert with_command_key(load_settings()).api_key == KEY


def test_endless_blank_lines_are_refused(tmp_path: Path) -> None:
    _configure(_command(tmp_path, "while True: print(flush=True)"))
    with pytest.raises(ConfigError, match="printed more than 8 KiB before the end of its first"):
        with_command_key(load_settings(), timeout=30)


def test_a_long_multi_line_output_gives_its_first_line(tmp_path: Path) -> None:
    """A password manager entry with a long note after the password: the first line is the key,
    whatever the rest (here more than a pipe holds)."""
    _configure(_command(tmp_path, f"print({KEY!r})\nprint('note ' * 100_000)"))
    assert with_command_key(load_settings(), timeout=30).api_key == KEY


@pytest.mark.parametrize("then", ["", "import time; time.sleep(60)"])
def test_a_huge_line_without_a_newline_is_refused(tmp_path: Path, then: str) -> None:
    body = f"import sys; sys.stdout.write('A' * 200_000); sys.stdout.flush()\n{then}"
    _configure(_command(tmp_path, body))
    started = time.monotonic()
    with pytest.raises(ConfigError, match="api_key_command") as caught:
        with_command_key(load_settings(), timeout=30)
    assert time.monotonic() - started < 15
    assert "printed more than 8 KiB before the end of its first line" in str(caught.value)
    assert "AAAA" not in str(caught.value)


def test_the_commands_own_messages_reach_the_terminal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    body = f"import sys; sys.stderr.write('Passphrase for anyfast: \\n'); print({KEY!r})"
    _configure(_command(tmp_path, body))
    assert with_command_key(load_settings()).api_key == KEY
    captured = capfd.readouterr()
    assert "Passphrase for anyfast:" in captured.err
    assert KEY not in captured.out + captured.err
