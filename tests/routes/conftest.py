"""Shared pieces of the route tests: a strict respx router and readers of what was sent."""

from __future__ import annotations

import email.parser
import email.policy
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from ..conftest import API

REQUEST_ID = "req_01KS2G3DEDCYFR7XPJP4ZNW1A7"

# Just enough of each format for the content type to be recognised from the bytes.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(13)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(16)
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8 " + bytes(14)


@pytest.fixture
def api() -> Iterator[respx.Router]:
    """A router for ``https://api.test`` that fails the test if a declared route is never called
    and refuses any request that no route declares."""
    with respx.mock(base_url=API, assert_all_called=True, assert_all_mocked=True) as router:
        yield router


def respond(status: int, body: Any = None) -> httpx.Response:
    """A response carrying ``body`` as JSON (or nothing) and a request id."""
    headers = {"Aurous-Request-Id": REQUEST_ID, "Aurous-Version": "2026-05-15"}
    if body is None:
        return httpx.Response(status, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def query_of(request: httpx.Request) -> dict[str, str]:
    """The query string as a dict; fails on repeated parameters, which the SDK never sends."""
    items = request.url.params.multi_items()
    keys = [k for k, _ in items]
    assert len(keys) == len(set(keys)), f"repeated query parameters: {keys}"
    return dict(items)


def json_of(request: httpx.Request) -> Any:
    assert request.headers["content-type"] == "application/json"
    return json.loads(request.content)


def multipart_of(request: httpx.Request) -> dict[str, tuple[str | None, str, bytes]]:
    """The parts of a multipart/form-data body: name -> (filename, content type, bytes)."""
    content_type = request.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    raw = f"Content-Type: {content_type}\r\n\r\n".encode() + request.read()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    parts: dict[str, tuple[str | None, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        assert isinstance(name, str)
        assert name not in parts, f"part {name!r} sent twice"
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        parts[name] = (part.get_filename(), part.get_content_type(), payload)
    return parts


def assert_uuid4(value: str) -> None:
    assert uuid.UUID(value).version == 4
