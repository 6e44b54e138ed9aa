"""Where media goes is decided once, absolutely, and `studio config show` says where it is."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from studio import paths
from studio.config import Settings, load_settings, toml_value
from studio.jobs.config import EngineConfig


@pytest.fixture
def elsewhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A working directory of its own, with no STUDIO_* variables."""
    monkeypatch.delenv("STUDIO_CONFIG", raising=False)
    monkeypatch.delenv("STUDIO_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_relative_studio_home_is_made_absolute_where_it_is_read(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_HOME", "rel/../home")
    assert paths.data_dir() == elsewhere / "home" / "data"
    assert paths.media_dir().is_absolute()
    assert paths.media_dir() == elsewhere / "home" / "data" / "media"
    assert paths.database_file() == elsewhere / "home" / "data" / "studio.db"
    monkeypatch.setenv("STUDIO_CONFIG", "my.toml")
    assert paths.config_file() == elsewhere / "my.toml"


def test_a_relative_media_dir_setting_is_made_absolute(elsewhere: Path) -> None:
    assert paths.media_dir("out/media") == elsewhere / "out" / "media"


def test_relative_xdg_locations_are_made_absolute(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "xdg-data")
    assert paths.data_dir().is_absolute()


def test_the_engine_records_absolute_paths_whatever_it_is_given(elsewhere: Path) -> None:
    config = EngineConfig(media_dir=Path("media"))
    assert config.media_dir == elsewhere / "media"
    assert config.scaled(0.1).media_dir == elsewhere / "media"
    settings = Settings(media_dir="rel")
    assert EngineConfig.from_settings(settings).media_dir == elsewhere / "rel"
    assert EngineConfig.demo(Path("demo")).media_dir == elsewhere / "demo"


def test_settings_say_what_media_dir_amounts_to_and_where_each_came_from(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_HOME", "h")
    monkeypatch.setenv("ANYFAST_BASE_URL", "http://127.0.0.1:9")
    config = elsewhere / "c.toml"
    config.write_text('theme = "nord"\n')
    settings = load_settings(config)
    assert settings.media_dir is None
    assert settings.effective("media_dir") == str(elsewhere / "h" / "data" / "media")
    assert settings.origin("media_dir") == "default"
    assert settings.origin("theme") == "config file"
    assert settings.origin("base_url") == "from ANYFAST_BASE_URL"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ('a "quoted" name', '"a \\"quoted\\" name"'),
        (True, "true"),
        (2, "2"),
        (600.0, "600.0"),
        (["a", "b"], '["a", "b"]'),
        ({}, "{}"),
        ({"main.regenerate": "f5"}, '{ "main.regenerate" = "f5" }'),
    ],
)
def test_values_are_shown_as_the_file_writes_them(value: object, text: str) -> None:
    assert toml_value(value) == text
    assert tomllib.loads(f"v = {text}")["v"] == value


def test_config_show_prints_the_media_folder_not_none(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "ANYFAST_"))}
    env["STUDIO_HOME"] = "relative-home"
    result = subprocess.run(
        [sys.executable, "-m", "studio", "config", "show"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = {line.split("=", 1)[0].strip(): line for line in result.stdout.splitlines()}
    folder = tmp_path / "relative-home" / "data" / "media"
    assert lines["media_dir"].split("=", 1)[1].strip() == f'"{folder}"  # default'
    assert "None" not in result.stdout
    assert lines["bell"].split("=", 1)[1].strip() == "true  # default"
    # An optional setting nobody set: "(not set)", never a crash (TOML has no null).
    assert lines["notify_command"].split("=", 1)[1].strip() == "(not set)  # default"
