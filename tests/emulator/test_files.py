"""Files: content sniffing, limits, TTL, signed URLs and idempotency on purpose + metadata."""

from __future__ import annotations

import struct

import httpx
import pytest

from aurous.emulator import Emulator
from aurous.emulator._media import png_bytes, sniff_image

PNG = png_bytes(4, 3, [b"\x01\x02\x03" * 4] * 3)


def _jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def _webp(kind: bytes, payload: bytes) -> bytes:
    chunk = kind + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def _vp8(width: int, height: int) -> bytes:
    return _webp(b"VP8 ", b"\x00\x00\x00\x9d\x01\x2a" + struct.pack("<HH", width, height))


def _vp8l(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    return _webp(b"VP8L", b"\x2f" + struct.pack("<I", bits))


def _vp8x(width: int, height: int) -> bytes:
    return _webp(
        b"VP8X",
        b"\x00\x00\x00\x00"
        + (width - 1).to_bytes(3, "little")
        + (height - 1).to_bytes(3, "little"),
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PNG, ("image/png", 4, 3)),
        (_jpeg(1024, 768), ("image/jpeg", 1024, 768)),
        (_vp8(640, 480), ("image/webp", 640, 480)),
        (_vp8l(300, 200), ("image/webp", 300, 200)),
        (_vp8x(5000, 10), ("image/webp", 5000, 10)),
        (b"GIF89a....", None),
        (b"\xff\xd8\xff\xd9", None),
        (b"", None),
    ],
)
def test_sniffing(data: bytes, expected: tuple[str, int, int] | None) -> None:
    info = sniff_image(data)
    assert (tuple(info) if info else None) == expected


def _upload(
    client: httpx.Client, data: bytes, purpose: str | None = "reference", **extra: str
) -> httpx.Response:
    fields = dict(extra)
    if purpose is not None:
        fields["purpose"] = purpose
    return client.post(
        "/v1/files", files={"file": ("x.bin", data, "application/octet-stream")}, data=fields
    )


def test_detected_type_not_declared_type(client: httpx.Client) -> None:
    body = _upload(client, _jpeg(1024, 768), metadata='{"campaign": "launch-2026"}').json()
    assert (body["mime_type"], body["width_px"], body["height_px"]) == ("image/jpeg", 1024, 768)
    assert body["metadata"] == {"campaign": "launch-2026"}
    assert body["expires_at"] == "2026-05-21T10:00:00Z"
    assert _upload(client, _vp8l(10, 10), purpose="first_frame").json()["mime_type"] == "image/webp"


@pytest.mark.parametrize(
    ("data", "purpose", "extra", "code", "param"),
    [
        (PNG, None, {}, "missing_field", "purpose"),
        (PNG, "avatar", {}, "invalid_format", "purpose"),
        (b"not an image", "reference", {}, "invalid_format", "file"),
        (_vp8x(5000, 10), "reference", {}, "value_out_of_range", "file"),
        (PNG, "reference", {"metadata": "[1, 2]"}, "invalid_format", "metadata"),
        (PNG, "reference", {"metadata": "{"}, "invalid_format", "metadata"),
        (
            PNG,
            "reference",
            {"metadata": '{"k": "' + "x" * 501 + '"}'},
            "value_out_of_range",
            "metadata.k",
        ),
    ],
)
def test_upload_errors(
    client: httpx.Client,
    data: bytes,
    purpose: str | None,
    extra: dict[str, str],
    code: str,
    param: str,
) -> None:
    error = _upload(client, data, purpose, **extra).json()["error"]
    assert (error["code"], error["param"]) == (code, param)


def test_missing_file_part_and_wrong_content_type(client: httpx.Client) -> None:
    missing = client.post("/v1/files", files={"other": ("a", b"x")}, data={"purpose": "reference"})
    assert (missing.json()["error"]["code"], missing.json()["error"]["param"]) == (
        "missing_field",
        "file",
    )
    wrong = client.post("/v1/files", json={"purpose": "reference"})
    assert wrong.json()["error"]["code"] == "invalid_format"
    too_many = client.post(
        "/v1/files",
        files={"file": ("x", PNG)},
        data={
            "purpose": "reference",
            "metadata": "{" + ",".join(f'"k{i}": 1' for i in range(51)) + "}",
        },
    )
    assert too_many.json()["error"]["code"] == "value_out_of_range"


def test_file_too_large(client: httpx.Client) -> None:
    huge = PNG + b"\x00" * (10_485_760 - len(PNG) + 1)
    error = _upload(client, huge).json()["error"]
    assert (error["code"], error["param"]) == ("value_out_of_range", "file")


def test_ttl_and_signed_url(emu: Emulator, client: httpx.Client) -> None:
    body = _upload(client, PNG).json()
    anonymous = httpx.Client(transport=emu.transport)
    assert anonymous.get(body["url"]).content == PNG
    emu.advance(3601)
    assert anonymous.get(body["url"]).status_code == 401  # the signed URL lasts about an hour
    fresh = client.get(f"/v1/files/{body['id']}").json()["url"]
    assert fresh != body["url"]
    assert anonymous.get(fresh).content == PNG
    tampered = fresh.replace("signature=", "signature=0")
    assert anonymous.get(tampered).status_code == 401
    # Usable as a reference until it expires.
    assert (
        client.post(
            "/v1/images", json={"prompt": "a", "reference_image_urls": [body["id"]]}
        ).status_code
        == 201
    )
    emu.advance(24 * 3600)
    assert client.get(f"/v1/files/{body['id']}").status_code == 404
    gone = client.post("/v1/images", json={"prompt": "a", "reference_image_urls": [body["id"]]})
    assert (gone.status_code, gone.json()["error"]["param"]) == (404, "reference_image_urls[0]")
    assert client.delete(f"/v1/files/{body['id']}").json()["deleted"] is False


def test_reference_rows_echo_ids_and_denoise(emu: Emulator, client: httpx.Client) -> None:
    file_id = _upload(client, PNG).json()["id"]
    row = client.post(
        "/v1/images",
        json={
            "prompt": "a",
            "reference_image_urls": [file_id, "https://cdn.example/a.png"],
            "denoise_strength": 0.6,
        },
    ).json()
    assert row["reference_image_urls"] == [file_id, "https://cdn.example/a.png"]
    assert row["denoise_strength"] == 0.6
    assert row["cost"]["amount"] == 1
    frame = client.post("/v1/videos", json={"first_frame_url": file_id}).json()
    assert (frame["inference_type"], frame["prompt"]) == ("i2v", None)


def test_idempotency_compares_purpose_and_metadata_only(
    emu: Emulator, client: httpx.Client
) -> None:
    headers = {"Idempotency-Key": "file-1"}
    first = client.post(
        "/v1/files",
        files={"file": ("a", PNG)},
        data={"purpose": "reference", "metadata": '{"a":1,"b":2}'},
        headers=headers,
    )
    assert first.status_code == 201
    other_bytes = client.post(
        "/v1/files",
        files={"file": ("b", _jpeg(10, 10))},
        data={"purpose": "reference", "metadata": '{"b": 2, "a": 1}'},
        headers=headers,
    )
    assert other_bytes.headers["aurous-idempotent-replayed"] == "true"
    assert other_bytes.content == first.content
    other_purpose = client.post(
        "/v1/files", files={"file": ("a", PNG)}, data={"purpose": "first_frame"}, headers=headers
    )
    assert other_purpose.status_code == 409
    assert len(emu.team.files) == 1
