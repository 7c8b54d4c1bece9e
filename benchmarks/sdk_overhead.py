"""Per-call overhead of the SDK against raw httpx, on the same server, in one run.

Measures ``GET /v1/images/{id}`` three ways against the emulator — in-process (through its httpx
transport, so only client-side cost differs) and over a loopback socket (the served emulator):

* raw httpx: ``http.get(url, headers=...)`` and ``response.json()``;
* aurous: ``client.images.retrieve(id)`` (headers, retry policy, parsing into a typed model).

Run: ``python benchmarks/sdk_overhead.py [--calls 2000]``. Prints calls/second and the ratio
aurous/raw (1.00 = no overhead). Numbers are from one run on a noisy machine: compare ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable

import httpx

import aurous
from aurous.emulator import Emulator


def _rate(fn: Callable[[], object], calls: int, rounds: int = 3) -> float:
    fn()  # warm up (schemas built, connections opened)
    best = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        best.append(calls / (time.perf_counter() - started))
    return statistics.median(best)


async def _arate(fn: Callable[[], object], calls: int, rounds: int = 3) -> float:
    await fn()  # type: ignore[misc]
    best = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            await fn()  # type: ignore[misc]
        best.append(calls / (time.perf_counter() - started))
    return statistics.median(best)


def _report(label: str, raw: float, sdk: float) -> None:
    print(f"{label:<34} raw httpx {raw:8.0f}/s   aurous {sdk:8.0f}/s   ratio {sdk / raw:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()

    emu = Emulator(rate_limits=False)
    seed = emu.client()
    gid = seed.images.create(prompt="benchmark").id
    headers = {"X-Api-Key": emu.api_key, "Aurous-Version": "2026-05-15"}

    with httpx.Client(transport=emu.transport, base_url=emu.base_url) as http:
        client = aurous.Client(api_key=emu.api_key, base_url=emu.base_url, http_client=http)
        raw = _rate(lambda: http.get(f"/v1/images/{gid}", headers=headers).json(), args.calls)
        sdk = _rate(lambda: client.images.retrieve(gid), args.calls)
        _report("in-process, sync", raw, sdk)

    async def in_process_async() -> None:
        async with httpx.AsyncClient(transport=emu.async_transport, base_url=emu.base_url) as http:
            client = aurous.AsyncClient(
                api_key=emu.api_key, base_url=emu.base_url, http_client=http
            )

            async def raw_call() -> object:
                return (await http.get(f"/v1/images/{gid}", headers=headers)).json()

            raw = await _arate(raw_call, args.calls)
            sdk = await _arate(lambda: client.images.retrieve(gid), args.calls)
            _report("in-process, async", raw, sdk)

    asyncio.run(in_process_async())

    calls = max(200, args.calls // 4)
    with (
        emu.serve(host="127.0.0.1", port=0) as server,
        httpx.Client(base_url=server.base_url) as http,
    ):
        client = aurous.Client(api_key=emu.api_key, base_url=server.base_url, http_client=http)
        raw = _rate(lambda: http.get(f"/v1/images/{gid}", headers=headers).json(), calls)
        sdk = _rate(lambda: client.images.retrieve(gid), calls)
        _report("loopback socket (served), sync", raw, sdk)


if __name__ == "__main__":
    main()
