"""`studio chats` and `studio rm` over the store the TUI uses: real processes."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

from studio.store import Role, Store

from .test_cli import studio


def make(title: str, *, count: int = 1, archived: bool = False, model: str | None = None) -> int:
    with Store.open() as store:
        conversation = store.create_conversation(title=title, model=model)
        for n in range(count):
            store.add_message(conversation.id, Role.USER, f"message {n}")
        if archived:
            store.set_archived(conversation.id, True)
        return conversation.id


def ids_left() -> set[int]:
    with Store.open() as store:
        return {c.id for c in store.list_conversations(archived=None)}


def test_chats_lists_newest_first_with_sanitised_titles() -> None:
    old = make("Old one", count=2, model="gpt-4o")
    new = make("New \x1b]0;pwned\x07 one", count=1)
    make("Put away", archived=True)
    result = studio("chats")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].split()[0] == str(new) and lines[1].split()[0] == str(old)
    assert "\x1b" not in result.stdout and "␛]0;pwned␇" in lines[0]
    assert "gpt-4o" in lines[1] and "2 msgs" in lines[1] and "1 msg " in lines[0]

    archived = studio("chats", "--archived").stdout.splitlines()
    assert len(archived) == 1 and "Put away" in archived[0]
    assert len(studio("chats", "--limit", "1").stdout.splitlines()) == 1
    assert studio("chats", "--limit", "0").returncode == 2


def test_chats_json_is_a_stable_list() -> None:
    cid = make("Plans", count=3, model="gpt-4o")
    result = studio("chats", "--json")
    assert result.returncode == 0, result.stderr
    [entry] = json.loads(result.stdout)
    assert set(entry) == {
        "version",
        "id",
        "uuid",
        "title",
        "model",
        "messages",
        "archived",
        "created_at",
        "updated_at",
    }
    assert entry["id"] == cid and entry["title"] == "Plans" and entry["messages"] == 3
    assert json.loads(studio("chats", "--json", "--archived").stdout) == []


def test_rm_refuses_without_yes_when_no_one_can_be_asked() -> None:
    cid = make("Keep me")
    result = studio("rm", str(cid))
    assert result.returncode == 2
    assert "--yes" in result.stderr and "Traceback" not in result.stderr
    assert ids_left() == {cid}


def test_rm_yes_deletes_and_says_what() -> None:
    first, second, kept = make("First", count=2), make("Second"), make("Kept")
    with Store.open() as store:
        second_uuid = store.get_conversation(second).uuid  # type: ignore[union-attr]
    result = studio("rm", str(first), second_uuid, "--yes")
    assert result.returncode == 0, result.stderr
    assert f"removed {first} “First” (2 messages)" in result.stdout
    assert f"removed {second} “Second” (1 message)" in result.stdout
    assert ids_left() == {kept}


def test_rm_with_an_unknown_id_deletes_nothing() -> None:
    cid = make("Still here")
    result = studio("rm", str(cid), "999", "--yes")
    assert result.returncode == 2
    assert "no conversation 999" in result.stderr
    assert ids_left() == {cid}


def test_rm_asks_on_a_terminal() -> None:
    keep, gone = make("Answer no"), make("Answer yes")
    for cid, answer, code in ((keep, b"n\n", 1), (gone, b"y\n", 0)):
        controller, terminal = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "studio", "rm", str(cid)],
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(os.environ),
        )
        os.close(terminal)
        os.write(controller, answer)
        _, err = proc.communicate(timeout=30)
        os.close(controller)
        assert proc.returncode == code, err
        assert b"[y/N]" in err
    assert ids_left() == {keep}
