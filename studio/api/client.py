"""The async AnyFast client: every endpoint of ``shared/anyfast-api.md``, typed.

Usage::

    async with AnyFastClient(api_key=key, base_url=url) as client:
        async for delta in client.stream_chat(model="gpt-4o", messages=[...]):
            print(delta.content, end="")
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Sequence
from types import TracebackType
from typing import Any, Self

import httpx

from studio.api.chat import chat_body, parse_completion, read_stream
from studio.api.errors import (
    AnyFastError,
    AuthenticationError,
    NotFoundError,
    ProtocolError,
    TaskNotFoundError,
)
from studio.api.http import CallKind, HTTPSession, RetryBudget, RetryCallback, Timeouts
from studio.api.media import image_data_uri, image_for_kling
from studio.api.tasks import parse_task
from studio.api.types import (
    JSON,
    ChatCompletion,
    ChatDelta,
    ImageItem,
    ImageResult,
    ModelInfo,
    Provider,
    VideoTask,
)

DEFAULT_BASE_URL = "https://www.anyfast.ai"
KLING_ACTIONS = ("text2video", "image2video", "multi-image2video")


class AnyFastClient:
    """An async client owning one ``httpx.AsyncClient``; use it as an async context manager."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        *,
        max_retries: int = 2,
        timeouts: Timeouts | None = None,
        on_retry: RetryCallback | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if not api_key or not api_key.strip():
            raise AuthenticationError(
                "No API key is set: use `studio config set api_key sk-...`, the "
                "ANYFAST_API_KEY environment variable, or --demo"
            )
        self.base_url = base_url.rstrip("/")
        self._session = HTTPSession(
            api_key=api_key.strip(),
            base_url=self.base_url,
            timeouts=timeouts or Timeouts(),
            max_retries=max_retries,
            on_retry=on_retry,
            transport=transport,
            headers=headers,
        )
        self._kling_bare_query = False

    def __repr__(self) -> str:
        return f"AnyFastClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._session.aclose()

    @property
    def timeouts(self) -> Timeouts:
        return self._session.timeouts

    # -- plumbing -------------------------------------------------------------------------------

    async def _json(
        self,
        method: str,
        path: str,
        *,
        kind: CallKind,
        body: Any = None,
        idempotency_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        response = await self._session.send(
            method,
            path,
            kind=kind,
            json_body=body,
            idempotency_key=idempotency_key,
            headers=headers,
        )
        try:
            return response.json()
        except ValueError:
            raise self._session.scrubbed(
                ProtocolError(
                    f"The gateway answered {method} {path} with something that is not JSON",
                    status=response.status_code,
                    raw=response.text[:500],
                )
            ) from None

    # -- models and chat ------------------------------------------------------------------------

    async def list_models(self) -> list[ModelInfo]:
        """Every model this key may use (``GET /v1/models``)."""
        data = await self._json("GET", "/v1/models", kind=CallKind.READ)
        items = data.get("data") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise ProtocolError("The model list has no `data` array", raw=data)
        return [ModelInfo.from_json(m) for m in items if isinstance(m, dict) and m.get("id")]

    async def chat(self, model: str, messages: Sequence[JSON], **params: Any) -> ChatCompletion:
        """One non-streamed chat completion. ``params``: temperature, max_tokens, top_p, …"""
        headers = params.pop("extra_headers", None)
        body = chat_body(model, messages, stream=False, params=params)
        data = await self._json(
            "POST", "/v1/chat/completions", kind=CallKind.CHAT, body=body, headers=headers
        )
        return parse_completion(data)

    def stream_chat(
        self, model: str, messages: Sequence[JSON], **params: Any
    ) -> AsyncIterator[ChatDelta]:
        """Stream a chat reply as :class:`ChatDelta` pieces (``async for delta in ...``).

        The request is sent when iteration starts. Retries (``max_retries``, with backoff)
        happen only before the first content: a refused or failed request, or a stream that
        broke before any text arrived. Silence is never resent (the gateway may still be
        working), nor is a stream once content was yielded: then a failure raises a
        :class:`~studio.api.errors.StreamError` carrying the partial text. Trouble after the
        finish reason comes as a delta with a ``warning``. Leaving the loop early closes the
        connection.
        """
        headers = {"Accept": "text/event-stream", **(params.pop("extra_headers", None) or {})}
        body = chat_body(model, messages, stream=True, params=params)
        session = self._session
        path = "/v1/chat/completions"

        def open_response(budget: RetryBudget) -> Awaitable[httpx.Response]:
            return session.send(
                "POST",
                path,
                kind=CallKind.CHAT,
                json_body=body,
                stream=True,
                headers=headers,
                budget=budget,
            )

        def pause_before_retry(err: AnyFastError, budget: RetryBudget) -> Awaitable[bool]:
            return session.pause_before_retry(err, CallKind.CHAT, budget, what=f"POST {path}")

        return read_stream(
            open_response,
            stall_timeout=self.timeouts.stream_stall,
            idle_timeout=self.timeouts.stream_idle,
            secrets=session.secrets,
            pause_before_retry=pause_before_retry,
        )

    # -- images (Seedream, synchronous) ---------------------------------------------------------

    async def generate_images(
        self,
        model: str,
        prompt: str,
        *,
        size: str | None = None,
        images: Sequence[str] = (),
        max_images: int | None = None,
        response_format: str = "url",
        watermark: bool | None = None,
        seed: int | None = None,
        extra: JSON | None = None,
        idempotency_key: str | None = None,
    ) -> ImageResult:
        """Generate one image, or a group when ``max_images`` is given (sequential mode).

        Reference ``images`` may be URLs, data URIs or local paths (sent as data URIs).
        """
        body: JSON = {"model": model, "prompt": prompt, "response_format": response_format}
        refs = [image_data_uri(i) for i in images]
        if refs:
            body["image"] = refs[0] if len(refs) == 1 else refs
        if size:
            body["size"] = size
        if max_images is not None:
            body["sequential_image_generation"] = "auto"
            body["sequential_image_generation_options"] = {"max_images": max_images}
        if watermark is not None:
            body["watermark"] = watermark
        if seed is not None:
            body["seed"] = seed
        body.update(extra or {})
        data = await self._json(
            "POST",
            "/v1/images/generations",
            kind=CallKind.CREATE,
            body=body,
            idempotency_key=idempotency_key,
        )
        return _parse_images(data)

    # -- video tasks ----------------------------------------------------------------------------

    async def create_seedance_task(
        self,
        model: str,
        prompt: str | None,
        *,
        first_frame: str | None = None,
        last_frame: str | None = None,
        reference_images: Sequence[str] = (),
        reference_videos: Sequence[str] = (),
        reference_audios: Sequence[str] = (),
        ratio: str | None = None,
        resolution: str | None = None,
        duration: int | None = None,
        generate_audio: bool | None = None,
        seed: int | None = None,
        watermark: bool | None = None,
        camera_fixed: bool | None = None,
        return_last_frame: bool | None = None,
        extra: JSON | None = None,
        idempotency_key: str | None = None,
    ) -> VideoTask:
        """Create a Seedance task (``POST /v1/video/generations``); images may be local paths."""
        content: list[JSON] = []
        if prompt:
            content.append({"type": "text", "text": prompt})
        for role, src in (("first_frame", first_frame), ("last_frame", last_frame)):
            if src:
                content.append(_media_part("image_url", image_data_uri(src), role))
        for src in reference_images:
            content.append(_media_part("image_url", image_data_uri(src), "reference_image"))
        for src in reference_videos:
            content.append(_media_part("video_url", src, "reference_video"))
        for src in reference_audios:
            content.append(_media_part("audio_url", src, "reference_audio"))
        body: JSON = {"model": model, "content": content}
        options = {
            "ratio": ratio,
            "resolution": resolution,
            "duration": duration,
            "generate_audio": generate_audio,
            "seed": seed,
            "watermark": watermark,
            "camera_fixed": camera_fixed,
            "return_last_frame": return_last_frame,
        }
        body.update({k: v for k, v in options.items() if v is not None})
        body.update(extra or {})
        data = await self._json(
            "POST",
            "/v1/video/generations",
            kind=CallKind.CREATE,
            body=body,
            idempotency_key=idempotency_key,
        )
        return _created(parse_task(data, Provider.SEEDANCE, action="generate"), data)

    async def create_kling_task(
        self, action: str, body: JSON, *, idempotency_key: str | None = None
    ) -> VideoTask:
        """Create a Kling task from a ready body; prefer the three typed helpers below."""
        if action not in KLING_ACTIONS:
            raise ValueError(f"unknown Kling action {action!r}; expected one of {KLING_ACTIONS}")
        clean = {k: v for k, v in body.items() if v is not None}
        data = await self._json(
            "POST",
            f"/kling/v1/videos/{action}",
            kind=CallKind.CREATE,
            body=clean,
            idempotency_key=idempotency_key,
        )
        return _created(parse_task(data, Provider.KLING, action=action), data)

    async def create_kling_text2video(
        self, prompt: str, *, idempotency_key: str | None = None, **options: Any
    ) -> VideoTask:
        """Kling text-to-video. ``options``: model_name, negative_prompt, mode, duration,
        aspect_ratio, cfg_scale, sound, camera_control, … (durations may be given as ints)."""
        body = {"prompt": prompt, **_kling_options(options)}
        return await self.create_kling_task("text2video", body, idempotency_key=idempotency_key)

    async def create_kling_image2video(
        self,
        *,
        image: str | None = None,
        image_tail: str | None = None,
        prompt: str | None = None,
        idempotency_key: str | None = None,
        **options: Any,
    ) -> VideoTask:
        """Kling image-to-video from a first frame and/or a last frame (URL, path or base64)."""
        if not image and not image_tail:
            raise ValueError("Kling image-to-video needs an image, a tail image, or both")
        body: JSON = {"prompt": prompt, **_kling_options(options)}
        if image:
            body["image"] = image_for_kling(image)
        if image_tail:
            body["image_tail"] = image_for_kling(image_tail)
        return await self.create_kling_task("image2video", body, idempotency_key=idempotency_key)

    async def create_kling_multi_image2video(
        self,
        images: Sequence[str],
        prompt: str,
        *,
        idempotency_key: str | None = None,
        **options: Any,
    ) -> VideoTask:
        """Kling multi-image-to-video from 1–4 images."""
        if not 1 <= len(images) <= 4:
            raise ValueError(f"Kling multi-image-to-video takes 1 to 4 images, not {len(images)}")
        body: JSON = {
            "prompt": prompt,
            "image_list": [{"image": image_for_kling(i)} for i in images],
            **_kling_options(options),
        }
        return await self.create_kling_task(
            "multi-image2video", body, idempotency_key=idempotency_key
        )

    async def get_seedance_task(self, task_id: str) -> VideoTask:
        data = await self._json("GET", f"/v1/video/generations/{task_id}", kind=CallKind.READ)
        return parse_task(data, Provider.SEEDANCE)

    async def get_kling_task(self, task_id: str, action: str = "text2video") -> VideoTask:
        """Query a Kling task by ``/kling/v1/videos/{action}/{id}``, falling back to the bare
        ``/kling/v1/videos/{id}`` form (and remembering which one works)."""
        action_path = f"/kling/v1/videos/{action}/{task_id}"
        bare_path = f"/kling/v1/videos/{task_id}"
        paths = (bare_path, action_path) if self._kling_bare_query else (action_path, bare_path)
        status: int | None = None
        for path in paths:
            try:
                data = await self._json("GET", path, kind=CallKind.READ)
            except TaskNotFoundError:
                raise
            except NotFoundError as exc:  # the route itself is missing: try the other form
                status = exc.status
                continue
            self._kling_bare_query = path == bare_path
            return parse_task(data, Provider.KLING, action=action)
        raise TaskNotFoundError(f"No Kling task {task_id}", status=status, code="task_not_exist")

    async def get_task(
        self, provider: Provider | str, task_id: str, action: str | None = None
    ) -> VideoTask:
        """Query any video task by provider."""
        if Provider(provider) is Provider.KLING:
            return await self.get_kling_task(task_id, action or "text2video")
        return await self.get_seedance_task(task_id)


def _media_part(kind: str, url: str, role: str) -> JSON:
    return {"type": kind, kind: {"url": url}, "role": role}


def _kling_options(options: dict[str, Any]) -> JSON:
    out = dict(options)
    if isinstance(out.get("duration"), int | float):
        out["duration"] = str(int(out["duration"]))
    return out


def _created(task: VideoTask, data: Any) -> VideoTask:
    if not task.task_id:
        raise ProtocolError("The gateway accepted the task but sent no task id", raw=data)
    return task


def _parse_images(data: Any) -> ImageResult:
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise ProtocolError("The image answer has no `data` array", raw=data)
    items = []
    for entry in data["data"]:
        entry = entry if isinstance(entry, dict) else {}
        error = entry.get("error")
        if isinstance(error, dict):
            items.append(
                ImageItem(
                    error_code=str(error.get("code") or "error"),
                    error_message=str(error.get("message") or "This image failed"),
                )
            )
            continue
        items.append(
            ImageItem(
                url=entry.get("url") or None,
                b64_json=entry.get("b64_json") or None,
                size=entry.get("size") or None,
            )
        )
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    generated = usage.get("generated_images") if usage else None
    created = data.get("created")
    return ImageResult(
        items=tuple(items),
        model=data.get("model"),
        created=created if isinstance(created, int) else None,
        generated_images=generated if isinstance(generated, int) else None,
        raw=data,
    )


__all__ = ["DEFAULT_BASE_URL", "KLING_ACTIONS", "AnyFastClient", "AnyFastError"]
