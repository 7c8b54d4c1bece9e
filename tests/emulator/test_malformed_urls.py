"""Malformed URLs in request bodies are validation errors (400 invalid_format), never a 500.

Found by schemathesis: ``urlsplit`` raises ``ValueError("Invalid IPv6 URL")`` on an unbalanced ``[``.
"""

from __future__ import annotations

import httpx
import pytest

from aurous.emulator import Emulator

BAD_URLS = ["https://[abc/hook", "https://[::1/x.png", "https://host:99999999/x.png", "https://]x/"]


@pytest.fixture
def http() -> httpx.Client:
    emu = Emulator(clock="manual")
    return httpx.Client(
        transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
    )


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/images", {"prompt": "x", "webhook_url": "{url}"}, "webhook_url"),
        (
            "/v1/images",
            {"prompt": "x", "reference_image_urls": ["{url}"]},
            "reference_image_urls[0]",
        ),
        ("/v1/videos", {"prompt": "x", "first_frame_url": "{url}"}, "first_frame_url"),
        ("/v1/videos", {"prompt": "x", "webhook_url": "{url}"}, "webhook_url"),
        ("/v1/webhook_endpoints", {"url": "{url}", "events": ["*"]}, "url"),
    ],
)
def test_malformed_url_is_invalid_format(
    http: httpx.Client, path: str, body: dict[str, object], param: str, url: str
) -> None:
    filled = {
        k: ([url] if isinstance(v, list) else url) if "{url}" in str(v) else v
        for k, v in body.items()
    }
    response = http.post(path, json=filled)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_format"
    assert error["param"] == param
