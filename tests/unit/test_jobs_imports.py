"""The job engine stays free of Textual, the store and the engine import in any order, and the
store (which owns the job records) imports nothing from the job engine."""

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
        "import studio.jobs\nfrom studio.jobs.engine import JobEngine\nfrom studio.jobs import Job",
        "import studio.store\nimport studio.jobs.engine",
        "import studio.jobs\nimport studio.store\nfrom studio.store.job_records import Job",
        "import studio.api.download",
    ],
)
def test_imports_work_in_any_order_without_textual(code: str) -> None:
    modules = loaded_after(code)
    assert "textual" not in modules
    assert "studio.store.job_records" in modules or "studio.api.download" in modules


def test_the_store_loads_no_part_of_the_job_engine() -> None:
    modules = loaded_after("import studio.store\nstudio.store.Store")
    assert "studio.store.job_records" in modules
    assert not {m for m in modules if m == "studio.jobs" or m.startswith("studio.jobs.")}


def test_the_job_records_load_without_httpx() -> None:
    """The TUI reads job records before its first frame; the engine (httpx) loads later."""
    modules = loaded_after("from studio.jobs import EngineConfig, Job, JobState, job_state_for")
    assert "httpx" not in modules and "studio.jobs.engine" not in modules
