"""Argument checks derived from each method's own annotations, run before anything is sent.

Only what is certain is checked: types (a ``Literal`` checks the type of its values, not the value,
so new server-side enum values keep working) and unknown keyword arguments. Ranges are the server's.
"""

from __future__ import annotations

import collections.abc
import difflib
import importlib.util
import inspect
import math
import os
import re
import ssl
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, Union, get_args, get_origin
from urllib.request import getproxies

import httpx
from typing_extensions import NotRequired, Required, Unpack, is_typeddict

from ._errors import AurousError
from ._types import NOT_GIVEN, NotGiven

__all__ = [
    "argument_checker",
    "check_base_url",
    "check_environment",
    "check_header_value",
    "check_json_value",
    "public_signature",
    "resolve_timeout",
    "tls_environment_error",
    "typeddict_checker",
]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""An HTTP header name (a "token": RFC 9110, section 5.1)."""

_MAX_DEPTH = 32
"""Deepest nesting accepted in a request body (the API's own bodies nest two levels)."""

Check = Callable[[Any], bool]


def _any(_: Any) -> bool:
    return True


def _describe(tp: Any) -> str:
    text = getattr(tp, "__name__", None) or repr(tp).replace("typing.", "")
    return str(text)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_SIMPLE: dict[Any, tuple[Check, str]] = {
    type(None): ((lambda v: v is None), "None"),
    bool: ((lambda v: isinstance(v, bool)), "bool"),
    int: (_is_int, "int"),
    float: (_is_number, "float"),
    str: ((lambda v: isinstance(v, str)), "str"),
    bytes: ((lambda v: isinstance(v, (bytes, bytearray, memoryview))), "bytes"),
    NotGiven: ((lambda v: isinstance(v, NotGiven)), "NOT_GIVEN"),
}


def _predicate(tp: Any) -> tuple[Check, str]:
    """A runtime test for values of annotation ``tp`` and a readable name of what it expects."""
    if tp is Any or isinstance(tp, typing.TypeVar):
        return _any, "any"
    simple = _SIMPLE.get(type(None) if tp is None else tp)
    if simple is not None:
        return simple
    origin = get_origin(tp)
    build = _BY_ORIGIN.get(origin)
    if build is not None:
        return build(get_args(tp))
    if is_typeddict(tp):
        return (lambda v: isinstance(v, collections.abc.Mapping)), f"{tp.__name__} (a dict)"
    if origin is not None:
        # Tested before `isinstance(tp, type)`: on Python 3.10 a parameterized generic such as
        # ``os.PathLike[str]`` passes that test, and isinstance() refuses it as its second argument.
        return _generic(tp, origin)
    if isinstance(tp, type):
        return (lambda v: isinstance(v, tp)), tp.__name__
    # Anything fancier (protocols, type variables, forward references) is left to the method.
    return _any, _describe(tp)


def _generic(tp: Any, origin: Any) -> tuple[Check, str]:
    """A parameterized generic without a rule of its own (``os.PathLike[str]``,
    ``Callable[[int], None]``): its class is checked, not its parameters."""
    # typing.IO and protocols are annotations only: a file object is not an instance of typing.IO
    # and a protocol that is not runtime-checkable refuses isinstance(); the method checks those.
    if not isinstance(origin, type) or origin.__module__ == "typing" or _is_protocol(origin):
        return _any, _describe(tp)
    return (lambda v: isinstance(v, origin)), _describe(tp)


def _is_protocol(cls: type) -> bool:
    return bool(getattr(cls, "_is_protocol", False))


def _literal(args: tuple[Any, ...]) -> tuple[Check, str]:
    # The type of the values is checked, not the value: new server-side enum values keep working.
    kinds = tuple({type(a) for a in args})
    name = " | ".join(repr(a) for a in args[:6]) + (" | …" if len(args) > 6 else "")
    return (
        lambda v: isinstance(v, kinds) and not (bool not in kinds and isinstance(v, bool))
    ), name


def _union(args: tuple[Any, ...]) -> tuple[Check, str]:
    parts = [_predicate(a) for a in args]
    return (lambda v: any(p(v) for p, _ in parts)), " | ".join(n for _, n in parts)


def _iterable(args: tuple[Any, ...]) -> tuple[Check, str]:
    item_check, item_name = _predicate(args[0]) if args else (_any, "any")

    def iterable(v: Any) -> bool:
        if isinstance(v, (str, bytes)) or not isinstance(v, collections.abc.Iterable):
            return False
        # A list is checked now; a generator (over a huge file, say) item by item, on use.
        if isinstance(v, collections.abc.Sequence):
            return all(item_check(x) for x in v)
        return True

    return iterable, f"an iterable of {item_name}"


def _sequence(args: tuple[Any, ...]) -> tuple[Check, str]:
    item_check, item_name = _predicate(args[0]) if args else (_any, "any")

    def seq(v: Any) -> bool:
        # A set is refused: it has no order, and the API's lists are ordered.
        if isinstance(v, (str, bytes)) or not isinstance(v, collections.abc.Sequence):
            return False
        return all(item_check(x) for x in v)

    return seq, f"a list of {item_name}" if args else "a list"


def _tuple(args: tuple[Any, ...]) -> tuple[Check, str]:
    """``tuple[X, ...]`` is a list of X; ``tuple[A, B]`` is checked position by position."""
    if not args or (len(args) == 2 and args[1] is Ellipsis):
        return _sequence(args[:1])
    parts = [_predicate(a) for a in args]

    def fixed(v: Any) -> bool:
        return (
            isinstance(v, (tuple, list))
            and len(v) == len(parts)
            and all(p(x) for (p, _), x in zip(parts, v, strict=True))
        )

    return fixed, f"({', '.join(n for _, n in parts)})"


def _mapping(args: tuple[Any, ...]) -> tuple[Check, str]:
    return (lambda v: isinstance(v, collections.abc.Mapping)), "a mapping"


_BY_ORIGIN: dict[Any, Callable[[tuple[Any, ...]], tuple[Check, str]]] = {
    Required: lambda args: _predicate(args[0]),
    NotRequired: lambda args: _predicate(args[0]),
    Literal: _literal,
    Union: _union,
    types.UnionType: _union,
    collections.abc.Iterable: _iterable,
    list: _sequence,
    tuple: _tuple,
    collections.abc.Sequence: _sequence,
    dict: _mapping,
    collections.abc.Mapping: _mapping,
}


def _typeddict_parameters(td: Any) -> list[inspect.Parameter]:
    """Keyword-only parameters for the keys of TypedDict ``td`` (optional keys default to NOT_GIVEN)."""
    hints = typing.get_type_hints(td, include_extras=True)
    # Postponed annotations hide Required[...] from __required_keys__; read the hints.
    total = getattr(td, "__total__", True)
    params = []
    for key, hint in hints.items():
        origin = get_origin(hint)
        required = origin is Required or (total and origin is not NotRequired)
        if origin in (Required, NotRequired):
            hint = get_args(hint)[0]
        default = inspect.Parameter.empty if required else NOT_GIVEN
        params.append(inspect.Parameter(key, _KEYWORD_ONLY, default=default, annotation=hint))
    return params


_KEYWORD_ONLY = inspect.Parameter.KEYWORD_ONLY
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def public_signature(
    fn: Callable[..., Any], returns: Any = inspect.Signature.empty
) -> inspect.Signature:
    """``fn``'s signature as callers see it: no ``self``, ``**kw: Unpack[TD]`` spelled out as
    keyword-only parameters, annotations resolved, and ``returns`` as the return annotation."""
    signature = inspect.signature(fn)
    hints = typing.get_type_hints(fn, include_extras=True)
    params: list[inspect.Parameter] = []
    for name, param in list(signature.parameters.items())[1:]:
        hint = hints.get(name, param.annotation)
        if param.kind is inspect.Parameter.VAR_KEYWORD and get_origin(hint) is Unpack:
            params.extend(_typeddict_parameters(get_args(hint)[0]))
        else:
            params.append(param.replace(annotation=hint))
    return inspect.Signature(params, return_annotation=returns)


def argument_checker(signature: inspect.Signature, qualname: str) -> Callable[..., None]:
    """Build ``check(*args, **kwargs)`` enforcing ``signature`` (a `public_signature`).

    Raises ``TypeError`` naming the parameter, in the order that helps most: too many positional
    arguments, an unknown keyword (with the closest known name), a missing required argument,
    then a value of the wrong type.
    """
    params = list(signature.parameters.values())
    positional = [p.name for p in params if p.kind in _POSITIONAL]
    var_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    named = [p for p in params if p.kind not in _VARIADIC]
    checks = {p.name: _predicate(p.annotation) for p in named}
    required = [p.name for p in named if p.default is inspect.Parameter.empty]

    def check(*args: Any, **kwargs: Any) -> None:
        if len(args) > len(positional):
            raise TypeError(
                f"{qualname}() takes {len(positional)} positional argument(s) but "
                f"{len(args)} were given (the others are keyword-only)"
            )
        if not var_keyword:
            for key in kwargs:
                if key not in checks:
                    raise TypeError(_unexpected(qualname, key, checks))
        values = dict(zip(positional, args, strict=False))
        for key, value in kwargs.items():
            if key in values:
                raise TypeError(f"{qualname}() got multiple values for argument {key!r}")
            values[key] = value
        missing = [name for name in required if name not in values]
        if missing:
            names = ", ".join(repr(m) for m in missing)
            raise TypeError(f"{qualname}() missing required argument(s): {names}")
        for name, value in values.items():
            entry = checks.get(name)
            if entry is not None and not entry[0](value):
                raise TypeError(
                    f"{qualname}(): {name} must be {entry[1]}, not {type(value).__name__} "
                    f"({value!r:.60})"
                )

    return check


_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def typeddict_checker(td: Any, what: str) -> Callable[[Mapping[str, Any]], None]:
    """``check(mapping)`` for a dict of ``td``'s keys (e.g. one batch request), like a call."""
    signature = inspect.Signature(_typeddict_parameters(td))
    check = argument_checker(signature, what)

    def check_mapping(values: Mapping[str, Any]) -> None:
        check(**values)

    return check_mapping


def _unexpected(qualname: str, key: str, known: Mapping[str, Any]) -> str:
    text = f"{qualname}() got an unexpected keyword argument {key!r}"
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return text + (f" (did you mean {close[0]!r}?)" if close else "")


# ---- values that must survive encoding -------------------------------------------------------


def check_header_value(param: str, value: Any, *, header: str | None = None) -> str:
    """Refuse what cannot travel in an HTTP header: non-str, non-ASCII, control characters.

    A line break would split the request (header injection); non-ASCII cannot be encoded; a NUL
    makes the connection fail in a way that looks like a network error and would be retried.
    """
    if not isinstance(value, str):
        raise TypeError(f"{param} must be a str, not {type(value).__name__}")
    if header is not None and not isinstance(header, str):
        raise TypeError(f"{param}: header names must be str, not {type(header).__name__}")
    if header is not None and not _TOKEN.fullmatch(header):
        # Spaces, colons, brackets…: the HTTP library would refuse to write the request, which
        # looks like a connection failure and would be retried.
        raise ValueError(f"{param}: {header!r} is not a valid HTTP header name")
    if value != value.strip(" \t"):
        raise ValueError(
            f"{param} starts or ends with whitespace, which cannot be sent in an HTTP header"
        )
    if not (value.isascii() and value.isprintable()):
        for char in value:
            if char != "\t" and not (char.isascii() and char.isprintable()):
                raise ValueError(
                    f"{param} contains {char!r}, which cannot be sent in an HTTP header "
                    "(use printable ASCII characters only)"
                )
    return value


MAX_IDEMPOTENCY_KEY_LENGTH = 256
"""The API refuses longer keys (``400 value_out_of_range``)."""


def check_idempotency_key(param: str, value: Any) -> str:
    """An ``Idempotency-Key`` the API accepts: 1–256 printable ASCII characters."""
    check_header_value(param, value)
    if not value:
        raise ValueError(f"{param} must not be empty (omit it to have one generated)")
    if len(value) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise ValueError(
            f"{param} is {len(value)} characters long; the API accepts at most "
            f"{MAX_IDEMPOTENCY_KEY_LENGTH}"
        )
    return value  # type: ignore[no-any-return]


def check_json_value(value: Any, path: str, depth: int = 0) -> None:
    """Refuse a body value that JSON cannot carry faithfully, naming where it is.

    NaN and infinities are not JSON; a lone surrogate is not UTF-8; sets have no order and
    other objects no JSON form. Each would otherwise fail inside the encoder (or the server)
    with an error that does not name the parameter.
    """
    if value is None or isinstance(value, (bool, int)):
        return
    if isinstance(value, str):
        _check_text(value, path)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path} must be a finite number, not {value!r}")
    elif depth >= _MAX_DEPTH:
        raise ValueError(f"{path} is nested more than {_MAX_DEPTH} levels deep")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            check_json_value(item, f"{path}[{index}]", depth + 1)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path} has a key of type {type(key).__name__}; keys must be str")
            check_json_value(key, f"{path} key {key!r}", depth + 1)
            check_json_value(item, f"{path}.{key}", depth + 1)
    else:
        raise TypeError(_not_json(value, path))


def _check_text(value: str, path: str) -> None:
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{path} contains a lone surrogate ({value[exc.start]!r} at position "
            f"{exc.start}), which is not valid UTF-8"
        ) from None


def _not_json(value: Any, path: str) -> str:
    kind = type(value).__name__
    hint = ""
    if isinstance(value, (set, frozenset)):
        hint = " (use a list: order matters and JSON has no sets)"
    return f"{path} must be a JSON value (str, number, bool, None, list or dict), not {kind}{hint}"


def resolve_timeout(value: Any, param: str = "timeout") -> httpx.Timeout:
    """``value`` (seconds, ``None`` for none, or an ``httpx.Timeout``) as an ``httpx.Timeout``."""
    if isinstance(value, httpx.Timeout):
        for phase in ("connect", "read", "write", "pool"):
            _check_seconds(getattr(value, phase), f"{param}.{phase}")
        return value
    if value is None:
        return httpx.Timeout(None)
    _check_seconds(value, param)
    return httpx.Timeout(float(value))


def _check_seconds(value: Any, param: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"{param} must be a number of seconds, None or an httpx.Timeout, not {value!r:.60}"
        )
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int too large for a float (10**400)
        finite = False
    if not finite or value <= 0:
        raise ValueError(
            f"{param} must be a positive, finite number of seconds (None for no limit), "
            f"got {value!r:.60}"
        )


# ---- what a client is built from: its base URL, and the environment ----------------------------

_TLS_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")
_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


def check_base_url(value: Any, source: str = "base_url") -> str:
    """``value`` as a base URL every request can start from, or a ``ValueError`` naming
    ``source`` (the argument, or the environment variable it came from).

    httpx would refuse a malformed URL only when the first request is built, as an error that
    looks like a network failure (and is retried); a query or a fragment would be glued to
    every path.
    """
    if not isinstance(value, str):
        raise TypeError(f"{source} must be a str, not {type(value).__name__}")
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, ValueError) as exc:
        raise ValueError(f"{source} is not a valid URL ({exc}): {value!r:.100}") from None
    if url.scheme not in ("http", "https") or not value.startswith(("http://", "https://")):
        raise ValueError(f"{source} must be an http(s) URL, got {value!r:.100}")
    problem = _host_problem(url)
    if problem is not None:
        raise ValueError(f"{source} has {problem}: {value!r:.100}")
    if url.query or url.fragment or "?" in value or "#" in value:
        raise ValueError(
            f"{source} must not have a query or a fragment (paths are appended to it): "
            f"{value!r:.100}"
        )
    return value


def _host_problem(url: httpx.URL) -> str | None:
    """What makes ``url`` unusable although httpx parsed it (httpx checks these only when it
    connects, as a connection error), or ``None``."""
    host = url.host
    if not host or any(char.isspace() or char in "%[]" for char in host):
        return "no valid host name"
    if url.port is not None and not 0 < url.port < 65536:
        return f"port {url.port}, outside 1-65535"
    return None


def check_environment() -> None:
    """Refuse the environment's TLS and proxy settings that httpx would fail on, naming the
    variable and its value — before a client the SDK builds reads them.

    httpx reads ``SSL_CERT_FILE``/``SSL_CERT_DIR`` and the proxy variables (``HTTPS_PROXY`` …)
    itself, and fails with ``FileNotFoundError``, ``httpx.InvalidURL``, ``ValueError`` or
    ``ImportError`` that name neither; a missing ``SSL_CERT_DIR`` would fail every TLS handshake
    later instead.
    """
    cafile = os.environ.get("SSL_CERT_FILE")
    if cafile:
        if not os.path.isfile(cafile):
            raise AurousError(
                f"SSL_CERT_FILE is {cafile!r}, which is not a file: point it at a PEM bundle of "
                "CA certificates, or unset it"
            )
    else:
        capath = os.environ.get("SSL_CERT_DIR")
        if capath and not os.path.isdir(capath):
            raise AurousError(
                f"SSL_CERT_DIR is {capath!r}, which is not a directory: point it at a directory "
                "of CA certificates, or unset it"
            )
    proxies = getproxies()
    if any(host.strip() == "*" for host in proxies.get("no", "").split(",")):
        return  # NO_PROXY=* : httpx uses no proxy at all
    for scheme in ("http", "https", "all"):
        value = proxies.get(scheme)
        if value:
            _check_proxy(scheme, value)


def _check_proxy(scheme: str, value: str) -> None:
    # As httpx reads it: a bare "host:port" means an http:// proxy.
    url = value if "://" in value else f"http://{value}"
    variable = _proxy_variable(scheme, value)
    shown = _without_password(value)
    try:
        proxy = httpx.Proxy(url)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        reason = str(exc).replace(value, shown)
        raise AurousError(f"{variable} is not a usable proxy URL ({reason}): {shown!r}") from None
    if proxy.url.scheme not in _PROXY_SCHEMES:
        raise AurousError(f"{variable} has an unsupported proxy scheme: {shown!r}")
    problem = _host_problem(proxy.url)
    if problem is not None:
        raise AurousError(f"{variable} is not a usable proxy URL ({problem}): {shown!r}")
    if proxy.url.scheme.startswith("socks") and importlib.util.find_spec("socksio") is None:
        raise AurousError(
            f"{variable} is a SOCKS proxy ({shown!r}), which needs the socksio package: "
            "pip install 'httpx[socks]'"
        )


def _proxy_variable(scheme: str, value: str) -> str:
    """Where a proxy setting came from: ``HTTPS_PROXY`` or ``https_proxy`` (or, on Windows and
    macOS, the system's proxy settings, which ``urllib`` falls back to)."""
    name = f"{scheme}_proxy"
    for candidate in (name, name.upper()):
        if os.environ.get(candidate) == value:
            return candidate
    return f"the system's {scheme} proxy setting"


def _without_password(value: str) -> str:
    """A proxy URL as it may be shown in an error: ``user:***@host``."""
    scheme, sep, rest = value.rpartition("://")
    userinfo, at, host = rest.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    return f"{scheme}{sep}{userinfo}{at}{host}"


def tls_environment_error(exc: Exception) -> AurousError:
    """The error for CA certificates the environment names but that cannot be loaded."""
    for variable in _TLS_VARIABLES:
        path = os.environ.get(variable)
        if path:
            reason = str(exc)
            if isinstance(exc, OSError) and not isinstance(exc, ssl.SSLError) and exc.strerror:
                reason = exc.strerror
            return AurousError(
                f"the CA certificates in {variable} ({path!r}) cannot be loaded: {reason}"
            )
    return AurousError(f"the CA certificates cannot be loaded: {exc}")
