"""Settings: TOML reading and validation, environment overrides, atomic 0600 writes, key masking."""

from __future__ import annotations

import dataclasses
import os
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio import config, paths
from studio.config import ConfigError, Settings, load_settings, save_settings

KEY = "sk-abcdefghijklmnopqrstuvwxyz1234"
NO_ENV: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "studio-root"))
    monkeypatch.delenv("STUDIO_CONFIG", raising=False)
    for variable in config.ENV_OVERRIDES:
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    return tmp_path / "conf" / "config.toml"


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- reading ----------------------------------------------------------------------------------


def test_missing_file_gives_defaults(cfg: Path) -> None:
    s = load_settings(cfg, NO_ENV)
    assert s == Settings()
    assert s.base_url == "https://www.anyfast.ai"
    assert s.default_model == "claude-sonnet-4-5-20250929"
    assert s.image_model == "doubao-seedream-4-5-251128"
    assert s.video_model == "seedance-2.0"
    assert (s.clipboard, s.theme, s.bell, s.media_dir) == ("auto", "studio-dark", True, None)
    assert (s.max_retries, s.request_timeout) == (2, 600.0)
    assert (s.stream_idle_timeout, s.stream_stall_timeout, s.job_deadline_minutes) == (120, 300, 30)
    assert s.api_key is None
    assert s.api_key_source is None
    assert s.config_path == cfg
    assert s.warnings == ()


def test_default_path_comes_from_studio_home(tmp_path: Path) -> None:
    write(tmp_path / "studio-root" / "config" / "config.toml", 'theme = "nord"\n')
    assert load_settings().theme == "nord"


def test_studio_config_env_selects_the_file(tmp_path: Path) -> None:
    other = write(tmp_path / "other.toml", "bell = false\n")
    assert load_settings(env={"STUDIO_CONFIG": str(other)}).bell is False


def test_every_setting_is_read(cfg: Path) -> None:
    write(
        cfg,
        f"""
api_key = "{KEY}"
base_url = "http://127.0.0.1:8080/"
default_model = "gpt-4o"
favourite_models = ["gpt-4o", "claude-opus-4-6", "gpt-4o"]
image_model = "doubao-seedream-5-0-260128"
video_model = "seedance-fast"
clipboard = "osc52"
theme = "nord"
bell = false
media_dir = "~/Videos/studio"
max_retries = 0
request_timeout = 30
stream_idle_timeout = 12.5
stream_stall_timeout = 60
job_deadline_minutes = 90
""",
    )
    s = load_settings(cfg, NO_ENV)
    assert s.api_key == KEY
    assert s.api_key_source == "config"
    assert s.base_url == "http://127.0.0.1:8080"
    assert s.favourite_models == ["gpt-4o", "claude-opus-4-6"]  # duplicates dropped
    assert (s.image_model, s.video_model, s.clipboard, s.theme) == (
        "doubao-seedream-5-0-260128",
        "seedance-fast",
        "osc52",
        "nord",
    )
    assert (s.bell, s.media_dir, s.max_retries) == (False, "~/Videos/studio", 0)
    assert s.request_timeout == 30.0
    assert isinstance(s.request_timeout, float)
    assert (s.stream_idle_timeout, s.stream_stall_timeout, s.job_deadline_minutes) == (12.5, 60, 90)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.anyfast.ai/", "https://www.anyfast.ai"),
        ("https://www.anyfast.ai/v1", "https://www.anyfast.ai"),
        ("https://www.anyfast.ai/v1/", "https://www.anyfast.ai"),
        ("  http://localhost:9000  ", "http://localhost:9000"),
        ("https://proxy.example/anyfast", "https://proxy.example/anyfast"),
    ],
)
def test_base_url_is_normalised(cfg: Path, raw: str, expected: str) -> None:
    write(cfg, f'base_url = "{raw}"\n')
    assert load_settings(cfg, NO_ENV).base_url == expected


def test_unknown_keys_are_ignored_and_reported(cfg: Path) -> None:
    write(cfg, 'defualt_model = "gpt-4o"\nzzz = 1\n[extra]\nx = 1\n')
    s = load_settings(cfg, NO_ENV)
    assert s.default_model == Settings().default_model
    assert len(s.warnings) == 3
    assert "'defualt_model'" in s.warnings[0]
    assert "did you mean 'default_model'" in s.warnings[0]
    assert all(str(cfg) in w and "ignored" in w for w in s.warnings)


def test_empty_optional_strings_mean_unset(cfg: Path) -> None:
    write(cfg, 'api_key = "  "\nmedia_dir = ""\n')
    s = load_settings(cfg, NO_ENV)
    assert s.api_key is None
    assert s.media_dir is None
    assert s.api_key_source is None


@pytest.mark.parametrize(
    ("line", "key", "expected"),
    [
        ('clipboard = "x"', "clipboard", "one of auto, osc52, native, off"),
        ("max_retries = -1", "max_retries", "a whole number from 0 to 10"),
        ("max_retries = 11", "max_retries", "a whole number from 0 to 10"),
        ("max_retries = true", "max_retries", "whole number"),
        ("max_retries = 1.5", "max_retries", "whole number"),
        ('base_url = "www.anyfast.ai"', "base_url", "an http:// or https:// URL"),
        ('base_url = "ftp://anyfast.ai"', "base_url", "an http:// or https:// URL"),
        ('base_url = "https://"', "base_url", "an http:// or https:// URL"),
        ("base_url = 5", "base_url", "URL"),
        ("request_timeout = 0", "request_timeout", "greater than 0"),
        ('request_timeout = "10"', "request_timeout", "seconds"),
        ("stream_idle_timeout = nan", "stream_idle_timeout", "greater than 0"),
        ("stream_stall_timeout = inf", "stream_stall_timeout", "greater than 0"),
        ("job_deadline_minutes = 0", "job_deadline_minutes", "minutes greater than 0"),
        ('favourite_models = "gpt-4o"', "favourite_models", "a list of model names"),
        ('favourite_models = ["a", ""]', "favourite_models", "a list of model names"),
        ('bell = "yes"', "bell", "true or false"),
        ('theme = ""', "theme", "a non-empty theme name"),
        ("default_model = 3", "default_model", "model name"),
        ("media_dir = false", "media_dir", "a directory path"),
    ],
)
def test_invalid_values_raise_one_clear_line(cfg: Path, line: str, key: str, expected: str) -> None:
    write(cfg, line + "\n")
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, NO_ENV)
    message = str(info.value)
    assert message.startswith(f"{cfg}: {key}: expected ")
    assert expected in message
    assert "got " in message
    assert "\n" not in message
    assert info.value.path == cfg


@pytest.mark.parametrize("bad", [f"{KEY} trailing", f"{KEY}\\u0007"])
def test_invalid_api_key_is_never_echoed(cfg: Path, bad: str) -> None:
    write(cfg, f'api_key = "{bad}"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, NO_ENV)
    assert "api_key" in str(info.value)
    assert KEY not in str(info.value)
    assert KEY[3:] not in str(info.value)


def test_corrupt_toml_names_file_and_position(cfg: Path) -> None:
    write(cfg, 'theme = "nord"\nbell = = true\n')
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, NO_ENV)
    message = str(info.value)
    assert message.startswith(f"{cfg}: not valid TOML")
    assert "line 2" in message
    assert "column" in message
    assert info.value.path == cfg
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_non_utf8_file(cfg: Path) -> None:
    cfg.parent.mkdir(parents=True)
    cfg.write_bytes(b'theme = "\xff\xfe"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(cfg, NO_ENV)


def test_utf8_bom_is_accepted(cfg: Path) -> None:
    cfg.parent.mkdir(parents=True)
    cfg.write_bytes(b'\xef\xbb\xbftheme = "nord"\n')
    assert load_settings(cfg, NO_ENV).theme == "nord"


def test_directory_instead_of_file(cfg: Path) -> None:
    cfg.mkdir(parents=True)
    with pytest.raises(ConfigError, match="is a directory"):
        load_settings(cfg, NO_ENV)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(cfg: Path) -> None:
    write(cfg, 'theme = "x"\n').chmod(0)
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(cfg, NO_ENV)


def test_permission_denied_even_as_root(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(cfg, 'theme = "x"\n')

    real_open = os.open

    def denied(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if Path(path) == cfg:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(ConfigError, match="cannot read the file: Permission denied"):
        load_settings(cfg, NO_ENV)


def test_world_readable_file_with_key_warns(cfg: Path) -> None:
    write(cfg, f'api_key = "{KEY}"\n').chmod(0o644)
    warnings = load_settings(cfg, NO_ENV).warnings
    assert warnings == (
        f"{cfg} holds the API key but other users may access it (mode 0644); run: chmod 600 {cfg}",
    )
    cfg.chmod(0o600)
    assert load_settings(cfg, NO_ENV).warnings == ()


# --- environment ------------------------------------------------------------------------------


def test_env_overrides_the_file(cfg: Path) -> None:
    write(cfg, f'api_key = "{KEY}"\nbase_url = "https://a.example"\ndefault_model = "m1"\n')
    env = {
        "ANYFAST_API_KEY": " sk-from-the-environment-9999\n",
        "ANYFAST_BASE_URL": "http://127.0.0.1:1234/v1",
        "STUDIO_DEFAULT_MODEL": "gpt-4o",
    }
    s = load_settings(cfg, env)
    assert s.api_key == "sk-from-the-environment-9999"
    assert s.api_key_source == "env"
    assert s.base_url == "http://127.0.0.1:1234"
    assert s.default_model == "gpt-4o"
    assert set(s.from_env) == {"api_key", "base_url", "default_model"}


def test_env_from_os_environ_by_default(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYFAST_API_KEY", KEY)
    s = load_settings(cfg)
    assert (s.api_key, s.api_key_source) == (KEY, "env")


def test_empty_env_values_are_ignored(cfg: Path) -> None:
    write(cfg, f'api_key = "{KEY}"\n')
    s = load_settings(cfg, {"ANYFAST_API_KEY": "", "ANYFAST_BASE_URL": "  "})
    assert (s.api_key, s.api_key_source) == (KEY, "config")
    assert s.from_env == {}


def test_invalid_env_value_names_the_variable(cfg: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, {"ANYFAST_BASE_URL": "anyfast.ai"})
    assert "environment variable ANYFAST_BASE_URL: base_url: expected" in str(info.value)


# --- masking ----------------------------------------------------------------------------------


def test_masked_key_forms() -> None:
    assert config.masked_key(None) == "(not set)"
    assert config.masked_key("") == "(not set)"
    assert config.masked_key(KEY) == "sk-…1234"
    assert config.masked_key("sk-short") == "…(hidden)"


def test_no_string_form_contains_the_key() -> None:
    s = Settings(api_key=KEY, api_key_source="env")
    for text in (repr(s), str(s), f"{s}", f"{s!r}", repr([s]), str(s.as_display_dict())):
        assert KEY not in text
        assert KEY[3:-4] not in text
    assert "api_key='sk-…1234'" in repr(s)
    assert s.masked_key() == "sk-…1234"


def test_as_display_dict_lists_every_setting_with_key_origin(cfg: Path) -> None:
    write(cfg, f'api_key = "{KEY}"\n')
    shown = load_settings(cfg, NO_ENV).as_display_dict()
    assert list(shown) == list(config.SETTING_NAMES)
    assert shown["api_key"] == "sk-…1234 (from the config file)"
    assert Settings().as_display_dict()["api_key"] == "(not set)"
    from_env = load_settings(cfg, {"ANYFAST_API_KEY": KEY}).as_display_dict()
    assert from_env["api_key"].endswith("(from ANYFAST_API_KEY)")


def test_every_setting_is_documented() -> None:
    settable = [f.name for f in dataclasses.fields(Settings)][: len(config.SETTING_NAMES)]
    assert settable == list(config.SETTING_NAMES)
    described = config.describe_settings()
    assert [name for name, _, _ in described] == settable
    assert all(help_text.endswith(".") for _, _, help_text in described)
    assert dict((n, d) for n, d, _ in described)["max_retries"] == 2


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().theme = "x"  # type: ignore[misc]


# --- writing ----------------------------------------------------------------------------------


def test_round_trip(cfg: Path) -> None:
    original = Settings(
        api_key=KEY,
        favourite_models=["a", "b"],
        clipboard="off",
        bell=False,
        media_dir="/srv/media",
        max_retries=5,
        stream_stall_timeout=42.5,
    )
    assert save_settings(original, cfg) == cfg
    loaded = load_settings(cfg, NO_ENV)
    assert loaded == original
    assert loaded.api_key_source == "config"


def test_only_non_default_values_are_written(cfg: Path) -> None:
    save_settings(Settings(theme="nord"), cfg)
    assert tomllib.loads(cfg.read_text()) == {"theme": "nord"}


@pytest.mark.usefixtures("open_umask")
def test_file_is_0600_and_new_dirs_0700_even_with_open_umask(
    cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real_replace = os.replace

    def spying_replace(src: Any, dst: Any) -> None:
        seen.append(mode(Path(src)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spying_replace)
    save_settings({"theme": "nord"}, cfg)
    assert seen == [0o600]  # the temporary file was private before it got its name
    assert mode(cfg) == 0o600
    assert mode(cfg.parent) == 0o700
    assert [p.name for p in cfg.parent.iterdir()] == ["config.toml"]  # no temp file left


def test_rewrite_fixes_a_loose_mode(cfg: Path) -> None:
    write(cfg, 'theme = "a"\n').chmod(0o644)
    save_settings({"theme": "b"}, cfg)
    assert mode(cfg) == 0o600


def test_failed_write_leaves_old_file_and_no_temp(
    cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(cfg, 'theme = "old"\n')

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ConfigError, match="cannot write the file: No space left"):
        save_settings({"theme": "new"}, cfg)
    assert cfg.read_text() == 'theme = "old"\n'
    assert [p.name for p in cfg.parent.iterdir()] == ["config.toml"]


def test_unknown_keys_in_the_file_survive_a_save(cfg: Path) -> None:
    write(cfg, 'custom = "keep me"\n[section]\nx = 1\n')
    save_settings({"bell": False}, cfg)
    assert tomllib.loads(cfg.read_text()) == {
        "custom": "keep me",
        "section": {"x": 1},
        "bell": False,
    }


def test_env_values_are_not_written_back(cfg: Path) -> None:
    write(cfg, 'api_key = "sk-the-one-in-the-file-0000"\n')
    env = {"ANYFAST_API_KEY": KEY, "ANYFAST_BASE_URL": "http://127.0.0.1:9"}
    s = load_settings(cfg, env)
    save_settings(dataclasses.replace(s, theme="nord"))  # back to the file it came from
    assert tomllib.loads(cfg.read_text()) == {
        "api_key": "sk-the-one-in-the-file-0000",
        "theme": "nord",
    }


def test_explicitly_changed_env_value_is_written(cfg: Path) -> None:
    s = load_settings(cfg, {"ANYFAST_BASE_URL": "http://127.0.0.1:9"})
    save_settings(dataclasses.replace(s, base_url="https://other.example"), cfg)
    assert tomllib.loads(cfg.read_text()) == {"base_url": "https://other.example"}


def test_mapping_changes_and_none_removes(cfg: Path) -> None:
    write(cfg, 'theme = "nord"\nmedia_dir = "/m"\n')
    save_settings({"media_dir": None, "max_retries": 4}, cfg)
    assert tomllib.loads(cfg.read_text()) == {"theme": "nord", "max_retries": 4}


def test_invalid_changes_are_refused_and_file_untouched(cfg: Path) -> None:
    write(cfg, 'theme = "nord"\n')
    with pytest.raises(ConfigError, match="max_retries: expected"):
        save_settings({"max_retries": -3}, cfg)
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        save_settings({"colour": "red"}, cfg)
    assert cfg.read_text() == 'theme = "nord"\n'


def test_save_refuses_to_clobber_a_corrupt_file(cfg: Path) -> None:
    write(cfg, "this is = = not toml\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        save_settings({"theme": "x"}, cfg)
    assert cfg.read_text() == "this is = = not toml\n"


def test_save_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = write(tmp_path / "dotfiles" / "studio.toml", 'theme = "a"\n')
    link = tmp_path / "conf" / "config.toml"
    link.parent.mkdir()
    link.symlink_to(real)
    save_settings({"theme": "b"}, link)
    assert link.is_symlink()
    assert tomllib.loads(real.read_text()) == {"theme": "b"}


def test_impossible_location_is_a_config_error(tmp_path: Path) -> None:
    blocker = write(tmp_path / "file", "")
    with pytest.raises(ConfigError, match="Not a directory") as info:
        save_settings({"theme": "x"}, blocker / "config.toml")
    assert info.value.path == blocker / "config.toml"


def test_directory_that_cannot_be_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: Any) -> Path:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(paths, "ensure_dir", refuse)
    with pytest.raises(ConfigError, match="cannot write the file: Permission denied"):
        save_settings({"theme": "x"}, tmp_path / "new" / "config.toml")


# --- set / unset ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "raw", "value"),
    [
        ("bell", "off", False),
        ("bell", "Yes", True),
        ("max_retries", " 3 ", 3),
        ("request_timeout", "1.5", 1.5),
        ("job_deadline_minutes", "45", 45),
        ("favourite_models", "gpt-4o, claude-opus-4-6 ,gpt-4o,", ["gpt-4o", "claude-opus-4-6"]),
        ("clipboard", "native", "native"),
        ("base_url", "https://x.example/v1/", "https://x.example"),
        ("api_key", KEY, KEY),
        ("media_dir", "~/media", "~/media"),
    ],
)
def test_set_value_parses_and_saves(cfg: Path, key: str, raw: str, value: Any) -> None:
    assert config.set_value(key, raw, cfg) == value
    assert tomllib.loads(cfg.read_text())[key] == value
    assert getattr(load_settings(cfg, NO_ENV), key) == value


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("max_retries", "many", "expected a whole number from 0 to 10, got 'many'"),
        ("max_retries", "2.5", "expected a whole number"),
        ("bell", "perhaps", "expected true or false, got 'perhaps'"),
        ("request_timeout", "-1", "greater than 0"),
        ("clipboard", "x", "one of auto, osc52, native, off"),
        ("default_model", "", "a non-empty model name"),
    ],
)
def test_set_value_rejects_bad_input(cfg: Path, key: str, raw: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        config.set_value(key, raw, cfg)
    assert not cfg.exists()


def test_set_value_unknown_key_suggests(cfg: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean 'max_retries'"):
        config.set_value("max_retry", "3", cfg)


def test_set_empty_clears_optional_setting(cfg: Path) -> None:
    config.set_value("api_key", KEY, cfg)
    assert config.set_value("api_key", "", cfg) is None
    assert "api_key" not in tomllib.loads(cfg.read_text())


def test_set_value_uses_the_default_config_file(tmp_path: Path) -> None:
    config.set_value("theme", "nord")
    assert (tmp_path / "studio-root" / "config" / "config.toml").exists()
    assert load_settings().theme == "nord"


def test_unset_value(cfg: Path) -> None:
    write(cfg, 'theme = "nord"\ntypo_key = 1\n')
    assert config.unset_value("theme", cfg) is True
    assert config.unset_value("theme", cfg) is False
    assert config.unset_value("typo_key", cfg) is True  # unknown keys present may be removed
    assert tomllib.loads(cfg.read_text()) == {}
    with pytest.raises(ConfigError, match="unknown setting 'nope'"):
        config.unset_value("nope", cfg)


# --- properties -------------------------------------------------------------------------------

_names = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=30
)


@settings(max_examples=60, deadline=None)
@given(
    default_model=_names,
    favourites=st.lists(_names, max_size=5, unique=True),
    retries=st.integers(0, 10),
    timeout=st.floats(min_value=0.001, max_value=1e6, allow_nan=False),
    bell=st.booleans(),
)
def test_any_valid_settings_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    default_model: str,
    favourites: list[str],
    retries: int,
    timeout: float,
    bell: bool,
) -> None:
    path = tmp_path_factory.mktemp("prop") / "config.toml"
    original = Settings(
        default_model=default_model,
        favourite_models=favourites,
        max_retries=retries,
        request_timeout=timeout,
        bell=bell,
    )
    save_settings(original, path)
    assert load_settings(path, NO_ENV) == original


def test_keymap_table_is_read_and_validated(tmp_path: Path) -> None:
    config = tmp_path / "keys.toml"
    config.write_text('[keymap]\n"main.regenerate" = "f5, ctrl+g"\n')
    settings = load_settings(config, env={})
    assert settings.keymap == {"main.regenerate": "f5,ctrl+g"}
    config.write_text('[keymap]\n"main.regenerate" = 5\n')
    with pytest.raises(ConfigError, match="keymap"):
        load_settings(config, env={})


# --- base URL ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://bücher.example", "https://bücher.example"),
        ("http://[::1]:8080/v1", "http://[::1]:8080"),
        ("HTTPS://Gateway.Example:8443/anyfast/", "https://Gateway.Example:8443/anyfast"),
        ("http://gw_internal:80", "http://gw_internal:80"),
    ],
)
def test_unusual_but_valid_base_urls(cfg: Path, raw: str, expected: str) -> None:
    write(cfg, f'base_url = "{raw}"\n')
    assert load_settings(cfg, NO_ENV).base_url == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("https://gw.example/?token=SECRET1", "query string"),
        ("https://gw.example/?", "query string"),
        ("https://gw.example/v1#SECRET1", "fragment"),
        ("https://bob:SECRET1@gw.example", "user name or password"),
        ("https://SECRET1@gw.example/", "user name or password"),
        ("https://:SECRET1@gw.example/", "user name or password"),
        ("http://127.0.0.1:99999", "port is not a number from 1 to 65535"),
        ("http://127.0.0.1:http", "port is not a number from 1 to 65535"),
        ("http://127.0.0.1:0", "port is not a number from 1 to 65535"),
        ("http://gw .example", "spaces"),
        ("http://gw.example/\\u0007", "control characters"),
        ("http://-gw.example", "host name '-gw.example' is not valid"),
        ("http://gw..example", "is not valid"),
        ("http://[::1", "cannot be read"),
    ],
)
def test_bad_base_url_is_refused_with_its_reason_and_no_secret(
    cfg: Path, raw: str, reason: str
) -> None:
    write(cfg, f'base_url = "{raw}"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, NO_ENV)
    message = str(info.value)
    assert message.startswith(f"{cfg}: base_url: ") and reason in message
    assert "SECRET1" not in message and "\n" not in message
    other = cfg.with_name("other.toml")
    with pytest.raises(ConfigError) as info:
        config.set_value("base_url", raw.replace("\\u0007", "\x07"), other)
    assert reason in str(info.value) and "SECRET1" not in str(info.value)
    assert not other.exists()  # nothing saved


def test_bad_base_url_from_the_environment(cfg: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, {"ANYFAST_BASE_URL": "https://u:SECRET1@gw.example"})
    assert "environment variable ANYFAST_BASE_URL: base_url: the URL holds a user name" in str(
        info.value
    )
    assert "SECRET1" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://gw.example", True),
        ("http://192.168.1.10:8000", True),
        ("https://gw.example", False),
        ("http://localhost:8000", False),
        ("http://app.localhost", False),
        ("http://127.9.9.9", False),
        ("http://[::1]:8000", False),
    ],
)
def test_plain_http_to_another_machine_is_a_warning(cfg: Path, url: str, warned: bool) -> None:
    settings = load_settings(cfg, {"ANYFAST_BASE_URL": url})
    found = [w for w in settings.warnings if "unencrypted" in w]
    assert len(found) == (1 if warned else 0)
    assert config.plain_http_warning(settings.base_url) == (found[0] if warned else None)


# --- a config path that is not a small regular file -------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_fifo_is_refused_without_blocking(cfg: Path) -> None:
    import threading

    cfg.parent.mkdir(parents=True)
    os.mkfifo(cfg)
    outcome: list[BaseException | Settings] = []

    def load() -> None:
        try:
            outcome.append(load_settings(cfg, NO_ENV))
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=10)
    if worker.is_alive():  # a regression: release the reader, then fail
        os.close(os.open(cfg, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=5)
        pytest.fail("reading a FIFO as the config file blocked")
    assert isinstance(outcome[0], ConfigError)
    assert str(outcome[0]) == f"{cfg}: is a named pipe (FIFO), expected a TOML file"
    with pytest.raises(ConfigError, match="named pipe"):
        config.set_value("theme", "x", cfg)


def test_oversized_file_is_refused(cfg: Path) -> None:
    cfg.parent.mkdir(parents=True)
    with cfg.open("wb") as handle:
        handle.truncate(config.MAX_CONFIG_BYTES + 1)  # sparse
    with pytest.raises(ConfigError, match=r"too big for a settings file \(1\.0 MiB; the limit"):
        load_settings(cfg, NO_ENV)
    cfg.write_bytes(b"# " + b"x" * (config.MAX_CONFIG_BYTES - 3) + b"\n")
    assert load_settings(cfg, NO_ENV) == Settings()  # exactly the limit is fine


def test_symlink_to_a_device_names_both(cfg: Path) -> None:
    cfg.parent.mkdir(parents=True)
    cfg.symlink_to(os.devnull)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, NO_ENV)
    assert str(info.value) == f"{cfg}: is a character device ({os.devnull}), expected a TOML file"


# --- values that cannot be written or sent ------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("default_model", "gpt\udcff"),  # a non-UTF-8 byte from the command line
        ("default_model", "gpt\x1b[2J"),
        ("theme", "dark\x00"),
        ("media_dir", "/tmp/\udce9"),
    ],
)
def test_text_with_controls_or_undecodable_bytes_is_refused(cfg: Path, key: str, raw: str) -> None:
    with pytest.raises(ConfigError, match="control characters or bytes that are not UTF-8"):
        config.set_value(key, raw, cfg)
    assert not cfg.exists()


@pytest.mark.parametrize("raw", ["sk-ключ-0123456789", "sk-abc\udcff0123456789"])
def test_api_key_must_be_printable_ascii(cfg: Path, raw: str) -> None:
    with pytest.raises(ConfigError) as info:
        config.set_value("api_key", raw, cfg)
    assert "printable ASCII" in str(info.value) and "0123456789" not in str(info.value)
