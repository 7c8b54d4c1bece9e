"""``GET /v1/images`` scheme A: forward and backward paging."""

from __future__ import annotations

import httpx

from aurous.emulator import Emulator


def _make(emu: Emulator, client: httpx.Client, count: int) -> list[str]:
    ids = []
    for index in range(count):
        ids.append(client.post("/v1/images", json={"prompt": f"p{index}"}).json()["id"])
        if index % 2:
            emu.advance(1)  # some rows share a created_at second, some do not
    return ids[::-1]  # newest first


def _page(client: httpx.Client, **params: object) -> dict[str, object]:
    body: dict[str, object] = client.get("/v1/images", params=params).json()  # type: ignore[arg-type]
    return body


def test_forward_paging(emu: Emulator, client: httpx.Client) -> None:
    newest_first = _make(emu, client, 5)
    assert [g["id"] for g in _page(client)["data"]] == newest_first  # type: ignore[index]
    seen: list[str] = []
    cursor = None
    while True:
        page = _page(client, limit=2, **({"starting_after": cursor} if cursor else {}))
        seen += [g["id"] for g in page["data"]]  # type: ignore[attr-defined]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
        assert cursor == seen[-1]
    assert seen == newest_first


def test_backward_paging(emu: Emulator, client: httpx.Client) -> None:
    newest_first = _make(emu, client, 5)
    oldest = newest_first[-1]
    page = _page(client, limit=2, ending_before=oldest)
    # The two rows just newer than the cursor, still newest first.
    assert [g["id"] for g in page["data"]] == newest_first[2:4]  # type: ignore[attr-defined]
    assert page["has_more"] is True
    assert page["next_cursor"] == newest_first[2]
    page = _page(client, limit=2, ending_before=page["next_cursor"])
    assert [g["id"] for g in page["data"]] == newest_first[0:2]  # type: ignore[attr-defined]
    assert (page["has_more"], page["next_cursor"]) == (False, None)
    assert _page(client, ending_before=newest_first[0])["data"] == []


def test_foreign_cursor_is_invalid(emu: Emulator, client: httpx.Client) -> None:
    other = emu.create_api_key(team=emu.create_team("Other"))
    foreign = client.post("/v1/images", json={"prompt": "x"}, headers={"X-Api-Key": other}).json()[
        "id"
    ]
    error = client.get("/v1/images", params={"ending_before": foreign}).json()["error"]
    assert (error["code"], error["param"]) == ("invalid_format", "ending_before")
