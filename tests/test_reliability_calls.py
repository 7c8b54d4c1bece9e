"""Calls refused before anything is sent, a full disk, and a sync client on an event loop
(issue 24, items 17, 18 and 20).

- Ids ``.`` and ``..`` are refused naming the parameter (httpx resolved them into other routes:
  ``GET /v1``, ``POST /v1/cancel``); an empty or 257-character idempotency key, a lone surrogate
  in a query parameter, ``timeout=10**400`` and ``max_retries=-1`` on a call likewise.
- A download that fails on a full disk (``ENOSPC``, also when the file is closed) leaves no
  ``.part`` file behind.
- A sync `aurous.Client` called on a thread that runs an asyncio event loop warns once per
  process (a ``RuntimeWarning`` at the caller's line, and a log record); a program that never
  loaded asyncio does not load it.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import aurous
import aurous._download
import aurous._drivers

from .drills._support import KEY, Both, fixture

GEN = fixture("generation.pending.image")


@pytest.fixture(params=["sync", "async"])
def both(request: pytest.FixtureRequest) -> Iterator[Both]:
    runner = Both(request.param)
    yield runner
    runner.close()


class Recorder:
    """A server that answers every request with a pending generation, and remembers it."""

    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return httpx.Response(200, json=GEN)


def _refused(both: Both, call: Callable[[Any], Any], param: str) -> None:
    server = Recorder()
    client = both.hostile(server)
    with pytest.raises((ValueError, TypeError)) as caught:
        result = call(client)
        if hasattr(result, "__aiter__") or hasattr(result, "__iter__"):
            both.collect(result)
        else:
            both(result)
    assert param in str(caught.value), caught.value
    assert server.sent == [], [str(r.url) for r in server.sent]


# ---- item 18: dot ids, keys, surrogates, absurd numbers ---------------------------------------

DOT_ID_CALLS: list[tuple[str, Callable[[Any, str], Any], str]] = [
    ("images.retrieve", lambda c, i: c.images.retrieve(i), "generation_id"),
    ("images.cancel", lambda c, i: c.images.cancel(i), "generation_id"),
    ("videos.retrieve", lambda c, i: c.videos.retrieve(i), "generation_id"),
    ("images.wait", lambda c, i: c.images.wait(i, timeout=5), "generation_id"),
    ("loras.retrieve", lambda c, i: c.loras.retrieve(i), "lora_id"),
    ("video_loras.retrieve", lambda c, i: c.video_loras.retrieve(i), "lora_id"),
    ("files.retrieve", lambda c, i: c.files.retrieve(i), "file_id"),
    ("files.delete", lambda c, i: c.files.delete(i), "file_id"),
    ("characters.retrieve", lambda c, i: c.characters.retrieve(i), "character_id"),
    ("webhook_endpoints.retrieve", lambda c, i: c.webhook_endpoints.retrieve(i), "endpoint_id"),
    (
        "webhook_endpoints.rotate_secret",
        lambda c, i: c.webhook_endpoints.rotate_secret(i),
        "endpoint_id",
    ),
    ("webhook_endpoints.delete", lambda c, i: c.webhook_endpoints.delete(i), "endpoint_id"),
]


@pytest.mark.parametrize("dots", [".", ".."])
@pytest.mark.parametrize("case", DOT_ID_CALLS, ids=lambda c: c[0])
def test_dot_ids_are_refused_before_sending(both: Both, case: Any, dots: str) -> None:
    _, call, param = case
    _refused(both, lambda c: call(c, dots), param)


def test_ids_with_dots_inside_are_sent_escaped(both: Both) -> None:
    server = Recorder()
    client = both.hostile(server)
    both(client.images.retrieve("img_.."))
    both(client.images.retrieve("../v1/balance"))
    assert [r.url.raw_path for r in server.sent] == [
        b"/v1/images/img_..",
        b"/v1/images/..%2Fv1%2Fbalance",
    ]


@pytest.mark.parametrize("key", ["", "k" * 257], ids=["empty", "257 characters"])
@pytest.mark.parametrize("where", ["argument", "extra_headers"])
def test_an_unusable_idempotency_key_is_refused_before_sending(
    both: Both, key: str, where: str
) -> None:
    options: dict[str, Any] = (
        {"idempotency_key": key}
        if where == "argument"
        else {"extra_headers": {"Idempotency-Key": key}}
    )
    _refused(
        both,
        lambda c: c.images.create(prompt="x", **options),
        "idempotency_key" if where == "argument" else "Idempotency-Key",
    )


def test_a_256_character_key_is_sent(both: Both) -> None:
    server = Recorder()
    both(both.hostile(server).images.create(prompt="x", idempotency_key="k" * 256))
    assert server.sent[0].headers["idempotency-key"] == "k" * 256


SURROGATE_QUERIES: list[tuple[str, Callable[[Any], Any], str]] = [
    (
        "images.list starting_after",
        lambda c: c.images.list(starting_after="img_\ud800"),
        "starting_after",
    ),
    (
        "usage.list user_id",
        lambda c: c.usage.list(start_time="2026-05-01", user_id="\udfff"),
        "user_id",
    ),
    ("extra_query", lambda c: c.balance.retrieve(extra_query={"note": "a\ud800b"}), "note"),
]


@pytest.mark.parametrize("case", SURROGATE_QUERIES, ids=lambda c: c[0])
def test_a_lone_surrogate_in_a_query_parameter_names_it(both: Both, case: Any) -> None:
    _, call, param = case
    _refused(both, call, param)


@pytest.mark.parametrize(
    "value", [10**400, -(10**400), float("nan")], ids=["10**400", "-10**400", "nan"]
)
def test_an_absurd_timeout_on_a_call_is_refused(both: Both, value: Any) -> None:
    _refused(both, lambda c: c.images.retrieve("img_1", timeout=value), "timeout")
    _refused(both, lambda c: c.images.create(prompt="x", timeout=value), "timeout")


@pytest.mark.parametrize("cls", [aurous.Client, aurous.AsyncClient])
def test_an_absurd_timeout_on_the_client_is_refused(cls: type[aurous.Client]) -> None:
    with pytest.raises(ValueError, match="timeout"):
        cls(api_key=KEY, timeout=10**400)


MAX_RETRIES_CALLS: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("images.retrieve", lambda c, n: c.images.retrieve("img_1", max_retries=n)),
    ("images.create", lambda c, n: c.images.create(prompt="x", max_retries=n)),
    (
        "images.create_and_wait",
        lambda c, n: c.images.create_and_wait(prompt="x", max_retries=n, timeout=1),
    ),
    ("images.list", lambda c, n: c.images.list(max_retries=n)),
    ("balance.retrieve", lambda c, n: c.balance.retrieve(max_retries=n)),
]


@pytest.mark.parametrize("case", MAX_RETRIES_CALLS, ids=lambda c: c[0])
def test_a_negative_max_retries_on_a_call_is_refused(both: Both, case: Any) -> None:
    _, call = case
    _refused(both, lambda c: call(c, -1), "max_retries")


# ---- item 17: a full disk leaves no .part file ----------------------------------------------


class _FullDisk:
    """A file that takes ``room`` bytes, then fails every write, flush and close with ENOSPC,
    as a file on a full disk does (closing flushes what is buffered, which fails again)."""

    def __init__(self, inner: Any, room: int) -> None:
        self._inner = inner
        self._room = room
        self.full = False

    def write(self, data: bytes) -> int:
        if len(data) > self._room:
            self.full = True
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return int(self._inner.write(data))

    def flush(self) -> None:
        if self.full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._inner.flush()

    def close(self) -> None:
        self._inner.close()  # the descriptor is released either way
        if self.full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _OsWithAFullDisk:
    """``os`` as `aurous._download` sees it, whose ``fdopen`` opens files on a full disk."""

    def __init__(self, room: int) -> None:
        self._room = room

    def fdopen(self, fd: int, *args: Any, **kwargs: Any) -> _FullDisk:
        return _FullDisk(os.fdopen(fd, *args, **kwargs), self._room)

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


@pytest.mark.parametrize("room", [0, 1000], ids=["at the first byte", "midway"])
def test_a_download_that_fills_the_disk_leaves_no_part_file(
    both: Both, room: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = {**fixture("generation.succeeded.image"), "output_urls": ["https://cdn.test/a.png"]}
    image = b"\x89PNG\r\n\x1a\n" + b"\x00" * 600_000

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "cdn.test":
            return httpx.Response(200, content=image, headers={"Content-Type": "image/png"})
        return httpx.Response(200, json=row)

    monkeypatch.setattr(aurous._download, "os", _OsWithAFullDisk(room))
    client = both.hostile(answer)
    with pytest.raises(OSError) as caught:
        both(client.images.download(row["id"], tmp_path / "out"))
    assert caught.value.errno == errno.ENOSPC
    left = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert left == [], left


# ---- item 20: a sync client on a running event loop --------------------------------------------


@pytest.fixture
def fresh_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if no call had warned yet in this process."""
    if hasattr(aurous._drivers, "_warned_in_loop"):
        monkeypatch.setattr(aurous._drivers, "_warned_in_loop", False)


def _sync_client() -> aurous.Client:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json=fixture("balance")))
    return aurous.Client(
        api_key=KEY, base_url="https://api.test", http_client=httpx.Client(transport=transport)
    )


def test_a_sync_call_inside_a_running_loop_warns_once_at_the_callers_line(
    fresh_warning: None, caplog: pytest.LogCaptureFixture
) -> None:
    client = _sync_client()
    lines: list[int] = []

    async def handler() -> None:
        lines.append(sys._getframe().f_lineno + 1)
        client.balance.retrieve()
        client.balance.retrieve()
        client.with_options(max_retries=1).balance.retrieve()

    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING, "aurous"):
        warnings.simplefilter("always")
        asyncio.run(handler())
    loop_warnings = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(loop_warnings) == 1, [str(w.message) for w in caught]
    (warning,) = loop_warnings
    assert warning.filename == __file__
    assert warning.lineno == lines[0]
    assert "balance.retrieve" in str(warning.message)
    assert "AsyncClient" in str(warning.message)
    records = [r for r in caplog.records if "event loop" in r.getMessage()]
    assert len(records) == 1


def test_a_sync_call_on_a_thread_without_a_loop_does_not_warn(fresh_warning: None) -> None:
    client = _sync_client()
    errors: list[BaseException] = []

    async def elsewhere() -> None:
        # A loop runs on this thread while another thread calls the sync client.
        def call() -> None:
            try:
                client.balance.retrieve()
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=call)
        thread.start()
        await asyncio.to_thread(thread.join)

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        asyncio.run(elsewhere())
        client.balance.retrieve()
    assert errors == []


def test_a_sync_only_program_does_not_load_asyncio() -> None:
    balance = json.dumps(fixture("balance"))
    code = (
        "import sys, httpx, aurous\n"
        f"t = httpx.MockTransport(lambda r: httpx.Response(200, content={balance!r}))\n"
        "http = httpx.Client(transport=t)\n"
        "c = aurous.Client(api_key='al_live_x', base_url='https://api.test', http_client=http)\n"
        "c.balance.retrieve()\n"
        "print('asyncio' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr
