"""Bad input to the commands: one clear line on stderr and the documented exit code, never an
"unexpected error". Run in-process (``studio.cli.main``) where that shows the behaviour, as a
real process where the process itself matters (pipes, /dev/full, a config that never ends)."""

from __future__ import annotations

import base64
import io
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from studio.cli import main
from studio.commands.exits import EXIT_AUTH, EXIT_FAILED, EXIT_OK, EXIT_USAGE
from studio.emulator import EmulatorServer

from .test_client_media import png

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """``run(*argv, stdin=b"")``: ``studio.cli.main(argv)`` in-process; (exit code, stdout,
    stderr). Piped stdin is given as bytes (empty: nothing piped)."""

    def invoke(*argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.fixture
def gateway(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    """The shared loopback emulator as the configured gateway (through the environment)."""
    monkeypatch.setenv("ANYFAST_API_KEY", emulator.api_key)
    monkeypatch.setenv("ANYFAST_BASE_URL", emulator.base_url)
    return emulator


def process(
    *args: str,
    env: dict[str, str] | None = None,
    stdout: int | IO[bytes] | None = subprocess.PIPE,
    timeout: float = 30,
) -> subprocess.CompletedProcess[bytes]:
    """``python -m studio ARGS`` as a real process (bytes in and out)."""
    return subprocess.run(
        [sys.executable, "-m", "studio", *args],
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def one_line(err: str) -> str:
    assert err.count("\n") == 1, err
    assert "unexpected error" not in err and "Traceback" not in err
    return err


# --- 1. text that is not UTF-8 ------------------------------------------------------------------


@pytest.mark.parametrize("option", [None, "-s"])
def test_non_utf8_argument_is_replaced_with_a_warning(
    run: Run, gateway: EmulatorServer, option: str | None
) -> None:
    undecodable = os.fsdecode(b"caf\xe9 latte")  # a Latin-1 terminal: U+DCE9 in argv
    argv = ["ask", "-q", *((option, undecodable, "hi") if option else (undecodable,))]
    code, out, err = run(*argv)
    assert code == EXIT_OK, err
    warning = one_line(err)
    assert "not valid UTF-8" in warning and "U+FFFD" in warning
    if option is None:
        assert "caf\ufffd latte" in out  # the emulator quotes the question


def test_non_utf8_stdin_is_replaced_with_a_warning(run: Run, gateway: EmulatorServer) -> None:
    code, out, err = run("ask", "-q", stdin=b"na\xefve \xff\xfe text\n")
    assert code == EXIT_OK, err
    assert "standard input is not valid UTF-8" in one_line(err)
    assert "na\ufffdve \ufffd\ufffd text" in out  # the emulator quotes the question


# --- 2. sampling values checked before anything is sent -----------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("-t", "nan", "-t/--temperature must be a number from 0 to 2, got nan"),
        ("-t", "inf", "got inf"),
        ("--temperature=-inf", None, "got -inf"),
        ("-t", "5", "got 5"),
        ("-t", "-0.1", "got -0.1"),
        ("--max-tokens", "0", "--max-tokens must be a whole number of at least 1, got 0"),
        ("--max-tokens", "-1", "got -1"),
    ],
)
def test_out_of_range_sampling_is_refused_before_sending(
    run: Run, gateway: EmulatorServer, option: str, value: str | None, expected: str
) -> None:
    before = len(gateway.requests)
    code, out, err = run("ask", option, *([value] if value else []), "hi")
    assert code == EXIT_USAGE
    assert expected in one_line(err)
    assert out == "" and len(gateway.requests) == before


@pytest.mark.parametrize("argv", [["-t", "0"], ["-t", "2"], ["--max-tokens", "1"]])
def test_sampling_limits_are_inclusive(run: Run, gateway: EmulatorServer, argv: list[str]) -> None:
    code, _, err = run("ask", "-q", *argv, "hi [[emulator: tokens=3]]")
    assert code == EXIT_OK, err


# --- 3. data: URLs checked like files -----------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("data:image/png;base64,@@@not-base64", "not valid base64"),
        ("data:text/plain;base64,aGVsbG8=", "declares text/plain, not an image"),
        ("data:;base64,aGVsbG8=", "declares text/plain, not an image"),
        ("data:image/png;base64,aGVsbG8=", "not an image (it looks like text)"),
        ("data:image/png;base64,", "holds no data"),
        ("data:image/png", "no ','"),
    ],
)
def test_bad_data_url_is_a_usage_error(
    run: Run, gateway: EmulatorServer, uri: str, expected: str
) -> None:
    before = len(gateway.requests)
    code, _, err = run("ask", "-a", uri, "What is this?")
    assert code == EXIT_USAGE
    assert expected in one_line(err) and "Cannot attach" in err
    assert len(gateway.requests) == before


def test_good_data_url_is_sent(run: Run, gateway: EmulatorServer, tmp_path: Path) -> None:
    image = png(tmp_path / "x.png", 40, 30).read_bytes()
    uri = "data:image/png;base64," + base64.b64encode(image).decode()
    code, out, err = run("ask", "-q", "-a", uri, "Describe")
    assert code == EXIT_OK, err
    assert "40×30 PNG" in out


# --- 4. stdout that goes away or fills up -------------------------------------------------------


def test_closed_pipe_stops_quietly(emulator: EmulatorServer) -> None:
    """`studio ask ... | head -c 100`: the reader leaves early; no error, no noise."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", "ask", "hi [[emulator: tokens=40000]]"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={
            **os.environ,
            "ANYFAST_API_KEY": emulator.api_key,
            "ANYFAST_BASE_URL": emulator.base_url,
        },
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(100)  # the reply is flowing (far more than a pipe buffer holds)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == EXIT_FAILED
    assert err == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("argv", [["ask", "--demo", "hi"], ["models", "--demo"]])
def test_full_disk_is_one_clear_line(argv: list[str]) -> None:
    with open("/dev/full", "wb") as full:
        result = process(*argv, stdout=full)
    err = result.stderr.decode()
    assert result.returncode == EXIT_FAILED
    assert one_line(err) == "studio: cannot write to standard output: No space left on device\n"


# --- 5. a config path that is not a small regular file ------------------------------------------


def _config_error(result: subprocess.CompletedProcess[bytes], path: Path) -> str:
    err = result.stderr.decode()
    assert result.returncode == EXIT_USAGE, err
    assert str(path) in one_line(err)
    return err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_config_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    result = process("ask", "--demo", "hi", env={"STUDIO_CONFIG": str(fifo)}, timeout=30)
    assert "named pipe" in _config_error(result, fifo)


def _limit_memory() -> None:  # a regression must fail the test, not exhaust the machine
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_config_linked_to_dev_zero_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "config.toml"
    link.symlink_to("/dev/zero")
    result = subprocess.run(
        [sys.executable, "-m", "studio", "models", "--demo"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=30,
        env={**os.environ, "STUDIO_CONFIG": str(link)},
        preexec_fn=_limit_memory,
    )
    assert "character device (/dev/zero)" in _config_error(result, link)


def test_huge_config_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "config.toml"
    with big.open("wb") as handle:
        handle.truncate(5 * 1024 * 1024)  # sparse: no real disk used
    result = process("config", "show", env={"STUDIO_CONFIG": str(big)})
    assert "too big" in _config_error(result, big)


# --- 6. base URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:9/?token=abc", "query string"),
        ("https://gw.example/v1#sect9", "fragment"),
        ("https://bob:hunter2@gw.example", "user name or password"),
        ("https://bob@gw.example", "user name or password"),
        ("http://127.0.0.1:99999", "port"),
        ("http://127.0.0.1:abc", "port"),
        ("http://127.0.0.1:0", "port"),
        ("http://gw example", "spaces"),
        ("http://-gw-.example", "host name"),
        ("http://[::1", "cannot be read"),
    ],
)
def test_bad_base_url_is_refused_with_the_reason(
    run: Run, monkeypatch: pytest.MonkeyPatch, url: str, reason: str
) -> None:
    monkeypatch.setenv("ANYFAST_API_KEY", "sk-test-0123456789abcdef")
    monkeypatch.setenv("ANYFAST_BASE_URL", url)
    code, out, err = run("ask", "hi")
    assert code == EXIT_USAGE
    assert "ANYFAST_BASE_URL" in one_line(err) and reason in err
    assert "hunter2" not in err and "token=abc" not in err and "sect9" not in err

    monkeypatch.delenv("ANYFAST_BASE_URL")
    code, out, err = run("config", "set", "base_url", url)
    assert code == EXIT_USAGE
    assert reason in one_line(err)
    assert "hunter2" not in out + err and "token=abc" not in out + err
    code, out, _ = run("config", "show")
    assert code == EXIT_OK and '"https://www.anyfast.ai"  # default' in out  # nothing was saved


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://gateway.example:8080", True),
        ("http://10.0.0.7", True),
        ("https://gateway.example", False),
        ("http://localhost:8080", False),
        ("http://127.0.0.2:8080", False),
        ("http://[::1]:8080", False),
    ],
)
def test_plain_http_to_another_machine_warns_once(
    run: Run, monkeypatch: pytest.MonkeyPatch, url: str, warned: bool
) -> None:
    monkeypatch.setenv("ANYFAST_BASE_URL", url)
    code, _, err = run("ask", "hi")  # no key: stops before any connection
    assert code == EXIT_AUTH
    assert err.count("unencrypted") == (1 if warned else 0), err
    if warned:
        assert "warning: base_url" in err and "use https://" in err


def test_demo_does_not_warn_about_the_configured_url(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANYFAST_BASE_URL", "http://gateway.example")
    code, _, err = run("ask", "--demo", "-q", "hi [[emulator: tokens=2; rate=0]]")
    assert code == EXIT_OK and err == ""


# --- 7. a key file others may read -------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_readable_key_file_warns_on_every_command(
    run: Run, emulator: EmulatorServer, isolated_home: Path
) -> None:
    code, _, _ = run("config", "set", "api_key", emulator.api_key)
    assert code == EXIT_OK
    run("config", "set", "base_url", emulator.base_url)
    _, out, _ = run("config", "path")
    path = Path(out.strip())
    path.chmod(0o644)
    for argv in (["ask", "-q", "hi [[emulator: tokens=2]]"], ["models"], ["config", "show"]):
        code, _, err = run(*argv)
        assert code == EXIT_OK, err
        lines = [line for line in err.splitlines() if "chmod" in line]
        assert lines == [
            f"studio: warning: {path} holds the API key but other users may access it "
            f"(mode 0644); run: chmod 600 {path}"
        ], (argv, err)
    path.chmod(0o600)
    code, _, err = run("models")
    assert code == EXIT_OK and err == ""
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_closed_pipe_is_quiet_with_the_demo_emulator_too() -> None:
    """The in-process demo emulator stops writing once the reader has gone: asyncio would log
    a line for every write to the dead socket."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", "ask", "--demo", "hi [[emulator: tokens=20000; rate=0]]"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == EXIT_FAILED
    assert err == ""
