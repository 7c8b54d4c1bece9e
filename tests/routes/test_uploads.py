"""The two byte-carrying routes: ``POST /v1/files`` (multipart) and the signed upload ``PUT``."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import aurous
from aurous.types import CharacterUpload, File

from ..conftest import Runner, fixture
from .conftest import JPEG, PNG, WEBP, assert_uuid4, multipart_of, respond

FILE = fixture("file")
TICKET = fixture("character_upload")


class _Named(io.BytesIO):
    """A binary file object with a ``name``, like ``open(path, "rb")``."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


@pytest.mark.parametrize(
    ("make_file", "expected"),
    [
        pytest.param(lambda tmp: PNG, ("upload.png", "image/png", PNG), id="bytes-png"),
        pytest.param(lambda tmp: JPEG, ("upload.jpg", "image/jpeg", JPEG), id="bytes-jpeg"),
        pytest.param(lambda tmp: WEBP, ("upload.webp", "image/webp", WEBP), id="bytes-webp"),
        pytest.param(
            lambda tmp: io.BytesIO(JPEG), ("upload.jpg", "image/jpeg", JPEG), id="anonymous-fileobj"
        ),
        pytest.param(
            lambda tmp: _Named(WEBP, "/frames/first.webp"),
            ("first.webp", "image/webp", WEBP),
            id="named-fileobj",
        ),
        pytest.param(
            lambda tmp: _write(tmp / "ref.png", PNG), ("ref.png", "image/png", PNG), id="pathlib"
        ),
        pytest.param(
            lambda tmp: str(_write(tmp / "shot.jpeg", JPEG)),
            ("shot.jpeg", "image/jpeg", JPEG),
            id="str-path",
        ),
        pytest.param(
            # The bytes decide, as on the server: a PNG named .jpg is sent as image/png.
            lambda tmp: _write(tmp / "mislabelled.jpg", PNG),
            ("mislabelled.jpg", "image/png", PNG),
            id="path-content-wins",
        ),
        pytest.param(
            lambda tmp: ("a.png", PNG, "image/x-custom"),
            ("a.png", "image/x-custom", PNG),
            id="tuple-with-mime",
        ),
        pytest.param(
            lambda tmp: ("a.webp", io.BytesIO(WEBP)),
            ("a.webp", "image/webp", WEBP),
            id="tuple-fileobj",
        ),
        pytest.param(
            lambda tmp: ("notes.txt", b"hello"),
            ("notes.txt", "text/plain", b"hello"),
            id="tuple-not-an-image",
        ),
    ],
)
def test_files_create_accepts_every_input_kind(
    run: Runner, api: respx.Router, tmp_path: Path, make_file: Any, expected: tuple[Any, ...]
) -> None:
    route = api.post("/v1/files").mock(return_value=respond(201, FILE))
    result = run(lambda c: c.files.create(file=make_file(tmp_path), purpose="first_frame"))
    assert isinstance(result, File)
    parts = multipart_of(route.calls.last.request)
    assert parts == {"file": expected, "purpose": (None, "text/plain", b"first_frame")}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_files_create_keeps_the_callers_idempotency_key_and_extra_fields(
    run: Runner, api: respx.Router
) -> None:
    route = api.post("/v1/files").mock(return_value=respond(201, FILE))
    result = run(
        lambda c: c.files.create(
            file=PNG,
            purpose="reference",
            idempotency_key="upload-ref-7",
            extra_body={"note": "x", "tags": ["a"]},
            extra_headers={"X-Trace": "t-1"},
        )
    )
    request = route.calls.last.request
    assert request.headers["idempotency-key"] == "upload-ref-7"
    assert request.headers["x-trace"] == "t-1"
    assert result._response.idempotency_key == "upload-ref-7"
    parts = multipart_of(request)
    assert parts["note"] == (None, "text/plain", b"x")
    assert parts["tags"] == (None, "text/plain", b'["a"]')


def test_files_create_generates_a_fresh_key_per_call(run: Runner, api: respx.Router) -> None:
    route = api.post("/v1/files").mock(return_value=respond(201, FILE))
    run.client()
    run(lambda c: c.files.create(file=PNG, purpose="reference"))
    run(lambda c: c.files.create(file=PNG, purpose="reference"))
    keys = [call.request.headers["idempotency-key"] for call in route.calls]
    for key in keys:
        assert_uuid4(key)
    assert keys[0] != keys[1]


def test_upload_put_sends_only_the_ticket_headers_and_no_key(
    run: Runner, api: respx.Router
) -> None:
    ticket = CharacterUpload.model_validate(
        {
            **TICKET,
            "upload_headers": {"Content-Type": "image/png", "x-amz-meta-team": "acme"},
        }
    )
    route = api.put(host="aurous.storage").mock(return_value=respond(200))
    run.client(default_headers={"X-Api-Key": "must-not-leak", "Authorization": "Bearer nope"})
    assert run(lambda c: c.characters.uploads.upload(ticket, ("front.png", PNG, None))) is None
    request = route.calls.last.request
    assert str(request.url) == TICKET["upload_url"]
    assert request.content == PNG
    assert request.headers["content-type"] == "image/png"
    assert request.headers["x-amz-meta-team"] == "acme"
    for header in ("x-api-key", "authorization", "idempotency-key", "aurous-version"):
        assert header not in request.headers
    assert not request.headers.get("user-agent", "").startswith("aurous-python")


def test_upload_put_reads_a_path(run: Runner, api: respx.Router, tmp_path: Path) -> None:
    path = _write(tmp_path / "aurora-front.jpg", JPEG)
    route = api.put(host="aurous.storage").mock(return_value=respond(200))
    ticket = CharacterUpload.model_validate(TICKET)
    run(lambda c: c.characters.uploads.upload(ticket, path))
    assert route.calls.last.request.content == JPEG


def test_upload_put_refused_by_the_storage_host_raises(run: Runner, api: respx.Router) -> None:
    route = api.put(host="aurous.storage").mock(
        return_value=httpx.Response(403, text="<Error>SignatureDoesNotMatch</Error>")
    )
    ticket = CharacterUpload.model_validate(TICKET)
    with pytest.raises(aurous.APIStatusError) as caught:
        run(lambda c: c.characters.uploads.upload(ticket, JPEG))
    assert caught.value.status_code == 403
    assert route.call_count == 1
