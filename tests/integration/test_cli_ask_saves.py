"""`studio ask` keeps what it asks: real processes against the emulator, one store.

A new conversation per ask (titled from the prompt, with its model), ``-c`` and ``--cid`` to go
on with one (its history sent), ``--no-save``, ``--json``, and nothing lost when the reply is
stopped with ctrl+c or cut by the network.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from studio.emulator import EmulatorServer
from studio.paths import database_file
from studio.store import MessageStatus, Role, Store

from .test_cli import against, studio


def conversations() -> list:  # type: ignore[type-arg]
    with Store.open() as store:
        return store.list_conversations(archived=None)


def messages(cid: int) -> list:  # type: ignore[type-arg]
    with Store.open() as store:
        return store.messages(cid)


def test_ask_saves_a_new_conversation_titled_from_the_prompt(emulator: EmulatorServer) -> None:
    result = studio(
        "ask",
        "-m",
        "gpt-4o-mini",
        "Why is the sky blue? [[emulator: tokens=6]]",
        env=against(emulator),
    )
    assert result.returncode == 0, result.stderr
    [conversation] = conversations()
    assert conversation.title.startswith("Why is the sky blue?")
    assert conversation.model == "gpt-4o-mini"
    user, reply = messages(conversation.id)
    assert user.role is Role.USER and user.content.startswith("Why is the sky blue?")
    assert reply.role is Role.ASSISTANT and reply.status is MessageStatus.COMPLETE
    assert reply.content.split() == result.stdout.split()
    assert reply.model == "gpt-4o-mini" and reply.usage is not None


def test_continue_and_cid_send_the_history(emulator: EmulatorServer) -> None:
    env = against(emulator)
    assert studio("ask", "first question here [[emulator: tokens=9]]", env=env).returncode == 0
    assert studio("ask", "another conversation [[emulator: tokens=3]]", env=env).returncode == 0
    alone = json.loads(studio("ask", "--no-save", "--json", "go on", env=env).stdout)
    first, second = sorted(conversations(), key=lambda c: c.id)

    result = studio("ask", "--cid", str(first.id), "--json", "go on", env=env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["conversation_id"] == first.id
    assert [m.role for m in messages(first.id)] == [Role.USER, Role.ASSISTANT] * 2
    # the earlier turn went with it: 2 words alone, 2 + the first prompt and its 9-token reply
    assert answer["usage"]["prompt_tokens"] > alone["usage"]["prompt_tokens"] + 9

    # -c: the most recently updated conversation (the one just continued), also by uuid
    result = studio("ask", "-c", "--json", "and then?", env=env)
    assert json.loads(result.stdout)["conversation_id"] == first.id
    result = studio("ask", "--cid", second.uuid.upper(), "--json", "more", env=env)
    assert json.loads(result.stdout)["conversation_uuid"] == second.uuid
    assert len(messages(first.id)) == 6 and len(messages(second.id)) == 4

    # --no-save with -c: the history is sent, nothing is added to it
    result = studio("ask", "--no-save", "-c", "--json", "forget this", env=env)
    answer = json.loads(result.stdout)
    assert answer["conversation_id"] is None and answer["message_id"] is None
    assert answer["usage"]["prompt_tokens"] > alone["usage"]["prompt_tokens"] + 3
    assert len(messages(second.id)) == 4 and len(conversations()) == 2


def test_a_conversation_that_is_not_there_is_a_usage_error(emulator: EmulatorServer) -> None:
    for ref in ("42", "not-a-uuid"):
        result = studio("ask", "--cid", ref, "hello", env=against(emulator))
        assert result.returncode == 2
        assert "studio chats" in result.stderr and "Traceback" not in result.stderr
    assert conversations() == []


def test_no_save_keeps_nothing(emulator: EmulatorServer) -> None:
    result = studio(
        "ask", "--no-save", "--json", "hello [[emulator: tokens=4]]", env=against(emulator)
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["conversation_id"] is None and answer["message_id"] is None
    assert answer["conversation_uuid"] is None
    assert conversations() == []


def test_json_is_one_object_and_nothing_streams(emulator: EmulatorServer) -> None:
    result = studio("ask", "--json", "hi [[emulator: tokens=5; think=3]]", env=against(emulator))
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)  # the whole of stdout is the object
    assert set(answer) == {
        "version",
        "reply",
        "reasoning",
        "model",
        "usage",
        "finish_reason",
        "status",
        "error",
        "conversation_id",
        "conversation_uuid",
        "message_id",
    }
    assert len(answer["reply"].split()) == 5 and answer["reasoning"]
    assert answer["status"] == "complete" and answer["finish_reason"] == "stop"
    assert answer["usage"]["completion_tokens"] >= 5
    [conversation] = conversations()
    assert answer["conversation_uuid"] == conversation.uuid
    assert answer["message_id"] == messages(conversation.id)[-1].id
    assert "tokens" not in result.stderr  # the usage is in the object


def test_a_cut_stream_is_saved_with_its_partial_text(emulator: EmulatorServer) -> None:
    prompt = "hello [[emulator: tokens=50; fault=disconnect:7]]"
    result = studio("ask", prompt, env=against(emulator))
    assert result.returncode == 1
    assert "cut off" in result.stderr.lower()
    result = studio("ask", "--json", prompt, env=against(emulator))
    assert result.returncode == 1
    answer = json.loads(result.stdout)
    assert answer["status"] == "cut" and answer["error"]
    for conversation in conversations():
        reply = messages(conversation.id)[-1]
        assert reply.status is MessageStatus.CUT
        assert len(reply.content.split()) == 7


def test_ctrl_c_saves_the_reply_as_stopped(emulator: EmulatorServer) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", "ask", "count [[emulator: tokens=400; rate=40]]"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **against(emulator)},
    )
    assert proc.stdout is not None
    first = os.read(proc.stdout.fileno(), 64)  # the reply has begun
    assert first
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert b"interrupted" in err
    [conversation] = conversations()
    reply = messages(conversation.id)[-1]
    assert reply.status is MessageStatus.STOPPED
    printed = (first + out).decode().split()
    assert 0 < len(reply.content.split()) < 400
    assert reply.content.split()[: len(printed)] == printed[: len(reply.content.split())]


def test_a_pipe_is_asked_and_saved(tmp_path: Path) -> None:
    home = tmp_path / "piped-home"
    env = {**os.environ, "STUDIO_HOME": str(home)}
    result = subprocess.run(  # noqa: S602 - a real shell pipe is what is tested
        "printf 'line one\\nline two\\n' | "
        f"{shlex.quote(sys.executable)} -m studio ask --demo -q 'Summarise: [[emulator: tokens=4]]'",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 4
    with Store.open(home / "data" / "studio.db") as store:
        [conversation] = store.list_conversations()
        user = store.messages(conversation.id)[0]
    assert user.content == "Summarise: [[emulator: tokens=4]]\n\nline one\nline two"


@pytest.fixture(autouse=True)
def _no_leftover_faults(emulator: EmulatorServer) -> None:
    emulator.clear_faults()


def test_a_keyboard_interrupt_mid_stream_saves_the_reply_as_stopped(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # ctrl+c raised as a piece of the reply is shown (not turned into a task cancel)
    from studio.cli import main
    from studio.commands import ask

    shown: list[str] = []

    def show_then_interrupt(delta: ask.ReplyDelta, *_: object) -> None:
        shown.append(delta.content)
        if len(shown) == 3:
            raise KeyboardInterrupt

    for name, value in against(emulator).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(ask, "_show_delta", show_then_interrupt)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = main(["ask", "count [[emulator: tokens=300; rate=200]]"])
    assert code == 130
    out, err = capsys.readouterr()
    assert "interrupted" in err
    [conversation] = conversations()
    reply = messages(conversation.id)[-1]
    assert reply.status is MessageStatus.STOPPED
    assert reply.content == "".join(shown)
    assert out == ""  # what was shown went through the stub


def test_a_reader_that_goes_away_leaves_the_reply_saved_as_stopped(
    emulator: EmulatorServer,
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", "ask", "count [[emulator: tokens=2000; rate=200]]"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **against(emulator)},
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert os.read(proc.stdout.fileno(), 64)  # the reply has begun: then `| head` is done
    proc.stdout.close()
    proc.wait(timeout=30)
    assert b"Traceback" not in proc.stderr.read()
    [conversation] = conversations()
    reply = messages(conversation.id)[-1]
    assert reply.status is MessageStatus.STOPPED
    assert 0 < len(reply.content.split()) < 2000


def test_an_unusable_database_is_exit_4_before_anything_is_sent(emulator: EmulatorServer) -> None:
    database = database_file()
    database.parent.mkdir(parents=True, exist_ok=True)
    database.write_bytes(b"this is not a database\n" * 200)
    before = len(emulator.requests)
    result = studio("ask", "hello", env=against(emulator))
    assert result.returncode == 4
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert len(emulator.requests) == before  # nothing asked that could not be kept
    assert studio("chats").returncode == 4
    result = studio("ask", "--no-save", "-q", "hello [[emulator: tokens=2]]", env=against(emulator))
    assert result.returncode == 0, result.stderr  # --no-save needs no database
