"""The ``aurous`` logger's records carry their facts as ``extra`` fields, so a JSON formatter
(python-json-logger here) shows them as fields; and nothing secret is in them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pythonjsonlogger.json import JsonFormatter

from aurous.emulator import Emulator


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("aurous")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _one(records: list[dict[str, Any]], start: str) -> dict[str, Any]:
    found = [r for r in records if r["message"].startswith(start)]
    assert found, (start, [r["message"] for r in records])
    return found[0]


def test_records_carry_their_facts_as_json_fields(json_log: io.StringIO, tmp_path: Path) -> None:
    emu = Emulator(clock="manual", image_phases=(2, 3), rate_limits={"reads": (1, 60)})
    emu.faults.fail_next("POST /v1/images", status=503)
    with emu.client() as client:
        generation = client.images.create_and_wait(prompt="a lighthouse", idempotency_key="k-42")
        client.images.download(generation, tmp_path)
    records = _records(json_log)

    failed = _one(records, "POST /v1/images -> 503")
    assert failed["http_method"] == "POST"
    assert failed["url_path"] == "/v1/images"
    assert failed["route"] == "POST /v1/images"
    assert failed["status_code"] == 503
    assert failed["request_id"].startswith("req_")
    assert failed["attempt"] == 1
    assert failed["idempotency_key"] == "k-42"

    retry = _one(records, "retrying after ServerError")
    assert retry["attempt"] == 1
    assert retry["wait_kind"] == "backoff"
    assert retry["wait_seconds"] > 0
    assert retry["error_type"] == "ServerError"
    assert retry["status_code"] == 503
    assert retry["request_id"] == failed["request_id"]
    assert retry["idempotency_key"] == "k-42"

    paced = _one(records, "waiting")
    assert paced["wait_kind"] == "rate_limit"
    assert paced["waiting_for"] == paced["route"]
    assert paced["wait_seconds"] > 0

    polls = [r for r in records if r["message"].startswith(f"generation {generation.id} is")]
    assert polls
    assert {p["generation_id"] for p in polls} == {generation.id}
    assert polls[-1]["generation_status"] == "succeeded"
    assert all(p["request_id"].startswith("req_") for p in polls)

    downloaded = _one(records, "downloaded")
    assert downloaded["generation_id"] == generation.id
    assert downloaded["download_bytes"] > 0
    assert downloaded["files"] == 1

    text = json_log.getvalue()
    assert emu.api_key not in text
    for url in generation.outputs:
        for token in parse_qs(urlsplit(url).query)["token"]:
            assert token not in text
    assert "token=" not in text


def test_a_wait_for_a_concurrency_slot_is_logged_as_one(json_log: io.StringIO) -> None:
    emu = Emulator(clock="manual", concurrency_limit=1, image_phases=(2, 3))
    with emu.client() as client:
        client.images.create(prompt="one")
        client.images.create(prompt="two")  # refused once (429), then held until a slot frees
    waits = [r for r in _records(json_log) if r["message"].startswith("waiting")]
    assert waits
    assert {r["wait_kind"] for r in waits} == {"concurrency"}
    assert {r["waiting_for"] for r in waits} == {"a free concurrency slot"}
    assert {r["route"] for r in waits} == {"POST /v1/images"}  # the call held, not the bucket
