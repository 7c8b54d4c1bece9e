"""The documentation site: it builds with ``mkdocs build --strict``, its reference covers every
public name, and in a real browser (headless Chromium) the reference shows ``images.create``'s
parameters and no link of any page is broken.

The browser is Debian's Chromium (``apt-get install chromium``; ``.ci/run`` installs it), driven
by Playwright for Python. Locally the browser test is skipped when ``/usr/bin/chromium`` is
missing; under CI (``CI`` set) a missing browser fails it.
"""

from __future__ import annotations

import functools
import http.server
import importlib
import os
import re
import threading
import zlib
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PUBLIC_MODULES = [
    "aurous",
    "aurous.types",
    "aurous.pagination",
    "aurous.webhooks",
    "aurous.emulator",
]
"""Every module users import from; each name of their ``__all__`` must be in the reference."""

JUST_MOVED = [
    "aurous.pagination.SyncPage",
    "aurous.pagination.AsyncPage",
    "aurous.pagination.AsyncPager",
    "aurous.types.ModelList",
    "aurous.types.BatchResult",
    "aurous.types.BatchProgress",
]


# -------------------------------------------------------------------------------------------------
# The build and its inventory
# -------------------------------------------------------------------------------------------------


def inventory(site: Path) -> dict[str, str]:
    """``objects.inv`` of the built site: documented Python name → page URL (with anchor)."""
    raw = (site / "objects.inv").read_bytes()
    header_end = 0
    for _ in range(4):
        header_end = raw.index(b"\n", header_end) + 1
    entries: dict[str, str] = {}
    for line in zlib.decompress(raw[header_end:]).decode().splitlines():
        name, domain_role, _priority, uri, *_ = line.split(" ")
        if domain_role.startswith("py:"):
            entries[name] = uri.replace("$", name)
    return entries


def _resolve(dotted: str) -> Any:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for part in parts[i:]:
            target = getattr(target, part)
        return target
    raise ImportError(dotted)


@pytest.mark.slow
def test_site_builds_strict(built_site: Path) -> None:
    assert (built_site / "index.html").is_file()
    assert (built_site / "reference" / "namespaces" / "index.html").is_file()


@pytest.mark.slow
def test_reference_documents_every_public_name(built_site: Path) -> None:
    documented = inventory(built_site)
    by_object: dict[int, str] = {}
    for name in documented:
        try:
            obj = _resolve(name)
        except (ImportError, AttributeError):
            continue
        if isinstance(obj, type) or callable(obj) or type(obj).__name__ == "module":
            by_object.setdefault(id(obj), name)
    missing = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            dotted = f"{module_name}.{name}"
            try:
                obj = getattr(module, name)
            except ImportError as exc:
                missing.append(f"{dotted} (cannot be imported: {exc})")
                continue
            # A re-export counts when the object itself is documented under another name.
            if dotted not in documented and id(obj) not in by_object:
                missing.append(dotted)
    assert missing == [], (
        "public names the reference does not document: add `::: <name>` to a page of "
        "docs/reference/ (a name of a module documented whole, like aurous.types, is automatic)"
    )


def _reference_pages(site: Path) -> dict[str, str]:
    """The HTML of each reference page."""
    return {
        str(path.parent.relative_to(site)): path.read_text(encoding="utf-8")
        for path in sorted((site / "reference").rglob("index.html"))
    }


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


@pytest.mark.slow
def test_reference_shows_only_the_public_surface(built_site: Path) -> None:
    # Private bases, type variables and dunders are how the code is built, not what users call.
    leaks = {
        "_BaseClient": "a private base class",
        "http_client: H": "a type variable",
        "[ModeT]": "a type variable",
        "[Any, Any]": "a private generic's arguments",
        "client: _": "a namespace's constructor",
    }
    found = []
    pages = _reference_pages(built_site)
    for page, html in pages.items():
        text = _text(html)
        found += [f"{page}: {what} ({needle})" for needle, what in leaks.items() if needle in text]
        # A documented object is a heading with an id: none may be a dunder (prose may name one).
        dunders = set(re.findall(r'id="[\w.]*\.(__\w+__)"', html)) - {"__version__"}
        found += [f"{page}: dunder {name}" for name in sorted(dunders)]
    assert found == []
    client = _text(pages["reference/client"])
    assert "http_client: httpx.Client | None" in client
    assert "http_client: httpx.AsyncClient | None" in client


@pytest.mark.slow
def test_reference_documents_the_public_homes_of_pages_and_results(built_site: Path) -> None:
    documented = inventory(built_site)
    assert [name for name in JUST_MOVED if name not in documented] == []
    # Documented under the name users import, not under the private module that defines it.
    for name in JUST_MOVED:
        assert documented[name].endswith(f"#{name}"), documented[name]


# -------------------------------------------------------------------------------------------------
# In the browser
# -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served_site(built_site: Path) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip(
            f"{CHROMIUM} is not installed (apt-get install chromium) — browser test skipped"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright starts the browser with a fresh temporary --user-data-dir of its own.
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.mark.slow
def test_reference_shows_the_parameters_of_images_create(browser: Any, served_site: str) -> None:
    page = browser.new_page()
    page.goto(urljoin(served_site, "reference/namespaces/"))
    anchor = "aurous.resources.images.Images.create"
    heading = page.locator(f'[id="{anchor}"]')
    assert heading.is_visible()
    signature, table = page.evaluate(
        """(id) => {
            const entry = document.getElementById(id).parentElement;
            const code = entry.querySelector(".doc-signature, pre");
            const table = entry.querySelector("table");
            return [code ? code.innerText : "", table ? table.innerText : ""];
        }""",
        anchor,
    )
    for name in ("prompt", "size", "idempotency_key", "timeout"):
        assert f"{name}:" in signature, f"the signature of images.create does not show {name}"
        assert name in table, f"the parameter table of images.create does not list {name}"
    assert "-> Generation" in signature
    assert "Steps" not in signature
    assert "Unpack" not in signature
    page.close()


def _pages(site: Path) -> list[str]:
    return sorted(
        str(path.relative_to(site).parent).replace("\\", "/").removeprefix(".")
        for path in site.rglob("index.html")
    )


def broken_links(
    links: list[tuple[str, str]], ids: dict[str, set[str]], site: Path, origin: str
) -> list[str]:
    """Links to this site whose page does not exist, or whose ``#anchor`` no element has.

    ``ids`` maps each visited page's path (``/guides/waiting/``) to the ids on it; a link to a
    path no page was visited at must be a file of the site (a stylesheet, ``objects.inv``).
    """
    broken = []
    for source, href in links:
        target = urlsplit(href)
        if target.scheme not in ("http", "https") or target.netloc != origin:
            continue  # another site: not fetched (no network here)
        path = target.path
        if not path.endswith("/") and "." not in path.rsplit("/", 1)[-1]:
            path += "/"
        if path not in ids:
            if not (site / unquote(path).lstrip("/")).is_file():
                broken.append(f"{source} → {href}: no such page")
            continue
        fragment = unquote(target.fragment)
        if fragment and fragment not in ids[path]:
            broken.append(f"{source} → {href}: no element with id {fragment!r}")
    return broken


@pytest.mark.parametrize(
    ("href", "problem"),
    [
        ("http://h/guides/waiting/#polling", None),
        ("http://h/guides/waiting/", None),
        ("http://h/guides/waiting", None),
        ("http://h/assets/site.css", None),
        ("https://example.com/missing/#nowhere", None),
        ("http://h/guides/waiting/#no-such-anchor", "no element with id 'no-such-anchor'"),
        ("http://h/guides/missing/", "no such page"),
        ("http://h/assets/missing.css", "no such page"),
    ],
)
def test_broken_links_finds_missing_pages_and_anchors(
    tmp_path: Path, href: str, problem: str | None
) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "site.css").write_text("")
    ids = {"/guides/waiting/": {"polling"}, "/": set()}
    found = broken_links([("http://h/", href)], ids, tmp_path, "h")
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1
        assert problem in found[0]


@pytest.mark.slow
def test_no_link_on_any_page_is_broken(browser: Any, built_site: Path, served_site: str) -> None:
    origin = urlsplit(served_site).netloc
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    ids: dict[str, set[str]] = {}
    links: list[tuple[str, str]] = []
    for relative in _pages(built_site):
        url = urljoin(served_site, f"{relative}/" if relative else "")
        response = page.goto(url)
        assert response is not None, f"{url} did not load"
        assert response.ok, f"{url} answered {response.status}"
        found = page.evaluate(
            """() => [
                [...document.querySelectorAll("[id], a[name]")].map(e => e.id || e.name),
                [...document.querySelectorAll("a[href]")].map(a => a.href),
            ]"""
        )
        ids[urlsplit(url).path] = set(found[0])
        links += [(url, href) for href in found[1]]
    page.close()
    # Too small a crawl could not be trusted to have checked anything.
    assert len(ids) >= 20
    assert len(links) > 1000

    broken = broken_links(links, ids, built_site, origin)
    assert broken == [], "\n".join(broken[:50])
    assert errors == [], f"scripts failed on the pages: {errors[:5]}"
