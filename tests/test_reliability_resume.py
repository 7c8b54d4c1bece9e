"""After a billable create was sent, every error names what recovers it (issue 24, items 2, 5, 6).

- ``create_and_wait``: an error while polling (5xx after retries, a dropped connection, an
  unreadable answer, a 404), the deadline, a failed generation and an id no poll can use all
  carry the create's ``idempotency_key`` and the last ``generation`` read, on the error's own
  class; the resume is the same call with that key, and the server holds one generation.
- ``extra_headers={"Idempotency-Key": …}`` (any spelling) is the key sent, once, and the key
  errors report.
- Closing a client while creates are in flight: an ``APIConnectionError`` that says so and
  carries the key (never httpx's ``RuntimeError``), not retried; resending with the key returns
  what the server committed.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import aurous
from aurous.emulator import Emulator

from .drills._support import (
    Both,
    Corrupt,
    body,
    charged,
    generation_rows,
    is_create,
    wait_until,
)

PROMPT = "a lighthouse at dusk"


@pytest.fixture(params=["sync", "async"])
def both(request: pytest.FixtureRequest) -> Iterator[Both]:
    runner = Both(request.param)
    yield runner
    runner.close()


@pytest.fixture
def emu() -> Iterator[Emulator]:
    emulator = Emulator(clock="manual", rate_limits=False)
    yield emulator
    emulator.close()


def _is_poll(request: httpx.Request) -> bool:
    return request.method == "GET" and request.url.path.startswith("/v1/images/")


def _unreadable(response: httpx.Response) -> httpx.Response:
    return body(200, b"<html>upstream reset</html>", {"Content-Type": "text/html"})


def _caught(both: Both, run: Callable[[], Any]) -> aurous.AurousError:
    with pytest.raises(aurous.AurousError) as caught:
        both(run())
    return caught.value


# ---- create_and_wait: every error after the create carries the key and the generation ---------

CASES: dict[str, tuple[type[aurous.AurousError], Callable[[Emulator], Any], dict[str, Any]]] = {
    "503 on every poll, after retries": (
        aurous.ServerError,
        lambda emu: emu.faults.fail_next("GET /v1/images/*", times=50, status=503),
        {},
    ),
    "connection dropped on every poll": (
        aurous.APIConnectionError,
        lambda emu: emu.faults.fail_next("GET /v1/images/*", times=50, drop_connection=True),
        {},
    ),
    "404 while polling": (
        aurous.NotFoundError,
        lambda emu: emu.faults.fail_next(
            "GET /v1/images/*", times=50, status=404, code="resource_not_found"
        ),
        {},
    ),
    "the deadline": (aurous.WaitTimeoutError, lambda emu: None, {"timeout": 1}),
    "the deadline, cancelling": (
        aurous.WaitTimeoutError,
        lambda emu: None,
        {"timeout": 1, "cancel_on_timeout": True},
    ),
    "a failed generation": (
        aurous.GenerationFailedError,
        lambda emu: emu.faults.fail_generation(error_message="internal_error"),
        {"raise_on_failure": True},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_create_and_wait_errors_carry_the_key_and_the_generation(
    both: Both, emu: Emulator, case: str
) -> None:
    expected, fault, options = CASES[case]
    client = both.emulated(emu, max_retries=1)
    fault(emu)
    error = _caught(
        both,
        lambda: client.images.create_and_wait(prompt=PROMPT, **{"timeout": 120, **options}),
    )
    assert isinstance(error, expected), repr(error)
    (row,) = generation_rows(emu)
    assert error.idempotency_key is not None
    assert error.idempotency_key in str(error)
    assert error.generation is not None
    assert error.generation.id == row.id

    # The resume: the same call with the key gets this generation back; nothing is billed twice.
    emu.faults.clear()
    spent = charged(emu)
    resumed = both(
        client.images.create_and_wait(
            prompt=PROMPT, idempotency_key=error.idempotency_key, timeout=120
        )
    )
    assert resumed.id == row.id
    assert len(generation_rows(emu)) == 1
    assert charged(emu) == spent


def test_an_unreadable_poll_answer_carries_the_key_and_the_generation(
    both: Both, emu: Emulator
) -> None:
    corrupt: list[Corrupt] = []

    def wrap(inner: Any) -> Corrupt:
        corrupt.append(Corrupt(inner, _is_poll, _unreadable, times=None))
        return corrupt[0]

    client = both.emulated(emu, wrap=wrap)
    error = _caught(both, lambda: client.images.create_and_wait(prompt=PROMPT, timeout=120))
    assert isinstance(error, aurous.APIResponseValidationError)
    (row,) = generation_rows(emu)
    assert error.idempotency_key is not None
    assert error.generation is not None
    assert error.generation.id == row.id
    assert corrupt[0].corrupted  # the poll, not the create, was unreadable


@pytest.mark.parametrize("bad_id", ["..", ".", "", " ", "img_\ud800"])
def test_a_created_id_that_cannot_be_polled_is_an_unreadable_answer(
    both: Both, emu: Emulator, bad_id: str
) -> None:
    def replace(response: httpx.Response) -> httpx.Response:
        row = json.loads(response.content)
        text = json.dumps({**row, "id": bad_id}).encode()
        return body(response.status_code, text, {"Content-Type": "application/json"})

    client = both.emulated(emu, wrap=lambda inner: Corrupt(inner, is_create, replace))
    error = _caught(both, lambda: client.images.create_and_wait(prompt=PROMPT, timeout=120))
    assert isinstance(error, aurous.APIResponseValidationError), repr(error)
    assert "cannot be polled" in str(error)
    assert error.idempotency_key is not None
    assert error.generation is not None
    assert error.generation.id == bad_id
    # Nothing was polled: no request went to another route.
    resumed = both(
        both.emulated(emu).images.create_and_wait(
            prompt=PROMPT, idempotency_key=error.idempotency_key, timeout=120
        )
    )
    assert len(generation_rows(emu)) == 1
    assert resumed.is_terminal


def test_the_resume_in_three_lines(emu: Emulator) -> None:
    # The recipe of docs/guides/errors.md, as written there.
    client = emu.client(max_retries=0)
    emu.faults.fail_next("GET /v1/images/*", status=503)
    try:
        generation = client.images.create_and_wait(prompt=PROMPT)
    except aurous.AurousError as error:
        if error.idempotency_key is None:
            raise
        generation = client.images.create_and_wait(
            prompt=PROMPT, idempotency_key=error.idempotency_key
        )
    assert generation.is_succeeded
    assert len(generation_rows(emu)) == 1


def test_wait_errors_carry_the_last_generation_read(both: Both, emu: Emulator) -> None:
    client = both.emulated(emu, max_retries=0)
    created = both(client.images.create(prompt=PROMPT))
    emu.faults.fail_next("GET /v1/images/*", times=50, status=503)
    error = _caught(both, lambda: client.images.wait(created, timeout=60))
    assert isinstance(error, aurous.ServerError)
    assert error.generation is not None
    assert error.generation.id == created.id


# ---- item 5: an Idempotency-Key in extra_headers --------------------------------------------


@pytest.mark.parametrize("name", ["Idempotency-Key", "idempotency-key", "IDEMPOTENCY-KEY"])
def test_a_key_in_extra_headers_is_the_one_sent_once_and_reported(both: Both, name: str) -> None:
    sent: list[list[tuple[str, str]]] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(
            [(k, v) for k, v in request.headers.multi_items() if k.lower() == "idempotency-key"]
        )
        return httpx.Response(500, json={"error": {"type": "server_error", "code": "x"}})

    client = both.hostile(server, max_retries=1)
    client._set_clock(_NoSleep())
    error = _caught(
        both, lambda: client.images.create(prompt=PROMPT, extra_headers={name: "order-42"})
    )
    assert error.idempotency_key == "order-42"
    assert len(sent) == 2  # retried with the same key
    for headers in sent:
        assert [v for _, v in headers] == ["order-42"]


def test_a_key_in_extra_headers_survives_create_and_wait(both: Both, emu: Emulator) -> None:
    client = both.emulated(emu, max_retries=0)
    emu.faults.fail_next("GET /v1/images/*", times=5, status=503)
    error = _caught(
        both,
        lambda: client.images.create_and_wait(
            prompt=PROMPT, extra_headers={"idempotency-key": "mine-1"}, timeout=60
        ),
    )
    assert error.idempotency_key == "mine-1"
    (row,) = generation_rows(emu)
    assert error.generation is not None
    assert error.generation.id == row.id


class _NoSleep:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.now += seconds


# ---- item 6: closing a client with creates in flight ------------------------------------------


def _start(both: Both, run: Callable[[], Any]) -> Callable[[], Any]:
    """Start ``run()`` on a thread (sync) or as a task (async); the returned function waits for
    it and gives its result or the exception it raised."""
    outcome: list[Any] = []
    if both.is_async:
        assert both.loop is not None
        task = both.loop.create_task(_settle(run()))
        return lambda: both.loop.run_until_complete(task)  # type: ignore[union-attr]

    def target() -> None:
        try:
            outcome.append(run())
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=target)
    thread.start()

    def join() -> Any:
        thread.join(30)
        assert not thread.is_alive()
        return outcome[0]

    return join


async def _settle(awaitable: Any) -> Any:
    try:
        return await awaitable
    except BaseException as exc:
        return exc


def _pump(both: Both, seconds: float = 0.01) -> None:
    """Let the async client's tasks run (they live on the test's loop)."""
    if both.is_async:
        assert both.loop is not None
        both.loop.run_until_complete(asyncio.sleep(seconds))
    else:
        time.sleep(seconds)


class _HeldBackoff:
    """The real clock, except that the first sleep (the backoff before a retry) lasts until
    `release`; later sleeps are recorded and return at once."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.released = threading.Event()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if len(self.sleeps) == 1:
            self.released.wait(30)

    async def asleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        while len(self.sleeps) == 1 and not self.released.is_set():
            await asyncio.sleep(0.01)


def test_closing_the_client_during_a_retry_gives_a_keyed_error_not_runtime_error(
    both: Both,
) -> None:
    emu = Emulator(rate_limits=False)
    with emu.serve() as server:
        # The create is committed, then answered 503: the client backs off before its retry.
        emu.faults.fail_next("POST /v1/images", status=503, after_commit=True)
        client = both.served(server.base_url, emu.api_key, max_retries=3)
        clock = _HeldBackoff()
        client._set_clock(clock)
        done = _start(both, lambda: client.images.create(prompt=PROMPT))
        deadline = time.monotonic() + 10
        while not clock.sleeps:
            assert time.monotonic() < deadline
            _pump(both)
        both(client.close())  # while the create waits to be sent again
        clock.released.set()
        error = done()
        assert isinstance(error, aurous.APIConnectionError), repr(error)
        assert "closed" in str(error)
        assert error.idempotency_key is not None
        assert len(clock.sleeps) == 1  # not retried: a closed client fails the same way again
        (row,) = generation_rows(emu)
        fresh = both.served(server.base_url, emu.api_key)
        again = both(fresh.images.create(prompt=PROMPT, idempotency_key=error.idempotency_key))
        assert again.id == row.id
        assert again._response.replayed
    emu.close()


def test_closing_the_client_with_creates_held_by_the_server(both: Both) -> None:
    emu = Emulator(rate_limits=False)
    with emu.serve() as server:
        gate = emu.faults.pause("POST /v1/images", times=None)
        client = both.served(server.base_url, emu.api_key, max_retries=2)
        waiters = [
            _start(both, lambda n=n: client.images.create(prompt=f"{PROMPT} {n}")) for n in range(4)
        ]
        deadline = time.monotonic() + 10
        while not gate.wait_reached(0):
            assert time.monotonic() < deadline
            _pump(both)
        _pump(both, 0.2)
        both(client.close())
        gate.release()
        outcomes = [wait() for wait in waiters]
        fresh = both.served(server.base_url, emu.api_key)
        for n, outcome in enumerate(outcomes):
            if isinstance(outcome, BaseException):
                assert isinstance(outcome, aurous.AurousError), repr(outcome)
                assert outcome.idempotency_key is not None, repr(outcome)
                both(
                    fresh.images.create(
                        prompt=f"{PROMPT} {n}", idempotency_key=outcome.idempotency_key
                    )
                )
            else:
                assert isinstance(outcome, aurous.Generation)
        wait_until(lambda: len(generation_rows(emu)) == 4, "four generations")
        assert len(generation_rows(emu)) == 4  # each logical create once, resumes included
    emu.close()
