"""Every public way to pass a path, an upload, a callback or a parameterized annotation's value,
on each Python the package supports (CI runs this file on 3.10 to 3.13).

Python 3.10 treats ``os.PathLike[str]`` and ``Callable[[int], None]`` as classes
(``isinstance(os.PathLike[str], type)`` is true there, false from 3.11), and ``isinstance()``
refuses them: the argument checks must reduce such annotations to their class first. These tests
go through the argument checks of every method, then through each public method that takes a
path, an upload or a callback, on both clients against the in-process emulator.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

import aurous
from aurous._operations import Method, Namespace
from aurous._params import ImageCreateArgs, VideoCreateArgs
from aurous._validation import _predicate, _typeddict_parameters
from aurous.emulator import Emulator
from aurous.emulator._media import png_bytes
from aurous.resources.files import FileInput

PNG = png_bytes(4, 3, [b"\x01\x02\x03" * 4] * 3)


class FsPath:
    """A path-like that is not a `pathlib.Path`: ``os.PathLike`` by its ``__fspath__`` alone."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = os.fspath(path)

    def __fspath__(self) -> str:
        return self._path


def _samples(tmp: Path) -> dict[str, Any]:
    return {
        "str": "x",
        "Path": tmp / "x",
        "PathLike": FsPath(tmp / "x"),
        "upload tuple": ("a.png", PNG, "image/png"),
        "upload pair": ("a.png", io.BytesIO(PNG)),
        "file object": io.BytesIO(PNG),
        "bytes": PNG,
        "callable": lambda *args: None,
        "None": None,
        "int": 1,
        "float": 1.5,
        "list": ["x"],
        "dict": {"prompt": "x"},
        "generator": (p for p in ["x"]),
    }


# ---- the argument checks of every method ------------------------------------------------------


def _methods(namespace: Any, path: str) -> Iterator[tuple[str, Method[Any]]]:
    for name in dir(type(namespace)):
        if name.startswith("_"):
            continue
        attr = inspect.getattr_static(type(namespace), name)
        if isinstance(attr, Method):
            yield f"{path}.{name}", attr
            continue
        value = getattr(namespace, name, None)
        if isinstance(value, Namespace):
            yield from _methods(value, f"{path}.{name}")


def _parameters() -> list[tuple[str, Any]]:
    client = aurous.Client(api_key="al_live_" + "ab" * 32, base_url="https://api.test")
    try:
        found = [
            (f"{where}({p.name})", p.annotation)
            for where, method in _methods(client, "client")
            for p in method.signature().parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
    finally:
        client.close()
    for td in (ImageCreateArgs, VideoCreateArgs):
        found += [(f"{td.__name__}[{p.name!r}]", p.annotation) for p in _typeddict_parameters(td)]
    return found


PARAMETERS = _parameters()


def test_the_sweep_sees_the_parameterized_annotations() -> None:
    # Guards the sweep below against finding nothing to check (a renamed base class, say).
    names = {where for where, _ in PARAMETERS}
    for expected in (
        "client.images.download(dest)",
        "client.images.download(on_progress)",
        "client.videos.batch(manifest)",
        "client.videos.batch(download_to)",
        "client.images.wait(on_update)",
        "client.files.create(file)",
        "client.characters.uploads.upload(file)",
        "ImageCreateArgs['loras']",
    ):
        assert expected in names


@pytest.mark.parametrize(("where", "annotation"), PARAMETERS, ids=[w for w, _ in PARAMETERS])
def test_every_parameter_check_answers_for_any_value(
    where: str, annotation: Any, tmp_path: Path
) -> None:
    check, name = _predicate(annotation)
    assert isinstance(name, str)
    for label, value in _samples(tmp_path).items():
        assert check(value) in (True, False), f"{where} with a {label}"


@pytest.mark.parametrize(
    ("annotation", "accepted", "refused"),
    [
        pytest.param(str | os.PathLike[str], ["str", "Path", "PathLike"], ["int"], id="path"),
        pytest.param(
            Callable[[int, int | None], None] | None,
            ["callable", "None"],
            ["str", "int"],
            id="callback",
        ),
        pytest.param(
            FileInput,
            ["str", "Path", "PathLike", "bytes", "file object", "upload tuple", "upload pair"],
            [],
            id="upload",
        ),
        pytest.param(Sequence[str], ["list"], ["str", "int", "generator"], id="sequence"),
        pytest.param(
            Iterable[str | Mapping[str, Any]], ["list", "generator"], ["str"], id="iterable"
        ),
    ],
)
def test_parameterized_annotations_check_their_class(
    annotation: Any, accepted: list[str], refused: list[str], tmp_path: Path
) -> None:
    check, _ = _predicate(annotation)
    samples = _samples(tmp_path)
    assert [label for label in accepted if not check(samples[label])] == []
    assert [label for label in refused if check(samples[label])] == []


# ---- each method that takes a path, an upload or a callback, on the emulator -------------------


class Api:
    """A sync or async client on a manual-clock emulator; ``api(x)`` awaits ``x`` if needed."""

    def __init__(self, mode: str) -> None:
        self.emu = Emulator(clock="manual")
        self.loop = asyncio.new_event_loop() if mode == "async" else None
        self.client: Any = self.emu.async_client() if mode == "async" else self.emu.client()

    def __call__(self, value: Any) -> Any:
        if inspect.isawaitable(value):
            assert self.loop is not None

            async def wait() -> Any:
                return await value

            return self.loop.run_until_complete(wait())
        return value

    def close(self) -> None:
        self(self.client.close())
        if self.loop is not None:
            # Finalise the async generators httpx left suspended, as asyncio.run does
            # (Python 3.13 warns "never awaited" when the loop closes with them pending).
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()
        self.emu.close()


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    made = Api(request.param)
    yield made
    made.close()


PATHS: list[Any] = [
    pytest.param(lambda p: p, id="Path"),
    pytest.param(lambda p: FsPath(p), id="PathLike"),
    pytest.param(str, id="str"),
]


@pytest.mark.parametrize("as_path", PATHS)
def test_download_images_and_videos(
    api: Api, tmp_path: Path, as_path: Callable[[Path], Any]
) -> None:
    updates: list[str] = []
    progress: list[tuple[int, int | None]] = []
    for media in ("images", "videos"):
        resource = getattr(api.client, media)
        generation = api(
            resource.create_and_wait(prompt="a lighthouse", on_update=lambda g: updates.append(g))
        )
        again = api(resource.wait(generation, on_update=updates.append))
        folder = tmp_path / media
        paths = api(
            resource.download(
                again,
                as_path(folder),
                on_progress=lambda done, total: progress.append((done, total)),
            )
        )
        assert [p.parent for p in paths] == [folder]
        assert paths[0].stat().st_size > 0
    assert len(updates) >= 4
    assert progress


def test_download_refuses_what_is_not_a_path(api: Api) -> None:
    generation = api(api.client.images.create_and_wait(prompt="a lighthouse"))
    with pytest.raises(TypeError, match="dest"):
        api(api.client.images.download(generation, 123))
    with pytest.raises(TypeError, match="on_progress"):
        api(api.client.images.download(generation, ".", on_progress="print"))


@pytest.mark.parametrize("as_path", PATHS)
def test_batch_manifest_and_download_folder(
    api: Api, tmp_path: Path, as_path: Callable[[Path], Any]
) -> None:
    progress: list[aurous.BatchProgress] = []
    for media, requests in (
        ("images", ["a red fox", "a blue whale"]),
        ("videos", [{"prompt": "waves at dusk", "resolution": "480p", "duration": 5}]),
    ):
        resource = getattr(api.client, media)
        manifest = tmp_path / f"{media}.jsonl"
        folder = tmp_path / media
        kwargs = {"manifest": as_path(manifest), "download_to": as_path(folder)}
        results = api(resource.batch(requests, on_progress=progress.append, **kwargs))
        assert [r.ok for r in results] == [True] * len(requests)
        assert all(p.parent == folder for r in results for p in r.paths)
        assert manifest.is_file()
        # The same manifest again: every item is taken from it.
        resumed = api(resource.batch(iter(requests), **kwargs))
        assert [r.skipped for r in resumed] == [True] * len(requests)
        estimate = api(resource.estimate_batch(r for r in requests))
        assert len(estimate.items) == len(requests)
    assert progress


@pytest.mark.parametrize(
    "make_file",
    [
        pytest.param(lambda p: p, id="Path"),
        pytest.param(lambda p: FsPath(p), id="PathLike"),
        pytest.param(str, id="str"),
        pytest.param(lambda p: ("ref.png", PNG, "image/png"), id="tuple"),
        pytest.param(lambda p: ("ref.png", PNG, None), id="tuple-no-mime"),
        pytest.param(lambda p: ("ref.png", PNG), id="pair"),
        pytest.param(lambda p: ("ref.png", io.BytesIO(PNG)), id="pair-file-object"),
        pytest.param(lambda p: io.BytesIO(PNG), id="file-object"),
        pytest.param(lambda p: PNG, id="bytes"),
    ],
)
def test_uploads_take_every_kind_of_file(
    api: Api, tmp_path: Path, make_file: Callable[[Path], Any]
) -> None:
    source = tmp_path / "ref.png"
    source.write_bytes(PNG)
    uploaded = api(api.client.files.create(file=make_file(source), purpose="reference"))
    assert uploaded.id.startswith("file_")
    ticket = api(api.client.characters.uploads.init(filename="ref.png"))
    assert api(api.client.characters.uploads.upload(ticket, make_file(source))) is None


@pytest.mark.parametrize("as_path", PATHS)
def test_request_and_result_files(tmp_path: Path, as_path: Callable[[Path], Any]) -> None:
    source = tmp_path / "requests.jsonl"
    source.write_text(
        "".join(json.dumps({"prompt": p}) + "\n" for p in ("a red fox", "a blue whale"))
    )
    requests = aurous.read_requests(as_path(source))
    assert list(requests) == [{"prompt": "a red fox"}, {"prompt": "a blue whale"}]
    with source.open(encoding="utf-8") as stream:
        assert list(aurous.read_requests(stream, format="jsonl")) == list(requests)

    emu = Emulator(clock="manual")
    client = emu.client()
    try:
        results = client.images.batch(requests)
    finally:
        client.close()
        emu.close()
    for name in ("results.jsonl", "results.csv"):
        written = aurous.write_results(results, as_path(tmp_path / name))
        assert written == tmp_path / name
        rows = aurous.read_results(as_path(written))
        assert [row["status"] for row in rows] == ["succeeded", "succeeded"]


def test_a_fixed_length_tuple_is_checked_position_by_position() -> None:
    from aurous._validation import _predicate

    check, name = _predicate(tuple[str, bytes])
    assert check(("a.png", b"\x89PNG"))
    assert not check(("a.png", "not bytes"))
    assert not check(("a.png",))
    assert name == "(str, bytes)"
    many, _ = _predicate(tuple[str, ...])
    assert many(("a", "b", "c"))
    assert not many(("a", 1))
