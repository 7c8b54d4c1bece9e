"""Usage buckets (scheme B page tokens) and usage events (scheme C cursors)."""

from __future__ import annotations

from typing import Any

import httpx

from aurous.emulator import Emulator
from aurous.emulator._paging import b64_json_decode, b64_json_encode

DAY = "2026-05-20T00:00:00Z"


def _seed_rows(emu: Emulator, client: httpx.Client) -> dict[str, str]:
    ids = {
        "ok": client.post(
            "/v1/images", json={"prompt": "a", "count": 2, "enhance_prompt": True}
        ).json()["id"],
        "video": client.post("/v1/videos", json={"prompt": "v"}).json()["id"],
        "failed": client.post(
            "/v1/images", json={"prompt": "[fail]", "lora_id": "neon-noir"}
        ).json()["id"],
    }
    ids["cancelled"] = client.post("/v1/images", json={"prompt": "c"}).json()["id"]
    client.post(f"/v1/images/{ids['cancelled']}/cancel")
    emu.advance(60)
    ids["pending"] = client.post("/v1/images", json={"prompt": "p"}).json()["id"]
    return ids


def _usage(client: httpx.Client, **params: Any) -> httpx.Response:
    return client.get("/v1/usage", params=params)


def test_metrics_and_groups(emu: Emulator, client: httpx.Client) -> None:
    _seed_rows(emu, client)
    body = _usage(client, start_time=DAY, end_time="2026-05-21T00:00:00Z").json()
    (bucket,) = body["data"]
    assert (bucket["bucket_start"], bucket["bucket_end"]) == (DAY, "2026-05-21T00:00:00Z")
    (group,) = bucket["groups"]
    assert group["key"] == {}
    metrics = group["metrics"]
    assert metrics["request_count"] == 5
    assert metrics["successful_count"] == 2
    assert metrics["failed_count"] == 1
    assert metrics["cancelled_count"] == 1
    assert metrics["credits_used"] == 7.75
    assert metrics["image_count"] == 2
    assert metrics["video_seconds"] == 5
    assert (metrics["total_input_tokens"], metrics["total_output_tokens"]) == (0, 0)
    # Durations of terminal rows: cancel at 0 s, images 2 s, video 5 s → p50 2000, p95 linear.
    assert metrics["duration_ms_p50"] == 2000
    assert metrics["duration_ms_p95"] == 4550

    by_type = _usage(
        client, start_time=DAY, end_time="2026-05-21T00:00:00Z", group_by="type,status"
    ).json()
    keys = [g["key"] for g in by_type["data"][0]["groups"]]
    assert {"type": "t2v", "status": "completed"} in keys
    assert {"type": "t2i", "status": "pending"} in keys
    filtered = _usage(
        client,
        start_time=DAY,
        end_time="2026-05-21T00:00:00Z",
        status="failed",
        lora_id="lora_01KH7JBG008YQJGXP83WF204YY",
    ).json()
    assert filtered["data"][0]["groups"][0]["metrics"]["request_count"] == 1


def test_buckets_layout_and_paging(emu: Emulator, client: httpx.Client) -> None:
    _seed_rows(emu, client)
    first = _usage(
        client,
        start_time="2026-05-20T09:00:00Z",
        end_time="2026-05-20T10:30:00Z",
        bucket_width="15m",
        limit=4,
    ).json()
    starts = [b["bucket_start"] for b in first["data"]]
    assert starts == [
        "2026-05-20T10:15:00Z",
        "2026-05-20T10:00:00Z",
        "2026-05-20T09:45:00Z",
        "2026-05-20T09:30:00Z",
    ]
    assert first["data"][1]["groups"] != []
    assert first["data"][0]["groups"] == []
    assert first["has_more"] is True
    token = first["next_page"]
    decoded = b64_json_decode(token)
    assert set(decoded) == {"v", "fp", "last", "exp", "team"}
    second = _usage(client, page_token=token).json()
    assert [b["bucket_start"] for b in second["data"]] == [
        "2026-05-20T09:15:00Z",
        "2026-05-20T09:00:00Z",
    ]
    assert (second["has_more"], second["next_page"]) == (False, None)
    # Resending the same parameters is fine; drifting ones is not.
    same = _usage(client, page_token=token, bucket_width="15m", start_time="2026-05-20T09:00:00Z")
    assert same.status_code == 200
    drift = _usage(client, page_token=token, bucket_width="1h")
    assert drift.status_code == 400
    assert drift.json()["error"]["code"] == "invalid_page_token"
    assert (
        drift.json()["error"]["message"]
        == "page_token fingerprint mismatch — query parameters drifted between pages."
    )
    # The last bucket is cut at end_time.
    cut = _usage(
        client,
        start_time="2026-05-20T09:00:00Z",
        end_time="2026-05-20T09:20:00Z",
        bucket_width="15m",
    ).json()
    assert [b["bucket_end"] for b in cut["data"]] == [
        "2026-05-20T09:20:00Z",
        "2026-05-20T09:15:00Z",
    ]


def test_page_token_expiry_team_and_garbage(emu: Emulator, client: httpx.Client) -> None:
    first = _usage(client, start_time="2026-05-01T00:00:00Z", limit=2).json()
    token = first["next_page"]
    other = emu.create_api_key(team=emu.create_team("Other"))
    foreign = client.get("/v1/usage", params={"page_token": token}, headers={"X-Api-Key": other})
    assert foreign.json()["error"]["code"] == "invalid_page_token"
    forged = b64_json_encode({**b64_json_decode(token), "fp": "0" * 32})
    assert _usage(client, page_token=forged).json()["error"]["code"] == "invalid_page_token"
    emu.advance(24 * 3600)
    expired = _usage(client, page_token=token).json()["error"]
    assert expired["code"] == "invalid_page_token"
    assert "token_expired" in expired["message"]
    assert expired["param"] == "page_token"


def test_usage_validation(client: httpx.Client) -> None:
    cases = [
        ({"start_time": DAY, "end_time": DAY}, "value_out_of_range", "end_time"),
        ({"start_time": DAY, "bucket_width": "2h"}, "invalid_format", "bucket_width"),
        ({"start_time": DAY, "group_by": "type,status,user_id"}, "value_out_of_range", "group_by"),
        ({"start_time": DAY, "group_by": "colour"}, "invalid_format", "group_by"),
        ({"start_time": DAY, "status": "succeeded"}, "invalid_format", "status"),
        ({"start_time": DAY, "limit": 101}, "value_out_of_range", "limit"),
        ({"start_time": "2026-13-01T00:00:00Z"}, "invalid_format", "start_time"),
    ]
    for params, code, param in cases:
        error = _usage(client, **params).json()["error"]
        assert (error["code"], error["param"]) == (code, param), params
    repeated = client.get(
        "/v1/usage", params=[("start_time", DAY), ("group_by[]", "type"), ("group_by[]", "status")]
    )
    assert repeated.status_code == 200


def test_events_rows_order_and_cursor(emu: Emulator, client: httpx.Client) -> None:
    ids = _seed_rows(emu, client)
    body = client.get("/v1/usage/events", params={"start_time": DAY}).json()
    rows = body["data"]
    assert rows[0]["id"] == ids["pending"]  # newest first
    assert [r["id"] for r in rows[1:]] == sorted(r["id"] for r in rows[1:])  # same second: id asc
    by_id = {r["id"]: r for r in rows}
    ok = by_id[ids["ok"]]
    assert ok["type"] == "image"
    assert ok["status"] == "completed"
    assert ok["credits_charged"] == 4
    assert ok["model"] is None
    assert ok["api_key_id"].startswith("apikey_")
    assert ok["request_id"].startswith("req_")
    assert by_id[ids["video"]]["credits_charged"] == 3.75
    assert by_id[ids["failed"]]["credits_charged"] == 0
    assert by_id[ids["pending"]]["status"] == "pending"

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"start_time": DAY, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/usage/events", params=params).json()
        seen += [r["id"] for r in page["data"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
        assert set(b64_json_decode(cursor)) == {"v", "c", "i"}
    assert seen == [r["id"] for r in rows]
    videos = client.get("/v1/usage/events", params={"start_time": DAY, "type": "video"}).json()[
        "data"
    ]
    assert [r["id"] for r in videos] == [ids["video"]]
    assert (
        client.get("/v1/usage/events", params={"start_time": DAY, "model": "gpt"}).json()["data"]
        == []
    )


def test_events_validation(emu: Emulator, client: httpx.Client) -> None:
    garbage = client.get("/v1/usage/events", params={"start_time": DAY, "cursor": "%%%"}).json()[
        "error"
    ]
    assert (garbage["code"], garbage["param"]) == ("invalid_page_token", "cursor")
    old = client.get("/v1/usage/events", params={"start_time": "2024-01-01T00:00:00Z"}).json()[
        "error"
    ]
    assert (old["code"], old["param"]) == ("value_out_of_range", "start_time")
    assert client.get("/v1/usage/events").json()["error"]["code"] == "missing_field"
    assert (
        client.get("/v1/usage/events", params={"start_time": DAY, "type": "audio"}).json()["error"][
            "code"
        ]
        == "invalid_format"
    )
    assert (
        client.get("/v1/usage/events", params={"start_time": DAY, "limit": 501}).json()["error"][
            "code"
        ]
        == "value_out_of_range"
    )
