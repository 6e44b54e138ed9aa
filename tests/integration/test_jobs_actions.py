"""What the user can do with a job that is no longer tracked, against the emulator: check it
again (collect a result paid for after a cancel, fresh links after an expiry, a file gone from
disk), send an uncertain request again under its own idempotency key, attach a task found in
the AnyFast console."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from studio.api import AnyFastClient
from studio.api.download import Downloader
from studio.emulator import EmulatorServer
from studio.jobs import Job, JobActionError, JobKind, JobProvider, JobState
from studio.jobs.engine import JobEngine
from studio.store import Store

from .test_jobs_engine import (
    assert_saved,
    checks,
    creates,
    exists,
    fast_config,
    finish,
    task_finished,
    until,
)

FAST = "[[emulator: seconds=0.6]]"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "studio.db") as s:
        yield s


@pytest.fixture
async def engine(store: Store, client: AnyFastClient, tmp_path: Path) -> AsyncIterator[JobEngine]:
    async with (
        Downloader(backoff_initial=0.01, backoff_max=0.05) as downloader,
        JobEngine(store, client, downloader, fast_config(tmp_path)) as eng,
    ):
        yield eng


def delete(path: str) -> None:
    Path(path).unlink()


def unchanged(before: Job, after: Job | None) -> bool:
    return after is not None and (after.state, after.task_id, after.updated_at) == (
        before.state,
        before.task_id,
        before.updated_at,
    )


async def uncertain_job(engine: JobEngine, emulator: EmulatorServer, prompt: str) -> Job:
    emulator.inject("500", count=1, path="/v1/video/generations")
    job = await engine.submit_seedance("seedance-2.0", prompt)
    assert job.state is JobState.SUBMISSION_UNCERTAIN and job.task_id is None
    return job


# -- check again ---------------------------------------------------------------------------------


async def test_a_cancelled_job_is_rechecked_and_its_result_collected(
    engine: JobEngine, emulator: EmulatorServer, tmp_path: Path
) -> None:
    job = await engine.submit_seedance("seedance-2.0", "paid anyway [[emulator: seconds=0.8]]")
    cancelled = await engine.cancel(job.id)
    assert cancelled.state is JobState.CANCELLED
    await until(lambda: task_finished(emulator, job))  # it finishes at the gateway all the same
    rechecked = await engine.recheck(job.id)
    assert rechecked.state in (JobState.DOWNLOADING, JobState.SUCCEEDED)
    done = await finish(engine, job)
    assert_saved(done, tmp_path / "media")
    assert done.failure_reason is None and done.finished_at
    assert [s for s, _ in done.history][-3:] == ["cancelled", "downloading", "succeeded"]
    assert creates(emulator, job) == [200]


async def test_a_cancelled_job_still_running_is_tracked_again(
    engine: JobEngine, emulator: EmulatorServer, tmp_path: Path
) -> None:
    job = await engine.submit_seedance("seedance-2.0", "not yet [[emulator: seconds=1.5]]")
    await engine.cancel(job.id)
    rechecked = await engine.recheck(job.id)
    assert rechecked.state in (JobState.QUEUED, JobState.RUNNING)
    assert rechecked.finished_at is None and rechecked.claimed_by == engine.owner
    done = await finish(engine, job)
    assert_saved(done, tmp_path / "media")


async def test_a_failed_task_rechecked_still_says_why(
    engine: JobEngine, emulator: EmulatorServer
) -> None:
    prompt = "x [[emulator: fault=fail:the output may be sensitive; seconds=0.3]]"
    failed = await finish(engine, await engine.submit_seedance("seedance-2.0", prompt))
    assert failed.state is JobState.FAILED
    polled = checks(emulator, failed)
    again = await engine.recheck(failed.id)
    assert again.state is JobState.FAILED and checks(emulator, failed) == polled + 1
    assert "the output may be sensitive" in (again.failure_reason or "")
    assert again.claimed_by is None


async def test_expired_links_are_refreshed_by_a_recheck(
    engine: JobEngine, emulator: EmulatorServer, store: Store, tmp_path: Path
) -> None:
    emulator.inject("expired", count=None, path="/files/")
    job = await engine.submit_seedance("seedance-2.0", f"late {FAST}")
    failed = await finish(engine, job)
    assert failed.state is JobState.FAILED and "Recheck" in (failed.failure_reason or "")
    emulator.clear_faults()
    store.update_job(job.id, urls_expire_at=1.0)  # a day later: the links are gone
    polled = checks(emulator, job)
    await engine.recheck(job.id)
    done = await finish(engine, job)
    assert_saved(done, tmp_path / "media")
    assert checks(emulator, job) == polled + 1  # fresh links came from a new check
    assert done.urls_expire_at and done.urls_expire_at > 1.0


async def test_a_file_gone_from_disk_is_saved_again(
    engine: JobEngine, emulator: EmulatorServer, store: Store, tmp_path: Path
) -> None:
    done = await finish(engine, await engine.submit_seedance("seedance-2.0", f"keep {FAST}"))
    with pytest.raises(JobActionError, match="all its files are in place"):
        await engine.recheck(done.id)
    delete(done.files[0].path)
    store.update_job(done.id, urls_expire_at=1.0)
    await engine.recheck(done.id)
    again = await finish(engine, done)
    assert_saved(again, tmp_path / "media")
    assert [s for s, _ in again.history][-3:] == ["succeeded", "downloading", "succeeded"]

    image = await finish(engine, await engine.submit_image("doubao-seedream-4-0-250828", "owl"))
    delete(image.files[0].path)
    await engine.recheck(image.id)  # its link is still valid: downloaded again, no new request
    assert (await finish(engine, image)).state is JobState.SUCCEEDED
    assert exists(Path(image.files[0].path)) and creates(emulator, image) == [200]


async def test_what_cannot_be_checked_says_why(
    engine: JobEngine, emulator: EmulatorServer, store: Store
) -> None:
    refused = await engine.submit_seedance("seedance-2.0", "too long", duration=99)
    assert refused.state is JobState.FAILED
    with pytest.raises(JobActionError, match="never gave job #\\d+ a task id"):
        await engine.recheck(refused.id)
    emulator.inject("expired", count=None, path="/files/")
    image = await finish(engine, await engine.submit_image("doubao-seedream-4-0-250828", "x"))
    store.update_job(image.id, urls_expire_at=1.0)
    with pytest.raises(JobActionError, match="no task to ask for fresh links"):
        await engine.recheck(image.id)
    uncertain = await uncertain_job(engine, emulator, f"unknown {FAST}")
    with pytest.raises(JobActionError, match="same idempotency key"):
        await engine.recheck(uncertain.id)


async def test_a_check_that_cannot_reach_the_gateway_says_so(
    engine: JobEngine, emulator: EmulatorServer
) -> None:
    job = await engine.submit_seedance("seedance-2.0", "later [[emulator: seconds=2]]")
    cancelled = await engine.cancel(job.id)
    emulator.inject("503", count=None, path="/v1/video/generations/")
    with pytest.raises(JobActionError, match="Nothing changed"):
        await engine.recheck(job.id)
    after = engine.store.get_job(job.id)
    assert after is not None and after.state is JobState.CANCELLED
    assert after.claimed_by is None and after.task_id == cancelled.task_id


GONE = "cgt-20990101000000-gone0"
"""A task id the emulator does not know: a task the gateway has forgotten (or another key's)."""


async def test_a_succeeded_job_whose_task_is_forgotten_stays_succeeded(
    engine: JobEngine, emulator: EmulatorServer, store: Store
) -> None:
    done = await finish(engine, await engine.submit_seedance("seedance-2.0", f"moved {FAST}"))
    assert done.state is JobState.SUCCEEDED
    delete(done.files[0].path)  # moved away by the user, and the links expired since
    store.update_job(done.id, urls_expire_at=1.0, task_id=GONE)
    before = store.get_job(done.id)
    assert before is not None
    asked = checks(emulator, before)
    with pytest.raises(JobActionError, match=f"no longer knows task {GONE}.*Nothing changed"):
        await engine.recheck(done.id)
    assert checks(emulator, before) == asked + 1  # the gateway was asked
    # Not failed, no "missing from disk", no message; and nothing held back to be written.
    assert store.get_job(done.id) == before and done.id not in engine.book


async def test_a_check_that_fails_leaves_a_missing_file_unrecorded(
    engine: JobEngine, emulator: EmulatorServer, store: Store
) -> None:
    done = await finish(engine, await engine.submit_seedance("seedance-2.0", f"away {FAST}"))
    delete(done.files[0].path)
    store.update_job(done.id, urls_expire_at=1.0)
    before = store.get_job(done.id)
    assert before is not None
    emulator.inject("503", count=None, path="/v1/video/generations/")
    with pytest.raises(JobActionError, match="Could not check task .*Nothing changed"):
        await engine.recheck(done.id)
    assert store.get_job(done.id) == before and done.id not in engine.book


async def test_a_cancelled_job_whose_task_is_forgotten_stays_cancelled(
    engine: JobEngine, emulator: EmulatorServer, store: Store
) -> None:
    job = await engine.submit_seedance("seedance-2.0", "gone [[emulator: seconds=5]]")
    await engine.cancel(job.id)
    store.update_job(job.id, task_id=GONE)
    before = store.get_job(job.id)
    assert before is not None and before.state is JobState.CANCELLED
    with pytest.raises(JobActionError, match=f"no longer knows task {GONE}.*Nothing changed"):
        await engine.recheck(job.id)
    assert store.get_job(job.id) == before and job.id not in engine.book


# -- send again with the same key ----------------------------------------------------------------


@pytest.mark.parametrize("fault", ["500", "disconnect:0"])
async def test_an_uncertain_job_is_sent_again_with_the_same_key(
    engine: JobEngine, emulator: EmulatorServer, store: Store, tmp_path: Path, fault: str
) -> None:
    emulator.inject(fault, count=1, path="/v1/video/generations")
    job = await engine.submit_seedance("seedance-2.0", f"paid once {FAST}")
    assert job.state is JobState.SUBMISSION_UNCERTAIN
    sent = await engine.resend(job.id)
    assert sent.id == job.id and sent.state is JobState.QUEUED and sent.task_id
    assert sent.idempotency_key == job.idempotency_key
    assert sent.failure_reason is None
    assert creates(emulator, job) == [500 if fault == "500" else 0, 200]
    done = await finish(engine, job)
    assert_saved(done, tmp_path / "media")
    assert [j.id for j in store.list_jobs()] == [job.id]  # the same job, not a new one
    states = [s for s, _ in done.history]
    assert states[:4] == ["pending", "submission_uncertain", "pending", "queued"]


async def test_sent_again_and_still_ambiguous_stays_uncertain(
    engine: JobEngine, emulator: EmulatorServer
) -> None:
    job = await uncertain_job(engine, emulator, f"twice {FAST}")
    emulator.inject("500", count=1, path="/v1/video/generations")
    again = await engine.resend(job.id)
    assert again.state is JobState.SUBMISSION_UNCERTAIN and again.task_id is None
    assert len(creates(emulator, job)) == 2 and again.claimed_by is None


async def test_only_an_uncertain_job_is_sent_again(
    engine: JobEngine, emulator: EmulatorServer
) -> None:
    job = await finish(engine, await engine.submit_seedance("seedance-2.0", f"fine {FAST}"))
    with pytest.raises(JobActionError, match="only a submission of unknown fate"):
        await engine.resend(job.id)
    assert creates(emulator, job) == [200]


async def test_a_resent_job_the_gateway_keeps_refusing_stays_uncertain(
    store: Store, client: AnyFastClient, emulator: EmulatorServer, tmp_path: Path
) -> None:
    config = fast_config(tmp_path, deadline=0.5)
    async with Downloader() as downloader, JobEngine(store, client, downloader, config) as engine:
        job = await uncertain_job(engine, emulator, f"busy {FAST}")
        emulator.inject("429:task", count=None, path="/v1/video/generations")
        sent = await engine.resend(job.id)
        assert sent.state is JobState.PENDING and "sending again" in (sent.message or "")
        done = await finish(engine, job)
        # This attempt never got through, but the first may have: not "nothing was billed".
        assert done.state is JobState.SUBMISSION_UNCERTAIN
        assert "kept refusing" in (done.failure_reason or "")


# -- attach a task found by hand -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "action"), [(JobProvider.SEEDANCE, "generate"), (JobProvider.KLING, "text2video")]
)
async def test_a_task_found_in_the_console_is_attached_and_tracked(
    engine: JobEngine,
    emulator: EmulatorServer,
    client: AnyFastClient,
    store: Store,
    tmp_path: Path,
    provider: JobProvider,
    action: str,
) -> None:
    path = "/v1/video/generations" if provider is JobProvider.SEEDANCE else "/kling/v1/videos"
    emulator.inject("500", count=1, path=path)
    if provider is JobProvider.SEEDANCE:
        job = await engine.submit_seedance("seedance-2.0", f"found {FAST}")
        task = await client.create_seedance_task("seedance-2.0", f"found {FAST}")
    else:
        job = await engine.submit_kling(action, prompt=f"found {FAST}")
        task = await client.create_kling_text2video(f"found {FAST}")
    assert job.state is JobState.SUBMISSION_UNCERTAIN

    for wrong, reason in [
        ("../../v1/models", "not a task id"),
        ("with space", "not a task id"),
        ("", "not a task id"),
        ("cgt-20990101000000-nope0", "does not know task"),
    ]:
        before = store.get_job(job.id)
        assert before is not None
        with pytest.raises(JobActionError, match=reason):
            await engine.attach_task(job.id, wrong)
        assert unchanged(before, store.get_job(job.id))

    attached = await engine.attach_task(job.id, f"  {task.task_id}\n")
    assert attached.task_id == task.task_id and attached.state in (
        JobState.QUEUED,
        JobState.RUNNING,
        JobState.DOWNLOADING,
    )
    assert attached.failure_reason is None
    done = await finish(engine, job)
    assert_saved(done, tmp_path / "media")
    assert done.kind is JobKind.VIDEO and len(creates(emulator, job)) == 1  # nothing resent

    other = await uncertain_job(engine, emulator, f"another {FAST}")
    with pytest.raises(JobActionError, match=f"already job #{job.id}"):
        await engine.attach_task(other.id, task.task_id)


async def test_a_create_answered_after_a_cancel_never_replaces_an_attached_task(
    engine: JobEngine, emulator: EmulatorServer, client: AnyFastClient, store: Store
) -> None:
    prompt = "slow to answer [[emulator: delay=1.5; seconds=0.6]]"
    sending = asyncio.create_task(engine.submit_seedance("seedance-2.0", prompt))
    await until(lambda: bool(store.list_jobs()))
    job = store.list_jobs()[0]
    assert job.state is JobState.PENDING
    cancelled = await engine.cancel(job.id)
    assert cancelled.state is JobState.CANCELLED and cancelled.task_id is None
    slow = "found by hand [[emulator: seconds=3]]"  # still running when the answer comes
    found = await client.create_seedance_task("seedance-2.0", slow)
    attached = await engine.attach_task(job.id, found.task_id)
    assert attached.task_id == found.task_id
    assert not sending.done()  # the create request is still out
    await sending  # ... and now its answer arrives, with a task id of its own
    assert creates(emulator, job) == [200]
    kept = store.get_job(job.id)
    assert kept is not None and kept.task_id == found.task_id
    assert kept.state in (JobState.QUEUED, JobState.RUNNING) and kept.claimed_by == engine.owner
    done = await finish(engine, job)
    assert done.state is JobState.SUCCEEDED and done.task_id == found.task_id


async def test_a_create_failing_after_a_cancel_leaves_an_attached_task_alone(
    engine: JobEngine, emulator: EmulatorServer, client: AnyFastClient, store: Store
) -> None:
    emulator.inject("stall:1.5", count=1, path="/v1/video/generations")  # then a lost answer
    sending = asyncio.create_task(engine.submit_seedance("seedance-2.0", f"lost {FAST}"))
    await until(lambda: bool(store.list_jobs()))
    job = store.list_jobs()[0]
    await engine.cancel(job.id)
    found = await client.create_seedance_task("seedance-2.0", "tracked [[emulator: seconds=3]]")
    await engine.attach_task(job.id, found.task_id)
    assert not sending.done()
    await sending  # an ambiguous failure: it must not make the attached job uncertain
    kept = store.get_job(job.id)
    assert kept is not None and kept.task_id == found.task_id
    assert kept.state in (JobState.QUEUED, JobState.RUNNING) and kept.failure_reason is None
    assert (await finish(engine, job)).state is JobState.SUCCEEDED


async def test_a_task_attached_in_another_process_is_not_replaced_either(
    engine: JobEngine, emulator: EmulatorServer, client: AnyFastClient, store: Store, tmp_path: Path
) -> None:
    prompt = "slow elsewhere [[emulator: delay=1.5; seconds=0.6]]"
    sending = asyncio.create_task(engine.submit_seedance("seedance-2.0", prompt))
    await until(lambda: bool(store.list_jobs()))
    job = store.list_jobs()[0]
    async with (
        Downloader() as downloader,
        JobEngine(store, client, downloader, fast_config(tmp_path)) as other,
    ):
        assert other.owner != engine.owner
        await other.cancel(job.id)
        found = await client.create_seedance_task(
            "seedance-2.0", "found elsewhere [[emulator: seconds=3]]"
        )
        await other.attach_task(job.id, found.task_id)
        assert not sending.done()
        await sending  # answered here, while the other engine holds the job
        kept = store.get_job(job.id)
        assert kept is not None and kept.task_id == found.task_id
        assert kept.state in (JobState.QUEUED, JobState.RUNNING)
        assert kept.claimed_by == other.owner
        done = await finish(other, job)
        assert done.state is JobState.SUCCEEDED and done.task_id == found.task_id


async def test_a_task_is_attached_only_where_one_is_missing(
    engine: JobEngine, emulator: EmulatorServer
) -> None:
    image = await engine.submit_image("doubao-seedream-4-0-250828", "x")
    with pytest.raises(JobActionError, match="image request"):
        await engine.attach_task(image.id, "cgt-20260312231129-7db6s")
    video = await finish(engine, await engine.submit_seedance("seedance-2.0", f"y {FAST}"))
    with pytest.raises(JobActionError, match="already has task"):
        await engine.attach_task(video.id, "cgt-20260312231129-7db6s")
