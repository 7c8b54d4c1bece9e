"""The default test suite on every Python the package supports: ``nox -s tests`` (all of them) or
``nox -s tests-3.10`` (one).

Each session makes a fresh virtual environment with that interpreter, installs ``.[dev]`` in it
as the README says and runs ``pytest`` (the default, fast suite; extra arguments go to pytest:
``nox -s tests -- tests/test_python_versions.py``). The slow part, ``pytest -m slow``, runs once,
on CI's own interpreter.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
"""Every version ``requires-python`` admits that has been released; keep the classifiers and the
README's "tested on" line in step."""

nox.options.sessions = ["tests"]
# A version that is skipped is a version that is not tested: a missing interpreter fails the run
# (nox's default outside CI is to skip it), and nox does not try to download one in its place.
nox.options.error_on_missing_interpreters = True
nox.options.download_python = "never"
# The standard library's venv, run by the interpreter under test, as users make theirs.
nox.options.default_venv_backend = "venv"


def _pyenv_root() -> Path | None:
    if os.environ.get("PYENV_ROOT"):
        return Path(os.environ["PYENV_ROOT"])
    if shutil.which("pyenv"):
        found = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False)
        if found.returncode == 0 and found.stdout.strip():
            return Path(found.stdout.strip())
    default = Path.home() / ".pyenv"
    return default if default.is_dir() else None


def _pyenv_bins(root: Path | None) -> list[str]:
    """The ``bin`` folder of the newest pyenv install of each version in `PYTHONS`."""
    if root is None:
        return []
    bins = []
    for wanted in PYTHONS:
        pattern = re.compile(rf"{re.escape(wanted)}\.(\d+)")  # final releases only: 3.10.13
        installs = [
            (int(match[1]), path)
            for path in (root / "versions").glob(f"{wanted}.*")
            if (match := pattern.fullmatch(path.name)) and (path / "bin").is_dir()
        ]
        if installs:
            bins.append(str(max(installs)[1] / "bin"))
    return bins


# nox looks for `python3.10` and the like on PATH. pyenv puts only shims there, and a shim fails
# unless its version is selected (`pyenv global`/`local`); on CI and on a fresh machine only the
# default version is. So each installed version's own bin folder goes first on PATH, for this
# process and so for nox's lookups. Machines without pyenv keep their PATH as it is.
os.environ["PATH"] = os.pathsep.join([*_pyenv_bins(_pyenv_root()), os.environ.get("PATH", "")])


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The default test suite, as CI runs it, in a fresh environment."""
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)
