"""When tracing is on: OpenTelemetry's global providers once the program imported it, nothing at
all when it never did. Each case runs in a fresh interpreter, so the global state stays clean."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_program_that_never_imports_opentelemetry_loads_none_of_it() -> None:
    out = _run(
        """
        import sys
        import aurous
        from aurous.emulator import Emulator

        emu = Emulator(clock="manual")
        client = emu.client()
        client.images.create_and_wait(prompt="a lighthouse")
        client.balance.retrieve()
        loaded = sorted(m for m in sys.modules if m.startswith(("opentelemetry", "aurous._otel")))
        print(client._observer, loaded)
        """
    )
    assert out.strip() == "None []"


def test_the_global_providers_are_used_once_opentelemetry_is_imported() -> None:
    out = _run(
        """
        import json
        from opentelemetry import metrics, trace
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from aurous.emulator import Emulator

        emu = Emulator(clock="manual")
        client = emu.client()  # before any provider is set: it reports once one is
        nothing_yet = client._observer.watch("balance.retrieve", client) is None
        client.balance.retrieve()

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        reader = InMemoryMetricReader()
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
        client.balance.retrieve()
        names = [s.name for s in exporter.get_finished_spans()]
        data = json.loads(reader.get_metrics_data().to_json())
        metric_names = [
            m["name"]
            for r in data["resource_metrics"]
            for s in r["scope_metrics"]
            for m in s["metrics"]
        ]
        print(json.dumps({"nothing_yet": nothing_yet, "spans": names, "metrics": metric_names}))
        """
    )
    found = json.loads(out)
    assert found["nothing_yet"] is True
    assert found["spans"] == ["GET /v1/balance", "balance.retrieve"]
    assert found["metrics"] == ["aurous.requests"]
