"""ConversationWatcher: what another connection changed in the conversations, found cheaply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.store import Role, Store
from studio.store.watch import ConversationWatcher


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two connections to one file: a running TUI and a ``studio ask``."""
    path = tmp_path / "studio.db"
    with Store.open(path) as a, Store.open(path) as b:
        yield a, b


def test_first_poll_reports_every_conversation_then_nothing(two: tuple[Store, Store]) -> None:
    a, b = two
    ids = {a.create_conversation(title=f"c{n}").id for n in range(3)}
    watcher = ConversationWatcher(b)
    first = watcher.poll()
    assert first is not None and first.new == ids and not first.changed and not first.removed
    assert watcher.poll() is None  # nobody committed since


def test_new_changed_and_removed_are_told_apart(two: tuple[Store, Store]) -> None:
    a, b = two
    talked, renamed, archived, deleted, quiet = (
        a.create_conversation(title=f"c{n}").id for n in range(5)
    )
    watcher = ConversationWatcher(b)
    watcher.poll()
    a.add_message(talked, Role.USER, "hello")
    a.rename_conversation(renamed, "A better title")
    a.set_archived(archived, True)  # its updated_at is kept: the flag itself is compared
    a.delete_conversation(deleted)
    fresh = a.create_conversation().id
    changes = watcher.poll()
    assert changes is not None
    assert changes.changed == {talked, renamed, archived}
    assert changes.new == {fresh} and changes.removed == {deleted}
    assert quiet not in changes.changed
    assert watcher.poll() is None


def test_own_writes_alone_move_nothing(two: tuple[Store, Store]) -> None:
    a, b = two
    cid = a.create_conversation().id
    watcher = ConversationWatcher(b)
    watcher.poll()
    b.add_message(cid, Role.USER, "written here")
    assert watcher.poll() is None  # this connection's own commit
    a.add_message(cid, Role.USER, "written there")
    changes = watcher.poll()
    assert changes is not None and changes.changed == {cid}


def test_a_foreign_commit_to_no_conversation_reports_nothing(two: tuple[Store, Store]) -> None:
    a, b = two
    cid = a.create_conversation().id
    watcher = ConversationWatcher(b)
    watcher.poll()
    a.add_prompt_history("a prompt typed in another window")  # not a conversation
    changes = watcher.poll()
    assert changes is not None and not changes  # looked (the file changed), found nothing
    a.add_message(cid, Role.USER, "and now one")
    changes = watcher.poll()
    assert changes is not None and changes.changed == {cid}
