"""The requests the forms' fields make, built and checked in the job layer (no Textual)."""

from __future__ import annotations

from studio.jobs.requests import MediaRequest, image_request, split_paths, video_request
from studio.store.job_records import JobProvider


def test_paths_are_split_on_commas_and_new_lines() -> None:
    assert split_paths(" a.png, b.png\nc.png,, ") == ["a.png", "b.png", "c.png"]


def test_an_image_request_carries_the_fields_as_parameters() -> None:
    request, errors = image_request(
        {"model": "doubao-seedream-4-5-251128", "prompt": "a kite", "size": "2K", "seed": "7"}
    )
    assert errors == {}
    assert request == MediaRequest(
        JobProvider.SEEDREAM,
        "doubao-seedream-4-5-251128",
        "a kite",
        params={
            "size": "2K",
            "images": [],
            "max_images": None,
            "seed": 7,
            "watermark": False,
            "response_format": "url",
        },
    )


def test_a_wrong_field_makes_no_request_and_says_why() -> None:
    request, errors = image_request({"model": "doubao-seedream-4-5-251128", "prompt": ""})
    assert request is None and set(errors) == {"prompt"}
    request, errors = video_request(
        "kling:multi-image2video",
        {"model": "kling-v1-6", "prompt": "a montage", "images": "a,b,c,d,e"},
    )
    assert request is None and "1 to 4" in errors["images"]


def test_a_missing_image_file_is_named_under_its_field() -> None:
    fields = {"model": "seedance-2.0", "prompt": "a fox", "first_frame": "/no/such/frame.png"}
    request, errors = video_request("seedance", fields)
    assert request is None and "frame.png" in errors["first_frame"]


def test_video_requests_follow_the_kind() -> None:
    fields = {"model": "seedance-2.0", "prompt": "a fox", "duration": "5", "audio": "1"}
    request, errors = video_request("seedance", fields)
    assert errors == {} and request is not None
    assert request.provider is JobProvider.SEEDANCE
    assert request.params["duration"] == 5 and request.params["generate_audio"] is True
    fields = {"model": "kling-v2-master", "prompt": "a fox", "mode": "pro", "aspect_ratio": "1:1"}
    request, errors = video_request("kling:text2video", fields)
    assert errors == {} and request is not None
    assert (request.provider, request.action) == (JobProvider.KLING, "text2video")
    assert request.params["model_name"] == "kling-v2-master"
    assert request.params["aspect_ratio"] == "1:1"


def test_a_provider_given_by_name_is_typed() -> None:
    assert MediaRequest("kling", "kling-v3", "p").provider is JobProvider.KLING  # type: ignore[arg-type]
