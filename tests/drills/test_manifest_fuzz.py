"""Drill: hypothesis corrupts the records of a batch manifest; nothing but a named ValueError.

A real manifest of a finished three-item batch (with ``max_credits``, so its start records carry
prices) gets one of its records corrupted: a field swapped for any value (NaN, ±inf, 2⁷⁰, lone
surrogates, nested containers, wrong types), a field dropped, fields added, a field of the
recorded generation swapped, the line cut short, bytes that are not UTF-8, or any bytes at all.
The batch then runs again on it, against a server answering every request with ``503`` (nothing
can be generated, and a run takes milliseconds). The outcome is results, or a ``ValueError``
naming the manifest — and the line, when a record is refused. Nothing else escapes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aurous.emulator import Emulator

from ._support import Both
from .conftest import Figures

PROMPTS = [f"a fuzzed manifest, item {i}" for i in range(3)]
FIELDS = [
    "event",
    "index",
    "hash",
    "idempotency_key",
    "price",
    "generation",
    "error",
    "paths",
    "not_started",
    "status",
]
GENERATION_FIELDS = ["id", "status", "cost", "created_at", "media_type", "output_urls", "prompt"]
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["\ud800", "a\udfff", "\u2028", "\x85", "", "k\r\nX: 1", "x" * 300]),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308, -1, "NaN", "-3", "1e400"]),
    TEXT,
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
MUTATIONS = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(FIELDS), VALUES),
    st.tuples(st.just("drop"), st.sampled_from(FIELDS), st.none()),
    st.tuples(st.just("generation"), st.sampled_from(GENERATION_FIELDS), VALUES),
    st.tuples(st.just("cut"), st.integers(min_value=0, max_value=400), st.none()),
    st.tuples(st.just("not utf-8"), st.integers(min_value=0, max_value=400), st.none()),
    st.tuples(st.just("bytes"), st.binary(max_size=60), st.none()),
    st.tuples(st.just("replace"), VALUES, st.none()),
)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """The lines of a manifest of a finished batch, as the SDK wrote it."""
    emu = Emulator(clock="manual", instant=True, rate_limits=False)
    runner = Both("sync")
    manifest = tmp_path_factory.mktemp("recorded") / "run.jsonl"
    runner.emulated(emu).images.batch(PROMPTS, manifest=manifest, max_credits=100)
    runner.close()
    emu.close()
    return manifest.read_bytes().split(b"\n")[:-1]


@pytest.fixture
def unavailable() -> Iterator[Any]:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": {"code": "unavailable", "message": "down"}})

    runner = Both("sync")
    yield runner.hostile(answer)
    runner.close()


def _serialise(record: Any, ascii_only: bool) -> bytes:
    text = json.dumps(record, ensure_ascii=ascii_only)
    # A lone surrogate has no UTF-8 form: what a careless writer would put on disk instead.
    return text.encode("utf-8", "surrogatepass")


def _mutate(line: bytes, mutation: tuple[str, Any, Any], ascii_only: bool) -> bytes:
    kind, what, value = mutation
    record = json.loads(line)
    if kind == "set":
        record[what] = value
    elif kind == "drop":
        record.pop(what, None)
    elif kind == "generation" and isinstance(record.get("generation"), dict):
        record["generation"][what] = value
    elif kind == "replace":
        record = what
    elif kind == "cut":
        return line[: what % max(len(line), 1)]
    elif kind == "not utf-8":
        at = what % max(len(line), 1)
        return line[:at] + b"\xff\xc3" + line[at:]
    elif kind == "bytes":
        return bytes(what).replace(b"\n", b" ")
    return _serialise(record, ascii_only).replace(b"\n", b" ")


def test_corrupted_records(
    recorded: list[bytes], unavailable: Any, tmp_path: Path, figures: Figures
) -> None:
    manifest = tmp_path / "run.jsonl"
    outcomes = {"read": 0, "refused naming the line": 0, "refused naming the file": 0}

    @FUZZ
    @given(
        which=st.integers(min_value=1, max_value=len(recorded) - 1),
        mutation=MUTATIONS,
        ascii_only=st.booleans(),
    )
    def check(which: int, mutation: tuple[str, Any, Any], ascii_only: bool) -> None:
        lines = list(recorded)
        lines[which] = _mutate(lines[which], mutation, ascii_only)
        manifest.write_bytes(b"\n".join(lines) + b"\n")
        try:
            results = unavailable.images.batch(PROMPTS, manifest=manifest, max_credits=100)
        except ValueError as error:
            message = str(error)
            assert str(manifest) in message, message
            if "not a valid manifest record" in message:
                assert f"line {which + 1}:" in message, message
                outcomes["refused naming the line"] += 1
            else:
                outcomes["refused naming the file"] += 1
        else:
            assert len(results) == len(PROMPTS)
            outcomes["read"] += 1

    check()
    total = sum(outcomes.values())
    assert total >= 100
    assert outcomes["refused naming the line"] > 0
    figures.add(examples=total, **outcomes)
