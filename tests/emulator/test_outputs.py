"""Output downloads: real PNG/MP4 bytes, tokens, retention, Range."""

from __future__ import annotations

import httpx
import pytest

from aurous.emulator import Emulator
from aurous.emulator._media import output_size

from .conftest import png_dimensions


def _succeeded(
    emu: Emulator, client: httpx.Client, path: str, body: dict[str, object]
) -> dict[str, object]:
    row = client.post(path, json=body).json()
    emu.advance(60)
    final: dict[str, object] = client.get(f"/v1/images/{row['id']}").json()
    assert final["status"] == "succeeded"
    return final


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("2k_16_9", (256, 144)),
        ("2k_9_16", (144, 256)),
        ("4k_21_9", (256, 110)),
        ("2k_1_1", (256, 256)),
    ],
)
def test_png_keeps_the_aspect_ratio(
    emu: Emulator, client: httpx.Client, size: str, expected: tuple[int, int]
) -> None:
    row = _succeeded(emu, client, "/v1/images", {"prompt": "ratio", "size": size})
    urls = row["output_urls"]
    assert isinstance(urls, list)
    image = client.get(urls[0], headers={"X-Api-Key": ""})
    assert image.status_code == 200
    assert image.headers["content-length"] == str(len(image.content))
    width, height = png_dimensions(image.content)
    assert (width, height) == expected
    assert abs(width / height - int(row["width"]) / int(row["height"])) < 0.02  # type: ignore[call-overload]


def test_outputs_are_deterministic_per_prompt_seed_and_index(
    emu: Emulator, client: httpx.Client
) -> None:
    first = _succeeded(emu, client, "/v1/images", {"prompt": "same", "seed": 5, "count": 2})
    second = _succeeded(emu, client, "/v1/images", {"prompt": "same", "seed": 5})
    other = _succeeded(emu, client, "/v1/images", {"prompt": "same", "seed": 6})

    def fetch(row: dict[str, object], n: int = 0) -> bytes:
        urls = row["output_urls"]
        assert isinstance(urls, list)
        return client.get(urls[n]).content

    assert fetch(first) == fetch(second)
    assert fetch(first) != fetch(first, 1)
    assert fetch(first) != fetch(other)


def test_png_decodes_with_zlib(emu: Emulator, client: httpx.Client) -> None:
    import struct
    import zlib

    row = _succeeded(emu, client, "/v1/images", {"prompt": "decode", "size": "2k_3_2"})
    urls = row["output_urls"]
    assert isinstance(urls, list)
    data = client.get(urls[0]).content
    width, height = png_dimensions(data)
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0]
        assert zlib.crc32(kind + chunk) & 0xFFFFFFFF == crc
        if kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    assert len(raw) == height * (1 + width * 3)


def test_token_key_and_errors(emu: Emulator, client: httpx.Client) -> None:
    row = _succeeded(emu, client, "/v1/images", {"prompt": "tok"})
    url = row["output_urls"][0]  # type: ignore[index]
    gen_id = row["id"]
    anonymous = httpx.Client(transport=emu.transport)
    assert anonymous.get(url).status_code == 200
    # Same URL on every read: the token is stable.
    assert client.get(f"/v1/images/{gen_id}").json()["output_urls"][0] == url
    bad = anonymous.get(f"{emu.base_url}/v1/images/{gen_id}/output/0?token=nope")
    assert (bad.status_code, bad.json()["error"]["code"]) == (401, "invalid_api_key")
    nothing = anonymous.get(f"{emu.base_url}/v1/images/{gen_id}/output/0")
    assert (nothing.status_code, nothing.json()["error"]["code"]) == (401, "missing_api_key")
    # A key with read scope works without a token.
    reader = emu.create_api_key(scope="read")
    assert (
        anonymous.get(
            f"{emu.base_url}/v1/images/{gen_id}/output/0", headers={"X-Api-Key": reader}
        ).status_code
        == 200
    )
    out_of_range = client.get(f"/v1/images/{gen_id}/output/1")
    assert (out_of_range.status_code, out_of_range.json()["error"]["param"]) == (404, "n")
    wrong_media = client.get(f"/v1/videos/{gen_id}/output")
    assert wrong_media.status_code == 404
    # Another team's key sees nothing.
    stranger = emu.create_api_key(team=emu.create_team("Other"))
    assert (
        anonymous.get(
            f"{emu.base_url}/v1/images/{gen_id}/output/0", headers={"X-Api-Key": stranger}
        ).status_code
        == 404
    )


def test_not_available_and_expired(emu: Emulator, client: httpx.Client) -> None:
    pending = client.post("/v1/images", json={"prompt": "wait"}).json()
    early = client.get(f"/v1/images/{pending['id']}/output/0")
    assert (early.status_code, early.json()["error"]["code"]) == (422, "output_not_available")
    failed = client.post("/v1/images", json={"prompt": "[fail]"}).json()
    emu.advance(10)
    late = client.get(f"/v1/images/{failed['id']}/output/0")
    assert late.status_code == 422
    assert late.json()["error"]["message"] == (
        f"Generation {failed['id']} ended with status 'failed' and has no output."
    )
    done = client.get(f"/v1/images/{pending['id']}").json()
    emu.advance(24 * 3600 - 10)
    assert client.get(done["output_urls"][0]).status_code == 200
    emu.advance(10)
    expired = client.get(done["output_urls"][0])
    assert (expired.status_code, expired.json()["error"]["code"]) == (410, "output_expired")
    assert expired.json()["error"]["type"] == "not_found"
    # The URLs stay in the row.
    assert client.get(f"/v1/images/{pending['id']}").json()["output_urls"] == done["output_urls"]


@pytest.mark.parametrize(
    ("header", "status", "start", "end"),
    [
        ("bytes=0-0", 206, 0, 0),
        ("bytes=10-", 206, 10, None),
        ("bytes=-16", 206, -16, None),
        ("bytes=5-1000000", 206, 5, None),
        ("bytes=0-1,4-5", 200, 0, None),
        ("items=0-5", 200, 0, None),
    ],
)
def test_video_ranges(
    emu: Emulator, client: httpx.Client, header: str, status: int, start: int, end: int | None
) -> None:
    row = _succeeded(emu, client, "/v1/videos", {"prompt": "range"})
    url = str(row["output_video_url"])
    full = client.get(url).content
    assert full[4:8] == b"ftyp"
    response = client.get(url, headers={"Range": header})
    assert response.status_code == status
    expected = full[start:] if end is None else full[start : end + 1]
    assert response.content == expected
    if status == 206:
        first = start % len(full)
        assert (
            response.headers["content-range"]
            == f"bytes {first}-{first + len(expected) - 1}/{len(full)}"
        )


@pytest.mark.parametrize("header", ["bytes=999999-", "bytes=-0", "bytes=9-3"])
def test_video_range_unsatisfiable(emu: Emulator, client: httpx.Client, header: str) -> None:
    row = _succeeded(emu, client, "/v1/videos", {"prompt": "range"})
    response = client.get(str(row["output_video_url"]), headers={"Range": header})
    assert response.status_code == 416
    assert response.json()["error"]["code"] == "value_out_of_range"
    assert response.json()["error"]["type"] == "invalid_request"
    assert response.headers["content-range"].startswith("bytes */")


def test_images_ignore_range(emu: Emulator, client: httpx.Client) -> None:
    row = _succeeded(emu, client, "/v1/images", {"prompt": "r"})
    response = client.get(row["output_urls"][0], headers={"Range": "bytes=0-3"})  # type: ignore[index]
    assert response.status_code == 200
    assert len(response.content) > 4


def test_output_size_helper() -> None:
    assert output_size(2048, 2048, 256) == (256, 256)
    assert output_size(1152, 2048, 100) == (56, 100)
