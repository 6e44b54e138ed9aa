"""The job engine stays free of Textual, and the store and the engine import in any order."""

from __future__ import annotations

import subprocess
import sys

import pytest


def loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "code",
    [
        "import studio.jobs.engine",
        "import studio.jobs\nfrom studio.jobs import JobEngine, EngineConfig",
        "import studio.store\nimport studio.jobs.engine",
        "import studio.jobs\nimport studio.store\nfrom studio.store.jobs import Job, JobState",
        "import studio.api.download",
    ],
)
def test_imports_work_in_any_order_without_textual(code: str) -> None:
    modules = loaded_after(code)
    assert "textual" not in modules
    assert "studio.jobs.models" in modules or "studio.api.download" in modules


def test_the_package_exports_lazily() -> None:
    import studio.jobs

    assert studio.jobs.JobEngine.__name__ == "JobEngine"
    with pytest.raises(AttributeError):
        _ = studio.jobs.NoSuchThing
