"""Looking up Studio's key bindings by id (for the prompt, the palette, F1 and the catalog)."""

from __future__ import annotations

from textual.binding import Binding
from textual.dom import DOMNode


def declared_bindings(target: DOMNode | type[DOMNode]) -> list[Binding]:
    """The bindings with an id that a class (or a node's class) declares or inherits, in
    declaration order; a subclass's binding with the same id replaces its base's."""
    cls = target if isinstance(target, type) else type(target)
    found: dict[str, Binding] = {}
    for klass in reversed(cls.__mro__):
        for binding in vars(klass).get("BINDINGS", ()):
            if isinstance(binding, Binding) and binding.id:
                found[binding.id] = binding
    return list(found.values())
