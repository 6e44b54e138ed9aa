"""Each setting is declared once: its default passes its own check, and the README's settings
table is the one ``python -m studio.config`` prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from studio import config
from studio.config.checks import validated

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize(("name", "default", "help_text"), config.describe_settings())
def test_every_default_passes_its_own_check(name: str, default: object, help_text: str) -> None:
    if default is not None:
        assert validated(name, default, "default", None) == default
    assert help_text


def test_the_readme_settings_table_is_the_generated_one() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("| setting | default | meaning |")
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    in_readme = "\n".join(lines[start:end]) + "\n"
    assert in_readme == config.markdown_table(), "run: python -m studio.config"


def test_python_m_studio_config_prints_the_table() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "studio.config"], capture_output=True, text=True, check=True
    )
    assert out.stdout == config.markdown_table()
    rows = out.stdout.splitlines()[2:]
    assert [row.split("`")[1].strip("[]") for row in rows] == list(config.SETTING_NAMES)
