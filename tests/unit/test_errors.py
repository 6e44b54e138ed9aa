"""Error parsing for the four AnyFast error shapes, retry hints, and secret scrubbing."""

from __future__ import annotations

import json

import pytest

from studio.api.errors import (
    AnyFastError,
    AuthenticationError,
    BadRequestError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StreamError,
    TaskNotFoundError,
    describe,
    error_from_response,
    iter_error_classes,
    parse_retry_after,
    redact,
)
from studio.api.http import MAX_RETRY_AFTER, backoff_delay

KEY = "sk-live-0123456789abcdefSECRET"


def test_shape_a_openai() -> None:
    body = {
        "error": {
            "message": "Invalid API key provided.",
            "type": "authentication_error",
            "code": "invalid_api_key",
        }
    }
    err = error_from_response(401, json.dumps(body).encode())
    assert isinstance(err, AuthenticationError)
    assert (err.status, err.message, err.code, err.error_type) == (
        401,
        "Invalid API key provided.",
        "invalid_api_key",
        "authentication_error",
    )
    assert not err.retryable


def test_shape_a_prime_gateway_flavour_with_request_id_in_message() -> None:
    body = {
        "error": {
            "message": "No available channel for model x under group default "
            "(request id: 20261122abc)",
            "type": "new_api_error",
            "param": "",
            "code": "model_not_found",
        }
    }
    err = error_from_response(503, json.dumps(body))
    assert isinstance(err, ServerError)
    assert err.message == "No available channel for model x under group default"
    assert err.request_id == "20261122abc"
    assert err.code == "model_not_found"
    assert err.retryable


def test_shape_a_prime_empty_code_is_none() -> None:
    err = error_from_response(401, b'{"error":{"message":"No token provided","code":""}}')
    assert err.code is None
    assert err.message == "No token provided"


def test_shape_b_task_not_exist_on_400_and_404() -> None:
    body = b'{"code":"task_not_exist","message":"task_not_exist","data":null}'
    for status in (400, 404):
        err = error_from_response(status, body)
        assert isinstance(err, TaskNotFoundError), status
        assert err.code == "task_not_exist"


def test_shape_b_prime_nested_json_message() -> None:
    inner = {"error": {"code": "InvalidParameter", "message": "content[1].image_url.url is bad"}}
    body = {"code": "fail_to_fetch_task", "message": json.dumps(inner), "data": None}
    err = error_from_response(400, json.dumps(body))
    assert isinstance(err, BadRequestError)
    assert err.message == "content[1].image_url.url is bad"
    assert err.code == "fail_to_fetch_task"


def test_shape_c_plain() -> None:
    err = error_from_response(403, b'{"code":"insufficient_user_quota","message":"quota gone"}')
    assert isinstance(err, PermissionDeniedError)
    assert (err.code, err.message) == ("insufficient_user_quota", "quota gone")


def test_shape_d_empty_429() -> None:
    err = error_from_response(429, b"")
    assert isinstance(err, RateLimitError)
    assert err.retryable
    assert "no explanation" in err.message
    assert err.raw is None


def test_html_body_becomes_short_single_line() -> None:
    html = b"<html>\n<head><title>502 Bad Gateway</title></head>\n<body>" + b"x" * 500 + b"</body>"
    err = error_from_response(502, html)
    assert isinstance(err, ServerError)
    assert "\n" not in err.message
    assert len(err.message) <= 201


def test_request_id_from_header() -> None:
    err = error_from_response(500, b"", {"x-oneapi-request-id": "rid-1"})
    assert err.request_id == "rid-1"
    assert "rid-1" in str(err)


def test_x_should_retry_is_obeyed() -> None:
    assert not error_from_response(503, b"", {"x-should-retry": "false"}).retryable
    assert error_from_response(400, b"", {"x-should-retry": "true"}).retryable


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_backoff_delay_policy() -> None:
    for attempt in range(8):
        delay = backoff_delay(attempt)
        assert delay is not None
        cap = min(0.5 * 2**attempt, 8.0)
        assert 0.75 * cap <= delay <= cap
    assert backoff_delay(0, retry_after=2.0) == 2.0
    assert backoff_delay(0, retry_after=MAX_RETRY_AFTER + 1) is None


@pytest.mark.parametrize("cls", list(iter_error_classes()))
def test_no_error_class_leaks_the_key(cls: type[AnyFastError]) -> None:
    err = cls(f"echo Bearer {KEY} and {KEY}", raw={"echo": KEY, "auth": f"Bearer {KEY}"})
    err.scrub([KEY])
    for text in (str(err), repr(err), err.message, json.dumps(err.raw), *map(str, err.args)):
        assert KEY not in text
        assert "SECRET" not in text


def test_error_from_response_scrubs_echoed_key() -> None:
    body = {"error": {"message": f"bad key {KEY}", "code": "invalid_api_key"}}
    err = error_from_response(401, json.dumps(body), secrets=[KEY])
    assert KEY not in str(err)
    assert KEY not in json.dumps(err.raw)


def test_redact_catches_unknown_sk_tokens_and_bearer() -> None:
    text = redact("Authorization: Bearer abcdef123456 and sk-abcdefghijklmnop")
    assert "abcdef123456" not in text
    assert "sk-abcdefghijklmnop" not in text


def test_stream_error_keeps_partial() -> None:
    err = StreamError("cut", partial="Hello wor")
    assert err.partial == "Hello wor"


def test_describe_gives_next_step() -> None:
    assert "studio config set api_key" in describe(AuthenticationError())
    assert "retry" in describe(RateLimitError()).lower()
