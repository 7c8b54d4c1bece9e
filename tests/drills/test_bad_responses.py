"""Drill: a table of answers no client should have to read, against every kind of method.

Each shape is served by a hostile server (``httpx.MockTransport``; a few as raw bytes over a real
loopback socket) to ``retrieve``, ``create`` (the idempotency key must come back with the error),
an auto-paging ``list`` (on its second page) and, through the emulator, to one item of a batch
(that item's error only; the others succeed; a resumed batch finishes it without generating it
twice). The rule: the caller gets a model or an `aurous.AurousError`, never another exception;
an unreadable 2xx is an `aurous.APIResponseValidationError`.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import aurous
from aurous.emulator import Emulator

from ._support import Both, Corrupt, body, fixture, generation_rows, is_create, raw_server
from .conftest import Figures

GEN = fixture("generation.pending.image")
GEN_BYTES = json.dumps(GEN).encode()
JSON = {"Content-Type": "application/json"}


@dataclasses.dataclass(frozen=True)
class Shape:
    name: str
    answer: Callable[[httpx.Request], httpx.Response]
    unreadable_2xx: bool = True
    """A 2xx the SDK cannot use: must be APIResponseValidationError (else any AurousError)."""


def _fixed(status: int, content: bytes, headers: dict[str, str] | None = None) -> Any:
    return lambda request: body(status, content, {**JSON, **(headers or {})})


def _with(**changes: Any) -> bytes:
    return json.dumps({**GEN, **changes}).encode()


SHAPES = [
    Shape("empty body", _fixed(200, b"")),
    Shape(
        "HTML with text/html",
        _fixed(200, b"<html>502 Bad Gateway</html>", {"Content-Type": "text/html"}),
    ),
    Shape(
        "JSON labelled text/plain, wrong shape",
        _fixed(200, b'"ok"', {"Content-Type": "text/plain"}),
    ),
    Shape("truncated JSON", _fixed(200, GEN_BYTES[: len(GEN_BYTES) // 2])),
    Shape(
        "a 5,000-digit number",
        _fixed(200, _with(duration_ms=None)[:-1] + b', "n": ' + b"9" * 5000 + b"}"),
    ),
    Shape("1e999 for an integer", _fixed(200, _with()[:-1] + b', "duration_ms": 1e999}')),
    Shape("NaN for an id", _fixed(200, b'{"id": NaN}')),
    Shape("id is a number", _fixed(200, _with(id=42))),
    Shape("status is a list", _fixed(200, _with(status=[]))),
    Shape("created_at is not a time", _fixed(200, _with(created_at="yesterday"))),
    Shape("cost is a string", _fixed(200, _with(cost="free"))),
    Shape("output_urls is a string", _fixed(200, _with(output_urls="https://x"))),
    Shape("a list instead of an object", _fixed(200, b"[" + GEN_BYTES + b"]")),
    Shape("an empty object", _fixed(200, b"{}")),
    Shape("null", _fixed(200, b"null")),
    Shape("deep nesting", _fixed(200, b"[" * 100_000 + b"]" * 100_000)),
    Shape("deep object nesting", _fixed(200, b'{"a":' * 50_000 + b"1" + b"}" * 50_000)),
    Shape("invalid UTF-8", _fixed(200, b'{"id": "img_\xc3\x28"}')),
    # JSON readers accept UTF-16 and httpx ignores encodings it does not know: these may parse.
    Shape("UTF-16 body", _fixed(200, GEN_BYTES.decode().encode("utf-16")), False),
    Shape("bad gzip", _fixed(200, b"\x1f\x8b not really gzip", {"Content-Encoding": "gzip"})),
    Shape("gzip of garbage", _fixed(200, gzip.compress(b"{{{{"), {"Content-Encoding": "gzip"})),
    Shape(
        "unknown content-encoding", _fixed(200, GEN_BYTES, {"Content-Encoding": "zstd-ish"}), False
    ),
    Shape(
        "error envelope on a 200", _fixed(200, json.dumps(fixture("error.internal_error")).encode())
    ),
    Shape(
        "error envelope on a 201",
        _fixed(201, json.dumps(fixture("error.balance_too_low")).encode()),
    ),
    Shape("204 where a body is expected", _fixed(204, b"")),
    Shape("202 with an empty body", _fixed(202, b"")),
    Shape("3xx loop", lambda r: httpx.Response(302, headers={"Location": str(r.url)}), False),
    Shape("3xx without Location", lambda r: httpx.Response(300), False),
    Shape("1xx as a final answer", lambda r: httpx.Response(103), False),
    Shape("599 with garbage", _fixed(599, b"\xff\xfe"), False),
]


def _check(shape: Shape, error: BaseException | None, key: str | None = None) -> None:
    if error is None:
        return
    assert isinstance(error, aurous.AurousError), f"{shape.name}: {type(error).__name__}: {error}"
    if shape.unreadable_2xx:
        assert isinstance(error, aurous.APIResponseValidationError), shape.name
    if key is not None:
        assert getattr(error, "idempotency_key", None) == key, shape.name


def _outcome(run: Callable[[], Any]) -> BaseException | None:
    try:
        run()
    except Exception as error:
        return error
    return None


def test_retrieve_create_and_list(both: Both, figures: Figures) -> None:
    outcomes = 0
    first = {"object": "list", "data": [GEN], "has_more": True, "next_cursor": GEN["id"]}
    for shape in SHAPES:
        client = both.hostile(shape.answer)
        error = _outcome(lambda c=client: both(c.images.retrieve(GEN["id"])))
        _check(shape, error)
        error = _outcome(lambda c=client: both(c.images.create(prompt="x", idempotency_key="k-1")))
        _check(shape, error, key="k-1")
        if shape.unreadable_2xx:
            assert error is not None, shape.name

        def paged(request: httpx.Request, shape: Shape = shape) -> httpx.Response:
            if "starting_after" in request.url.params:
                return shape.answer(request)
            return httpx.Response(200, json=first)

        lister = both.hostile(paged)
        _check(shape, _outcome(lambda c=lister: both.collect(c.images.list(limit=1))))
        outcomes += 3
    figures.add(shapes=len(SHAPES), cases=outcomes)


def test_every_method_kind_on_a_null_body(both: Both, figures: Figures) -> None:
    # One shape, every namespace: models, bare lists, pages and deletes all read through Call.
    client = both.hostile(lambda request: body(200, b"null", JSON))
    calls: list[Callable[[Any], Any]] = [
        lambda c: c.balance.retrieve(),
        lambda c: c.pricing.retrieve(),
        lambda c: c.team.retrieve(),
        lambda c: c.loras.list(),
        lambda c: c.video_loras.list(),
        lambda c: c.loras.retrieve("lora_1"),
        lambda c: c.images.estimate(prompt="x"),
        lambda c: c.videos.create(prompt="x"),
        lambda c: c.videos.estimate(prompt="x"),
        lambda c: c.images.cancel("img_1"),
        lambda c: c.files.retrieve("file_1"),
        lambda c: c.files.delete("file_1"),
        lambda c: c.webhook_endpoints.retrieve("we_1"),
        lambda c: c.characters.retrieve("char_1"),
        lambda c: both.collect(c.characters.list()),
        lambda c: both.collect(c.webhook_endpoints.list()),
        lambda c: both.collect(c.usage.list(start_time="2026-05-01T00:00:00Z")),
    ]
    for call in calls:
        with pytest.raises(aurous.APIResponseValidationError):
            both(call(client))
    figures.add(cases=len(calls))


UNREADABLE = [shape for shape in SHAPES if shape.unreadable_2xx]


@pytest.mark.parametrize("shape", UNREADABLE, ids=lambda s: s.name)
def test_one_item_of_a_batch(both: Both, shape: Shape, tmp_path: Path, figures: Figures) -> None:
    emu = Emulator(clock="manual", rate_limits=False, instant=True)
    creates = {"n": 0}

    def second_create(request: httpx.Request) -> bool:
        if not is_create(request):
            return False
        creates["n"] += 1
        return creates["n"] == 2

    def wrap(inner: Any) -> Corrupt:
        return Corrupt(inner, second_create, lambda response: shape.answer(response.request))

    client = both.emulated(emu, wrap=wrap)
    prompts = ["one", "two", "three"]
    manifest = tmp_path / "run.jsonl"
    results = both(
        client.images.batch(prompts, concurrency=1, manifest=manifest, poll_interval=0.5)
    )
    (broken,) = [r for r in results if not r.ok]
    assert broken.index == 1
    assert isinstance(broken.error, aurous.APIResponseValidationError), broken.error
    assert broken.error.idempotency_key == broken.idempotency_key
    assert len(generation_rows(emu)) == 3  # the server committed it

    resumed = both(both.emulated(emu).images.batch(prompts, concurrency=1, manifest=manifest))
    assert all(r.ok for r in resumed)
    assert len(generation_rows(emu)) == 3
    figures.add(cases=1, generations=3, credits_charged=float(1000 - emu.team.credits))
    emu.close()


# ---- over a real socket: bytes no server library would write --------------------------------

_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
WIRE = {
    "body shorter than Content-Length": _HEAD + b"Content-Length: 500\r\n\r\n" + GEN_BYTES[:100],
    "chunked body cut off": _HEAD
    + b"Transfer-Encoding: chunked\r\n\r\n"
    + b"%x\r\n" % 100
    + GEN_BYTES[:100]
    + b"\r\n",
    "invalid UTF-8, no length": _HEAD + b"\r\n" + b'{"id": "\xff"}',
    "bad gzip": _HEAD + b"Content-Encoding: gzip\r\nContent-Length: 9\r\n\r\nnot gzip!",
    "garbage status line": b"HTTP/1.1 OK OK\r\n\r\n",
    "not HTTP at all": b"SSH-2.0-OpenSSH_9.6\r\n",
}


@pytest.mark.parametrize("wire", list(WIRE))
def test_over_a_socket(both: Both, wire: str, figures: Figures) -> None:
    base, thread = raw_server([WIRE[wire]])
    client = both.served(base, "al_live_x", max_retries=0)
    with pytest.raises(aurous.AurousError) as caught:
        both(client.images.create(prompt="x", idempotency_key="k-wire"))
    assert caught.value.idempotency_key == "k-wire"  # type: ignore[attr-defined]
    thread.join(10)
    figures.add(cases=1)
