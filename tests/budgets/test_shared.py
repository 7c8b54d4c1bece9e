"""Named budgets on a shared store: one budget for every client — and every process — using
the name, through a real Redis and through the one-host file store."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import aurous
from aurous._store import open_store
from aurous.emulator import Emulator

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(params=["redis", "file"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each shared store in turn: a real Redis (skipped without redis-server), a directory."""
    if request.param == "redis":
        return str(request.getfixturevalue("redis_url"))
    return f"file://{tmp_path / 'store'}"


@pytest.fixture
def name() -> str:
    """A budget name of its own: the session's Redis is shared by the tests of a worker."""
    return f"test:{uuid.uuid4().hex[:12]}"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    emulator = Emulator(instant=True)
    yield emulator
    emulator.close()


def test_two_clients_using_the_name_share_one_budget(
    emu: Emulator, store_url: str, name: str
) -> None:
    first = emu.client(pacing=store_url)
    second = emu.client(pacing=store_url)
    mine = first.with_options(budget=aurous.Budget(max_credits=3, name=name))
    budget = aurous.Budget(max_credits=3, name=name)
    theirs = second.with_options(budget=budget, tags={"user": "42"})
    assert budget.shared
    assert "shared" in repr(budget)

    mine.images.create(prompt="one", count=2)
    assert budget.held == 2  # read from the store: the other client's create counts here
    theirs.images.create(prompt="two")
    with pytest.raises(aurous.BudgetExceededError) as caught:
        mine.images.create(prompt="three")
    assert caught.value.name == name
    assert f"budget {name!r}" in str(caught.value)
    assert len(emu.team.generations) == 2
    assert budget.by_tag("user") == {"42": 1}


def test_an_async_client_shares_it_too(emu: Emulator, store_url: str, name: str) -> None:
    import asyncio

    budget = aurous.Budget(max_credits=2, name=name)

    async def main() -> list[Any]:
        async with emu.async_client(pacing=store_url) as client:
            mine = client.with_options(budget=budget)
            return await asyncio.gather(
                *(mine.images.create(prompt=f"p{i}") for i in range(5)), return_exceptions=True
            )

    results = asyncio.run(main())
    assert sum(isinstance(r, aurous.Generation) for r in results) == 2
    assert sum(isinstance(r, aurous.BudgetExceededError) for r in results) == 3
    sync = emu.client(pacing=store_url).with_options(budget=aurous.Budget(2, name=name))
    assert sync._flow.budget is not None
    assert sync._flow.budget.held == 2


def test_a_budget_that_cannot_reach_its_store_refuses(
    emu: Emulator, store_url: str, name: str
) -> None:
    client = emu.client(pacing=store_url)
    mine = client.with_options(budget=aurous.Budget(max_credits=10, name=name))
    mine.images.create(prompt="while the store is up")
    store: Any = open_store(store_url, base_url=emu.base_url, api_key=emu.api_key)
    store._down_until = time.monotonic() + 60  # as after a failure: the fallback paces
    try:
        with pytest.raises(aurous.BudgetExceededError, match="cannot be checked"):
            mine.images.create(prompt="while it is not")
    finally:
        store._down_until = 0.0
    assert len(emu.team.generations) == 1


def test_a_named_budget_stays_in_its_store(emu: Emulator, tmp_path: Path, name: str) -> None:
    local = emu.client(pacing=True)
    shared = emu.client(pacing=f"file://{tmp_path / 'a'}")
    elsewhere = emu.client(pacing=f"file://{tmp_path / 'b'}")
    bound = aurous.Budget(max_credits=5, name=name)
    shared.with_options(budget=bound)
    with pytest.raises(ValueError, match="cannot move"):
        elsewhere.with_options(budget=bound)
    # A client without a shared store may use a bound budget: its books stay in the store.
    local.with_options(budget=bound).images.create(prompt="y")
    assert bound.held == 1
    assert aurous.Budget(5, name=name).held == 0  # the process's books of the name: unused


_WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    import aurous

    base_url, api_key, store, name, cap, tries, start = sys.argv[1:]
    client = aurous.Client(api_key=api_key, base_url=base_url, pacing=store)
    budget = aurous.Budget(max_credits=float(cap), name=name)
    mine = client.with_options(budget=budget, tags={"worker": str(os.getpid())})
    while not os.path.exists(start):
        time.sleep(0.005)
    made = refused = 0
    for n in range(int(tries)):
        try:
            mine.images.create_and_wait(prompt=f"worker {os.getpid()} #{n}", poll_interval=0.05)
            made += 1
        except aurous.BudgetExceededError:
            refused += 1
    print(json.dumps({"made": made, "refused": refused}))
    """
)


@pytest.mark.slow
def test_processes_using_the_name_share_one_cap(store_url: str, name: str, tmp_path: Path) -> None:
    emulator = Emulator(instant=True)
    start = tmp_path / "go"
    cap, workers, tries = 7, 4, 4
    try:
        with emulator.serve() as server:
            argv = [server.base_url, emulator.api_key, store_url, name, str(cap), str(tries)]
            env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
            children = [
                subprocess.Popen(
                    [sys.executable, "-c", _WORKER, *argv, str(start)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=env,
                )
                for _ in range(workers)
            ]
            time.sleep(1.0)  # every worker has imported aurous and is waiting
            start.touch()
            reports = []
            for child in children:
                out, err = child.communicate(timeout=120)
                assert child.returncode == 0, err
                reports.append(json.loads(out))
            budget = aurous.Budget(max_credits=cap, name=name)
            aurous.Client(
                api_key=emulator.api_key, base_url=server.base_url, pacing=store_url
            ).with_options(budget=budget)
            spent, held, entries = budget.spent, budget.held, budget.entries
    finally:
        emulator.close()
    assert sum(r["made"] for r in reports) == cap
    assert sum(r["refused"] for r in reports) == workers * tries - cap
    assert len(emulator.team.generations) == cap
    assert (spent, held) == (cap, 0)
    assert len({e.tags["worker"] for e in entries}) >= 1
    assert len(entries) == cap
