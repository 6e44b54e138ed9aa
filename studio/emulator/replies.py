"""Deterministic Markdown replies built from the prompt.

The same conversation always gets the same reply, and a longer reply starts with the shorter
one: sections are appended until the requested number of tokens is reached, then the text is
cut there. A *token* is a run of non-space characters plus the whitespace after it, so joining
the tokens gives the Markdown back exactly.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from string import Template

_TOKEN = re.compile(r"\S+\s*")
_WORD = re.compile(r"[^\W\d_][\w'-]{2,}")
_STOP_WORDS = """
    about above after again also amp and any are because been before being between both but can
    could did does doing down during each else few for from further had has have having her
    here hers him his how into its itself just let like more most much must not now off once
    only other our out over own please same she should some such than that the their them then
    there these they this those through too under until very was were what when where which
    while who whom why will with would you your yours tell show give make explain write
"""
_STOP = frozenset(_STOP_WORDS.split())
_DEFAULT_TOPICS = ("design", "latency", "streaming", "terminal", "caching", "testing")


def tokenize(text: str) -> list[str]:
    """Split Markdown into tokens (word + following whitespace); leading space is kept."""
    tokens = _TOKEN.findall(text)
    lead = len(text) - len(text.lstrip())
    if lead and tokens:
        tokens[0] = text[:lead] + tokens[0]
    return tokens


@dataclass(frozen=True, slots=True)
class Prompt:
    """What a reply is built from: the question, a fingerprint of the whole conversation and
    one description per attached image."""

    question: str
    fingerprint: str
    image_notes: tuple[str, ...] = ()

    def rng(self, purpose: str) -> random.Random:
        """A random generator seeded from the conversation (same prompt, same choices)."""
        digest = hashlib.sha256(f"{purpose}\0{self.fingerprint}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def keywords(self) -> list[str]:
        """Distinct content words of the question, in order of appearance."""
        seen: list[str] = []
        for word in _WORD.findall(self.question):
            low = word.lower().strip("'-")
            if len(low) >= 3 and low not in _STOP and low not in seen:
                seen.append(low)
        return seen


def short_quote(text: str, words: int = 12, chars: int = 80) -> str:
    """The first line of ``text``, cut to a few words (an ellipsis marks the cut)."""
    line = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    parts = line.split(" ")
    cut = " ".join(parts[:words])
    if len(cut) > chars:
        cut = cut[:chars].rstrip()
    return cut + ("…" if cut != line else "")


def reply_tokens(prompt: Prompt, count: int, *, whole_sections: bool = False) -> list[str]:
    """Exactly ``count`` tokens of the reply (the last one without trailing whitespace).

    With ``whole_sections`` the reply instead ends with the section that reaches ``count``
    tokens, so a default-length reply never stops in the middle of a table or code block.
    """
    return _take(_reply_sections(prompt), count, whole_sections=whole_sections)


def reasoning_tokens(prompt: Prompt, count: int) -> list[str]:
    """Exactly ``count`` tokens of plain-prose "thinking" before the answer."""
    return _take(_reasoning_paragraphs(prompt), count)


def _take(sections: Iterator[str], count: int, *, whole_sections: bool = False) -> list[str]:
    tokens: list[str] = []
    if count <= 0:
        return tokens
    for section in sections:
        tokens.extend(tokenize(section + "\n\n"))
        if len(tokens) >= count:
            break
    if not whole_sections:
        tokens = tokens[:count]
    tokens[-1] = tokens[-1].rstrip()
    return tokens


_SENTENCES = (
    "The core idea behind $a is that small, well-defined steps compose into something reliable.",
    "When $a meets $b, the trade-offs become much easier to see.",
    "A useful first step is to write down what $a must never do, then work backwards.",
    "Most problems with $a come from hidden state rather than from the algorithm itself.",
    "Measure $a before changing it; intuition about $b is often wrong by an order of magnitude.",
    "Keeping $a boring and predictable pays off every time $b changes.",
    "The simplest version of $a that works is usually the one worth keeping.",
    "It helps to treat $b as an input to $a, not as a global assumption.",
    "Edge cases in $a tend to cluster around empty inputs, huge inputs and slow networks.",
    "A short feedback loop matters more for $a than any single clever trick.",
    "Think of $a as a pipeline: each stage should do one job and hand over clean data.",
    "If $b is expensive, cache the result of $a and invalidate it deliberately.",
    "Good names for the parts of $a make the rest of the design almost obvious.",
    "Document why $a works the way it does; the what is already in the code.",
)
_BULLETS = (
    "**$A** — keep it explicit and easy to test.",
    "**$A** — decide early who owns it.",
    "**$A** — measure it under realistic load.",
    "**$A** — make failures visible instead of silent.",
    "**$A** — prefer one clear path over many flags.",
    "**$A** — write the test before tuning it.",
    "**$A** — keep the data it needs close at hand.",
)
_HEADINGS = ("Overview", "Key points", "Example", "Trade-offs", "In practice", "Next steps")
_LEVELS = ("low", "medium", "high")
_NOTES = ("simple to adopt", "needs care", "scales well", "easy to test", "hard to undo")
_CODE = (
    Template(
        "def summarize_$name(items: list[str]) -> dict[str, int]:\n"
        '    """Count how often each $word item appears."""\n'
        "    counts: dict[str, int] = {}\n"
        "    for item in items:\n"
        "        counts[item] = counts.get(item, 0) + 1\n"
        "    return counts\n"
    ),
    Template(
        "from dataclasses import dataclass\n\n\n"
        "@dataclass\n"
        "class ${Name}Step:\n"
        "    name: str\n"
        "    cost: float\n\n"
        '    def scaled(self, factor: float) -> "${Name}Step":\n'
        "        return ${Name}Step(self.name, self.cost * factor)\n"
    ),
    Template(
        "import asyncio\n\n\n"
        "async def fetch_$name(delays: list[float]) -> list[float]:\n"
        "    results = []\n"
        "    for delay in delays:\n"
        "        await asyncio.sleep(delay)\n"
        "        results.append(delay * $n)\n"
        "    return results\n"
    ),
    Template(
        "def ${name}_window(values: list[float], size: int = $n) -> list[float]:\n"
        "    out = []\n"
        "    for i in range(len(values) - size + 1):\n"
        "        window = values[i : i + size]\n"
        "        out.append(sum(window) / size)\n"
        "    return out\n"
    ),
)
_THOUGHTS = (
    "The user is asking about $a, so I should start from what they most likely need.",
    "First, I should pin down what $a means in this context.",
    "There is a connection between $a and $b that is worth spelling out.",
    "An example would make this concrete; a short code sketch should do.",
    "I should not overcomplicate this; a clear structure will help.",
    "Let me check the edge cases around $b before answering.",
    "A table comparing the options would be easy to scan.",
    "I think the answer should end with practical next steps.",
)


class _Topics:
    """Cycles through the prompt's keywords (or neutral defaults)."""

    def __init__(self, prompt: Prompt, rng: random.Random) -> None:
        words = prompt.keywords()
        if not words:
            words = list(_DEFAULT_TOPICS)
            rng.shuffle(words)
        self._words = words
        self._i = 0

    def next(self) -> str:
        word = self._words[self._i % len(self._words)]
        self._i += 1
        return word

    def identifier(self) -> str:
        ascii_word = re.sub(r"[^a-z0-9_]", "_", self.next().lower()).strip("_")
        if not ascii_word or ascii_word[0].isdigit():
            ascii_word = "topic_" + ascii_word if ascii_word else "topic"
        return ascii_word


def _opening(prompt: Prompt) -> str:
    parts: list[str] = []
    notes = prompt.image_notes
    if notes:
        listed = "; ".join(f"image {i}: {note}" for i, note in enumerate(notes, 1))
        plural = "image" if len(notes) == 1 else "images"
        parts.append(f"You attached {len(notes)} {plural} ({listed}).")
    if prompt.question.strip():
        parts.append(f"You asked: “{short_quote(prompt.question)}”.")
    else:
        parts.append("You did not ask a question, so here is a general overview.")
    parts.append(
        "Here is a structured answer: a short overview, the key points, "
        "a code sketch and a comparison table."
    )
    return " ".join(parts)


def _paragraph(rng: random.Random, topics: _Topics, sentences: int) -> str:
    chosen = rng.sample(_SENTENCES, sentences)
    return " ".join(Template(s).substitute(a=topics.next(), b=topics.next()) for s in chosen)


def _bullets(rng: random.Random, topics: _Topics) -> str:
    lines = []
    for template in rng.sample(_BULLETS, rng.randint(3, 5)):
        lines.append("- " + Template(template).substitute(A=topics.next().capitalize()))
    return "\n".join(lines)


def _code(rng: random.Random, topics: _Topics) -> str:
    name = topics.identifier()
    body = rng.choice(_CODE).substitute(
        name=name,
        Name="".join(p.capitalize() for p in name.split("_")) or "Topic",
        word=topics.next(),
        n=rng.randint(2, 9),
    )
    return f"```python\n{body}```"


def _table(rng: random.Random, topics: _Topics) -> str:
    rows = ["| Option | Latency | Effort | Notes |", "| --- | --- | --- | --- |"]
    for _ in range(rng.randint(3, 4)):
        rows.append(
            f"| {topics.next()} | {rng.randint(2, 250)} ms | {rng.choice(_LEVELS)} "
            f"| {rng.choice(_NOTES)} |"
        )
    return "\n".join(rows)


def _reply_sections(prompt: Prompt) -> Iterator[str]:
    rng = prompt.rng("reply")
    topics = _Topics(prompt, rng)
    yield _opening(prompt)
    round_no = 0
    while True:
        round_no += 1
        suffix = "" if round_no == 1 else f" ({round_no})"
        heading = _HEADINGS[(round_no - 1) % len(_HEADINGS)]
        yield f"## {heading}{suffix}\n\n" + _paragraph(rng, topics, 3)
        yield _bullets(rng, topics)
        yield _code(rng, topics)
        yield _paragraph(rng, topics, 2)
        yield _table(rng, topics)


def _reasoning_paragraphs(prompt: Prompt) -> Iterator[str]:
    rng = prompt.rng("reasoning")
    topics = _Topics(prompt, rng)
    while True:
        picked = rng.sample(_THOUGHTS, 3)
        yield " ".join(Template(t).substitute(a=topics.next(), b=topics.next()) for t in picked)


def fingerprint(parts: Sequence[str]) -> str:
    """A stable digest of the conversation parts."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "replace"))
        digest.update(b"\0")
    return digest.hexdigest()
