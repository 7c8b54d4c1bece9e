"""Field readers raising the generic validation codes with ``param`` paths (``a[0].b``): absent
→ ``missing_field``; wrong type, enum or format → ``invalid_format``; out of bounds →
``value_out_of_range``."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ._errors import invalid_format, missing_field, out_of_range

__all__ = [
    "read_bool",
    "read_enum",
    "read_https_url",
    "read_int",
    "read_list",
    "read_number",
    "read_str",
    "reject_private_host",
    "require_object",
]


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _field(body: dict[str, Any], name: str, param: str | None, required: bool) -> tuple[str, Any]:
    """The ``param`` name to report and the field's value (None when absent or null);
    a required field that is absent or null is ``missing_field``."""
    param = param or name
    value = body.get(name)
    if value is None and required:
        raise missing_field(param)
    return param, value


def read_str(
    body: dict[str, Any],
    name: str,
    *,
    param: str | None = None,
    required: bool = False,
    max_len: int | None = None,
    min_len: int = 1,
    reject_blank: bool = False,
) -> str | None:
    """A string field; ``None`` when absent (or ``missing_field`` when required)."""
    param, value = _field(body, name, param, required)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_format(param, f"{param} must be a string.")
    if reject_blank and value and not value.strip():
        raise invalid_format(param, f"{param} must not be blank.")
    if len(value) < min_len or (max_len is not None and len(value) > max_len):
        bound = f"between {min_len} and {max_len}" if max_len is not None else f"at least {min_len}"
        raise out_of_range(param, f"{param} must be {bound} characters long (got {len(value)}).")
    return value


def read_int(
    body: dict[str, Any],
    name: str,
    *,
    lo: int,
    hi: int,
    param: str | None = None,
    required: bool = False,
) -> int | None:
    """An integer field within ``[lo, hi]``."""
    param, value = _field(body, name, param, required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid_format(param, f"{param} must be an integer.")
    if isinstance(value, float):
        if not value.is_integer():
            raise invalid_format(param, f"{param} must be an integer.")
        value = int(value)
    if not lo <= value <= hi:
        raise out_of_range(param, f"{param} must be between {lo} and {hi} (got {value}).")
    return value


def read_number(
    body: dict[str, Any],
    name: str,
    *,
    lo: float,
    hi: float,
    param: str | None = None,
    required: bool = False,
) -> float | None:
    """A number field within ``[lo, hi]``."""
    param, value = _field(body, name, param, required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid_format(param, f"{param} must be a number.")
    if not lo <= value <= hi:
        raise out_of_range(
            param, f"{param} must be between {_num(lo)} and {_num(hi)} (got {_num(value)})."
        )
    return value


def read_bool(body: dict[str, Any], name: str, *, param: str | None = None) -> bool | None:
    """A boolean field."""
    param, value = _field(body, name, param, False)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise invalid_format(param, f"{param} must be a boolean.")
    return value


def read_enum(
    body: dict[str, Any], name: str, choices: Sequence[str], *, param: str | None = None
) -> str | None:
    """A string that must be one of ``choices``."""
    param, value = _field(body, name, param, False)
    if value is None:
        return None
    if not isinstance(value, str) or value not in choices:
        raise invalid_format(param, f"{param} must be one of {', '.join(choices)} (got {value!r}).")
    return value


def read_list(body: dict[str, Any], name: str, *, param: str | None = None) -> list[Any] | None:
    """An array field; an empty array counts as absent, like an omitted field."""
    param, value = _field(body, name, param, False)
    if value is None:
        return None
    if not isinstance(value, list):
        raise invalid_format(param, f"{param} must be an array.")
    return value or None


def read_https_url(value: Any, param: str, *, max_len: int = 2048) -> str:
    """An absolute ``https://`` URL of at most ``max_len`` characters."""
    if not isinstance(value, str):
        raise invalid_format(param, f"{param} must be a string.")
    if len(value) > max_len:
        raise out_of_range(
            param, f"{param} must be at most {max_len} characters (got {len(value)})."
        )
    try:
        parts = urlsplit(value)
        # .port validates the port; both raise ValueError on malformed input ("Invalid IPv6 URL").
        ok = parts.scheme == "https" and bool(parts.hostname) and parts.port != -1
    except ValueError:
        ok = False
    if not ok:
        raise invalid_format(param, f"{param} must be an absolute https:// URL.")
    return value


def reject_private_host(url: str, param: str) -> None:
    """Refuse ``localhost`` and literal private / loopback / link-local addresses: the server
    would fetch the URL, so it must not point inside its own network."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        raise invalid_format(param, f"{param} must not point at a local address.")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if address.is_private or address.is_loopback or address.is_link_local or address.is_unspecified:
        raise invalid_format(param, f"{param} must not point at a private address.")


def require_object(value: Any, param: str) -> dict[str, Any]:
    """A JSON object, else ``invalid_format``."""
    if not isinstance(value, dict):
        raise invalid_format(param, f"{param} must be an object.")
    return value
