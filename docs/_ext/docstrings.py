"""Write the ``Args:`` section of every public method's docstring, from one source of truth.

``help(client.images.create)``, editor hovers and the reference all read a method's docstring.
A method that takes ``**args: Unpack[ImageCreateArgs]`` documents each key once, as the field
docstring of its ``TypedDict`` (``aurous/_params.py``, ``aurous/types/options.py``, ``_wait.py``);
an explicit parameter is documented once, in ``PARAMETERS`` below (by name, or by
``"Class.method.name"`` where a name means something else there). This script writes the
``Args:`` section of each method of the namespaces (``src/aurous/resources/*.py``) and of
``client.webhooks`` (``src/aurous/webhooks.py``) from those sources:

* the section runs from the line ``Args:`` to the end of the docstring, and only this script
  writes it (edit the sources, then run it); the prose above it is left as written;
* ``--check`` changes nothing and exits 1 when a docstring is stale or a parameter has no
  description (``tests/docs/test_docstrings.py`` runs it, as httpcore checks its unasync copy).

    python docs/_ext/docstrings.py            # rewrite the sections
    python docs/_ext/docstrings.py --check    # CI: are they current?
"""

from __future__ import annotations

import argparse
import ast
import functools
import importlib.util
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import griffe

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
WIDTH = 100

# Explicit parameters, documented once. A key "Class.method.name" wins over the plain name.
PARAMETERS: dict[str, str] = {
    # generations
    "generation_id": "The generation's id (``img_…`` or ``vid_…``).",
    "generation_or_id": "The generation (a ``Generation``) or its id (``img_…`` or ``vid_…``).",
    "timeout": "Seconds to wait in all, over every poll and sleep (``None``: no deadline).",
    "create_and_wait.timeout": "Seconds for the create and the wait together, one deadline over "
    "every request and sleep (``None``: no deadline).",
    "poll_interval": "Seconds before the first poll; each next pause is about 1.5 times longer.",
    "max_poll_interval": "The longest pause between two polls, in seconds.",
    "on_update": "Called with the first state seen and on every status change.",
    "cancel_on_timeout": "Cancel the generation when the deadline passes (before raising "
    "``WaitTimeoutError``).",
    "raise_on_failure": "Raise ``aurous.GenerationFailedError`` when the generation ends "
    "without output, instead of returning it.",
    "dest": "A directory (created if missing) or, for a single output, a file path.",
    "overwrite": "Replace existing files; otherwise an existing file raises "
    "``FileExistsError`` before anything is downloaded.",
    "download.on_progress": "Called as ``on_progress(bytes_done, bytes_total_or_None)``, counted "
    "over all outputs.",
    # batches
    "requests": "The requests: prompts, or dicts of ``create`` parameters (read lazily).",
    "concurrency": "Generations in flight at once.",
    "manifest": "A JSONL file that makes the batch resumable: run the same batch with it again "
    "to resume without generating or charging anything twice.",
    "batch.on_progress": "Called with an ``aurous.BatchProgress`` after each item and when an "
    "item starts waiting for a rate limit; raising in it stops the batch.",
    "download_to": "A directory to download each succeeded generation's outputs into.",
    "wait_timeout": "Seconds each item may wait for its generation (``None``: no deadline).",
    "max_credits": "Spend at most this many credits on the batch (earlier runs of the same "
    "manifest included); items beyond it are not started.",
    "file_name": "Names the downloads from ``{index}`` (the request's position, from 0), "
    '``{id}`` and ``{n}`` (the output\'s number), e.g. ``"{index:05d}-{n}"``; needs '
    "``download_to``.",
    "download": "Count the reads the downloads will take in the time bound.",
    "generation_seconds": "Seconds one generation takes, for the time bound (default: the team's "
    "median of the last 7 days, else the documented low end for images).",
    "use_rate_card": "Price from the rate card where it is exact; ``False`` asks the estimate "
    "endpoint for every distinct price class.",
    "check_remote": "Also send each distinct request to the estimate endpoint (free), which "
    "refuses what ``create`` would refuse; all refused requests are reported.",
    # lists
    "limit": "Page size (1–100; the API's default when left out).",
    "starting_after": "A row id: list the rows after it (older ones).",
    "ending_before": "A row id: list the rows before it (newer ones); not with ``starting_after``.",
    # files and uploads
    "file": "A path, bytes, a binary file object, or a ``(filename, content, mime)`` tuple.",
    "file_id": "The file's id (``file_…``).",
    "purpose": 'What the file is for: ``"reference"``, ``"first_frame"`` or ``"last_frame"``.',
    "Files.create.metadata": "Up to 16 string keys and values of your own, returned as given.",
    "idempotency_key": "Reuse a key to resume a call safely; by default a UUID4 is generated "
    "per call and reused on its retries.",
    "filename": "The image's file name; gives the extension and content type when they are "
    "left out.",
    "extension": "The file extension (``jpg``, ``png`` or ``webp``); must match ``content_type``.",
    "content_type": "The image's MIME type; must match ``extension``.",
    "ticket": "The ticket ``uploads.init`` returned.",
    "upload_id": "The upload's id (``upl_…``).",
    # characters
    "character_id": "The character's id (``char_…``).",
    "name": "The character's display name.",
    "upload_ids": "1–6 upload ids (``upl_…``) to make the character from (free, ready at "
    "once); not with ``generate``.",
    "generate": "Synthesize the character's reference images from ``attributes`` (paid).",
    "attributes": "Who the character is (age, build, hair, …); replaces the whole object.",
    "client_reference_id": "An id of your own, returned as given.",
    "force_all": "Accepted for forward compatibility; no effect today.",
    "pose": "Which reference image to render again.",
    "prompt_override": "Accepted for forward compatibility; ignored today.",
    # LoRAs
    "lora_id": "A LoRA id (``lora_…``), slug or legacy UUID.",
    "Usage.list.lora_id": "Only generations that used this LoRA.",
    "Usage.list_events.lora_id": "Only generations that used this LoRA.",
    # usage
    "start_time": "Start of the period (a ``datetime`` or an RFC 3339 string), included.",
    "end_time": "End of the period, excluded (default: now).",
    "bucket_width": '``"1m"``, ``"1h"`` or ``"1d"`` (default ``"1d"``).',
    "group_by": "Split each bucket by up to two of ``status``, ``api_key_id``, ``user_id``, "
    "``type`` and ``model``.",
    "status": "Only generations with this status (or any of these).",
    "type": "Only this kind of generation (or any of these).",
    "model": "Only generations of this model.",
    "api_key_id": "Only generations created with this API key (or any of these).",
    "user_id": "Only generations of this user.",
    "Usage.list.character_id": "Only generations that used this character.",
    "Usage.list.limit": "Buckets per page (1–100, default 24).",
    "Usage.list_events.limit": "Rows per page (1–500, default 100).",
    # webhook endpoints
    "endpoint_id": "The endpoint's id (``we_…``).",
    "url": "The ``https://`` URL that receives the deliveries.",
    "events": 'The event types to deliver (``"*"``: all of them); replaces the whole list.',
    "description": "A label of your own (``None`` clears it on update).",
    "WebhookEndpoints.create.metadata": "Key-value pairs of your own, returned as given.",
    "WebhookEndpoints.update.metadata": "Key-value pairs of your own; replaces the whole object.",
    "is_active": "``True`` re-enables a disabled endpoint and resets its failure count.",
    "event_type": "The event type to send a synthetic delivery of; the endpoint must subscribe "
    "to it.",
    # client.webhooks
    "payload": "The raw request body, exactly as received (a ``str`` is encoded as UTF-8).",
    "parse_callback.payload": "The callback's body (raw bytes or text) or its parsed JSON.",
    "sign.payload": "The body to sign.",
    "headers": "The request's headers (any mapping; the signature header is found "
    "case-insensitively).",
    "signature_header": "The value of the ``Aurous-Webhook-Signature`` header.",
    "secret": "The endpoint's secret (``whsec_…``), or several during a rotation; default: the "
    "client's, else ``AUROUS_WEBHOOK_SECRET``.",
    "sign.secret": "The secret to sign with (``whsec_…``).",
    "tolerance": "Accepted age of the signature's timestamp, in seconds, either way.",
    "now": "The Unix time to check the timestamp against (default: the current time).",
    "timestamp": "The Unix time to sign at (default: now).",
}


@dataclass(frozen=True)
class Method:
    """A public method whose docstring gets an ``Args:`` section."""

    file: Path
    qualname: str
    """``Class.method``."""
    parameters: list[tuple[str, str]]
    """(name, description) in signature order; a missing description is ``""``."""


def _griffe_aurous() -> Any:
    spec = importlib.util.spec_from_file_location(
        "griffe_aurous", Path(__file__).with_name("griffe_aurous.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _one_paragraph(text: str) -> str:
    return " ".join(text.split())


def _described(cls_name: str, method: str, name: str) -> str:
    for key in (f"{cls_name}.{method}.{name}", f"{method}.{name}", name):
        if key in PARAMETERS:
            return PARAMETERS[key]
    return ""


def _parameters(func: griffe.Function, cls_name: str, helpers: Any) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for parameter in func.parameters:
        if parameter.name in ("self", "cls"):
            continue
        annotation = parameter.annotation
        if parameter.kind is griffe.ParameterKind.var_keyword:
            typed_dict = helpers._resolve_class(getattr(annotation, "slice", None), func)
            if typed_dict is None:
                raise SystemExit(f"{func.path}: cannot resolve **{parameter.name}: {annotation}")
            for attr, _annotation, _required in helpers._typeddict_fields(typed_dict):
                if any(name == attr.name for name, _ in found):
                    continue
                doc = attr.docstring.value if attr.docstring is not None else ""
                found.append((attr.name, _one_paragraph(doc)))
            continue
        found.append((parameter.name, _described(cls_name, func.name, parameter.name)))
    return found


@functools.cache
def _package() -> griffe.Module:
    # Loaded once per process: reading the whole package is most of this script's time.
    return griffe.load("aurous", search_paths=[str(SRC)], resolve_aliases=False)


def methods() -> list[Method]:
    """Every public method of the namespaces and of ``client.webhooks``, with its parameters."""
    helpers = _griffe_aurous()
    package = _package()
    modules: list[griffe.Module] = []
    resources = package["resources"]
    for name in sorted(resources.members):
        member = resources.members[name]
        if isinstance(member, griffe.Module) and name != "__init__":
            modules.append(member)
    modules.append(package["webhooks"])
    found: list[Method] = []
    for module in modules:
        for cls in module.classes.values():
            if cls.is_alias or (module.name == "webhooks" and cls.name != "Webhooks"):
                continue
            for func in cls.functions.values():
                if func.is_alias or func.name.startswith("_"):
                    continue
                found.append(
                    Method(
                        Path(str(module.filepath)),
                        f"{cls.name}.{func.name}",
                        _parameters(func, cls.name, helpers),
                    )
                )
    return found


def args_section(parameters: list[tuple[str, str]], indent: str) -> list[str]:
    """The ``Args:`` lines (wrapped to ``WIDTH``), indented like the docstring."""
    lines = [f"{indent}Args:"]
    for name, description in parameters:
        lines += textwrap.wrap(
            f"{name}: {description}",
            width=WIDTH,
            initial_indent=indent + "    ",
            subsequent_indent=indent + "        ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    return lines


def _docstring_node(tree: ast.Module, qualname: str) -> ast.Constant:
    cls_name, func_name = qualname.split(".")
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls_name:
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    if item.name != func_name:
                        continue
                    first = item.body[0] if item.body else None
                    if (
                        isinstance(first, ast.Expr)
                        and isinstance(first.value, ast.Constant)
                        and isinstance(first.value.value, str)
                    ):
                        return first.value
                    raise SystemExit(f"{qualname}: write a docstring (its prose) first")
    raise SystemExit(f"{qualname}: not found")


def _prose(raw: str) -> str:
    """The docstring's text up to its ``Args:`` section (which is regenerated)."""
    kept: list[str] = []
    for line in raw.split("\n"):
        if line.strip() == "Args:":
            break
        kept.append(line)
    return "\n".join(kept).rstrip()


def rewrite(source: str, found: list[Method]) -> str:
    """``source`` with the ``Args:`` section of each method in ``found`` written anew."""
    tree = ast.parse(source)
    lines = source.split("\n")
    edits: list[tuple[int, int, list[str]]] = []
    for method in found:
        if not method.parameters:
            continue
        node = _docstring_node(tree, method.qualname)
        assert node.end_lineno is not None
        start, end = node.lineno - 1, node.end_lineno - 1
        first = lines[start]
        indent = first[: len(first) - len(first.lstrip())]
        if not first.lstrip().startswith('"""') or not lines[end].rstrip().endswith('"""'):
            raise SystemExit(f'{method.qualname}: write the docstring between lines of """')
        text = "\n".join(lines[start : end + 1]).strip()
        prose = _prose(text[3:-3]).split("\n")
        new = [f'{indent}"""{prose[0]}', *prose[1:], ""]
        new += args_section(method.parameters, indent)
        new.append(f'{indent}"""')
        edits.append((start, end, new))
    for start, end, new in sorted(edits, reverse=True):
        lines[start : end + 1] = new
    return "\n".join(lines)


def stale(found: list[Method]) -> Iterator[tuple[Path, str]]:
    """(file, new text) for every file whose sections are not what the sources say."""
    by_file: dict[Path, list[Method]] = {}
    for method in found:
        by_file.setdefault(method.file, []).append(method)
    for path, group in sorted(by_file.items()):
        source = path.read_text(encoding="utf-8")
        updated = rewrite(source, group)
        if updated != source:
            yield path, updated


def undocumented(found: list[Method]) -> list[str]:
    return [
        f"{m.qualname}({name})"
        for m in found
        for name, description in m.parameters
        if not description
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    found = methods()
    missing = undocumented(found)
    if missing:
        print(
            "parameters without a description (add them to PARAMETERS in "
            f"docs/_ext/docstrings.py, or a docstring to the TypedDict field): {', '.join(missing)}",
            file=sys.stderr,
        )
        return 1
    changed = list(stale(found))
    if args.check:
        for path, _ in changed:
            print(f"{path.relative_to(ROOT)}: Args sections are stale", file=sys.stderr)
        if changed:
            print("run: python docs/_ext/docstrings.py", file=sys.stderr)
        return 1 if changed else 0
    for path, text in changed:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
