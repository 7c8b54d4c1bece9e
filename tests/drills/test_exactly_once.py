"""Drill: every create is generated and charged exactly once, whatever goes wrong on the way.

Faults are injected into the emulator (in-process on its manual clock, and served over a real
loopback socket on the real clock): a connection dropped before or after the create committed,
5xx before and after commit, 429 ``too_many_requests`` and ``concurrency_limit_exceeded``, a
response slower than the read timeout, and faults that outlast ``max_retries``. Through
``images.create``, ``images.create_and_wait`` and ``images.batch`` on both clients, the drill
counts generations, charges and keys: one generation and one charge per logical create; every
exception that escapes carries the idempotency key, and sending the create again with that key
returns the generation the server holds for it (a replay when the server had committed it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import aurous
from aurous.emulator import Emulator

from ._support import Both, charged, generation_rows
from .conftest import Figures

CREATE = "POST /v1/images"


@dataclasses.dataclass(frozen=True)
class Fault:
    name: str
    fail: dict[str, Any] | None = None
    latency: float = 0.0
    escapes: bool = False
    """Outlasts the retries: the exception reaches the caller (and must carry the key)."""
    committed: bool = True
    """The server did the work before failing (a resend is a replay)."""
    served: bool = True
    """Also run over the socket. The 429s are client-side waiting, the same code either way, and
    cost real seconds when served (a refused slot is probed again after 5 s): in-process only."""


FAULTS = [
    Fault("drop after commit", {"drop_connection": True, "after_commit": True}),
    Fault("drop before commit", {"drop_connection": True}, committed=False),
    Fault("500 after commit", {"status": 500, "after_commit": True}),
    Fault("503 before commit, twice", {"status": 503, "times": 2}, committed=False),
    Fault("429 too_many_requests", {"status": 429}, committed=False),
    Fault(
        "429 too_many_requests, twice", {"status": 429, "times": 2}, committed=False, served=False
    ),
    Fault(
        "429 concurrency_limit_exceeded, twice",
        {"status": 429, "times": 2, "code": "concurrency_limit_exceeded"},
        committed=False,
        served=False,
    ),
    Fault("slower than the read timeout", latency=1.0),
    Fault(
        "drop after commit on every attempt",
        {"drop_connection": True, "after_commit": True, "times": 4},
        escapes=True,
    ),
    Fault(
        "503 on every attempt",
        {"status": 503, "times": 4},
        escapes=True,
        committed=False,
        served=False,
    ),
]


class Site:
    """An emulator and clients of one mode talking to it, in-process or over a socket."""

    def __init__(self, both: Both, served: bool) -> None:
        self.both = both
        self.served = served
        if served:
            self.emu = Emulator(instant=True, rate_limits=False)
            self._server = self.emu.serve()
            self.timeout = 0.25  # real seconds; latency is scaled to match
        else:
            self.emu = Emulator(clock="manual", instant=True, rate_limits=False)
            self._server = None
            self.timeout = 5.0  # emulator seconds, free on the manual clock

    @property
    def faults(self) -> list[Fault]:
        return [f for f in FAULTS if f.served or not self.served]

    def client(self, **options: Any) -> Any:
        options.setdefault("timeout", self.timeout)
        if self._server is not None:
            return self.both.served(self._server.base_url, self.emu.api_key, **options)
        return self.both.emulated(self.emu, **options)

    def inject(self, fault: Fault) -> Any:
        """Script ``fault`` for the next create; returns the scripted failure (or None)."""
        scripted = None
        if fault.fail is not None:
            scripted = self.emu.faults.fail_next(CREATE, **fault.fail)
        if fault.latency:
            # Longer than one read timeout, shorter than the retries' patience.
            self.emu.faults.latency(self.timeout * 1.2 * fault.latency, CREATE, times=1)
        return scripted

    def settle(self) -> None:
        self.emu.faults.clear()
        assert self.emu.wait_abandoned(timeout=20)

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
        self.emu.close()


# Served runs spend real seconds in timeouts and Retry-After: slow, so `pytest -m slow` (CI).
@pytest.fixture(params=["in-process", pytest.param("served", marks=pytest.mark.slow)])
def site(request: pytest.FixtureRequest, both: Both) -> Iterator[Site]:
    made = Site(both, request.param == "served")
    yield made
    made.close()


def _check_books(site: Site, creates: int, figures: Figures, escaped: list[BaseException]) -> None:
    rows = generation_rows(site.emu)
    assert len(rows) == creates, f"{len(rows)} generations for {creates} creates"
    assert charged(site.emu) == creates, f"{charged(site.emu)} credits for {creates} creates"
    figures.add(
        creates=creates,
        generations=len(rows),
        credits_charged=charged(site.emu),
        escaped=len(escaped),
        recovered_by_key=len(escaped),
        faults=len(site.faults),
    )


def _recover(site: Site, client: Any, fault: Fault, error: BaseException, prompt: str) -> str:
    """Send the create again with the key the error carries; the generation the server holds."""
    key = getattr(error, "idempotency_key", None)
    assert key, f"{fault.name}: {type(error).__name__} escaped without its idempotency key"
    before = len(generation_rows(site.emu))
    again = site.both(client.images.create(prompt=prompt, idempotency_key=key))
    assert again._response.replayed is fault.committed, fault.name
    assert len(generation_rows(site.emu)) == before + (0 if fault.committed else 1)
    return str(again.id)


@pytest.mark.parametrize("method", ["create", "create_and_wait"])
def test_single_creates(site: Site, method: str, figures: Figures) -> None:
    client = site.client()
    ids: set[str] = set()
    escaped: list[BaseException] = []
    for number, fault in enumerate(site.faults):
        prompt = f"exactly once, {fault.name}, {number}"
        scripted = site.inject(fault)
        try:
            if method == "create":
                generation = site.both(client.images.create(prompt=prompt))
            else:
                generation = site.both(
                    client.images.create_and_wait(prompt=prompt, poll_interval=0.05, timeout=60)
                )
                assert generation.status == "succeeded"
        except aurous.AurousError as error:
            assert fault.escapes, f"{fault.name}: {error!r}"  # noqa: PT017
            site.settle()
            escaped.append(error)
            ids.add(_recover(site, client, fault, error, prompt))
        else:
            assert not fault.escapes, f"{fault.name} did not reach the caller"
            ids.add(generation.id)
        # Every scripted failure was met (a replay included), so the drill tested what it says.
        assert scripted is None or scripted.remaining <= 0, fault.name
        site.settle()
    assert len(ids) == len(site.faults)
    assert {row.id for row in generation_rows(site.emu)} == ids
    _check_books(site, len(site.faults), figures, escaped)


def test_batch(site: Site, tmp_path: Path, figures: Figures) -> None:
    client = site.client()
    prompts = [f"exactly once in a batch, {fault.name}" for fault in site.faults]
    # Queued up front: each scripted failure hits the next create to arrive, retries included,
    # so which items run out of retries depends on the order; the books must balance anyway.
    for fault in site.faults:
        if fault.fail is not None:
            site.emu.faults.fail_next(CREATE, **fault.fail)
    site.emu.faults.latency(site.timeout * 1.2, CREATE, times=1)
    manifest = tmp_path / "run.jsonl"
    results = site.both(
        client.images.batch(prompts, concurrency=1, manifest=manifest, poll_interval=0.05)
    )
    site.settle()
    failed = [r for r in results if not r.ok]
    escaped = [r.error for r in failed if r.error is not None]
    assert failed, "the faults that outlast the retries reached no item"
    for result in failed:
        assert getattr(result.error, "idempotency_key", None) == result.idempotency_key

    resumed = site.both(
        client.images.batch(prompts, concurrency=1, manifest=manifest, poll_interval=0.05)
    )
    assert all(r.ok for r in resumed)
    assert [r.idempotency_key for r in resumed] == [r.idempotency_key for r in results]
    assert len({r.generation.id for r in resumed if r.generation}) == len(prompts)
    _check_books(site, len(prompts), figures, escaped)


def test_batch_against_the_real_concurrency_limit(both: Both, figures: Figures) -> None:
    # The server's own 429 concurrency_limit_exceeded (two slots, four items at a time), with
    # drops after commit on top: still one generation per item.
    emu = Emulator(clock="manual", concurrency_limit=2, rate_limits=False)
    emu.faults.fail_next(CREATE, drop_connection=True, after_commit=True, times=3)
    client = both.emulated(emu)
    prompts = [f"limited, {i}" for i in range(12)]
    results = both(client.images.batch(prompts, concurrency=4, poll_interval=0.5))
    assert all(r.ok for r in results)
    rows = generation_rows(emu)
    assert len(rows) == len(prompts)
    assert charged(emu) == len(prompts)
    figures.add(creates=len(prompts), generations=len(rows), credits_charged=charged(emu))
    emu.close()
