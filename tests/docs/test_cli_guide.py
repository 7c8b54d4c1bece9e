"""The command-line guide says everything the command has: every option, the results columns,
the numbering of batch items, and the request files the repository ships."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

import pytest

from aurous._batch._files import RESULT_COLUMNS
from aurous.cli._parser import build_parser
from aurous.cli.commands import COMMANDS

from ._blocks import ROOT

GUIDE = ROOT / "docs" / "guides" / "cli.md"
ROOT_PARSER = build_parser(COMMANDS)


def _children(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    children = _children(parser)
    if not children:
        yield path, parser
    for name, child in children.items():
        yield from _commands(child, (*path, name))


def _shown(flag: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text) is not None


COMMANDS_AND_PARSERS = [(p, parser) for p, parser in _commands(ROOT_PARSER) if p]


@pytest.mark.parametrize(
    ("path", "parser"), COMMANDS_AND_PARSERS, ids=[" ".join(p) for p, _ in COMMANDS_AND_PARSERS]
)
def test_the_guide_names_every_option_of_the_command(
    path: tuple[str, ...], parser: argparse.ArgumentParser
) -> None:
    # An option counts as documented when one of its spellings (`--event` or `-e`) is shown.
    text = GUIDE.read_text(encoding="utf-8")
    missing = [
        action.option_strings[0]
        for action in parser._actions
        if action.option_strings
        and "--help" not in action.option_strings
        and not any(_shown(flag, text) for flag in action.option_strings)
    ]
    assert missing == [], f"docs/guides/cli.md does not show `aurous {' '.join(path)}` {missing}"


def test_the_guide_names_every_global_option() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    missing = [
        action.option_strings[0]
        for action in ROOT_PARSER._actions
        if action.option_strings
        and "--help" not in action.option_strings
        and not any(_shown(flag, text) for flag in action.option_strings)
    ]
    assert missing == []


def test_the_results_columns_are_listed_as_written_and_in_order() -> None:
    text = " ".join(GUIDE.read_text(encoding="utf-8").split())
    paragraph = text.split("`--results results.csv`", 1)[1].split("\n- ", 1)[0]
    listed = [name for name in re.findall(r"`([a-z_]+)`", paragraph) if name in RESULT_COLUMNS]
    ordered = list(dict.fromkeys(listed))
    assert ordered == list(RESULT_COLUMNS)


def test_the_numbering_of_batch_items_is_stated() -> None:
    text = " ".join(GUIDE.read_text(encoding="utf-8").split())
    assert "**index, from 0**" in text
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "index, from 0" in readme


@pytest.mark.parametrize("name", ["prompts.csv", "prompts.jsonl"])
def test_the_shipped_request_files_are_the_ones_the_pages_show(name: str) -> None:
    shipped = (ROOT / "examples" / name).read_text(encoding="utf-8")
    for page in (GUIDE, ROOT / "README.md"):
        assert f"\n{shipped}```" in page.read_text(encoding="utf-8"), f"{page.name}: {name}"
