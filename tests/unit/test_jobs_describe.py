"""Facts about a job shared by the sidebar, the job view and the reports: no Textual needed."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

from studio.jobs import Job, JobState
from studio.jobs.describe import item_errors

from .test_jobs_naming import make_job


def test_item_errors_is_textual_free() -> None:
    code = "import studio.jobs.describe, sys; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_item_errors_lists_the_failed_images_recorded_by_the_engine() -> None:
    job: Job = make_job(state=JobState.SUCCEEDED)
    failed = {"index": 1, "message": "sensitive content", "code": "OutputImageSensitive"}
    assert item_errors(replace(job, result={"errors": [failed, "noise", 3]})) == [failed]
    assert item_errors(replace(job, result={"errors": "not a list"})) == []
    assert item_errors(replace(job, result={})) == []
