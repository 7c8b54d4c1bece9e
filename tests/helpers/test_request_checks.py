"""Every check ``create`` makes before sending, applied alike by ``create``, ``read_requests``,
``estimate_batch`` and the dry run — and each one matching a refusal of the API itself (the
emulator's estimate endpoint, which validates as the create does)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

import aurous
from aurous.emulator import Emulator

from .conftest import Counting, Harness

IMAGE_BAD: list[tuple[dict[str, Any], str]] = [
    ({"prompt": "x", "count": 9}, "count must be between 1 and 4, got 9"),
    ({"prompt": "x", "count": 0}, "count must be between 1 and 4"),
    ({"prompt": "x", "width": 512, "height": 1024}, "width must be between 1024 and 4096"),
    ({"prompt": "x", "width": 2048, "height": 5000}, "height must be between 1024 and 4096"),
    ({"prompt": "x", "width": 1024}, "width needs height"),
    ({"prompt": "x", "size": "2k_1_1", "width": 1024, "height": 1024}, "size cannot be combined"),
    ({"prompt": "x", "steps": 0}, "steps must be between 1 and 100"),
    ({"prompt": "x", "steps": 101}, "steps must be between 1 and 100"),
    ({"prompt": "x", "guidance_scale": 31}, "guidance_scale must be between 0.1 and 30"),
    ({"prompt": "x", "guidance_scale": 0.05}, "guidance_scale must be between 0.1 and 30"),
    ({"prompt": "x", "cfg_rescale": 1.5}, "cfg_rescale must be between 0 and 1"),
    ({"prompt": "x", "denoise_strength": -0.1}, "denoise_strength must be between 0 and 1"),
    ({"prompt": "x", "seed": -1}, "seed must be between 0 and 4294967295"),
    ({"prompt": "x", "seed": 2**32}, "seed must be between 0 and 4294967295"),
    ({"prompt": "   "}, "prompt must not be blank"),
    ({"prompt": ""}, "prompt must be 1 to 4000 characters long, got 0"),
    ({"prompt": "x" * 4001}, "prompt must be 1 to 4000 characters long, got 4001"),
    ({"prompt": "x", "negative_prompt": "\t"}, "negative_prompt must not be blank"),
    ({"prompt": "x", "lora_id": "a", "loras": [{"lora": "b"}]}, "lora_id cannot be combined"),
    ({"prompt": "x", "loras": [{"lora": "b", "weight": 3}]}, r"loras\[0\].weight must be between"),
    ({"prompt": "x", "loras": [{"weight": 1}]}, r"loras\[0\] needs 'lora'"),
    (
        {"prompt": "x", "character_id": "char_1", "reference_image_urls": ["file_1"]},
        "character_id cannot be combined",
    ),
    (
        {"prompt": "x", "reference_image_urls": ["http://example.com/a.png"]},
        r"reference_image_urls\[0\] must be a file_… id or an https:// URL",
    ),
    (
        {"prompt": "x", "reference_image_urls": ["https://example.com/" + "a" * 2048]},
        r"reference_image_urls\[0\] must be at most 2048 characters",
    ),
    ({"prompt": "x", "webhook_url": "http://example.com/hook"}, "webhook_url must be an https"),
]
VIDEO_BAD: list[tuple[dict[str, Any], str]] = [
    ({"prompt": "x", "duration": 13}, "duration must be between 2 and 12, got 13"),
    ({"prompt": "x", "duration": 1}, "duration must be between 2 and 12"),
    ({"prompt": "x", "seed": -2}, "seed must be between -1 and 4294967295"),
    ({"resolution": "720p"}, "a video needs a prompt"),
    ({"prompt": "x", "last_frame_url": "file_1"}, "last_frame_url needs first_frame_url"),
    ({"first_frame_url": "ftp://example.com/f.png"}, "first_frame_url must be a file_"),
    ({"prompt": " \n"}, "prompt must not be blank"),
    ({"prompt": "x", "webhook_url": "http://example.com/hook"}, "webhook_url must be an https"),
]
IMAGE_GOOD: list[dict[str, Any]] = [
    {"prompt": "x" * 4000, "count": 4, "seed": 0, "steps": 1, "guidance_scale": 0.1},
    {"prompt": "x", "width": 4096, "height": 1024, "cfg_rescale": 1, "denoise_strength": 0},
    {"prompt": "x", "seed": 4294967295, "steps": 100, "guidance_scale": 30},
    {"prompt": "x", "reference_image_urls": ["https://example.com/a.png"], "loras": []},
]
VIDEO_GOOD: list[dict[str, Any]] = [
    {"prompt": "x", "duration": 2, "seed": -1},
    {"prompt": "x", "duration": 12, "seed": 4294967295},
]
UNDOCUMENTED: list[tuple[str, dict[str, Any], str]] = [
    ("image", {"prompt": "x", "size": "2k_16x9"}, "size '2k_16x9' is not a value the API"),
    ("video", {"prompt": "x", "resolution": "4k"}, "resolution '4k' is not a value the API"),
    ("video", {"prompt": "x", "ratio": "2:1"}, "ratio '2:1' is not a value the API"),
]


@pytest.fixture(scope="module")
def api() -> Any:
    """The emulator's estimate endpoints, called with plain httpx (no SDK checks)."""
    emu = Emulator(instant=True)
    http = httpx.Client(transport=emu.transport, base_url=emu.base_url)
    headers = {"X-Api-Key": emu.api_key}

    def refuses(media: str, body: dict[str, Any]) -> bool:
        response = http.post(f"/v1/{media}s/estimate", json=body, headers=headers)
        assert response.status_code in (200, 400, 404), response.text
        return response.status_code != 200

    yield refuses
    http.close()
    emu.close()


def _cases() -> list[tuple[str, dict[str, Any], str]]:
    return [("image", b, m) for b, m in IMAGE_BAD] + [("video", b, m) for b, m in VIDEO_BAD]


@pytest.mark.parametrize(("media", "body", "message"), _cases())
def test_create_refuses_before_sending_what_the_api_refuses(
    h: Harness, api: Any, media: str, body: dict[str, Any], message: str
) -> None:
    assert api(media, body), "the API accepts it: the SDK must not refuse it"
    made: dict[str, Counting] = {}

    def wrap(transport: Any) -> Counting:
        made["t"] = Counting(transport)
        return made["t"]

    client = h.make_client(wrap=wrap)
    namespace = client.videos if media == "video" else client.images
    with pytest.raises(ValueError, match=message):
        h(namespace.create(**body))
    with pytest.raises(ValueError, match=message):
        h(namespace.estimate(**body))
    assert made["t"].requests == []


@pytest.mark.parametrize(
    ("media", "body"), [("image", b) for b in IMAGE_GOOD] + [("video", b) for b in VIDEO_GOOD]
)
def test_the_bounds_themselves_are_accepted_by_both(
    h: Harness, api: Any, media: str, body: dict[str, Any]
) -> None:
    assert not api(media, body)
    namespace = h.client.videos if media == "video" else h.client.images
    assert h(namespace.estimate(**body)).estimated_cost.amount > 0


def test_read_requests_reports_every_bad_line_with_its_number(tmp_path: Path) -> None:
    for media, cases in (("image", IMAGE_BAD), ("video", VIDEO_BAD)):
        good = {"prompt": "fine"}
        lines = [good, *(body for body, _ in cases), good]
        path = tmp_path / f"{media}.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        with pytest.raises(aurous.RequestFileError) as caught:
            aurous.read_requests(path, media=media, max_errors=100)  # type: ignore[arg-type]
        error = caught.value
        assert error.count == len(cases)
        assert [line for line, _ in error.errors] == list(range(2, len(cases) + 2))
        for (_, text), (_, pattern) in zip(error.errors, cases, strict=True):
            assert re.search(pattern, text), (text, pattern)


def test_estimate_batch_names_every_bad_request(h: Harness) -> None:
    requests = ["fine", *(body for body, _ in IMAGE_BAD[:4]), "fine"]
    with pytest.raises(ValueError, match="4 bad batch requests") as caught:
        h(h.client.images.estimate_batch(requests))
    text = str(caught.value)
    for index in range(1, 5):
        assert f"batch request #{index}: " in text
    assert "batch request #0" not in text
    assert "batch request #5" not in text


def test_estimate_batch_of_a_request_list_reports_lines(h: Harness, tmp_path: Path) -> None:
    path = tmp_path / "ok.jsonl"
    path.write_text('{"prompt": "a"}\n\n{"prompt": "b", "count": 2}\n', encoding="utf-8")
    requests = aurous.read_requests(path)
    requests[1]["count"] = 7  # changed after reading: estimate_batch checks again
    with pytest.raises(aurous.RequestFileError) as caught:
        h(h.client.images.estimate_batch(requests))
    assert caught.value.errors == [(3, "count must be between 1 and 4, got 7")]
    assert caught.value.path == str(path)


@pytest.mark.parametrize(("media", "body", "message"), UNDOCUMENTED)
def test_values_the_api_does_not_document_are_sent_by_create_and_named_by_a_strict_read(
    h: Harness, api: Any, tmp_path: Path, media: str, body: dict[str, Any], message: str
) -> None:
    namespace = h.client.videos if media == "video" else h.client.images
    # create sends it (the API may know values newer than this SDK): here it refuses it.
    with pytest.raises(aurous.InvalidRequestError):
        h(namespace.estimate(**body))
    assert api(media, body)
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(body) + "\n", encoding="utf-8")
    assert len(aurous.read_requests(path, media=media)) == 1  # type: ignore[arg-type]
    with pytest.raises(aurous.RequestFileError, match=message):
        aurous.read_requests(path, media=media, strict=True)  # type: ignore[arg-type]


def test_check_remote_asks_the_api_once_per_shape_and_reports_every_refusal(
    h: Harness, tmp_path: Path
) -> None:
    made: dict[str, Counting] = {}

    def wrap(transport: Any) -> Counting:
        made["t"] = Counting(transport)
        return made["t"]

    client = h.make_client(wrap=wrap)
    lines = [
        {"prompt": "one", "seed": 1},
        {"prompt": "two", "seed": 2},  # the same shape as line 1: prompts and seeds aside
        {"prompt": "three", "lora_id": "no-such-lora"},
        {"prompt": "four", "size": "2k_16x9"},
        {"prompt": "five", "lora_id": "no-such-lora"},
        {"prompt": "six", "count": 2},
    ]
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    requests = aurous.read_requests(path)
    with pytest.raises(aurous.RequestFileError) as caught:
        h(client.images.estimate_batch(requests, check_remote=True))
    assert [line for line, _ in caught.value.errors] == [3, 4, 5]
    assert "resource_not_found, lora_id" in caught.value.errors[0][1]
    assert "invalid_format, size" in caught.value.errors[1][1]
    estimates = [r for r in made["t"].requests if r == ("POST", "/v1/images/estimate")]
    assert len(estimates) == 4  # four shapes: plain, the LoRA, the size, count=2
    assert h.emu.team.generations == {}

    fine = aurous.read_requests(path)
    del fine[2:5]
    est = h(client.images.estimate_batch(fine, check_remote=True))
    assert est.total == 4
    assert est.estimate_calls == 2
