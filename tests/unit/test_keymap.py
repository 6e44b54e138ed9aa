"""The [keymap] check: key syntax, unknown ids, keys bound twice where both work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from studio.config import load_settings
from studio.keymap import (
    Catalog,
    KeyBinding,
    KeyError_,
    Scope,
    check_keymap,
    default_catalog,
    normalize_key,
)

# -- key syntax ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("f5", "f5"),
        ("F5", "f5"),
        ("ctrl+g", "ctrl+g"),
        ("Ctrl+G", "ctrl+g"),
        ("control+g", "ctrl+g"),
        (" alt+enter ", "alt+enter"),
        ("shift+ctrl+left", "ctrl+shift+left"),
        ("ctrl+alt+x", "alt+ctrl+x"),
        ("PageUp", "pageup"),
        ("esc", "escape"),
        ("?", "question_mark"),
        ("ctrl+?", "ctrl+question_mark"),
        ("/", "slash"),
        ("+", "plus"),
        ("ctrl+plus", "ctrl+plus"),
        ("question_mark", "question_mark"),
        ("a", "a"),
        ("A", "A"),
        ("space", "space"),
        ("f35", "f35"),
    ],
)
def test_keys_are_written_as_textual_names_them(written: str, key: str) -> None:
    assert normalize_key(written) == key


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("notakey+++", "an empty part between '+' signs"),
        ("ctrl++", "an empty part between '+' signs"),
        ("notakey", "no key is named 'notakey'"),
        ("ctrl+pgdown", "no key is named 'pgdown'; did you mean 'pagedown'?"),
        ("ctl+x", "'ctl' is not a modifier"),
        ("ctrl+ctrl+x", "ctrl twice"),
        ("f99", "no key is named 'f99'"),
        ("", "it is empty"),
    ],
)
def test_what_is_not_a_key_says_why(written: str, reason: str) -> None:
    with pytest.raises(KeyError_) as caught:
        normalize_key(written)
    assert str(caught.value).startswith(f"{written!r} is not a key: ")
    assert reason in str(caught.value)


# -- checking a keymap against Studio's bindings -------------------------------------------------


def test_the_readme_example_warns_that_ctrl_g_stays_with_jobs() -> None:
    check = check_keymap({"main.regenerate": "f5,ctrl+g"})
    assert check.applied == {"main.regenerate": "f5"}
    assert check.problems == [
        'keymap: "main.regenerate" = "f5,ctrl+g": ctrl+g is already Jobs (app.jobs) '
        "everywhere, which would take it. main.regenerate is on f5. To use ctrl+g, give "
        "app.jobs other keys first."
    ]


def test_moving_jobs_first_frees_ctrl_g() -> None:
    check = check_keymap({"app.jobs": "alt+j", "main.regenerate": "f5,ctrl+g"})
    assert check.problems == []
    assert check.applied == {"app.jobs": "alt+j", "main.regenerate": "f5,ctrl+g"}
    # the order of the entries does not matter for keys a later entry gives up
    later = check_keymap({"main.regenerate": "f5,ctrl+g", "app.jobs": "alt+j"})
    assert later.problems == []


def test_an_unknown_id_is_named_with_the_closest_one() -> None:
    check = check_keymap({"main.regenrate": "f5"})
    assert check.applied == {}
    assert check.problems == [
        'keymap: "main.regenrate" is not a binding id (did you mean "main.regenerate"?); '
        "F1 lists every id. The entry is ignored."
    ]


def test_a_bad_key_is_dropped_and_an_empty_entry_keeps_the_defaults() -> None:
    check = check_keymap({"main.regenerate": "notakey+++"})
    assert check.applied == {}  # so the binding keeps ctrl+r and f5
    (problem,) = check.problems
    assert problem.startswith('keymap: "main.regenerate" = "notakey+++": \'notakey+++\' is not')
    assert problem.endswith("The entry is ignored: main.regenerate stays on ctrl+r, f5.")
    partly = check_keymap({"main.regenerate": "f5, notakey"})
    assert partly.applied == {"main.regenerate": "f5"}
    assert partly.problems[0].endswith("main.regenerate is on f5.")


def test_one_warning_per_entry_in_the_files_order() -> None:
    check = check_keymap(
        {
            "main.copy_reply": "ctrl+y,alt+c",  # fine: ctrl+y is only TextArea's redo
            "nope": "f6",
            "main.edit_last": "ctrl+n,bogus",
            "main.regenerate": "f5,ctrl+g",
        }
    )
    assert [p.split(" ")[1] for p in check.problems] == [
        '"nope"',
        '"main.edit_last"',
        '"main.regenerate"',
    ]
    assert "ctrl+n is already New (main.new_conversation)" in check.problems[1]
    assert "'bogus' is not a key" in check.problems[1]
    assert check.applied == {"main.copy_reply": "ctrl+y,alt+c", "main.regenerate": "f5"}


def test_two_entries_wanting_one_key_the_first_keeps_it() -> None:
    check = check_keymap({"main.regenerate": "ctrl+x", "main.new_conversation": "ctrl+x"})
    assert check.applied == {"main.regenerate": "ctrl+x"}
    assert (
        "ctrl+x is already Regenerate (main.regenerate) on the main screen" in (check.problems[0])
    )
    assert check.problems[0].endswith("give main.regenerate other keys first.")


def test_textuals_own_keys_are_taken_too() -> None:
    (problem,) = check_keymap({"main.regenerate": "ctrl+p"}).problems
    assert "ctrl+p is already the command palette everywhere" in problem
    assert "give" not in problem  # it cannot be moved


def test_a_prompt_key_conflicts_with_the_screen_around_it() -> None:
    (problem,) = check_keymap({"main.regenerate": "ctrl+j"}).problems
    assert "ctrl+j is already Newline (prompt.newline) in the prompt" in problem
    assert check_keymap({"prompt.send": "ctrl+s", "prompt.newline": "enter"}).problems == []


def test_keys_of_other_screens_and_sibling_widgets_do_not_conflict() -> None:
    # help.close is on a modal screen: only priority bindings outside it reach it
    assert check_keymap({"help.close": "alt+i"}).problems == []  # the gallery is hidden there
    (problem,) = check_keymap({"help.close": "f10"}).problems  # f10 is priority: it opens the
    assert "Image (app.image)" in problem  # form at once, so keys typed right after reach it
    (problem,) = check_keymap({"help.close": "ctrl+g"}).problems  # a priority binding is not
    assert "Jobs (app.jobs)" in problem
    # the conversation list and a selected message are never focused together
    assert check_keymap({"list.rename": "c"}).problems == []  # c copies a message


def test_a_users_default_key_is_never_a_conflict() -> None:
    assert check_keymap({"main.regenerate": "ctrl+r,f5"}).problems == []


def test_scopes_reach_through_containers_and_stop_at_modal_screens() -> None:
    catalog = Catalog(
        {
            "app": Scope("app", "everywhere"),
            "main": Scope("main", "on main", ("app",)),
            "widget": Scope("widget", "in widget", ("main", "dialog")),
            "dialog": Scope("dialog", "in dialog", ("app",), modal=True),
        },
        (
            KeyBinding("a.x", ("f1",), "X", "app"),
            KeyBinding("a.y", ("f2",), "Y", "app", priority=True),
            KeyBinding("d.z", ("f3",), "Z", "dialog"),
        ),
    )
    assert catalog.reach("widget") == {
        "widget": False,
        "main": False,
        "dialog": False,
        "app": False,
    }
    assert catalog.reach("dialog") == {"dialog": False, "app": True}
    assert check_keymap({"d.z": "f1"}, catalog).problems == []
    assert check_keymap({"d.z": "f2"}, catalog).problems != []


def test_every_catalog_key_is_a_key() -> None:
    for binding in default_catalog().bindings:
        for key in binding.keys:
            assert normalize_key(key) == key, (binding.id, key)


# -- where the warnings show outside the TUI -----------------------------------------------------


def test_load_settings_lists_the_keymap_problems(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keymap]\n"main.regenerate" = "f5,ctrl+g"\n"nope" = "f6"\n')
    settings = load_settings(config, env={})
    assert settings.keymap == {"main.regenerate": "f5,ctrl+g", "nope": "f6"}  # as written
    assert [w for w in settings.warnings if w.startswith("keymap:")] == check_keymap(
        settings.keymap
    ).problems


def test_config_show_prints_the_problems_under_the_keymap(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keymap]\n"main.regenerate" = "f5,ctrl+g"\n"nope" = "f6"\n')
    env = {"STUDIO_CONFIG": str(config), "STUDIO_HOME": str(tmp_path), "PATH": ""}
    shown = subprocess.run(
        [sys.executable, "-m", "studio", "config", "show"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = shown.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("keymap"))
    assert lines[at + 1].strip().startswith('warning: keymap: "main.regenerate" = "f5,ctrl+g"')
    assert lines[at + 2].strip().startswith('warning: keymap: "nope" is not a binding id')
    assert "keymap" not in shown.stderr  # said once, where the keymap is shown


def test_the_keymap_check_does_not_import_textual() -> None:
    code = "import studio.keymap, studio.config, sys\nstudio.keymap.check_keymap({'a': 'b'})\n"
    code += "print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
