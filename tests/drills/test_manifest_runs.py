"""Drill: several runs of one batch on one manifest, in threads and in processes.

One run owns the manifest (its first create is held at an emulator gate, so the others are sure
to arrive while it runs); every other run is refused with an error naming the manifest (and the
owner, when it can be known), before sending anything — under the same name, and under any other
that reaches the same file: a symlink, a hard link, a relative path, or the same name after the
``.lock`` file beside it was deleted. Afterwards the emulator holds one generation, and one
charge, per item; a run started after the owner finished, under any of those names, resumes
from the manifest and sends nothing. A manifest written by ``images.batch`` is refused by
``videos.batch`` (and the other way round) before anything is sent.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

import aurous
from aurous.emulator import Emulator

from ._support import Both, Corrupt, charged, generation_rows, python
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


NAMED_ITEMS = [f"one manifest, many names, item {i}" for i in range(12)]
NAMES = ["symlink", "hard link", "relative path", "lock file deleted"]


def _reach(kind: str, manifest: Path) -> Path:
    """Another name for ``manifest`` (whose run is in progress)."""
    folder = manifest.parent
    if kind == "symlink":
        link = folder / "alias.jsonl"
        link.symlink_to(manifest)
        return link
    if kind == "hard link":
        (folder / "other").mkdir()
        link = folder / "other" / "copy.jsonl"
        os.link(manifest, link)
        return link
    if kind == "relative path":
        return Path(os.path.relpath(manifest))
    assert kind == "lock file deleted"
    for lock in folder.glob("*.lock"):
        lock.unlink()
    return manifest


def _recording(made: list[Corrupt]) -> Any:
    def wrap(inner: Any) -> Corrupt:
        made.append(Corrupt(inner, lambda request: False, lambda response: response, times=0))
        return made[-1]

    return wrap


def test_other_names(both: Both, tmp_path: Path, figures: Figures) -> None:
    emu = Emulator(clock="manual", instant=True, rate_limits=False)
    manifest = tmp_path / "run.jsonl"
    owner = both.emulated(emu)
    made: list[Corrupt] = []
    contender = both.emulated(emu, wrap=_recording(made))
    names = {}
    refused: list[str] = []

    async def contend_async() -> None:
        for kind in NAMES:
            names[kind] = _reach(kind, manifest)
            try:
                await contender.images.batch(NAMED_ITEMS, manifest=names[kind], concurrency=4)
            except aurous.AurousError as error:
                refused.append(str(error))

    def contend() -> None:
        for kind in NAMES:
            names[kind] = _reach(kind, manifest)
            try:
                contender.images.batch(NAMED_ITEMS, manifest=names[kind], concurrency=4)
            except aurous.AurousError as error:
                refused.append(str(error))

    results: list[Any] = []
    with emu.faults.pause("POST /v1/images") as gate:
        if both.is_async:
            assert both.loop is not None
            task = both.loop.create_task(
                owner.images.batch(NAMED_ITEMS, manifest=manifest, concurrency=4)
            )

            async def scenario() -> None:
                while not gate.wait_reached(0):
                    await asyncio.sleep(0.005)
                try:
                    await contend_async()
                finally:
                    gate.release()
                results.extend(await task)

            both(scenario())
        else:
            worker = threading.Thread(
                target=lambda: results.extend(
                    owner.images.batch(NAMED_ITEMS, manifest=manifest, concurrency=4)
                )
            )
            worker.start()
            try:
                assert gate.wait_reached(20)
                contend()
            finally:
                gate.release()
                worker.join(20)

    assert len(refused) == len(NAMES), refused
    assert all("is in use by" in message for message in refused)
    assert made[0].requests == []  # the refused runs sent nothing
    assert [r.ok for r in results] == [True] * len(NAMED_ITEMS)
    assert len(generation_rows(emu)) == len(NAMED_ITEMS)
    assert charged(emu) == len(NAMED_ITEMS)

    # The owner is done: under every name, a run resumes and sends nothing.
    for kind in NAMES:
        again = both(contender.images.batch(NAMED_ITEMS, manifest=names[kind]))
        assert all(r.skipped for r in again)
    assert made[0].requests == []
    figures.add(
        runs_started=1 + 2 * len(NAMES),
        refused=len(refused),
        items=len(NAMED_ITEMS),
        generations=len(generation_rows(emu)),
        credits_charged=charged(emu),
    )
    emu.close()


@pytest.mark.slow
def test_other_names_in_processes(tmp_path: Path, figures: Figures) -> None:
    emu = Emulator(instant=True, rate_limits=False)
    manifest = tmp_path / "run.jsonl"
    prompts = json.dumps(NAMED_ITEMS)
    kinds = ["symlink", "hard link", "lock file deleted"]
    with emu.serve() as server, emu.faults.pause("POST /v1/images") as gate:
        owner = python(_RUN, server.base_url, emu.api_key, str(manifest), prompts)
        try:
            assert gate.wait_reached(20), owner.stderr.read() if owner.stderr else ""
            outcomes = []
            for kind in kinds:
                name = str(_reach(kind, manifest))
                child = python(_RUN, server.base_url, emu.api_key, name, prompts)
                outcomes.append((child.communicate(timeout=30), child.returncode))
        finally:
            gate.release()
        out, err = owner.communicate(timeout=60)

    assert owner.returncode == 0, err
    assert json.loads(out)["ok"] == [True] * len(NAMED_ITEMS)
    assert [code for _, code in outcomes] == [3] * len(kinds), outcomes
    for (stdout, _), _code in outcomes:
        assert "is in use by" in json.loads(stdout)["refused"]
    assert len(generation_rows(emu)) == len(NAMED_ITEMS)
    assert charged(emu) == len(NAMED_ITEMS)
    figures.add(
        runs_started=1 + len(kinds),
        refused=len(kinds),
        items=len(NAMED_ITEMS),
        generations=len(generation_rows(emu)),
        credits_charged=charged(emu),
    )
    emu.close()


@pytest.mark.parametrize(("writer", "reader"), [("images", "videos"), ("videos", "images")])
def test_the_other_media(
    writer: str, reader: str, both: Both, tmp_path: Path, figures: Figures
) -> None:
    emu = Emulator(clock="manual", instant=True, rate_limits=False)
    manifest = tmp_path / "run.jsonl"
    made: list[Corrupt] = []
    client = both.emulated(emu, wrap=_recording(made))
    first = both(getattr(client, writer).batch(NAMED_ITEMS, manifest=manifest, concurrency=4))
    assert all(r.ok for r in first)
    sent = len(made[0].requests)
    with pytest.raises(ValueError, match=rf"{reader}\.batch cannot resume it") as caught:
        both(getattr(client, reader).batch(NAMED_ITEMS, manifest=manifest))
    assert str(manifest) in str(caught.value)
    assert len(made[0].requests) == sent
    assert len(generation_rows(emu)) == len(NAMED_ITEMS)
    figures.add(
        other_media_runs=1,
        other_media_refused=1,
        other_media_requests_sent=len(made[0].requests) - sent,
    )
    emu.close()
