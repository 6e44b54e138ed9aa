"""``studio models``: list the models the key may use, with their endpoint types."""

from __future__ import annotations

import argparse
import asyncio
import json

from studio.api.client import AnyFastClient
from studio.api.types import ModelInfo
from studio.cli import EXIT_OK
from studio.commands.common import open_gateway, settings_or_fail, timeouts_for
from studio.config import Settings


def run_models(args: argparse.Namespace) -> int:
    settings = settings_or_fail()
    with open_gateway(settings, demo=args.demo) as gateway:
        models = asyncio.run(_fetch(gateway.api_key, gateway.base_url, settings))
    if args.json:
        print(json.dumps([m.raw for m in models], indent=2, ensure_ascii=False))
        return EXIT_OK
    width = max((len(m.id) for m in models), default=10)
    for m in sorted(models, key=lambda m: m.id):
        print(f"{m.id:<{width}}  {m.owned_by:<12}  {', '.join(m.endpoint_types)}")
    return EXIT_OK


async def _fetch(api_key: str, base_url: str, settings: Settings) -> list[ModelInfo]:
    async with AnyFastClient(
        api_key=api_key,
        base_url=base_url,
        max_retries=settings.max_retries,
        timeouts=timeouts_for(settings),
    ) as client:
        return await client.list_models()
