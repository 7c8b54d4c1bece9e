"""A newcomer's first hour, automated: the README's Install section and quick start, run as
written in a fresh virtual environment (from the checkout, then from the built wheel).

* Every command of the Install section's block runs (``pip install …``), in order, in one fresh
  venv, from a copy of the checkout; after each line that names extras, their modules import.
  ``python -m build`` is what the ``dist`` fixture ran already, in the same place.
* The wheel it names is the one the build makes (so a version bump updates the README).
* Then, on the wheel's install, the Quick start block runs against a served emulator, and so do
  the runnable quick start and the first screen's command.
* ``pip install aurous`` is announced for later: the README must not offer it as a way to
  install today.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from aurous.emulator import Emulator

from .conftest import ROOT, Dist, Venv, clean_env, make_venv, run

README = ROOT / "README.md"

EXTRA_MODULES = {
    "cli": ["rich"],
    "emulator": ["uvicorn"],
    "aiohttp": ["httpx_aiohttp", "aiohttp"],
    "otel": ["opentelemetry.trace"],
    "redis": ["redis", "redis.asyncio"],
}
"""What each runtime extra adds: its modules import once its line ran."""


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _block(section: str, lang: str) -> str:
    return section.split(f"```{lang}\n", 1)[1].split("```", 1)[0]


def install_commands() -> list[list[str]]:
    """Each command of the Install block (``a && b`` is two), comments dropped."""
    commands = []
    for line in _block(_section("Install"), "bash").splitlines():
        text = line.split(" #", 1)[0].strip()
        if not text or text.startswith("#"):
            continue
        commands += [shlex.split(part) for part in text.split("&&")]
    return commands


def _extras(spec: str) -> list[str]:
    match = re.search(r"\[([\w,]+)\]$", spec)
    return match.group(1).split(",") if match else []


def _declared_extras() -> set[str]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    return set(re.findall(r"^([\w-]+) = \[", section, flags=re.MULTILINE))


def test_the_install_section_says_how_to_install_today() -> None:
    commands = install_commands()
    assert ["pip", "install", "aurous"] not in commands, "not on the index: it cannot work today"
    assert ["python", "-m", "build"] in commands
    assert any(c[:3] == ["pip", "install", "-e"] for c in commands)
    assert any(c[-1].startswith("dist/aurous-") for c in commands)
    prose = " ".join(_section("Install").split())
    assert "not on PyPI yet" in prose
    assert "Once aurous is published, `pip install aurous`" in prose


def test_every_runtime_extra_has_an_install_line() -> None:
    shown = {extra for command in install_commands() for extra in _extras(command[-1])}
    runtime = _declared_extras() - {"dev", "docs"}
    assert runtime == set(EXTRA_MODULES)
    assert runtime <= shown


def _run_install_line(venv: Venv, command: list[str], dist: Dist) -> None:
    program, args = command[0], command[1:]
    if command == ["python", "-m", "build"]:
        assert dist.wheel.parent == dist.checkout / "dist"  # the fixture ran it, there
        return
    assert program == "pip", f"not an install command: {command}"
    assert args[0] == "install", f"not an install command: {command}"
    venv.pip_install(*args[1:], cwd=dist.checkout)
    for extra in _extras(args[-1]):
        assert venv.imports(*EXTRA_MODULES[extra]), f"{shlex.join(command)}: {extra} is missing"


@pytest.mark.slow
def test_a_newcomer_installs_as_written_and_runs_the_quick_start(
    dist: Dist, tmp_path: Path
) -> None:
    commands = install_commands()
    wheels = [c[-1].split("[", 1)[0] for c in commands if c[-1].startswith("dist/")]
    assert wheels == [f"dist/{dist.wheel.name}"], "the README names another wheel than the build's"

    venv = make_venv(tmp_path / "venv")
    for command in commands:
        _run_install_line(venv, command, dist)
    # The last lines installed the wheel: the package now comes from it, not from the checkout.
    where = run([venv.python, "-c", "import aurous; print(aurous.__file__)"], env=clean_env())
    assert "site-packages" in where.stdout, where.stdout

    work = tmp_path / "work"
    work.mkdir()
    quick_start = _block(_section("Quick start"), "python")
    emu = Emulator(instant=True)
    try:
        with emu.serve() as server:
            env = clean_env(AUROUS_API_KEY=emu.api_key, AUROUS_BASE_URL=server.base_url)
            done = run([venv.python, "-c", quick_start], cwd=work, env=env)
    finally:
        emu.close()
    assert "succeeded" in done.stdout, done.stdout
    assert list((work / "out").glob("img_*-0.png"))

    # "A runnable version": python examples/quickstart.py, with no key (the emulator).
    runnable = run(
        [venv.python, "examples/quickstart.py", "a lighthouse at dusk", "--out", work / "q"],
        cwd=dist.checkout,
        env=clean_env(),
    )
    assert ": succeeded" in runnable.stdout
    # The first screen's command, on the installed `aurous`.
    first = _block(README.read_text(encoding="utf-8").split("\n## ", 1)[0], "bash")
    line = next(ln for ln in first.splitlines() if "aurous --emulator generate" in ln)
    argv = shlex.split(line.split("&&", 1)[1])
    run([venv.bin(argv[0]), *argv[1:]], cwd=work, env=clean_env())
    assert list((work / "out").glob("img_*-0.png"))
