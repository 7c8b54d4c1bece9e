"""What a route handler receives."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ._errors import bad_request
from ._http import EmuRequest, EmuResponse, dumps

if TYPE_CHECKING:
    from ._config import EmulatorConfig
    from ._core import Core
    from ._router import Route
    from ._state import ApiKey, State, Team

__all__ = ["RequestContext"]


class RequestContext:
    """One request being handled: the raw request, who sent it, and handy tools.

    ``team`` is set for every authenticated route (for ``auth="none"`` routes it is the
    default team, which handlers of signed URLs should not rely on).
    """

    def __init__(
        self,
        core: Core,
        request: EmuRequest,
        route: Route,
        params: dict[str, str],
        request_id: str,
        now: float,
        team: Team,
        api_key: ApiKey | None,
        version: str,
    ) -> None:
        self.core = core
        self.request = request
        self.route = route
        self.params = params
        self.request_id = request_id
        self.now = now
        self.team = team
        self.api_key = api_key
        self.version = version
        self.idempotency_key: str | None = None
        self._body: dict[str, Any] | None = None

    # ------------------------------------------------------------------------- shortcuts
    @property
    def state(self) -> State:
        """All teams and keys."""
        return self.core.state

    @property
    def config(self) -> EmulatorConfig:
        """The emulator's settings."""
        return self.core.config

    # ------------------------------------------------------------------------- request reading
    def query_one(self, name: str) -> str | None:
        """The first value of query parameter ``name``."""
        for key, value in self.request.query:
            if key == name:
                return value
        return None

    def query_list(self, name: str) -> list[str] | None:
        """All values of ``name`` (also ``name[]``), comma-separated values split; None if absent."""
        values: list[str] = []
        present = False
        for key, value in self.request.query:
            if key in (name, name + "[]"):
                present = True
                values.extend(part.strip() for part in value.split(",") if part.strip())
        return values if present else None

    def header(self, name: str) -> str | None:
        """A request header (case-insensitive)."""
        return self.request.headers.get(name.lower())

    def json_body(self) -> dict[str, Any]:
        """The JSON object body; an empty body is ``{}``. Malformed → 400 ``invalid_format``."""
        if self._body is None:
            raw = self.request.body
            if not raw.strip():
                self._body = {}
            else:
                try:
                    parsed = json.loads(raw)
                except (ValueError, UnicodeDecodeError):
                    raise bad_request(
                        "invalid_format", "The request body is not valid JSON."
                    ) from None
                if not isinstance(parsed, dict):
                    raise bad_request("invalid_format", "The request body must be a JSON object.")
                self._body = parsed
        return self._body

    # ------------------------------------------------------------------------- minting
    def mint_id(self, prefix: str) -> str:
        """``prefix`` + a ULID whose time part is now."""
        return self.core.ids.prefixed(prefix, self.now)

    def token(self) -> str:
        """An opaque URL-safe token."""
        return self.core.ids.token()

    def url(self, path: str, query: Mapping[str, str] | None = None) -> str:
        """An absolute URL on the host this request was sent to."""
        suffix = f"?{urlencode(dict(query))}" if query else ""
        return f"{self.request.base_url}{path}{suffix}"

    def signed_url(self, path: str, ttl: float, extra: Mapping[str, str] | None = None) -> str:
        """A URL for ``path`` valid ``ttl`` seconds, checked by :meth:`verify_signed_url`."""
        expires = str(int(self.now + ttl))
        query = dict(extra or {})
        query["expires"] = expires
        query["signature"] = self.core.sign_path(path, expires)
        return self.url(path, query)

    def verify_signed_url(self) -> bool:
        """Whether this request's path carries a valid, unexpired signature."""
        expires = self.query_one("expires")
        signature = self.query_one("signature")
        if not expires or not signature or not expires.isdigit():
            return False
        expected = self.core.sign_path(self.request.path, expires)
        return hmac.compare_digest(expected, signature) and self.now <= int(expires)

    # ------------------------------------------------------------------------- effects
    def emit_event(self, type: str, data: dict[str, Any]) -> None:
        """Emit a registered-endpoint event for this team (see ARCHITECTURE.md)."""
        self.core.emit_event(self.team, type, data, self.now)

    def charge(self, amount: Decimal) -> Decimal:
        """Debit ``amount`` at once (402 when a metered team lacks it); fires balance_low."""
        debited = self.team.charge(amount)
        self.core.after_debit(self.team, self.now)
        return debited

    # ------------------------------------------------------------------------- responses
    def json(
        self, status: int, value: Any, headers: list[tuple[str, str]] | None = None
    ) -> EmuResponse:
        """A JSON response (credits as exact decimals)."""
        return EmuResponse(
            status, [("Content-Type", "application/json"), *(headers or [])], dumps(value)
        )

    def raw(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: list[tuple[str, str]] | None = None,
    ) -> EmuResponse:
        """A response with arbitrary bytes."""
        return EmuResponse(status, [("Content-Type", content_type), *(headers or [])], body)


def path_digest(secret: bytes, path: str, expires: str) -> str:
    """The signature of a signed storage URL."""
    return hmac.new(secret, f"{path}|{expires}".encode(), hashlib.sha256).hexdigest()[:43]
