"""Webhook endpoint routes in the emulator."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from aurous.emulator import Emulator
from aurous.emulator._webhooks import EVENT_TYPES

from .conftest import assert_same_shape, fixture

SECRET = re.compile(r"^whsec_[A-Za-z0-9_-]{32}$")
HOOK = "https://api.acme.dev/aurous-webhook"


def error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


def create(client: httpx.Client, **body: Any) -> Any:
    body.setdefault("url", HOOK)
    body.setdefault("events", ["image.completed", "image.failed"])
    response = client.post("/v1/webhook_endpoints", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_shows_the_secret_once(emu: Emulator, client: httpx.Client) -> None:
    response = client.post("/v1/webhook_endpoints", json=fixture("request.webhook_endpoint.create"))
    assert response.status_code == 201
    assert response.headers["X-RateLimit-Limit"] == "10"  # webhook_endpoints_post
    created = response.json()
    assert_same_shape(created, fixture("webhook_endpoint.created"))
    assert created["id"].startswith("we_")
    assert SECRET.match(created["secret"])
    random_part = created["secret"][len("whsec_") :]
    assert created["secret_preview"] == f"whsec_{random_part[:3]}...{random_part[-4:]}"
    assert (created["is_active"], created["consecutive_failures"]) == (True, 0)
    assert (created["metadata"], created["description"]) == ({}, None)
    assert created["created_at"] == created["updated_at"] == "2026-05-20T10:00:00Z"

    read = client.get(f"/v1/webhook_endpoints/{created['id']}").json()
    assert_same_shape(read, fixture("webhook_endpoint"))
    assert read == {**created, "secret": None}
    listed = client.get("/v1/webhook_endpoints").json()
    assert [row["secret"] for row in listed["data"]] == [None]
    assert create(client)["secret"] != created["secret"]


def test_star_expands_and_duplicates_are_removed(client: httpx.Client) -> None:
    everything = create(client, events=["image.failed", "*"])
    assert everything["events"] == list(EVENT_TYPES)
    assert len(EVENT_TYPES) == 11
    deduped = create(client, events=["video.failed", "image.completed", "video.failed"])
    assert deduped["events"] == ["video.failed", "image.completed"]


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("https://hooks.example.com/x", None),
        ("http://hooks.example.com/x", False),
        ("http://127.0.0.1:8123/hook", True),
        ("http://127.5.6.7/hook", True),
        ("http://localhost:9000/hook", True),
        ("http://[::1]:9000/hook", True),
        ("http://10.0.0.5/hook", False),
        ("http://192.168.1.2/hook", False),
        ("http://localhost.example.com/hook", False),
        ("ftp://127.0.0.1/hook", False),
        ("https:///nohost", False),
        ("https://example.com:99999/x", False),
        ("not a url", False),
    ],
)
@pytest.mark.parametrize("allow_http", [False, True])
def test_http_only_for_loopback_hosts_and_only_when_allowed(
    url: str, loopback: bool | None, allow_http: bool
) -> None:
    # The spec: http:// is 400 invalid_format; a local-testing setting MAY allow it. The
    # emulator refuses it by default and, with allow_http_webhooks, takes it on loopback only.
    emu = Emulator(clock="manual", allow_http_webhooks=allow_http or None)
    with httpx.Client(
        transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
    ) as http:
        response = http.post("/v1/webhook_endpoints", json={"url": url, "events": ["*"]})
    accepted = loopback is None or (loopback and allow_http)
    if accepted:
        assert response.status_code == 201, response.text
    else:
        assert response.status_code == 400
        assert (error(response)["code"], error(response)["param"]) == ("invalid_format", "url")


def test_refused_loopback_http_says_how_to_allow_it(client: httpx.Client) -> None:
    response = client.post(
        "/v1/webhook_endpoints", json={"url": "http://127.0.0.1:1/x", "events": ["*"]}
    )
    assert error(response)["code"] == "invalid_format"
    assert "allow_http_webhooks=True or --allow-http-webhooks" in error(response)["message"]


def test_served_emulator_option_allows_http_webhooks() -> None:
    from aurous.emulator._cli import build_emulator, build_parser

    parser = build_parser()
    assert "--allow-http-webhooks" in parser.format_help()
    assert not build_emulator(parser.parse_args([])).config.webhooks.allow_http_loopback
    allowed = build_emulator(parser.parse_args(["--allow-http-webhooks"]))
    assert allowed.config.webhooks.allow_http_loopback


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"events": ["*"]}, "missing_field", "url"),
        ({"url": 5, "events": ["*"]}, "invalid_format", "url"),
        ({"url": "https://x.dev/" + "a" * 2040, "events": ["*"]}, "value_out_of_range", "url"),
        ({"url": HOOK}, "missing_field", "events"),
        ({"url": HOOK, "events": "image.completed"}, "invalid_format", "events"),
        ({"url": HOOK, "events": []}, "value_out_of_range", "events"),
        ({"url": HOOK, "events": ["image.completed", "image.done"]}, "invalid_format", "events[1]"),
        ({"url": HOOK, "events": ["*"], "description": 3}, "invalid_format", "description"),
        ({"url": HOOK, "events": ["*"], "metadata": []}, "invalid_format", "metadata"),
        (
            {"url": HOOK, "events": ["*"], "metadata": {f"k{i}": "v" for i in range(51)}},
            "value_out_of_range",
            "metadata",
        ),
        (
            {"url": HOOK, "events": ["*"], "metadata": {"env": "x" * 501}},
            "value_out_of_range",
            "metadata.env",
        ),
    ],
)
def test_create_validation(client: httpx.Client, body: Any, code: str, param: str) -> None:
    response = client.post("/v1/webhook_endpoints", json=body)
    assert response.status_code == 400
    assert (error(response)["code"], error(response)["param"]) == (code, param)


def test_create_accepts_limits_and_ignores_unknown_fields(client: httpx.Client) -> None:
    metadata = {f"k{i}": "v" * 500 for i in range(50)}
    row = create(client, metadata=metadata, description="Production webhook", colour="blue")
    assert (row["metadata"], row["description"]) == (metadata, "Production webhook")
    assert "colour" not in row


def test_list_is_scheme_a_newest_first(emu: Emulator, client: httpx.Client) -> None:
    ids = []
    for _ in range(3):
        ids.append(create(client)["id"])
        emu.advance(1)
    listed = client.get("/v1/webhook_endpoints").json()
    assert_same_shape(listed, fixture("webhook_endpoints.list"))
    assert [row["id"] for row in listed["data"]] == ids[::-1]
    page = client.get("/v1/webhook_endpoints", params={"limit": 2}).json()
    assert (page["has_more"], page["next_cursor"]) == (True, ids[1])
    rest = client.get("/v1/webhook_endpoints", params={"starting_after": ids[1]}).json()
    assert ([row["id"] for row in rest["data"]], rest["has_more"]) == ([ids[0]], False)
    bad = client.get("/v1/webhook_endpoints", params={"starting_after": "we_unknown"})
    assert (error(bad)["code"], error(bad)["param"]) == ("invalid_format", "starting_after")
    assert error(client.get("/v1/webhook_endpoints", params={"limit": 101}))["param"] == "limit"


def test_other_teams_endpoints_are_invisible(emu: Emulator, client: httpx.Client) -> None:
    mine = create(client)
    key = emu.create_api_key(team=emu.create_team("Other Studio"))
    other = {"X-Api-Key": key}
    assert client.get(f"/v1/webhook_endpoints/{mine['id']}", headers=other).status_code == 404
    assert client.get("/v1/webhook_endpoints", headers=other).json()["data"] == []
    patch = client.patch(f"/v1/webhook_endpoints/{mine['id']}", json={}, headers=other)
    assert (patch.status_code, error(patch)["param"]) == (404, "id")
    gone = client.delete(f"/v1/webhook_endpoints/{mine['id']}", headers=other)
    assert gone.json() == {"id": mine["id"], "object": "webhook_endpoint", "deleted": False}
    assert client.get(f"/v1/webhook_endpoints/{mine['id']}").status_code == 200
    assert client.get("/v1/webhook_endpoints/we_nope").status_code == 404


def test_patch_replaces_whole_values(emu: Emulator, client: httpx.Client) -> None:
    row = create(client, metadata={"a": "1", "b": "2"}, description="old")
    emu.advance(30)
    path = f"/v1/webhook_endpoints/{row['id']}"
    patched = client.patch(
        path,
        json={
            "url": "https://new.example.com/h",
            "events": ["*", "image.completed"],
            "metadata": {"c": "3"},
            "description": None,
        },
    )
    assert patched.status_code == 200
    updated = patched.json()
    assert updated["url"] == "https://new.example.com/h"
    assert updated["events"] == list(EVENT_TYPES)
    assert (updated["metadata"], updated["description"]) == ({"c": "3"}, None)
    assert updated["secret"] is None
    assert updated["secret_preview"] == row["secret_preview"]  # the secret does not change
    assert updated["updated_at"] == "2026-05-20T10:00:30Z"

    emu.advance(30)
    same = client.patch(path, json={"description": None, "metadata": {"c": "3"}}).json()
    assert same["updated_at"] == "2026-05-20T10:00:30Z"  # nothing changed
    assert client.patch(path, json={}).json() == same

    rejected = client.patch(path, json={"url": HOOK, "secret": "whsec_x", "id": "we_x"})
    assert rejected.status_code == 400
    assert (error(rejected)["code"], error(rejected)["param"]) == ("invalid_request", "secret")
    assert "secret" in error(rejected)["message"]
    assert "id" in error(rejected)["message"]
    assert client.get(path).json()["url"] == "https://new.example.com/h"

    for body, param in (
        ({"url": None}, "url"),
        ({"url": "http://example.com"}, "url"),
        ({"events": []}, "events"),
        ({"events": None}, "events"),
        ({"is_active": "no"}, "is_active"),
        ({"metadata": None}, "metadata"),
    ):
        response = client.patch(path, json=body)
        assert response.status_code == 400, body
        assert error(response)["param"] == param


def test_is_active_pauses_and_reenabling_resets_failures(
    emu: Emulator, client: httpx.Client
) -> None:
    row = create(client)
    path = f"/v1/webhook_endpoints/{row['id']}"
    emu.advance(5)
    paused = client.patch(path, json={"is_active": False}).json()
    assert (paused["is_active"], paused["updated_at"]) == (False, "2026-05-20T10:00:05Z")
    emu.team.collection("webhook_endpoints")[row["id"]].consecutive_failures = 7
    emu.advance(5)
    resumed = client.patch(path, json={"is_active": True}).json()
    assert (resumed["is_active"], resumed["consecutive_failures"]) == (True, 0)
    assert resumed["updated_at"] == "2026-05-20T10:00:10Z"


def test_delete_is_idempotent_and_never_404(client: httpx.Client) -> None:
    row = create(client)
    path = f"/v1/webhook_endpoints/{row['id']}"
    first = client.delete(path)
    assert first.status_code == 200
    assert first.json() == {**fixture("webhook_endpoint.deleted"), "id": row["id"]}
    assert first.headers["X-RateLimit-Limit"] == "10"
    assert client.delete(path).json()["deleted"] is False
    assert client.delete("/v1/webhook_endpoints/we_never").json()["deleted"] is False
    assert client.get(path).status_code == 404
    assert client.get("/v1/webhook_endpoints").json()["data"] == []


def test_rotate_secret(emu: Emulator, client: httpx.Client) -> None:
    row = create(client)
    emu.advance(60)
    response = client.post(f"/v1/webhook_endpoints/{row['id']}/rotate_secret")
    assert response.status_code == 200
    rotated = response.json()
    assert_same_shape(rotated, fixture("webhook_endpoint.rotated"))
    assert SECRET.match(rotated["secret"])
    assert rotated["secret"] != row["secret"]
    assert rotated["secret_preview"] != row["secret_preview"]
    assert rotated["updated_at"] == "2026-05-20T10:01:00Z"
    read = client.get(f"/v1/webhook_endpoints/{row['id']}").json()
    assert (read["secret"], read["secret_preview"]) == (None, rotated["secret_preview"])
    assert client.post("/v1/webhook_endpoints/we_nope/rotate_secret").status_code == 404


def test_test_fire_route(emu: Emulator, client: httpx.Client) -> None:
    row = create(client)
    response = client.post(
        f"/v1/webhook_endpoints/{row['id']}/test", json={"event_type": "image.completed"}
    )
    assert response.status_code == 202
    assert response.headers["X-RateLimit-Limit"] == "30"  # webhooks_test
    fired = response.json()
    assert_same_shape(fired, fixture("webhook_test_fire"))
    assert (fired["endpoint_id"], fired["enqueued"]) == (row["id"], True)
    (event,) = emu.webhooks.events
    assert (event.id, event.type, event.synthetic) == (fired["event_id"], "image.completed", True)
    expected = fixture("event.image.completed.synthetic")
    assert_same_shape(event.envelope, expected)
    assert event.data["prompt"] == expected["data"]["prompt"]
    # Made-up ids that cannot be fetched.
    assert client.get(f"/v1/images/{event.data['id']}").status_code == 404

    for body, code in (
        ({}, "missing_field"),
        ({"event_type": "video.completed"}, "invalid_format"),  # not subscribed
        ({"event_type": "image.exploded"}, "invalid_format"),
        ({"event_type": 1}, "invalid_format"),
    ):
        response = client.post(f"/v1/webhook_endpoints/{row['id']}/test", json=body)
        assert response.status_code == 400, body
        assert (error(response)["code"], error(response)["param"]) == (code, "event_type")
    missing = client.post("/v1/webhook_endpoints/we_nope/test", json={"event_type": "image.failed"})
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("event_type", "example"),
    [
        ("image.completed", "event.image.completed"),
        ("image.failed", "event.image.failed"),
        ("image.cancelled", "event.image.cancelled"),
        ("video.completed", "event.video.completed"),
        ("character.completed", "event.character.completed"),
        ("usage.balance_low", "event.usage.balance_low"),
        ("webhook.endpoint_disabled", "event.webhook.endpoint_disabled"),
    ],
)
def test_test_fire_data_has_the_resource_shape(
    emu: Emulator, client: httpx.Client, event_type: str, example: str
) -> None:
    row = create(client, events=["*"])
    client.post(f"/v1/webhook_endpoints/{row['id']}/test", json={"event_type": event_type})
    (event,) = emu.webhooks.events
    expected = fixture(example)
    assert_same_shape(event.envelope, {**expected, "synthetic": True})
    if event_type.endswith(".failed"):
        assert event.data["status"] == "failed"
    if event_type == "webhook.endpoint_disabled":
        assert (event.data["is_active"], event.data["secret"]) == (False, None)
        assert event.data["id"] != row["id"]
