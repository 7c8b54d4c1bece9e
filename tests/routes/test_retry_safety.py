"""Which of the new namespaces' requests are retried after a 500  (a POST without an idempotency key is retried only when it certainly never arrived)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

import aurous
from aurous.types import CharacterUpload

from ..conftest import RecordingClock, Runner, fixture
from .conftest import PNG, respond

ENDPOINT = fixture("webhook_endpoint")["id"]
CHARACTER = fixture("character")["id"]
TICKET = CharacterUpload.model_validate(fixture("character_upload"))

# (SDK method, HTTP method, path, call, success fixture, status)
Row = tuple[str, str, str, Callable[[Any], Any], str | None, int]

SAFE: list[Row] = [
    (
        "files.create",
        "POST",
        "/v1/files",
        lambda c: c.files.create(file=PNG, purpose="reference"),
        "file",
        201,
    ),
    (
        "files.delete",
        "DELETE",
        "/v1/files/file_1",
        lambda c: c.files.delete("file_1"),
        "file.deleted",
        200,
    ),
    (
        "webhook_endpoints.update",
        "PATCH",
        f"/v1/webhook_endpoints/{ENDPOINT}",
        lambda c: c.webhook_endpoints.update(ENDPOINT, is_active=True),
        "webhook_endpoint",
        200,
    ),
    (
        "characters.uploads.classify",
        "POST",
        "/v1/characters/uploads/classify",
        lambda c: c.characters.uploads.classify("upl_1"),
        "character_upload_classification",
        200,
    ),
    (
        "characters.save",
        "POST",
        f"/v1/characters/{CHARACTER}/save",
        lambda c: c.characters.save(CHARACTER),
        "character",
        200,
    ),
    (
        "characters.resynthesize",
        "POST",
        f"/v1/characters/{CHARACTER}/resynthesize",
        lambda c: c.characters.resynthesize(CHARACTER),
        "character.synthesizing",
        200,
    ),
    (
        "characters.regenerate_ref",
        "POST",
        f"/v1/characters/{CHARACTER}/refs/regenerate",
        lambda c: c.characters.regenerate_ref(CHARACTER, pose="front"),
        "character.synthesizing",
        200,
    ),
    (
        "usage.list",
        "GET",
        "/v1/usage",
        lambda c: c.usage.list(start_time="2026-05-19T00:00:00Z"),
        "usage",
        200,
    ),
]

# (SDK method, HTTP method, path, call)
UNSAFE: list[tuple[str, str, str, Callable[[Any], Any]]] = [
    (
        "webhook_endpoints.create",
        "POST",
        "/v1/webhook_endpoints",
        lambda c: c.webhook_endpoints.create(url="https://x.dev/h", events=["*"]),
    ),
    (
        "webhook_endpoints.rotate_secret",
        "POST",
        f"/v1/webhook_endpoints/{ENDPOINT}/rotate_secret",
        lambda c: c.webhook_endpoints.rotate_secret(ENDPOINT),
    ),
    (
        "webhook_endpoints.test",
        "POST",
        f"/v1/webhook_endpoints/{ENDPOINT}/test",
        lambda c: c.webhook_endpoints.test(ENDPOINT, event_type="image.completed"),
    ),
    (
        "characters.create",
        "POST",
        "/v1/characters",
        lambda c: c.characters.create(name="A", upload_ids=["upl_1"]),
    ),
    (
        "characters.uploads.init",
        "POST",
        "/v1/characters/uploads/init",
        lambda c: c.characters.uploads.init(filename="a.png"),
    ),
]


def _server_error() -> httpx.Response:
    return httpx.Response(500, json=fixture("error.internal_error"))


@pytest.mark.parametrize(
    ("sdk", "method", "path", "call", "ok", "status"), SAFE, ids=[r[0] for r in SAFE]
)
def test_safe_requests_are_retried_after_a_500(
    run: Runner,
    api: respx.Router,
    clock: RecordingClock,
    sdk: str,
    method: str,
    path: str,
    call: Any,
    ok: str,
    status: int,
) -> None:
    route = api.route(method=method, path=path).mock(
        side_effect=[_server_error(), respond(status, fixture(ok))]
    )
    run.client()._set_clock(clock)
    result = run(call)
    if hasattr(result, "data"):
        assert result.data
    assert route.call_count == 2
    keys = [c.request.headers.get("idempotency-key") for c in route.calls]
    assert keys[0] == keys[1]  # the same key (or none) on the retry
    assert len(clock.sleeps) == 1


@pytest.mark.parametrize(("sdk", "method", "path", "call"), UNSAFE, ids=[r[0] for r in UNSAFE])
def test_unsafe_posts_are_not_retried_after_a_500(
    run: Runner,
    api: respx.Router,
    clock: RecordingClock,
    sdk: str,
    method: str,
    path: str,
    call: Any,
) -> None:
    route = api.route(method=method, path=path).mock(side_effect=[_server_error()])
    run.client()._set_clock(clock)
    with pytest.raises(aurous.ServerError):
        run(call)
    assert route.call_count == 1
    assert "idempotency-key" not in route.calls.last.request.headers
    assert clock.sleeps == []


def test_upload_put_is_retried_after_a_503(
    run: Runner, api: respx.Router, clock: RecordingClock
) -> None:
    route = api.put(host="aurous.storage").mock(
        side_effect=[httpx.Response(503, text="busy"), respond(200)]
    )
    run.client()._set_clock(clock)
    run(lambda c: c.characters.uploads.upload(TICKET, PNG))
    assert route.call_count == 2
    assert [c.request.content for c in route.calls] == [PNG, PNG]
