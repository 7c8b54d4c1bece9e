"""API errors raised by handlers and the six-field error envelope the core renders (``type``,
``code``, ``message``, ``param``, ``request_id``, ``doc_url``)."""

from __future__ import annotations

from typing import Any

__all__ = [
    "DOC_URL",
    "ApiError",
    "bad_request",
    "envelope",
    "invalid_format",
    "missing_field",
    "not_found",
    "out_of_range",
]

DOC_URL = "https://docs.aurous-labs.com/errors#"

_TYPE_BY_STATUS = {
    400: "invalid_request",
    402: "invalid_request",
    409: "invalid_request",
    416: "invalid_request",
    422: "invalid_request",
    401: "authentication",
    403: "authentication",
    404: "not_found",
    410: "not_found",
    429: "rate_limit",
}


class ApiError(Exception):
    """An error response. Raise it anywhere inside a handler; the core renders it."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        param: str | None = None,
        type: str | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.type = type or _TYPE_BY_STATUS.get(status, "server_error")
        self.headers = list(headers or [])

    def body(self, request_id: str) -> dict[str, Any]:
        """The envelope for this error."""
        return envelope(self.type, self.code, self.message, self.param, request_id)


def envelope(
    type: str, code: str, message: str, param: str | None, request_id: str
) -> dict[str, Any]:
    """``{"error": {type, code, message, param, doc_url, request_id}}`` with every key present."""
    return {
        "error": {
            "type": type,
            "code": code,
            "message": message,
            "param": param,
            "doc_url": DOC_URL + code,
            "request_id": request_id,
        }
    }


def bad_request(code: str, message: str, param: str | None = None) -> ApiError:
    """A ``400 invalid_request`` error with ``code``."""
    return ApiError(400, code, message, param=param)


def not_found(message: str, param: str | None = None) -> ApiError:
    """A ``404 not_found / resource_not_found`` error."""
    return ApiError(404, "resource_not_found", message, param=param)


def missing_field(param: str, message: str | None = None) -> ApiError:
    """A ``400 missing_field`` naming ``param``."""
    return bad_request("missing_field", message or f"{param} is required.", param)


def invalid_format(param: str, message: str) -> ApiError:
    """A ``400 invalid_format`` naming ``param``."""
    return bad_request("invalid_format", message, param)


def out_of_range(param: str, message: str) -> ApiError:
    """A ``400 value_out_of_range`` naming ``param``."""
    return bad_request("value_out_of_range", message, param)
