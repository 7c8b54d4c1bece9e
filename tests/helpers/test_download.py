"""``images.download`` / ``videos.download``: bytes, atomicity, resume, errors, credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import aurous
from aurous._download import extension_for

from ..conftest import API, KEY, RecordingClock, fixture
from .conftest import CutBodies, Harness


def _finished(h: Harness, media: str = "image", **params: Any) -> aurous.Generation:
    api = h.client.videos if media == "video" else h.client.images
    params.setdefault("prompt", "a lighthouse at dusk")
    generation: aurous.Generation = h(api.create_and_wait(**params))
    assert generation.status == "succeeded"
    return generation


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_image_bytes_on_disk_are_the_bytes_served(h: Harness, tmp_path: Path) -> None:
    generation = _finished(h, count=2)
    progress: list[tuple[int, int | None]] = []
    paths = h(
        h.client.images.download(
            generation, tmp_path / "out", on_progress=lambda a, b: progress.append((a, b))
        )
    )
    assert [p.name for p in paths] == [f"{generation.id}-0.png", f"{generation.id}-1.png"]
    for path, url in zip(paths, generation.outputs, strict=True):
        served = h.raw_get(url)
        assert served.headers["content-type"] == "image/png"
        assert path.read_bytes() == served.content
        assert served.content.startswith(b"\x89PNG")
    assert _listing(tmp_path / "out") == [p.name for p in paths]
    total = sum(p.stat().st_size for p in paths)
    assert progress[-1] == (total, total)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)


def test_download_by_id_and_to_an_explicit_file(h: Harness, tmp_path: Path) -> None:
    generation = _finished(h)
    target = tmp_path / "covers" / "cover.png"
    assert h(h.client.images.download(generation.id, target)) == [target]
    assert target.read_bytes() == h.raw_get(generation.outputs[0]).content
    with pytest.raises(ValueError, match="2 outputs"):
        h(h.client.images.download(_finished(h, count=2), tmp_path / "two.png"))


def test_a_stale_generation_is_read_again(make_harness: Any, tmp_path: Path) -> None:
    h: Harness = make_harness(image_phases=(1.0, 1.0))
    created = h(h.client.images.create(prompt="a fox"))
    assert created.status == "pending"
    h.emu.advance(5)
    paths = h(h.client.images.download(created, tmp_path))
    assert paths == [tmp_path / f"{created.id}-0.png"]


def test_overwrite_false_refuses_before_downloading(h: Harness, tmp_path: Path) -> None:
    generation = _finished(h)
    existing = tmp_path / f"{generation.id}-0.jpg"
    existing.write_bytes(b"mine")
    with pytest.raises(FileExistsError) as caught:
        h(h.client.images.download(generation, tmp_path))
    assert str(existing) in str(caught.value)
    assert existing.read_bytes() == b"mine"
    assert _listing(tmp_path) == [existing.name]
    paths = h(h.client.images.download(generation, tmp_path, overwrite=True))
    assert paths[0].read_bytes().startswith(b"\x89PNG")

    single = tmp_path / "single.png"
    single.write_bytes(b"mine")
    with pytest.raises(FileExistsError, match=r"single\.png"):
        h(h.client.images.download(generation, single))
    assert single.read_bytes() == b"mine"


def test_raising_on_progress_leaves_no_file_and_no_temp(h: Harness, tmp_path: Path) -> None:
    generation = _finished(h, count=2)

    def stop(done: int, total: int | None) -> None:
        if done > 0:
            raise RuntimeError("user stopped")

    with pytest.raises(RuntimeError, match="user stopped"):
        h(h.client.images.download(generation, tmp_path, on_progress=stop))
    assert _listing(tmp_path) == []


def test_keyboard_interrupt_mid_stream_cleans_up(h: Harness, tmp_path: Path) -> None:
    generation = _finished(h, media="video")

    def interrupt(done: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        h(h.client.videos.download(generation, tmp_path, on_progress=interrupt))
    assert _listing(tmp_path) == []


def test_second_output_failing_removes_the_first(h: Harness, tmp_path: Path) -> None:
    generation = _finished(h, count=2)
    h.emu.faults.fail_next("GET /v1/images/*/output/1", status=404)
    with pytest.raises(aurous.NotFoundError):
        h(h.client.images.download(generation, tmp_path))
    assert _listing(tmp_path) == []


def test_a_body_cut_mid_stream_without_retries_leaves_nothing(h: Harness, tmp_path: Path) -> None:
    generation = _finished(h, media="video")
    cut: dict[str, CutBodies] = {}

    def wrap(transport: Any) -> CutBodies:
        cut["t"] = CutBodies(transport, "/output", cut=1000)
        return cut["t"]

    client = h.make_client(wrap=wrap, max_retries=0)
    with pytest.raises(aurous.APIConnectionError, match="ReadError"):
        h(client.videos.download(generation, tmp_path / "clip.mp4"))
    assert _listing(tmp_path) == []


def test_video_download_resumes_with_range(h: Harness, tmp_path: Path) -> None:
    generation = _finished(h, media="video")
    served = h.raw_get(generation.outputs[0]).content
    cut: dict[str, CutBodies] = {}

    def wrap(transport: Any) -> CutBodies:
        cut["t"] = CutBodies(transport, "/output", cut=len(served) // 3, times=2)
        return cut["t"]

    client = h.make_client(wrap=wrap)
    progress: list[int] = []
    paths = h(
        client.videos.download(generation, tmp_path, on_progress=lambda d, t: progress.append(d))
    )
    assert paths == [tmp_path / f"{generation.id}-0.mp4"]
    assert paths[0].read_bytes() == served
    assert served[4:8] == b"ftyp"
    downloads = [r for r in cut["t"].requests if "/output" in r.url.path]
    third = len(served) // 3
    assert [r.headers.get("range") for r in downloads] == [
        None,
        f"bytes={third}-",
        f"bytes={2 * third}-",
    ]
    assert progress[-1] == len(served)
    assert _listing(tmp_path) == [paths[0].name]


def test_image_download_restarts_after_a_cut(h: Harness, tmp_path: Path) -> None:
    generation = _finished(h)
    served = h.raw_get(generation.outputs[0]).content
    client = h.make_client(wrap=lambda t: CutBodies(t, "/output", cut=20))
    paths = h(client.images.download(generation, tmp_path))
    # The image route ignores Range and answers 200: the file is restarted, not appended to.
    assert paths[0].read_bytes() == served


def test_expired_output_raises_410(h: Harness, tmp_path: Path) -> None:
    generation = _finished(h)
    h.emu.advance(24 * 3600 + 1)
    with pytest.raises(aurous.OutputExpiredError) as caught:
        h(h.client.images.download(generation, tmp_path))
    assert caught.value.status_code == 410
    assert caught.value.code == "output_expired"
    assert _listing(tmp_path) == []


@pytest.mark.parametrize("media", ["image", "video"])
def test_output_not_available_raises_422(make_harness: Any, tmp_path: Path, media: str) -> None:
    h: Harness = make_harness(image_phases=(50.0, 50.0), video_phases=(50.0, 50.0))
    api = h.client.videos if media == "video" else h.client.images
    pending = h(api.create(prompt="still going"))
    with pytest.raises(aurous.InvalidRequestError) as caught:
        h(api.download(pending.id, tmp_path))
    assert caught.value.status_code == 422
    assert caught.value.code == "output_not_available"
    failed = h(api.create_and_wait(prompt="broken [fail]"))
    with pytest.raises(aurous.InvalidRequestError, match="output_not_available"):
        h(api.download(failed, tmp_path))
    assert _listing(tmp_path) == []


def test_extension_follows_content_type() -> None:
    assert extension_for("image/png", "https://x/y") == "png"
    assert extension_for("image/jpeg", "https://x/y") == "jpg"
    assert extension_for("image/webp; charset=binary", "https://x/y") == "webp"
    assert extension_for("video/mp4", "https://x/y") == "mp4"
    assert extension_for(None, "https://cdn.test/a/b.webm?sig=1") == "webm"
    assert extension_for("", "https://cdn.test/a/b") == "bin"


# ---- respx: credentials never leave the API's origin ----------------------------------------

CDN = "https://cdn.example.net"


def _succeeded_row(url: str) -> dict[str, Any]:
    row: dict[str, Any] = fixture("generation.succeeded.image")
    row["output_urls"] = [url]
    return row


@pytest.mark.parametrize("hop", ["direct", "redirect"])
def test_no_api_key_to_a_foreign_host(tmp_path: Path, hop: str) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + bytes(64)
    row = _succeeded_row(
        f"{CDN}/o/0.jpg?sig=abc" if hop == "direct" else f"{API}/v1/images/img_1/output/0?token=t"
    )
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"{API}/v1/images/{row['id']}").respond(200, json=row)
        first = mock.get(f"{API}/v1/images/img_1/output/0").respond(
            302, headers={"Location": f"{CDN}/o/0.jpg?sig=abc"}
        )
        cdn = mock.get(f"{CDN}/o/0.jpg").respond(
            200, content=jpeg, headers={"Content-Type": "image/jpeg"}
        )
        client = aurous.Client(api_key=KEY, base_url=API)
        client._set_clock(RecordingClock())
        paths = client.images.download(row["id"], tmp_path)
    assert paths == [tmp_path / f"{row['id']}-0.jpg"]
    assert paths[0].read_bytes() == jpeg
    sent = cdn.calls.last.request
    assert "x-api-key" not in sent.headers
    assert "authorization" not in sent.headers
    assert sent.url.params["sig"] == "abc"
    if hop == "redirect":
        # The API's own origin got the key; the host it redirected to did not.
        assert first.calls.last.request.headers["x-api-key"] == KEY
    else:
        assert not first.called


def test_async_download_to_a_foreign_host(tmp_path: Path) -> None:
    import asyncio

    row = _succeeded_row(f"{CDN}/o/0.webp")
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{API}/v1/images/{row['id']}").respond(200, json=row)
        cdn = mock.get(f"{CDN}/o/0.webp").respond(
            200, content=b"RIFFxxxxWEBP", headers={"Content-Type": "image/webp"}
        )

        async def run() -> list[Path]:
            async with aurous.AsyncClient(api_key=KEY, base_url=API) as client:
                client._set_clock(RecordingClock())
                return await client.images.download(row["id"], tmp_path)

        paths = asyncio.run(run())
    assert paths[0].suffix == ".webp"
    assert "x-api-key" not in cdn.calls.last.request.headers


def test_range_answered_with_200_restarts_the_file(tmp_path: Path) -> None:
    body = bytes(range(256)) * 8
    row = fixture("generation.succeeded.video")
    url = f"{CDN}/v/clip.mp4"
    row["output_video_url"] = url
    attempts: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        attempts.append(request.headers.get("range"))
        if len(attempts) == 1:
            from .conftest import BreakingStream

            return httpx.Response(
                200,
                headers={"Content-Type": "video/mp4", "Content-Length": str(len(body))},
                stream=BreakingStream(body, 100),
            )
        return httpx.Response(200, content=body, headers={"Content-Type": "video/mp4"})

    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{API}/v1/images/{row['id']}").respond(200, json=row)
        mock.get(url).mock(side_effect=answer)
        client = aurous.Client(api_key=KEY, base_url=API)
        client._set_clock(RecordingClock())
        paths = client.videos.download(row["id"], tmp_path)
    assert attempts == [None, "bytes=100-"]
    assert paths[0].read_bytes() == body


def test_downloaded_files_get_the_usual_permissions(h: Harness, tmp_path: Path) -> None:
    """Files are created like any other file the program writes (0o666 minus the umask), not
    with the private 0o600 mode of temporary files."""
    import os
    import stat

    mask = os.umask(0o022)
    try:
        generation = _finished(h)
        [path] = h(h.client.images.download(generation, tmp_path))
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    finally:
        os.umask(mask)
