"""Every route of the served emulator, over a real loopback socket with plain httpx."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from aurous.emulator import Emulator, EmulatorServer

from .conftest import assert_same_shape, fixture, png_dimensions

REQUEST_ID = re.compile(r"^req_[0-9A-HJKMNP-TV-Z]{26}$")


def _emu(served: EmulatorServer) -> Emulator:
    assert served.emulator is not None
    return served.emulator


def _check_common(response: httpx.Response, *, counted: bool = True) -> None:
    assert REQUEST_ID.match(response.headers["aurous-request-id"])
    assert response.headers["aurous-version"] == "2026-05-15"
    if counted:
        for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
            assert response.headers[name].isdigit()
    else:
        assert "x-ratelimit-limit" not in response.headers


def _error(response: httpx.Response, status: int, code: str, param: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert_same_shape(body, fixture("error.missing_field"))
    assert set(body["error"]) == {"type", "code", "message", "param", "doc_url", "request_id"}
    assert body["error"]["code"] == code
    assert body["error"]["param"] == param
    assert body["error"]["request_id"] == response.headers["aurous-request-id"]
    assert body["error"]["doc_url"] == f"https://docs.aurous-labs.com/errors#{code}"


def test_image_create_retrieve_list_and_outputs(served: EmulatorServer, http: httpx.Client) -> None:
    created = http.post("/v1/images", json=fixture("request.image.create"))
    assert created.status_code == 201
    _check_common(created)
    body = created.json()
    assert_same_shape(body, fixture("generation.pending.image"))
    assert body["status"] == "pending"
    assert body["cost"] == {
        "amount": 2,
        "currency": "credit",
        "breakdown": {"base": 1, "enhance": 1},
    }
    assert body["loras"] == [
        {"id": "lora_01KJKB3Q000MP4314Q6EWM27HK", "name": "Golden Hour Photography"}
    ]
    assert body["creation_request_id"] == created.headers["aurous-request-id"]

    _emu(served).advance(10)
    got = http.get(f"/v1/images/{body['id']}")
    assert got.status_code == 200
    _check_common(got)
    row = got.json()
    assert_same_shape(row, fixture("generation.succeeded.image"))
    assert row["status"] == "succeeded"
    assert row["output_urls"][0].startswith(
        f"{served.base_url}/v1/images/{body['id']}/output/0?token="
    )

    listed = http.get("/v1/images", params={"limit": 1})
    assert listed.status_code == 200
    assert_same_shape(listed.json(), fixture("generations.list"))
    assert listed.json()["data"][0]["id"] == body["id"]

    # The output URL needs no key.
    image = httpx.get(row["output_urls"][0], timeout=10)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert png_dimensions(image.content) == (256, 256)
    _check_common(image)


def test_image_multi_lora_and_custom_size(served: EmulatorServer, http: httpx.Client) -> None:
    created = http.post("/v1/images", json=fixture("request.image.create.multi_lora"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert [entry["name"] for entry in body["loras"]] == [
        "Golden Hour Photography",
        "Acme Ink Wash",
    ]
    assert (body["width"], body["height"], body["size_preset"]) == (2048, 1376, "2k_3_2")
    custom = http.post(
        "/v1/images", json={"prompt": "x", "width": 1930, "height": 1080, "cfg_rescale": 0.5}
    )
    row = custom.json()
    assert (row["width"], row["height"], row["size_preset"]) == (1920, 1088, None)
    assert row["cfg_rescale"] == 0.5
    assert "denoise_strength" not in row
    _emu(served).advance(10)


def test_image_estimate(http: httpx.Client) -> None:
    response = http.post("/v1/images/estimate", json={"prompt": "a", "enhance_prompt": True})
    assert response.status_code == 200
    _check_common(response)
    assert response.json() == fixture("estimate")


def test_video_create_estimate_and_download(served: EmulatorServer, http: httpx.Client) -> None:
    estimate = http.post(
        "/v1/videos/estimate", json={"video_lora_id": "seedance-1-pro", "prompt": "p"}
    )
    assert estimate.json() == fixture("estimate.video")
    created = http.post("/v1/videos", json=fixture("request.video.create"))
    assert created.status_code == 201
    body = created.json()
    assert_same_shape(body, fixture("generation.pending.video"))
    assert body["cost"]["amount"] == 3.75
    assert "output_urls" not in body
    assert "seed" not in body
    i2v = http.post("/v1/videos", json=fixture("request.video.create.i2v"))
    assert i2v.status_code == 201
    assert i2v.json()["inference_type"] == "i2v"
    assert i2v.json()["video_camera_fixed"] is True

    _emu(served).advance(60)
    row = http.get(f"/v1/images/{body['id']}").json()
    assert_same_shape(row, fixture("generation.succeeded.video"))
    video = httpx.get(row["output_video_url"], timeout=10)
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert video.headers["accept-ranges"] == "bytes"
    assert video.content[4:8] == b"ftyp"
    partial = httpx.get(row["output_video_url"], headers={"Range": "bytes=0-99"}, timeout=10)
    assert partial.status_code == 206
    assert partial.headers["content-range"] == f"bytes 0-99/{len(video.content)}"
    assert partial.content == video.content[:100]
    unsatisfiable = httpx.get(
        row["output_video_url"], headers={"Range": f"bytes={len(video.content)}-"}, timeout=10
    )
    _error(unsatisfiable, 416, "value_out_of_range", "Range")
    assert unsatisfiable.headers["content-range"] == f"bytes */{len(video.content)}"


def test_cancel(served: EmulatorServer, http: httpx.Client) -> None:
    created = http.post(
        "/v1/images", json={"prompt": "to cancel", "count": 2, "size": "2k_16_9"}
    ).json()
    cancelled = http.post(f"/v1/images/{created['id']}/cancel")
    assert cancelled.status_code == 200
    _check_common(cancelled)
    assert_same_shape(cancelled.json(), fixture("generation.cancelled.image"))
    assert cancelled.json()["cost"] == {"amount": 0, "currency": "credit", "breakdown": {"base": 0}}
    again = http.post(f"/v1/images/{created['id']}/cancel", content=b"{}")
    assert again.status_code == 200
    assert again.json() == cancelled.json()

    done = http.post("/v1/images", json={"prompt": "finish"}).json()
    _emu(served).advance(10)
    _error(http.post(f"/v1/images/{done['id']}/cancel"), 400, "generation_not_cancellable", "id")


def test_catalogue_routes(http: httpx.Client) -> None:
    loras = http.get("/v1/loras")
    assert loras.status_code == 200
    _check_common(loras)
    assert loras.json() == fixture("loras")
    for ref in ("lora_01KJKB3Q000MP4314Q6EWM27HK", "golden-hour-photography"):
        assert http.get(f"/v1/loras/{ref}").json() == fixture("lora")
    assert http.get("/v1/video_loras").json() == fixture("video_loras")
    assert http.get("/v1/video_loras/seedance-1-pro").json() == fixture("video_lora")
    _error(http.get("/v1/loras/seedance-1-pro"), 404, "resource_not_found", "id")
    _error(http.get("/v1/video_loras/neon-noir"), 404, "resource_not_found", "id")
    _error(http.get("/v1/loras/retired-pencil-sketch"), 404, "resource_not_found", "id")


def test_account_routes(served: EmulatorServer, http: httpx.Client) -> None:
    balance = http.get("/v1/balance")
    _check_common(balance)
    assert_same_shape(balance.json(), fixture("balance"))
    assert http.get("/v1/pricing").json() == fixture("pricing")
    team = http.get("/v1/team").json()
    assert_same_shape(team, fixture("team"))
    assert team["name"] == "Acme Studio"
    assert team["id"] == _emu(served).team.id


def test_usage_routes(served: EmulatorServer, http: httpx.Client) -> None:
    http.post("/v1/images", json={"prompt": "usage"})
    _emu(served).advance(10)
    usage = http.get("/v1/usage", params={"start_time": "2026-05-19T00:00:00Z", "group_by": "type"})
    assert usage.status_code == 200
    _check_common(usage)
    assert_same_shape(usage.json(), fixture("usage"))
    events = http.get("/v1/usage/events", params={"start_time": "2026-05-19T00:00:00Z", "limit": 1})
    assert events.status_code == 200
    assert_same_shape(events.json(), fixture("usage_events"))
    assert events.json()["has_more"] is True
    _error(http.get("/v1/usage"), 400, "missing_field", "start_time")
    _error(
        http.get("/v1/usage", params={"page_token": "!!"}), 400, "invalid_page_token", "page_token"
    )
    _error(
        http.get("/v1/usage/events", params={"start_time": "yesterday"}),
        400,
        "invalid_format",
        "start_time",
    )


def test_file_routes(http: httpx.Client, tiny_png: bytes) -> None:
    created = http.post(
        "/v1/files",
        files={"file": ("ref.png", tiny_png, "image/png")},
        data={"purpose": "reference", "metadata": '{"campaign": "launch-2026"}'},
    )
    assert created.status_code == 201, created.text
    _check_common(created)
    body = created.json()
    assert_same_shape(body, fixture("file"))
    assert (body["mime_type"], body["width_px"], body["height_px"]) == ("image/png", 3, 2)
    assert httpx.get(body["url"], timeout=10).content == tiny_png
    got = http.get(f"/v1/files/{body['id']}")
    assert got.status_code == 200
    assert got.json()["id"] == body["id"]
    deleted = http.delete(f"/v1/files/{body['id']}")
    assert deleted.json() == {"id": body["id"], "object": "file", "deleted": True}
    assert http.delete(f"/v1/files/{body['id']}").json()["deleted"] is False
    _error(http.get(f"/v1/files/{body['id']}"), 404, "resource_not_found", "id")


@pytest.mark.parametrize(
    ("method", "path", "target"),
    [
        ("POST", "/v1/generations", "/v1/images"),
        ("GET", "/v1/generations?limit=2", "/v1/images?limit=2"),
        ("GET", "/v1/generations/img_X", "/v1/images/img_X"),
        ("POST", "/v1/generations/img_X/cancel", "/v1/images/img_X/cancel"),
        ("POST", "/v1/video-generations", "/v1/videos"),
    ],
)
def test_legacy_redirects(served: EmulatorServer, method: str, path: str, target: str) -> None:
    # No key at all: redirects happen before authentication.
    response = httpx.request(method, served.base_url + path, timeout=10)
    assert response.status_code == 308
    _check_common(response, counted=False)
    assert response.headers["location"] == served.base_url + target
    assert response.headers["aurous-deprecated"] == "route"
    assert response.headers["sunset"] == "Tue, 04 Aug 2026 00:00:00 GMT"
    assert response.content == b""


def test_redirect_is_followed_with_body(http: httpx.Client) -> None:
    response = http.post("/v1/generations", json={"prompt": "via legacy"}, follow_redirects=True)
    assert response.status_code == 201
    assert response.json()["prompt"] == "via legacy"


def test_docs_redirect_and_unknown_routes(served: EmulatorServer, http: httpx.Client) -> None:
    docs = httpx.get(served.base_url + "/docs", timeout=10)
    assert docs.status_code == 308
    assert docs.headers["location"] == "https://docs.aurous-labs.com/"
    assert docs.headers["aurous-deprecated"] == "docs"
    for method, path in [
        ("GET", "/v1/videos/vid_X"),
        ("POST", "/v1/chat/completions"),
        ("DELETE", "/v1/images"),
    ]:
        response = http.request(method, path)
        _error(response, 404, "resource_not_found")
        _check_common(response, counted=False)


def test_authentication_errors(served: EmulatorServer) -> None:
    base = served.base_url
    missing = httpx.get(base + "/v1/balance", timeout=10)
    _error(missing, 401, "missing_api_key")
    _check_common(missing, counted=False)
    _error(
        httpx.get(base + "/v1/balance", headers={"X-Api-Key": "og_nope"}, timeout=10),
        401,
        "invalid_api_key",
    )
    emu = _emu(served)
    bearer = httpx.get(
        base + "/v1/balance", headers={"Authorization": f"Bearer {emu.api_key}"}, timeout=10
    )
    assert bearer.status_code == 200
    # X-Api-Key wins over Authorization.
    both = httpx.get(
        base + "/v1/balance",
        headers={"Authorization": f"Bearer {emu.api_key}", "X-Api-Key": "al_live_" + "0" * 64},
        timeout=10,
    )
    _error(both, 401, "invalid_api_key")
    read_key = emu.create_api_key(scope="read")
    scoped = httpx.post(
        base + "/v1/images", json={"prompt": "x"}, headers={"X-Api-Key": read_key}, timeout=10
    )
    _error(scoped, 403, "missing_scope")
    assert scoped.json()["error"]["message"] == (
        "This API key has scope 'read'; POST /v1/images requires scope 'write'."
    )
    assert (
        httpx.get(base + "/v1/balance", headers={"X-Api-Key": read_key}, timeout=10).status_code
        == 200
    )
    revoked = emu.create_api_key()
    emu.revoke_api_key(revoked)
    _error(
        httpx.get(base + "/v1/team", headers={"X-Api-Key": revoked}, timeout=10),
        401,
        "revoked_api_key",
    )


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2026-05-15", True),
        ("2025-01-01", True),
        ("2026-09-01", False),
        ("2026-02-30", False),
        ("latest", False),
    ],
)
def test_versions(http: httpx.Client, value: str, ok: bool) -> None:
    response = http.get("/v1/pricing", headers={"Aurous-Version": value})
    assert response.headers["aurous-version"] == "2026-05-15"
    if ok:
        assert response.json()["version"] == "2026-05-15"
    else:
        _error(response, 400, "unknown_version", "Aurous-Version")


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({}, "missing_field", "prompt"),
        ({"prompt": "   "}, "invalid_format", "prompt"),
        ({"prompt": "x" * 4001}, "value_out_of_range", "prompt"),
        ({"prompt": "x", "count": 6}, "value_out_of_range", "count"),
        ({"prompt": "x", "width": 1024}, "missing_field", "height"),
        (
            {"prompt": "x", "size": "2k_1_1", "width": 1024, "height": 1024},
            "parameter_invalid_combination",
            "size",
        ),
        ({"prompt": "x", "size": "square"}, "invalid_format", "size"),
        (
            {"prompt": "x", "lora_id": "neon-noir", "loras": [{"lora": "neon-noir"}]},
            "parameter_invalid_combination",
            "loras",
        ),
        (
            {"prompt": "x", "loras": [{"lora": "neon-noir"}, {"weight": 1}]},
            "missing_field",
            "loras[1].lora",
        ),
        (
            {"prompt": "x", "loras": [{"lora": "neon-noir", "weight": 2.5}]},
            "value_out_of_range",
            "loras[0].weight",
        ),
        (
            {
                "prompt": "x",
                "character_id": "char_X",
                "reference_image_urls": ["https://a.b/c.png"],
            },
            "mutually_exclusive_input",
            "reference_image_urls",
        ),
        (
            {"prompt": "x", "reference_image_urls": ["http://a.b/c.png"]},
            "invalid_format",
            "reference_image_urls[0]",
        ),
        (
            {"prompt": "x", "webhook_url": "http://example.com/hook"},
            "invalid_format",
            "webhook_url",
        ),
        ({"prompt": "x", "lora_id": "seedance-1-pro"}, "unsupported_lora_for_mode", "lora_id"),
        ({"prompt": "x", "lora_id": "no-such-lora"}, "resource_not_found", "lora_id"),
        (
            {"prompt": "x", "reference_image_urls": ["file_01KS2CYP90WE5PBC1J4HM0HD90"]},
            "resource_not_found",
            "reference_image_urls[0]",
        ),
        (
            {"prompt": "x", "character_id": "char_01KRX8ED80MGJ5N55BA73RARM1"},
            "resource_not_found",
            "character_id",
        ),
        ({"prompt": "something forbidden"}, "prompt_blocked", "prompt"),
        (
            {"prompt": "x", "reference_image_urls": ["https://cdn.example/forbidden.png"]},
            "reference_blocked",
            "reference_image_urls[0]",
        ),
    ],
)
def test_image_create_errors(
    http: httpx.Client, body: dict[str, Any], code: str, param: str
) -> None:
    response = http.post("/v1/images", json=body)
    status = 404 if code == "resource_not_found" else 400
    _error(response, status, code, param)
    _check_common(response)


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({}, "missing_field", "prompt"),
        (
            {"prompt": "x", "last_frame_url": "https://a.b/1.png"},
            "missing_field",
            "first_frame_url",
        ),
        (
            {"prompt": "x", "first_frame_url": "https://127.0.0.1/1.png"},
            "invalid_format",
            "first_frame_url",
        ),
        (
            {"prompt": "x", "first_frame_url": "https://localhost/1.png"},
            "invalid_format",
            "first_frame_url",
        ),
        ({"prompt": "x", "resolution": "4k"}, "invalid_format", "resolution"),
        ({"prompt": "x", "duration": 13}, "value_out_of_range", "duration"),
        ({"prompt": "x", "seed": -2}, "value_out_of_range", "seed"),
        (
            {"prompt": "x", "video_lora_id": "neon-noir"},
            "unsupported_lora_for_mode",
            "video_lora_id",
        ),
        (
            {"first_frame_url": "https://cdn.example/forbidden.png"},
            "reference_blocked",
            "first_frame_url",
        ),
    ],
)
def test_video_create_errors(
    http: httpx.Client, body: dict[str, Any], code: str, param: str
) -> None:
    _error(http.post("/v1/videos", json=body), 400, code, param)


def test_malformed_json_and_list_errors(http: httpx.Client) -> None:
    bad = http.post("/v1/images", content=b"{nope", headers={"Content-Type": "application/json"})
    _error(bad, 400, "invalid_format")
    _error(http.get("/v1/images", params={"limit": 0}), 400, "value_out_of_range", "limit")
    _error(http.get("/v1/images", params={"limit": "x"}), 400, "invalid_format", "limit")
    _error(
        http.get("/v1/images", params={"starting_after": "img_A", "ending_before": "img_B"}),
        400,
        "parameter_invalid_combination",
        "ending_before",
    )
    _error(
        http.get("/v1/images", params={"starting_after": "img_unknown"}),
        400,
        "invalid_format",
        "starting_after",
    )
    _error(http.get("/v1/images/img_01KS2FZZZZ0000000000000000"), 404, "resource_not_found", "id")


@pytest.fixture
def tiny_png() -> bytes:
    from aurous.emulator._media import png_bytes

    return png_bytes(3, 2, [b"\x00\x10\x20" * 3, b"\xff\xee\xdd" * 3])
