"""The HTML export: one self-contained page, readable offline in any browser.

Messages are rendered from their Markdown with markdown-it-py with raw HTML switched off (any
HTML in a message is shown as text, never passed through); code blocks are highlighted by
Pygments with CSS classes, in a light and a dark palette chosen by ``prefers-color-scheme``;
images are embedded as ``data:`` URIs. Nothing is loaded from anywhere: a Content Security
Policy allows only inline styles and ``data:`` images, and an image a reply points at on the
web becomes a plain link.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from importlib import resources
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from studio.export.gather import Transcript, Turn
from studio.export.media import MediaItem, data_uri, media_items
from studio.export.text import iso_time, local_time, status_note, usage_note
from studio.store import Role

CONTENT_POLICY = "default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'"
"""No script, font, frame or remote file of any kind: only inline styles and data: images."""

LIGHT_CODE_STYLE = "default"
DARK_CODE_STYLE = "github-dark"

_ROLE_NAMES = {Role.USER: "User", Role.ASSISTANT: "Assistant", Role.SYSTEM: "System"}


def render_html(transcripts: Sequence[Transcript]) -> str:
    """The HTML page for ``transcripts``."""
    markdown = _markdown()
    if len(transcripts) == 1:
        title = transcripts[0].conversation.title
    else:
        title = f"{len(transcripts)} conversations"
    body = "\n".join(_conversation(t, markdown) for t in transcripts)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        '<meta name="generator" content="AnyFast Studio">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{stylesheet()}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def stylesheet() -> str:
    """The page's CSS: the layout, then the code colours, light and (by preference) dark."""
    layout = resources.files("studio.export").joinpath("transcript.css").read_text("utf-8")
    light = _code_style(LIGHT_CODE_STYLE)
    dark = _code_style(DARK_CODE_STYLE)
    return f"{layout}{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"


def _code_style(name: str) -> str:
    formatter: Any = HtmlFormatter(style=name)
    background = formatter.get_background_style_defs(".highlight")
    tokens = formatter.get_token_style_defs(".highlight")
    return "\n".join([*background, *tokens])


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "highlight": _highlight})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("image", _render_image)
    md.core.ruler.push("demote_headings", _demote_headings)
    return md


def _demote_headings(state: Any) -> None:
    """A heading in a message becomes ``h3``..``h6``: below the page's ``h1`` (a conversation)
    and the turns, so no message can look like a part of the document's own structure."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1:]) + 2)}"


def _highlight(code: str, language: str, _attrs: str) -> str:
    """Pygments' spans for a fenced block in a named language (``""``: markdown-it escapes it
    as plain text)."""
    name = language.strip().split(maxsplit=1)[0] if language.strip() else ""
    if not name:
        return ""
    try:
        lexer = get_lexer_by_name(name)
    except ClassNotFound:
        return ""
    formatter: Any = HtmlFormatter(nowrap=True)
    return f'<pre class="highlight"><code>{highlight(code, lexer, formatter)}</code></pre>\n'


def _render_image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """An image in a message: embedded when it is a ``data:`` image, else a link (an export
    never loads anything from the web)."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env)
    if src.startswith("data:image/"):
        return f'<img src="{html.escape(src)}" alt="{html.escape(alt)}">'
    return f'<a href="{html.escape(src)}">{html.escape(alt or src)}</a>'


def _conversation(transcript: Transcript, markdown: MarkdownIt) -> str:
    c = transcript.conversation
    facts = [
        ("Model", c.model or "default"),
        ("Temperature", "default" if c.temperature is None else str(c.temperature)),
        ("Max tokens", "default" if c.max_tokens is None else str(c.max_tokens)),
        ("Created", local_time(c.created_at)),
        ("Updated", local_time(c.updated_at)),
        ("Conversation", c.uuid),
    ]
    if c.archived:
        facts.append(("Archived", "yes"))
    rows = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts)
    parts = [
        f'<article class="conversation" id="c-{html.escape(c.uuid)}">',
        f'<header>\n<h1>{html.escape(c.title)}</h1>\n<dl class="facts">{rows}</dl>',
    ]
    if c.system_prompt:
        parts.append(
            "<details><summary>System prompt</summary>"
            f'<pre class="plain">{html.escape(c.system_prompt)}</pre></details>'
        )
    parts.append("</header>")
    parts.extend(_turn(turn, markdown) for turn in transcript.turns)
    parts.append("</article>")
    return "\n".join(parts)


def _turn(turn: Turn, markdown: MarkdownIt) -> str:
    m = turn.message
    role = _ROLE_NAMES.get(m.role, m.role.value.title())
    head = [f'<span class="role">{role}</span>']
    if m.role is Role.ASSISTANT and m.model:
        head.append(f'<span class="model">{html.escape(m.model)}</span>')
    head.append(f'<time datetime="{iso_time(m.created_at)}">{local_time(m.created_at)}</time>')
    parts = [
        f'<section class="turn {m.role.value}" id="m-{m.position}">',
        f'<div class="turn-head">{" · ".join(head)}</div>',
    ]
    if m.reasoning:
        parts.append(
            "<details><summary>Reasoning</summary>"
            f'<pre class="plain">{html.escape(m.reasoning)}</pre></details>'
        )
    if m.content:
        parts.append(f'<div class="body">{markdown.render(m.content)}</div>')
    if turn.job is not None and m.role is Role.ASSISTANT:
        job = turn.job
        words = f"{job.kind.value.title()} job: {job.model}, {job.state.value}"
        parts.append(f'<p class="note job">{html.escape(words)}</p>')
    parts.extend(_media(item) for item in media_items(turn))
    status = status_note(m)
    if status:
        parts.append(f'<p class="note status">{html.escape(status)}</p>')
    if m.error:
        parts.append(f'<pre class="plain note error">{html.escape(m.error)}</pre>')
    usage = usage_note(m.usage)
    if usage:
        parts.append(f'<p class="note usage">Usage: {html.escape(usage)}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _media(item: MediaItem) -> str:
    name = html.escape(item.name)
    if item.is_image:
        uri = data_uri(item)
        if uri is not None:
            return (
                f'<figure><img src="{html.escape(uri)}" alt="{name}">'
                f"<figcaption>{name}</figcaption></figure>"
            )
    if item.path is not None and item.path.is_file():
        href = html.escape(item.path.absolute().as_uri())
        return f'<p class="note file"><a href="{href}">{name}</a> ({html.escape(item.mime)})</p>'
    return f'<p class="note file">{name} ({html.escape(item.mime or "file")}, not included)</p>'
