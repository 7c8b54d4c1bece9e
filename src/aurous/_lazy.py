"""Lazy package attributes (PEP 562): a public name is imported from its module on first use.

``import aurous`` (and the pytest plugin, imported in every pytest run wherever aurous is
installed) then loads only the package files; a program pays for the names it touches.

A package declares ``_SOURCES`` (name → module, relative to the package), imports the same names
under ``if TYPE_CHECKING:`` for editors and type checkers, and installs the hooks only at run
time::

    if not TYPE_CHECKING:
        __getattr__, __dir__ = lazy_attributes(__name__, _SOURCES, __all__)

Hidden from type checkers on purpose: a module with ``__getattr__`` makes mypy accept *any*
attribute of it, so ``aurous.Clent`` would pass.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Collection, Mapping
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    package: str,
    sources: Mapping[str, str],
    public: Collection[str],
    submodules: Collection[str] = (),
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``."""
    module = sys.modules[package]

    def __getattr__(name: str) -> Any:
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        source = sources.get(name)
        if source is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(source, package), name)
        setattr(module, name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(module), *public})

    return __getattr__, __dir__
