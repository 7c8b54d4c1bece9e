"""Every public method's docstring describes each of its parameters, from one source of truth.

``docs/_ext/docstrings.py`` writes the ``Args:`` section of each namespace method (and of
``client.webhooks``) from the ``TypedDict`` field docstrings and its table of explicit
parameters; this checks the sections are current, as httpcore checks its unasync copy, and that
``help()`` shows them.
"""

from __future__ import annotations

import importlib.util
import pydoc
import sys
from types import ModuleType

import pytest

import aurous

from ._blocks import ROOT


def _load() -> ModuleType:
    path = ROOT / "docs" / "_ext" / "docstrings.py"
    spec = importlib.util.spec_from_file_location("aurous_docstrings", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


GENERATOR = _load()


@pytest.fixture(scope="module")
def methods() -> list[object]:
    found: list[object] = GENERATOR.methods()
    return found


def test_every_parameter_is_described(methods: list[object]) -> None:
    assert GENERATOR.undocumented(methods) == []
    assert len(methods) > 40


def test_the_args_sections_are_current(methods: list[object]) -> None:
    stale = [str(path.relative_to(ROOT)) for path, _ in GENERATOR.stale(methods)]
    assert stale == [], "run: python docs/_ext/docstrings.py"


def test_a_stale_section_and_an_undocumented_parameter_are_noticed(
    methods: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = ROOT / "src" / "aurous" / "resources" / "files.py"
    source = path.read_text(encoding="utf-8")
    edited = source.replace(
        "            file_id: The file's id", "            file_id: Old words", 1
    )
    assert edited != source
    ours = [m for m in methods if m.file == path]  # type: ignore[attr-defined]
    assert GENERATOR.rewrite(edited, ours) == source

    table = dict(GENERATOR.PARAMETERS)
    del table["file_id"]
    monkeypatch.setattr(GENERATOR, "PARAMETERS", table)
    missing = GENERATOR.undocumented(GENERATOR.methods())
    assert "Files.retrieve(file_id)" in missing
    assert GENERATOR.main(["--check"]) == 1


def test_help_shows_one_line_per_argument() -> None:
    client = aurous.Client(api_key="al_test_help")
    try:
        text = pydoc.render_doc(client.images.create, renderer=pydoc.plaintext)
        assert "prompt: What to generate, 1–4000 characters." in text
        assert "size: A size preset" in text
        assert "idempotency_key: Reuse a key" in text
        assert "timeout: Override the client's timeout" in text
        wait = pydoc.render_doc(client.images.wait, renderer=pydoc.plaintext)
        assert "poll_interval: Seconds before the first poll" in wait
    finally:
        client.close()
