"""`studio doctor` as a user runs it: a real process, the real emulator, real broken files."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from studio import paths
from studio.emulator import EmulatorServer
from studio.store import Store, check_database, schema
from tests.bad_stores import side_files, write_damaged, write_not_a_database, write_too_new

NAMES = ["config", "key", "gateway", "store", "media"]


def doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "studio", "doctor", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def report(result: subprocess.CompletedProcess[str]) -> dict[str, tuple[str, str]]:
    """``{check: (status, detail)}`` from the output; one line per check, in order."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == NAMES, result.stdout
    parsed = {}
    for line in lines:
        name, status, detail = line.split(None, 2)
        parsed[name] = (status, detail)
    return parsed


def against(emulator: EmulatorServer, key: str | None = None) -> dict[str, str]:
    return {"ANYFAST_API_KEY": key or emulator.api_key, "ANYFAST_BASE_URL": emulator.base_url}


def test_demo_on_a_fresh_install_is_all_ok_and_creates_nothing() -> None:
    result = doctor("--demo")
    assert result.returncode == 0, result.stdout + result.stderr
    checks = report(result)
    assert all(status == "ok" for status, _ in checks.values())
    assert "built-in emulator" in checks["key"][1]
    assert "the built-in emulator answered GET /v1/models" in checks["gateway"][1]
    assert "not created yet" in checks["store"][1]
    assert "not created yet" in checks["media"][1]
    assert not paths.data_dir().exists() and not paths.config_file().exists()


def test_a_healthy_store_against_the_real_gateway(emulator: EmulatorServer) -> None:
    db = paths.database_file()
    with Store.open(db) as store:
        store.create_conversation(title="one")
        store.create_conversation(title="two")
    paths.media_dir().mkdir()
    before = db.read_bytes()
    result = doctor(env=against(emulator))
    assert result.returncode == 0, result.stdout + result.stderr
    checks = report(result)
    assert checks["key"] == ("ok", f"sk-…{emulator.api_key[-4:]} (from ANYFAST_API_KEY)")
    assert checks["gateway"][1].startswith(f"{emulator.base_url} answered GET /v1/models in")
    assert checks["store"] == (
        "ok",
        f"{db}: quick_check ok, schema version {schema.latest_version()}, 2 conversations",
    )
    assert checks["media"] == ("ok", f"{paths.media_dir()} (writable)")
    assert db.read_bytes() == before and side_files(db) == []
    assert list(paths.media_dir().iterdir()) == []  # the probe file is gone again


def test_a_refused_key(emulator: EmulatorServer) -> None:
    result = doctor(env=against(emulator, key="sk-wrong-0123456789"))
    assert result.returncode == 1
    status, detail = report(result)["gateway"]
    assert status == "problem"
    assert "refused the key" in detail and "studio config set api_key -" in detail


def test_an_unreachable_gateway_is_reported_within_the_timeout() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"ANYFAST_API_KEY": "sk-test-0123456789", "ANYFAST_BASE_URL": f"http://127.0.0.1:{port}"}
    result = doctor("--timeout", "2", env=env)
    assert result.returncode == 1
    status, detail = report(result)["gateway"]
    assert status == "problem" and f"http://127.0.0.1:{port}" in detail


def test_no_key() -> None:
    result = doctor()
    assert result.returncode == 1
    checks = report(result)
    assert checks["key"][0] == "problem"
    assert "studio config set api_key -" in checks["key"][1] and "--demo" in checks["key"][1]
    assert checks["gateway"] == ("skipped", "not checked: no API key (see above)")
    assert checks["store"][0] == checks["media"][0] == "ok"


def test_a_config_file_that_others_can_read_while_it_holds_the_key() -> None:
    config = paths.config_file()
    config.parent.mkdir(parents=True)
    config.write_text('api_key = "sk-in-the-file-0123456789"\n')
    config.chmod(0o644)
    result = doctor("--demo")
    assert result.returncode == 1
    status, detail = report(result)["config"]
    assert status == "problem" and f"chmod 600 {config}" in detail


def test_a_config_file_that_does_not_load() -> None:
    config = paths.config_file()
    config.parent.mkdir(parents=True)
    config.write_text("api_key = = broken\n")
    result = doctor()
    assert result.returncode == 1
    checks = report(result)
    assert checks["config"][0] == "problem" and str(config) in checks["config"][1]
    assert checks["key"][0] == "skipped" and checks["gateway"][0] == "skipped"


@pytest.mark.parametrize("case", ["not_a_database", "damaged", "too_new", "unwritable"])
def test_a_broken_store_is_one_problem_line_and_stays_as_it_was(case: str) -> None:
    db = paths.database_file()
    db.parent.mkdir(parents=True)
    watched = db
    if case == "not_a_database":
        before = write_not_a_database(db)
    elif case == "damaged":  # a middle page: only quick_check finds it, opening does not
        before = write_damaged(db).data
        Store.open(db).close()
        assert db.read_bytes() == before
    elif case == "too_new":
        before = write_too_new(db)
    else:
        db.parent.rmdir()
        db.parent.write_bytes(b"a file where the data folder goes")
        watched, before = db.parent, db.parent.read_bytes()
    result = doctor("--demo")
    assert result.returncode == 1
    checks = report(result)
    status, detail = checks["store"]
    assert status == "problem"
    problem = check_database(db).problem
    assert problem is not None and detail == str(problem)
    assert str(db) in detail
    assert checks["gateway"][0] == "ok" and checks["key"][0] == "ok"
    assert watched.read_bytes() == before
    if case != "unwritable":
        assert side_files(db) == []


def test_a_media_folder_that_cannot_be_made(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    config = paths.config_file()
    config.parent.mkdir(parents=True)
    config.write_text(f'media_dir = "{blocker / "media"}"\n')
    result = doctor("--demo")
    assert result.returncode == 1
    status, detail = report(result)["media"]
    assert status == "problem"
    assert f"{blocker} is a file where the media folder" in detail and "media_dir" in detail


def test_doctor_never_imports_textual() -> None:
    code = (
        "import sys\n"
        "from studio.cli import main\n"
        "code = main(['doctor', '--demo'])\n"
        "print('textual' in sys.modules, code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.splitlines()[-1] == "False 0"
