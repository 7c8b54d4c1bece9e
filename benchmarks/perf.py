"""How light aurous is, on every axis, against raw httpx on the same loopback server, in one run.

    python benchmarks/perf.py            # the full table (a few minutes on 2 cores)
    python benchmarks/perf.py --quick    # tiny counts: checks that every section runs

Sections (each one interleaves its variants, repeats ``--reps`` times and takes ratios within a
repetition, so a noisy neighbour slows every variant of a round alike; the table shows medians):

* sync µs/call: ``images.retrieve`` (1.2 KB generation), ``images.create`` and a 100-item list
  page, for raw httpx (``http.get(...).json()``), the typed floor (raw httpx + the pydantic
  model parse), raw httpx2 when installed, aurous and aurous with ``pacing=False``;
* async requests/s at concurrency 64: the same variants with ``httpx.AsyncClient`` (pool sized
  for 64), aurous with its default transport and with ``aurous.DefaultAioHttpClient``, and, to
  tell the SDK's share from the transport's, the typed floor on the same aiohttp transport (raw
  ``httpx_aiohttp.HttpxAiohttpClient``) and on raw ``aiohttp`` (both parse into the same model);
  a section of ratios per repetition then sets aurous on aiohttp against each, and labels the
  transport's own gain (the typed floor on aiohttp over the typed floor on httpx's transport);
* ``import``: ms and peak RSS of a fresh interpreter importing httpx and pydantic vs aurous (the
  names a program touches: ``aurous.Client``, ``.AsyncClient``, ``.Generation``), beside the floor
  of any pydantic-typed client (the same model written as a plain pydantic model), and import +
  first call (a ``retrieve`` through an in-process transport) beside the same GET and parse with
  the plain model, so that a cost moved from the import into the first call shows;
* construction: ms and RSS per live client with 1,000 clients alive, and ``with_options`` copies;
* ``pytest --co`` on an empty project with aurous's pytest plugin vs without it.

The server is a subprocess: a minimal asyncio HTTP/1.1 server answering canned JSON (with the
API's rate-limit headers) for ``GET /v1/images/{id}``, ``POST /v1/images`` and
``GET /v1/images?limit=100``. Its CPU use is printed beside the async rows: well under one core
means it is not the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "tests" / "fixtures"
GENERATION_ID = "img_01KS2DT57DF0ZENV8RRKMQC373"
API_KEY = "al_test_benchmark"
API_VERSION = "2026-05-15"


# ---- the loopback server (runs in a subprocess: ``perf.py --serve``) ----------------------------


_RETRIEVE_PATH = f"/v1/images/{GENERATION_ID}".encode()


def _bodies() -> dict[tuple[bytes, bytes], tuple[int, bytes]]:
    """(method, path) -> (status, body): the fixtures as a server would send them."""
    retrieved = (FIXTURES / "generation.succeeded.image.character.json").read_bytes()
    created = (FIXTURES / "generation.pending.image.json").read_bytes()
    row = json.loads(retrieved)
    rows = [{**row, "id": f"img_{index:026d}"} for index in range(100)]
    page = json.dumps(
        {"object": "list", "data": rows, "has_more": False, "next_cursor": None}
    ).encode()
    return {
        (b"GET", _RETRIEVE_PATH): (200, retrieved),
        (b"POST", b"/v1/images"): (201, created),
        (b"GET", b"/v1/images?limit=100"): (200, page),
    }


class _Responses:
    """Whole responses, rebuilt once a second so ``X-RateLimit-Reset`` stays in the future."""

    def __init__(self) -> None:
        self._bodies = _bodies()
        self._second = -1
        self._cache: dict[tuple[bytes, bytes], bytes] = {}
        self._missing = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"

    def get(self, method: bytes, target: bytes) -> bytes:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._cache = {key: self._render(*value, second) for key, value in self._bodies.items()}
        found = self._cache.get((method, target))
        if found is None and method == b"GET" and target.startswith(b"/v1/images/img_"):
            found = self._cache[(b"GET", _RETRIEVE_PATH)]  # any other id: the same body
        return found or self._missing

    @staticmethod
    def _render(status: int, body: bytes, now: int) -> bytes:
        reason = {200: "OK", 201: "Created"}[status]
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            "content-type: application/json\r\n"
            f"content-length: {len(body)}\r\n"
            "aurous-request-id: req_01KS2DT578RKDZ167Q0VK850ZX\r\n"
            f"aurous-version: {API_VERSION}\r\n"
            "x-ratelimit-limit: 1200\r\n"
            "x-ratelimit-remaining: 1199\r\n"
            f"x-ratelimit-reset: {now + 60}\r\n"
            "\r\n"
        )
        return head.encode() + body


class _Connection(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and ``Content-Length`` bodies: all the clients here send."""

    def __init__(self, responses: _Responses) -> None:
        self._responses = responses
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data
        out = []
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            length = 0
            at = head.lower().find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : stop if stop >= 0 else len(head)])
            if len(buffer) < end + 4 + length:
                break
            method, target, _ = head[: head.find(b"\r\n")].split(b" ", 2)
            out.append(self._responses.get(method, target))
            buffer = buffer[end + 4 + length :]
        self._buffer = buffer
        if out and self._transport is not None:
            self._transport.write(b"".join(out))


def serve() -> None:
    """Serve on an ephemeral loopback port; print ``port N`` when ready; stop on stdin EOF."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        responses = _Responses()
        server = await loop.create_server(
            lambda: _Connection(responses), "127.0.0.1", 0, backlog=1024
        )
        port = server.sockets[0].getsockname()[1]
        print(f"port {port}", flush=True)
        stop = loop.create_future()
        loop.add_reader(sys.stdin.fileno(), lambda: stop.done() or stop.set_result(None))
        await stop
        server.close()

    asyncio.run(main())


@dataclass
class Server:
    process: subprocess.Popen[str]
    base_url: str

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user + system)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def server() -> Iterator[Server]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("port "):
            raise RuntimeError(f"the benchmark server did not start: {line!r}")
        yield Server(process, f"http://127.0.0.1:{int(line.split()[1])}")
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---- measuring ----------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table: a variant's figure in each repetition, and its ratio to a yardstick."""

    section: str
    name: str
    unit: str
    values: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def value(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios) if self.ratios else float("nan")


def _timed_blocks(
    variants: dict[str, Callable[[], object]],
    calls: int,
    blocks: int,
    server_cpu: dict[str, float],
    server: Server,
) -> dict[str, float]:
    """µs per call of each variant, run in ``blocks`` round-robin slices (one repetition).

    Adds the server's CPU seconds spent during each variant to ``server_cpu``.
    """
    spent = dict.fromkeys(variants, 0.0)
    per_block = max(1, calls // blocks)
    names = list(variants)
    for block in range(blocks):
        # Rotate the order so no variant always runs right after the same neighbour.
        for name in names[block % len(names) :] + names[: block % len(names)]:
            fn = variants[name]
            cpu = server.cpu_seconds()
            started = time.perf_counter()
            for _ in range(per_block):
                fn()
            spent[name] += time.perf_counter() - started
            server_cpu[name] += server.cpu_seconds() - cpu
    return {name: spent[name] / (per_block * blocks) * 1e6 for name in names}


def _interleaved(
    section: str,
    variants: dict[str, Callable[[], object]],
    *,
    yardstick: str,
    calls: int,
    reps: int,
    blocks: int,
    server: Server,
    unit: str = "µs/call",
) -> list[Row]:
    for fn in variants.values():  # warm up: connections open, schemas built, methods bound
        for _ in range(20):
            fn()
    rows = {name: Row(section, name, unit) for name in variants}
    server_cpu = dict.fromkeys(variants, 0.0)
    for _ in range(reps):
        figures = _timed_blocks(variants, calls, blocks, server_cpu, server)
        for name, value in figures.items():
            rows[name].values.append(value)
            rows[name].ratios.append(value / figures[yardstick])
    for name, row in rows.items():
        seconds = sum(row.values) / 1e6 * max(1, calls // blocks) * blocks
        row.note = f"server CPU {server_cpu[name] / seconds:.0%} of a core"
    return list(rows.values())


def _optional(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        return None


def sync_rows(server: Server, args: argparse.Namespace) -> list[Row]:
    import httpx

    import aurous
    from aurous.pagination import CursorPage
    from aurous.types import Generation

    base_url = server.base_url
    headers = {"X-Api-Key": API_KEY, "Aurous-Version": API_VERSION, "Accept": "application/json"}
    retrieve_url = f"{base_url}/v1/images/{GENERATION_ID}"
    create_url = f"{base_url}/v1/images"
    list_url = f"{base_url}/v1/images?limit=100"
    body = {"prompt": "a lighthouse at dusk", "size": "2k_16_9"}
    page_model = CursorPage[Generation]
    httpx2 = _optional("httpx2")

    raw = httpx.Client()
    raw2 = httpx2.Client() if httpx2 else None
    sdk = aurous.Client(api_key=API_KEY, base_url=base_url)
    unpaced = aurous.Client(api_key=API_KEY, base_url=base_url, pacing=False)

    ids = (f"img_{n:026d}" for n in itertools.count())

    def keyed() -> dict[str, str]:
        # What the SDK sends on every create: a fresh idempotency key.
        return {**headers, "Idempotency-Key": str(uuid.uuid4())}

    sections: list[tuple[str, dict[str, Callable[[], object]], int]] = [
        (
            "sync images.retrieve",
            {
                "raw httpx": lambda: raw.get(retrieve_url, headers=headers).json(),
                "raw httpx + pydantic (typed floor)": lambda: Generation.model_validate_json(
                    raw.get(retrieve_url, headers=headers).content
                ),
                **(
                    {"raw httpx2": lambda: raw2.get(retrieve_url, headers=headers).json()}
                    if raw2
                    else {}
                ),
                "aurous": lambda: sdk.images.retrieve(GENERATION_ID),
                "aurous pacing=False": lambda: unpaced.images.retrieve(GENERATION_ID),
                # A new URL every call: what the SDK caches per URL does not help here.
                "raw httpx, new id each call": lambda: raw.get(
                    f"{base_url}/v1/images/{next(ids)}", headers=headers
                ).json(),
                "aurous, new id each call": lambda: sdk.images.retrieve(next(ids)),
            },
            args.calls,
        ),
        (
            "sync images.create",
            {
                "raw httpx": lambda: raw.post(create_url, json=body, headers=keyed()).json(),
                "raw httpx + pydantic (typed floor)": lambda: Generation.model_validate_json(
                    raw.post(create_url, json=body, headers=keyed()).content
                ),
                **(
                    {"raw httpx2": lambda: raw2.post(create_url, json=body, headers=keyed()).json()}
                    if raw2
                    else {}
                ),
                "aurous": lambda: sdk.images.create(**body),  # type: ignore[arg-type]
                "aurous pacing=False": lambda: unpaced.images.create(**body),  # type: ignore[arg-type]
            },
            args.calls,
        ),
        (
            "sync list page (100 items)",
            {
                "raw httpx": lambda: raw.get(list_url, headers=headers).json(),
                "raw httpx + pydantic (typed floor)": lambda: page_model.model_validate_json(
                    raw.get(list_url, headers=headers).content
                ),
                "aurous": lambda: sdk.images.list(limit=100),
                "aurous pacing=False": lambda: unpaced.images.list(limit=100),
            },
            max(1, args.calls // 10),
        ),
    ]
    rows: list[Row] = []
    for title, variants, calls in sections:
        rows += _interleaved(
            title,
            variants,
            yardstick="raw httpx",
            calls=calls,
            reps=args.reps,
            blocks=args.blocks,
            server=server,
        )
    for client in (raw, raw2, sdk, unpaced):
        if client is not None:
            client.close()
    return rows


async def _throughput(
    call: Callable[[], Awaitable[object]], requests: int, concurrency: int
) -> float:
    """Requests per second with ``concurrency`` tasks sharing ``requests`` calls."""
    left = requests

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return requests / (time.perf_counter() - started)


async def _async_variants(
    base_url: str, stack: contextlib.AsyncExitStack
) -> dict[str, Callable[[], Awaitable[object]]]:
    """The async variants, their clients closed by ``stack``."""
    import httpx

    import aurous
    from aurous.types import Generation

    headers = {"X-Api-Key": API_KEY, "Aurous-Version": API_VERSION, "Accept": "application/json"}
    url = f"{base_url}/v1/images/{GENERATION_ID}"
    # Raw httpx with a pool that keeps every connection 64 tasks use (httpx keeps 20 by default).
    raw = await stack.enter_async_context(
        httpx.AsyncClient(limits=httpx.Limits(max_connections=100, max_keepalive_connections=100))
    )

    async def raw_json() -> object:
        return (await raw.get(url, headers=headers)).json()

    async def raw_typed() -> object:
        return Generation.model_validate_json((await raw.get(url, headers=headers)).content)

    variants: dict[str, Callable[[], Awaitable[object]]] = {
        "raw httpx": raw_json,
        "raw httpx + pydantic (typed floor)": raw_typed,
    }
    httpx2 = _optional("httpx2")
    if httpx2 is not None:
        raw2 = await stack.enter_async_context(
            httpx2.AsyncClient(
                limits=httpx2.Limits(max_connections=100, max_keepalive_connections=100)
            )
        )

        async def raw2_json() -> object:
            return (await raw2.get(url, headers=headers)).json()

        variants["raw httpx2"] = raw2_json
    sdk = await stack.enter_async_context(aurous.AsyncClient(api_key=API_KEY, base_url=base_url))
    unpaced = await stack.enter_async_context(
        aurous.AsyncClient(api_key=API_KEY, base_url=base_url, pacing=False)
    )
    variants["aurous"] = lambda: sdk.images.retrieve(GENERATION_ID)
    variants["aurous pacing=False"] = lambda: unpaced.images.retrieve(GENERATION_ID)
    httpx_aiohttp = _optional("httpx_aiohttp")
    if httpx_aiohttp is not None:
        # The same transport without the SDK: what aiohttp gives any httpx user.
        raw_aio = await stack.enter_async_context(
            httpx_aiohttp.HttpxAiohttpClient(
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=100)
            )
        )

        async def raw_aio_typed() -> object:
            return Generation.model_validate_json((await raw_aio.get(url, headers=headers)).content)

        variants[TYPED_AIOHTTP] = raw_aio_typed
        # The SDK never closes a client it was given: the stack closes this one.
        http = await stack.enter_async_context(aurous.DefaultAioHttpClient())
        aio = aurous.AsyncClient(api_key=API_KEY, base_url=base_url, http_client=http)
        variants[AUROUS_AIOHTTP] = lambda: aio.images.retrieve(GENERATION_ID)
    aiohttp = _optional("aiohttp")
    if aiohttp is not None:
        # aiohttp itself, no httpx layer at all: the ceiling of that transport.
        session = await stack.enter_async_context(
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        )

        async def aiohttp_typed() -> object:
            async with session.get(url, headers=headers) as response:
                return Generation.model_validate_json(await response.read())

        variants[TYPED_RAW_AIOHTTP] = aiohttp_typed
    return variants


TYPED_FLOOR = "raw httpx + pydantic (typed floor)"
TYPED_AIOHTTP = "raw httpx-aiohttp + pydantic (typed floor on aiohttp)"
TYPED_RAW_AIOHTTP = "raw aiohttp + pydantic (typed)"
AUROUS_AIOHTTP = "aurous + DefaultAioHttpClient"


def floor_rows(rows: list[Row]) -> list[Row]:
    """What the SDK costs over the typed floor (raw httpx + the same pydantic parse), per call.

    The typed floor is what any typed client must pay, so it is the yardstick of the SDK's own
    overhead; raw httpx returns dicts. Time per call, aurous over the floor, per repetition.
    """
    found: list[Row] = []
    by_key = {(row.section, row.name): row for row in rows}
    for (section, name), sdk in by_key.items():
        floor = by_key.get((section, TYPED_FLOOR))
        if name != "aurous" or floor is None or sdk.unit != "µs/call" or not sdk.values:
            continue
        row = Row("aurous over the typed floor (time per call)", section, "x")
        row.values = [a / b for a, b in zip(sdk.values, floor.values, strict=True)]
        found.append(row)
    return found


def transport_rows(rows: list[Row]) -> list[Row]:
    """Who gains what on aiohttp: ratios of requests per second, within each repetition.

    ``aurous + DefaultAioHttpClient`` over raw httpx (the async table's ratio column) mixes the
    transport's gain with the SDK's cost. These rows take them apart: the transport's own gain
    (the typed floor on aiohttp over the typed floor on httpx's transport), and aurous on aiohttp
    against the typed floor on the same transport and against raw aiohttp.
    """
    by_name = {row.name: row for row in rows if row.section.startswith("async ")}
    pairs = [
        ("aurous / typed floor, httpx's own transport", "aurous", TYPED_FLOOR),
        ("transport's gain: typed floor on aiohttp / on httpx", TYPED_AIOHTTP, TYPED_FLOOR),
        ("aurous on aiohttp / typed floor on the same transport", AUROUS_AIOHTTP, TYPED_AIOHTTP),
        ("aurous on aiohttp / raw aiohttp + pydantic", AUROUS_AIOHTTP, TYPED_RAW_AIOHTTP),
    ]
    found = []
    for label, numerator, denominator in pairs:
        top, bottom = by_name.get(numerator), by_name.get(denominator)
        row = Row("async on aiohttp: who gains what (ratio of req/s)", label, "x")
        if top is None or bottom is None or not top.values or not bottom.values:
            row.note = "skipped: pip install 'aurous[aiohttp]'"
        else:
            row.values = [a / b for a, b in zip(top.values, bottom.values, strict=True)]
        found.append(row)
    return found


def async_rows(server: Server, args: argparse.Namespace) -> list[Row]:
    """Requests per second at ``--concurrency``, with the server's CPU use beside each row."""
    title = f"async images.retrieve @{args.concurrency}"

    async def run() -> list[Row]:
        async with contextlib.AsyncExitStack() as stack:
            variants = await _async_variants(server.base_url, stack)
            rows = {name: Row(title, name, "req/s") for name in variants}
            cpu = dict.fromkeys(variants, 0.0)
            elapsed = dict.fromkeys(variants, 0.0)
            for call in variants.values():  # warm up: open the pool's connections
                await _throughput(call, args.concurrency * 4, args.concurrency)
            names = list(variants)
            for rep in range(args.reps):
                figures = {}
                for name in names[rep % len(names) :] + names[: rep % len(names)]:
                    before, started = server.cpu_seconds(), time.perf_counter()
                    figures[name] = await _throughput(
                        variants[name], args.async_requests, args.concurrency
                    )
                    elapsed[name] += time.perf_counter() - started
                    cpu[name] += server.cpu_seconds() - before
                for name, value in figures.items():
                    rows[name].values.append(value)
                    # Higher is better here: the ratio is this variant's rate over raw httpx's.
                    rows[name].ratios.append(value / figures["raw httpx"])
        for name, row in rows.items():
            row.note = f"server CPU {cpu[name] / elapsed[name]:.0%} of a core"
        for name in (TYPED_AIOHTTP, AUROUS_AIOHTTP, TYPED_RAW_AIOHTTP):
            if name not in rows:
                rows[name] = Row(
                    title, name, "req/s", note="skipped: pip install 'aurous[aiohttp]'"
                )
        return list(rows.values())

    return asyncio.run(run())


# ---- fresh interpreters: import, construction, pytest --co -------------------------------------

_IMPORT_PROBE = """
import time
{setup}
started = time.perf_counter()
{statement}
elapsed = time.perf_counter() - started
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent across exec.
with open("/proc/self/status") as f:
    peak = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
print(elapsed, peak)
"""

# What a typed client without aurous writes: the fields of aurous.Generation as a plain pydantic
# model (no forward compatibility, no serialisers, no validators, no response metadata).
_PLAIN_MODEL = """
import datetime, pydantic
class Cost(pydantic.BaseModel):
    amount: float
    currency: str | None = None
    breakdown: dict[str, float]
class LoraRef(pydantic.BaseModel):
    id: str
    name: str
class Generation(pydantic.BaseModel):
    object: str = "inference"
    id: str
    status: str
    prompt: str | None = None
    created_at: datetime.datetime
    media_type: str | None = None
    negative_prompt: str | None = None
    output_urls: list[str] | None = None
    output_video_url: str | None = None
    reference_image_urls: list[str] | None = None
    error_message: str | None = None
    duration_ms: int | None = None
    cost: Cost | None = None
    width: int | None = None
    height: int | None = None
    image_count: int | None = None
    size_preset: str | None = None
    inference_type: str
    cfg_rescale: float | None = None
    denoise_strength: float | None = None
    seed: int | None = None
    video_duration: int | None = None
    video_resolution: str | None = None
    video_ratio: str | None = None
    video_camera_fixed: bool | None = None
    character_id: str | None = None
    loras: list[LoraRef] | None = None
    aurous_version: str
    creation_request_id: str
    completed_at: datetime.datetime | None = None
"""

# A first call without a network: the 1.2 KB generation answered by an in-process transport.
_BODY_SETUP = (
    f"BODY = open({str(FIXTURES / 'generation.succeeded.image.character.json')!r}, 'rb').read()"
)
_ANSWER = (
    "answer = httpx.MockTransport(lambda request: httpx.Response("
    "200, content=BODY, headers={'content-type': 'application/json'}))"
)

IMPORT_SECTION = "import (fresh interpreter)"
FIRST_CALL_SECTION = "import + first call (fresh interpreter)"
YARDSTICK = "import httpx, pydantic"
PLAIN_FIRST_CALL = "httpx + plain pydantic model: GET + parse"


PLAIN_MODEL = "httpx, pydantic + a plain model"


@dataclass(frozen=True)
class Probe:
    section: str
    statement: str
    setup: str = ""
    also: str | None = None
    """Another probe this one's ratio is also given to (in the note)."""


IMPORTS = {
    YARDSTICK: Probe(IMPORT_SECTION, "import httpx, pydantic"),
    "import aurous": Probe(IMPORT_SECTION, "import aurous"),
    "from aurous import Client": Probe(IMPORT_SECTION, "from aurous import Client"),
    "from aurous import AsyncClient": Probe(IMPORT_SECTION, "from aurous import AsyncClient"),
    # What a program names: both clients and the model it reads (issue 22, item 11).
    "aurous.Client, .AsyncClient, .Generation": Probe(
        IMPORT_SECTION,
        "import aurous; aurous.Client; aurous.AsyncClient; aurous.Generation",
        also=PLAIN_MODEL,
    ),
    # The floor of any pydantic-typed client: httpx, pydantic and one model of the same shape.
    # Defining a first pydantic model loads most of pydantic (``import pydantic`` loads little).
    PLAIN_MODEL: Probe(IMPORT_SECTION, "import httpx" + _PLAIN_MODEL),
    # What a first call needs loaded: a client, its namespace and the model it returns, against
    # the typed floor's own: an httpx client and the same pydantic model.
    "httpx.Client() + Generation model": Probe(
        IMPORT_SECTION,
        "import httpx; httpx.Client(); from aurous.types.generation import Generation",
    ),
    "aurous.Client().images": Probe(
        IMPORT_SECTION, "import aurous; aurous.Client(api_key='k').images"
    ),
    # Import and a first call, so that a cost moved out of the import into the first call shows:
    # the same GET of a generation through an in-process transport, parsed into the model.
    PLAIN_FIRST_CALL: Probe(
        FIRST_CALL_SECTION,
        "import httpx"
        + _PLAIN_MODEL
        + _ANSWER
        + "\nhttp = httpx.Client(transport=answer)"
        + f"\nGeneration.model_validate_json(http.get('http://api.test/v1/images/{GENERATION_ID}')"
        + ".content)",
        _BODY_SETUP,
        also=YARDSTICK,
    ),
    "aurous.Client().images.retrieve": Probe(
        FIRST_CALL_SECTION,
        "import aurous, httpx\n"
        + _ANSWER
        + "\nclient = aurous.Client(api_key='k', base_url='http://api.test',"
        + " http_client=httpx.Client(transport=answer))"
        + f"\nclient.images.retrieve({GENERATION_ID!r})",
        _BODY_SETUP,
        also=YARDSTICK,
    ),
    "aurous.Generation.model_validate_json": Probe(
        FIRST_CALL_SECTION,
        "import aurous; aurous.Generation.model_validate_json(BODY)",
        _BODY_SETUP,
        also=YARDSTICK,
    ),
}


_PYCACHE = tempfile.mkdtemp(prefix="aurous-perf-pycache-")


def _fresh_env(**extra: str) -> dict[str, str]:
    """The environment of a fresh interpreter, with bytecode cached as after ``pip install``.

    This machine sets PYTHONDONTWRITEBYTECODE, so an editable checkout would be compiled from
    source on every import while site-packages has its .pyc files: every module is cached in
    one private directory instead, aurous's and its dependencies' alike.
    """
    env = {**os.environ, "PYTHONPYCACHEPREFIX": _PYCACHE, **extra}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run_python(code: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env or _fresh_env(),
        check=True,
    )
    return result.stdout


def import_rows(args: argparse.Namespace) -> list[Row]:
    """Every probe in a fresh interpreter, in rounds (the order rotating), medians of the rounds.

    Ratios are taken within a round: to ``import httpx, pydantic`` in the import section, to the
    plain pydantic model's first call in the first-call section; a row's note gives its ratio
    to one more probe (``Probe.also``).
    """
    seconds = {name: Row(probe.section, name, "ms") for name, probe in IMPORTS.items()}
    peak = {name: Row("import peak RSS", name, "MiB") for name in IMPORTS}
    to_also: dict[str, list[float]] = {name: [] for name in IMPORTS}

    def code(name: str) -> str:
        return _IMPORT_PROBE.format(setup=IMPORTS[name].setup, statement=IMPORTS[name].statement)

    for name in IMPORTS:  # compile and cache the bytecode first
        _run_python(code(name))
    names = list(IMPORTS)
    for run in range(args.import_runs):
        figures: dict[str, tuple[float, float]] = {}
        for name in names[run % len(names) :] + names[: run % len(names)]:
            out = _run_python(code(name)).split()
            figures[name] = (float(out[0]) * 1e3, int(out[1]) / 1024)
        for name, (ms, mib) in figures.items():
            probe = IMPORTS[name]
            first = probe.section == FIRST_CALL_SECTION
            seconds[name].values.append(ms)
            seconds[name].ratios.append(ms / figures[PLAIN_FIRST_CALL if first else YARDSTICK][0])
            if probe.also is not None:
                to_also[name].append(ms / figures[probe.also][0])
            peak[name].values.append(mib)
            peak[name].ratios.append(mib / figures[YARDSTICK][1])
    for name, probe in IMPORTS.items():
        if probe.also is not None:
            seconds[name].note = f"{statistics.median(to_also[name]):.2f}x {probe.also}"
    ordered = sorted(seconds.values(), key=lambda row: row.section != IMPORT_SECTION)
    return [*ordered, *peak.values()]


_CONSTRUCTION_PROBE = """
import gc, os, time
import httpx, aurous
from aurous._client import _shared_ssl_context

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

make = {make}
keep = [make()]  # the first one pays for one-time work (the shared SSL context, bindings)
gc.collect()
before = rss()
started = time.perf_counter()
for _ in range({count}):
    keep.append(make())
elapsed = time.perf_counter() - started
gc.collect()
print(elapsed / {count} * 1e3, (rss() - before) / {count} / 1024)
"""

CONSTRUCTIONS = {
    "httpx.Client()": "httpx.Client",
    "httpx.Client(verify=shared context)": ("lambda: httpx.Client(verify=_shared_ssl_context())"),
    "aurous.Client()": f"lambda: aurous.Client(api_key={API_KEY!r})",
    "aurous.AsyncClient()": f"lambda: aurous.AsyncClient(api_key={API_KEY!r})",
    "client.with_options(timeout=5)": (
        f"(lambda c: lambda: c.with_options(timeout=5))(aurous.Client(api_key={API_KEY!r}))"
    ),
    "aurous.Client() + .images.retrieve bound": (
        f"lambda: (lambda c: (c, c.images.retrieve))(aurous.Client(api_key={API_KEY!r}))"
    ),
}


def construction_rows(args: argparse.Namespace) -> list[Row]:
    times = {n: Row(f"construction ({args.clients} alive)", n, "ms/client") for n in CONSTRUCTIONS}
    memory = {n: Row(f"RSS per live client ({args.clients})", n, "KiB") for n in CONSTRUCTIONS}
    names = list(CONSTRUCTIONS)
    for rep in range(args.reps):
        for name in names[rep % len(names) :] + names[: rep % len(names)]:
            code = _CONSTRUCTION_PROBE.format(make=CONSTRUCTIONS[name], count=args.clients)
            ms, kib = (float(x) for x in _run_python(code).split())
            times[name].values.append(ms)
            memory[name].values.append(kib)
    return [*times.values(), *memory.values()]


def _importtime_total(stderr: str) -> float:
    """Milliseconds of imports in a ``-X importtime`` log (the sum of the self times)."""
    total = 0
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            self_us = line.split(":", 1)[1].split("|")[0].strip()
            if self_us.isdigit():
                total += int(self_us)
    return total / 1e3


def pytest_rows(args: argparse.Namespace) -> list[Row]:
    """``python -X importtime -m pytest --co -q`` in an empty project, with and without aurous.

    Other plugins installed here (hypothesis, schemathesis, anyio …) would hide the difference,
    so plugin autoloading is off and aurous's entry point is loaded by name (``-p aurous``), the
    way pytest loads it in a project that has aurous installed; without it, nothing of aurous
    is imported, as in an environment without aurous.
    """
    variants = {"pytest --co (no aurous)": [], "pytest --co (aurous plugin)": ["-p", "aurous"]}
    wall = {n: Row("pytest --co, empty project", n, "ms") for n in variants}
    imports = {n: Row("pytest --co, -X importtime total", n, "ms") for n in variants}
    env = _fresh_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    env.pop("PYTEST_ADDOPTS", None)
    names = list(variants)
    yardstick = names[0]
    with tempfile.TemporaryDirectory() as project:
        for run in range(-1, args.import_runs):  # run -1 compiles and caches the bytecode
            figures: dict[str, tuple[float, float]] = {}
            for name in names[run % 2 :] + names[: run % 2]:
                command = [sys.executable, "-X", "importtime", "-m", "pytest", "--co", "-q"]
                command += ["-p", "no:cacheprovider", *variants[name]]
                started = time.perf_counter()
                result = subprocess.run(
                    command, cwd=project, capture_output=True, text=True, env=env
                )
                elapsed = (time.perf_counter() - started) * 1e3
                if result.returncode != 5:  # 5: no tests collected, as expected here
                    raise RuntimeError(
                        f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}"
                    )
                figures[name] = (elapsed, _importtime_total(result.stderr))
            if run < 0:
                continue
            for name, (ms, imported) in figures.items():
                wall[name].values.append(ms)
                wall[name].ratios.append(ms / figures[yardstick][0])
                imports[name].values.append(imported)
                imports[name].ratios.append(imported / figures[yardstick][1])
    return [*wall.values(), *imports.values()]


# ---- the table ----------------------------------------------------------------------------------


def pacing_rows(rows: list[Row]) -> list[Row]:
    """What client-wide pacing costs: aurous against aurous ``pacing=False``, per repetition."""
    found: list[Row] = []
    by_key = {(row.section, row.name): row for row in rows}
    for (section, name), paced in by_key.items():
        unpaced = by_key.get((section, "aurous pacing=False"))
        if name != "aurous" or unpaced is None or not paced.values:
            continue
        row = Row("pacing cost (aurous vs pacing=False)", section, "% of a call")
        for on, off in zip(paced.values, unpaced.values, strict=True):
            # Time per call for µs rows, requests per second for req/s rows.
            cost = (on - off) / on if paced.unit == "µs/call" else (off - on) / off
            row.values.append(cost * 100)
        found.append(row)
    return found


def print_table(rows: list[Row]) -> None:
    width = max(len(row.name) for row in rows) + 2
    section = None
    for row in rows:
        if row.section != section:
            section = row.section
            runs = len(row.values)
            print(f"\n{section}  [{row.unit}; {runs} run{'s' if runs != 1 else ''}]")
        if not row.values:
            print(f"  {row.name:<{width}} {row.note}")
            continue
        digits = 2 if row.unit == "x" else 1  # ratios need the second decimal
        reps = " ".join(f"{value:9.{digits}f}" for value in row.values)
        ratio = f"{row.ratio:6.2f}x" if row.ratios else " " * 7
        note = f"  {row.note}" if row.note else ""
        print(f"  {row.name:<{width}} {row.value:10.{digits}f}  {ratio}   ({reps}){note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="tiny counts (a smoke test)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--calls", type=int, default=3000, help="sync calls per repetition")
    parser.add_argument("--blocks", type=int, default=10, help="interleaved slices per repetition")
    parser.add_argument(
        "--async-requests", type=int, default=3000, help="async requests per repetition"
    )
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--import-runs", type=int, default=21, help="fresh interpreters per variant"
    )
    parser.add_argument("--clients", type=int, default=1000, help="live clients when constructing")
    parser.add_argument(
        "--only",
        choices=["sync", "async", "import", "construction", "pytest"],
        action="append",
        help="run only these sections (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.serve:
        serve()
        return 0
    if args.quick:
        args.reps, args.calls, args.blocks = 1, 20, 2
        args.async_requests, args.concurrency, args.import_runs, args.clients = 64, 8, 1, 10
    only = set(args.only or ["sync", "async", "import", "construction", "pytest"])

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; {' '.join(sys.argv)}")
    rows: list[Row] = []
    if only & {"sync", "async"}:
        with server() as srv:
            if "sync" in only:
                rows += sync_rows(srv, args)
            if "async" in only:
                rows += async_rows(srv, args)
    rows += pacing_rows(rows)
    rows += floor_rows(rows)
    if "async" in only:
        rows += transport_rows(rows)
    if "import" in only:
        rows += import_rows(args)
    if "construction" in only:
        rows += construction_rows(args)
    if "pytest" in only:
        rows += pytest_rows(args)
    print("\nmedian, ratio to the first row of the section (median of per-repetition ratios),")
    print("and each repetition's figure")
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
