"""Fixtures of the tracing tests: the real OpenTelemetry SDK with its in-memory exporters."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


class Telemetry:
    """A tracer provider and a meter provider, with what they recorded."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    @property
    def providers(self) -> dict[str, Any]:
        """The client options that report here."""
        return {"tracer_provider": self.tracer_provider, "meter_provider": self.meter_provider}

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.name == name]

    def one(self, name: str) -> ReadableSpan:
        [span] = self.named(name)
        return span

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        """The spans whose parent is ``parent``, in the order they ended."""
        return [
            s
            for s in self.spans()
            if s.parent is not None and s.parent.span_id == parent.context.span_id
        ]

    def metrics(self) -> dict[str, dict[str, Any]]:
        """Each metric by name: its unit and data points (attributes and value/sum/count)."""
        data = json.loads(self.reader.get_metrics_data().to_json())
        found: dict[str, dict[str, Any]] = {}
        for resource in data["resource_metrics"]:
            for scope in resource["scope_metrics"]:
                for metric in scope["metrics"]:
                    found[metric["name"]] = {
                        "unit": metric["unit"],
                        "points": metric["data"]["data_points"],
                    }
        return found


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    t = Telemetry()
    yield t
    t.tracer_provider.shutdown()
    t.meter_provider.shutdown()


def events(span: ReadableSpan, name: str) -> list[dict[str, Any]]:
    """The attributes of each event ``name`` of ``span``."""
    return [dict(e.attributes or {}) for e in span.events if e.name == name]


def run(mode: str, emu: Any, *calls: Any, **options: Any) -> list[Any]:
    """Make each of ``calls`` (``fn(client)``) in turn on a sync or async client of ``emu``."""
    if mode == "sync":
        with emu.client(**options) as client:
            return [fn(client) for fn in calls]

    async def go() -> list[Any]:
        async with emu.async_client(**options) as client:
            results = []
            for fn in calls:
                result = fn(client)
                if inspect.isawaitable(result):
                    result = await result
                results.append(result)
            return results

    return asyncio.run(go())
