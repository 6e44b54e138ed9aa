"""A database Studio cannot use: one sentence (what, which file, left untouched, what to do),
a typed ``StoreUnavailable``, and the file's bytes exactly as they were."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from studio.store import (
    Store,
    StoreError,
    StoreProblem,
    StoreUnavailable,
    check_database,
    schema,
)
from studio.store.errors import unavailable_from
from tests.bad_stores import side_files, write_damaged, write_not_a_database, write_too_new


def skip_unless_modes_stop_writes(tmp_path: Path) -> None:
    """Root (with CAP_DAC_OVERRIDE) writes into a 0o500 folder anyway: skip there. A file in
    place of the folder covers the unwritable case for root too."""
    probe = tmp_path / "probe"
    probe.mkdir(mode=0o500)
    try:
        (probe / "x").touch()
    except PermissionError:
        return
    finally:
        probe.chmod(0o700)
    pytest.skip("file modes do not stop this user's writes (root): chmod cannot simulate it")


def open_refused(path: Path) -> StoreUnavailable:
    with pytest.raises(StoreUnavailable) as caught:
        Store.open(path)
    assert isinstance(caught.value, StoreError)  # callers catching StoreError still do
    assert not isinstance(caught.value, sqlite3.Error)
    return caught.value


def one_sentence(message: str) -> None:
    assert "\n" not in message and "Traceback" not in message
    assert message.endswith(".") and message.count(". ") == 0, message


# -- not a database ----------------------------------------------------------------------------


def test_random_bytes_are_not_a_database_and_stay_as_they_were(tmp_path: Path) -> None:
    path = tmp_path / "studio.db"
    data = write_not_a_database(path)
    error = open_refused(path)
    assert error.problem is StoreProblem.NOT_A_DATABASE and error.path == path
    message = str(error)
    one_sentence(message)
    assert f"{path} is not a SQLite file" in message
    assert "left it untouched" in message
    assert f"mv {path} {path}.broken" in message
    assert "starts a new, empty one" in message
    assert path.read_bytes() == data
    assert side_files(path) == []


def test_a_folder_in_place_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "studio.db"
    path.mkdir()
    error = open_refused(path)
    assert error.problem is StoreProblem.NOT_A_DATABASE
    assert f"{path} is a folder, not a Studio database" in str(error)


def test_the_move_aside_command_is_quoted_for_the_shell(tmp_path: Path) -> None:
    path = tmp_path / "my data" / "studio.db"
    write_not_a_database(path)
    assert f"mv '{path}' '{path}.broken'" in str(open_refused(path))


# -- damaged -----------------------------------------------------------------------------------


def test_a_damaged_first_page_is_refused_at_open(tmp_path: Path) -> None:
    path = tmp_path / "studio.db"
    with Store.open(path) as store:
        store.create_conversation(title="soon unreadable")
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)  # the schema table; the header stays SQLite's
    path.write_bytes(bytes(data))
    error = open_refused(path)
    assert error.problem is StoreProblem.DAMAGED
    one_sentence(str(error))
    assert f"The Studio database {path} is damaged" in str(error)
    assert f"mv {path} {path}.broken" in str(error)
    assert path.read_bytes() == bytes(data)


def test_a_damaged_header_reads_as_damaged_not_foreign(tmp_path: Path) -> None:
    path = tmp_path / "studio.db"
    Store.open(path).close()
    data = bytearray(path.read_bytes())
    data[16:100] = b"\xff" * 84  # page size, versions, counters: all impossible
    path.write_bytes(bytes(data))
    assert open_refused(path).problem is StoreProblem.DAMAGED
    assert path.read_bytes() == bytes(data)


def test_a_damaged_middle_page_fails_only_what_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "studio.db"
    damaged = write_damaged(path)
    with Store.open(path) as store:  # opening reads no message page
        assert store.problem is None
        assert {c.title for c in store.list_conversations()} == {"intact", "damaged"}
        with pytest.raises(StoreUnavailable) as caught:
            store.messages(damaged.damaged_id)
        assert caught.value.problem is StoreProblem.DAMAGED
        assert "database disk image is malformed" in str(caught.value)
        one_sentence(str(caught.value))
        assert store.problem is caught.value
        # the rest of the file is still there to read
        assert [m.content for m in store.messages(damaged.intact_id)] == [
            "still readable",
            "and so is this",
        ]
    # nothing was written: no statistics refreshed at close, no repair attempted
    assert path.read_bytes() == damaged.data
    assert side_files(path) == []


def test_close_after_damage_never_raises(tmp_path: Path) -> None:
    path = tmp_path / "studio.db"
    damaged = write_damaged(path)
    store = Store.open(path)
    with pytest.raises(StoreUnavailable):
        store.messages(damaged.damaged_id)
    store.close()
    assert store.closed


# -- too new -----------------------------------------------------------------------------------


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
def test_a_newer_schema_is_refused_and_left_as_it_was(tmp_path: Path, wal: bool) -> None:
    path = tmp_path / "studio.db"
    data = write_too_new(path, wal=wal)
    error = open_refused(path)
    newer, known = schema.latest_version() + 1, schema.latest_version()
    assert error.problem is StoreProblem.TOO_NEW
    message = str(error)
    one_sentence(message)
    assert f"{path} has schema version {newer}" in message
    assert f"knows only up to {known}" in message
    assert "upgrade AnyFast Studio" in message and "left untouched" in message
    assert f"mv {path} {path}.newer" in message
    # not even switched to WAL (that rewrites the header) before the version was read
    assert path.read_bytes() == data
    assert side_files(path) == []


# -- unwritable --------------------------------------------------------------------------------


def test_a_file_where_the_data_folder_should_be(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_bytes(b"a file, not a folder")
    path = blocker / "studio.db"
    error = open_refused(path)
    assert error.problem is StoreProblem.UNWRITABLE
    message = str(error)
    one_sentence(message)
    assert f"Studio's database {path} cannot be created" in message
    assert f"{blocker} is a file where Studio needs a folder" in message
    assert "nothing was changed" in message
    assert f"mv {blocker} {blocker}.aside" in message
    assert blocker.read_bytes() == b"a file, not a folder"


def test_a_read_only_data_folder(tmp_path: Path) -> None:
    skip_unless_modes_stop_writes(tmp_path)
    folder = tmp_path / "data"
    folder.mkdir(mode=0o500)
    try:
        error = open_refused(folder / "studio.db")
    finally:
        folder.chmod(0o700)
    assert error.problem is StoreProblem.UNWRITABLE
    assert f"fix the permissions of {folder} (chmod u+rwx {folder})" in str(error)
    assert list(folder.iterdir()) == []


def test_a_database_in_a_read_only_folder(tmp_path: Path) -> None:
    skip_unless_modes_stop_writes(tmp_path)
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "studio.db"
    Store.open(path).close()
    data = path.read_bytes()
    folder.chmod(0o500)  # WAL needs its -wal and -shm files beside the database
    try:
        error = open_refused(path)
    finally:
        folder.chmod(0o700)
    assert error.problem is StoreProblem.UNWRITABLE
    assert "fix the permissions" in str(error)
    assert path.read_bytes() == data


def test_a_write_refused_by_sqlite_reads_as_unwritable(tmp_path: Path) -> None:
    """SQLite's own "attempt to write a readonly database" (what a 0400 file gives a normal
    user), produced for real with ``query_only`` since the tests may run as root."""
    path = tmp_path / "studio.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA query_only = 1")
    try:
        with pytest.raises(StoreUnavailable) as caught, schema.translate_errors(path):
            conn.execute("CREATE TABLE t (x)")
    finally:
        conn.close()
    assert caught.value.problem is StoreProblem.UNWRITABLE
    assert f"Studio cannot write to its database {path}" in str(caught.value)
    assert f"chmod u+rw {path}; chmod u+rwx {tmp_path}" in str(caught.value)


def test_other_sqlite_errors_stay_plain_store_errors(tmp_path: Path) -> None:
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorname = "SQLITE_BUSY"  # type: ignore[attr-defined]
    assert unavailable_from(busy, tmp_path / "studio.db") is None
    corrupt = sqlite3.DatabaseError("database disk image is malformed")
    corrupt.sqlite_errorname = "SQLITE_CORRUPT"  # type: ignore[attr-defined]
    assert unavailable_from(corrupt, None) is None  # in memory: no file to move aside


# -- check_database (studio doctor) ------------------------------------------------------------


def test_check_a_healthy_database(tmp_path: Path) -> None:
    path = tmp_path / "studio.db"
    with Store.open(path) as store:
        store.create_conversation()
    data = path.read_bytes()
    health = check_database(path)
    assert health.ok and health.exists
    assert health.schema_version == schema.latest_version()
    assert health.conversations == 1
    assert path.read_bytes() == data and side_files(path) == []


def test_check_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "data" / "studio.db"
    health = check_database(path)
    assert health.ok and not health.exists
    assert not path.parent.exists()


def test_check_finds_a_damaged_middle_page_that_open_does_not(tmp_path: Path) -> None:
    path = tmp_path / "studio.db"
    damaged = write_damaged(path)
    health = check_database(path)
    assert isinstance(health.problem, StoreUnavailable)
    assert health.problem.problem is StoreProblem.DAMAGED
    assert f"The Studio database {path} is damaged" in str(health.problem)
    one_sentence(str(health.problem))
    assert path.read_bytes() == damaged.data and side_files(path) == []


@pytest.mark.parametrize("case", ["not_a_database", "too_new", "unwritable"])
def test_check_names_the_same_problem_as_open(tmp_path: Path, case: str) -> None:
    path = tmp_path / "studio.db"
    if case == "not_a_database":
        data = write_not_a_database(path)
    elif case == "too_new":
        data = write_too_new(path)
    else:
        (tmp_path / "file").write_bytes(b"x")
        path, data = tmp_path / "file" / "studio.db", b"x"
    health = check_database(path)
    assert isinstance(health.problem, StoreUnavailable)
    assert health.problem.problem == case
    assert str(health.problem) == str(open_refused(path))
    if case != "unwritable":
        assert path.read_bytes() == data
