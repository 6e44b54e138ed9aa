"""`studio ask`, `studio models` and `studio config` as a user runs them: real processes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from studio.emulator import EmulatorServer

from .test_client_media import png


def studio(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "studio", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def against(emulator: EmulatorServer) -> dict[str, str]:
    return {"ANYFAST_API_KEY": emulator.api_key, "ANYFAST_BASE_URL": emulator.base_url}


def test_ask_demo_streams_a_reply() -> None:
    result = studio("ask", "--demo", "What is SSE? [[emulator: tokens=30; rate=0]]")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 30
    assert result.stdout.endswith("\n")
    assert "(demo)" in result.stderr and "30 completion tokens" in result.stderr
    assert "Traceback" not in result.stderr


def test_ask_streams_as_it_arrives() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", "ask", "--demo", "hi [[emulator: tokens=200; rate=80]]"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    first = proc.stdout.read1(64).decode()
    still_running = proc.poll() is None
    rest = proc.stdout.read().decode()
    proc.wait(timeout=30)
    assert first
    assert still_running, "the first words arrived only after the whole reply"
    assert proc.returncode == 0
    assert len((first + rest).split()) == 200


def test_ask_reads_piped_stdin_and_system_prompt(emulator: EmulatorServer) -> None:
    result = studio(
        "ask",
        "-s",
        "be brief",
        "-m",
        "gpt-4o-mini",
        "Summarise:",
        stdin="line one\nline two\n",
        env=against(emulator),
    )
    assert result.returncode == 0, result.stderr
    assert "gpt-4o-mini" in result.stderr
    assert "Summarise" in result.stdout  # the emulator quotes the question


def test_ask_sends_a_prompt_that_reads_like_a_job_command(emulator: EmulatorServer) -> None:
    # ``ask`` has no jobs: "/image ..." is a question for the chat model like any other.
    result = studio(
        "ask", "/image of a cat, in words [[emulator: tokens=5]]", env=against(emulator)
    )
    assert result.returncode == 0, result.stderr
    assert "/image of a" in result.stdout  # the emulator quotes the question


def test_ask_with_an_image(tmp_path: Path, emulator: EmulatorServer) -> None:
    image = png(tmp_path / "chart.png", 80, 60)
    result = studio("ask", "-a", str(image), "Describe", env=against(emulator))
    assert result.returncode == 0, result.stderr
    assert "80×60 PNG" in result.stdout


def test_missing_image_is_a_clear_error_before_sending(tmp_path: Path) -> None:
    result = studio("ask", "--demo", "-a", str(tmp_path / "gone.png"), "x")
    assert result.returncode == 2
    assert "gone.png" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_no_key_says_how_to_set_one() -> None:
    result = studio("ask", "hello")
    assert result.returncode == 3
    assert "ANYFAST_API_KEY" in result.stderr and "--demo" in result.stderr


def test_wrong_key_exit_code_and_no_leak(emulator: EmulatorServer) -> None:
    secret = "sk-wrong-0123456789TOPSECRET"
    result = studio(
        "ask", "hello", env={"ANYFAST_API_KEY": secret, "ANYFAST_BASE_URL": emulator.base_url}
    )
    assert result.returncode == 3
    assert "401" in result.stderr and "studio config set api_key" in result.stderr
    assert "TOPSECRET" not in result.stderr + result.stdout


def test_no_prompt_is_a_usage_error() -> None:
    result = studio("ask", "--demo")
    assert result.returncode == 2
    assert "no prompt" in result.stderr


def test_cut_stream_keeps_partial_text_and_fails(emulator: EmulatorServer) -> None:
    result = studio(
        "ask", "hello [[emulator: tokens=50; fault=disconnect:7]]", env=against(emulator)
    )
    assert result.returncode == 1
    assert len(result.stdout.split()) == 7
    assert "cut off" in result.stderr.lower()


def test_dead_gateway_is_one_line(tmp_path: Path) -> None:
    result = studio(
        "ask",
        "hello",
        env={"ANYFAST_API_KEY": "sk-x-0123456789", "ANYFAST_BASE_URL": "http://127.0.0.1:9"},
        timeout=60,
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "Could not reach the gateway" in last and "Traceback" not in result.stderr


def test_corrupt_config_is_a_clear_error(isolated_home: Path) -> None:
    config = Path(os.environ["STUDIO_HOME"]) / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("api_key = 'unterminated\n")
    result = studio("ask", "--demo", "hi")
    assert result.returncode == 2
    assert str(config) in result.stderr and "Traceback" not in result.stderr


def test_config_set_show_and_file_mode() -> None:
    secret = "sk-stored-0123456789abcdWXYZ"
    result = studio("config", "set", "api_key", "-", stdin=secret + "\n")
    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout
    path = Path(studio("config", "path").stdout.strip())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    shown = studio("config", "show")
    assert "sk-…WXYZ" in shown.stdout and secret not in shown.stdout
    bad = studio("config", "set", "max_retries", "-4")
    assert bad.returncode == 2 and "max_retries" in bad.stderr


def test_key_from_config_file_is_used(emulator: EmulatorServer) -> None:
    studio("config", "set", "api_key", emulator.api_key)
    studio("config", "set", "base_url", emulator.base_url)
    result = studio("ask", "hi [[emulator: tokens=5]]")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 5


def test_models_lists_the_catalogue() -> None:
    result = studio("models", "--demo")
    assert result.returncode == 0, result.stderr
    assert "gpt-4o" in result.stdout and "image-generation" in result.stdout


def test_help_and_version_are_fast_and_clean() -> None:
    started = time.monotonic()
    result = studio("--help")
    assert result.returncode == 0
    assert "ask" in result.stdout and "emulator" in result.stdout
    assert time.monotonic() - started < 5
    assert studio("--version").stdout.startswith("studio ")


def test_escape_in_a_reply_never_reaches_the_terminal(emulator: EmulatorServer) -> None:
    # The emulator quotes the question back, so an escape in the prompt comes back in the reply.
    result = studio("ask", "say \x1b]0;pwned\x07 now", env=against(emulator))
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    raw = studio("ask", "--raw", "say \x1b]0;pwned\x07 now", env=against(emulator))
    assert "\x1b" in raw.stdout
