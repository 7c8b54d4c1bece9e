"""Each call as one trace: its span, a child per HTTP request, events for waits, identity and cost.

Against the emulator (in-process, on its manual clock unless said otherwise) with the real
OpenTelemetry SDK and its in-memory exporters, on both clients.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, StatusCode

import aurous
from aurous.emulator import Emulator
from tests.conftest import fixture

from .conftest import Telemetry, events, run

MODES = pytest.mark.parametrize("mode", ["sync", "async"])
MISSING = "img_01KS2DH0GPE2Y1X16JH0Z1Y2GF"


class Recording(httpx.BaseTransport):
    """Passes requests on to ``inner`` and keeps them."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)


# ---- one call, one trace -----------------------------------------------------------------------


@MODES
def test_create_and_wait_is_one_span_with_a_child_per_request(
    mode: str, telemetry: Telemetry
) -> None:
    emu = Emulator(clock="manual", image_phases=(2, 3))
    [generation] = run(
        mode,
        emu,
        lambda c: c.images.create_and_wait(prompt="a lighthouse", idempotency_key="order-42"),
        **telemetry.providers,
    )
    call = telemetry.one("images.create_and_wait")
    assert call.kind is SpanKind.INTERNAL
    assert call.parent is None
    assert call.status.status_code is StatusCode.UNSET
    http = telemetry.children(call)
    assert len(http) >= 3  # the create and at least two polls
    assert [s.name for s in http] == ["POST /v1/images"] + ["GET /v1/images/{generation_id}"] * (
        len(http) - 1
    )
    assert {s.kind for s in http} == {SpanKind.CLIENT}
    assert {s.context.trace_id for s in [call, *http]} == {call.context.trace_id}

    attributes = call.attributes or {}
    assert attributes["aurous.generation.id"] == generation.id
    assert attributes["aurous.generation.status"] == "succeeded"
    assert attributes["aurous.media"] == "image"
    assert attributes["aurous.inference_type"] == "t2i"
    assert attributes["aurous.idempotency_key"] == "order-42"
    assert attributes["aurous.request_id"] == generation._response.request_id
    assert generation.cost is not None
    assert attributes["aurous.credits.charged"] == float(generation.cost.amount)
    assert attributes["aurous.credits.held"] == float(generation.cost.amount)
    assert "prompt" not in str(dict(attributes))

    statuses = [e["aurous.generation.status"] for e in events(call, "aurous.poll")]
    assert len(statuses) == len(http) - 1  # an event per poll
    assert statuses[-1] == "succeeded"
    assert "processing" in statuses


def test_an_http_span_follows_the_http_client_conventions(telemetry: Telemetry) -> None:
    emu = Emulator(clock="manual")
    with emu.client(**telemetry.providers) as client:
        generation = client.images.create(prompt="a lighthouse")
    [create] = telemetry.named("POST /v1/images")
    assert dict(create.attributes or {}) == {
        "http.request.method": "POST",
        "url.full": f"{client.base_url}/v1/images",
        "url.template": "/v1/images",
        "server.address": httpx.URL(client.base_url).host,
        "server.port": 80,
        "http.response.status_code": 201,
        "aurous.request_id": generation._response.request_id,
    }
    call = telemetry.one("images.create")
    # A create's span: what is held, not yet what is charged.
    assert call.attributes["aurous.generation.status"] == "pending"
    assert call.attributes["aurous.credits.held"] == float(generation.cost.amount)
    assert "aurous.credits.charged" not in call.attributes


def test_a_traceparent_names_the_http_span_it_belongs_to(telemetry: Telemetry) -> None:
    emu = Emulator(instant=True)
    recording = Recording(emu.transport)
    http = httpx.Client(transport=recording, base_url=emu.base_url)
    with aurous.Client(
        api_key=emu.api_key, base_url=emu.base_url, http_client=http, **telemetry.providers
    ) as client:
        client.balance.retrieve()
    [request] = recording.requests
    [span] = telemetry.named("GET /v1/balance")
    context = span.context
    version, trace_id, span_id, flags = request.headers["traceparent"].split("-")
    assert (version, trace_id, span_id) == (
        "00",
        f"{context.trace_id:032x}",
        f"{context.span_id:016x}",
    )
    assert int(flags, 16) & 1  # sampled


def test_an_unsampled_call_records_nothing_but_still_propagates(telemetry: Telemetry) -> None:
    emu = Emulator(instant=True)
    recording = Recording(emu.transport)
    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(telemetry.tracer_provider._active_span_processor)
    http = httpx.Client(transport=recording, base_url=emu.base_url)
    with aurous.Client(
        api_key=emu.api_key, base_url=emu.base_url, http_client=http, tracer_provider=provider
    ) as client:
        client.balance.retrieve()
    assert telemetry.spans() == []
    flags = recording.requests[0].headers["traceparent"].rsplit("-", 1)[1]
    assert not int(flags, 16) & 1  # not sampled: the server's side need not record either


@MODES
def test_a_call_inside_the_callers_span_is_its_child(mode: str, telemetry: Telemetry) -> None:
    emu = Emulator(clock="manual")
    tracer = telemetry.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("job") as job:
        run(mode, emu, lambda c: c.balance.retrieve(), **telemetry.providers)
        # The call's span was never made current: the caller's still is.
        assert trace.get_current_span() is job
    call = telemetry.one("balance.retrieve")
    assert call.parent is not None
    assert call.parent.span_id == job.get_span_context().span_id


def test_concurrent_calls_keep_their_requests_apart(telemetry: Telemetry) -> None:
    # Explicit parents, no attached context: tasks interleaving their steps on one loop must
    # not adopt each other's spans.
    emu = Emulator(clock="manual", image_phases=(1, 2))

    async def go() -> list[aurous.Generation]:
        async with emu.async_client(**telemetry.providers) as client:
            return list(
                await asyncio.gather(
                    *(client.images.create_and_wait(prompt=f"p{n}") for n in range(3))
                )
            )

    generations = asyncio.run(go())
    calls = telemetry.named("images.create_and_wait")
    assert len(calls) == 3
    for call in calls:
        generation_id = call.attributes["aurous.generation.id"]
        for http in telemetry.children(call):
            url = http.attributes["url.full"]
            assert http.name == "POST /v1/images" or url.endswith(generation_id)
    assert {c.attributes["aurous.generation.id"] for c in calls} == {g.id for g in generations}


# ---- retries, pacing, errors -------------------------------------------------------------------


@MODES
def test_a_retried_call_has_a_span_per_attempt_and_a_retry_event(
    mode: str, telemetry: Telemetry
) -> None:
    emu = Emulator(clock="manual")
    emu.faults.fail_next("GET /v1/balance", status=503)
    run(mode, emu, lambda c: c.balance.retrieve(), **telemetry.providers)
    call = telemetry.one("balance.retrieve")
    first, second = telemetry.children(call)
    assert first.attributes["http.response.status_code"] == 503
    assert first.attributes["error.type"] == "503"
    assert first.status.status_code is StatusCode.ERROR
    assert "http.request.resend_count" not in first.attributes
    assert second.attributes["http.response.status_code"] == 200
    assert second.attributes["http.request.resend_count"] == 1
    assert second.status.status_code is StatusCode.UNSET
    [retry] = events(call, "aurous.retry")
    assert retry["aurous.attempt"] == 2
    assert retry["aurous.retry.reason"] == "503 provider_unavailable"
    assert 0.8 <= retry["aurous.retry.delay"] <= 1.2
    assert call.status.status_code is StatusCode.UNSET  # the call succeeded
    requests = telemetry.metrics()["aurous.requests"]
    assert requests["unit"] == "{request}"
    by_status = {
        p["attributes"]["http.response.status_code"]: p["value"] for p in requests["points"]
    }
    assert by_status == {503: 1, 200: 1}


@MODES
def test_a_paced_call_records_its_wait_for_the_bucket(mode: str, telemetry: Telemetry) -> None:
    emu = Emulator(clock="manual", rate_limits={"reads": (1, 60)})
    run(
        mode,
        emu,
        lambda c: c.balance.retrieve(),
        lambda c: c.balance.retrieve(),
        **telemetry.providers,
    )
    first, second = telemetry.named("balance.retrieve")
    assert events(first, "aurous.pacing.wait") == []
    [wait] = events(second, "aurous.pacing.wait")
    assert wait["aurous.wait.kind"] == "rate_limit"
    assert wait["aurous.wait.bucket"] == "GET /v1/balance"
    assert wait["aurous.wait.seconds"] > 0
    [point] = telemetry.metrics()["aurous.pacing.wait"]["points"]
    assert point["attributes"] == {"aurous.wait.kind": "rate_limit"}
    assert point["count"] == 1
    assert point["sum"] == pytest.approx(wait["aurous.wait.seconds"])
    assert telemetry.metrics()["aurous.pacing.wait"]["unit"] == "s"


def test_a_create_held_for_a_concurrency_slot_records_the_wait(telemetry: Telemetry) -> None:
    emu = Emulator(clock="manual", concurrency_limit=1, image_phases=(2, 3))
    with emu.client(**telemetry.providers) as client:
        client.images.create(prompt="one")
        client.images.create(prompt="two")  # refused once (429), then held until a slot frees
    _, second = telemetry.named("images.create")
    statuses = [s.attributes["http.response.status_code"] for s in telemetry.children(second)]
    assert statuses == [429, 201]
    waits = events(second, "aurous.pacing.wait")
    assert waits
    assert {w["aurous.wait.kind"] for w in waits} == {"concurrency"}
    assert all(w["aurous.wait.seconds"] > 0 for w in waits)
    points = telemetry.metrics()["aurous.pacing.wait"]["points"]
    assert [p["attributes"] for p in points] == [{"aurous.wait.kind": "concurrency"}]


@MODES
def test_a_failed_call_is_an_error_span_with_the_exception(mode: str, telemetry: Telemetry) -> None:
    emu = Emulator(clock="manual")
    with pytest.raises(aurous.NotFoundError) as info:
        run(mode, emu, lambda c: c.images.retrieve(MISSING), **telemetry.providers)
    call = telemetry.one("images.retrieve")
    assert call.status.status_code is StatusCode.ERROR
    assert "resource_not_found" in (call.status.description or "")
    assert call.attributes["error.type"] == "aurous.NotFoundError"
    assert call.attributes["aurous.request_id"] == info.value.request_id
    [exception] = events(call, "exception")
    assert exception["exception.type"] == "aurous.NotFoundError"
    assert "resource_not_found" in exception["exception.message"]
    assert "NotFoundError" in exception["exception.stacktrace"]
    [http] = telemetry.children(call)
    assert http.attributes["error.type"] == "404"


@MODES
def test_a_failed_generation_carries_its_identity_and_no_charge(
    mode: str, telemetry: Telemetry
) -> None:
    emu = Emulator(clock="manual")
    emu.faults.fail_generation()
    with pytest.raises(aurous.GenerationFailedError) as info:
        run(
            mode,
            emu,
            lambda c: c.images.create_and_wait(prompt="x", raise_on_failure=True),
            **telemetry.providers,
        )
    call = telemetry.one("images.create_and_wait")
    assert call.status.status_code is StatusCode.ERROR
    assert call.attributes["error.type"] == "aurous.GenerationFailedError"
    assert info.value.generation is not None
    assert call.attributes["aurous.generation.id"] == info.value.generation.id
    assert call.attributes["aurous.generation.status"] == "failed"
    assert call.attributes["aurous.credits.charged"] == 0.0
    [point] = telemetry.metrics()["aurous.generation.duration"]["points"]
    assert point["attributes"]["aurous.generation.status"] == "failed"
    assert "aurous.credits.charged" not in telemetry.metrics()


# ---- batches, downloads, redirects -------------------------------------------------------------


@MODES
def test_a_batch_is_one_span_with_a_child_per_item(
    mode: str, telemetry: Telemetry, tmp_path: Path
) -> None:
    emu = Emulator(clock="manual", image_phases=(1, 1))
    [results] = run(
        mode,
        emu,
        lambda c: c.images.batch(["a", "b", "c"], concurrency=2, download_to=tmp_path),
        **telemetry.providers,
    )
    batch = telemetry.one("images.batch")
    assert batch.attributes["aurous.batch.size"] == 3
    assert batch.attributes["aurous.batch.failed"] == 0
    items = telemetry.children(batch)
    assert [i.name for i in items] == ["images.batch.item"] * 3
    by_index = {i.attributes["aurous.batch.index"]: i for i in items}
    assert sorted(by_index) == [0, 1, 2]
    for result in results:
        item = by_index[result.index]
        assert item.attributes["aurous.generation.id"] == result.generation.id
        assert item.attributes["aurous.idempotency_key"] == result.idempotency_key
        http = telemetry.children(item)
        assert http[0].name == "POST /v1/images"
        assert {s.kind for s in http} == {SpanKind.CLIENT}
        # Its own requests only: its create, its polls, its download.
        for span in http[1:]:
            assert result.generation.id in span.attributes["url.full"]
        [download] = events(item, "aurous.download")
        assert download["aurous.download.files"] == 1
    assert len({s.context.trace_id for s in telemetry.spans()}) == 1


def test_a_download_reports_its_bytes(telemetry: Telemetry, tmp_path: Path) -> None:
    emu = Emulator(instant=True)
    with emu.client(**telemetry.providers) as client:
        generation = client.images.create_and_wait(prompt="x")
        [path] = client.images.download(generation, tmp_path)
    call = telemetry.one("images.download")
    [download] = events(call, "aurous.download")
    assert download["aurous.download.bytes"] == path.stat().st_size
    assert download["aurous.download.files"] == 1
    assert download["aurous.download.seconds"] >= 0
    [http] = telemetry.children(call)
    assert http.attributes["url.template"] == "/v1/images/{generation_id}/output/{n}"
    assert "?" not in http.attributes["url.full"]


def test_a_redirect_hop_is_a_span_without_query_or_trace_context(
    telemetry: Telemetry, tmp_path: Path
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "api.test":
            location = "https://user:pw@cdn.test/out/0.png?token=s3cr3t"
            return httpx.Response(302, headers={"location": location})
        return httpx.Response(200, content=b"png", headers={"content-type": "image/png"})

    row = fixture("generation.succeeded.image.character")
    row["output_urls"] = [f"https://api.test/v1/images/{row['id']}/output/0?token=abc123"]
    generation = aurous.Generation.model_validate(row)
    http = httpx.Client(transport=httpx.MockTransport(handler))
    with aurous.Client(
        api_key="al_live_test", base_url="https://api.test", http_client=http, **telemetry.providers
    ) as client:
        client.images.download(generation, tmp_path)
    first, hop = telemetry.children(telemetry.one("images.download"))
    assert first.name == "GET /v1/images/{generation_id}/output/{n}"
    assert first.attributes["url.full"] == f"https://api.test/v1/images/{row['id']}/output/0"
    assert first.attributes["http.response.status_code"] == 302
    assert hop.name == "GET"
    assert hop.attributes["url.full"] == "https://REDACTED:REDACTED@cdn.test/out/0.png"
    assert hop.attributes["server.address"] == "cdn.test"
    assert hop.attributes["http.request.resend_count"] == 1
    assert "url.template" not in hop.attributes
    # The trace context goes to the API, not to the storage a signed URL points at.
    assert "traceparent" in seen[0].headers
    assert "traceparent" not in seen[1].headers


# ---- the client's other faces ------------------------------------------------------------------


def test_copies_and_raw_views_report_too(telemetry: Telemetry) -> None:
    emu = Emulator(clock="manual")
    with emu.client(**telemetry.providers) as client:
        client.with_options(max_retries=0).balance.retrieve()
        client.with_raw_response.team.retrieve()
        client.images.list(limit=2)
    assert [s.name for s in telemetry.spans() if s.kind is SpanKind.INTERNAL] == [
        "balance.retrieve",
        "team.retrieve",
        "images.list",
    ]


def test_metrics_of_generations(telemetry: Telemetry) -> None:
    emu = Emulator(clock="manual", image_phases=(2, 3))
    with emu.client(**telemetry.providers) as client:
        generation = client.images.create_and_wait(prompt="x")
        client.images.retrieve(generation.id)
        client.images.wait(generation.id)  # seen succeeded again: charged once all the same
    found = telemetry.metrics()
    duration = found["aurous.generation.duration"]
    assert duration["unit"] == "s"
    [point] = duration["points"]
    assert point["attributes"] == {"aurous.generation.status": "succeeded", "aurous.media": "image"}
    assert point["count"] == 2  # create_and_wait and wait
    assert point["max"] >= 5.0  # 2 s pending + 3 s processing, on the emulator's clock
    credits = found["aurous.credits.charged"]
    assert credits["unit"] == "{credit}"
    assert generation.cost is not None
    assert [p["value"] for p in credits["points"]] == [float(generation.cost.amount)]


def test_no_provider_means_no_observer_and_the_global_one_otherwise() -> None:
    # In this process OpenTelemetry is imported, so a client without providers reports to the
    # global ones; while none is configured each call is skipped before any work.
    client = aurous.Client(api_key="al_live_test")
    observer: Any = client._observer
    assert observer is not None
    assert observer.watch("balance.retrieve", client) is None


def test_a_cancelled_call_ends_its_spans(telemetry: Telemetry) -> None:
    emu = Emulator()

    async def go() -> None:
        async with emu.async_client(**telemetry.providers) as client:
            with emu.faults.pause("GET /v1/balance") as gate:
                task = asyncio.ensure_future(client.balance.retrieve())
                assert await asyncio.to_thread(gate.wait_reached)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task

    asyncio.run(go())
    call = telemetry.one("balance.retrieve")
    assert call.status.status_code is StatusCode.ERROR
    assert call.attributes["error.type"] == "cancelled"
    [http] = telemetry.children(call)
    assert http.attributes["error.type"] == "cancelled"
    assert http.end_time is not None
