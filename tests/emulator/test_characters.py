"""Characters in the emulator: both flows, states, uploads and refs."""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from aurous.emulator import Emulator
from aurous.emulator._characters import CHARACTERS, Character
from aurous.emulator._media import png_bytes

from .conftest import assert_same_shape, fixture

SYNTHESIS = 5.0  # EmulatorConfig.character_synthesis_seconds
ATTRIBUTES = fixture("request.character.create.synthesize")["attributes"]


def a_png(seed: int = 0, width: int = 3, height: int = 4) -> bytes:
    row = bytes((seed + i) % 256 for i in range(width * 3))
    return png_bytes(width, height, [row] * height)


def a_jpeg(width: int = 40, height: int = 30) -> bytes:
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", height, width) + b"\x03\x01\x22\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\x02\x11\x01\x03\x11\x01\xff\xd9"


@pytest.fixture
def anon(emu: Emulator) -> Iterator[httpx.Client]:
    """No API key: what an upload PUT must look like."""
    with httpx.Client(transport=emu.transport, base_url=emu.base_url) as http:
        yield http


def error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


def init(client: httpx.Client, extension: str = "png", content_type: str = "image/png") -> Any:
    response = client.post(
        "/v1/characters/uploads/init",
        json={
            "filename": f"pose.{extension}",
            "extension": extension,
            "content_type": content_type,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def put(anon: httpx.Client, ticket: dict[str, Any], data: bytes) -> httpx.Response:
    return anon.put(ticket["upload_url"], content=data, headers=ticket["upload_headers"])


def uploaded(client: httpx.Client, anon: httpx.Client, data: bytes | None = None) -> str:
    ticket = init(client)
    assert put(anon, ticket, data or a_png()).status_code == 200
    return str(ticket["upload_id"])


def synthesize(client: httpx.Client, name: str = "Professor Okafor", **extra: Any) -> Any:
    body = {"name": name, "generate": True, "attributes": ATTRIBUTES, **extra}
    response = client.post("/v1/characters", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def credits(client: httpx.Client) -> Decimal:
    return Decimal(str(client.get("/v1/balance").json()["credits"]))


def events(emu: Emulator, prefix: str = "character.") -> list[Any]:
    return [e for e in emu.webhooks.events if e.type.startswith(prefix)]


def stored(emu: Emulator, char_id: str) -> Character:
    row: Character = emu.team.collection(CHARACTERS)[char_id]
    return row


# ----------------------------------------------------------------------------- upload flow
def test_upload_flow_end_to_end(emu: Emulator, client: httpx.Client, anon: httpx.Client) -> None:
    ticket = init(client, "jpg", "image/jpeg")
    assert_same_shape(ticket, fixture("character_upload"))
    assert ticket["upload_headers"] == {"Content-Type": "image/jpeg"}
    assert ticket["expires_at"] == "2026-05-20T10:15:00Z"
    assert ticket["upload_url"].startswith(emu.base_url + "/_uploads/" + ticket["upload_id"])
    first = a_jpeg()
    response = put(anon, ticket, first)
    assert response.status_code == 200
    assert response.content == b""

    classified = client.post(
        "/v1/characters/uploads/classify", json={"upload_id": ticket["upload_id"]}
    )
    assert classified.status_code == 200
    assert_same_shape(classified.json(), fixture("character_upload_classification"))
    again = client.post("/v1/characters/uploads/classify", json={"upload_id": ticket["upload_id"]})
    assert again.json() == classified.json()  # deterministic
    assert classified.json()["pose"] in ("portrait", "front", "side", "back", "other")
    assert 0 <= classified.json()["confidence"] <= 1

    second = a_png(9)
    other = uploaded(client, anon, second)  # never classified → "other"
    before = credits(client)
    body = {
        "name": "Aurora the Adventurer",
        "upload_ids": [ticket["upload_id"], other],
        "attributes": fixture("request.character.create.upload")["attributes"],
    }
    created = client.post("/v1/characters", json=body)
    assert created.status_code == 201, created.text
    char = created.json()
    assert_same_shape(char, fixture("character"))
    assert char["status"] == "ready"
    assert [ref["pose"] for ref in char["refs"]] == [classified.json()["pose"], "other"]
    assert char["client_reference_id"] is None
    assert credits(client) == before  # free
    assert events(emu) == []  # no webhook for the upload flow
    assert created.headers["X-RateLimit-Limit"] == "60"  # characters_post

    # Refs serve the uploaded bytes on the emulator host, without an API key.
    urls = [ref["url"] for ref in char["refs"]]
    assert all(url.startswith(emu.base_url + "/storage/characters/") for url in urls)
    assert anon.get(urls[0]).content == first
    assert anon.get(urls[0]).headers["content-type"] == "image/jpeg"
    assert anon.get(urls[1]).content == second

    # The uploads are consumed.
    reused = client.post("/v1/characters", json={"name": "Again", "upload_ids": [other]})
    assert reused.status_code == 400
    assert error(reused)["code"] == "upload_invalid"
    assert error(reused)["param"] == "upload_ids[0]"
    consumed = client.post("/v1/characters/uploads/classify", json={"upload_id": other})
    assert error(consumed)["code"] == "upload_invalid"


def test_upload_put_needs_no_key_but_a_valid_unexpired_signature(
    emu: Emulator, client: httpx.Client, anon: httpx.Client
) -> None:
    ticket = init(client)
    url = ticket["upload_url"]
    forged = re.sub(r"signature=[^&]+", "signature=" + "0" * 43, url)
    assert anon.put(forged, content=a_png()).status_code == 403
    stripped = url.split("?")[0]
    assert anon.put(stripped, content=a_png()).status_code == 403
    other_upload = init(client)["upload_id"]
    moved = url.replace(ticket["upload_id"], other_upload)
    assert anon.put(moved, content=a_png()).status_code == 403

    too_big = b"\x00" * (10 * 1024 * 1024 + 1)
    response = put(anon, ticket, too_big)
    assert response.status_code == 413
    assert error(response)["type"] == "invalid_request"
    assert put(anon, ticket, b"\x00" * (10 * 1024 * 1024)).status_code == 200  # exactly 10 MB

    # A second PUT replaces the bytes.
    assert put(anon, ticket, a_png(1)).status_code == 200
    assert put(anon, ticket, a_png(2)).status_code == 200
    char = client.post("/v1/characters", json={"name": "R", "upload_ids": [ticket["upload_id"]]})
    assert anon.get(char.json()["refs"][0]["url"]).content == a_png(2)

    emu.advance(15 * 60 + 1)
    late = init(client)
    emu.advance(15 * 60)
    assert put(anon, late, a_png()).status_code == 200  # still valid at exactly 15 min
    emu.advance(1)
    expired = put(anon, late, a_png())
    assert expired.status_code == 403
    assert error(expired)["type"] == "authentication"


def test_upload_bytes_are_checked_at_classify_and_create(
    emu: Emulator, client: httpx.Client, anon: httpx.Client
) -> None:
    empty = init(client)["upload_id"]  # no PUT yet
    wrong_type = uploaded(client, anon, a_jpeg())  # declared image/png
    garbage = uploaded(client, anon, b"not an image at all")
    for upload_id in (empty, wrong_type, garbage, "upl_01KRX8BNBGZD2JZ9NDWYX96Z2E"):
        response = client.post("/v1/characters/uploads/classify", json={"upload_id": upload_id})
        assert response.status_code == 400, upload_id
        assert error(response) | {"request_id": None, "message": None} == {
            "type": "invalid_request",
            "code": "upload_invalid",
            "message": None,
            "param": "upload_id",
            "doc_url": "https://docs.aurous-labs.com/errors#upload_invalid",
            "request_id": None,
        }
    good = uploaded(client, anon)
    response = client.post("/v1/characters", json={"name": "X", "upload_ids": [good, garbage]})
    assert (response.status_code, error(response)["param"]) == (400, "upload_ids[1]")
    assert client.get("/v1/characters").json()["data"] == []  # nothing created

    # The upload id itself lives 24 h.
    aging = uploaded(client, anon)
    emu.advance(24 * 3600)
    response = client.post("/v1/characters", json={"name": "X", "upload_ids": [aging]})
    assert (response.status_code, error(response)["code"]) == (400, "upload_invalid")


def test_another_teams_upload_is_not_found(
    emu: Emulator, client: httpx.Client, anon: httpx.Client
) -> None:
    theirs = emu.create_team("Other Studio")
    key = emu.create_api_key(team=theirs)
    with httpx.Client(
        transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": key}
    ) as other:
        upload_id = uploaded(other, anon)
    response = client.post("/v1/characters", json={"name": "X", "upload_ids": [upload_id]})
    assert (response.status_code, error(response)["param"]) == (404, "upload_ids[0]")
    response = client.post("/v1/characters/uploads/classify", json={"upload_id": upload_id})
    assert response.status_code == 404


def test_upload_init_validation(client: httpx.Client) -> None:
    mismatch = client.post(
        "/v1/characters/uploads/init",
        json={"filename": "a.png", "extension": "png", "content_type": "image/jpeg"},
    )
    assert (error(mismatch)["code"], error(mismatch)["param"]) == (
        "parameter_invalid_combination",
        "content_type",
    )
    assert (
        error(client.post("/v1/characters/uploads/init", json={"extension": "png"}))["param"]
        == "filename"
    )
    bad_ext = client.post(
        "/v1/characters/uploads/init",
        json={"filename": "a", "extension": "gif", "content_type": "image/gif"},
    )
    assert (error(bad_ext)["code"], error(bad_ext)["param"]) == ("invalid_format", "extension")
    long_name = client.post(
        "/v1/characters/uploads/init",
        json={"filename": "a" * 121, "extension": "png", "content_type": "image/png"},
    )
    assert error(long_name)["code"] == "value_out_of_range"


# ----------------------------------------------------------------------------- synthesize flow
def test_synthesize_flow_debits_at_once_and_completes_on_the_clock(
    emu: Emulator, client: httpx.Client, anon: httpx.Client
) -> None:
    before = credits(client)
    response = client.post("/v1/characters", json=fixture("request.character.create.synthesize"))
    assert response.status_code == 201
    assert response.headers["X-RateLimit-Limit"] == "12"  # characters_synthesize
    char = response.json()
    assert_same_shape(char, fixture("character.synthesizing"))
    assert (char["status"], char["refs"]) == ("synthesizing", [])
    assert char["client_reference_id"] == "crm-contact-88412"
    assert credits(client) == before - 4
    assert client.get("/v1/balance").json()["held_credits"] == 0

    emu.advance(SYNTHESIS - 0.01)
    assert client.get(f"/v1/characters/{char['id']}").json()["status"] == "synthesizing"
    emu.advance(0.01)
    ready = client.get(f"/v1/characters/{char['id']}").json()
    assert_same_shape(ready, fixture("character.ready.synthesized"))
    assert ready["status"] == "ready"
    assert [ref["pose"] for ref in ready["refs"]] == ["portrait", "front", "side", "back"]
    assert ready["updated_at"] == "2026-05-20T10:00:05Z"
    for ref in ready["refs"]:
        image = anon.get(ref["url"])
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"
        assert image.content.startswith(b"\x89PNG\r\n\x1a\n")

    (completed,) = events(emu)
    assert completed.type == "character.completed"
    assert completed.created_at == emu.now()
    data = completed.data
    assert [r["pose"] for r in data["refs"]] == ["portrait", "front", "side", "back"]
    assert {k: v for k, v in data.items() if k != "refs"} == {
        k: v for k, v in ready.items() if k != "refs"
    }
    assert credits(client) == before - 4  # nothing more when it completes


def test_synthesis_failure_marker(emu: Emulator, client: httpx.Client) -> None:
    char = synthesize(client, name="Broken [fail]")
    emu.advance(SYNTHESIS)
    failed = client.get(f"/v1/characters/{char['id']}").json()
    assert (failed["status"], failed["refs"]) == ("failed", [])
    assert failed["error_message"] == "synthesis_failed"
    (event,) = events(emu)
    assert event.type == "character.failed"
    assert event.data["error_message"] == "synthesis_failed"


def test_synthesis_needs_the_balance(emu: Emulator, client: httpx.Client) -> None:
    emu.set_balance("3.5")
    response = client.post(
        "/v1/characters", json={"name": "Poor", "generate": True, "attributes": {"age": 30}}
    )
    assert response.status_code == 402
    assert error(response)["code"] == "balance_too_low"
    assert client.get("/v1/characters").json()["data"] == []
    emu.set_balance(4)
    synthesize(client)
    assert credits(client) == 0


def test_exempt_teams_are_not_charged() -> None:
    emu = Emulator(clock="manual", billing_mode="exempt", credits=0)
    with httpx.Client(
        transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
    ) as http:
        synthesize(http)
        assert credits(http) == 0


def test_create_bucket_depends_on_the_flow() -> None:
    emu = Emulator(clock="manual", rate_limits={"characters_synthesize": (1, 6)})
    with (
        httpx.Client(
            transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
        ) as http,
        httpx.Client(transport=emu.transport, base_url=emu.base_url) as nokey,
    ):
        synthesize(http)
        limited = http.post(
            "/v1/characters", json={"name": "B", "generate": True, "attributes": {"age": 1}}
        )
        assert limited.status_code == 429
        assert "characters_synthesize" in error(limited)["message"]
        assert limited.headers["Retry-After"] == "10"
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        upload_id = uploaded(http, nokey)
        fine = http.post("/v1/characters", json={"name": "C", "upload_ids": [upload_id]})
        assert fine.status_code == 201
        assert fine.headers["X-RateLimit-Limit"] == "60"


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"name": "A"}, "parameter_invalid_combination", "upload_ids"),
        (
            {"name": "A", "generate": True, "upload_ids": ["upl_1"], "attributes": {"age": 1}},
            "parameter_invalid_combination",
            "upload_ids",
        ),
        ({"name": "A", "generate": True}, "missing_field", "attributes"),
        ({"name": "A", "generate": True, "attributes": {}}, "value_out_of_range", "attributes"),
        (
            {"name": "A", "generate": True, "attributes": {"mood": "x"}},
            "invalid_format",
            "attributes.mood",
        ),
        (
            {"name": "A", "generate": True, "attributes": {"age": "old"}},
            "invalid_format",
            "attributes.age",
        ),
        ({"generate": True, "attributes": {"age": 1}}, "missing_field", "name"),
        ({"name": "", "upload_ids": ["upl_1"]}, "value_out_of_range", "name"),
        ({"name": "x" * 121, "upload_ids": ["upl_1"]}, "value_out_of_range", "name"),
        ({"name": "   ", "upload_ids": ["upl_1"]}, "invalid_format", "name"),
        ({"name": "A", "upload_ids": ["upl_1", "upl_1"]}, "invalid_format", "upload_ids[1]"),
        ({"name": "A", "upload_ids": []}, "value_out_of_range", "upload_ids"),
        (
            {"name": "A", "upload_ids": [f"upl_{i}" for i in range(7)]},
            "value_out_of_range",
            "upload_ids",
        ),
        ({"name": "A", "upload_ids": [42]}, "invalid_format", "upload_ids[0]"),
        (
            {"name": "A", "upload_ids": ["upl_1"], "client_reference_id": "r" * 257},
            "value_out_of_range",
            "client_reference_id",
        ),
    ],
)
def test_create_validation(client: httpx.Client, body: Any, code: str, param: str) -> None:
    response = client.post("/v1/characters", json=body)
    assert response.status_code == 400
    assert (error(response)["code"], error(response)["param"]) == (code, param)


# ----------------------------------------------------------------------------- reading
def test_list_is_scheme_a_newest_first_without_soft_deleted(
    emu: Emulator, client: httpx.Client
) -> None:
    ids = []
    for index in range(4):
        ids.append(synthesize(client, name=f"C{index}")["id"])
        emu.advance(1)
    assert client.delete(f"/v1/characters/{ids[2]}").status_code == 200
    listed = client.get("/v1/characters").json()
    assert_same_shape(listed, fixture("characters.list"))
    assert [c["id"] for c in listed["data"]] == [ids[3], ids[1], ids[0]]
    page = client.get("/v1/characters", params={"limit": 1}).json()
    assert (len(page["data"]), page["has_more"], page["next_cursor"]) == (1, True, ids[3])
    # A soft-deleted character can still serve as a cursor.
    after = client.get("/v1/characters", params={"starting_after": ids[2]}).json()
    assert [c["id"] for c in after["data"]] == [ids[1], ids[0]]
    assert after["next_cursor"] is None
    bad = client.get("/v1/characters", params={"starting_after": "char_nope"})
    assert (error(bad)["code"], error(bad)["param"]) == ("invalid_format", "starting_after")
    assert client.get("/v1/characters", params={"limit": 0}).status_code == 400
    assert client.get("/v1/characters").headers["X-RateLimit-Limit"] == "240"  # characters_get


def test_retrieve_is_404_for_unknown_deleted_and_foreign(
    emu: Emulator, client: httpx.Client
) -> None:
    char = synthesize(client)
    assert client.get(f"/v1/characters/{char['id']}").status_code == 200
    theirs = emu.create_team("Other Studio")
    key = emu.create_api_key(team=theirs)
    foreign = client.get(f"/v1/characters/{char['id']}", headers={"X-Api-Key": key})
    assert (foreign.status_code, error(foreign)["param"]) == (404, "id")
    assert client.get("/v1/characters/char_01KS2GNPW08S6WR3CT2AXSJXD2").status_code == 404
    client.delete(f"/v1/characters/{char['id']}")
    assert client.get(f"/v1/characters/{char['id']}").status_code == 404


# ----------------------------------------------------------------------------- update
def test_patch_whitelist_and_whole_attribute_replacement(
    emu: Emulator, client: httpx.Client
) -> None:
    char = synthesize(client)
    emu.advance(60)
    patched = client.patch(
        f"/v1/characters/{char['id']}", json={"name": "Renamed", "attributes": {"age": 50}}
    )
    assert patched.status_code == 200
    row = patched.json()
    assert (row["name"], row["attributes"]) == ("Renamed", {"age": 50})  # no deep merge
    assert row["updated_at"] == "2026-05-20T10:01:00Z"
    assert row["status"] == "ready"

    rejected = client.patch(
        f"/v1/characters/{char['id']}", json={"name": "N", "refs": [], "status": "ready"}
    )
    assert rejected.status_code == 400
    assert (error(rejected)["code"], error(rejected)["param"]) == ("invalid_request", "refs")
    assert "refs" in error(rejected)["message"]
    assert "status" in error(rejected)["message"]
    assert client.get(f"/v1/characters/{char['id']}").json()["name"] == "Renamed"

    bad = client.patch(f"/v1/characters/{char['id']}", json={"attributes": {"shoe_size": "9"}})
    assert (error(bad)["code"], error(bad)["param"]) == ("invalid_format", "attributes.shoe_size")
    too_long = client.patch(f"/v1/characters/{char['id']}", json={"name": "n" * 121})
    assert error(too_long)["code"] == "value_out_of_range"

    # Allowed while synthesizing; refused once deleted.
    running = synthesize(client, name="Busy")
    assert client.patch(f"/v1/characters/{running['id']}", json={"name": "B"}).status_code == 200
    client.delete(f"/v1/characters/{char['id']}")
    gone = client.patch(f"/v1/characters/{char['id']}", json={"name": "X"})
    assert (gone.status_code, error(gone)["param"]) == (404, "character_id")


# ----------------------------------------------------------------------------- delete
def test_delete_matrix(emu: Emulator, client: httpx.Client, anon: httpx.Client) -> None:
    deleted = fixture("character.deleted")

    # ready → soft delete; repeat → 200; the character can no longer be used.
    ready = client.post(
        "/v1/characters", json={"name": "R", "upload_ids": [uploaded(client, anon)]}
    ).json()
    ref_url = ready["refs"][0]["url"]
    first = client.delete(f"/v1/characters/{ready['id']}")
    assert first.status_code == 200
    assert first.json() == {**deleted, "id": ready["id"]}
    assert client.delete(f"/v1/characters/{ready['id']}").json() == first.json()
    image = client.post("/v1/images", json={"prompt": "x", "character_id": ready["id"]})
    assert (error(image)["code"], error(image)["param"]) == ("character_not_ready", "character_id")
    assert anon.get(ref_url).status_code == 200  # past generations keep their references

    # synthesizing → soft delete, synthesis cancelled, character.cancelled with status deleted.
    running = synthesize(client, name="Running")
    assert client.delete(f"/v1/characters/{running['id']}").json()["deleted"] is True
    (cancelled,) = events(emu)
    assert cancelled.type == "character.cancelled"
    assert cancelled.data["status"] == "deleted"
    assert cancelled.data["id"] == running["id"]
    emu.advance(SYNTHESIS * 2)
    assert [e.type for e in events(emu)] == ["character.cancelled"]  # never completes
    assert stored(emu, running["id"]).status == "deleted"

    # failed → soft delete.
    broken = synthesize(client, name="[fail]")
    emu.advance(SYNTHESIS)
    assert client.delete(f"/v1/characters/{broken['id']}").status_code == 200
    assert client.get(f"/v1/characters/{broken['id']}").status_code == 404

    # reviewing → hard delete: the id then behaves as unknown.
    reviewing = synthesize(client, name="Review")
    emu.advance(SYNTHESIS)
    stored(emu, reviewing["id"]).status = "reviewing"
    assert client.delete(f"/v1/characters/{reviewing['id']}").status_code == 200
    again = client.delete(f"/v1/characters/{reviewing['id']}")
    assert (again.status_code, error(again)["code"]) == (404, "resource_not_found")
    cursor = client.get("/v1/characters", params={"starting_after": reviewing["id"]})
    assert cursor.status_code == 400

    assert client.delete("/v1/characters/char_unknown").status_code == 404
    assert client.get("/v1/characters").json()["data"] == []


# ----------------------------------------------------------------------------- save / re-runs
def test_save(emu: Emulator, client: httpx.Client) -> None:
    char = synthesize(client)
    busy = client.post(f"/v1/characters/{char['id']}/save")
    assert (busy.status_code, error(busy)["code"]) == (400, "invalid_request")
    emu.advance(SYNTHESIS)
    stored(emu, char["id"]).status = "reviewing"
    emu.advance(10)
    saved = client.post(f"/v1/characters/{char['id']}/save")
    assert (saved.status_code, saved.json()["status"]) == (200, "ready")
    assert saved.json()["updated_at"] == "2026-05-20T10:00:15Z"
    emu.advance(10)
    unchanged = client.post(f"/v1/characters/{char['id']}/save").json()
    assert unchanged["updated_at"] == saved.json()["updated_at"]
    assert [e.type for e in events(emu)] == ["character.completed"]  # save sends nothing

    failed = synthesize(client, name="[fail]")
    emu.advance(SYNTHESIS)
    assert error(client.post(f"/v1/characters/{failed['id']}/save"))["code"] == "invalid_request"
    client.delete(f"/v1/characters/{failed['id']}")
    assert client.post(f"/v1/characters/{failed['id']}/save").status_code == 404


def test_resynthesize_keeps_old_refs_until_done(emu: Emulator, client: httpx.Client) -> None:
    char = synthesize(client)
    emu.advance(SYNTHESIS)
    old = client.get(f"/v1/characters/{char['id']}").json()["refs"]
    before = credits(client)
    path = f"/v1/characters/{char['id']}/resynthesize"
    response = client.post(path, json={"force_all": True}, headers={"Idempotency-Key": "k1"})
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Limit"] == "12"
    running = response.json()
    assert running["status"] == "synthesizing"
    assert [r["url"] for r in running["refs"]] == [r["url"] for r in old]
    assert credits(client) == before - 4

    replay = client.post(path, json={"force_all": True}, headers={"Idempotency-Key": "k1"})
    assert replay.headers["Aurous-Idempotent-Replayed"] == "true"
    assert replay.content == response.content
    assert credits(client) == before - 4
    busy = client.post(path)
    assert (busy.status_code, error(busy)["code"]) == (400, "invalid_request")
    conflict = client.post(path, json={}, headers={"Idempotency-Key": "k1"})
    assert conflict.status_code == 409

    emu.advance(SYNTHESIS)
    done = client.get(f"/v1/characters/{char['id']}").json()
    assert done["status"] == "ready"
    assert [r["pose"] for r in done["refs"]] == ["portrait", "front", "side", "back"]
    old_keys = {r["url"].split("?")[0] for r in old}
    assert old_keys.isdisjoint(r["url"].split("?")[0] for r in done["refs"])
    assert [e.type for e in events(emu)] == ["character.completed", "character.completed"]

    bad = client.post(path, json={"force_all": "yes"})
    assert (error(bad)["code"], error(bad)["param"]) == ("invalid_format", "force_all")
    emu.set_balance(3)
    poor = client.post(path)
    assert (poor.status_code, error(poor)["code"]) == (402, "balance_too_low")
    assert client.get(f"/v1/characters/{char['id']}").json()["status"] == "ready"


def test_regenerate_replaces_or_appends_one_pose(
    emu: Emulator, client: httpx.Client, anon: httpx.Client
) -> None:
    char = client.post(
        "/v1/characters",
        json={"name": "R", "upload_ids": [uploaded(client, anon), uploaded(client, anon)]},
    ).json()
    assert [r["pose"] for r in char["refs"]] == ["other", "other"]
    path = f"/v1/characters/{char['id']}/refs/regenerate"
    before = credits(client)

    appended = client.post(path, json={"pose": "side", "prompt_override": "ignored"})
    assert appended.status_code == 200
    assert appended.json()["status"] == "synthesizing"
    assert credits(client) == before - 1
    emu.advance(SYNTHESIS)
    row = client.get(f"/v1/characters/{char['id']}").json()
    assert [r["pose"] for r in row["refs"]] == ["other", "other", "side"]

    client.post(path, json={"pose": "other"})
    emu.advance(SYNTHESIS)
    row = client.get(f"/v1/characters/{char['id']}").json()
    assert [r["pose"] for r in row["refs"]] == ["other", "side"]  # both "other" refs → one
    assert row["refs"][0]["url"].split("?")[0] not in {r["url"].split("?")[0] for r in char["refs"]}
    assert [e.type for e in events(emu)] == ["character.completed", "character.completed"]
    assert credits(client) == before - 2

    assert error(client.post(path, json={"pose": "upside_down"}))["code"] == "invalid_format"
    assert error(client.post(path, json={}))["code"] == "missing_field"


def test_failed_characters_can_be_resynthesized(emu: Emulator, client: httpx.Client) -> None:
    char = synthesize(client, name="[fail]")
    emu.advance(SYNTHESIS)
    client.patch(f"/v1/characters/{char['id']}", json={"name": "Fixed"})
    assert client.post(f"/v1/characters/{char['id']}/resynthesize").status_code == 200
    emu.advance(SYNTHESIS)
    row = client.get(f"/v1/characters/{char['id']}").json()
    assert (row["status"], row["error_message"], len(row["refs"])) == ("ready", None, 4)


# ----------------------------------------------------------------------------- use in images
def test_ready_characters_feed_image_generations(
    emu: Emulator, client: httpx.Client, anon: httpx.Client
) -> None:
    char = synthesize(client)
    early = client.post("/v1/images", json={"prompt": "p", "character_id": char["id"]})
    assert error(early)["code"] == "character_not_ready"
    emu.advance(SYNTHESIS)
    image = client.post("/v1/images", json={"prompt": "p", "character_id": char["id"]})
    assert image.status_code == 201, image.text
    refs = image.json()["reference_image_urls"]
    assert len(refs) == 4
    assert all(anon.get(url).status_code == 200 for url in refs)
    unknown = client.post("/v1/images", json={"prompt": "p", "character_id": "char_unknown"})
    assert unknown.status_code == 404


def test_ref_urls_are_signed(client: httpx.Client, anon: httpx.Client) -> None:
    char = client.post(
        "/v1/characters", json={"name": "R", "upload_ids": [uploaded(client, anon)]}
    ).json()
    url = char["refs"][0]["url"]
    assert anon.get(url).status_code == 200
    assert anon.get(url.split("?")[0]).status_code == 401
    assert anon.get(re.sub(r"signature=[^&]+", "signature=abc", url)).status_code == 401
