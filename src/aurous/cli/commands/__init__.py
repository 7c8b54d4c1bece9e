"""The sub-commands, one module per group. Each module's ``register(sub, common)`` adds its
parsers and sets ``handler(ctx, args) -> int`` on them."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from . import account, batch, emulator, generate, generations, webhooks

__all__ = ["COMMANDS"]

COMMANDS: list[Callable[[Any, argparse.ArgumentParser], None]] = [
    generate.register,
    generations.register,
    account.register,
    batch.register,
    webhooks.register,
    emulator.register,
]
"""Registration functions, in the order the commands appear in ``aurous --help``."""
