"""Theme files: the built-in six, user themes over them, and one clear message per bad file."""

from __future__ import annotations

import os
import threading
import tomllib
from pathlib import Path

import pytest

from studio.paths import config_dir
from studio.themefiles import (
    BASE_COLORS,
    ROLES,
    ThemeCatalog,
    load_catalog,
    load_theme_file,
    user_dir,
)
from studio.userfile import MAX_BYTES

BUILT_IN = {"studio-dark", "studio-light", "high-contrast", "ansi-16", "ember", "lagoon"}
REPO_THEMES = Path(__file__).resolve().parents[2] / "themes"

GOOD = """
dark = false
[colors]
primary = "#112233"
background = "#ffffff"
[studio]
user-accent = "#abc"
code-style = "friendly"
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_built_in_themes_load_without_problems_and_set_every_role() -> None:
    catalog = load_catalog()
    assert catalog.problems == []
    assert set(catalog.themes) == BUILT_IN
    for spec in catalog.themes.values():
        assert set(spec.colors) >= {"primary", "background", "foreground"}, spec.name
        assert {f"studio-{role}" for role in ROLES} | {"studio-code-style"} == set(spec.roles)
    assert catalog.themes["studio-light"].dark is False
    sixteen = catalog.themes["ansi-16"]
    assert sixteen.ansi and all(value.startswith("ansi_") for value in sixteen.colors.values())


def test_every_built_in_file_uses_only_known_keys() -> None:
    for path in REPO_THEMES.glob("*.toml"):
        table = tomllib.loads(path.read_text(encoding="utf-8"))
        assert set(table["colors"]) <= set(BASE_COLORS), path.name


def test_user_themes_live_in_the_config_dir_and_override_a_built_in() -> None:
    assert user_dir() == config_dir() / "themes"
    write(user_dir(), "ember.toml", GOOD)
    write(user_dir(), "mine.toml", GOOD)
    catalog = load_catalog()
    assert catalog.problems == []
    assert catalog.themes["ember"].dark is False  # the user's file, not the built-in one
    assert catalog.themes["ember"].source == user_dir() / "ember.toml"
    assert catalog.themes["mine"].roles == {
        "studio-user-accent": "#abc",
        "studio-code-style": "friendly",
    }


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("dark = true\n[colors\nprimary = 1", "is not valid TOML"),
        ('[colors]\nsecondary = "#123456"\n', "[colors] needs primary"),
        ('[colors]\nprimary = "blueish"\n', "[colors] primary = 'blueish' is not a colour"),
        ('[colors]\nprimary = "#123"\nprimry = "#123"\n', "[colors] has unknown key 'primry'"),
        ('dark = "yes"\n[colors]\nprimary = "#123"\n', "dark must be true or false"),
        ('colours = 1\n[colors]\nprimary = "#123"\n', "unknown key 'colours'"),
        (
            '[colors]\nprimary = "#123"\n[studio]\ncode-style = "nope"\n',
            "code-style = 'nope' is not a Pygments style",
        ),
        ('[colors]\nprimary = "#123"\n[studio]\njob-done = "#123"\n', "unknown key 'job-done'"),
        ("\xff\xfe", "is not valid TOML"),
        (
            '[colors]\nprimary = "#123"\n[variables]\nstudio-user-accent = "banana"\n',
            "[variables] studio-user-accent: Studio's own roles go in [studio] (as user-accent)",
        ),
    ],
)
def test_a_broken_theme_file_gives_one_message_naming_it_and_the_rest_load(
    text: str, problem: str
) -> None:
    bad = write(user_dir(), "broken.toml", text)
    write(user_dir(), "fine.toml", GOOD)
    catalog = load_catalog()
    assert len(catalog.problems) == 1
    assert catalog.problems[0].startswith(f"theme file {bad}: ")
    assert problem in catalog.problems[0]
    assert "broken" not in catalog.themes
    assert {"fine"} | BUILT_IN == set(catalog.themes)


def test_a_file_that_is_not_utf8_or_badly_named_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes(b'[colors]\nprimary = "#123" # caf\xe9\n')
    with pytest.raises(ValueError, match="is not UTF-8 text"):
        load_theme_file(path)
    with pytest.raises(ValueError, match="lower-case letters"):
        load_theme_file(write(tmp_path, "My Theme.toml", GOOD))


# --- theme files that are not small regular files ----------------------------------------------


def catalog_within(seconds: float, release: Path | None = None) -> ThemeCatalog:
    """``load_catalog()`` run in a thread, waited for at most ``seconds``: a read that blocks
    fails the test (after releasing the FIFO ``release``) instead of hanging it."""
    outcome: list[ThemeCatalog | BaseException] = []

    def load() -> None:
        try:
            outcome.append(load_catalog())
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=seconds)
    if worker.is_alive():  # a regression: release the reader, then fail
        if release is not None:
            os.close(os.open(release, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=5)
        pytest.fail("loading the theme files blocked")
    assert isinstance(outcome[0], ThemeCatalog), outcome[0]
    return outcome[0]


def assert_only_problem(catalog: ThemeCatalog, path: Path, problem: str) -> None:
    assert catalog.problems == [f"theme file {path}: {problem}"]
    assert path.stem not in catalog.themes
    assert {"fine"} | BUILT_IN == set(catalog.themes)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_in_the_themes_folder_is_refused_without_blocking() -> None:
    write(user_dir(), "fine.toml", GOOD)
    fifo = user_dir() / "x.toml"
    os.mkfifo(fifo)
    catalog = catalog_within(10, release=fifo)
    assert_only_problem(catalog, fifo, "is a named pipe (FIFO), expected a TOML file")


def test_a_link_to_a_device_is_refused_naming_both() -> None:
    zero = "/dev/zero" if Path("/dev/zero").exists() else os.devnull
    write(user_dir(), "fine.toml", GOOD)
    link = user_dir() / "zero.toml"
    link.symlink_to(zero)
    catalog = catalog_within(10)
    assert_only_problem(catalog, link, f"is a character device ({zero}), expected a TOML file")


def test_an_oversized_theme_file_is_refused_unread() -> None:
    write(user_dir(), "fine.toml", GOOD)
    big = user_dir() / "big.toml"
    with big.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)  # sparse: reading it whole would be the bug
    catalog = catalog_within(10)
    assert_only_problem(catalog, big, "too big for a theme file (1.0 MiB; the limit is 1 MiB)")
    big.write_bytes(GOOD.encode() + b"#" * (MAX_BYTES - len(GOOD) - 1) + b"\n")
    assert load_theme_file(big).name == "big"  # exactly the limit is fine
