"""Served mode: uvicorn on a background thread (or in the foreground for the CLI)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from ._asgi import DROP_MESSAGE, AsgiApp
from ._clock import ManualClock
from ._core import Core

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["INSTALL_HINT", "EmulatorServer", "MissingExtraError"]

INSTALL_HINT = 'serving the emulator needs uvicorn: pip install "aurous[emulator]"'


class MissingExtraError(ModuleNotFoundError):
    """uvicorn, which served mode runs on, is not installed (it comes with the ``emulator``
    extra). The message says how to install it."""


class _DropFilter(logging.Filter):
    """Hide uvicorn's complaint about responses the emulator drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != DROP_MESSAGE


_FILTER = _DropFilter()


def _display_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class EmulatorServer:
    """A running HTTP server for a core. ``base_url`` is its real ``http://host:port``."""

    def __init__(self, core: Core, host: str = "127.0.0.1", port: int = 0) -> None:
        try:
            import uvicorn
        except ImportError as exc:  # an optional dependency: say how to get it, not where
            raise MissingExtraError(INSTALL_HINT, name="uvicorn") from exc

        self.core = core
        self.emulator: Emulator | None = None
        """The emulator being served, when started through ``Emulator.serve``."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Headers and body leave in two writes; without NODELAY (inherited by accepted
        # sockets on Linux) Nagle + delayed ACK add ~40 ms to every response.
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind((host, port))
        # Listening at once means clients told the URL early are queued, not refused.
        self._socket.listen(2048)
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        self.base_url = f"http://{_display_host(host)}:{self.port}"
        config = uvicorn.Config(
            AsgiApp(core),
            lifespan="off",
            log_level="warning",
            access_log=False,
            date_header=False,  # the emulator sends its own Date, on its own clock
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self._ticker: threading.Thread | None = None
        self._stopping = threading.Event()
        self._previous_base_url = core.public_base_url
        logging.getLogger("uvicorn.error").addFilter(_FILTER)

    # ------------------------------------------------------------------------- lifecycle
    def start(self, timeout: float = 10.0) -> EmulatorServer:
        """Start serving on a daemon thread and wait until the socket accepts connections."""
        self.core.public_base_url = self.base_url
        self._start_ticker()
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="aurous-emulator-server",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator server did not start")
            time.sleep(0.005)
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (Ctrl-C)."""
        self.core.public_base_url = self.base_url
        self._start_ticker()
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._stop_ticker()
            self.core.public_base_url = self._previous_base_url

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self._stop_ticker()
        self._socket.close()
        self.core.public_base_url = self._previous_base_url

    def __enter__(self) -> EmulatorServer:
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------------- ticking
    def _start_ticker(self) -> None:
        # A manual clock only moves when told to; real time needs a heartbeat so time-driven
        # work (lifecycle transitions, deliveries) happens without incoming requests.
        if isinstance(self.core.clock, ManualClock) or self._ticker is not None:
            return
        self._stopping.clear()
        self._ticker = threading.Thread(
            target=self._tick_loop, name="aurous-emulator-tick", daemon=True
        )
        self._ticker.start()

    def _stop_ticker(self) -> None:
        self._stopping.set()
        if self._ticker is not None:
            self._ticker.join(5)
            self._ticker = None

    def _tick_loop(self) -> None:
        while not self._stopping.wait(0.05):
            self.core.tick()
