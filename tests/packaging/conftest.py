"""The sdist and wheel as a newcomer gets them: built once per session from a copy of the
checkout, and fresh virtual environments to install them into.

The copy holds the repository's files (``git ls-files``, plus files not committed yet and not
ignored), never a virtual environment someone created inside the checkout (CI's ``.ci-venv``):
the sdist would take it in whole.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 300
INSTALL_TIMEOUT = 300
RUN_TIMEOUT = 120


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = RUN_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv``, bounded in time; fail with its output when it fails."""
    done = subprocess.run(
        [str(arg) for arg in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, (
        f"`{' '.join(str(a) for a in argv)}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    return done


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a newcomer's shell: no AUROUS_* settings, no path to this checkout."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AUROUS_") and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env.update(extra)
    return env


def _repository_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    venvs = {p.parent.name for p in ROOT.glob("*/pyvenv.cfg")}
    return [
        name
        for name in listed.split("\0")
        if name and name.split("/", 1)[0] not in venvs and (ROOT / name).is_file()
    ]


@dataclasses.dataclass(frozen=True)
class Dist:
    """A checkout (the copy) with its sdist and wheel built into ``checkout/dist``."""

    checkout: Path
    sdist: Path
    wheel: Path


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """``python -m build`` in a copy of the checkout, as the README says (sdist, then wheel)."""
    checkout = tmp_path_factory.mktemp("checkout") / "aurous"
    for name in _repository_files():
        target = checkout / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    run([sys.executable, "-m", "build"], cwd=checkout, timeout=BUILD_TIMEOUT)
    [sdist] = (checkout / "dist").glob("aurous-*.tar.gz")
    [wheel] = (checkout / "dist").glob("aurous-*-py3-none-any.whl")
    return Dist(checkout, sdist, wheel)


@dataclasses.dataclass(frozen=True)
class Venv:
    """A fresh virtual environment."""

    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def bin(self, name: str) -> Path:
        return self.path / "bin" / name

    def pip_install(self, *specs: str, cwd: Path | None = None) -> None:
        run(
            [self.python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *specs],
            cwd=cwd,
            env=clean_env(),
            timeout=INSTALL_TIMEOUT,
        )

    def imports(self, *modules: str) -> bool:
        done = subprocess.run(
            [str(self.python), "-c", "; ".join(f"import {m}" for m in modules)],
            env=clean_env(),
            capture_output=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        return done.returncode == 0


def make_venv(path: Path) -> Venv:
    run([sys.executable, "-m", "venv", path], timeout=RUN_TIMEOUT)
    return Venv(path)
