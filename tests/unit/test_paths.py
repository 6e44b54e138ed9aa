"""XDG locations, the STUDIO_HOME / STUDIO_CONFIG overrides and lazy 0o700 directories."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio import paths

ALL_DIRS = (paths.config_dir, paths.data_dir, paths.cache_dir, paths.state_dir)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("STUDIO_CONFIG", raising=False)
    monkeypatch.delenv("STUDIO_HOME", raising=False)
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(tmp_path / "xdg" / name.lower()))


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o277)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_studio_home_puts_every_location_under_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "studio-root"))
    home = tmp_path / "studio-root"
    assert paths.config_dir() == home / "config"
    assert paths.config_file() == home / "config" / "config.toml"
    assert paths.data_dir() == home / "data"
    assert paths.cache_dir() == home / "cache"
    assert paths.state_dir() == home / "state"
    assert paths.media_dir() == home / "data" / "media"
    assert paths.database_file() == home / "data" / "studio.db"


def test_studio_home_expands_tilde(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("STUDIO_HOME", "~/studio")
    assert paths.data_dir() == tmp_path / "studio" / "data"


def test_studio_config_overrides_only_the_config_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "studio-root"))
    monkeypatch.setenv("STUDIO_CONFIG", str(tmp_path / "elsewhere.toml"))
    assert paths.config_file() == tmp_path / "elsewhere.toml"
    assert paths.config_dir() == tmp_path / "studio-root" / "config"


def test_empty_overrides_are_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STUDIO_HOME", "")
    monkeypatch.setenv("STUDIO_CONFIG", "  ")
    assert paths.config_file() == tmp_path / "xdg" / "config" / "anyfast-studio" / "config.toml"


@pytest.mark.skipif(sys.platform != "linux", reason="XDG variables apply on Linux")
def test_platform_defaults_follow_xdg(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    assert paths.config_dir() == xdg / "config" / "anyfast-studio"
    assert paths.data_dir() == xdg / "data" / "anyfast-studio"
    assert paths.cache_dir() == xdg / "cache" / "anyfast-studio"
    assert paths.state_dir() == xdg / "state" / "anyfast-studio"
    assert paths.database_file() == xdg / "data" / "anyfast-studio" / "studio.db"


def test_explicit_env_mapping_wins_over_os_environ(tmp_path: Path) -> None:
    env = {"STUDIO_HOME": str(tmp_path / "h"), "STUDIO_CONFIG": str(tmp_path / "c.toml")}
    assert paths.config_file(env) == tmp_path / "c.toml"
    assert paths.cache_dir(env) == tmp_path / "h" / "cache"
    assert "STUDIO_HOME" not in os.environ


def test_media_dir_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert paths.media_dir("~/Pictures/studio") == tmp_path / "Pictures" / "studio"
    assert paths.media_dir(tmp_path / "m") == tmp_path / "m"
    assert paths.media_dir("") == paths.data_dir() / "media"


def test_location_functions_create_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "studio-root"))
    for location in (*ALL_DIRS, paths.config_file, paths.media_dir, paths.database_file):
        location()
    assert not (tmp_path / "studio-root").exists()
    assert not (tmp_path / "xdg").exists()


@pytest.mark.usefixtures("umask")
def test_ensure_dir_creates_every_missing_level_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "c"
    assert paths.ensure_dir(target) == target
    for directory in (tmp_path / "a", tmp_path / "a" / "b", target):
        assert mode(directory) == 0o700


def test_ensure_dir_leaves_existing_directories_alone(tmp_path: Path) -> None:
    existing = tmp_path / "shared"
    existing.mkdir()
    existing.chmod(0o755)
    paths.ensure_dir(existing / "mine")
    assert mode(existing) == 0o755
    assert mode(existing / "mine") == 0o700
    assert paths.ensure_dir(existing) == existing  # idempotent


def test_ensure_dir_accepts_str_and_expands_tilde(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert paths.ensure_dir("~/x") == tmp_path / "x"
    assert (tmp_path / "x").is_dir()


def test_ensure_dir_refuses_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(NotADirectoryError):
        paths.ensure_dir(blocker)
    with pytest.raises(NotADirectoryError):
        paths.ensure_dir(blocker / "below")


def test_importing_creates_nothing_and_never_imports_textual(tmp_path: Path) -> None:
    home = tmp_path / "studio-root"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "STUDIO_"))}
    env |= {"HOME": str(home), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    code = (
        "import sys, studio.paths, studio.config, studio.api.media\n"
        "assert 'textual' not in sys.modules, 'textual imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert list(home.iterdir()) == []
