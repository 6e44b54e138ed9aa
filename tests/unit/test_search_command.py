"""``studio search`` run in-process against a store in a temporary STUDIO_HOME: its lines, its
JSON, its filters and its exit codes (0 found, 1 none, 2 bad usage)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import pytest

from studio.cli import main
from studio.commands.search import BOLD, NORMAL, hit_line, parse_when
from studio.store import Role, Store
from studio.store.search import SearchQuery, search_messages

NOON = datetime(2026, 3, 14, 12, 30).timestamp()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ids() -> dict[str, int]:
    clock = Clock(NOON)
    with Store.open(clock=clock) as store:
        trip = store.create_conversation(title="Trip \x1b]0;owned\x07plans", model="claude")
        store.add_message(trip.id, Role.USER, "Which\tferry goes to the island?")
        clock.now = NOON + 60
        reply = store.add_message(
            trip.id, Role.ASSISTANT, "The morning ferry \x1b[2J leaves at nine.", model="gpt-4o"
        )
        old = store.create_conversation(title="Archive")
        store.set_archived(old.id, True)
        clock.now = NOON - 40 * 86400
        store.add_message(old.id, Role.USER, "ferry timetable from last winter")
        return {"trip": trip.id, "reply": reply.id, "old": old.id}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["search", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_one_sanitised_tab_separated_line_per_hit(
    ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "ferry")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 3
    fields = [line.split("\t") for line in lines]
    assert all(len(f) == 4 for f in fields)
    by_snippet = {f[3]: f for f in fields}
    reply = by_snippet["The morning ferry ␛[2J leaves at nine."]
    assert reply[:3] == [str(ids["trip"]), "2026-03-14 12:31", "Trip ␛]0;owned␇plans"]
    assert "Which ferry goes to the island?" in by_snippet  # the tab became a space
    assert "\x1b" not in out and "\ue000" not in out


def test_matched_words_are_bold_on_a_terminal_unless_no_color(
    ids: dict[str, int], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    _, out, _ = run(capsys, "ferry", "timetable")
    assert out.endswith(f"\t{BOLD}ferry{NORMAL} {BOLD}timetable{NORMAL} from last winter\n")
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run(capsys, "ferry", "timetable")
    assert out.endswith("\tferry timetable from last winter\n")


def test_json_is_a_list_of_hit_objects(
    ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--json", "morning", "fer")
    assert code == 0
    (hit,) = json.loads(out)
    assert hit == {
        "message_id": ids["reply"],
        "conversation_id": ids["trip"],
        "conversation_uuid": hit["conversation_uuid"],
        "title": "Trip \x1b]0;owned\x07plans",
        "archived": False,
        "role": "assistant",
        "model": "gpt-4o",
        "position": 2,
        "created_at": NOON + 60,
        "snippet": "The morning ferry \x1b[2J leaves at nine.",
        "snippet_parts": [
            {"text": "The ", "hit": False},
            {"text": "morning", "hit": True},
            {"text": " ", "hit": False},
            {"text": "ferry", "hit": True},
            {"text": " \x1b[2J leaves at nine.", "hit": False},
        ],
        "rank": hit["rank"],
    }
    assert "\x1b" not in out  # escaped in the JSON text, the same string once parsed


def test_a_limit_past_sqlite_integers_returns_the_hits(
    ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "ferry", "--limit", str(10**30))
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == 3


def test_no_hits_exit_1_with_nothing_printed(
    ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "submarine") == (1, "", "")
    assert run(capsys, "--json", "submarine") == (1, "[]\n", "")


def test_filters_narrow_the_hits(ids: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    def conversations(*argv: str) -> list[tuple[int, str]]:
        _, out, _ = run(capsys, "--json", "ferry", *argv)
        return sorted((h["conversation_id"], h["role"]) for h in json.loads(out))

    trip, old = ids["trip"], ids["old"]
    assert conversations("--role", "assistant") == [(trip, "assistant")]
    assert conversations("--model", "claude") == [(trip, "user")]
    assert conversations("--since", "2026-03-01") == [(trip, "assistant"), (trip, "user")]
    assert conversations("--until", "2026-03-01") == [(old, "user")]
    assert conversations("--since", "2026-03-14", "--until", "2026-03-14") == [
        (trip, "assistant"),
        (trip, "user"),
    ]
    assert conversations("--since", "2026-03-14T12:31") == [(trip, "assistant")]
    assert len(conversations("--limit", "1", "--role", "user")) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "last tuesday", "x"], "--since: 'last tuesday' is not a date"),
        (["--until", "2026-13-01", "x"], "--until: '2026-13-01' is not a date"),
        (["--since", "2026-03-02", "--until", "2026-03-01", "x"], "--since must be before"),
        (["--limit", "0", "x"], "--limit must be 1 or more"),
        (["--", "-", "&&"], "nothing to search for"),
    ],
)
def test_bad_usage_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("studio: ") and message in err and err.count("\n") == 1


def test_bad_role_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["search", "--role", "system", "x"])
    assert exit_info.value.code == 2
    assert "--role" in capsys.readouterr().err


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["search", "--help"])
    out = capsys.readouterr().out
    assert "examples:" in out and "studio search --json" in out and "exit codes:" in out


def test_dates_and_spans() -> None:
    now = NOON
    assert parse_when("7d", option="--since", now=now) == now - 7 * 86400
    assert parse_when("12h", option="--since", now=now) == now - 12 * 3600
    assert parse_when("2W", option="--since", now=now) == now - 14 * 86400
    day = datetime(2026, 3, 14).timestamp()
    assert parse_when("2026-03-14", option="--since", now=now) == day
    assert parse_when("2026-03-14", option="--until", now=now, end_of_day=True) == (
        datetime(2026, 3, 15).timestamp()
    )
    assert parse_when("2026-03-14T12:30:00+00:00", option="--since", now=now) == (
        datetime.fromisoformat("2026-03-14T12:30:00+00:00").timestamp()
    )
    # The same rules as the TUI's search screen (studio.when): today and yesterday too.
    today = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
    assert parse_when("today", option="--since", now=now) == today.timestamp()
    assert parse_when("yesterday", option="--until", now=now, end_of_day=True) == (
        today.timestamp()
    )


def test_hit_line_without_bold_has_no_markers() -> None:
    with Store.open(":memory:") as store:
        cid = store.create_conversation(title="t").id
        store.add_message(cid, Role.USER, "alpha beta")
        (hit,) = search_messages(store, SearchQuery("beta"))
    assert hit_line(hit, bold=False).endswith("\talpha beta\n")
    assert hit_line(hit, bold=True).endswith(f"\talpha {BOLD}beta{NORMAL}\n")


def test_a_real_process_into_a_pipe(ids: dict[str, int]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "studio", "search", "ferry", "island"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.endswith("\tWhich ferry goes to the island?\n")
    missing = subprocess.run(
        [sys.executable, "-m", "studio", "search", "submarine"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (missing.returncode, missing.stdout) == (1, "")
