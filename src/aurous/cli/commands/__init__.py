"""The sub-commands, one module per group. Each module's ``register(sub, common)`` adds its
parsers and sets ``handler(ctx, args) -> int`` on them."""

from __future__ import annotations

from .._parser import Registrar
from . import account, batch, emulator, generate, generations, webhooks

__all__ = ["COMMANDS"]

COMMANDS: list[Registrar] = [
    generate.register,
    generations.register,
    account.register,
    batch.register,
    webhooks.register,
    emulator.register,
]
"""Registration functions, in the order the commands appear in ``aurous --help``."""
