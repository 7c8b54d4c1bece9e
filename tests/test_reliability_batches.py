"""Reliability, second round (issue 24): batches, manifests and money.

One test (or table) per finding, tried as an attacker would. Each fails on the code before the fix
(run against an export of it with ``PYTHONPATH=<export>/src``) except the guards named below.

1. Two runs on one manifest under two names (a symlink, a hard link) both ran, and deleting the
   ``.lock`` file let a second run start: every item was generated twice. Guards: a relative
   name, and a manifest deleted and created again under a live run (already refused).
3. ``videos.batch`` resumed a manifest written by ``images.batch`` and reported the images as
   its results: the item hash left out the media. A manifest of the previous version still
   resumes (a guard for that part).
4. ``max_credits`` trusted any amount: a NaN cost aborted the batch with a raw
   ``decimal.InvalidOperation``, a negative cost lowered the spend (6 credits under a cap of 3),
   and so did a hold smaller than the estimate. Every amount the API sends is now checked.
8. A lone surrogate in a poll answer aborted the batch with ``UnicodeEncodeError``; a U+2028 in
   a prompt made the manifest unreadable on resume.
9. Corrupted manifest records raised ``AttributeError``, ``TypeError``, ``ValidationError``,
   ``OverflowError``, ``RecursionError``, ``UnicodeDecodeError`` (or were trusted) instead of a
   ``ValueError`` naming the file and the line. A torn last line is still dropped (a guard).
17. ENOSPC writing the lock leaked its descriptor, and the process then locked itself out of its
    own manifest with a message blaming another process.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import aurous
from aurous.emulator import Emulator

from .drills._support import Both, Corrupt, body, charged, fixture, generation_rows

PROMPTS = [f"a harbour at dawn, take {i}" for i in range(4)]


@pytest.fixture
def sync() -> Iterator[Both]:
    runner = Both("sync")
    yield runner
    runner.close()


@pytest.fixture(params=["sync", "async"])
def both(request: pytest.FixtureRequest) -> Iterator[Both]:
    runner = Both(request.param)
    yield runner
    runner.close()


def _emulator(**options: Any) -> Emulator:
    options.setdefault("instant", True)
    return Emulator(clock="manual", rate_limits=False, **options)


def _recorder(made: list[Corrupt]) -> Callable[[Any], Corrupt]:
    """A ``wrap`` that records every request a client sends (and changes nothing)."""

    def wrap(inner: Any) -> Corrupt:
        made.append(Corrupt(inner, lambda request: False, lambda response: response, times=0))
        return made[-1]

    return wrap


def _rewrite(change: Callable[[dict[str, Any], httpx.Request], None]) -> Callable[[Any], Corrupt]:
    """A ``wrap`` whose generation answers (create and poll) pass through ``change`` first."""

    def replace(response: httpx.Response) -> httpx.Response:
        data = json.loads(response.content)
        if isinstance(data, dict) and data.get("object") == "inference":
            change(data, response.request)
        headers = {
            name: value
            for name, value in response.headers.items()
            if name.lower() not in ("content-length", "content-encoding")
        }
        return body(response.status_code, json.dumps(data).encode(), headers)

    def pick(request: httpx.Request) -> bool:
        return request.url.path.startswith("/v1/images") and "estimate" not in request.url.path

    return lambda inner: Corrupt(inner, pick, replace, times=None)


# ---- 1. one manifest, any name ------------------------------------------------------------------

OTHER_NAMES = ["symlink", "hard link", "lock file deleted", "relative path", "manifest deleted"]


def other_name(kind: str, manifest: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Another way to reach ``manifest`` (whose run is in progress), as an attacker would."""
    folder = manifest.parent
    if kind == "symlink":
        link = folder / "alias.jsonl"
        link.symlink_to(manifest)
        return link
    if kind == "hard link":
        (folder / "elsewhere").mkdir()
        link = folder / "elsewhere" / "copy.jsonl"
        os.link(manifest, link)
        return link
    if kind == "lock file deleted":
        for lock in folder.glob("*.lock"):
            lock.unlink()
        return manifest
    if kind == "relative path":
        monkeypatch.chdir(folder)
        return Path(manifest.name)
    assert kind == "manifest deleted"
    manifest.unlink()
    return manifest


@pytest.mark.parametrize("kind", OTHER_NAMES)
def test_a_second_run_under_another_name_is_refused(
    kind: str, sync: Both, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = _emulator()
    manifest = tmp_path / "run.jsonl"
    owner = sync.emulated(emu)
    made: list[Corrupt] = []
    contender = sync.emulated(emu, wrap=_recorder(made))
    results: list[Any] = []
    with emu.faults.pause("POST /v1/images") as gate:
        worker = threading.Thread(
            target=lambda: results.extend(
                owner.images.batch(PROMPTS, manifest=manifest, concurrency=2)
            )
        )
        worker.start()
        try:
            assert gate.wait_reached(20)
            name = other_name(kind, manifest, monkeypatch)
            with pytest.raises(aurous.AurousError, match="is in use by"):
                contender.images.batch(PROMPTS, manifest=name, concurrency=2)
            assert made[0].requests == []  # refused before sending anything
        finally:
            gate.release()
            worker.join(20)

    assert [r.ok for r in results] == [True] * len(PROMPTS)
    assert len(generation_rows(emu)) == len(PROMPTS)
    assert charged(emu) == len(PROMPTS)
    if kind != "manifest deleted":  # (its journal went with the file)
        # Under the other name too, a later run resumes and sends nothing: billed once.
        again = contender.images.batch(PROMPTS, manifest=name)
        assert all(r.skipped for r in again)
        assert made[0].requests == []
    emu.close()


def test_the_owner_is_named_under_a_symlink(sync: Both, tmp_path: Path) -> None:
    emu = _emulator()
    manifest = tmp_path / "run.jsonl"
    link = tmp_path / "alias.jsonl"
    link.symlink_to(manifest)  # the owner creates the manifest through it
    results: list[Any] = []
    with emu.faults.pause("POST /v1/images") as gate:
        worker = threading.Thread(
            target=lambda: results.extend(sync.emulated(emu).images.batch(PROMPTS, manifest=link))
        )
        worker.start()
        try:
            assert gate.wait_reached(20)
            with pytest.raises(aurous.AurousError) as caught:
                sync.emulated(emu).images.batch(PROMPTS, manifest=manifest)
        finally:
            gate.release()
            worker.join(20)
    assert f"in use by process {os.getpid()}" in str(caught.value)
    assert str(manifest) in str(caught.value)
    assert len(results) == len(PROMPTS)
    emu.close()


# ---- 17. a full disk while taking the manifest ----------------------------------------------------


def fail_writes(monkeypatch: pytest.MonkeyPatch, target: Path, code: int = errno.ENOSPC) -> None:
    """``os.write`` to the file ``target`` fails with ``code`` (a full disk, without one)."""
    real = os.write

    def write(fd: int, data: Any) -> int:
        try:
            hit = os.path.samestat(os.fstat(fd), os.stat(target))
        except OSError:
            hit = False
        if hit:
            raise OSError(code, os.strerror(code))
        return real(fd, data)

    monkeypatch.setattr(os, "write", write)


@pytest.mark.parametrize("record", ["owner record", "manifest"])
def test_a_full_disk_is_reported_as_such_and_locks_nothing(
    record: str, both: Both, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = _emulator()
    manifest = tmp_path / "run.jsonl"
    target = tmp_path / "run.jsonl.lock" if record == "owner record" else manifest
    client = both.emulated(emu)
    with monkeypatch.context() as patch:
        fail_writes(patch, target)
        with pytest.raises(OSError) as caught:
            both(client.images.batch(PROMPTS, manifest=manifest))
    assert generation_rows(emu) == []
    # Nothing stayed locked: the same process runs the batch at once (it used to be refused,
    # "in use by another process", by its own leaked descriptor).
    results = both(client.images.batch(PROMPTS, manifest=manifest))
    assert [r.ok for r in results] == [True] * len(PROMPTS)
    assert len(generation_rows(emu)) == len(PROMPTS)

    error = caught.value
    assert error.errno == errno.ENOSPC
    assert str(target) in str(error)
    assert "No space left on device" in str(error)
    assert "in use" not in str(error)
    emu.close()


# ---- 3. the media is part of an item ------------------------------------------------------------


@pytest.mark.parametrize(("writer", "reader"), [("images", "videos"), ("videos", "images")])
def test_a_manifest_of_the_other_media_is_refused(
    writer: str, reader: str, sync: Both, tmp_path: Path
) -> None:
    emu = _emulator()
    manifest = tmp_path / "run.jsonl"
    made: list[Corrupt] = []
    client = sync.emulated(emu, wrap=_recorder(made))
    first = getattr(client, writer).batch(PROMPTS, manifest=manifest)
    assert all(r.ok for r in first)
    sent = len(made[0].requests)

    with pytest.raises(ValueError, match=rf"{writer}\.batch\): {reader}\.batch cannot resume it"):
        getattr(client, reader).batch(PROMPTS, manifest=manifest)
    assert len(made[0].requests) == sent
    emu.close()


def _v1_hash(request: dict[str, Any]) -> str:
    # How the previous version hashed an item: its parameters only.
    text = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def test_a_manifest_of_the_previous_version_still_resumes(sync: Both, tmp_path: Path) -> None:
    emu = _emulator()
    made: list[Corrupt] = []
    client = sync.emulated(emu, wrap=_recorder(made))
    # Written as the previous version wrote it: two items finished, a third sent and unanswered.
    done = [
        client.images.create_and_wait(prompt=prompt, idempotency_key=f"key-{i}")
        for i, prompt in enumerate(PROMPTS[:2])
    ]
    in_flight = client.images.create(prompt=PROMPTS[2], idempotency_key="key-2")
    records: list[dict[str, Any]] = [{"format": "aurous.batch", "version": 1}]
    for i, prompt in enumerate(PROMPTS[:3]):
        digest = _v1_hash({"prompt": prompt})
        records.append(
            {"event": "start", "index": i, "hash": digest, "idempotency_key": f"key-{i}"}
        )
    for i, generation in enumerate(done):
        records.append(
            {
                "event": "finish",
                "index": i,
                "hash": _v1_hash({"prompt": PROMPTS[i]}),
                "idempotency_key": f"key-{i}",
                "generation_id": generation.id,
                "status": generation.status,
                "error": None,
                "paths": [],
                "generation": generation.to_dict(),
            }
        )
    manifest = tmp_path / "old.jsonl"
    manifest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    creates_before = _creates(made[0])

    results = client.images.batch(PROMPTS, manifest=manifest)
    assert [r.ok for r in results] == [True] * 4
    assert [r.skipped for r in results] == [True, True, False, False]
    assert results[2].generation is not None
    assert results[2].generation.id == in_flight.id  # replayed with its recorded key
    assert len(generation_rows(emu)) == 4
    assert _creates(made[0]) == creates_before + 2

    # It stays a version 1 manifest, with the hashes of that version: the next run sends nothing.
    assert json.loads(manifest.read_text().splitlines()[0])["version"] == 1
    again = client.images.batch(PROMPTS, manifest=manifest)
    assert all(r.skipped for r in again)
    # Its generations are images: videos.batch refuses it.
    with pytest.raises(ValueError, match=r"videos\.batch cannot resume it"):
        client.videos.batch(PROMPTS, manifest=manifest)
    assert _creates(made[0]) == creates_before + 2
    emu.close()


def _creates(recorder: Corrupt) -> int:
    return sum(1 for r in recorder.requests if r.method == "POST" and r.url.path == "/v1/images")


# ---- 4. money ------------------------------------------------------------------------------------

GEN = fixture("generation.succeeded.image")
USAGE = fixture("usage")
EVENTS = fixture("usage_events")


def _changed(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(document))
    target = copy
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return copy


def _call(name: str) -> Callable[[Any], Any]:
    calls: dict[str, Callable[[Any], Any]] = {
        "generation": lambda c: c.images.retrieve("img_01KS2D7VBRX1NC1J4R82RJEXE5"),
        "estimate": lambda c: c.images.estimate(prompt="a lighthouse"),
        "pricing": lambda c: c.pricing.retrieve(),
        "balance": lambda c: c.balance.retrieve(),
        "team": lambda c: c.team.retrieve(),
        "usage": lambda c: c.usage.list(start_time="2026-05-20T00:00:00Z"),
        "usage events": lambda c: c.usage.list_events(start_time="2026-05-20T00:00:00Z"),
    }
    return calls[name]


_BAD_AMOUNTS = {"NaN": math.nan, "Infinity": math.inf, "negative": -3}
MONEY: list[tuple[str, str, Any, tuple[Any, ...]]] = [
    ("generation", "generation", GEN, ("cost", "amount")),
    ("estimate", "estimate", fixture("estimate"), ("estimated_cost", "amount")),
    ("pricing", "pricing", fixture("pricing"), ("image", "base")),
    ("pricing", "pricing", fixture("pricing"), ("video", "resolution_factor", "720p")),
    ("balance", "balance", fixture("balance"), ("held_credits",)),
    ("usage", "usage", USAGE, ("data", 0, "groups", 0, "metrics", "credits_used")),
    ("usage events", "usage events", EVENTS, ("data", 0, "credits_charged")),
]
FINITE_ONLY: list[tuple[str, Any, tuple[Any, ...]]] = [
    ("generation", GEN, ("cost", "breakdown", "base")),
    ("balance", fixture("balance"), ("credits",)),
    ("balance", fixture("balance"), ("available_credits",)),
    ("team", fixture("team"), ("credits",)),
]


def _read(both: Both, method: str, document: Any) -> Any:
    content = json.dumps(document).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        return body(200, content, {"Content-Type": "application/json"})

    result = _call(method)(both.hostile(answer))
    if method.startswith("usage"):
        return both.collect(result)
    return both(result)


@pytest.mark.parametrize("bad", list(_BAD_AMOUNTS))
@pytest.mark.parametrize(("method", "name", "document", "where"), MONEY)
def test_money_that_is_not_an_amount_is_refused(
    both: Both, method: str, name: str, document: Any, where: tuple[Any, ...], bad: str
) -> None:
    with pytest.raises(aurous.APIResponseValidationError) as caught:
        _read(both, method, _changed(document, where, _BAD_AMOUNTS[bad]))
    assert str(where[-1]) in str(caught.value)


@pytest.mark.parametrize("bad", ["NaN", "Infinity"])
@pytest.mark.parametrize(("method", "document", "where"), FINITE_ONLY)
def test_balances_and_price_parts_must_be_finite(
    both: Both, method: str, document: Any, where: tuple[Any, ...], bad: str
) -> None:
    with pytest.raises(aurous.APIResponseValidationError):
        _read(both, method, _changed(document, where, _BAD_AMOUNTS[bad]))


@pytest.mark.parametrize(("method", "document", "where"), FINITE_ONLY)
def test_a_negative_balance_or_price_part_is_read(
    both: Both, method: str, document: Any, where: tuple[Any, ...]
) -> None:
    # A guard: a team can owe credits (more held than it has), and a part of a price may be an
    # adjustment; neither is added to a budget's spend.
    assert _read(both, method, _changed(document, where, -2)) is not None


@pytest.mark.parametrize("amount", [math.nan, -5.0])
def test_a_cost_that_is_not_an_amount_keeps_the_batch_within_its_cap(
    amount: float, both: Both, tmp_path: Path
) -> None:
    emu = _emulator()

    def change(data: dict[str, Any], request: httpx.Request) -> None:
        if request.method == "POST":  # every create answer: the generation is already billed
            data["cost"] = {**data["cost"], "amount": amount}

    client = both.emulated(emu, wrap=_rewrite(change))
    prompts = [f"a lighthouse, take {i}" for i in range(8)]
    results = both(
        client.images.batch(prompts, concurrency=2, max_credits=3, manifest=tmp_path / "m.jsonl")
    )
    # Nothing raw escapes: each create the SDK could not read is that item's error, with its key.
    created = [r for r in results if not r.not_started]
    assert len(created) == 3
    for result in created:
        assert isinstance(result.error, aurous.APIResponseValidationError)
        assert result.error.idempotency_key == result.idempotency_key
    for result in results[3:]:
        assert isinstance(result.error, aurous.BudgetExceededError)
    # An unreadable create counts its estimated price: the cap holds.
    assert len(generation_rows(emu)) == 3
    assert charged(emu) == 3
    emu.close()


def test_a_huge_cost_does_not_wash_the_other_holds_out_of_the_spend(both: Both) -> None:
    # Found by the budget drill: summed in 28 digits, 1 + 1e308 - 1e308 is 0, so once an item
    # answered with 1e308 had finished, the holds of the others no longer counted.
    emu = _emulator()

    def change(data: dict[str, Any], request: httpx.Request) -> None:
        if request.method == "POST":
            data["cost"] = {**data["cost"], "amount": 1e308}

    client = both.emulated(emu, wrap=_rewrite(change))
    prompts = [f"a lighthouse, take {i}" for i in range(12)]
    results = both(client.images.batch(prompts, concurrency=4, max_credits=3))
    assert len(results) == len(prompts)
    assert charged(emu) <= 3
    emu.close()


def test_a_hold_smaller_than_the_estimate_counts_the_estimate(both: Both, tmp_path: Path) -> None:
    emu = _emulator(instant=False)

    def change(data: dict[str, Any], request: httpx.Request) -> None:
        if request.method == "POST":  # the create claims to hold nothing
            data["cost"] = {**data["cost"], "amount": 0, "breakdown": {"base": 0}}

    client = both.emulated(emu, wrap=_rewrite(change))
    prompts = [f"a lighthouse, take {i}" for i in range(12)]
    results = both(client.images.batch(prompts, concurrency=6, max_credits=3))
    assert [r.status for r in results] == ["succeeded"] * 3 + ["not_started"] * 9
    assert len(generation_rows(emu)) == 3
    assert charged(emu) == 3
    emu.close()


# ---- 8. text no UTF-8 file can hold ---------------------------------------------------------------


def test_a_lone_surrogate_in_a_poll_answer_is_journalled_and_written(
    both: Both, tmp_path: Path
) -> None:
    emu = _emulator()

    def change(data: dict[str, Any], request: httpx.Request) -> None:
        if request.method != "GET":
            return
        second = data.get("prompt") == PROMPTS[1]
        data["prompt"] = "fox \ud800 den"
        if second and data["status"] == "succeeded":
            data.update(status="failed", error_message="\udcff boom", output_urls=[])
            data["cost"] = {**data["cost"], "amount": 0, "breakdown": {"base": 0}}

    manifest = tmp_path / "run.jsonl"
    client = both.emulated(emu, wrap=_rewrite(change))
    results = both(client.images.batch(PROMPTS, manifest=manifest))
    assert [r.ok for r in results] == [True, False, True, True]
    assert [r.generation.prompt for r in results if r.generation] == ["fox \ud800 den"] * 4
    assert isinstance(results[1].error, aurous.GenerationFailedError)
    assert "\udcff boom" in str(results[1].error)
    assert manifest.read_bytes().isascii()

    # Results files take them too, and JSON Lines gives them back exactly.
    aurous.write_results(results, tmp_path / "results.jsonl")
    aurous.write_results(results, tmp_path / "results.csv")
    back = aurous.read_results(tmp_path / "results.jsonl")
    assert back[1]["error"]["message"] == str(results[1].error)
    assert len(aurous.read_results(tmp_path / "results.csv")) == len(PROMPTS)

    # Resumed from the manifest, the text is what the answer carried.
    again = both(both.emulated(emu).images.batch(PROMPTS, manifest=manifest))
    assert all(r.skipped for r in again)
    assert [r.generation.prompt for r in again if r.generation] == ["fox \ud800 den"] * 4
    assert "\udcff boom" in str(again[1].error)
    assert len(generation_rows(emu)) == len(PROMPTS)
    emu.close()


def test_line_separators_in_a_prompt_do_not_split_a_record(both: Both, tmp_path: Path) -> None:
    emu = _emulator()
    manifest = tmp_path / "run.jsonl"
    prompts = ["a quay\u2028at dusk", "a pier\x85at noon", "a dock\u2029at night", "plain"]
    first = both(both.emulated(emu).images.batch(prompts, manifest=manifest))
    assert all(r.ok for r in first)
    again = both(both.emulated(emu).images.batch(prompts, manifest=manifest))
    assert all(r.skipped for r in again)
    assert len(generation_rows(emu)) == len(prompts)
    emu.close()


# ---- 9. corrupted manifest records ----------------------------------------------------------------


def _finish(**changes: Any) -> dict[str, Any]:
    return {"event": "finish", "index": 0, "hash": "0" * 32, "idempotency_key": "k-0", **changes}


def _start(**changes: Any) -> dict[str, Any]:
    return {"event": "start", "index": 0, "hash": "0" * 32, "idempotency_key": "k-0", **changes}


def _line(record: Any) -> bytes:
    return json.dumps(record).encode()


_NESTED = b'{"event": "start", "index": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
CORRUPTED: dict[str, bytes] = {
    "not JSON": b'{"event": "start", "index": 0, "hash": ',
    "a JSON list": b'["start", 0]',
    "invalid UTF-8": b'{"event": "start", "index": 0, "hash": "\xff\xfe", "idempotency_key": "k"}',
    "index 1e400 (infinite)": b'{"event": "start", "index": 1e400, "hash": "h", "idempotency_key": "k"}',
    "index a 5,000-digit number": b'{"event": "start", "index": ' + b"9" * 5000 + b"}",
    "index a fraction": _line(_start(index=0.5)),
    "index negative": _line(_start(index=-1)),
    "index missing": _line({"event": "start", "hash": "h", "idempotency_key": "k"}),
    "nested 100,000 deep": _NESTED,
    "unknown event": _line(_start(event="restart")),
    "hash a number": _line(_start(hash=7)),
    "key with a line break": _line(_start(idempotency_key="k\r\nX-Evil: 1")),
    "key an object": _line(_start(idempotency_key={"k": 1})),
    "price negative": _line(_start(price="-3")),
    "price NaN": _line(_start(price="NaN")),
    "price a list": _line(_start(price=[1])),
    "price 1e999999": _line(_start(price="1e999999")),
    "price of 5,000 digits": _line(_start(price="1" * 5000)),
    "paths a number": _line(_finish(paths=5)),
    "paths of numbers": _line(_finish(paths=[1, 2])),
    "error a string": _line(_finish(error="boom")),
    "error class a list": _line(_finish(error={"class": [1], "message": "x"})),
    "generation a list": _line(_finish(generation=[GEN])),
    "generation without an id": _line(
        _finish(generation={k: v for k, v in GEN.items() if k != "id"})
    ),
    "generation cost NaN": _line(_finish(generation=_changed(GEN, ("cost", "amount"), math.nan))),
    "generation cost negative": _line(_finish(generation=_changed(GEN, ("cost", "amount"), -9))),
    "generation duration 1e400": b'{"event": "finish", "index": 0, "hash": "h", '
    b'"idempotency_key": "k", "generation": '
    + json.dumps(GEN).encode()[:-1]
    + b', "duration_ms": 1e400}}',
}


def _manifest_with(tmp_path: Path, emu: Emulator, sync: Both, line: bytes) -> tuple[Path, int]:
    """A real manifest of a finished batch with its third line replaced by ``line``."""
    manifest = tmp_path / "run.jsonl"
    sync.emulated(emu).images.batch(PROMPTS, manifest=manifest)
    lines = manifest.read_bytes().split(b"\n")
    lines[2] = line
    manifest.write_bytes(b"\n".join(lines))
    return manifest, 3


@pytest.mark.parametrize("case", list(CORRUPTED))
def test_a_corrupted_record_is_a_value_error_naming_the_line(
    case: str, sync: Both, tmp_path: Path
) -> None:
    emu = _emulator()
    manifest, number = _manifest_with(tmp_path, emu, sync, CORRUPTED[case])
    made: list[Corrupt] = []
    client = sync.emulated(emu, wrap=_recorder(made))
    with pytest.raises(ValueError) as caught:
        client.images.batch(PROMPTS, manifest=manifest, max_credits=100)
    assert f"{manifest}, line {number}:" in str(caught.value)
    assert made[0].requests == []
    emu.close()


def test_a_torn_last_line_is_still_dropped(sync: Both, tmp_path: Path) -> None:
    # A guard: a crash mid-write leaves a record without its newline; the next run drops it.
    emu = _emulator()
    manifest = tmp_path / "run.jsonl"
    first = sync.emulated(emu).images.batch(PROMPTS, manifest=manifest)
    raw = manifest.read_bytes()
    cut = raw.rfind(b"\n", 0, len(raw) - 1) + 1
    torn = json.loads(raw[cut:])["index"]  # the item whose finish record is torn
    manifest.write_bytes(raw[: cut + 40])
    again = sync.emulated(emu).images.batch(PROMPTS, manifest=manifest)
    assert [r.skipped for r in again] == [i != torn for i in range(len(PROMPTS))]
    assert again[torn].generation is not None
    assert first[torn].generation is not None
    assert again[torn].generation.id == first[torn].generation.id  # replayed, not made again
    assert len(generation_rows(emu)) == len(PROMPTS)
    emu.close()
