"""The built sdist and wheel: metadata that ``twine check`` accepts, a wheel that holds the
package (``py.typed`` and the emulator's data included) and nothing else, and that works once
installed into a fresh virtual environment, away from this checkout."""

from __future__ import annotations

import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT, Dist, clean_env, make_venv, run

pytestmark = pytest.mark.slow


def test_twine_accepts_the_sdist_and_the_wheel(dist: Dist) -> None:
    done = run([sys.executable, "-m", "twine", "check", "--strict", dist.sdist, dist.wheel])
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_the_wheel_holds_the_package_and_nothing_else(dist: Dist) -> None:
    with zipfile.ZipFile(dist.wheel) as wheel:
        names = wheel.namelist()
        entry_points = wheel.read(next(n for n in names if n.endswith("entry_points.txt")))
    for needed in (
        "aurous/__init__.py",
        "aurous/py.typed",
        "aurous/emulator/data/catalogue.json",
        "aurous/emulator/data/sample.mp4",
        "aurous/cli/__main__.py",
    ):
        assert needed in names, needed
    tops = {name.split("/", 1)[0] for name in names}
    assert tops == {"aurous", dist.wheel.name.split("-py3")[0] + ".dist-info"}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.split("/")[1:2] == ["tests"]]
    # Every module of the source tree is in the wheel.
    sources = {
        str(p.relative_to(ROOT / "src"))
        for p in (ROOT / "src" / "aurous").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert sources <= set(names)
    text = entry_points.decode()
    assert "aurous = aurous.cli:main" in text
    assert "[pytest11]" in text


def test_the_sdist_rebuilds_the_same_wheel_contents(dist: Dist, tmp_path: Path) -> None:
    # The sdist is what a source install uses: it must carry the package and the metadata.
    with tarfile.open(dist.sdist) as sdist:
        names = sdist.getnames()
    root = names[0].split("/", 1)[0]
    for needed in ("pyproject.toml", "README.md", "LICENSE", "src/aurous/py.typed"):
        assert f"{root}/{needed}" in names, needed
    assert not [n for n in names if "pyvenv.cfg" in n]


def test_the_installed_wheel_runs_the_quickstart_against_the_emulator(
    dist: Dist, tmp_path: Path
) -> None:
    venv = make_venv(tmp_path / "venv")
    venv.pip_install(str(dist.wheel))
    work = tmp_path / "work"
    work.mkdir()
    # Run from a directory that is not the checkout: the package must come from the wheel.
    script = shutil.copy(ROOT / "examples" / "quickstart.py", work / "quickstart.py")
    where = run(
        [venv.python, "-c", "import aurous, sys; print(aurous.__file__)"],
        cwd=work,
        env=clean_env(),
    ).stdout.strip()
    assert where.startswith(str(venv.path)), where
    done = run(
        [venv.python, script, "a lighthouse at dusk", "--out", work / "out"],
        cwd=work,
        env=clean_env(),
    )
    assert ": succeeded" in done.stdout, done.stdout
    [png] = list((work / "out").glob("img_*-0.png"))
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    # The command is installed too.
    version = run([venv.bin("aurous"), "--version"], cwd=work, env=clean_env())
    assert dist.wheel.name.split("-")[1] in version.stdout + version.stderr
