"""Every third-party module that the tests, benchmarks, examples and documentation import is
declared: in the ``dev`` extra, or as a dependency of aurous itself (``pip install -e ".[dev]"``
installs both).

A module that only arrives because some other package needs it today (``yaml`` through mkdocs,
say) disappears when that package changes its own dependencies, and the tests break on a fresh
install for no reason of ours.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from .docs._blocks import all_blocks

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "tests", ROOT / "benchmarks", ROOT / "docs" / "_ext", ROOT / "examples"]
FIRST_PARTY = {"aurous"}


def _imported(tree: ast.AST) -> Iterator[str]:
    """The top-level names of the absolute imports in ``tree``, wherever they are."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


def _imports() -> dict[str, set[str]]:
    """Each imported top-level module and where it is imported from."""
    found: dict[str, set[str]] = {}
    for root in SOURCES:
        for path in sorted(root.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for name in _imported(tree):
                found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    # The pages' Python blocks run (or are type-checked) under tests/docs: their imports count.
    for block in all_blocks():
        if block.is_python:
            for name in _imported(ast.parse(block.prelude + block.code, block.where)):
                found.setdefault(name, set()).add(block.where)
    return found


def _local_modules() -> set[str]:
    """Modules and packages of the scanned folders, imported by path tricks (``perf``, …)."""
    names = {"tests"}
    for root in SOURCES:
        names.update(path.stem for path in root.rglob("*.py"))
        names.update(path.parent.name for path in root.rglob("__init__.py"))
    return names


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(key: str) -> set[str]:
    """The distributions named by the list ``key = [...]`` of pyproject.toml.

    Read with a pattern, not tomllib, which Python 3.10 (supported, and tested) lacks.
    """
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(key)} = \[\n(.*?)^\]", text, re.MULTILINE | re.DOTALL)
    assert match is not None, f"pyproject.toml has no list {key!r}"
    names: set[str] = set()
    for line in match[1].splitlines():
        spec = re.match(r'\s*"([A-Za-z0-9._-]+)', line)  # comment lines start with "#"
        if spec is not None:
            names.add(_normalize(spec[1]))
    return names


def _distributions_by_module() -> dict[str, set[str]]:
    """Installed top-level module -> the distributions that provide it.

    ``packages_distributions()`` reads only ``top_level.txt`` on Python 3.10, which wheels built
    by hatchling, flit or maturin do not have; the installed files tell for those.
    """
    found: dict[str, set[str]] = {
        module: {_normalize(d) for d in dists}
        for module, dists in importlib.metadata.packages_distributions().items()
    }
    for dist in importlib.metadata.distributions():
        name = _normalize(dist.metadata["Name"])
        for file in dist.files or []:
            top = file.parts[0]
            if top.endswith((".dist-info", ".data")) or top in ("..", "__pycache__"):
                continue
            if len(file.parts) > 1 or file.suffix in (".py", ".so", ".pyd"):
                found.setdefault(top.split(".")[0], set()).add(name)
    return found


def test_every_imported_third_party_module_is_declared() -> None:
    declared = _requirement_names("dev") | _requirement_names("dependencies")
    providers = _distributions_by_module()
    excluded = FIRST_PARTY | _local_modules() | set(sys.stdlib_module_names)
    problems = []
    for module, where in sorted(_imports().items()):
        if module in excluded:
            continue
        dists = providers.get(module)
        if not dists:
            problems.append(f"{module} (no installed distribution provides it)")
        elif not dists & declared:
            problems.append(f"{module} (from {' or '.join(sorted(dists))})")
        else:
            continue
        problems[-1] += f", imported by {', '.join(sorted(where)[:3])}"
    assert problems == [], "add to the dev extra of pyproject.toml:\n" + "\n".join(problems)


def test_the_scan_finds_imports_and_their_distributions() -> None:
    # Guards the test above against passing because it sees nothing.
    imports = _imports()
    assert {"pytest", "respx", "yaml", "flask"} <= set(imports)
    assert "tests/emulator_contract/test_openapi_document.py" in imports["jsonschema_rs"]
    providers = _distributions_by_module()
    assert providers["yaml"] == {"pyyaml"}
    assert {"pytest", "pyyaml", "jsonschema-rs", "nox"} <= _requirement_names("dev")
    assert "httpx" in _requirement_names("dependencies")
