"""Which saved settings take effect at once (``studio.tui.settings_apply.in_effect``): a value
an environment variable sets stays, as does the key api_key_command printed; the rest apply."""

from __future__ import annotations

from studio.config import Settings
from studio.tui.settings_apply import in_effect


def test_saved_values_apply_and_are_known_to_come_from_the_file() -> None:
    before = Settings(media_dir="/old", from_file=frozenset({"media_dir"}))
    after, later = in_effect(
        before, {"media_dir": None, "bell": False, "api_key": "sk-new-key-0000"}
    )
    assert (after.media_dir, after.bell, after.api_key) == (None, False, "sk-new-key-0000")
    assert after.api_key_source == "config"
    assert after.origin("bell") == "config file" and after.origin("media_dir") == "default"
    assert later == []


def test_a_value_from_the_environment_stays_in_effect() -> None:
    before = Settings(
        default_model="gpt-4o",
        api_key="sk-env-key-000000",
        api_key_source="env",
        from_env={"default_model": "gpt-4o", "api_key": "sk-env-key-000000"},
    )
    after, later = in_effect(before, {"default_model": "gpt-5", "api_key": "sk-file-key-0000"})
    assert (after.default_model, after.api_key, after.api_key_source) == (
        "gpt-4o",
        "sk-env-key-000000",
        "env",
    )
    assert later == [
        "default_model: STUDIO_DEFAULT_MODEL stays in effect (it wins over the file)",
        "api_key: ANYFAST_API_KEY stays in effect (it wins over the file)",
    ]


def test_the_key_a_command_printed_stays_and_a_new_command_runs_on_the_next_start() -> None:
    before = Settings(api_key="sk-from-command-00", api_key_source="command", api_key_command="a")
    after, later = in_effect(before, {"api_key": "sk-typed-key-0000", "api_key_command": "b"})
    assert (after.api_key, after.api_key_source, after.api_key_command) == (
        "sk-from-command-00",
        "command",
        "b",
    )
    assert len(later) == 2
    assert "api_key_command runs when Studio next starts" in later[1]
