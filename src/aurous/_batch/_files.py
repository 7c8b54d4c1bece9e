"""Batch requests from files and batch results to files: ``aurous.read_requests`` and
``aurous.write_results`` (the ``aurous batch`` command is a thin layer over them).

Requests files come in three formats, told by the extension or ``format=``:

- ``jsonl`` (``.jsonl``, ``.ndjson``): one JSON object of create parameters per line; blank
  lines are skipped, anything else that is not an object is an error;
- ``csv`` (``.csv``): a header row of parameter names, then one request per row; cells are
  converted to each parameter's type (int, float, bool, lists: a JSON array or ``a|b|c``; LoRA
  stacks and option dicts: JSON); an empty cell means "not given";
- ``text`` (``.txt``): one prompt per line; blank lines and ``#`` comments are skipped.

Every request is checked as its create method would check it (unknown parameters with the
closest known name, wrong types, impossible combinations) before anything is sent; all bad lines
(up to ``max_errors``) are reported together in one `RequestFileError`, with line numbers.
"""

from __future__ import annotations

import collections.abc
import contextlib
import csv
import difflib
import io
import json
import math
import os
import tempfile
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Literal, Union, get_args, get_origin

from typing_extensions import NotRequired, Required

from .._params import ImageCreateArgs, VideoCreateArgs
from ..types.batch import BatchResult
from ._requests import Media, prepared_call, undocumented_values

__all__ = [
    "RequestFileError",
    "RequestFormat",
    "RequestList",
    "ResultFormat",
    "read_requests",
    "read_results",
    "write_results",
]

RequestFormat = Literal["jsonl", "csv", "text"]
ResultFormat = Literal["jsonl", "csv"]

_REQUEST_SUFFIXES: dict[str, RequestFormat] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".txt": "text",
}
_RESULT_SUFFIXES: dict[str, ResultFormat] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})
RESULT_COLUMNS = (
    "index",
    "status",
    "not_started",
    "skipped",
    "generation_id",
    "generation_status",
    "credits",
    "idempotency_key",
    "paths",
    "error",
    "request",
)
"""Columns of a results file, in order (``request`` last: it is the widest)."""


class RequestFileError(ValueError):
    """A requests file has bad lines; nothing was sent.

    ``errors`` lists ``(line number, message)`` for the first ``max_errors`` bad lines (line 0:
    the file as a whole); ``count`` is how many bad lines there are in all.
    """

    def __init__(self, path: str, errors: list[tuple[int, str]], count: int) -> None:
        self.path = path
        self.errors = errors
        self.count = count
        super().__init__(self._message())

    def _message(self) -> str:
        noun = "line" if self.count == 1 else "lines"
        lines = [f"{self.path}: {self.count} bad {noun}"]
        lines += [f"  line {n}: {message}" if n else f"  {message}" for n, message in self.errors]
        if self.count > len(self.errors):
            lines.append(f"  … and {self.count - len(self.errors)} more")
        return "\n".join(lines)


RequestFileError.__module__ = "aurous"  # read and imported as aurous.RequestFileError


class RequestList(list[dict[str, Any]]):
    """The requests read from a file (a list of create-parameter dicts, batch-ready).

    ``lines[i]`` is the line request ``i`` came from, ``path`` and ``format`` where and how it
    was read.
    """

    def __init__(
        self,
        requests: Iterable[dict[str, Any]] = (),
        *,
        lines: list[int] | None = None,
        path: str = "",
        format: RequestFormat = "jsonl",
    ) -> None:
        super().__init__(requests)
        self.lines: list[int] = lines if lines is not None else list(range(1, len(self) + 1))
        self.path = path
        self.format: RequestFormat = format


class _Collector:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.errors: list[tuple[int, str]] = []
        self.count = 0

    def add(self, line: int, message: str) -> None:
        self.count += 1
        if len(self.errors) < self.limit:
            self.errors.append((line, message))


# ---- reading requests --------------------------------------------------------------------------


def read_requests(
    source: str | os.PathLike[str] | IO[str],
    *,
    format: RequestFormat | None = None,
    media: Media = "image",
    max_errors: int = 20,
    strict: bool = False,
) -> RequestList:
    """Read batch requests from a JSONL, CSV or text file, checked for ``media``'s create.

    ``source`` is a path (the format is told by its extension: ``.jsonl``, ``.csv``, ``.txt``,
    unless ``format=`` says) or an open text stream (``format=`` required). Each request is
    checked against ``images.create`` (``media="image"``) or ``videos.create``: a file with bad
    lines raises `RequestFileError` (a ValueError) listing up to ``max_errors`` of them with
    their line numbers, before anything is sent; a file that cannot be read raises the usual
    ``OSError``. The result is a list of dicts (``.lines``: the line each request came from) to
    pass to ``batch`` or ``estimate_batch``.

    ``strict=True`` also refuses sizes, resolutions and ratios the API does not document, as
    ``aurous batch --dry-run`` does: ``create`` sends them (the API may have added values since
    this SDK was released), and ``estimate_batch(..., check_remote=True)`` asks the API.

    >>> requests = aurous.read_requests("prompts.csv")
    >>> results = client.images.batch(requests, manifest="run.jsonl")
    """
    if media not in ("image", "video"):
        raise ValueError(f"media must be 'image' or 'video', not {media!r}")
    if isinstance(max_errors, bool) or not isinstance(max_errors, int) or max_errors < 1:
        raise ValueError(f"max_errors must be a positive int, got {max_errors!r}")
    name, text = _read_text(source)
    kind = _request_format(name, format, isinstance(source, (str, os.PathLike)))
    collector = _Collector(max_errors)
    if kind == "csv":
        rows = _csv_rows(text, media, collector)
    elif kind == "jsonl":
        rows = _jsonl_rows(text, collector)
    else:
        rows = _text_rows(text)
    requests: list[dict[str, Any]] = []
    lines: list[int] = []
    keys: dict[str, int] = {}
    for line, request in rows:
        try:
            prepared_call(media, request)
        except (TypeError, ValueError) as exc:
            collector.add(line, str(exc))
            continue
        unknown = undocumented_values(media, request) if strict else []
        if unknown:
            collector.add(line, "; ".join(unknown))
            continue
        key = request.get("idempotency_key")
        if isinstance(key, str):
            if key in keys:
                collector.add(line, f"idempotency_key {key!r} is also on line {keys[key]}")
                continue
            keys[key] = line
        requests.append(request)
        lines.append(line)
    if collector.count:
        raise RequestFileError(name, collector.errors, collector.count)
    return RequestList(requests, lines=lines, path=name, format=kind)


def _read_text(source: str | os.PathLike[str] | IO[str]) -> tuple[str, str]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(os.fspath(source))
        raw = path.read_bytes()
        try:
            return str(path), raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise RequestFileError(str(path), [(line, "not UTF-8 text")], 1) from None
    if not hasattr(source, "read"):
        raise TypeError(f"source must be a path or a text stream, not {type(source).__name__}")
    text = source.read()
    if not isinstance(text, str):
        raise TypeError("source must be opened in text mode")
    return str(getattr(source, "name", "<stream>")), text.removeprefix("\ufeff")


def _request_format(name: str, given: str | None, is_path: bool) -> RequestFormat:
    if given is not None:
        if given == "txt":
            return "text"
        if given not in ("jsonl", "csv", "text"):
            raise ValueError(f"format must be 'jsonl', 'csv' or 'text', not {given!r}")
        return given  # type: ignore[return-value]
    found = _REQUEST_SUFFIXES.get(Path(name).suffix.lower()) if is_path else None
    if found is None:
        raise ValueError(
            f"cannot tell the format of {name} from its name; pass format='jsonl', 'csv' or "
            "'text' (the extensions are .jsonl, .csv and .txt)"
        )
    return found


def _text_rows(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield number, {"prompt": line}


def _jsonl_rows(text: str, errors: _Collector) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            errors.add(number, f"not valid JSON: {exc}")
            continue
        if not isinstance(value, dict):
            kind = "an array" if isinstance(value, list) else f"a {type(value).__name__}"
            errors.add(number, f"a line must be a JSON object of create parameters, not {kind}")
            continue
        yield number, value


# ---- CSV cells to parameter values ---------------------------------------------------------------

Convert = Callable[[str], Any]


def _bool(cell: str) -> bool:
    lowered = cell.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{cell!r} is not a boolean (true/false, yes/no, 1/0)")


def _int(cell: str) -> int:
    try:
        return int(cell)
    except ValueError:
        raise ValueError(f"{cell!r} is not an integer") from None


def _float(cell: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(f"{cell!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{cell!r} is not a finite number")
    return value


def _json(cell: str) -> Any:
    try:
        return json.loads(cell)
    except ValueError:
        raise ValueError(f"{cell[:60]!r} is not valid JSON") from None


def _strings(cell: str) -> Any:
    # "|" cannot appear unencoded in a URL, and ids have none: a safe separator for a cell.
    if cell.startswith("["):
        return _json(cell)
    return [part.strip() for part in cell.split("|") if part.strip()]


def _converter(hint: Any) -> Convert:
    """How a CSV cell becomes a value of annotation ``hint`` (the create TypedDicts' types)."""
    origin = get_origin(hint)
    if origin in (Required, NotRequired):
        return _converter(get_args(hint)[0])
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        converters = [_converter(a) for a in options]
        for preferred in (_bool, _int, _float, _strings, _json):
            if preferred in converters:
                return preferred
        return str
    if hint is bool:
        return _bool
    if hint is int:
        return _int
    if hint is float:
        return _float
    if origin in (list, tuple, collections.abc.Sequence):
        args = get_args(hint)
        return _strings if args and args[0] is str else _json
    if origin in (dict, collections.abc.Mapping):
        return _json
    return str


def _converters(media: Media) -> dict[str, Convert]:
    args = VideoCreateArgs if media == "video" else ImageCreateArgs
    hints = typing.get_type_hints(args, include_extras=True)
    return {name: _converter(hint) for name, hint in hints.items()}


def _csv_columns(header: list[str], known: Mapping[str, Convert], errors: _Collector) -> list[str]:
    """The header's parameter names; unknown or repeated ones are line 1's errors."""
    columns = [name.strip() for name in header]
    for name in columns:
        if name and name not in known:
            close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            errors.add(1, f"unknown column {name!r}{hint}")
    for name in sorted({name for name in columns if name and columns.count(name) > 1}):
        errors.add(1, f"column {name!r} appears more than once")
    return columns


def _csv_request(
    columns: list[str], row: list[str], converters: Mapping[str, Convert]
) -> tuple[dict[str, Any], list[str]]:
    """One row's request, and what is wrong with its cells."""
    if len(row) > len(columns):
        return {}, [f"{len(row)} cells, but the header has {len(columns)} columns"]
    request: dict[str, Any] = {}
    problems: list[str] = []
    for name, cell in zip(columns, row, strict=False):
        cell = cell.strip()
        if not name or not cell:
            continue  # an empty cell: not given
        try:
            request[name] = converters[name](cell)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    return request, problems


def _csv_rows(text: str, media: Media, errors: _Collector) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    converters = _converters(media)
    columns: list[str] | None = None
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.add(start, f"not valid CSV: {exc}")
            return
        # A quoted cell may span lines: a row is numbered by the line it starts on.
        number, start = start, reader.line_num + 1
        if columns is None:
            columns = _csv_columns(row, converters, errors)
            if errors.count:
                return
            continue
        if not any(cell.strip() for cell in row):
            continue
        request, problems = _csv_request(columns, row, converters)
        if problems:
            errors.add(number, "; ".join(problems))
        else:
            yield number, request


# ---- results -------------------------------------------------------------------------------------


def _result_format(path: Path, given: str | None) -> ResultFormat:
    if given is not None:
        if given not in ("jsonl", "csv"):
            raise ValueError(f"format must be 'jsonl' or 'csv', not {given!r}")
        return given  # type: ignore[return-value]
    found = _RESULT_SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise ValueError(
            f"cannot tell the format of {path} from its name; pass format='jsonl' or 'csv'"
        )
    return found


def result_row(result: BatchResult) -> dict[str, Any]:
    """One result as `write_results` writes it (the CLI's ``--json`` rows start from this)."""
    return _row(result)


def _row(result: BatchResult) -> dict[str, Any]:
    generation = result.generation
    error = result.error
    return {
        "index": result.index,
        "status": result.status,
        "not_started": result.not_started,
        "skipped": result.skipped,
        "generation_id": generation.id if generation is not None else None,
        "generation_status": generation.status if generation is not None else None,
        "credits": result.credits,
        "idempotency_key": result.idempotency_key,
        "paths": [str(path) for path in result.paths],
        "error": {"class": type(error).__name__, "message": str(error)} if error else None,
        "request": result.request,
    }


def _csv_cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "error":
        return f"{value['class']}: {value['message']}"
    if name in ("request", "paths"):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_results(
    results: Iterable[BatchResult],
    path: str | os.PathLike[str],
    *,
    format: ResultFormat | None = None,
) -> Path:
    """Write batch results to a ``.jsonl`` or ``.csv`` file (or ``format=``); return its path.

    One row per result with the columns ``index``, ``status`` (``succeeded``, ``failed`` or
    ``not_started``), ``not_started``, ``skipped``, ``generation_id``, ``generation_status``,
    ``credits``, ``idempotency_key``, ``paths`` (the downloaded files), ``error`` (class and
    message) and ``request`` (the create parameters). In CSV, ``request`` and ``paths`` are
    JSON and ``error`` reads ``Class: message``. The file is replaced atomically.

    >>> aurous.write_results(results, "results.csv")
    """
    target = Path(os.fspath(path))
    kind = _result_format(target, format)
    rows = [_row(result) for result in results]
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        # A lone surrogate (an answer may carry one) has no UTF-8 form: written as its backslash
        # escape (``\udc80``), which inside a JSON string reads back as the very same text.
        with open(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") as handle:
            if kind == "csv":
                writer = csv.writer(handle)
                writer.writerow(RESULT_COLUMNS)
                for row in rows:
                    writer.writerow([_csv_cell(name, row[name]) for name in RESULT_COLUMNS])
            else:
                for row in rows:
                    handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return target


def _error_from_cell(cell: str) -> dict[str, str] | None:
    if not cell:
        return None
    name, _, message = cell.partition(": ")
    return {"class": name, "message": message}


def read_results(
    path: str | os.PathLike[str], *, format: ResultFormat | None = None
) -> list[dict[str, Any]]:
    """Read a file written by `write_results`: one dict per row, values typed as written."""
    target = Path(os.fspath(path))
    kind = _result_format(target, format)
    text = target.read_text(encoding="utf-8-sig")
    if kind == "jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    rows: list[dict[str, Any]] = []
    for raw in csv.DictReader(io.StringIO(text, newline="")):
        credits = raw.get("credits") or ""
        rows.append(
            {
                "index": int(raw["index"]),
                "status": raw["status"],
                "not_started": raw["not_started"] == "true",
                "skipped": raw["skipped"] == "true",
                "generation_id": raw["generation_id"] or None,
                "generation_status": raw["generation_status"] or None,
                "credits": float(credits) if credits else None,
                "idempotency_key": raw["idempotency_key"],
                "paths": json.loads(raw["paths"] or "[]"),
                "error": _error_from_cell(raw["error"]),
                "request": json.loads(raw["request"] or "{}"),
            }
        )
    return rows
