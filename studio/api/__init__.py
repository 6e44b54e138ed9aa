"""The async AnyFast client layer: HTTP policy, SSE, typed results and errors. No Textual here.

The names below load on first use: importing a light submodule (``studio.api.errors``,
``studio.api.types``, ``studio.api.media``) must not pull in httpx, which costs a tenth of a
second of the TUI's start-up before its first frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.lazy import lazy_attributes

if TYPE_CHECKING:
    from studio.api.client import DEFAULT_BASE_URL, AnyFastClient
    from studio.api.errors import (
        AnyFastError,
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        IncompleteStreamError,
        MediaInputError,
        NotFoundError,
        PermissionDeniedError,
        ProtocolError,
        RateLimitError,
        ServerError,
        StreamError,
        StreamStalledError,
        TaskNotFoundError,
    )
    from studio.api.http import Timeouts
    from studio.api.types import (
        ChatCompletion,
        ChatDelta,
        ImageItem,
        ImageResult,
        ModelInfo,
        Provider,
        TaskState,
        Usage,
        VideoTask,
    )

_LAZY = {
    "DEFAULT_BASE_URL": "studio.api.client",
    "AnyFastClient": "studio.api.client",
    "AnyFastError": "studio.api.errors",
    "APIConnectionError": "studio.api.errors",
    "APIStatusError": "studio.api.errors",
    "APITimeoutError": "studio.api.errors",
    "AuthenticationError": "studio.api.errors",
    "BadRequestError": "studio.api.errors",
    "IncompleteStreamError": "studio.api.errors",
    "MediaInputError": "studio.api.errors",
    "NotFoundError": "studio.api.errors",
    "PermissionDeniedError": "studio.api.errors",
    "ProtocolError": "studio.api.errors",
    "RateLimitError": "studio.api.errors",
    "ServerError": "studio.api.errors",
    "StreamError": "studio.api.errors",
    "StreamStalledError": "studio.api.errors",
    "TaskNotFoundError": "studio.api.errors",
    "Timeouts": "studio.api.http",
    "ChatCompletion": "studio.api.types",
    "ChatDelta": "studio.api.types",
    "ImageItem": "studio.api.types",
    "ImageResult": "studio.api.types",
    "ModelInfo": "studio.api.types",
    "Provider": "studio.api.types",
    "TaskState": "studio.api.types",
    "Usage": "studio.api.types",
    "VideoTask": "studio.api.types",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AnyFastClient",
    "AnyFastError",
    "AuthenticationError",
    "BadRequestError",
    "ChatCompletion",
    "ChatDelta",
    "ImageItem",
    "ImageResult",
    "IncompleteStreamError",
    "MediaInputError",
    "ModelInfo",
    "NotFoundError",
    "PermissionDeniedError",
    "ProtocolError",
    "Provider",
    "RateLimitError",
    "ServerError",
    "StreamError",
    "StreamStalledError",
    "TaskNotFoundError",
    "TaskState",
    "Timeouts",
    "Usage",
    "VideoTask",
]
