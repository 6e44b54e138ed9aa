"""Export -> import into an empty store -> export gives the same bytes; refusals, copies and
malformed files import nothing."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from studio.export import ExportError, import_transcripts, render_export, write_export
from studio.store import MessageStatus, Role, Store
from studio.store.job_records import JobKind, JobProvider, JobState
from studio.store.transcript_import import COPY_MARK, ConversationExists
from tests.transcript_samples import Sample, fill, ticking_clock


@pytest.fixture
def source(tmp_path: Path) -> Store:
    with Store.open(tmp_path / "source.db", clock=ticking_clock()) as opened:
        yield opened


@pytest.fixture
def sample(source: Store, tmp_path: Path) -> Sample:
    return fill(source, tmp_path / "media")


@pytest.fixture
def target(tmp_path: Path) -> Store:
    # Another clock, far later: nothing of the import may take its own time.
    with Store.open(tmp_path / "target.db", clock=ticking_clock(1_900_000_000.0)) as opened:
        yield opened


MEDIA = Path("/nonexistent-media")
"""This machine's media folder for the imports that do not use the sample's."""


def all_ids(store: Store) -> list[int]:
    return [c.id for c in store.list_conversations(archived=None)]


def test_json_round_trip_is_byte_identical(source: Store, sample: Sample, target: Store) -> None:
    exported = render_export(source, all_ids(source), "json")
    imported = import_transcripts(target, exported, media_root=sample.image_file.parent)
    assert [c.uuid for c in imported] == [c.uuid for c in source.list_conversations(archived=None)]
    assert render_export(target, all_ids(target), "json") == exported
    # The conversation list shows them in the same order, archive flags kept.
    assert [c.title for c in target.list_conversations(archived=None)] == [
        c.title for c in source.list_conversations(archived=None)
    ]
    assert [c.uuid for c in target.list_conversations(archived=True)] == [
        c.uuid for c in source.list_conversations(archived=True)
    ]


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_markdown_and_html_round_trip_byte_identical(
    source: Store, sample: Sample, target: Store, tmp_path: Path, fmt: str
) -> None:
    import_transcripts(
        target, render_export(source, all_ids(source), "json"), media_root=sample.image_file.parent
    )
    before = write_export(source, all_ids(source), fmt, tmp_path / "a" / f"chat.{fmt}")  # type: ignore[arg-type]
    after = write_export(target, all_ids(target), fmt, tmp_path / "b" / f"chat.{fmt}")  # type: ignore[arg-type]
    assert [p.relative_to(tmp_path / "a") for p in before] == [
        p.relative_to(tmp_path / "b") for p in after
    ]
    for a, b in zip(before, after, strict=True):
        assert a.read_bytes() == b.read_bytes()


def test_imported_rows_keep_statuses_usage_attachments_and_jobs(
    source: Store, sample: Sample, target: Store
) -> None:
    (chat,) = import_transcripts(
        target, render_export(source, [sample.chat], "json"), media_root=sample.image_file.parent
    )
    original = source.messages(sample.chat)
    rebuilt = target.messages(chat.id)
    fields = ("position", "role", "content", "reasoning", "status", "model", "usage")
    fields += ("finish_reason", "error", "created_at", "updated_at")
    for a, b in zip(original, rebuilt, strict=True):
        assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
        assert len(a.attachments) == len(b.attachments)
    photo = rebuilt[0].attachments[0]
    assert target.attachment_data(photo.id) == source.attachment_data(original[0].attachments[0].id)
    job_message = rebuilt[7]
    assert job_message.job_id is not None
    job = target.get_job(job_message.job_id)
    assert job is not None
    assert (job.state, job.conversation_id, job.kind) == (
        JobState.SUCCEEDED,
        chat.id,
        JobKind.IMAGE,
    )
    assert rebuilt[6].job_id == job.id  # the /image command and its result: one job
    gone = rebuilt[8]
    assert gone.job_id is not None and target.get_job(gone.job_id) is None
    # A job created later never takes the id that link keeps.
    later = target.create_job(
        kind=JobKind.IMAGE,
        provider=JobProvider.SEEDREAM,
        action="generate",
        model="m",
        prompt="p",
        params={},
        idempotency_key="k",
    )
    assert later.id > gone.job_id


def test_an_existing_uuid_is_refused_and_nothing_is_imported(
    source: Store, sample: Sample, target: Store
) -> None:
    import_transcripts(
        target,
        render_export(source, [sample.archived], "json"),
        media_root=sample.image_file.parent,
    )
    both = render_export(source, [sample.chat, sample.archived], "json")
    with pytest.raises(ConversationExists, match="Old times"):
        import_transcripts(target, both, media_root=sample.image_file.parent)
    assert [c.title for c in target.list_conversations(archived=None)] == ["Old times"]
    assert target.list_jobs() == []


def test_copy_makes_a_new_conversation_for_an_existing_uuid(
    source: Store, sample: Sample, target: Store
) -> None:
    text = render_export(source, [sample.chat], "json")
    (first,) = import_transcripts(target, text, media_root=sample.image_file.parent)
    (copy,) = import_transcripts(target, text, copy=True, media_root=sample.image_file.parent)
    assert copy.uuid != first.uuid
    assert copy.title == first.title + COPY_MARK
    assert [m.content for m in target.messages(copy.id)] == [
        m.content for m in target.messages(first.id)
    ]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("not json", "not a JSON file"),
        ("[]", "not a Studio transcript"),
        (
            '{"format": "anyfast-studio-transcripts", "schema_version": 2, "conversations": []}',
            "schema_version 2",
        ),
        (
            '{"format": "anyfast-studio-transcripts", "schema_version": 1}',
            "conversations is missing",
        ),
    ],
)
def test_malformed_or_unknown_files_are_refused_in_one_sentence(
    target: Store, text: str, words: str
) -> None:
    with pytest.raises(ExportError, match=words) as caught:
        import_transcripts(target, text, media_root=MEDIA)
    assert "\n" not in str(caught.value)
    assert target.list_conversations(archived=None) == []


def test_a_bad_field_deep_inside_imports_nothing(
    source: Store, sample: Sample, target: Store
) -> None:
    document = json.loads(render_export(source, [sample.chat, sample.archived], "json"))
    document["conversations"][1]["messages"][1]["role"] = "robot"
    with pytest.raises(ExportError, match=r"conversations\[1\]\.messages\[1\]\.role"):
        import_transcripts(target, json.dumps(document), media_root=sample.image_file.parent)
    document["conversations"][1]["messages"][1]["role"] = "assistant"
    document["conversations"][0]["messages"][0]["attachments"][0]["data"] = "***"
    with pytest.raises(ExportError, match="not base64"):
        import_transcripts(target, json.dumps(document), media_root=sample.image_file.parent)
    assert target.list_conversations(archived=None) == []


@pytest.mark.parametrize(
    ("where", "key", "value", "words"),
    [
        ("message", "position", 10**30, r"messages\[0\]\.position is out of range"),
        ("conversation", "created_at", float("nan"), r"created_at is not a time"),
        ("conversation", "updated_at", float("inf"), r"updated_at is not a time"),
        ("message", "created_at", 1e300, r"created_at is not a time"),
        ("conversation", "temperature", float("inf"), r"temperature is not a finite number"),
    ],
)
def test_numbers_the_store_cannot_keep_are_refused_in_one_sentence(
    source: Store, sample: Sample, target: Store, where: str, key: str, value: object, words: str
) -> None:
    document = json.loads(render_export(source, [sample.chat], "json"))
    conversation = document["conversations"][0]
    (conversation if where == "conversation" else conversation["messages"][0])[key] = value
    with pytest.raises(ExportError, match=words) as caught:
        import_transcripts(target, json.dumps(document), media_root=sample.image_file.parent)
    assert "\n" not in str(caught.value)
    assert target.list_conversations(archived=None) == []


def test_a_streaming_reply_comes_in_cut_and_an_active_job_timed_out(
    source: Store, target: Store
) -> None:
    chat = source.create_conversation(title="Live")
    source.add_message(chat.id, Role.USER, "hi")
    source.start_reply(chat.id, model="gpt-4o")
    job = source.create_job(
        kind=JobKind.VIDEO,
        provider=JobProvider.SEEDANCE,
        action="text2video",
        model="seedance",
        prompt="waves",
        params={},
        idempotency_key="k",
        conversation_id=chat.id,
    )
    source.add_job_message(chat.id, job.id, "Video job running")
    (rebuilt,) = import_transcripts(
        target, render_export(source, [chat.id], "json"), media_root=MEDIA
    )
    messages = target.messages(rebuilt.id)
    assert messages[1].status is MessageStatus.CUT
    assert messages[1].role is Role.ASSISTANT
    rebuilt_job = target.get_job(messages[2].job_id or 0)
    assert rebuilt_job is not None and rebuilt_job.state is JobState.TIMED_OUT


def test_a_link_to_a_gone_job_reserves_an_id_in_a_store_that_never_had_jobs(
    source: Store, target: Store
) -> None:
    chat = source.create_conversation(title="Gone")
    job = source.create_job(
        kind=JobKind.IMAGE,
        provider=JobProvider.SEEDREAM,
        action="generate",
        model="m",
        prompt="p",
        params={},
        idempotency_key="k",
        conversation_id=chat.id,
    )
    source.add_job_message(chat.id, job.id, "Image job failed")
    source.delete_job(job.id)
    text = render_export(source, [chat.id], "json")
    (rebuilt,) = import_transcripts(target, text, media_root=MEDIA)
    (message,) = target.messages(rebuilt.id)
    assert message.job_id is not None
    fresh = target.create_job(
        kind=JobKind.IMAGE,
        provider=JobProvider.SEEDREAM,
        action="generate",
        model="m",
        prompt="p",
        params={},
        idempotency_key="k2",
    )
    assert fresh.id > message.job_id
    assert render_export(target, [rebuilt.id], "json") == text


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_an_imported_job_never_points_at_a_file_outside_the_media_folder(
    source: Store, sample: Sample, target: Store, tmp_path: Path, fmt: str
) -> None:
    # A transcript from someone else whose job "saved" a private file of this machine: a
    # later export would copy (Markdown) or inline (HTML) it, deleting the job would delete it.
    secret = tmp_path / "home" / ".ssh" / "id_ed25519"
    secret.parent.mkdir(parents=True)
    secret.write_bytes(b"PRIVATE KEY BYTES")
    document = json.loads(render_export(source, [sample.chat], "json"))
    for m in document["conversations"][0]["messages"]:
        if m["job"] is not None:
            m["job"]["files"][0]["path"] = str(
                sample.image_file.parent / ".." / "home" / ".ssh" / secret.name
            )
            m["job"]["files"][0]["content_type"] = "image/png"
    (rebuilt,) = import_transcripts(
        target, json.dumps(document), media_root=sample.image_file.parent
    )
    jobs = [target.get_job(m.job_id) for m in target.messages(rebuilt.id) if m.job_id]
    assert all(not j.files for j in jobs if j is not None)
    written = write_export(target, [rebuilt.id], fmt, tmp_path / "out" / f"chat.{fmt}")  # type: ignore[arg-type]
    for path in written:
        assert b"PRIVATE KEY BYTES" not in path.read_bytes()
        assert base64.b64encode(b"PRIVATE KEY BYTES") not in path.read_bytes()
    assert secret.read_bytes() == b"PRIVATE KEY BYTES"
