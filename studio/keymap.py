"""Checking the ``[keymap]`` table of the config file against Studio's key bindings.

No Textual here (``studio config show`` uses it too): the bindings come from
``studio/keys.toml``, a catalog generated from the TUI's own ``Binding(id=...)`` declarations by
``python -m studio.tui.keycatalog`` (a test fails when it is out of date). Each binding belongs
to a *scope*: where it works (everywhere, the main screen, the prompt, a dialog...). Two
bindings on one key conflict when their scopes can be active together: the same scope, or one
inside the other (a modal screen hides everything outside it except priority bindings).

:func:`check_keymap` returns the entries that can be applied and one warning per problem, each
naming the entry: an id no binding has, a key that is not a key, a key that another binding
already uses where both work. A bad key is dropped; an entry left with no key is not applied at
all, so the binding keeps its default keys.
"""

from __future__ import annotations

import difflib
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

MODIFIERS = ("alt", "ctrl", "hyper", "meta", "shift", "super")
"""In the order Textual writes them (alphabetical): ``alt+ctrl+x``, ``ctrl+shift+left``."""

NAMED_KEYS = frozenset(
    {
        "escape",
        "enter",
        "tab",
        "backspace",
        "delete",
        "insert",
        "home",
        "end",
        "pageup",
        "pagedown",
        "up",
        "down",
        "left",
        "right",
        "space",
        "menu",
        "pause",
        "print_screen",
        "scroll_lock",
        "caps_lock",
        "num_lock",
        *(f"f{n}" for n in range(1, 36)),
    }
)
"""Keys with a name (Textual's names); characters have names of their own (``question_mark``)."""

_SHORT_NAMES = {
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}
"""Textual's short names for some characters (``textual.keys.KEY_NAME_REPLACEMENTS``)."""
_LONG_NAMES = {short: long for long, short in _SHORT_NAMES.items()}
_ALIASES = {
    "esc": "escape",
    "return": "enter",
    "pgup": "pageup",
    "pgdn": "pagedown",
    "del": "delete",
}


class KeyError_(ValueError):
    """A key that is not a key; the message says why."""


def _character_name(char: str) -> str:
    """Textual's name for the key that types ``char``: itself for letters and digits, else its
    Unicode name (``?`` is ``question_mark``, ``/`` is ``slash``)."""
    if char.isalnum():
        return char
    if char == "\t":
        return "tab"
    if char == " ":
        return "space"
    try:
        name = unicodedata.name(char).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        raise KeyError_(f"no key types {char!r}") from None
    return _SHORT_NAMES.get(name, name)


def _named(base: str) -> str:
    """A key name (``f5``, ``pageup``, ``question_mark``) in Textual's spelling; KeyError_
    with the reason when no key has that name."""
    name = base.lower()
    name = _ALIASES.get(name, name)
    if name in NAMED_KEYS or name in _LONG_NAMES:
        return name
    try:
        char = unicodedata.lookup(_LONG_NAMES.get(name, name).replace("_", " "))
    except KeyError:
        close = difflib.get_close_matches(name, sorted(NAMED_KEYS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError_(f"no key is named {base!r}{hint}") from None
    if len(char) != 1 or not char.isprintable():
        raise KeyError_(f"no key is named {base!r}")
    return _character_name(char)


def normalize_key(text: str) -> str:
    """One key in Textual's spelling (``Ctrl+G`` is ``ctrl+g``, ``?`` is ``question_mark``,
    ``shift+ctrl+left`` is ``ctrl+shift+left``); :class:`KeyError_` saying why when it is not
    a key."""
    text = text.strip()
    try:
        return _normalize(text)
    except KeyError_ as exc:
        raise KeyError_(f"{text!r} is not a key: {exc}") from None


def _normalize(text: str) -> str:
    if not text:
        raise KeyError_("it is empty")
    if len(text) == 1:
        return _character_name(text)
    parts = [part.strip() for part in text.split("+")]
    if not all(parts):
        raise KeyError_("an empty part between '+' signs (the + key is 'plus')")
    *modifiers, base = parts
    seen: set[str] = set()
    for modifier in modifiers:
        word = modifier.lower()
        word = "ctrl" if word == "control" else word
        if word not in MODIFIERS:
            raise KeyError_(f"{modifier!r} is not a modifier ({', '.join(MODIFIERS)} are)")
        if word in seen:
            raise KeyError_(f"{word} twice")
        seen.add(word)
    name = _character_name(base.lower() if seen else base) if len(base) == 1 else _named(base)
    return "+".join([*sorted(seen, key=MODIFIERS.index), name])


# -- the catalog -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Where bindings work: ``within`` the scopes that contain it; ``modal`` when it is (or is
    inside) a modal screen, which hides the bindings outside it except priority ones."""

    name: str
    title: str
    within: tuple[str, ...] = ()
    modal: bool = False


@dataclass(frozen=True)
class KeyBinding:
    """A binding as the catalog describes it. ``id`` is empty for Textual's own fixed keys
    (the command palette, copy, focus moves), which cannot be remapped but can conflict."""

    id: str
    keys: tuple[str, ...]
    description: str
    scope: str
    priority: bool = False

    @property
    def name(self) -> str:
        """How a warning names it: ``Jobs (app.jobs)``, or ``the command palette``."""
        return f"{self.description} ({self.id})" if self.id else self.description


@dataclass(frozen=True)
class Catalog:
    scopes: Mapping[str, Scope]
    bindings: tuple[KeyBinding, ...]

    @property
    def by_id(self) -> dict[str, KeyBinding]:
        return {b.id: b for b in self.bindings if b.id}

    def reach(self, scope: str) -> dict[str, bool]:
        """Every scope active together with ``scope`` from the inside (itself and those that
        contain it), each with whether only its priority bindings reach ``scope`` (a modal
        screen lies in between)."""
        found: dict[str, bool] = {scope: False}
        todo = [(scope, False)]
        while todo:
            name, hidden = todo.pop()
            current = self.scopes.get(name)
            if current is None:
                continue
            hidden = hidden or current.modal
            for parent in current.within:
                if parent not in found or (found[parent] and not hidden):
                    found[parent] = hidden
                    todo.append((parent, hidden))
        return found

    def overlap(self, a: KeyBinding, b: KeyBinding) -> bool:
        """Whether ``a`` and ``b`` can be active at once (so one key cannot serve both)."""
        if a.scope == b.scope:
            return True
        up = self.reach(a.scope)
        if b.scope in up:
            return not up[b.scope] or b.priority
        down = self.reach(b.scope)
        if a.scope in down:
            return not down[a.scope] or a.priority
        return False


def parse_catalog(text: str) -> Catalog:
    """The catalog from the text of ``keys.toml``."""
    data = tomllib.loads(text)
    scopes = {
        name: Scope(
            name,
            str(entry.get("title", name)),
            tuple(entry.get("within", ())),
            bool(entry.get("modal", False)),
        )
        for name, entry in data.get("scopes", {}).items()
    }
    bindings = tuple(
        KeyBinding(
            str(entry.get("id", "")),
            tuple(k for k in str(entry["keys"]).split(",") if k),
            str(entry.get("description", "")),
            str(entry["scope"]),
            bool(entry.get("priority", False)),
        )
        for entry in data.get("bindings", [])
    )
    return Catalog(scopes, bindings)


@cache
def default_catalog() -> Catalog:
    """Studio's bindings (``studio/keys.toml``)."""
    return parse_catalog(resources.files("studio").joinpath("keys.toml").read_text("utf-8"))


# -- checking a keymap ---------------------------------------------------------------------------


@dataclass
class KeymapCheck:
    """What :func:`check_keymap` found."""

    applied: dict[str, str] = field(default_factory=dict)
    """Entries to apply: binding id -> its keys, normalised, comma-separated."""
    problems: list[str] = field(default_factory=list)
    """One sentence per problem, each naming its entry."""


def check_keymap(keymap: Mapping[str, str], catalog: Catalog | None = None) -> KeymapCheck:
    """Check ``keymap`` (binding id -> comma-separated keys, in file order) against the
    bindings of ``catalog`` (Studio's by default): one warning per entry with problems."""
    catalog = catalog or default_catalog()
    by_id = catalog.by_id
    result = KeymapCheck()
    unknown: dict[str, str] = {}
    issues: dict[str, list[str]] = {}
    hints: dict[str, list[str]] = {}
    candidates: dict[str, list[str]] = {}
    for binding_id, keys in keymap.items():
        if binding_id not in by_id:
            close = difflib.get_close_matches(binding_id, sorted(by_id), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            unknown[binding_id] = (
                f'keymap: "{binding_id}" is not a binding id{hint}; F1 lists every id. '
                "The entry is ignored."
            )
            continue
        valid: list[str] = []
        for raw in keys.split(","):
            if not raw.strip():  # "f5," or "f5,,f6": nothing to bind, nothing lost
                continue
            try:
                key = normalize_key(raw)
            except KeyError_ as exc:
                issues.setdefault(binding_id, []).append(str(exc))
                continue
            if key not in valid:
                valid.append(key)
        candidates[binding_id] = valid

    order = list(candidates)
    for index, binding_id in enumerate(order):
        binding = by_id[binding_id]
        kept: list[str] = []
        for key in candidates[binding_id]:
            rival = None
            if key not in binding.keys:  # a default key never conflicts with the defaults
                rival = _rival(catalog, binding, key, result.applied, candidates, order[index:])
            if rival is None:
                kept.append(key)
                continue
            issues.setdefault(binding_id, []).append(
                f"{key} is already {rival.name} {_where(catalog, rival)}, which would take it"
            )
            if rival.id:
                hints.setdefault(binding_id, []).append(
                    f"To use {key}, give {rival.id} other keys first."
                )
        if kept:
            result.applied[binding_id] = ",".join(kept)

    for binding_id in keymap:  # one warning per entry with problems, in the file's order
        if binding_id in unknown:
            result.problems.append(unknown[binding_id])
        if binding_id not in issues:
            continue
        binding = by_id[binding_id]
        if binding_id in result.applied:
            outcome = f"{binding_id} is on {result.applied[binding_id].replace(',', ', ')}."
        else:
            outcome = f"The entry is ignored: {binding_id} stays on {', '.join(binding.keys)}."
        found = "; ".join(issues[binding_id])
        text = f'keymap: "{binding_id}" = "{keymap[binding_id]}": {found}. {outcome}'
        result.problems.append(" ".join([text, *hints.get(binding_id, [])]))
    return result


def _rival(
    catalog: Catalog,
    binding: KeyBinding,
    key: str,
    accepted: Mapping[str, str],
    candidates: Mapping[str, list[str]],
    later: list[str],
) -> KeyBinding | None:
    """Another binding that holds ``key`` where ``binding`` works. A binding remapped earlier
    in the table holds the keys it was given, one remapped later the keys it keeps (its new
    keys are judged when its own turn comes), any other its defaults."""
    for other in catalog.bindings:
        if other is binding or not catalog.overlap(binding, other):
            continue
        if other.id in accepted:
            keys: Sequence[str] = accepted[other.id].split(",")
        elif other.id in candidates and other.id in later:
            keys = [k for k in candidates[other.id] if k in other.keys]
        else:
            keys = other.keys
        if key in keys:
            return other
    return None


def _where(catalog: Catalog, binding: KeyBinding) -> str:
    scope = catalog.scopes.get(binding.scope)
    return scope.title if scope else f"in {binding.scope}"
