"""How failures become exit codes and messages (never a traceback unless ``--verbose``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
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
    for kinds, describe in _DESCRIBERS:
        if isinstance(exc, kinds):
            report = describe(exc)
            if report is not None:
                return report
    message = f"{type(exc).__name__}: {exc}"
    lines = [f"Internal error: {message}", "  run again with -v for the traceback"]
    return ErrorReport(EXIT_FAILURE, lines, {"type": "internal_error", "message": message})


def _usage(exc: BaseException) -> ErrorReport:
    # Raised before any request (a missing API key, a bad option, an argument the SDK refused
    # naming it): the user must fix the call.
    message = str(exc)
    return ErrorReport(EXIT_USAGE, [f"Error: {message}"], {"type": "usage", "message": message})


def _failed(exc: CommandFailed) -> ErrorReport:
    data = {"type": "failed", "message": exc.message, **exc.details}
    return ErrorReport(EXIT_FAILURE, [f"Error: {exc.message}"], data)


def _connection(exc: APIConnectionError) -> ErrorReport:
    lines = [f"Error: could not reach the API: {exc.message}"]
    facts: dict[str, Any] = {"type": "connection_error", "message": exc.message}
    if exc.idempotency_key:
        lines.append(f"  idempotency key: {exc.idempotency_key} (reuse it to retry safely)")
        facts["idempotency_key"] = exc.idempotency_key
    return ErrorReport(EXIT_FAILURE, lines, facts)


def _generation(exc: WaitTimeoutError | GenerationFailedError) -> ErrorReport:
    facts = _generation_facts(exc)
    kind = "timeout" if isinstance(exc, WaitTimeoutError) else "generation_failed"
    lines = [f"Error: {exc}"]
    if facts:
        lines.append("  " + "  ".join(f"{k.replace('_', ' ')}: {v}" for k, v in facts.items() if v))
    return ErrorReport(EXIT_FAILURE, lines, {"type": kind, "message": str(exc), **facts})


def _webhook(exc: WebhookVerificationError) -> ErrorReport:
    return ErrorReport(
        EXIT_FAILURE,
        [f"Invalid: {exc.reason}"],
        {"type": "webhook_verification", "message": exc.reason},
    )


def _os_error(exc: OSError) -> ErrorReport:
    message = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    return ErrorReport(
        EXIT_FAILURE, [f"Error: {message}"], {"type": "os_error", "message": message}
    )


# First match wins; a describer returning None lets the search go on.
_DESCRIBERS: list[tuple[Any, Callable[[Any], ErrorReport | None]]] = [
    (UsageError, _usage),
    (CommandFailed, _failed),
    (APIStatusError, lambda exc: _status_error(exc)),
    (APIConnectionError, _connection),
    ((WaitTimeoutError, GenerationFailedError), _generation),
    (WebhookVerificationError, _webhook),
    (AurousError, _usage),
    ((ValueError, TypeError), _usage),
    (ImportError, lambda exc: _missing_package(exc)),
    (OSError, _os_error),
]
