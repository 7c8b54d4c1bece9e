"""The per-call options and the NOT_GIVEN sentinel, for the SDK's own modules.

They are defined in the public `aurous.types.options`, so the types users see (in editors, in
mypy's messages) name a module they can import.
"""

from .types.options import NOT_GIVEN, NotGiven, RequestOptions, Timeout

__all__ = ["NOT_GIVEN", "NotGiven", "RequestOptions", "Timeout"]
