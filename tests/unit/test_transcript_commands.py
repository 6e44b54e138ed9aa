"""``studio export``, ``studio import`` and ``studio show`` run in-process against a store in a
temporary STUDIO_HOME."""

from __future__ import annotations

import io
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from studio import paths
from studio.cli import main
from studio.store import Role, Store
from tests.transcript_samples import RED_PNG, Sample, fill, ticking_clock


@pytest.fixture
def sample() -> Sample:
    with Store.open(clock=ticking_clock()) as store:
        return fill(store, paths.media_dir())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def conversations() -> list[tuple[str, str]]:
    with Store.open() as store:
        return [(c.uuid, c.title) for c in store.list_conversations(archived=None)]


def test_export_to_stdout_by_number_or_uuid(
    sample: Sample, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "export", str(sample.chat))
    assert (code, err) == (0, "")
    assert out.startswith("# Plans \\<b\\>\\& \\#1\n")
    uuid = dict((t, u) for u, t in conversations())["Plans <b>& #1"]
    code, out, _ = run(capsys, "export", uuid, "--format", "json")
    assert code == 0
    assert json.loads(out)["conversations"][0]["uuid"] == uuid


def test_export_all_skips_archived_unless_asked(
    sample: Sample, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "export", "--all", "--format", "json")
    assert [c["title"] for c in json.loads(out)["conversations"]] == ["Plans <b>& #1"]
    _, out, _ = run(capsys, "export", "--all", "--archived", "--format", "json")
    titles = [c["title"] for c in json.loads(out)["conversations"]]
    assert sorted(titles) == ["Old times", "Plans <b>& #1"]


def test_export_to_a_file_infers_the_format_and_to_a_folder_names_a_new_file(
    sample: Sample, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "export", str(sample.chat), "-o", str(tmp_path / "chat.html"))
    assert code == 0
    assert out == f"{tmp_path / 'chat.html'}\n"
    assert (tmp_path / "chat.html").read_text("utf-8").startswith("<!DOCTYPE html>")
    folder = tmp_path / "exports"
    folder.mkdir()
    code, out, err = run(capsys, "export", str(sample.chat), "-o", str(folder))
    assert code == 0
    written = Path(out.strip())
    assert written.parent == folder and written.suffix == ".md"
    assert (folder / f"{written.stem}_files" / "001-photo-one.png").read_bytes() == RED_PNG
    assert "2 file(s) copied" in err


def test_export_into_a_fifo_writes_through_it_and_leaves_it_a_fifo(
    sample: Sample, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # -o /dev/stdout, a named pipe: the export goes into it; replacing it by a file (as a
    # temporary renamed over it does) would remove the pipe, and /dev/full for root.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    try:
        code, _, err = run(capsys, "export", str(sample.chat), "--format", "json", "-o", str(fifo))
    finally:
        if reader.is_alive():  # the export never opened it: let the reader go
            with open(fifo, "wb"):
                pass
        reader.join(5)
    assert (code, err) == (0, "")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert json.loads(got[0])["conversations"][0]["title"] == "Plans <b>& #1"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["export"], "name the conversations"),
        (["export", "1", "--all"], "name the conversations"),
        (["export", "1", "--archived"], "--archived goes with --all"),
        (["export", "999"], "no conversation 999"),
        (["export", "nonsense"], "not a conversation number or uuid"),
        (["show", "999"], "no conversation 999"),
        (["show", "99999999999999999999999"], "no conversation 99999999999999999999999"),
        (["export", "\u00b2"], "not a conversation number or uuid"),
    ],
)
def test_export_usage_errors_are_one_line_and_exit_2(
    sample: Sample, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert words in err and err.count("\n") == 1


def test_import_then_refusal_then_copy(
    sample: Sample, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "all.json"
    assert run(capsys, "export", "--all", "--archived", "-o", str(target))[0] == 0
    before = conversations()

    code, out, err = run(capsys, "import", str(target))
    assert code == 2
    assert "is already in the store" in err and "--copy" in err and err.count("\n") == 1
    assert conversations() == before

    code, out, err = run(capsys, "import", "--copy", str(target))
    assert (code, err) == (0, "")
    assert out.count("imported ") == 2
    assert "“Plans <b>& #1 (copy)” (9 messages)" in out
    assert len(conversations()) == 4


def test_import_into_an_empty_store_round_trips(
    sample: Sample, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "all.json"
    run(capsys, "export", "--all", "--archived", "-o", str(target))
    paths.database_file().unlink()
    code, out, _ = run(capsys, "import", str(target))
    assert code == 0 and out.count("imported ") == 2
    again = tmp_path / "again.json"
    run(capsys, "export", "--all", "--archived", "-o", str(again))
    assert again.read_bytes() == target.read_bytes()


def test_import_reads_stdin(
    sample: Sample, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, text, _ = run(capsys, "export", str(sample.archived), "--format", "json")
    paths.database_file().unlink()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    code, out, _ = run(capsys, "import", "-")
    assert code == 0
    assert out.startswith("imported 1 “Old times” (2 messages)")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"{oops", "not a JSON file"),
        (b'{"format": "anyfast-studio-transcripts", "schema_version": 9}', "schema_version 9"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_import_refuses_malformed_files_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, words: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    code, out, err = run(capsys, "import", str(bad))
    assert (code, out) == (2, "")
    assert words in err and err.count("\n") == 1
    assert conversations() == []
    code, _, err = run(capsys, "import", str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read" in err


def test_show_prints_markdown_sanitised_unless_raw(capsys: pytest.CaptureFixture[str]) -> None:
    with Store.open() as store:
        chat = store.create_conversation(title="Escapes")
        store.add_message(chat.id, Role.USER, "clear?")
        store.add_message(chat.id, Role.ASSISTANT, "boom \x1b[2J\x1b]52;c;aGk=\x07 done")
    code, out, _ = run(capsys, "show", str(chat.id))
    assert code == 0
    assert out.startswith("# Escapes\n")
    assert "\x1b" not in out and "\x07" not in out
    assert "boom ␛[2J␛]52;c;aGk=␇ done" in out
    code, out, _ = run(capsys, "show", "--raw", str(chat.id))
    assert "boom \x1b[2J\x1b]52;c;aGk=\x07 done" in out


@pytest.mark.parametrize("command", ["export", "import", "show"])
def test_help_has_examples(capsys: pytest.CaptureFixture[str], command: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"studio {command}" in out


def test_no_export_command_writes_the_api_key(
    sample: Sample,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    assert main(["config", "set", "api_key", "sk-config-SECRET-123456789"]) == 0
    monkeypatch.setenv("ANYFAST_API_KEY", "sk-env-SECRET-987654321")
    capsys.readouterr()
    for fmt in ("md", "json", "html"):
        _, out, err = run(capsys, "export", "--all", "--archived", "--format", fmt)
        assert "SECRET" not in out + err
        run(capsys, "export", "--all", "--archived", "-o", str(tmp_path / f"all.{fmt}"))
    _, out, _ = run(capsys, "show", str(sample.chat))
    assert "SECRET" not in out
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix in (".md", ".json", ".html", ".png"):
            assert b"SECRET" not in path.read_bytes()
