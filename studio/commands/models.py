"""``studio models``: list the models the key may use, with their endpoint types."""

from __future__ import annotations

import argparse
import asyncio
import json
import re

from studio.api.types import ModelInfo
from studio.commands.common import encodable, open_gateway, settings_or_fail, write_stdout
from studio.commands.exits import EXIT_OK
from studio.gateway import Gateway
from studio.textsafe import clean_line

# What JSON leaves raw with ensure_ascii=False but a terminal must not get: DEL, C1 controls, bidi
# controls, zero-width characters, line separators, lone surrogates (C0 is always escaped).
_UNSAFE_IN_JSON = re.compile(
    "[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff\ud800-\udfff]"
)


def safe_json(value: object, indent: int | None = 2) -> str:
    """JSON text that is safe to print on a terminal and still readable (non-ASCII letters kept
    as they are; every character that could drive the terminal written as a ``\\uXXXX`` escape,
    which parses back to the same value); ``indent=None`` puts it on one line."""
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def model_table(models: list[ModelInfo]) -> str:
    """One line per model: id, owner, endpoint types; every field sanitised for the terminal."""
    rows = [
        (clean_line(m.id), clean_line(m.owned_by), clean_line(", ".join(m.endpoint_types)))
        for m in sorted(models, key=lambda m: m.id)
    ]
    width = max((len(row[0]) for row in rows), default=10)
    return "".join(f"{i:<{width}}  {owner:<12}  {types}\n" for i, owner, types in rows)


def run_models(args: argparse.Namespace) -> int:
    settings = settings_or_fail(demo=args.demo)
    models = asyncio.run(_fetch(open_gateway(settings, demo=args.demo)))
    text = safe_json([m.raw for m in models]) + "\n" if args.json else model_table(models)
    write_stdout(encodable(text))
    return EXIT_OK


async def _fetch(gateway: Gateway) -> list[ModelInfo]:
    async with gateway:
        client = await gateway.client()
        return await client.list_models()
