"""Opening the database: file modes, pragmas, migrations, refusing bad or newer files."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from studio import paths
from studio.store import Role, Store, StoreError, schema
from studio.store.schema import Migration

POSIX = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX-only")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_default_location_is_the_data_dir() -> None:
    with Store.open() as store:
        assert store.path == paths.database_file()
        conversation = store.create_conversation()
    assert paths.database_file().is_file()
    with Store.open() as again:
        assert again.get_conversation(conversation.id) is not None


@POSIX
def test_new_database_and_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "nested" / "studio.db"
    old_umask = os.umask(0o022)
    try:
        with Store.open(path) as store:
            store.create_conversation()
            assert mode(path) == 0o600
            assert mode(path.parent) == 0o700
            assert mode(path.parent.parent) == 0o700
            wal = path.with_name(path.name + "-wal")
            assert wal.exists()
            assert mode(wal) == 0o600
    finally:
        os.umask(old_umask)


@POSIX
def test_existing_file_mode_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    Store.open(path).close()
    path.chmod(0o640)
    Store.open(path).close()
    assert mode(path) == 0o640


def test_connection_pragmas(tmp_path: Path) -> None:
    conn = schema.connect(tmp_path / "p.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert conn.isolation_level is None
    finally:
        conn.close()


def test_fresh_database_gets_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    packaged = resources.files("studio.store").joinpath("migrations")
    scripts = sorted(entry.name for entry in packaged.iterdir() if entry.name.endswith(".sql"))
    assert scripts[0] == "0001_initial.sql"
    with Store.open(path) as store:
        assert store.schema_version == schema.latest_version() == len(scripts)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(scripts)
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    assert {"conversations", "messages", "attachments", "app_state", "prompt_history"} <= tables
    assert {"messages_conversation_position", "conversations_archived_updated"} <= tables


def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "again.db"
    Store.open(path).close()
    with Store.open(path) as store:
        assert store.schema_version == schema.latest_version()


def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    Store.open(path).close()
    newer = schema.latest_version() + 1
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {newer}")
    with pytest.raises(StoreError, match=f"schema version {newer}.*newer Studio") as caught:
        Store.open(path)
    assert str(path) in str(caught.value)


def test_older_database_is_upgraded_one_transaction_per_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    with Store.open(path) as store:
        conversation = store.create_conversation(title="from version 1")
    packaged = schema.migrations()
    base = len(packaged)
    extra = (
        Migration(
            base + 1, f"{base + 1:04d}_tags.sql", "CREATE TABLE tags (name TEXT PRIMARY KEY);\n"
        ),
        Migration(
            base + 2,
            f"{base + 2:04d}_trigger.sql",
            "-- a trigger body has semicolons inside\n"
            "CREATE TRIGGER tags_lower AFTER INSERT ON tags BEGIN\n"
            "  UPDATE tags SET name = lower(name) WHERE name = NEW.name;\n"
            "END;\n",
        ),
    )
    monkeypatch.setattr(schema, "migrations", lambda: packaged + extra)
    with Store.open(path) as store:
        assert store.schema_version == base + 2
        assert store.get_conversation(conversation.id) is not None
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO tags VALUES ('LOUD')")
        assert raw.execute("SELECT name FROM tags").fetchall() == [("loud",)]


def test_failed_migration_rolls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "broken.db"
    Store.open(path).close()
    packaged = schema.migrations()
    broken = Migration(
        len(packaged) + 1, "NNNN_broken.sql", "CREATE TABLE half (x);\nCREATE TABLE oops (;\n"
    )
    monkeypatch.setattr(schema, "migrations", lambda: (*packaged, broken))
    with pytest.raises(StoreError, match="syntax error"):
        Store.open(path)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(packaged)
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    assert "half" not in tables


def test_split_statements_keeps_trigger_bodies_whole() -> None:
    script = (
        "-- comment; with a semicolon\n"
        "CREATE TABLE a (x);\n"
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n"
        "  INSERT INTO a VALUES (1);\n"
        "  INSERT INTO a VALUES (2);\n"
        "END;\n"
        "-- trailing comment\n"
    )
    statements = schema.split_statements(script)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")
    with pytest.raises(StoreError, match="incomplete"):
        schema.split_statements("CREATE TABLE b (x)")


@pytest.mark.parametrize(
    "content",
    [
        b"this is certainly not a database\n" * 200,
        b"SQLite format 3\x00" + b"\xff" * 4080,
    ],
    ids=["text", "bad-header"],
)
def test_corrupt_file_raises_store_error_naming_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(content)
    with pytest.raises(StoreError) as caught:
        Store.open(path)
    assert str(path) in str(caught.value)
    assert not isinstance(caught.value, sqlite3.Error)
    assert path.read_bytes() == content  # never "repaired" by overwriting


def test_directory_in_place_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a-directory.db"
    path.mkdir()
    with pytest.raises(StoreError, match="a-directory.db"):
        Store.open(path)


def test_file_in_place_of_the_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot be created"):
        Store.open(blocker / "studio.db")


def test_the_store_package_does_not_import_textual() -> None:
    code = (
        "import sys, studio.store, studio.store.store\n"
        "print('textual' in sys.modules or any(m.startswith('textual.') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_works_after_a_schema_round_trip(tmp_path: Path) -> None:
    """A reopened, already-migrated file accepts writes (the migration left no open lock)."""
    path = tmp_path / "rw.db"
    Store.open(path).close()
    with Store.open(path) as store:
        conversation = store.create_conversation()
        store.add_message(conversation.id, Role.USER, "hi")
        assert store.count_messages(conversation.id) == 1


def test_damaged_pages_raise_store_error(tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    with Store.open(path) as store:
        conversation = store.create_conversation(title="soon unreadable")
        store.add_message(conversation.id, Role.USER, "x" * 10_000)
    assert not path.with_name(path.name + "-wal").exists()  # checkpointed on close
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)  # the schema table on page 1
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="damaged") as caught:
        Store.open(path)
    assert str(path) in str(caught.value)
