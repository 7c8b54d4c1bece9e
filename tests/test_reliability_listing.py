"""Reliability case 6: ``images.list(ending_before=…)`` pages backwards past page 1.

The API refuses ``starting_after`` together with ``ending_before``; a backward list must carry
its cursor on as ``ending_before`` and reach every newer row exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from aurous.emulator import Emulator

from .drills._support import Both


@pytest.fixture(params=["sync", "async"])
def both(request: pytest.FixtureRequest) -> Iterator[Both]:
    runner = Both(request.param)
    yield runner
    runner.close()


class Recording(httpx.BaseTransport, httpx.AsyncBaseTransport):
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)  # type: ignore[no-any-return]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)  # type: ignore[no-any-return]


def test_backward_listing_reaches_every_newer_row(both: Both) -> None:
    emu = Emulator(clock="manual", rate_limits=False)
    seen: list[Recording] = []

    def wrap(inner: Any) -> Recording:
        seen.append(Recording(inner))
        return seen[-1]

    client = both.emulated(emu, wrap=wrap)
    created = [both(client.images.create(prompt=f"row {i}")).id for i in range(7)]
    oldest = created[0]

    rows = [g.id for g in both.collect(client.images.list(limit=2, ending_before=oldest))]
    assert sorted(rows) == sorted(created[1:])
    assert len(rows) == len(set(rows))

    pages = [r for r in seen[0].requests if r.method == "GET" and r.url.path == "/v1/images"]
    assert len(pages) == 3
    for request in pages:
        assert "starting_after" not in request.url.params
        assert "ending_before" in request.url.params

    # Forwards still pages as before: everything older than the newest row, newest first.
    forwards = [g.id for g in both.collect(client.images.list(limit=3, starting_after=created[-1]))]
    assert forwards == created[-2::-1]
    assert [g.id for g in both.collect(client.images.list(limit=3))] == created[::-1]
    emu.close()
