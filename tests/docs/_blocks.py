"""Read the code blocks of the README and the documentation pages, with what each one needs.

A fenced block's language says what it is: ``python`` code is run against the emulator and
type-checked; ``bash``/``console`` commands are checked against the command line's parsers;
``text`` is left alone. An HTML comment on the line just above a fence changes how a ``python``
block is tested (the comment is invisible on GitHub and on the site)::

    <!-- example: isolated -->            its own namespace and module: later blocks of the page
                                          do not see its names (a second ``app = …``, say)
    <!-- example: typecheck (reason) -->  type-checked only, never run: it needs something the
                                          tests cannot give it (a web framework's request)

Lines after the first line of the comment, up to ``-->``, are a prelude: code run (or
type-checked) just before the block and not shown to readers. Keep preludes to what the block
honestly assumes (declarations, an input file).

Every page runs as a notebook: its blocks in order, in one namespace that starts from the
convention the documentation states (``import aurous`` and ``client = aurous.Client()``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

CONVENTION = "import aurous\n\nclient = aurous.Client()\n"
"""What every example may assume (stated on the documentation's home page)."""

PYTHON = {"python", "py"}
SHELL = {"bash", "sh", "shell", "console"}
OTHER = {"text", "pycon", "yaml", "toml", "json", "jsonl", ""}
MODES = {"run", "isolated", "typecheck"}

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_MARKER = re.compile(r"^<!-- example: (?P<mode>[a-z]+)(?: \((?P<reason>[^)]+)\))?\s*(?P<end>-->)?$")


class DocsError(ValueError):
    """A page breaks the conventions above (an unknown language or marker, an open fence)."""


@dataclasses.dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    path: Path
    line: int
    """1-based line of the block's first code line."""
    lang: str
    code: str
    mode: str = "run"
    reason: str | None = None
    prelude: str = ""
    prelude_line: int = 0
    """1-based line of the prelude's first line (inside the HTML comment)."""

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def is_python(self) -> bool:
        return self.lang in PYTHON

    @property
    def is_shell(self) -> bool:
        return self.lang in SHELL


def pages() -> list[Path]:
    """Every Markdown file users read: the README, api.md and the documentation site's pages."""
    found = [ROOT / "README.md", ROOT / "api.md"]
    found += sorted(p for p in DOCS.rglob("*.md") if "_ext" not in p.relative_to(DOCS).parts)
    return found


def page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _marker(
    path: Path, lines: list[str], i: int
) -> tuple[tuple[str, str | None, list[str], int], int] | None:
    """The example marker starting at line ``i`` and the index of the fence it applies to."""
    match = _MARKER.match(lines[i])
    if match is None:
        return None
    mode, reason = match["mode"], match["reason"]
    if mode not in MODES:
        raise DocsError(f"{path}:{i + 1}: unknown example marker {mode!r}")
    if mode == "typecheck" and not reason:
        raise DocsError(f"{path}:{i + 1}: say why the block cannot run: typecheck (…)")
    prelude: list[str] = []
    start = i + 2
    if match["end"] is None:
        i += 1
        while i < len(lines) and lines[i].strip() != "-->":
            prelude.append(lines[i])
            i += 1
        if i == len(lines):
            raise DocsError(f"{path}:{start - 1}: example marker never closed with -->")
    i += 1
    if i >= len(lines) or not _FENCE.match(lines[i]):
        raise DocsError(f"{path}:{i}: an example marker must be just above a fence")
    return (mode, reason, prelude, start), i


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of ``path``, in order, with their markers and preludes."""
    lines = path.read_text(encoding="utf-8").split("\n")
    found: list[Block] = []
    marker: tuple[str, str | None, list[str], int] | None = None
    i = 0
    while i < len(lines):
        parsed = _marker(path, lines, i)
        if parsed is not None:
            marker, i = parsed
        fence = _FENCE.match(lines[i])
        if fence is None:
            i += 1
            continue
        indent, ticks = len(fence["indent"]), fence["fence"]
        lang = fence["info"].strip().split(" ")[0].split("{")[0].lower()
        body: list[str] = []
        first = i + 2
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(ticks):
            body.append(lines[i][indent:] if not lines[i][:indent].strip() else lines[i])
            i += 1
        if i == len(lines):
            raise DocsError(f"{path}:{first - 1}: fence never closed")
        i += 1
        if lang not in PYTHON | SHELL | OTHER:
            raise DocsError(f"{path}:{first - 1}: unknown code block language {lang!r}")
        if marker is not None and lang not in PYTHON:
            raise DocsError(f"{path}:{first - 1}: example markers apply to python blocks only")
        mode, reason, prelude, prelude_line = marker or ("run", None, [], 0)
        found.append(
            Block(
                path=path,
                line=first,
                lang=lang,
                code="\n".join(body) + "\n",
                mode=mode,
                reason=reason,
                prelude="\n".join(prelude) + ("\n" if prelude else ""),
                prelude_line=prelude_line,
            )
        )
        marker = None
    return found


def all_blocks() -> Iterator[Block]:
    for path in pages():
        yield from blocks(path)


@dataclasses.dataclass
class Module:
    """Python source assembled from blocks, remembering where each of its lines came from."""

    name: str
    lines: list[str] = dataclasses.field(default_factory=list)
    origin: list[str] = dataclasses.field(default_factory=list)

    def add(self, code: str, path: Path | None, first_line: int) -> None:
        for n, text in enumerate(code.rstrip("\n").split("\n")):
            self.lines.append(text)
            self.origin.append(
                f"{path.relative_to(ROOT)}:{first_line + n}" if path else "(the convention)"
            )

    @property
    def source(self) -> str:
        return "\n".join(self.lines) + "\n"


def typecheck_modules(path: Path) -> list[Module]:
    """A page as modules to type-check: the page's flow, plus one per isolated block."""
    stem = re.sub(r"\W", "_", page_id(path).removesuffix(".md")).lower()
    flow = Module(f"ex_{stem}")
    flow.add(CONVENTION, None, 1)
    modules = [flow]
    for n, block in enumerate(b for b in blocks(path) if b.is_python):
        target = flow
        if block.mode == "isolated":
            target = Module(f"ex_{stem}_{n}")
            target.add(CONVENTION, None, 1)
            modules.append(target)
        if block.prelude:
            target.add(block.prelude, block.path, block.prelude_line)
        target.add(block.code, block.path, block.line)
    return [m for m in modules if len(m.lines) > len(CONVENTION.splitlines())]
