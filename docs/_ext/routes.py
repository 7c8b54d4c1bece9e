"""Write the route table of ``api.md`` from ``spec/openapi.yaml`` and the SDK's own signatures.

    python docs/_ext/routes.py           # rewrite the table in api.md
    python docs/_ext/routes.py --check   # exit 1 if api.md is not current (the tests run this)

One row per SDK method the document names (``x-aurous-sdk-method`` and ``x-aurous-sdk-aliases``),
grouped by namespace under ``## `client.<namespace>` `` headings: the method, its route, what the
sync client returns (read from the method's run-time signature, as ``help()`` shows it) and
whether the route takes an ``Idempotency-Key``. The table sits between two markers in ``api.md``;
the documentation site includes the same lines (``docs/reference/endpoints.md``).
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
import typing
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "spec" / "openapi.yaml"
API_MD = ROOT / "api.md"
START = "<!-- --8<-- [start:routes] -->"
END = "<!-- --8<-- [end:routes] -->"
HTTP_METHODS = ("get", "put", "post", "patch", "delete")

_QUALIFIED = re.compile(
    r"\b(?:aurous|pathlib|builtins|typing|collections\.abc)(?:\.[A-Za-z_]\w*)*\."
)


def annotation_text(annotation: Any) -> str:
    """``SyncPage[Generation]``, ``list[Path]``, ``None``: names without their modules."""
    if annotation is None or annotation is type(None):
        return "None"
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return _QUALIFIED.sub("", inspect.formatannotation(annotation))


def sdk_method(dotted: str) -> Any:
    """The method descriptor of ``aurous.Client`` at a dotted path (``characters.uploads.init``)."""
    import aurous

    target: Any = aurous.Client
    for part in dotted.split("."):
        target = getattr(target, part)
    return target


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's operations that an SDK method calls, in document order."""
    found = []
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None or operation.get("x-aurous-sdk-method") is None:
                continue
            names = [operation["x-aurous-sdk-method"], *operation.get("x-aurous-sdk-aliases", [])]
            route = f"{method.upper()} {path}"
            if "servers" in item:
                # A signed URL on an origin of its own: the path is not the caller's business.
                route = f"{method.upper()} <signed upload_url>"
            for name in names:
                found.append(
                    {
                        "name": name,
                        "route": route,
                        "summary": operation.get("summary", ""),
                        "idempotent": bool(operation.get("x-aurous-idempotent", False)),
                    }
                )
    return found


def render(document: dict[str, Any]) -> str:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in operations(document):
        groups.setdefault(row["name"].split(".")[0], []).append(row)
    lines = [START, ""]
    for namespace, rows in groups.items():
        lines += [
            f"## `client.{namespace}`",
            "",
            "| Method | Route | Returns | Idempotency-Key | What it does |",
            "|---|---|---|---|---|",
        ]
        for row in rows:
            signature = inspect.signature(sdk_method(row["name"]))
            returns = annotation_text(signature.return_annotation)
            key = "yes" if row["idempotent"] else ""
            summary = row["summary"].replace("|", "\\|")
            lines.append(
                f"| `{row['name']}` | `{row['route']}` | `{returns}` | {key} | {summary} |"
            )
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def updated(text: str, table: str) -> str:
    start, end = text.index(START), text.index(END) + len(END)
    return text[:start] + table + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail if api.md is not current")
    args = parser.parse_args(argv)
    document = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    text = API_MD.read_text(encoding="utf-8")
    new = updated(text, render(document))
    if args.check:
        if new != text:
            print("api.md is not current: run python docs/_ext/routes.py", file=sys.stderr)
            return 1
        return 0
    API_MD.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
