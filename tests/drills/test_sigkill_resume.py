"""Drill: a batch process killed with SIGKILL mid-flight, then resumed in-process.

A real subprocess runs ``images.batch(..., manifest=…, download_to=…)`` against a served emulator.
An emulator gate holds the first two output downloads (after their temporary files were
created), and the subprocess's own transport withholds the answer to one create the server has
committed, so the drill can wait for an observable state — every other item finished in the
manifest, the held create's generation on the server, a ``.part`` file per held download — and
then kill the process with SIGKILL: no clean-up runs.

The resumed run must finish every item with no duplicate generation and no double charge (the
recorded keys replay what the dead run had started), and leave no orphan ``.part`` file.
"""

from __future__ import annotations

import signal
from pathlib import Path

from aurous.emulator import Emulator

from ._support import Both, charged, generation_rows, manifest_records, python, starts, wait_until
from .conftest import Figures

PROMPTS = [f"killed and resumed, item {i}" for i in range(8)]
CONCURRENCY = 4

HELD_CREATE = 5
HELD_DOWNLOADS = 2

_BATCH = """
import sys, threading
import httpx, aurous

class WithholdOneAnswer(httpx.HTTPTransport):
    # The create of item 5 reaches the server (which commits it); its answer never comes back.
    def handle_request(self, request):
        response = super().handle_request(request)
        if request.method == "POST" and b"item 5" in request.content:
            response.read()
            threading.Event().wait()
        return response

http = httpx.Client(transport=WithholdOneAnswer())
client = aurous.Client(api_key=sys.argv[2], base_url=sys.argv[1], http_client=http)
client.images.batch(sys.argv[5:], concurrency=int(sys.argv[4]), manifest=sys.argv[3],
                    download_to=sys.argv[3] + ".out", poll_interval=0.05)
print("finished", flush=True)  # never reached: the drill kills it first
"""


def _finished(manifest: Path) -> int:
    return sum(1 for r in manifest_records(manifest) if r.get("event") == "finish")


def _held_create_committed(emu: Emulator) -> bool:
    return any(row.prompt == PROMPTS[HELD_CREATE] for row in generation_rows(emu))


def test_sigkill_mid_batch_then_resume(both: Both, tmp_path: Path, figures: Figures) -> None:
    emu = Emulator(instant=True, rate_limits=False)
    manifest = tmp_path / "run.jsonl"
    out = Path(str(manifest) + ".out")
    with emu.serve() as server:
        output_gate = emu.faults.pause("GET /v1/images/*/output/*", times=HELD_DOWNLOADS)
        child = python(
            _BATCH, server.base_url, emu.api_key, str(manifest), str(CONCURRENCY), *PROMPTS
        )
        in_flight = 1 + HELD_DOWNLOADS
        try:
            wait_until(lambda: starts(manifest) == len(PROMPTS), "a start record per item")
            wait_until(
                lambda: _finished(manifest) == len(PROMPTS) - in_flight,
                "every item but the held ones finished",
            )
            wait_until(lambda: _held_create_committed(emu), "the held create committed")
            wait_until(
                lambda: len(list(out.glob(".*.part"))) == HELD_DOWNLOADS,
                "a .part file per held download",
            )
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=20)
            for stream in (child.stdin, child.stdout, child.stderr):
                if stream is not None:
                    stream.close()
        assert child.returncode == -signal.SIGKILL
        orphans = sorted(out.glob(".*.part"))
        killed_records = manifest_records(manifest)
        assert len(orphans) == HELD_DOWNLOADS
        assert len(generation_rows(emu)) == len(PROMPTS)  # the held create was committed too
        output_gate.release()
        assert emu.wait_abandoned(timeout=20)

        client = both.served(server.base_url, emu.api_key)
        results = both(
            client.images.batch(
                PROMPTS,
                concurrency=CONCURRENCY,
                manifest=manifest,
                download_to=out,
                poll_interval=0.05,
            )
        )

    assert [r.ok for r in results] == [True] * len(PROMPTS), [r.error for r in results]
    recorded = {
        r["index"]: r["idempotency_key"] for r in killed_records if r.get("event") == "start"
    }
    done = {r["index"] for r in killed_records if r.get("event") == "finish"}
    for index, key in recorded.items():
        assert results[index].idempotency_key == key
    assert {r.index for r in results if r.skipped} == done
    rows = generation_rows(emu)
    assert len(rows) == len(PROMPTS)
    assert {r.generation.id for r in results if r.generation} == {row.id for row in rows}
    assert charged(emu) == len(PROMPTS)
    assert list(out.glob(".*.part")) == []
    assert all(orphan.exists() is False for orphan in orphans)
    files = sorted(p for p in out.iterdir())
    assert len(files) == len(PROMPTS)
    figures.add(
        items=len(PROMPTS),
        killed_in_flight=len(recorded) - len(done),
        orphan_parts_found=len(orphans),
        orphan_parts_left=len(list(out.glob(".*.part"))),
        generations=len(rows),
        credits_charged=charged(emu),
        files=len(files),
    )
    emu.close()
