"""What every command receives: parsed options, the output streams and a lazily built client."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from .._constants import ENV_API_KEY
from ._errors import UsageError
from ._output import Output

if TYPE_CHECKING:
    from .._client import Client
    from ..emulator import Emulator

__all__ = ["Context"]

EMULATOR_NOTICE = (
    "Note: --emulator runs a local in-process emulator, NOT the real Aurous API: the API key is "
    "the emulator's own, nothing is billed, and its data is gone when the command ends."
)


class Context:
    """Options shared by all commands, the `Output`, and the API client built on first use.

    With ``--emulator`` an in-process :class:`~aurous.emulator.Emulator` is created and the client
    is wired to it; otherwise ``--api-key`` / ``--base-url`` / ``--api-version`` (or the
    ``AUROUS_*`` environment variables) configure a regular client.
    """

    def __init__(self, args: argparse.Namespace, out: Output) -> None:
        self.args = args
        self.out = out
        self.emulated: bool = bool(args.emulator)
        self._emulator: Emulator | None = None
        self._client: Client | None = None
        if self.emulated and (args.api_key or args.base_url):
            raise UsageError("--emulator cannot be combined with --api-key or --base-url")

    @property
    def poll_interval(self) -> tuple[float, float]:
        """First and longest poll interval while waiting; the emulator's runs are short."""
        return (0.25, 1.0) if self.emulated else (1.0, 5.0)

    def emulator(self) -> Emulator:
        """The in-process emulator (created on first use)."""
        if self._emulator is None:
            from ..emulator import Emulator

            # Shown even with --quiet: nobody should mistake emulated results for real ones.
            self.out.warn(EMULATOR_NOTICE)
            options: dict[str, Any] = {}
            if self.args.emulator_speed is not None:
                options["speed"] = self.args.emulator_speed
            self._emulator = Emulator(**options)
        return self._emulator

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.args.api_version is not None:
            options["api_version"] = self.args.api_version
        return options

    def _require_key(self) -> None:
        if not self.args.api_key and not os.environ.get(ENV_API_KEY):
            raise UsageError(
                f"no API key: pass --api-key or set {ENV_API_KEY} (or add --emulator to try the "
                "local emulator)"
            )

    def client(self) -> Client:
        """The synchronous client for this run."""
        if self._client is None:
            if self.emulated:
                self._client = self.emulator().client(**self._options())
            else:
                from .._client import Client

                self._require_key()
                self._client = Client(
                    self.args.api_key, base_url=self.args.base_url, **self._options()
                )
        return self._client

    def close(self) -> None:
        """Release the client's connections and the emulator, if any were created."""
        if self._client is not None:
            self._client.close()
        if self._emulator is not None:
            self._emulator.close()
