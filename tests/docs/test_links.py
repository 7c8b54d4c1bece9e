"""Links that work both as plain Markdown files (on GitHub, in an editor) and on the site.

The guides used mkdocs' cross-references (``[text][aurous.X]``), which only the built site
resolves: read as files, they showed the raw brackets. They are ordinary relative links now, and
every relative link of the README and of ``docs/`` must name an existing file and, for an
``#anchor`` into a Markdown page, a heading of that page. Anchors into the reference pages name
objects mkdocstrings renders there; ``mkdocs build --strict`` (``test_site.py``) checks those
against the built pages.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from ._blocks import DOCS, ROOT

_FENCE = re.compile(r"^ *(`{3,}|~{3,})")
_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_AUTOREF = re.compile(r"\]\[[\w.]+\]")


def _markdown_pages() -> list[Path]:
    pages = [ROOT / "README.md"]
    pages += sorted(p for p in DOCS.rglob("*.md") if "_ext" not in p.relative_to(DOCS).parts)
    return pages


PAGES = _markdown_pages()


def _prose(path: Path, *, keep_code: bool = False) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks; inline code spans blanked unless
    ``keep_code`` (a link or ``][`` shown as code is not one)."""
    lines: list[tuple[int, str]] = []
    fence: str | None = None
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = _FENCE.match(line)
        if match is not None:
            mark = match.group(1)
            if fence is None:
                fence = mark
            elif mark.startswith(fence[0]) and len(mark) >= len(fence):
                fence = None
            continue
        if fence is None:
            lines.append((n, line if keep_code else re.sub(r"`[^`]*`", "``", line)))
    return lines


def _site_slug(title: str) -> str:
    """The id Python-Markdown's ``toc`` extension gives a heading (what the site uses)."""
    value = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def _github_slug(title: str) -> str:
    """The id GitHub gives a heading when it renders the file."""
    value = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return value.replace(" ", "-")


def _heading_titles(path: Path) -> list[str]:
    titles = []
    for _, line in _prose(path, keep_code=True):
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match is not None:
            titles.append(match.group(1))
    return titles


def _anchors(path: Path) -> set[str]:
    """Ids the page's headings get, both on the site and on GitHub."""
    anchors: set[str] = set()
    for title in _heading_titles(path):
        plain = title.replace("`", "")
        anchors.add(_site_slug(plain))
        anchors.add(_github_slug(plain))
    return anchors


def _rendered_objects(path: Path) -> list[str]:
    """What a reference page renders: the identifiers of its ``::: identifier`` lines."""
    return re.findall(r"^::: ([\w.]+)", path.read_text(encoding="utf-8"), flags=re.MULTILINE)


def _links() -> list[tuple[str, Path, str]]:
    found = []
    for page in PAGES:
        for n, line in _prose(page):
            for match in _LINK.finditer(line):
                target = match.group("target")
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                    continue  # https:, mailto:
                found.append((f"{page.relative_to(ROOT)}:{n}", page, target))
    return found


LINKS = _links()


def test_the_pages_have_relative_links() -> None:
    assert len(LINKS) > 50
    assert any(page.name == "README.md" for _, page, _ in LINKS)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_no_mkdocs_only_cross_reference(page: Path) -> None:
    bad = [f"{n}: {line.strip()}" for n, line in _prose(page) if _AUTOREF.search(line)]
    assert bad == [], "use a relative link (e.g. ../reference/errors.md#aurous.X) instead"


@pytest.mark.parametrize(("where", "page", "target"), LINKS, ids=[w for w, _, _ in LINKS])
def test_relative_link_resolves(where: str, page: Path, target: str) -> None:
    file_part, _, anchor = target.partition("#")
    destination = (page.parent / file_part).resolve() if file_part else page
    assert destination.exists(), f"{where}: {target} names no file"
    assert ROOT in destination.parents or destination == ROOT, f"{where}: leaves the repository"
    if not anchor or destination.suffix != ".md":
        return
    if destination.parent == DOCS / "reference" and anchor.startswith("aurous"):
        rendered = _rendered_objects(destination)
        assert any(anchor == name or anchor.startswith(f"{name}.") for name in rendered), (
            f"{where}: {destination.name} renders none of {anchor}"
        )
        return
    assert anchor in _anchors(destination), f"{where}: {destination.name} has no heading #{anchor}"


def test_slugs_match_both_renderers() -> None:
    title = "Per-request callbacks (webhook_url)"
    assert _site_slug(title) == _github_slug(title) == "per-request-callbacks-webhook_url"
