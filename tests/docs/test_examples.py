"""Every Python block of the README and the documentation runs, and passes ``mypy --strict``.

Pages run as notebooks against the emulator served on 127.0.0.1 (see `_blocks` for the
conventions and the markers). A failure names the Markdown file and line of the block.
"""

from __future__ import annotations

import ast
import asyncio
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import aurous
from aurous.emulator import Emulator

from ._blocks import (
    CONVENTION,
    ROOT,
    Block,
    Module,
    all_blocks,
    blocks,
    page_id,
    pages,
    typecheck_modules,
)

PYTHON_PAGES = [p for p in pages() if any(b.is_python for b in blocks(p))]


def test_the_pages_have_python_examples() -> None:
    names = {page_id(p) for p in PYTHON_PAGES}
    assert {"README.md", "docs/getting-started.md", "docs/guides/webhooks.md"} <= names


@pytest.mark.parametrize("block", [b for b in all_blocks() if b.is_python], ids=lambda b: b.where)
def test_python_block_is_valid_syntax(block: Block) -> None:
    # Cheap and fast: a typo in a page fails here before the slow tests run the page.
    ast.parse(block.prelude + block.code, filename=block.where)


def _fresh_namespace() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(compile(CONVENTION, "(the convention)", "exec"), namespace)
    return namespace


def _exec(code: str, path: Path, first_line: int, namespace: dict[str, Any]) -> None:
    # Padding keeps the Markdown file's line numbers in tracebacks.
    source = "\n" * (first_line - 1) + code
    exec(compile(source, str(path), "exec"), namespace)


def _close_clients(namespaces: list[dict[str, Any]]) -> None:
    for namespace in namespaces:
        for value in namespace.values():
            if isinstance(value, aurous.Client):
                value.close()
            elif isinstance(value, aurous.AsyncClient):
                asyncio.run(value.aclose())


@pytest.mark.slow
@pytest.mark.parametrize("path", PYTHON_PAGES, ids=page_id)
def test_page_examples_run_against_the_emulator(path: Path, docs_env: Emulator) -> None:
    shared = _fresh_namespace()
    namespaces = [shared]
    ran = 0
    try:
        for block in blocks(path):
            if not block.is_python or block.mode == "typecheck":
                continue
            namespace = shared
            if block.mode == "isolated":
                namespace = _fresh_namespace()
                namespaces.append(namespace)
            if block.prelude:
                _exec(block.prelude, path, block.prelude_line, namespace)
            try:
                _exec(block.code, path, block.line, namespace)
            except Exception as exc:
                raise AssertionError(f"the example at {block.where} failed: {exc!r}") from exc
            ran += 1
    finally:
        _close_clients(namespaces)
    assert ran > 0 or all(b.mode == "typecheck" for b in blocks(path) if b.is_python)


_MYPY_LINE = re.compile(r"^(?P<file>[^:]+\.py):(?P<line>\d+): (?P<rest>.*)$")


def _run_mypy(modules: list[Module], tmp_path: Path) -> tuple[int, str]:
    files = []
    for module in modules:
        file = tmp_path / f"{module.name}.py"
        file.write_text(module.source, encoding="utf-8")
        files.append(str(file))
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", str(ROOT / "pyproject.toml"),
         "--no-error-summary", "--show-error-codes", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip
    by_name = {m.name: m for m in modules}
    report = []
    for line in (done.stdout + done.stderr).splitlines():
        match = _MYPY_LINE.match(line)
        if match is None:
            report.append(line)
            continue
        found = by_name.get(Path(match["file"]).stem)
        n = int(match["line"]) - 1
        where = found.origin[n] if found is not None and n < len(found.origin) else line
        report.append(f"{where}: {match['rest']}")
    return done.returncode, "\n".join(report)


@pytest.mark.slow
def test_every_example_passes_mypy_strict(tmp_path: Path) -> None:
    modules = [m for path in PYTHON_PAGES for m in typecheck_modules(path)]
    assert modules
    code, report = _run_mypy(modules, tmp_path)
    assert code == 0, f"mypy --strict found errors in the examples:\n{report}"


@pytest.mark.slow
def test_the_type_check_catches_a_wrong_example(tmp_path: Path) -> None:
    # The check must be able to fail: the old README's quick start read a field that may be None.
    module = Module("ex_broken")
    module.add(CONVENTION, None, 1)
    module.add(
        'generation = client.images.create(prompt="x")\nprint(generation.cost.amount)\n',
        ROOT / "README.md",
        40,
    )
    code, report = _run_mypy([module], tmp_path)
    assert code != 0
    assert 'README.md:41: error: Item "None" of "Cost | None" has no attribute "amount"' in report
