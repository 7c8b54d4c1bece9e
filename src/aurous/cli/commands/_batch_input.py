"""What ``aurous batch`` sends: the requests file as ``aurous.read_requests`` reads it, with the
command line's defaults applied, every line checked before anything is sent.

The file's format is the SDK's (``.jsonl``, ``.csv``, ``.txt``, or ``--format``), so a script
reading the same file with ``aurous.read_requests`` sends the same requests, and can resume a run
the command started with the same manifest.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import sys
from pathlib import Path
from typing import Any, Literal

from ..._batch._files import RequestFileError, RequestFormat, read_requests
from ..._batch._names import FileNameTemplate
from .._errors import UsageError
from .generate import lora_params

__all__ = ["BadLines", "Requests", "check_name", "load"]

Media = Literal["image", "video"]

MAX_ERRORS = 20
"""Bad lines reported at most (``read_requests``' default); the rest are counted."""

_IMAGE_DEFAULTS = {"size": "--size", "count": "--count"}
_VIDEO_DEFAULTS = {
    "resolution": "--resolution",
    "ratio": "--ratio",
    "duration": "--duration",
    "camera_fixed": "--camera-fixed",
}
_LORAS = ("lora_id", "loras", "video_lora_id")
_GROUPS = {
    "lora_id": _LORAS,
    "loras": _LORAS,
    "video_lora_id": _LORAS,
    "size": ("size", "width", "height"),
}
"""Fields a default stands for: a request setting any of them keeps its own."""


class BadLines(Exception):
    """Lines of the requests file that cannot be sent; nothing was (exit code 2)."""

    def __init__(self, path: str, errors: list[tuple[int, str]], count: int) -> None:
        super().__init__(f"{path}: {count} bad line{'' if count == 1 else 's'}")
        self.path = path
        self.errors = errors
        self.count = count


@dataclasses.dataclass(frozen=True)
class Requests:
    """The requests to run, in file order, with the line each came from."""

    items: list[dict[str, Any]]
    lines: list[int]
    path: str
    media: Media


def load(args: argparse.Namespace) -> Requests:
    """Read, default and check the requests of ``args.file``; `BadLines` or `UsageError`."""
    media: Media = "video" if args.video else "image"
    values = defaults(args, media)  # options that do not fit: before stdin is read
    # A dry run also names values the API does not document, unless the API is asked.
    strict = bool(getattr(args, "dry_run", False) and not getattr(args, "check_remote", False))
    name, text = _source(args.file)
    kind: RequestFormat | None = args.format or ("text" if args.file == "-" else None)
    try:
        if text is not None:
            stream = io.StringIO(text)
            stream.name = name
            read = read_requests(
                stream, format=kind, media=media, max_errors=MAX_ERRORS, strict=strict
            )
        else:
            read = read_requests(
                name, format=kind, media=media, max_errors=MAX_ERRORS, strict=strict
            )
    except RequestFileError as exc:
        raise _with_json_lines(name, text, kind, exc.errors, exc.count) from None
    except FileNotFoundError:
        raise UsageError(f"no such file: {name}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from None
    except ValueError:  # the only other one: no format given, and the name does not tell
        raise UsageError(
            f"cannot tell the format of {name} from its name: call it .jsonl, .csv or .txt, or "
            "pass --format jsonl|csv|text"
        ) from None
    if read.format == "text":
        problems = _json_lines(_text_of(name, text))
        if problems:
            raise BadLines(name, problems[:MAX_ERRORS], len(problems))
    if not read:
        raise UsageError(f"{name} holds no requests")
    requests = Requests(list(read), list(read.lines), name, media)
    return _defaulted(requests, values)


def _source(file: str) -> tuple[str, str | None]:
    """The name to report, and the text when it comes from stdin (a path is read by the SDK)."""
    if file != "-":
        return file, None
    try:
        return "<stdin>", sys.stdin.read()
    except UnicodeDecodeError:
        raise UsageError("<stdin> is not UTF-8 text") from None


def _text_of(name: str, text: str | None) -> str:
    if text is not None:
        return text
    # Undecodable bytes are the SDK's to report; the lines around them are still worth reading.
    return Path(name).read_bytes().decode("utf-8-sig", errors="replace")


def _json_lines(text: str) -> list[tuple[int, str]]:
    """Lines of a text file that are JSON objects: sent as they are, they would be prompts.

    Before the SDK read request files, the command took such a line for create parameters;
    refusing it keeps an old mixed file from generating (and billing) images of JSON text.
    """
    found: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(
                (
                    number,
                    "a JSON object in a text file, where each line is a prompt: put create "
                    "parameters in a .jsonl file (or pass --format jsonl)",
                )
            )
    return found


def _with_json_lines(
    name: str, text: str | None, kind: str | None, errors: list[tuple[int, str]], count: int
) -> BadLines:
    """The SDK's bad lines, and for a text file its JSON-object lines too: all in one report."""
    is_text = kind == "text" or (kind is None and Path(name).suffix.lower() == ".txt")
    extra: list[tuple[int, str]] = []
    if is_text:
        try:
            seen = {line for line, _ in errors}
            extra = [p for p in _json_lines(_text_of(name, text)) if p[0] not in seen]
        except OSError:
            extra = []  # the SDK's report already says why the file cannot be read
    merged = sorted(errors + extra, key=lambda error: error[0])
    return BadLines(name, merged[:MAX_ERRORS], count + len(extra))


def defaults(args: argparse.Namespace, media: Media) -> dict[str, Any]:
    """The create parameters the options give lines that do not set them."""
    if media == "video":
        _refuse(args, _IMAGE_DEFAULTS, "image", "without --video")
        values = {key: getattr(args, key) for key in _VIDEO_DEFAULTS}
        loras = [*(args.lora or []), *([args.video_lora] if args.video_lora else [])]
        if len(loras) > 1:
            raise UsageError("a video has one LoRA: give --lora (or --video-lora) once")
        if loras:
            values["video_lora_id"] = loras[0]
    else:
        _refuse(args, _VIDEO_DEFAULTS, "video", "with --video")
        if args.video_lora is not None:
            raise UsageError("--video-lora is a default for video batches: add --video")
        values = {key: getattr(args, key) for key in _IMAGE_DEFAULTS}
        values.update(lora_params(args.lora))
    return {key: value for key, value in values.items() if value is not None}


def _refuse(args: argparse.Namespace, options: dict[str, str], kind: str, hint: str) -> None:
    for key, flag in options.items():
        if getattr(args, key) is not None:
            raise UsageError(f"{flag} is a default for {kind} requests: use it {hint}")


def _defaulted(requests: Requests, values: dict[str, Any]) -> Requests:
    """``values`` set on every request that leaves them out.

    A request that sets a field of a group (its own LoRA in any form, its own size as
    ``width``/``height``) keeps it: the default of that group would clash with it.
    """
    if not values:
        return requests
    merged: list[dict[str, Any]] = []
    for request in requests.items:
        body = dict(request)
        for key, value in values.items():
            group = _GROUPS.get(key, (key,))
            if not any(field in body for field in group):
                body[key] = value
        merged.append(body)
    return dataclasses.replace(requests, items=merged)


def check_name(args: argparse.Namespace, requests: Requests | None) -> None:
    """``--name`` is a template the SDK accepts, and tells every output of the batch apart."""
    template = args.name
    if template is None:
        return
    if args.no_download:
        raise UsageError("--name names the downloaded files: it cannot go with --no-download")
    try:
        parsed = FileNameTemplate.parse(template)
    except ValueError as exc:
        raise UsageError("--name" + str(exc).removeprefix("file_name")) from None
    if parsed.numbers_outputs or requests is None or requests.media == "video":
        return
    several = [
        line
        for line, request in zip(requests.lines, requests.items, strict=True)
        if (request.get("count") or 1) > 1
    ]
    if several:
        shown = ", ".join(str(line) for line in several[:10])
        more = f" and {len(several) - 10} more" if len(several) > 10 else ""
        raise UsageError(
            f"--name {template!r} has no {{n}}, but line{'s' if len(several) > 1 else ''} "
            f"{shown}{more} of {requests.path} ask for several images: add {{n}} "
            f"(e.g. {template + '-{n}'!r}) so that each image gets its own name"
        )
