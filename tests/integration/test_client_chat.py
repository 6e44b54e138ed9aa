"""The real client against the real emulator over loopback: models and chat."""

from __future__ import annotations

import logging
import struct
import zlib
from pathlib import Path

import pytest

from studio.api import (
    AnyFastClient,
    AuthenticationError,
    ChatDelta,
    MediaInputError,
    ServerError,
)
from studio.api.media import chat_content
from studio.emulator import EmulatorServer

from .conftest import TEST_KEY

USER = [{"role": "user", "content": "Explain server-sent events"}]


async def collect(
    client: AnyFastClient, messages: list[dict[str, object]], **params: object
) -> list[ChatDelta]:
    return [d async for d in client.stream_chat(model="gpt-4o", messages=messages, **params)]


async def test_list_models(client: AnyFastClient) -> None:
    models = await client.list_models()
    ids = {m.id for m in models}
    assert {"gpt-4o", "claude-sonnet-4-5-20250929"} <= ids
    assert any("image-generation" in m.endpoint_types for m in models)
    assert any("video" in m.endpoint_types for m in models)
    gpt = next(m for m in models if m.id == "gpt-4o")
    assert gpt.owned_by and gpt.raw["created"] == 1626777600


async def test_stream_chat_yields_content_finish_and_usage(client: AnyFastClient) -> None:
    deltas = await collect(client, USER)
    assert deltas[0].role == "assistant"
    text = "".join(d.content for d in deltas)
    assert len(text.split()) > 50
    assert "```" in text and "|" in text  # a code block and a table
    finishes = [d.finish_reason for d in deltas if d.finish_reason]
    assert finishes == ["stop"]
    usage = deltas[-1].usage
    assert usage is not None and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


async def test_stream_and_non_stream_give_the_same_deterministic_text(
    client: AnyFastClient,
) -> None:
    streamed = "".join(d.content for d in await collect(client, USER))
    again = "".join(d.content for d in await collect(client, USER))
    whole = await client.chat("gpt-4o", USER)
    assert streamed == again == whole.content
    assert whole.finish_reason == "stop"
    assert whole.usage is not None and whole.usage.completion_tokens > 0


async def test_reply_length_and_max_tokens(client: AnyFastClient) -> None:
    msgs = [{"role": "user", "content": "Hi [[emulator: tokens=40]]"}]
    deltas = await collect(client, msgs)
    usage = next(d.usage for d in deltas if d.usage)
    assert usage is not None and usage.completion_tokens == 40
    capped = await collect(client, msgs, max_tokens=10)
    assert [d.finish_reason for d in capped if d.finish_reason] == ["length"]
    assert next(d.usage for d in capped if d.usage).completion_tokens == 10  # type: ignore[union-attr]


async def test_usage_chunk_can_be_turned_off(client: AnyFastClient) -> None:
    deltas = await collect(client, USER, stream_options={"include_usage": False})
    assert all(d.usage is None for d in deltas)
    assert any(d.finish_reason == "stop" for d in deltas)


async def test_reasoning_deltas(client: AnyFastClient) -> None:
    deltas = [d async for d in client.stream_chat(model="deepseek-r1", messages=USER)]
    reasoning = "".join(d.reasoning for d in deltas)
    content = "".join(d.content for d in deltas)
    assert reasoning and content
    first_content = next(i for i, d in enumerate(deltas) if d.content)
    assert all(not d.reasoning for d in deltas[first_content:])


def tiny_png(path: Path, width: int = 64, height: int = 48) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


async def test_vision_attachment_is_sent_as_data_uri_and_mentioned(
    client: AnyFastClient, tmp_path: Path
) -> None:
    image = tiny_png(tmp_path / "cat.png")
    content = chat_content("What is in this image?", [str(image), "https://example.com/dog.jpg"])
    assert isinstance(content, list)
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")
    text = "".join(d.content for d in await collect(client, [{"role": "user", "content": content}]))
    assert "2 images" in text
    assert "64×48 PNG" in text
    assert "dog.jpg" in text


def test_missing_or_bad_image_fails_before_any_request(tmp_path: Path) -> None:
    with pytest.raises(MediaInputError, match="nope.png"):
        chat_content("x", [str(tmp_path / "nope.png")])
    notes = tmp_path / "notes.txt"
    notes.write_text("just text")
    with pytest.raises(MediaInputError, match="notes.txt"):
        chat_content("x", [str(notes)])


async def test_wrong_key_is_401_not_retried_and_never_leaks(
    emulator: EmulatorServer, fast_backoff: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad = "sk-wrong-key-0123456789SECRETSAUCE"
    before = len(emulator.requests)
    async with AnyFastClient(api_key=bad, base_url=emulator.base_url, max_retries=3) as c:
        with pytest.raises(AuthenticationError) as info:
            await c.chat("gpt-4o", USER)
    assert len(emulator.requests) - before == 1  # a 401 never enters the retry path
    err = info.value
    assert err.status == 401 and err.code == "invalid_api_key"
    for text in (str(err), repr(err), err.message, caplog.text, repr(c)):
        assert bad not in text and "SECRETSAUCE" not in text


async def test_missing_key_is_refused_before_sending() -> None:
    with pytest.raises(AuthenticationError, match="No API key"):
        AnyFastClient(api_key="", base_url="http://127.0.0.1:9")


async def test_unknown_model_is_503_model_not_found_without_retry(
    client: AnyFastClient, emulator: EmulatorServer
) -> None:
    before = len(emulator.requests)
    with pytest.raises(ServerError) as info:
        await client.chat("no-such-model", USER)
    assert info.value.code == "model_not_found"
    assert "no-such-model" in info.value.message
    assert len(emulator.requests) - before == 1


async def test_key_is_sent_as_bearer(emulator: EmulatorServer) -> None:
    async with AnyFastClient(api_key=TEST_KEY, base_url=emulator.base_url) as c:
        assert (await c.chat("gpt-4o", USER)).content
