"""Downloads never lose a file the user had, never leave orphans, never save a short body whole.

Reliability cases 4 and 10: ``download(overwrite=True)`` puts back the file it was replacing when
another output of the same generation fails to land; a temporary file left by a SIGKILLed
download is removed by the next download of that output; a body shorter than its
``Content-Length`` / ``Content-Range`` is resumed, not saved as complete.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import aurous

from .drills._support import Both, fixture, python, raw_server

PAIR = fixture("generation.succeeded.image.batch")  # two outputs
ONE = fixture("generation.succeeded.image")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20


@pytest.fixture(params=["sync", "async"])
def both(request: pytest.FixtureRequest) -> Iterator[Both]:
    runner = Both(request.param)
    yield runner
    runner.close()


def _png(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"})


def _outputs(generation: dict[str, Any], output: Any = _png) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if "/output/" in request.url.path:
            return output(request)  # type: ignore[no-any-return]
        return httpx.Response(200, json=generation)

    return handler


# ---- case 4: overwrite=True restores what it was replacing ------------------------------------


def test_overwrite_puts_the_first_file_back_when_the_second_cannot_land(
    both: Both, tmp_path: Path
) -> None:
    client = both.hostile(_outputs(PAIR))
    first, second = both(client.images.download(PAIR["id"], tmp_path / "probe"))
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / first.name).write_bytes(b"the user's own picture")
    (folder / second.name).mkdir()  # output 1 cannot be moved over a directory

    with pytest.raises(OSError):
        both(client.images.download(PAIR["id"], folder, overwrite=True))
    assert (folder / first.name).read_bytes() == b"the user's own picture"
    assert sorted(p.name for p in folder.iterdir()) == sorted([first.name, second.name])


def test_overwrite_keeps_the_first_file_when_the_second_fetch_fails(
    both: Both, tmp_path: Path
) -> None:
    def output(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/1"):
            return httpx.Response(410, json=fixture("error.output_expired"))
        return _png(request)

    client = both.hostile(_outputs(PAIR, output))
    name = f"{PAIR['id']}-0.png"
    (tmp_path / name).write_bytes(b"the user's own picture")
    with pytest.raises(aurous.OutputExpiredError):
        both(client.images.download(PAIR["id"], tmp_path, overwrite=True))
    assert (tmp_path / name).read_bytes() == b"the user's own picture"
    assert [p.name for p in tmp_path.iterdir()] == [name]


# ---- case 10: an orphan .part left by SIGKILL is removed --------------------------------------

_KILLED_DOWNLOAD = """
import json, sys, threading
import httpx, aurous

generation = json.loads(sys.argv[2])

class Hang(httpx.SyncByteStream):
    def __iter__(self):
        yield b"\\x89PNG" + b"x" * 4000
        print("streaming", flush=True)
        threading.Event().wait()  # until killed

def handler(request):
    if "/output/" in request.url.path:
        return httpx.Response(
            200, headers={"Content-Type": "image/png", "Content-Length": "99999"}, stream=Hang()
        )
    return httpx.Response(200, json=generation)

http = httpx.Client(transport=httpx.MockTransport(handler))
client = aurous.Client(api_key="al_live_x", base_url="https://api.test", http_client=http)
client.images.download(generation["id"], sys.argv[1])
"""


def test_part_file_of_a_killed_download_is_removed_by_the_next(both: Both, tmp_path: Path) -> None:
    child = python(_KILLED_DOWNLOAD, str(tmp_path), json.dumps(ONE))
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "streaming", (
            child.stderr.read() if child.stderr else ""
        )
        orphans = list(tmp_path.glob(".*.part"))
        assert len(orphans) == 1
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=20)
        for stream in (child.stdin, child.stdout, child.stderr):
            if stream is not None:
                stream.close()
    assert orphans[0].exists()  # SIGKILL gave it no chance to clean up

    client = both.hostile(_outputs(ONE))
    (path,) = both(client.images.download(ONE["id"], tmp_path))
    assert path.read_bytes() == PNG
    assert list(tmp_path.glob(".*.part")) == []
    assert list(tmp_path.iterdir()) == [path]


def test_part_file_still_being_written_is_left_alone(both: Both, tmp_path: Path) -> None:
    # Another live download of the same output holds its lock: its file is not an orphan.
    held = threading.Event()
    release = threading.Event()

    class Slow(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield PNG[:10]
            held.set()
            release.wait(20)
            yield PNG[10:]

    def slow(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "image/png"}, stream=Slow())

    sync = aurous.Client(
        api_key="al_live_x",
        base_url="https://api.test",
        http_client=httpx.Client(transport=httpx.MockTransport(_outputs(ONE, slow))),
    )
    done: list[list[Path]] = []
    first = threading.Thread(
        target=lambda: done.append(sync.images.download(ONE["id"], tmp_path / "a", overwrite=True))
    )
    (tmp_path / "a").mkdir()
    first.start()
    try:
        assert held.wait(20)
        (live,) = (tmp_path / "a").glob(".*.part")
        client = both.hostile(_outputs(ONE))
        both(client.images.download(ONE["id"], tmp_path / "a", overwrite=True))
        assert live.exists()
    finally:
        release.set()
        first.join(20)
    assert done
    assert done[0][0].read_bytes() == PNG
    assert list((tmp_path / "a").glob(".*.part")) == []


# ---- case 10: a body shorter than announced is not saved as complete -------------------------


class _Short(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that ends cleanly (no transport error) before its announced size."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[bytes]:
        yield self.data

    async def __aiter__(self) -> Any:
        yield self.data


def test_body_shorter_than_content_length_is_resumed(both: Both, tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def output(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        headers = {"Content-Type": "image/png", "Content-Length": str(len(PNG))}
        if len(seen) == 1:
            return httpx.Response(200, headers=headers, stream=_Short(PNG[:1000]))
        return httpx.Response(200, headers=headers, content=PNG)

    client = both.hostile(_outputs(ONE, output), max_retries=2)
    (path,) = both(client.images.download(ONE["id"], tmp_path))
    assert path.read_bytes() == PNG
    assert len(seen) == 2


def test_partial_range_shorter_than_its_content_length_is_resumed(
    both: Both, tmp_path: Path
) -> None:
    # A 206 whose total is unknown (``bytes 1000-5119/*``) still says how long it is.
    seen: list[httpx.Request] = []

    def output(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(
                200,
                headers={"Content-Type": "image/png", "Content-Length": str(len(PNG))},
                stream=_Short(PNG[:1000]),
            )
        start = int(request.headers["Range"].removeprefix("bytes=").rstrip("-"))
        rest = PNG[start:]
        headers = {
            "Content-Type": "image/png",
            "Content-Range": f"bytes {start}-{len(PNG) - 1}/*",
            "Content-Length": str(len(rest)),
        }
        if len(seen) == 2:
            return httpx.Response(206, headers=headers, stream=_Short(rest[:500]))
        return httpx.Response(206, headers=headers, content=rest)

    client = both.hostile(_outputs(ONE, output), max_retries=3)
    (path,) = both(client.images.download(ONE["id"], tmp_path))
    assert path.read_bytes() == PNG
    assert len(seen) == 3


def test_chunked_body_that_breaks_off_over_a_socket_is_resumed(both: Both, tmp_path: Path) -> None:
    # Without Content-Length, a chunked body still ends with a last chunk; a cut one is detected.
    head = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n"
    broken = head + b"%x\r\n" % 1000 + PNG[:1000] + b"\r\n"  # no terminating 0-chunk
    whole = head + b"%x\r\n" % len(PNG) + PNG + b"\r\n0\r\n\r\n"
    base, thread = raw_server([broken, whole])
    generation = {**ONE, "output_urls": [f"{base}/v1/images/{ONE['id']}/output/0"]}
    client = both.served(base, "al_live_x", max_retries=2)

    # A succeeded generation is passed whole, so only its output URL is fetched.
    (path,) = both(client.images.download(aurous.Generation.model_validate(generation), tmp_path))
    thread.join(10)
    assert path.read_bytes() == PNG
