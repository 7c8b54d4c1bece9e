"""What the reference promises about the code itself.

* ``api.md``'s route table is what ``docs/_ext/routes.py`` generates from ``spec/openapi.yaml``
  and the SDK's signatures today (``tests/test_endpoint_table.py`` reads the same table).
* The types mypy reveals for the results of every namespace method, on both clients, name only
  public modules: what users see in their editor is what they can import and annotate with.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import aurous

from ._blocks import ROOT


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ROUTES = _load(ROOT / "docs" / "_ext" / "routes.py")


def test_api_md_route_table_is_current() -> None:
    assert ROUTES.main(["--check"]) == 0, "run: python docs/_ext/routes.py"


def test_route_table_check_notices_a_stale_table(tmp_path: Path, monkeypatch: Any) -> None:
    stale = tmp_path / "api.md"
    text = (ROOT / "api.md").read_text(encoding="utf-8")
    stale.write_text(text.replace("`POST /v1/images`", "`POST /v1/imagez`"), encoding="utf-8")
    monkeypatch.setattr(ROUTES, "API_MD", stale)
    assert ROUTES.main(["--check"]) == 1


def test_route_table_shows_public_return_types() -> None:
    text = (ROOT / "api.md").read_text(encoding="utf-8")
    assert "| `images.list` | `GET /v1/images` | `SyncPage[Generation]` |" in text
    assert "| `loras.list` | `GET /v1/loras` | `ModelList[Lora]` |" in text
    assert "Steps[" not in text
    assert "PageRequest[" not in text


# -------------------------------------------------------------------------------------------------
# Revealed types
# -------------------------------------------------------------------------------------------------


def namespace_methods() -> list[str]:
    """Every public method of every namespace of ``aurous.Client`` (``characters.uploads.init``)."""
    client = aurous.Client(api_key="al_test_reveal")
    found: list[str] = []

    def visit(namespace: object, prefix: str) -> None:
        for name in dir(namespace):
            if name.startswith("_"):
                continue
            value = getattr(namespace, name)
            if not callable(value) and type(value).__module__.startswith("aurous."):
                visit(value, f"{prefix}{name}.")
            elif callable(value) and not isinstance(value, type):
                found.append(f"{prefix}{name}")

    for name in dir(client):
        if name == "with_raw_response":  # the same namespaces again, answering APIResponse
            continue
        value = getattr(client, name)
        if not name.startswith("_") and type(value).__module__.startswith("aurous."):
            visit(value, f"{name}.")
    client.close()
    return sorted(found)


def _call(dotted: str, receiver: str) -> str:
    """``receiver.dotted(required=ANY, …)``: a call mypy accepts, whatever the types."""
    with aurous.Client(api_key="al_test_reveal") as client:
        target: Any = client
        for part in dotted.split("."):
            target = getattr(target, part)
        signature = inspect.signature(target)
    args = [
        f"{p.name}=ANY" if p.kind is not p.POSITIONAL_ONLY else "ANY"
        for p in signature.parameters.values()
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    return f"{receiver}.{dotted}({', '.join(args)})"


def _is_coroutine_method(dotted: str) -> bool:
    aclient = aurous.AsyncClient(api_key="al_test_reveal")
    target: Any = aclient
    for part in dotted.split("."):
        target = getattr(target, part)
    asyncio.run(aclient.aclose())
    return inspect.iscoroutinefunction(target)


def reveal_source(methods: list[str]) -> tuple[str, list[str]]:
    """A module revealing each method's result on both clients, and what each line reveals."""
    lines = [
        "from typing import Any",
        "import aurous",
        "ANY: Any = None",
        "client = aurous.Client()",
        "aclient = aurous.AsyncClient()",
        "async def main() -> None:",
    ]
    labels: list[str] = [""] * len(lines)
    for dotted in methods:
        lines.append(f"    reveal_type({_call(dotted, 'client')})")
        labels.append(f"client.{dotted}(…)")
        call = _call(dotted, "aclient")
        # Coroutine methods are awaited; list methods return a pager and webhooks do no I/O.
        awaited = f"await {call}" if _is_coroutine_method(dotted) else call
        lines.append(f"    reveal_type({awaited})")
        labels.append(f"{awaited.split('(')[0]}(…)")
    return "\n".join(lines) + "\n", labels


_REVEALED = re.compile(r':(?P<line>\d+): note: Revealed type is "(?P<type>.*)"$')
_PRIVATE = re.compile(r"\baurous(?:\.\w+)*\._\w+")


def revealed_types(source: str, tmp_path: Path) -> dict[int, str]:
    file = tmp_path / "reveal_results.py"
    file.write_text(source, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", str(ROOT / "pyproject.toml"),
         "--no-error-summary", str(file)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    found = {}
    for line in done.stdout.splitlines():
        match = _REVEALED.search(line)
        if match is not None:
            found[int(match["line"])] = match["type"]
        elif ": error:" in line:
            pytest.fail(f"the reveal module does not type-check: {line}")
    return found


@pytest.mark.slow
def test_revealed_result_types_name_no_private_module(tmp_path: Path) -> None:
    methods = namespace_methods()
    assert {"images.create", "images.list", "images.batch", "loras.list"} <= set(methods)
    source, labels = reveal_source(methods)
    revealed = revealed_types(source, tmp_path)
    assert len(revealed) == 2 * len(methods), "a reveal_type line revealed nothing"
    private = {labels[line - 1]: text for line, text in revealed.items() if _PRIVATE.search(text)}
    assert private == {}, "revealed types naming a private module"
    # The homes that were just made public are the ones users see.
    by_label = {labels[line - 1]: text for line, text in revealed.items()}
    assert by_label["client.images.list(…)"].startswith("aurous.pagination.SyncPage[")
    assert by_label["aclient.images.list(…)"].startswith("aurous.pagination.AsyncPager[")
    assert (
        by_label["client.loras.list(…)"] == "aurous.types.lists.ModelList[aurous.types.lora.Lora]"
    )
    assert by_label["client.images.batch(…)"] == "list[aurous.types.batch.BatchResult]"


def test_private_module_pattern() -> None:
    assert _PRIVATE.search("aurous._pagination.SyncPage[aurous.types.generation.Generation]")
    assert _PRIVATE.search("list[aurous._batch._types.BatchResult]")
    assert not _PRIVATE.search("aurous.pagination.SyncPage[aurous.types.generation.Generation]")
    assert not _PRIVATE.search("httpx._config.Timeout")
