"""Route registration: each route family owns a :class:`Router`."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ._context import RequestContext
    from ._core import Core
    from ._http import EmuResponse
    from ._state import State, Team

__all__ = ["Handler", "Route", "Router", "Setup", "Ticker", "TokenAuth"]

Handler = Callable[["RequestContext"], "EmuResponse"]
Ticker = Callable[["Core", float], None]
Setup = Callable[["Core"], None]
TokenAuth = Callable[["State", "dict[str, str]", str], "Team | None"]
"""Resolves ``?token=`` for ``auth="token_or_key"`` routes: returns the owning team or None."""
Fingerprint = Callable[["RequestContext"], object]
AuthMode = Literal["key", "token_or_key", "none"]

_PARAM = re.compile(r"\{([a-z_]+)\}")


@dataclasses.dataclass(frozen=True)
class Route:
    """One method + path template and how the core treats it (see ARCHITECTURE.md)."""

    method: str
    template: str
    handler: Handler
    bucket: str | None
    scope: str
    auth: AuthMode
    idempotent: bool
    fingerprint: Fingerprint | None
    token_auth: TokenAuth | None
    early: bool
    pattern: re.Pattern[str]

    def match(self, path: str) -> dict[str, str] | None:
        """Path parameters when ``path`` fits the template, else ``None``."""
        found = self.pattern.fullmatch(path)
        return None if found is None else found.groupdict()


class Router:
    """A set of routes and tickers contributed by one route family."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.tickers: list[Ticker] = []
        self.setups: list[Setup] = []

    def route(
        self,
        method: str,
        template: str,
        *,
        bucket: str | None,
        scope: str | None = None,
        auth: AuthMode = "key",
        idempotent: bool = False,
        fingerprint: Fingerprint | None = None,
        token_auth: TokenAuth | None = None,
        early: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Register ``handler`` for ``method template``.

        ``early`` handlers run right after routing, before authentication, versioning and rate
        limiting (legacy 308 redirects).
        """
        regex = "".join(
            f"(?P<{part[1:-1]}>[^/]+)" if _PARAM.fullmatch(part) else re.escape(part)
            for part in re.split(r"(\{[a-z_]+\})", template)
        )

        def register(handler: Handler) -> Handler:
            self.routes.append(
                Route(
                    method=method.upper(),
                    template=template,
                    handler=handler,
                    bucket=bucket,
                    scope=scope or ("read" if method.upper() == "GET" else "write"),
                    auth=auth,
                    idempotent=idempotent,
                    fingerprint=fingerprint,
                    token_auth=token_auth,
                    early=early,
                    pattern=re.compile(regex),
                )
            )
            return handler

        return register

    def ticker(self, fn: Ticker) -> Ticker:
        """Register ``fn(core, now)``, called under the lock whenever the clock is consulted."""
        self.tickers.append(fn)
        return fn

    def setup(self, fn: Setup) -> Setup:
        """Register ``fn(core)``, called once when a core is built (install resolvers, hooks)."""
        self.setups.append(fn)
        return fn
