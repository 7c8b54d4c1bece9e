"""Deadlines that are deadlines, and bodies that cannot exhaust memory (issue 24, items 11, 12, 14).

- A server trickling its body one byte every 0.25 s: ``retrieve(timeout=2)`` raises
  ``APITimeoutError`` within ~2.5 s and ``wait(timeout=3)`` ends within ~3.5 s, over a real
  socket (httpx's read timeout bounds each read, not the body: this stretched them to 56 s).
- A ``create(timeout=2)`` that the pacer holds back (the client learned a concurrency limit of 1
  with a generation in flight) returns within ~2.5 s (was 27–46 s).
- ``wait()`` against 429s asking for no wait (``Retry-After: 0``, ``NaN``, ``-1``) sends a
  handful of requests in its last second (was 117 in its last 100 ms), and returns on the
  emulator's manual clock (it never did).
- ``max_response_size`` (default 64 MiB): a 400 MiB answer to ``balance.retrieve()`` is refused
  with memory kept bounded, over a real socket (``slow``: it grew RSS by 1.2 GiB).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import aurous
from aurous.emulator import Emulator

from .drills._support import KEY, Both, Corrupt, fixture, python

GEN = fixture("generation.pending.image")
BODY = json.dumps(GEN).encode()


@pytest.fixture(params=["sync", "async"])
def both(request: pytest.FixtureRequest) -> Iterator[Both]:
    runner = Both(request.param)
    yield runner
    runner.close()


class Trickle:
    """A loopback HTTP server answering every request with 200 and ``Content-Length`` of the
    whole body, then sending the body one byte every ``pause`` seconds."""

    def __init__(self, content: bytes, pause: float = 0.25) -> None:
        self.content = content
        self.pause = pause
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.requests = 0
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)
                self.requests += 1
                head = (
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(self.content)}\r\n\r\n"
                )
                connection.sendall(head.encode())
                for byte in self.content:
                    if self.closed.wait(self.pause):
                        return
                    connection.sendall(bytes([byte]))
            except OSError:
                return

    def close(self) -> None:
        self.closed.set()
        self.listener.close()


PACES = [
    pytest.param((0.25, 1.0), id="the issue's figures", marks=pytest.mark.slow),
    pytest.param((0.1, 0.3), id="scaled down"),
]
"""(seconds between two bytes of the body, the scale of the timeouts): the issue's case (a byte
every 0.25 s, ``timeout=2`` and ``3``) is slow; the default run has it at a third."""


@pytest.fixture(params=PACES)
def trickle(request: pytest.FixtureRequest) -> Iterator[tuple[Trickle, float]]:
    pause, scale = request.param
    server = Trickle(BODY, pause)
    yield server, scale
    server.close()


def _timed(both: Both, run: Any) -> tuple[float, BaseException | None]:
    started = time.monotonic()
    try:
        both(run())
    except Exception as error:
        return time.monotonic() - started, error
    return time.monotonic() - started, None


def test_a_trickled_body_cannot_stretch_a_calls_timeout(
    both: Both, trickle: tuple[Trickle, float]
) -> None:
    server, scale = trickle
    assert len(BODY) * server.pause > 20  # the whole body would take this long
    client = both.served(server.base_url, KEY)
    elapsed, error = _timed(both, lambda: client.images.retrieve(GEN["id"], timeout=2 * scale))
    assert isinstance(error, aurous.APITimeoutError), repr(error)
    assert elapsed < 2.5 * scale, elapsed


def test_a_trickled_body_cannot_stretch_a_wait(both: Both, trickle: tuple[Trickle, float]) -> None:
    server, scale = trickle
    client = both.served(server.base_url, KEY)
    elapsed, error = _timed(both, lambda: client.images.wait(GEN["id"], timeout=3 * scale))
    assert isinstance(error, (aurous.WaitTimeoutError, aurous.APITimeoutError)), repr(error)
    assert elapsed < 3.5 * scale, elapsed


def test_the_client_read_timeout_bounds_the_whole_body(
    both: Both, trickle: tuple[Trickle, float]
) -> None:
    server, scale = trickle
    timeout = httpx.Timeout(30, read=1.5 * scale)
    client = both.served(server.base_url, KEY, timeout=timeout, max_retries=0)
    elapsed, error = _timed(both, lambda: client.images.retrieve(GEN["id"]))
    assert isinstance(error, aurous.APITimeoutError), repr(error)
    assert elapsed < 2.0 * scale, elapsed


def test_a_create_held_by_the_pacer_keeps_its_timeout(both: Both) -> None:
    emu = Emulator(concurrency_limit=1, rate_limits=False, image_phases=(600, 600))
    http: Any = (
        httpx.AsyncClient(transport=emu.async_transport)
        if both.is_async
        else httpx.Client(transport=emu.transport)
    )
    cls = aurous.AsyncClient if both.is_async else aurous.Client
    client = cls(api_key=emu.api_key, base_url=emu.base_url, http_client=http)
    both.clients.append(client)
    both(client.images.create(prompt="in flight"))  # the team's one slot, for ten minutes
    # Refused with 429 concurrency_limit_exceeded: the client (the pacing state its copies
    # share) learns the limit of 1, with its own generation in flight.
    learner = client.with_options(max_rate_limit_wait=0.5)
    _, learned = _timed(both, lambda: learner.images.create(prompt="second"))
    assert isinstance(learned, aurous.RateLimitError), repr(learned)
    # The pacer now holds creates until that generation finishes (up to max_rate_limit_wait,
    # 60 s): a create's own timeout must cut that short.
    elapsed, error = _timed(both, lambda: client.images.create(prompt="third", timeout=2))
    assert isinstance(error, aurous.AurousError), repr(error)
    assert error.idempotency_key is not None
    assert elapsed < 2.5, elapsed
    emu.close()


def test_a_create_held_by_the_pacer_does_not_hammer_until_its_deadline() -> None:
    emu = Emulator(concurrency_limit=1, rate_limits=False, image_phases=(600, 600))
    creates: list[int] = []

    class Counting(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            creates.append(request.method == "POST" and request.url.path == "/v1/images")
            return emu.transport.handle_request(request)

    http = httpx.Client(transport=Counting())
    client = aurous.Client(api_key=emu.api_key, base_url=emu.base_url, http_client=http)
    client.images.create(prompt="in flight")
    with pytest.raises(aurous.RateLimitError):
        client.with_options(max_rate_limit_wait=0.5).images.create(prompt="second")
    before = sum(creates)
    with pytest.raises(aurous.AurousError):
        client.images.create(prompt="third", timeout=2)
    assert sum(creates) - before <= 5
    client.close()
    emu.close()


# ---- item 12: 429s asking for no wait ---------------------------------------------------------


@pytest.mark.parametrize(
    "timeout",
    [pytest.param(3.0, id="3 s", marks=pytest.mark.slow), pytest.param(1.5, id="1.5 s")],
)
@pytest.mark.parametrize(
    "retry_after",
    ["0", pytest.param("NaN", marks=pytest.mark.slow), pytest.param("-1", marks=pytest.mark.slow)],
)
def test_wait_never_hammers_a_server_asking_for_no_wait(
    both: Both, retry_after: str, timeout: float
) -> None:
    sent: list[float] = []
    limited = fixture("error.rate_limited")

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(time.monotonic())
        if len(sent) > 2000:  # the old SDK would go on: stop it
            return httpx.Response(200, json=fixture("generation.succeeded.image"))
        return httpx.Response(429, json=limited, headers={"Retry-After": retry_after})

    client = both.hostile(answer)
    started = time.monotonic()
    with pytest.raises(aurous.WaitTimeoutError):
        both(client.images.wait(GEN["id"], timeout=timeout, poll_interval=0.1))
    ended = time.monotonic()
    assert ended - started < timeout + 0.5
    last_second = [t for t in sent if t > ended - 1.0]
    assert len(last_second) <= 3, len(last_second)
    assert len(sent) <= 10, len(sent)


@pytest.mark.parametrize("retry_after", ["0", "NaN", "-1"])
def test_wait_against_no_wait_429s_returns_on_the_manual_clock(
    both: Both, retry_after: str
) -> None:
    emu = Emulator(clock="manual", rate_limits=False)
    limited = json.dumps(fixture("error.rate_limited")).encode()
    polls = {"n": 0}

    def too_many(response: httpx.Response) -> httpx.Response:
        polls["n"] += 1
        if polls["n"] > 2000:  # the old SDK never advanced the clock: stop it
            return response
        headers = {"Content-Type": "application/json", "Retry-After": retry_after}
        return httpx.Response(429, content=limited, headers=headers)

    def is_poll(request: httpx.Request) -> bool:
        return request.method == "GET" and request.url.path.startswith("/v1/images/")

    client = both.emulated(emu, wrap=lambda inner: Corrupt(inner, is_poll, too_many, None))
    created = both(client.images.create(prompt="x"))
    with pytest.raises(aurous.WaitTimeoutError):
        both(client.images.wait(created, timeout=30))
    assert polls["n"] <= 40, polls["n"]  # about one a second once the floor has doubled
    emu.close()


# ---- item 14: memory stays bounded -------------------------------------------------------------

_MEMORY_PROBE = """
import json, resource, socket, sys, threading
import aurous

HUGE = 400 * 1024 * 1024
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(4)

def serve():
    connection, _ = listener.accept()
    with connection:
        connection.recv(65536)
        head = b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n"
        connection.sendall(head % HUGE)
        chunk = b" " * (1 << 20)
        try:
            for _ in range(HUGE // len(chunk)):
                connection.sendall(chunk)
        except OSError:
            pass

threading.Thread(target=serve, daemon=True).start()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
client = aurous.Client(api_key="al_live_x", base_url="http://127.0.0.1:%d" % listener.getsockname()[1], max_retries=0)
try:
    client.balance.retrieve()
    outcome = "read"
except aurous.APIResponseValidationError as error:
    outcome = "refused: " + str(error)
except Exception as error:
    outcome = "raw %s" % type(error).__name__
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "grew_kib": after - before}))
"""


@pytest.mark.slow
def test_a_huge_answer_is_refused_with_memory_bounded_over_a_socket() -> None:
    probe = python(_MEMORY_PROBE)
    out, err = probe.communicate(timeout=120)
    assert probe.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["outcome"].startswith("refused"), report
    assert "max_response_size" in report["outcome"]
    # The cap is 64 MiB: the body read stops there (400 MiB grew RSS by 1.2 GiB before).
    assert report["grew_kib"] < 256 * 1024, report


def test_a_long_run_of_429s_or_failures_never_overflows_a_wait() -> None:
    # Found by the drills: the doubling floor of the 1,025th 429 in a row (a wait() polling a
    # limited server for about 17 minutes) was 2.0 ** 1024: OverflowError. (Imported here: the
    # module's other tests also run against older code, which had no conflict_delay.)
    from aurous._errors import error_from_response
    from aurous._retry import backoff_delay, conflict_delay, rate_limit_delay

    request = httpx.Request("GET", "https://api.test/v1/images/img_1")
    limited = error_from_response(
        httpx.Response(429, headers={"Retry-After": "0"}, request=request)
    )
    assert isinstance(limited, aurous.RateLimitError)
    for times in (1_025, 10**6):
        assert rate_limit_delay(limited, times) == 1.0
        assert 24.0 <= backoff_delay(times) <= 30.0
        assert 6.4 <= conflict_delay(times) <= 8.0
