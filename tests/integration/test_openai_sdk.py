"""Protocol fidelity: the official openai SDK, an independent client, talks to the emulator."""

from __future__ import annotations

import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from studio.emulator import EmulatorServer

MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Name three rivers [[emulator: tokens=64]]"},
]


def sdk(emulator: EmulatorServer, key: str | None = None) -> OpenAI:
    return OpenAI(
        api_key=key or emulator.api_key, base_url=f"{emulator.base_url}/v1", max_retries=0
    )


def test_non_streamed_completion(emulator: EmulatorServer) -> None:
    completion = sdk(emulator).chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content and len(choice.message.content.split()) == 64
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 64


def test_streamed_completion_matches_non_streamed(emulator: EmulatorServer) -> None:
    client = sdk(emulator)
    whole = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes == ["stop"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 64


async def test_async_streaming(emulator: EmulatorServer) -> None:
    client = AsyncOpenAI(api_key=emulator.api_key, base_url=f"{emulator.base_url}/v1")
    try:
        stream = await client.chat.completions.create(
            model="claude-sonnet-4-5-20250929",
            messages=MESSAGES,  # type: ignore[arg-type]
            stream=True,
        )
        pieces = [c.choices[0].delta.content or "" async for c in stream if c.choices]
    finally:
        await client.close()
    assert len("".join(pieces).split()) == 64


def test_models_list(emulator: EmulatorServer) -> None:
    ids = [m.id for m in sdk(emulator).models.list()]
    assert "gpt-4o" in ids


def test_wrong_key_is_an_sdk_authentication_error(emulator: EmulatorServer) -> None:
    with pytest.raises(openai.AuthenticationError):
        sdk(emulator, key="sk-not-the-right-one").chat.completions.create(
            model="gpt-4o",
            messages=MESSAGES,  # type: ignore[arg-type]
        )


def test_images_endpoint(emulator: EmulatorServer) -> None:
    result = sdk(emulator).images.generate(
        model="doubao-seedream-4-5-251128", prompt="a red kite", size="1024x1024"
    )
    assert result.data and result.data[0].url
