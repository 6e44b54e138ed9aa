"""The JSON form of a job (``jobs show --json``, ``notify_command``'s stdin)."""

from __future__ import annotations

import json

from studio.jobs.payload import JOB_JSON_VERSION, job_payload
from studio.store import Store
from studio.store.job_records import JobFile, JobKind, JobProvider, JobState


def test_a_job_round_trips_through_json_without_its_bookkeeping() -> None:
    with Store.open(":memory:") as store:
        job = store.create_job(
            kind=JobKind.VIDEO,
            provider=JobProvider.SEEDANCE,
            action="generate",
            model="seedance-1-0-pro",
            prompt="a fox in the snow",
            params={"ratio": "16:9"},
            idempotency_key="secret-ish-key",
        )
        updated = store.update_job(
            job.id,
            state=JobState.SUCCEEDED,
            progress=100,
            files=(JobFile(index=0, url="http://x/v.mp4", path="/m/v.mp4", size=9, done=True),),
        )
        assert updated is not None
        job = updated
    data = json.loads(json.dumps(job_payload(job)))
    assert data["version"] == JOB_JSON_VERSION
    assert (data["id"], data["kind"], data["provider"]) == (job.id, "video", "seedance")
    assert (data["state"], data["active"], data["progress"]) == ("succeeded", False, 100)
    assert data["prompt"] == "a fox in the snow"
    assert data["params"] == {"ratio": "16:9"}
    assert data["files"] == [
        {
            "index": 0,
            "path": "/m/v.mp4",
            "saved": True,
            "size": 9,
            "content_type": None,
            "url": "http://x/v.mp4",
            "error": None,
        }
    ]
    assert "secret-ish-key" not in json.dumps(data)
