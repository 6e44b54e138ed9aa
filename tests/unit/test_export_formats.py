"""The three export formats, one by one: structure, escaping, media, and no API key."""

from __future__ import annotations

import base64
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from studio import paths
from studio.export import ExportError, default_export_path, render_export, write_export
from studio.export.text import close_open_fence, close_open_html, fence
from studio.store import Role, Store
from tests.transcript_samples import (
    CUT_TEXT,
    ERROR_TEXT,
    RED_PNG,
    USER_TEXT,
    Sample,
    fill,
    ticking_clock,
)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store.open(tmp_path / "studio.db", clock=ticking_clock()) as opened:
        yield opened


@pytest.fixture
def sample(store: Store, tmp_path: Path) -> Sample:
    return fill(store, tmp_path / "media")


def headings(markdown: str) -> list[tuple[str, str]]:
    """(tag, text) of every heading a CommonMark reader sees in ``markdown``."""
    rendered = MarkdownIt("commonmark").render(markdown)
    return [
        (f"h{level}", html.unescape(words))
        for level, words in re.findall(r"<h([1-6])>(.*?)</h\1>", rendered)
    ]


# --- Markdown -----------------------------------------------------------------------------


def test_markdown_structure_is_one_h1_per_conversation_and_one_h2_per_turn(
    store: Store, sample: Sample
) -> None:
    text = render_export(store, [sample.chat, sample.archived], "md")
    found = headings(text)
    assert [tag for tag, _ in found if tag == "h1"] == ["h1", "h1"]
    assert found[0] == ("h1", "Plans <b>& #1")  # escaped, so it reads as the title it is
    turns = [words for tag, words in found if tag == "h2"]
    assert len(turns) == len(store.messages(sample.chat)) + len(store.messages(sample.archived))
    assert turns[0].startswith("User · ")
    assert turns[1].startswith("Assistant · gpt-4o · ")
    # The user's "# Not a heading" and <script> are text in a fence, exactly as typed.
    assert "Not a heading" not in [words for _, words in found]
    assert f"````text\n{USER_TEXT}\n````" in text


def test_markdown_states_settings_usage_status_and_errors(store: Store, sample: Sample) -> None:
    text = render_export(store, [sample.chat], "md")
    assert "- **Model:** gpt-4o" in text
    assert "- **Temperature:** 0.7" in text
    assert "- **Max tokens:** 800" in text
    assert "**System prompt:**\n\n```text\nBe brief.\n# rules\n```" in text
    assert "12 prompt + 30 completion = 42 tokens (5 reasoning, 3 cached)" in text
    assert "**Reasoning:**\n\n````text\nthinking ``` hard\n````" in text
    assert "Stopped by the user" in text
    assert "> **Status:** Failed." in text
    assert f"**Error:**\n\n```text\n{ERROR_TEXT}\n```" in text
    # The stopped reply's open code block is closed where the reply ends.
    assert CUT_TEXT + "```\n" in text
    assert re.search(r"## User · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d\d:\d\d", text)


def test_markdown_file_copies_media_beside_it_and_links_them_relatively(
    store: Store, sample: Sample, tmp_path: Path
) -> None:
    target = tmp_path / "out" / "chat.md"
    written = write_export(store, [sample.chat], "md", target)
    assert written[0] == target
    folder = tmp_path / "out" / "chat_files"
    assert sorted(p.name for p in written[1:]) == ["001-photo-one.png", "002-red-square.png"]
    for path in written[1:]:
        assert path.parent == folder
        assert path.read_bytes() == RED_PNG
    text = target.read_text("utf-8")
    assert "- ![photo one.png](chat_files/001-photo-one.png)" in text
    assert "- ![red square.png](chat_files/002-red-square.png)" in text


def test_markdown_on_stdout_links_generated_files_by_absolute_path(
    store: Store, sample: Sample
) -> None:
    text = render_export(store, [sample.chat], "md")
    assert f"![red square.png](<{sample.image_file}>)" in text
    assert "photo one.png (image/png, not included)" in text  # kept only in the database


def test_fence_outgrows_every_backtick_run_and_open_fences_are_closed() -> None:
    assert fence("a ```` b") == "`````text\na ```` b\n`````"
    assert fence("plain") == "```text\nplain\n```"
    assert close_open_fence("```py\nx\n```\n") == "```py\nx\n```\n"
    assert close_open_fence("~~~~\nx") == "~~~~\nx\n~~~~"
    assert close_open_fence("````\n```\nstill open") == "````\n```\nstill open\n````"
    assert close_open_fence("text with ``` inside") == "text with ``` inside"


# --- JSON ---------------------------------------------------------------------------------


def test_json_is_versioned_and_carries_every_field(store: Store, sample: Sample) -> None:
    document = json.loads(render_export(store, [sample.chat, sample.archived], "json"))
    assert document["schema_version"] == 1
    assert document["format"] == "anyfast-studio-transcripts"
    chat, old = document["conversations"]
    conversation = store.get_conversation(sample.chat)
    assert conversation is not None
    assert chat["uuid"] == conversation.uuid
    assert chat["title_locked"] is True
    assert (chat["temperature"], chat["max_tokens"]) == (0.7, 800)
    assert chat["created_at"] == conversation.created_at
    assert old["archived"] is True
    messages = chat["messages"]
    assert [m["position"] for m in messages] == list(range(1, 10))
    first = messages[0]
    assert first["content"] == USER_TEXT
    attachment = first["attachments"][0]
    assert base64.b64decode(attachment["data"]) == RED_PNG
    assert (attachment["name"], attachment["mime"], attachment["size"]) == (
        "photo one.png",
        "image/png",
        len(RED_PNG),
    )
    reply = messages[1]
    assert reply["usage"] == {
        "prompt_tokens": 12,
        "completion_tokens": 30,
        "total_tokens": 42,
        "reasoning_tokens": 5,
        "cached_tokens": 3,
    }
    assert (reply["reasoning"], reply["finish_reason"]) == ("thinking ``` hard", "stop")
    assert messages[5]["status"] == "error"
    assert messages[5]["error"] == ERROR_TEXT
    job = messages[7]["job"]
    assert messages[7]["job_linked"] is True
    assert job["state"] == "succeeded"
    assert job["files"][0]["path"] == str(sample.image_file)
    assert not {"id", "conversation_id", "retry_of"} & set(job)  # this store's numbers only
    gone = messages[8]
    assert (gone["job_linked"], gone["job"]) == (True, None)


# --- HTML ---------------------------------------------------------------------------------


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def elements(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(page)
    return parser.elements


def test_html_is_self_contained_and_escapes_message_html(store: Store, sample: Sample) -> None:
    page = render_export(store, [sample.chat], "html")
    found = elements(page)
    tags = [tag for tag, _ in found]
    assert "script" not in tags
    assert "link" not in tags
    assert not any(tag == "img" and attrs.get("onerror") is not None for tag, attrs in found)
    for tag, attrs in found:
        if tag != "a":  # a link is followed only when clicked; everything else would load
            for name in ("src", "href"):
                assert not (attrs.get(name) or "").startswith(("http:", "https:", "//")), tag
    assert "@import" not in page
    assert "url(" not in page
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert '<a href="https://example.com/x.png">remote</a>' in page  # a remote image: a link
    images = [attrs["src"] for tag, attrs in found if tag == "img"]
    assert len(images) == 2
    assert all(src and src.startswith("data:image/png;base64,") for src in images)
    assert "Content-Security-Policy" in page
    assert "<title>Plans &lt;b&gt;&amp; #1</title>" in page


def test_html_has_turns_tables_highlighted_code_and_both_palettes(
    store: Store, sample: Sample
) -> None:
    page = render_export(store, [sample.chat, sample.archived], "html")
    found = elements(page)
    turns = [a for tag, a in found if tag == "section" and "turn" in (a.get("class") or "")]
    assert len(turns) == 11
    assert "<table>" in page
    assert '<pre class="highlight"><code><span class="nb">print</span>' in page
    assert "@media (prefers-color-scheme: dark)" in page
    assert ".highlight .nb" in page
    # A heading in a message sits below the turn's level, never beside the title.
    assert "<h3>Not a heading</h3>" in page
    assert [tag for tag, _ in found].count("h1") == 2
    assert "<title>2 conversations</title>" in page


# --- Paths, errors and the key ------------------------------------------------------------


def test_default_path_is_under_media_exports_and_never_an_existing_file(
    store: Store, sample: Sample
) -> None:
    first = default_export_path(store, [sample.chat], "md")
    assert first.parent == paths.media_dir() / "exports"
    assert first.name.startswith("Plans-b-1-") and first.suffix == ".md"
    write_export(store, [sample.chat], "md", first)
    second = default_export_path(store, [sample.chat], "md")
    assert second != first and not second.exists()
    several = default_export_path(store, [sample.chat, sample.archived], "json")
    assert several.name.startswith("2-conversations-") and several.suffix == ".json"


def test_missing_conversation_and_unwritable_path_raise_export_error(
    store: Store, sample: Sample, tmp_path: Path
) -> None:
    with pytest.raises(ExportError, match="no conversation 999"):
        render_export(store, [sample.chat, 999], "md")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="cannot"):
        write_export(store, [sample.chat], "json", blocker / "inside.json")


def test_the_api_key_appears_in_no_export(
    store: Store, sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.config import load_settings, set_value

    set_value("api_key", "sk-config-SECRET-1234567890")
    monkeypatch.setenv("ANYFAST_API_KEY", "sk-env-SECRET-0987654321")
    assert load_settings().api_key == "sk-env-SECRET-0987654321"
    for fmt in ("md", "json", "html"):
        text = render_export(store, [sample.chat, sample.archived], fmt)  # type: ignore[arg-type]
        assert "SECRET" not in text
        assert "sk-env" not in text and "sk-config" not in text


def test_export_and_its_commands_never_import_textual() -> None:
    import subprocess
    import sys

    code = (
        "import studio.export, studio.export.html_format, studio.commands.parsers.transcripts\n"
        "import sys\nprint('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_an_open_html_block_in_a_reply_cannot_swallow_the_turns_after_it(
    store: Store,
) -> None:
    chat = store.create_conversation(title="Html")
    store.add_message(chat.id, Role.ASSISTANT, "Look:\n\n<pre>\nnever closed", model="m")
    store.add_message(chat.id, Role.ASSISTANT, "<!-- an open comment", model="m")
    store.add_message(chat.id, Role.USER, "still here?")
    text = render_export(store, [chat.id], "md")
    assert [tag for tag, _ in headings(text)] == ["h1", "h2", "h2", "h2"]
    assert close_open_html("<pre>\nx\n</PRE>\n<div>") == "<pre>\nx\n</PRE>\n<div>"
    assert close_open_html("```\n<pre>\n```") == "```\n<pre>\n```"
    assert close_open_html("<script>x") == "<script>x\n</script>"
