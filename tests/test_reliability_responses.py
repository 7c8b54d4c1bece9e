"""A 2xx the SDK cannot read is an `aurous.APIResponseValidationError`, never a raw exception.

Reliability cases 2, 3 and 7: every unreadable shape, on every kind of method and both clients,
keeps the idempotency key of a create the server committed; one such answer in a batch is that
item's error only, and a resumed batch finishes it without generating it twice; a list whose
server repeats a cursor stops instead of paging forever.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import aurous
from aurous.emulator import Emulator

from .drills._support import Both, Corrupt, body, fixture, generation_rows, is_create

GEN = fixture("generation.pending.image")
GEN_BYTES = json.dumps(GEN).encode()

# Each shape names the raw exception it used to escape as.
SHAPES: dict[str, tuple[bytes, dict[str, str]]] = {
    "JSONDecodeError: truncated JSON": (GEN_BYTES[:40], {}),
    "ValidationError: wrong shape": (b'{"id": 42, "status": []}', {}),
    "UnicodeDecodeError: invalid UTF-8": (b'{"id": "img_\xff\xfe"}', {}),
    "RecursionError: deep nesting": (b"[" * 200_000 + b"]" * 200_000, {}),
    "DecodingError: bad gzip": (b"not gzip at all", {"Content-Encoding": "gzip"}),
    "error envelope on a 200": (json.dumps(fixture("error.internal_error")).encode(), {}),
}


@pytest.fixture(params=["sync", "async"])
def both(request: pytest.FixtureRequest) -> Iterator[Both]:
    runner = Both(request.param)
    yield runner
    runner.close()


def _serve(shape: tuple[bytes, dict[str, str]]) -> Any:
    content, headers = shape

    def handler(request: httpx.Request) -> httpx.Response:
        return body(200, content, dict(headers))

    return handler


@pytest.mark.parametrize("shape", list(SHAPES))
def test_create_answer_that_cannot_be_read_keeps_the_key(both: Both, shape: str) -> None:
    client = both.hostile(_serve(SHAPES[shape]), default_headers={})
    with pytest.raises(aurous.APIResponseValidationError) as caught:
        both(client.images.create(prompt="a lighthouse", idempotency_key="key-123"))
    error = caught.value
    assert error.idempotency_key == "key-123"
    assert "key-123" in str(error)
    assert error.response is not None
    assert error.status_code == 200
    assert isinstance(error, aurous.AurousError)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_retrieve_answer_that_cannot_be_read(both: Both, shape: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        response = _serve(SHAPES[shape])(request)
        response.headers["Aurous-Request-Id"] = "req_123"
        return response

    client = both.hostile(handler)
    with pytest.raises(aurous.APIResponseValidationError) as caught:
        both(client.images.retrieve(GEN["id"]))
    assert caught.value.request_id == "req_123"


@pytest.mark.parametrize("shape", list(SHAPES))
def test_second_page_that_cannot_be_read(both: Both, shape: str) -> None:
    first = {"object": "list", "data": [GEN], "has_more": True, "next_cursor": GEN["id"]}

    def handler(request: httpx.Request) -> httpx.Response:
        if "starting_after" not in request.url.params:
            return httpx.Response(200, json=first)
        return _serve(SHAPES[shape])(request)

    client = both.hostile(handler)
    with pytest.raises(aurous.APIResponseValidationError):
        both.collect(client.images.list(limit=1))


def test_null_body_for_a_bare_list(both: Both) -> None:
    # loras.list answers a JSON array; a null body used to raise TypeError from inside the SDK.
    client = both.hostile(lambda request: body(200, b"null"))
    with pytest.raises(aurous.APIResponseValidationError, match="array"):
        both(client.loras.list())


def test_gzip_that_is_valid_still_reads(both: Both) -> None:
    # The decoding guard must not refuse a body that is properly compressed.
    packed = gzip.compress(GEN_BYTES)
    client = both.hostile(lambda request: body(200, packed, {"Content-Encoding": "gzip"}))
    assert both(client.images.retrieve(GEN["id"])).id == GEN["id"]


# ---- case 3: a batch keeps errors per item, and a resume finishes the item --------------------


def _garbage(response: httpx.Response) -> httpx.Response:
    return body(200, b'{"id": "img_', dict(response.headers))


def test_one_unreadable_create_in_a_batch_is_that_items_error(both: Both, tmp_path: Path) -> None:
    emu = Emulator(clock="manual", rate_limits=False)
    made: list[Corrupt] = []

    def wrap(inner: Any) -> Corrupt:
        # The second create the server commits gets a broken answer.
        seen = {"n": 0}

        def pick(request: httpx.Request) -> bool:
            if not is_create(request):
                return False
            seen["n"] += 1
            return seen["n"] == 2

        made.append(Corrupt(inner, pick, _garbage))
        return made[-1]

    client = both.emulated(emu, wrap=wrap)
    prompts = [f"a lighthouse, variation {i}" for i in range(5)]
    manifest = tmp_path / "run.jsonl"
    results = both(client.images.batch(prompts, concurrency=1, manifest=manifest))

    assert len(results) == 5
    broken = [r for r in results if not r.ok]
    assert len(broken) == 1
    (item,) = broken
    assert isinstance(item.error, aurous.APIResponseValidationError)
    assert item.error.idempotency_key == item.idempotency_key
    assert all(r.ok and r.generation is not None for r in results if r is not item)
    # The server did the work: five generations exist although only four came back.
    assert len(generation_rows(emu)) == 5

    resumed = both(both.emulated(emu).images.batch(prompts, concurrency=1, manifest=manifest))
    assert all(r.ok for r in resumed)
    assert resumed[item.index].idempotency_key == item.idempotency_key
    # Recovered by replaying its key: still five generations, five credits.
    assert len(generation_rows(emu)) == 5
    assert len({r.generation.id for r in resumed if r.generation}) == 5
    assert emu.team.credits == 995
    emu.close()


# ---- case 7: a server that hands out the same cursor again ------------------------------------


def test_repeated_cursor_stops_auto_paging(both: Both) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        assert len(sent) <= 20, "still paging after 20 pages of the same cursor"
        page = {"object": "list", "data": [GEN], "has_more": True, "next_cursor": "cur_same"}
        return httpx.Response(200, json=page, headers={"Aurous-Request-Id": "req_loop"})

    client = both.hostile(handler)
    with pytest.raises(aurous.APIResponseValidationError, match="cur_same") as caught:
        both.collect(client.images.list())
    assert len(sent) == 2
    assert caught.value.request_id == "req_loop"


def test_cursor_cycle_stops_auto_paging(both: Both) -> None:
    cursors = {None: "cur_a", "cur_a": "cur_b", "cur_b": "cur_a"}
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        assert len(sent) <= 20, "still paging after 20 pages of a cursor cycle"
        after = request.url.params.get("starting_after")
        page = {"object": "list", "data": [GEN], "has_more": True, "next_cursor": cursors[after]}
        return httpx.Response(200, json=page)

    client = both.hostile(handler)
    with pytest.raises(aurous.APIResponseValidationError):
        both.collect(client.images.list())
