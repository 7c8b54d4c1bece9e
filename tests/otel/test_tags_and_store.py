"""What a call span says beyond its requests: the client copy's tags (never on metrics), and
the time its pacing spent on a shared store."""

from __future__ import annotations

from pathlib import Path

import pytest

from aurous.emulator import Emulator

from .conftest import Telemetry, events, run

MODES = pytest.mark.parametrize("mode", ["sync", "async"])


@MODES
def test_tags_are_attributes_of_the_call_span_and_of_nothing_else(
    mode: str, telemetry: Telemetry
) -> None:
    emu = Emulator(clock="manual", image_phases=(1, 1))
    tags = {"user": "42", "job": "nightly"}
    run(
        mode,
        emu,
        lambda c: c.with_options(tags=tags).images.create_and_wait(prompt="x"),
        lambda c: c.balance.retrieve(),
        **telemetry.providers,
    )
    tagged = telemetry.one("images.create_and_wait")
    assert tagged.attributes is not None
    assert tagged.attributes["aurous.tag.user"] == "42"
    assert tagged.attributes["aurous.tag.job"] == "nightly"
    # The call span only: its HTTP spans describe requests, and the copy's own calls alone.
    for span in [*telemetry.children(tagged), telemetry.one("balance.retrieve")]:
        assert not [k for k in span.attributes or {} if k.startswith("aurous.tag.")], span.name
    # A tag's values are unbounded (a user id): on a metric each would be a new series.
    metrics = telemetry.metrics()
    assert {"aurous.requests", "aurous.generation.duration", "aurous.credits.charged"} <= set(
        metrics
    )
    for name, metric in metrics.items():
        for point in metric["points"]:
            assert not [k for k in point["attributes"] if k.startswith("aurous.tag.")], name


def test_a_copy_without_tags_drops_the_tags_it_was_copied_from(telemetry: Telemetry) -> None:
    emu = Emulator(clock="manual")
    with emu.client(**telemetry.providers) as client:
        client.with_options(tags={"user": "42"}).with_options(tags={}).balance.retrieve()
    span = telemetry.one("balance.retrieve")
    assert not [k for k in span.attributes or {} if k.startswith("aurous.tag.")]


@MODES
def test_time_on_a_shared_pacing_store_is_added_up_on_the_call_span(
    mode: str, telemetry: Telemetry, tmp_path: Path
) -> None:
    emu = Emulator(instant=True)  # the real clock: a store operation takes time
    run(
        mode,
        emu,
        lambda c: c.images.create(prompt="x"),
        pacing=f"file://{tmp_path}",
        **telemetry.providers,
    )
    span = telemetry.one("images.create")
    assert span.attributes is not None
    assert span.end_time is not None
    assert span.start_time is not None
    # A token and a concurrency ticket taken, both settled when the answer came.
    operations = span.attributes["aurous.pacing.store_operations"]
    assert isinstance(operations, int)
    assert operations >= 4
    seconds = span.attributes["aurous.pacing.store_seconds"]
    assert isinstance(seconds, float)
    assert 0 < seconds < (span.end_time - span.start_time) / 1e9
    assert events(span, "aurous.pacing.wait") == []  # nothing waited: the store is not a wait


def test_a_client_pacing_in_its_process_reports_no_store_time(telemetry: Telemetry) -> None:
    emu = Emulator(instant=True)
    with emu.client(**telemetry.providers) as client:
        client.images.create(prompt="x")
    attributes = telemetry.one("images.create").attributes or {}
    assert "aurous.pacing.store_seconds" not in attributes
    assert "aurous.pacing.store_operations" not in attributes
