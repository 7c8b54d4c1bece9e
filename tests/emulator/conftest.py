"""Fixtures for the emulator's own tests: in-process and served emulators on a manual clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aurous.emulator import Emulator, EmulatorServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# Generation keys present only when the request set them.
CONDITIONAL = frozenset({"cfg_rescale", "denoise_strength"})


def fixture(name: str) -> Any:
    """The JSON of ``tests/fixtures/<name>.json``."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def assert_same_shape(actual: Any, expected: Any, path: str = "$") -> None:
    """Same keys (recursively) and JSON types as the fixture; numbers may be int or float,
    and ``null`` in either matches any type (nullable fields)."""
    if actual is None or expected is None:
        return
    if isinstance(expected, bool):
        assert isinstance(actual, bool), path
    elif isinstance(expected, (int, float)):
        assert isinstance(actual, (int, float)), path
        assert not isinstance(actual, bool), path
    elif isinstance(expected, str):
        assert isinstance(actual, str), path
    elif isinstance(expected, dict):
        assert isinstance(actual, dict), path
        if path.endswith(("breakdown", ".key", "metadata")):
            return  # open-ended maps
        keys, wanted = set(actual) - CONDITIONAL, set(expected) - CONDITIONAL
        assert keys == wanted, f"{path}: {sorted(keys)} != {sorted(wanted)}"
        for key in set(expected) & set(actual):
            assert_same_shape(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), path
        if expected and actual:
            for index, item in enumerate(actual):
                assert_same_shape(item, expected[0], f"{path}[{index}]")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """A seeded emulator on a manual clock."""
    emulator = Emulator(clock="manual", seed=7)
    yield emulator
    emulator.close()


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    """Plain httpx through the in-process transport, authenticated as the default key."""
    with httpx.Client(
        transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
    ) as http:
        yield http


@pytest.fixture(scope="module")
def served() -> Iterator[EmulatorServer]:
    """One served emulator per module (manual clock) on an ephemeral loopback port."""
    emulator = Emulator(clock="manual", seed=11)
    with emulator.serve(host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture
def http(served: EmulatorServer) -> Iterator[httpx.Client]:
    """Plain httpx over a real socket to the served emulator."""
    assert served.emulator is not None
    with httpx.Client(
        base_url=served.base_url, headers={"X-Api-Key": served.emulator.api_key}, timeout=10
    ) as client:
        yield client


def png_dimensions(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR (after checking the signature)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
