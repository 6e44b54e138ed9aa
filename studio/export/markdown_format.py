"""The Markdown export: a readable document, one section per conversation, one per turn.

How untrusted text is kept from breaking the document's structure (the README says the same):

* A **user's message**, the system prompt, reasoning and error texts are written inside a fenced
  code block one backtick longer than any run of backticks they hold: nothing in them (a
  heading, HTML, a fence) is interpreted, and the text is exactly what was sent.
* A **reply** is Markdown by nature and is written as received, so its code, lists and tables
  render; a code block left open at its end (a reply stopped mid-block) is closed, and so is an
  HTML block that only its end marker ends (``<pre>``, ``<!--``), so neither can swallow the
  turns after it.
* Titles, model ids and file names are escaped as literal inline text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from studio.export.gather import Transcript, Turn
from studio.export.media import MediaItem, media_items
from studio.export.text import (
    close_open_fence,
    close_open_html,
    escape_inline,
    fence,
    local_time,
    status_note,
    usage_note,
)
from studio.store import Role


class MediaLinks(Protocol):
    """Where the files a transcript shows go, and the link that reaches each."""

    def link(self, item: MediaItem) -> str | None: ...


_ROLE_NAMES = {Role.USER: "User", Role.ASSISTANT: "Assistant", Role.SYSTEM: "System"}


def render_markdown(transcripts: Sequence[Transcript], media: MediaLinks) -> str:
    """The Markdown document for ``transcripts``, its files placed by ``media``."""
    parts = [_conversation(t, media) for t in transcripts]
    return "\n\n---\n\n".join(parts) + "\n"


def _conversation(transcript: Transcript, media: MediaLinks) -> str:
    c = transcript.conversation
    facts = [
        f"- **Model:** {escape_inline(c.model) if c.model else 'default'}",
        f"- **Temperature:** {c.temperature if c.temperature is not None else 'default'}",
        f"- **Max tokens:** {c.max_tokens if c.max_tokens is not None else 'default'}",
        f"- **Created:** {local_time(c.created_at)}",
        f"- **Updated:** {local_time(c.updated_at)}",
        f"- **Conversation:** `{c.uuid}`",
    ]
    if c.archived:
        facts.append("- **Archived:** yes")
    blocks = [f"# {escape_inline(c.title)}", "\n".join(facts)]
    if c.system_prompt:
        blocks.append("**System prompt:**\n\n" + fence(c.system_prompt))
    blocks.extend(_turn(turn, media) for turn in transcript.turns)
    return "\n\n".join(blocks)


def _turn(turn: Turn, media: MediaLinks) -> str:
    m = turn.message
    heading = f"## {_ROLE_NAMES.get(m.role, m.role.value.title())}"
    if m.role is Role.ASSISTANT and m.model:
        heading += f" · {escape_inline(m.model)}"
    heading += f" · {local_time(m.created_at)}"
    blocks = [heading]
    if m.reasoning:
        blocks.append("**Reasoning:**\n\n" + fence(m.reasoning))
    if m.content:
        if m.role is Role.ASSISTANT:
            blocks.append(close_open_html(close_open_fence(m.content)))
        else:
            blocks.append(fence(m.content))
    if turn.job is not None and m.role is Role.ASSISTANT:
        job = turn.job
        blocks.append(
            f"*{job.kind.value.title()} job: {escape_inline(job.model)}, {job.state.value}*"
        )
    files = [_media_line(item, media) for item in media_items(turn)]
    if files:
        blocks.append("\n".join(files))
    notes = []
    status = status_note(m)
    if status:
        notes.append(f"> **Status:** {status}")
    usage = usage_note(m.usage)
    if usage:
        notes.append(f"> **Usage:** {usage}")
    if notes:
        blocks.append("\n>\n".join(notes))
    if m.error:
        blocks.append("**Error:**\n\n" + fence(m.error))
    return "\n\n".join(blocks)


def _media_line(item: MediaItem, media: MediaLinks) -> str:
    label = escape_inline(item.name) or "file"
    link = media.link(item)
    if link is None:
        where = (
            f" <{item.url}>" if item.url and item.url.startswith(("http://", "https://")) else ""
        )
        return f"- {label} ({item.mime or 'file'}, not included){where}"
    target = f"<{link}>" if any(ch in link for ch in " ()") else link
    if item.is_image:
        return f"- ![{label}]({target})"
    return f"- [{label}]({target})"
