"""How failures become exit codes and messages (never a traceback unless ``--verbose``)."""

from __future__ import annotations

import dataclasses
from typing import Any

from .._errors import (
    APIConnectionError,
    APIStatusError,
    AurousError,
    GenerationFailedError,
    WaitTimeoutError,
    WebhookVerificationError,
)

__all__ = [
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "OPTIONAL_PACKAGES",
    "CommandFailed",
    "ErrorReport",
    "UsageError",
    "report_error",
]

EXIT_OK = 0
EXIT_FAILURE = 1
"""The API refused a request, a generation failed, or a check did not pass."""
EXIT_USAGE = 2
"""The command line was wrong (argparse's own code for usage errors)."""
EXIT_INTERRUPTED = 130
"""Ctrl-C, following the shell convention of 128 + SIGINT."""


OPTIONAL_PACKAGES = {"rich": "cli", "uvicorn": "emulator"}
"""The optional packages a command may import, and the extra of ``aurous`` that installs each."""


def install_hint(extra: str) -> str:
    """The command that installs an extra, e.g. ``pip install "aurous[cli]"``."""
    return f'pip install "aurous[{extra}]"'


class UsageError(Exception):
    """The command line (or a file it names) cannot be used as given: exit code 2."""


class CommandFailed(Exception):
    """A command ran but did not succeed; its message is already user-facing: exit code 1."""

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


@dataclasses.dataclass(frozen=True)
class ErrorReport:
    """What to tell the user about an exception: exit code, human lines and a JSON object."""

    exit_code: int
    lines: list[str]
    data: dict[str, Any]


def _status_error(exc: APIStatusError) -> ErrorReport:
    head = f"Error: {exc.message}"
    facts = [
        ("status", str(exc.status_code)),
        ("type", exc.type),
        ("code", exc.code),
        ("param", exc.param),
        ("request id", exc.request_id),
    ]
    detail = "  " + "  ".join(f"{name}: {value}" for name, value in facts if value)
    lines = [head, detail]
    if exc.idempotency_key:
        lines.append(f"  idempotency key: {exc.idempotency_key} (reuse it to retry safely)")
    data = {
        "type": exc.type,
        "code": exc.code,
        "message": exc.message,
        "param": exc.param,
        "status": exc.status_code,
        "request_id": exc.request_id,
    }
    return ErrorReport(EXIT_FAILURE, lines, data)


def _generation_facts(exc: WaitTimeoutError | GenerationFailedError) -> dict[str, Any]:
    generation = exc.generation
    if generation is None:
        return {}
    return {
        "generation_id": generation.id,
        "status": generation.status,
        "error_message": generation.error_message,
        "request_id": generation.creation_request_id,
    }


def _missing_package(exc: ImportError) -> ErrorReport | None:
    """An install hint when ``exc`` comes from an optional package, else None."""
    package = (exc.name or "").partition(".")[0]
    extra = OPTIONAL_PACKAGES.get(package)
    if extra is None:
        return None
    if isinstance(exc, ModuleNotFoundError) and exc.name == package:
        problem = "is not installed"
    else:  # installed, but partly missing or too old
        problem = f"could not be imported ({exc})"
    message = f"this command needs {package}, which {problem}: {install_hint(extra)}"
    data = {"type": "missing_dependency", "message": message, "package": package, "extra": extra}
    # Installing an extra is fixing how the command is run, like a usage error.
    return ErrorReport(EXIT_USAGE, [f"Error: {message}"], data)


def report_error(exc: BaseException) -> ErrorReport:
    """Describe ``exc`` for the user; unknown exceptions are reported as internal errors."""
    if isinstance(exc, UsageError):
        message = str(exc)
        return ErrorReport(EXIT_USAGE, [f"Error: {message}"], {"type": "usage", "message": message})
    if isinstance(exc, CommandFailed):
        data = {"type": "failed", "message": exc.message, **exc.details}
        return ErrorReport(EXIT_FAILURE, [f"Error: {exc.message}"], data)
    if isinstance(exc, APIStatusError):
        return _status_error(exc)
    if isinstance(exc, APIConnectionError):
        lines = [f"Error: could not reach the API: {exc.message}"]
        facts: dict[str, Any] = {"type": "connection_error", "message": exc.message}
        if exc.idempotency_key:
            lines.append(f"  idempotency key: {exc.idempotency_key} (reuse it to retry safely)")
            facts["idempotency_key"] = exc.idempotency_key
        return ErrorReport(EXIT_FAILURE, lines, facts)
    if isinstance(exc, (WaitTimeoutError, GenerationFailedError)):
        facts = _generation_facts(exc)
        kind = "timeout" if isinstance(exc, WaitTimeoutError) else "generation_failed"
        lines = [f"Error: {exc}"]
        if facts:
            lines.append(
                "  " + "  ".join(f"{k.replace('_', ' ')}: {v}" for k, v in facts.items() if v)
            )
        return ErrorReport(EXIT_FAILURE, lines, {"type": kind, "message": str(exc), **facts})
    if isinstance(exc, WebhookVerificationError):
        return ErrorReport(
            EXIT_FAILURE,
            [f"Invalid: {exc.reason}"],
            {"type": "webhook_verification", "message": exc.reason},
        )
    if isinstance(exc, AurousError):
        # Raised before any request (a missing API key, a bad option): the user must fix the call.
        message = str(exc)
        return ErrorReport(EXIT_USAGE, [f"Error: {message}"], {"type": "usage", "message": message})
    if isinstance(exc, (ValueError, TypeError)):
        # The SDK validates arguments before sending; those messages name the offending option.
        message = str(exc)
        return ErrorReport(EXIT_USAGE, [f"Error: {message}"], {"type": "usage", "message": message})
    if isinstance(exc, ImportError):
        missing = _missing_package(exc)
        if missing is not None:
            return missing
    if isinstance(exc, OSError):
        message = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
        return ErrorReport(
            EXIT_FAILURE, [f"Error: {message}"], {"type": "os_error", "message": message}
        )
    message = f"{type(exc).__name__}: {exc}"
    lines = [f"Internal error: {message}", "  run again with -v for the traceback"]
    return ErrorReport(EXIT_FAILURE, lines, {"type": "internal_error", "message": message})
