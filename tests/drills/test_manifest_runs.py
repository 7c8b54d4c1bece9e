"""Drill: several runs of one batch on one manifest, in threads and in processes.

One run owns the manifest (its first create is held at an emulator gate, so the others are sure
to arrive while it runs); every other run is refused with an error naming the manifest and the
owner, before sending anything. Afterwards the emulator holds one generation, and one charge,
per item; a run started after the owner finished resumes from the manifest and sends nothing.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pytest

import aurous
from aurous.emulator import Emulator

from ._support import Both, charged, generation_rows, python
from .conftest import Figures

PROMPTS = [f"one manifest, item {i}" for i in range(6)]
CONTENDERS = 3


def test_threads_and_tasks(both: Both, tmp_path: Path, figures: Figures) -> None:
    emu = Emulator(clock="manual", instant=True, rate_limits=False)
    manifest = tmp_path / "run.jsonl"
    owner = both.emulated(emu)
    refused: list[BaseException] = []
    with emu.faults.pause("POST /v1/images") as gate:
        results: list[Any] = []
        if both.is_async:
            assert both.loop is not None
            task = both.loop.create_task(owner.images.batch(PROMPTS, manifest=manifest))

            async def contend() -> None:
                while not gate.wait_reached(0):
                    await asyncio.sleep(0.005)
                for _ in range(CONTENDERS):
                    try:
                        await both.emulated(emu).images.batch(PROMPTS, manifest=manifest)
                    except aurous.AurousError as error:
                        refused.append(error)
                gate.release()
                results.extend(await task)

            both(contend())
        else:
            worker = threading.Thread(
                target=lambda: results.extend(owner.images.batch(PROMPTS, manifest=manifest))
            )
            worker.start()
            assert gate.wait_reached(20)
            barrier = threading.Barrier(CONTENDERS)

            def contend() -> None:
                barrier.wait(20)
                try:
                    both.emulated(emu).images.batch(PROMPTS, manifest=manifest)
                except aurous.AurousError as error:
                    refused.append(error)

            threads = [threading.Thread(target=contend) for _ in range(CONTENDERS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(20)
            gate.release()
            worker.join(20)

    assert len(refused) == CONTENDERS
    for error in refused:
        assert str(manifest) in str(error)
        assert "in use by process" in str(error)
    assert all(r.ok for r in results)
    assert len(generation_rows(emu)) == len(PROMPTS)
    assert charged(emu) == len(PROMPTS)

    # Once the owner is done the manifest is free: a new run resumes and sends no create.
    again = both(both.emulated(emu).images.batch(PROMPTS, manifest=manifest))
    assert all(r.skipped for r in again)
    assert len(generation_rows(emu)) == len(PROMPTS)
    figures.add(
        runs_started=1 + CONTENDERS + 1,
        refused=len(refused),
        items=len(PROMPTS),
        generations=len(generation_rows(emu)),
        credits_charged=charged(emu),
    )
    emu.close()


_RUN = """
import json, sys
import aurous
client = aurous.Client(api_key=sys.argv[2], base_url=sys.argv[1])
try:
    results = client.images.batch(json.loads(sys.argv[4]), manifest=sys.argv[3])
except aurous.AurousError as error:
    print(json.dumps({"refused": str(error)}), flush=True)
    sys.exit(3)
print(json.dumps({"ok": [r.ok for r in results], "skipped": [r.skipped for r in results]}))
"""


@pytest.mark.slow
def test_processes(tmp_path: Path, figures: Figures) -> None:
    emu = Emulator(instant=True, rate_limits=False)
    manifest = tmp_path / "run.jsonl"
    prompts = json.dumps(PROMPTS)
    with emu.serve() as server, emu.faults.pause("POST /v1/images") as gate:
        args = (server.base_url, emu.api_key, str(manifest), prompts)
        owner = python(_RUN, *args)
        try:
            assert gate.wait_reached(20), owner.stderr.read() if owner.stderr else ""
            contenders = [python(_RUN, *args) for _ in range(CONTENDERS)]
            outcomes = [child.communicate(timeout=30) for child in contenders]
            codes = [child.returncode for child in contenders]
        finally:
            gate.release()
        out, err = owner.communicate(timeout=60)

    assert owner.returncode == 0, err
    assert json.loads(out)["ok"] == [True] * len(PROMPTS)
    assert codes == [3] * CONTENDERS, outcomes
    for stdout, _ in outcomes:
        message = json.loads(stdout)["refused"]
        assert str(manifest) in message
        assert f"process {owner.pid}" in message
    assert len(generation_rows(emu)) == len(PROMPTS)
    assert charged(emu) == len(PROMPTS)
    figures.add(
        runs_started=1 + CONTENDERS,
        refused=CONTENDERS,
        items=len(PROMPTS),
        generations=len(generation_rows(emu)),
        credits_charged=charged(emu),
    )
    emu.close()
