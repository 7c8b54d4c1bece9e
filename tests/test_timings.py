"""`aurous._timings`: where a call's time went (the command line's ``--timings``), and its cost.

On the emulator's manual clock the phases are exact: a generation that spends 4 s pending and
6 s processing shows that, whatever the polling.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import aurous
from aurous._timings import PHASES, Timings, merged
from aurous.emulator import Emulator


def _sums_up(timeline: aurous._timings.Timeline) -> None:
    assert sum(timeline.phases.values()) == pytest.approx(timeline.seconds)
    assert sum(s for _, _, s in timeline.segments) == pytest.approx(timeline.seconds)
    assert list(timeline.phases) == list(PHASES)


def test_a_generation_splits_into_pacing_queued_and_processing() -> None:
    emu = Emulator(clock="manual", image_phases=(4, 6), rate_limits={"images_post": (1, 60)})
    client = emu.client()
    timings = Timings.attach(client)
    client.images.create(prompt="takes the bucket's only token")
    generation = client.images.create_and_wait(prompt="a lighthouse")
    first, timeline = timings.calls()
    assert first.name == "images.create"
    assert timeline.name == "images.create_and_wait"
    assert timeline.done
    _sums_up(timeline)
    phases = timeline.phases
    assert phases["pacing"] == pytest.approx(1.0, abs=0.05)  # one token a second
    assert phases["queued"] > 0
    assert phases["processing"] > 0
    # From the create's answer to the poll that saw it finished: at least its 10 s.
    assert 10 <= phases["queued"] + phases["processing"] <= 10 + 15
    assert phases["retrying"] == phases["download"] == 0
    assert timeline.statuses[0][1] == "pending"
    assert timeline.statuses[-1][1] == "succeeded"
    assert timeline.pacing_waits == 1
    assert timeline.requests >= 3
    assert timeline.generation_id == generation.id
    assert timeline.status == "succeeded"
    assert timeline.media == "image"
    assert generation.cost is not None
    assert timeline.held == timeline.charged == float(generation.cost.amount)
    assert [phase for phase, _ in timeline.bars()] == ["pacing", "queued", "processing"]
    assert [phase for phase, _, _ in timeline.segments] == ["pacing", "queued", "processing"]


def test_a_retry_is_time_spent_retrying() -> None:
    emu = Emulator(clock="manual")
    emu.faults.fail_next("GET /v1/balance", status=503)
    client = emu.client()
    timings = Timings.attach(client)
    client.balance.retrieve()
    timeline = timings.last()
    assert timeline is not None
    _sums_up(timeline)
    assert 0.8 <= timeline.phases["retrying"] <= 1.2
    assert timeline.retries == 1
    assert timeline.requests == 2


def test_a_download_is_its_own_phase_with_its_bytes_and_http_time(tmp_path: Path) -> None:
    emu = Emulator(instant=True)
    emu.faults.latency(0.05, "GET /v1/images/*/output/*")
    client = emu.client()
    timings = Timings.attach(client)
    generation = client.images.create_and_wait(prompt="x")
    [path] = client.images.download(generation, tmp_path)
    timeline = timings.last()
    assert timeline is not None
    assert timeline.name == "images.download"
    _sums_up(timeline)
    assert timeline.phases["download"] >= 0.05
    assert timeline.http_seconds >= 0.05
    assert timeline.downloaded_bytes == path.stat().st_size
    assert timeline.files == 1
    total = timings.total()
    assert total.seconds == pytest.approx(sum(t.seconds for t in timings.calls()))
    assert total.downloaded_bytes == timeline.downloaded_bytes
    assert total.charged == float(generation.cost.amount)  # type: ignore[union-attr]
    assert total.name == "images.create_and_wait + images.download"


def test_the_async_client_is_timed_the_same_way() -> None:
    emu = Emulator(clock="manual", image_phases=(2, 3))

    async def go() -> Timings:
        async with emu.async_client() as client:
            timings = Timings.attach(client)
            await client.images.create_and_wait(prompt="x")
            return timings

    [timeline] = asyncio.run(go()).calls()
    _sums_up(timeline)
    assert timeline.phases["queued"] + timeline.phases["processing"] >= 5


def test_an_error_and_batch_items(tmp_path: Path) -> None:
    emu = Emulator(clock="manual")
    client = emu.client()
    timings = Timings.attach(client)
    with pytest.raises(aurous.NotFoundError):
        client.images.retrieve("img_01KS2DH0GPE2Y1X16JH0Z1Y2GF")
    client.images.batch(["a", "b"], download_to=tmp_path)
    failed, batch = timings.calls()
    assert failed.error == "NotFoundError"
    assert failed.done
    items = [t for t in timings.timelines if t.parent is batch]
    assert [t.name for t in items] == ["images.batch.item"] * 2
    for item in items:
        assert item.status == "succeeded"
        assert item.files == 1


def test_timings_sit_beside_tracing() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    emu = Emulator(clock="manual")
    client = emu.client(tracer_provider=provider)
    timings = Timings.attach(client)
    client.balance.retrieve()
    assert [s.name for s in exporter.get_finished_spans()] == [
        "GET /v1/balance",
        "balance.retrieve",
    ]
    assert [t.name for t in timings.calls()] == ["balance.retrieve"]


def test_merged_timelines_run_one_after_the_other() -> None:
    a = aurous._timings.Timeline("one", seconds=2.0)
    a.phases["request"] = 2.0
    a.segments.append(("request", 0.0, 2.0))
    b = aurous._timings.Timeline("two", seconds=3.0)
    b.phases["request"] = 1.0
    b.phases["download"] = 2.0
    b.segments.extend([("request", 0.0, 1.0), ("download", 1.0, 2.0)])
    total = merged([a, b])
    assert total.seconds == 5.0
    assert total.segments == [("request", 0.0, 3.0), ("download", 3.0, 2.0)]
    assert total.bars() == [("request", 3.0), ("download", 2.0)]


def test_a_shared_pacing_store_is_pacing_time(tmp_path: Path) -> None:
    emu = Emulator(instant=True)  # the real clock: a store operation takes time
    client = emu.client(pacing=f"file://{tmp_path}")
    timings = Timings.attach(client)
    client.images.create(prompt="x")
    timeline = timings.last()
    assert timeline is not None
    _sums_up(timeline)
    assert timeline.store_operations >= 4  # a token and a ticket taken, both settled
    assert timeline.store_seconds > 0
    # Nothing waited: the pacing phase is the time on the store, and only that.
    assert timeline.pacing_waits == 0
    assert timeline.phases["pacing"] == pytest.approx(timeline.store_seconds)
    assert timeline.phases["request"] > 0
    assert merged([timeline, timeline]).store_seconds == pytest.approx(2 * timeline.store_seconds)


def test_a_wait_handed_a_row_counts_the_pause_before_its_first_poll_as_queued() -> None:
    emu = Emulator(clock="manual", image_phases=(4, 6))
    client = emu.client()
    timings = Timings.attach(client)
    created = client.images.create(prompt="x")
    client.images.wait(created, poll_interval=1.0, on_update=lambda g: None)
    timeline = timings.last()
    assert timeline is not None
    _sums_up(timeline)
    assert timeline.statuses[0] == (0.0, "pending")
    assert timeline.phases["request"] == 0  # requests take no time on the manual clock
    assert timeline.phases["queued"] >= 4
