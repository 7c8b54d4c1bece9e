"""A fleet paces one team through a shared store: real Redis and the one-host directory store.

Worker processes are real processes (subprocesses); the server is the served emulator with
small limits, so a fleet that did not share its pacing would be refused again and again.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import aurous
import aurous._pacing
from aurous._pacing import GATE, Gate
from aurous._store import open_store, team_key
from aurous.emulator import Emulator

from .._redis import RedisServer

WORKER = textwrap.dedent(
    """
    import asyncio, json, sys, time
    import httpx
    import aurous

    base_url, key, pacing, callers, mode = sys.argv[1:6]
    pacing = True if pacing == "true" else pacing
    refused = []

    def count(response):
        if response.status_code == 429:
            refused.append(1)

    if mode == "async":
        async def main():
            http = httpx.AsyncClient(event_hooks={"response": [_acount]}, timeout=30)
            async with aurous.AsyncClient(api_key=key, base_url=base_url, pacing=pacing,
                                          http_client=http) as client:
                await asyncio.gather(*(client.images.create_and_wait(
                    prompt=f"w{n}", poll_interval=0.1) for n in range(int(callers))))
            await http.aclose()

        async def _acount(response):
            count(response)

        asyncio.run(main())
    else:
        from concurrent.futures import ThreadPoolExecutor
        http = httpx.Client(event_hooks={"response": [count]}, timeout=30)
        client = aurous.Client(api_key=key, base_url=base_url, pacing=pacing, http_client=http)
        with ThreadPoolExecutor(int(callers)) as pool:
            list(pool.map(lambda n: client.images.create_and_wait(prompt=f"w{n}",
                                                                  poll_interval=0.1),
                          range(int(callers))))
    print(json.dumps({"refused": len(refused)}))
    """
)


@pytest.fixture
def served() -> Iterator[tuple[Emulator, str]]:
    emu = Emulator(concurrency_limit=2, image_phases=(0.2, 0.6), credits=100_000)
    with emu.serve() as server:
        yield emu, server.base_url
    emu.close()


def _workers(base_url: str, key: str, pacing: str, n: int, callers: int, mode: str) -> list[Any]:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, base_url, key, pacing, str(callers), mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    reports = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return reports


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_worker_processes_share_the_concurrency_limit(
    served: tuple[Emulator, str], store_url: str, mode: str
) -> None:
    emu, base_url = served
    reports = _workers(base_url, emu.api_key, store_url, n=4, callers=3, mode=mode)
    # 12 generations through a limit of 2 shared by 4 processes: the first refusal teaches the
    # limit to all of them. Each process alone would be refused again and again.
    assert sum(r["refused"] for r in reports) <= 3
    assert len(emu.team.generations) == 12


@pytest.mark.slow
def test_without_a_shared_store_the_same_fleet_is_refused_more(
    served: tuple[Emulator, str],
) -> None:
    emu, base_url = served
    reports = _workers(base_url, emu.api_key, "true", n=4, callers=3, mode="async")
    assert sum(r["refused"] for r in reports) > 3


def _gate(url: str, key: str, base_url: str) -> Gate:
    store = open_store(url, base_url=base_url, api_key=key)
    gate: Gate = store.apply(GATE, Gate, lambda gate, now: (gate, gate.expire(now)))
    return gate


HOLDER = textwrap.dedent(
    """
    import sys, time
    import aurous
    base_url, key, pacing = sys.argv[1:4]
    client = aurous.Client(api_key=key, base_url=base_url, pacing=pacing)
    for n in range(2):
        client.images.create(prompt=f"held {n}")
    print("holding", flush=True)
    time.sleep(600)
    """
)


@pytest.mark.slow
def test_a_killed_worker_gives_its_slots_back_within_the_lease(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = Emulator(image_phases=(0.0, 600.0), credits=100_000)
    with emu.serve() as server:
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, server.base_url, emu.api_key, store_url],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "holding"
            assert len(_gate(store_url, emu.api_key, server.base_url).tracked) == 2
            holder.send_signal(signal.SIGKILL)
            holder.wait(10)
            killed = time.monotonic()
            # Checked with a shorter lease than the default 30 s, to keep the test short.
            monkeypatch.setattr(aurous._pacing, "OWNER_LEASE", 3.0)
            while _gate(store_url, emu.api_key, server.base_url).tracked:
                assert time.monotonic() - killed < 3.0 + 10.0 + 2.0, "slots still held"
                time.sleep(0.2)
        finally:
            holder.kill()
            holder.wait(10)
    emu.close()


def test_the_store_never_holds_the_api_key(redis_url: str) -> None:
    import redis

    emu = Emulator(credits=100_000)
    client = emu.client(pacing=redis_url)
    client.images.create(prompt="x")
    client.balance.retrieve()
    raw = redis.Redis.from_url(redis_url)
    keys = raw.keys("*")
    assert keys
    team = team_key(client.base_url, emu.api_key)
    for key in keys:
        assert emu.api_key.encode() not in key
        assert key.startswith(f"aurous:{team}:".encode())
        for value in raw.hgetall(key).values():
            assert emu.api_key.encode() not in value
    raw.close()
    emu.close()


def test_two_teams_on_one_store_do_not_share(store_url: str) -> None:
    one = Emulator(credits=100_000, api_key="al_test_" + "1" * 32)
    two = Emulator(credits=100_000, api_key="al_test_" + "2" * 32)
    a = one.client(pacing=store_url)
    b = two.client(pacing=store_url)
    a.images.create(prompt="a")
    assert a._pacer is not None
    assert b._pacer is not None
    assert a._pacer.store is not b._pacer.store
    assert len(a._pacer.gate.tracked) == 1
    b.balance.retrieve()
    assert b._pacer.store.peek(GATE, Gate) is None
    one.close()
    two.close()


def test_a_stopped_redis_costs_no_call(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    import redis as redis_py

    redis_py.Redis.from_url(redis_server.url).flushall()
    emu = Emulator(credits=100_000, api_key="al_test_" + "s" * 32)
    client = emu.client(pacing=redis_server.url)
    client.images.create(prompt="before")
    redis_server.stop()
    try:
        with caplog.at_level(logging.WARNING, logger="aurous"):
            for n in range(5):
                client.images.create(prompt=f"during {n}")  # paced in the process meanwhile
                client.balance.retrieve()
        warnings = [r for r in caplog.records if "unavailable" in r.getMessage()]
        assert len(warnings) == 1
        assert redis_server.url.split("@")[-1].split("/")[2] in warnings[0].getMessage()
    finally:
        redis_server.start()
    store = client._pacer.store if client._pacer is not None else None
    assert store is not None
    deadline = time.monotonic() + 40
    while not store.available and time.monotonic() < deadline:
        time.sleep(0.2)
    with caplog.at_level(logging.WARNING, logger="aurous"):
        client.images.create(prompt="after")
    assert any("is back" in r.getMessage() for r in caplog.records)
    emu.close()


def test_a_slow_store_is_left_for_the_process(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aurous._store import _shared

    emu = Emulator(credits=100_000, api_key="al_test_" + "w" * 32)
    client = emu.client(pacing=store_url)
    assert client._pacer is not None
    store = client._pacer.store
    backend = store.backend  # type: ignore[attr-defined]

    def slow(*args: Any) -> Any:
        raise _shared.StoreUnavailable("answered after 60 ms")

    monkeypatch.setattr(backend, "cas", slow)
    generation = client.images.create(prompt="still created")
    assert generation.id
    assert not store.available  # type: ignore[attr-defined]
    emu.close()


def test_the_environment_variable_configures_a_fleet(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUROUS_PACING_URL", store_url)
    client = aurous.Client(api_key="al_test_env")
    assert client._pacer is not None
    assert client._pacer.store.shared
    assert aurous.Client(api_key="al_test_env", pacing=True)._pacer.store.shared is False  # type: ignore[union-attr]
    assert aurous.Client(api_key="al_test_env", pacing=False)._pacer is None


def test_a_bad_store_url_is_refused_naming_the_schemes() -> None:
    with pytest.raises(ValueError, match=r"redis://.*file://"):
        aurous.Client(api_key="al_test_x", pacing="memcached://localhost")
    with pytest.raises(ValueError, match="absolute directory"):
        aurous.Client(api_key="al_test_x", pacing="file://relative/dir")


def test_without_redis_py_a_redis_url_gives_an_install_hint() -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "import aurous\n"
        "try:\n"
        "    aurous.Client(api_key='al_test_x', pacing='redis://127.0.0.1:1/0')\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "pip install 'aurous[redis]'" in out.stdout


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
# Forking a process with threads (the served emulator's) is the very case under test:
# gunicorn --preload forks after the parent used the client.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_worker_takes_its_own_identity(store_url: str, tmp_path: Path) -> None:
    emu = Emulator(credits=100_000, api_key="al_test_" + "f" * 32)
    with emu.serve() as server:
        client = aurous.Client(api_key=emu.api_key, base_url=server.base_url, pacing=store_url)
        client.balance.retrieve()  # gunicorn --preload: the parent used the client first
        assert client._pacer is not None
        parent_owner = client._pacer.store.owner
        result = tmp_path / "child"
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through a file
            try:
                client.images.create(prompt="from the child")
                result.write_text(client._pacer.store.owner)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        child_owner = result.read_text()
        assert child_owner
        assert child_owner != parent_owner
        gate = _gate(store_url, emu.api_key, server.base_url)
        assert any(owner == child_owner for owner, _ in gate.tracked.values())
    emu.close()
