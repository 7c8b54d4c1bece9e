"""In-process throughput of the emulator: ``GET /v1/images/{id}`` through the httpx transport.

Plain httpx (no SDK), one client, one generation. The ``reads`` bucket is enlarged so the
measurement covers the full pipeline (auth, version, scope, rate-limit arithmetic, lifecycle
tick, rendering) without ever answering 429.

    python benchmarks/emulator_throughput.py [--requests 20000]
"""

from __future__ import annotations

import argparse
import json
import time

import httpx

from aurous.emulator import Emulator, EmuRequest


def measure(requests: int) -> float:
    """Requests per second for ``requests`` sequential GETs of one generation."""
    emu = Emulator(clock="manual", rate_limits={"reads": (10**9, 10**9)})
    with httpx.Client(
        transport=emu.transport, base_url=emu.base_url, headers={"X-Api-Key": emu.api_key}
    ) as http:
        gen_id = http.post("/v1/images", json={"prompt": "benchmark"}).json()["id"]
        emu.advance(5)
        path = f"/v1/images/{gen_id}"
        for _ in range(200):  # warm-up
            http.get(path)
        start = time.perf_counter()
        for _ in range(requests):
            response = http.get(path)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200
    return requests / elapsed


def measure_core(requests: int) -> float:
    """The same request handed straight to the IO-free core (no httpx), for comparison."""
    emu = Emulator(clock="manual", rate_limits={"reads": (10**9, 10**9)})
    headers = {"X-Api-Key": emu.api_key}
    created = emu.handle(
        EmuRequest.build("POST", "/v1/images", headers=headers, body=b'{"prompt":"benchmark"}')
    )
    gen_id = json.loads(created.body)["id"]
    emu.advance(5)
    request = EmuRequest.build("GET", f"/v1/images/{gen_id}", headers=headers)
    start = time.perf_counter()
    for _ in range(requests):
        emu.handle(request)
    return requests / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    rate = measure(args.requests)
    print(f"GET /v1/images/{{id}} in-process via httpx transport: {rate:,.0f} requests/s")
    core = measure_core(args.requests)
    print(f"GET /v1/images/{{id}} straight into the core (no httpx): {core:,.0f} requests/s")


if __name__ == "__main__":
    main()
