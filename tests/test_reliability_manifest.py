"""Reliability case 1: two runs on one batch manifest would bill every item twice.

The second run (another thread, task or process) gets a clear error naming the manifest and the
process that owns it, and sends nothing; a run killed with SIGKILL leaves no stale lock behind.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import aurous
from aurous.emulator import Emulator

from .drills._support import Both, generation_rows, is_create, python

PROMPTS = [f"a red fox, take {i}" for i in range(4)]


@pytest.fixture(params=["sync", "async"])
def both(request: pytest.FixtureRequest) -> Iterator[Both]:
    runner = Both(request.param)
    yield runner
    runner.close()


class HoldFirstCreate(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Holds the first create it sees until ``release`` is set (an observable in-flight run)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.reached = threading.Event()
        self.release = threading.Event()
        self.creates = 0

    def _hold(self, request: httpx.Request) -> bool:
        if not is_create(request):
            return False
        self.creates += 1
        return self.creates == 1

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._hold(request):
            self.reached.set()
            self.release.wait(20)
        return self.inner.handle_request(request)  # type: ignore[no-any-return]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._hold(request):
            self.reached.set()
            await asyncio.to_thread(self.release.wait, 20)
        return await self.inner.handle_async_request(request)  # type: ignore[no-any-return]


def test_second_run_in_the_same_process_is_refused(both: Both, tmp_path: Path) -> None:
    emu = Emulator(clock="manual", rate_limits=False, instant=True)
    holds: list[HoldFirstCreate] = []

    def wrap(inner: Any) -> HoldFirstCreate:
        holds.append(HoldFirstCreate(inner))
        return holds[-1]

    first_client = both.emulated(emu, wrap=wrap)
    second_client = both.emulated(emu)
    manifest = tmp_path / "run.jsonl"
    hold = None

    def second_run() -> None:
        with pytest.raises(aurous.AurousError) as caught:
            both(second_client.images.batch(PROMPTS, manifest=manifest, concurrency=2))
        text = str(caught.value)
        assert str(manifest) in text
        assert "in use by process" in text

    try:
        if both.is_async:
            assert both.loop is not None

            async def scenario() -> list[Any]:
                first = asyncio.ensure_future(
                    first_client.images.batch(PROMPTS, manifest=manifest, concurrency=2)
                )
                await asyncio.to_thread(holds[0].reached.wait, 20)
                with pytest.raises(aurous.AurousError) as caught:
                    await second_client.images.batch(PROMPTS, manifest=manifest, concurrency=2)
                assert str(manifest) in str(caught.value)
                assert "in use by process" in str(caught.value)
                holds[0].release.set()
                return await first  # type: ignore[no-any-return]

            hold = holds[0]
            results = both(scenario())
        else:
            done: list[Any] = []
            thread = threading.Thread(
                target=lambda: done.append(
                    first_client.images.batch(PROMPTS, manifest=manifest, concurrency=2)
                )
            )
            thread.start()
            hold = holds[0]
            assert hold.reached.wait(20)
            second_run()
            hold.release.set()
            thread.join(20)
            (results,) = done
    finally:
        if holds:
            holds[0].release.set()

    assert all(r.ok for r in results)
    # Four items, four generations: the refused run sent nothing.
    assert len(generation_rows(emu)) == len(PROMPTS)
    emu.close()


_BLOCKED_BATCH = """
import sys, threading
import httpx, aurous

def handler(request):
    if request.method == "POST":
        print("sending", flush=True)
        threading.Event().wait()  # until killed
    return httpx.Response(404)

http = httpx.Client(transport=httpx.MockTransport(handler))
client = aurous.Client(api_key="al_live_x", base_url="https://api.test", http_client=http)
client.images.batch(sys.argv[2:], manifest=sys.argv[1], concurrency=1)
"""


def test_run_in_another_process_is_refused_and_sigkill_leaves_no_stale_lock(
    both: Both, tmp_path: Path
) -> None:
    manifest = tmp_path / "run.jsonl"
    child = python(_BLOCKED_BATCH, str(manifest), *PROMPTS)
    emu = Emulator(clock="manual", rate_limits=False, instant=True)
    client = both.emulated(emu)
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line == "sending", child.stderr.read() if child.stderr else ""
        with pytest.raises(aurous.AurousError) as caught:
            both(client.images.batch(PROMPTS, manifest=manifest))
        assert str(manifest) in str(caught.value)
        assert f"process {child.pid}" in str(caught.value)
        assert generation_rows(emu) == []
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=20)
        for stream in (child.stdin, child.stdout, child.stderr):
            if stream is not None:
                stream.close()

    # The killed run's lock went with it: the batch resumes at once and finishes every item.
    results = both(client.images.batch(PROMPTS, manifest=manifest))
    assert [r.ok for r in results] == [True] * len(PROMPTS)
    assert len(generation_rows(emu)) == len(PROMPTS)
    emu.close()
