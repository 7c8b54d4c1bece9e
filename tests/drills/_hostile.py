"""The hostile-answer matrix: answer shapes, the method variants they are served to, and a
well-behaved server for every other request.

A `Variant` is one way of calling the SDK (``images.create``, ``create_and_wait`` whose polls are
answered badly, the second page of an auto-paging list, a download …) and says which of its
requests get the hostile answer; the rest are answered by `normal`, from the fixtures. A `Shape`
is one hostile answer, built from the request (and, for shapes that only spoil the headers or a
field, from the answer `normal` would have given).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

import aurous

from ._support import API, Both, body, fixture
from .test_bad_responses import SHAPES as FIRST_ROUND

Handler = Callable[[httpx.Request], httpx.Response]
Answer = Callable[[httpx.Request, Handler], httpx.Response]
JSON = {"Content-Type": "application/json"}
CDN = "https://cdn.test"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

PENDING = fixture("generation.pending.image")
PENDING_VIDEO = fixture("generation.pending.video")
SUCCEEDED = {
    **fixture("generation.succeeded.image"),
    "id": PENDING["id"],
    "output_urls": [f"{CDN}/out/0.png"],
}
SUCCEEDED_VIDEO = {**fixture("generation.succeeded.video"), "id": PENDING_VIDEO["id"]}

# ---- a well-behaved server ------------------------------------------------------------------------


def _json(status: int, value: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(value).encode(), headers={**JSON, **(headers or {})}
    )


def _paged(request: httpx.Request, name: str, param: str, cursor_field: str) -> httpx.Response:
    page = fixture(name)
    if param in request.url.params:
        return _json(200, {**page, "has_more": False, cursor_field: None})
    return _json(200, {**page, "data": page["data"][:1], "has_more": True, cursor_field: "next-1"})


_STATIC = {
    ("GET", "/v1/balance"): "balance",
    ("GET", "/v1/pricing"): "pricing",
    ("GET", "/v1/team"): "team",
    ("GET", "/v1/loras"): "loras",
    ("GET", "/v1/video_loras"): "video_loras",
    ("GET", "/v1/characters"): "characters.list",
    ("POST", "/v1/images/estimate"): "estimate",
    ("POST", "/v1/videos/estimate"): "estimate.video",
}


def _generation(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("/cancel"):
        return _json(200, fixture("generation.cancelled.image"))
    return _json(200, SUCCEEDED_VIDEO if path.endswith(PENDING_VIDEO["id"]) else SUCCEEDED)


def _endpoints(request: httpx.Request) -> httpx.Response:
    if request.method == "POST":
        return _json(201, fixture("webhook_endpoint.created"))
    return _paged(request, "webhook_endpoints.list", "starting_after", "next_cursor")


_ROUTES: list[tuple[Callable[[str, str], bool], Handler]] = [
    (lambda m, p: m == "POST" and p == "/v1/images", lambda r: _json(201, PENDING)),
    (lambda m, p: m == "POST" and p == "/v1/videos", lambda r: _json(201, PENDING_VIDEO)),
    (lambda m, p: p.startswith("/v1/images/"), _generation),
    (
        lambda m, p: p == "/v1/images",
        lambda r: _paged(r, "generations.list", "starting_after", "next_cursor"),
    ),
    (lambda m, p: p == "/v1/webhook_endpoints", _endpoints),
    (
        lambda m, p: p.endswith("/rotate_secret"),
        lambda r: _json(200, fixture("webhook_endpoint.rotated")),
    ),
    (lambda m, p: p == "/v1/usage", lambda r: _paged(r, "usage", "page_token", "next_page")),
    (
        lambda m, p: p == "/v1/usage/events",
        lambda r: _paged(r, "usage_events", "cursor", "next_cursor"),
    ),
    (lambda m, p: p.startswith("/v1/loras/"), lambda r: _json(200, fixture("lora"))),
    (lambda m, p: m == "POST" and p == "/v1/files", lambda r: _json(201, fixture("file"))),
    (
        lambda m, p: p.startswith("/v1/files/"),
        lambda r: _json(200, fixture("file.deleted" if r.method == "DELETE" else "file")),
    ),
]


def normal(request: httpx.Request) -> httpx.Response:
    """What a healthy API (and CDN) answers to every request the variants send."""
    if request.url.host != "api.test":
        return httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"})
    method, path = request.method, request.url.path
    static = _STATIC.get((method, path))
    if static is not None:
        return _json(200, fixture(static))
    for matches, answer in _ROUTES:
        if matches(method, path):
            return answer(request)
    return _json(404, fixture("error.resource_not_found"))


# ---- the method variants -----------------------------------------------------------------------


def _everything(request: httpx.Request) -> bool:
    return True


def _creates(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path in ("/v1/images", "/v1/videos")


def _polls(request: httpx.Request) -> bool:
    path = request.url.path
    return request.method == "GET" and path.startswith("/v1/images/") and path.count("/") == 3


def _page(param: str, second: bool) -> Callable[[httpx.Request], bool]:
    return lambda request: request.method == "GET" and (param in request.url.params) == second


def _output(request: httpx.Request) -> bool:
    return request.url.host != "api.test"


@dataclasses.dataclass(frozen=True)
class Variant:
    name: str
    run: Callable[[Any, Both, Path], Any]
    """Call the SDK (``client``, the runner, a scratch directory); the result, awaited."""
    hostile: Callable[[httpx.Request], bool] = _everything
    """Which requests get the shape's answer; `normal` answers the others."""
    keyed: bool = False
    """An idempotency key was sent (a billable create, an upload): every error carries it."""
    polls: bool = False
    """The create was answered before the hostile answer: errors also carry the generation."""
    parses: bool = True
    """The hostile answer is read as JSON (a download's output is stored as bytes instead)."""


def _collect(both: Both, pager: Any) -> list[Any]:
    return both.collect(pager)


FIVE = {"poll_interval": 1.0, "timeout": 5}
START = "2026-05-01T00:00:00Z"

VARIANTS = [
    Variant("images.retrieve", lambda c, b, d: b(c.images.retrieve(PENDING["id"]))),
    Variant("images.cancel", lambda c, b, d: b(c.images.cancel(PENDING["id"]))),
    Variant("images.estimate", lambda c, b, d: b(c.images.estimate(prompt="x"))),
    Variant("images.create", lambda c, b, d: b(c.images.create(prompt="x")), keyed=True),
    Variant("videos.create", lambda c, b, d: b(c.videos.create(prompt="x")), keyed=True),
    Variant(
        "with_raw_response.images.create",
        lambda c, b, d: b(c.with_raw_response.images.create(prompt="x")),
        keyed=True,
    ),
    Variant(
        "files.create",
        lambda c, b, d: b(c.files.create(file=("ref.png", PNG), purpose="reference")),
        keyed=True,
    ),
    Variant(
        "images.create_and_wait (its create)",
        lambda c, b, d: b(c.images.create_and_wait(prompt="x", **FIVE)),
        hostile=_creates,
        keyed=True,
    ),
    Variant(
        "images.create_and_wait (its polls)",
        lambda c, b, d: b(c.images.create_and_wait(prompt="x", **FIVE)),
        hostile=_polls,
        keyed=True,
        polls=True,
    ),
    Variant(
        "videos.create_and_wait (its polls)",
        lambda c, b, d: b(c.videos.create_and_wait(prompt="x", **FIVE)),
        hostile=_polls,
        keyed=True,
        polls=True,
    ),
    Variant("images.wait", lambda c, b, d: b(c.images.wait(PENDING["id"], **FIVE)), _polls),
    Variant(
        "images.list (first page)",
        lambda c, b, d: _collect(b, c.images.list(limit=1)),
        _page("starting_after", second=False),
    ),
    Variant(
        "images.list (second page)",
        lambda c, b, d: _collect(b, c.images.list(limit=1)),
        _page("starting_after", second=True),
    ),
    Variant(
        "webhook_endpoints.list (second page)",
        lambda c, b, d: _collect(b, c.webhook_endpoints.list(limit=1)),
        _page("starting_after", second=True),
    ),
    Variant(
        "usage.list (second page)",
        lambda c, b, d: _collect(b, c.usage.list(start_time=START)),
        _page("page_token", second=True),
    ),
    Variant(
        "usage.list_events (second page)",
        lambda c, b, d: _collect(b, c.usage.list_events(start_time=START)),
        _page("cursor", second=True),
    ),
    Variant("characters.list", lambda c, b, d: _collect(b, c.characters.list())),
    Variant("loras.list", lambda c, b, d: b(c.loras.list())),
    Variant("video_loras.list", lambda c, b, d: b(c.video_loras.list())),
    Variant("loras.retrieve", lambda c, b, d: b(c.loras.retrieve("lora_1"))),
    Variant("balance.retrieve", lambda c, b, d: b(c.balance.retrieve())),
    Variant("pricing.retrieve", lambda c, b, d: b(c.pricing.retrieve())),
    Variant("team.retrieve", lambda c, b, d: b(c.team.retrieve())),
    Variant("files.retrieve", lambda c, b, d: b(c.files.retrieve("file_1"))),
    Variant("files.delete", lambda c, b, d: b(c.files.delete("file_1"))),
    Variant(
        "webhook_endpoints.create",
        lambda c, b, d: b(c.webhook_endpoints.create(url="https://example.com/hook", events=["*"])),
    ),
    Variant(
        "webhook_endpoints.rotate_secret",
        lambda c, b, d: b(c.webhook_endpoints.rotate_secret("we_1")),
    ),
    Variant(
        "images.download (the output)",
        lambda c, b, d: b(c.images.download(SUCCEEDED["id"], d)),
        hostile=_output,
        parses=False,
    ),
    Variant(
        "images.download (the generation)",
        lambda c, b, d: b(c.images.download(SUCCEEDED["id"], d)),
        hostile=_polls,
    ),
]

# ---- the answer shapes ---------------------------------------------------------------------------

OK = "a model"
"""`Shape.expect` for answers the SDK must read (odd headers, harmless oddities)."""


@dataclasses.dataclass(frozen=True)
class Shape:
    name: str
    answer: Answer
    expect: type[BaseException] | tuple[type[BaseException], ...] | str | None = None
    """What a variant that parses the answer must end with: an error class, `OK`, or ``None``
    (a model or any `aurous.AurousError`)."""
    money: bool = False
    """Refused only once money fields are validated (negative or NaN credits)."""
    unless: tuple[str, ...] = ()
    """Variants ``expect`` does not apply to (a list whose later pages are answered well)."""


def _old(shape: Any) -> Shape:
    """A first-round shape (`test_bad_responses.SHAPES`): its answer ignores the request's route."""
    expect = aurous.APIResponseValidationError if shape.unreadable_2xx else None
    return Shape(shape.name, lambda request, normal, s=shape: s.answer(request), expect)


def _spoil(change: Callable[[Any], Any]) -> Answer:
    """The normal answer with its JSON body changed by ``change``."""

    def answer(request: httpx.Request, normal: Handler) -> httpx.Response:
        good = normal(request)
        try:
            value = json.loads(good.content)
        except ValueError:
            return good
        return body(good.status_code, json.dumps(change(value)).encode(), dict(good.headers))

    return answer


def _headers(**headers: str) -> Answer:
    """The normal answer with ``headers`` added (``X_RateLimit_Reset`` → ``X-RateLimit-Reset``)."""

    def answer(request: httpx.Request, normal: Handler) -> httpx.Response:
        good = normal(request)
        names = {k.replace("_", "-"): v for k, v in headers.items()}
        return httpx.Response(
            good.status_code, content=good.content, headers={**good.headers, **names}
        )

    return answer


def _fixed(status: int, content: bytes, headers: dict[str, str] | None = None) -> Answer:
    return lambda request, normal: body(status, content, {**JSON, **(headers or {})})


def _error(status: int, name: str, headers: dict[str, str] | None = None) -> Answer:
    return _fixed(status, json.dumps(fixture(name)).encode(), headers)


def _redirect(status: int, location: str) -> Answer:
    return lambda request, normal: httpx.Response(status, headers={"Location": location})


def _money(value: float) -> Callable[[Any], Any]:
    def change(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: value
                if k in ("amount", "credits", "available_credits", "estimated_cost")
                and isinstance(v, (int, float))
                else change(v)
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [change(item) for item in node]
        return node

    return change


def _breaks_after(chunk: bytes, error: type[Exception]) -> Answer:
    def answer(request: httpx.Request, normal: Handler) -> httpx.Response:
        def stream() -> Iterator[bytes]:
            yield chunk
            raise error("the connection broke mid-body")

        return httpx.Response(200, headers=JSON, stream=_Stream(stream))

    return answer


class _Stream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body produced by ``make()`` for either client."""

    def __init__(self, make: Callable[[], Iterator[bytes]]) -> None:
        self._make = make

    def __iter__(self) -> Iterator[bytes]:
        yield from self._make()

    async def __aiter__(self) -> Any:
        for chunk in self._make():
            yield chunk


def _unbounded(chunk: bytes, status: int = 200) -> Answer:
    """A body with no length that goes on (for 4 MiB: enough to pass ``max_response_size`` many
    times over, and a download, which is not limited, still ends)."""

    def answer(request: httpx.Request, normal: Handler) -> httpx.Response:
        def stream() -> Iterator[bytes]:
            for _ in range((4 << 20) // len(chunk)):
                yield chunk

        return httpx.Response(status, headers=JSON, stream=_Stream(stream))

    return answer


def _page_with(cursor: str, data: list[Any] | None = None) -> Answer:
    page = {"object": "list", "data": data or [], "has_more": True}
    page.update(next_cursor=cursor, next_page=cursor)
    return _fixed(200, json.dumps(page).encode())


def _fresh_cursors() -> Answer:
    """Empty pages that say ``has_more``, each with a cursor never seen before (the next number
    after the one asked with: no state shared between cases)."""

    def answer(request: httpx.Request, normal: Handler) -> httpx.Response:
        params = request.url.params
        asked = params.get("starting_after") or params.get("cursor") or params.get("page_token")
        n = int(asked[1:]) + 1 if asked and asked[1:].isdigit() else 1
        if n > 1000:
            return httpx.Response(500)  # an SDK that pages for ever is stopped here
        page = {"object": "list", "data": [], "has_more": True}
        page.update(next_cursor=f"c{n}", next_page=f"c{n}")
        return _json(200, page)

    return answer


def _duplicate_keys(request: httpx.Request, normal: Handler) -> httpx.Response:
    good = normal(request)
    content = good.content
    if content.startswith(b"{"):
        content = b'{"id": 1, "object": [], ' + content[1:]
    return body(good.status_code, content, JSON)


FIRST = ("images.list (first page)",)
LIMIT = 64 * 1024
"""The ``max_response_size`` of the matrix's clients: the huge shapes pass it many times."""
RVE = aurous.APIResponseValidationError
UNFOLLOWABLE = (aurous.APIStatusError, RVE)
"""A redirect nobody can follow: refused by the SDK (the 3xx, as `aurous.APIStatusError`) or,
when httpx cannot even parse the ``Location``, as an answer that cannot be used."""
GZIP_OF_GARBAGE = gzip.compress(b"<html>oops</html>")

SECOND_ROUND = [
    # Rate-limit figures pacing cannot plan with (were OverflowError from the pacer).
    Shape(
        "X-RateLimit-* inf",
        _headers(X_RateLimit_Limit="inf", X_RateLimit_Remaining="inf", X_RateLimit_Reset="inf"),
        OK,
    ),
    Shape(
        "X-RateLimit-Reset 1e999",
        _headers(X_RateLimit_Remaining="0", X_RateLimit_Reset="1e999"),
        OK,
    ),
    Shape(
        "X-RateLimit-* NaN and -inf",
        _headers(X_RateLimit_Remaining="nan", X_RateLimit_Reset="-inf"),
        OK,
    ),
    Shape(
        "RateLimit-* 10**400",
        _headers(RateLimit_Remaining="1" + "0" * 400, RateLimit_Reset="1" + "0" * 400),
        OK,
    ),
    Shape("429, Retry-After 1e999", _error(429, "error.rate_limited", {"Retry-After": "1e999"})),
    Shape(
        "429, reset 1e999",
        _error(
            429, "error.rate_limited", {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1e999"}
        ),
    ),
    Shape("429, Retry-After NaN", _error(429, "error.rate_limited", {"Retry-After": "NaN"})),
    Shape("429, Retry-After -1", _error(429, "error.rate_limited", {"Retry-After": "-1"})),
    Shape("429, Retry-After 0", _error(429, "error.rate_limited", {"Retry-After": "0"})),
    Shape(
        "429 concurrency, Retry-After inf",
        _error(429, "error.concurrency_limit_exceeded", {"Retry-After": "inf"}),
    ),
    Shape("503, Retry-After inf", _error(503, "error.internal_error", {"Retry-After": "inf"})),
    # Redirects nobody can follow (were httpx.InvalidURL).
    Shape("302 to javascript:", _redirect(302, "javascript:alert(1)"), UNFOLLOWABLE),
    Shape("302 to data:", _redirect(302, "data:text/plain,hello"), UNFOLLOWABLE),
    Shape("307 to mailto:", _redirect(307, "mailto:ops@example.com"), UNFOLLOWABLE),
    Shape("301 to a malformed URL", _redirect(301, "http://[::1"), UNFOLLOWABLE),
    Shape("308 to another origin", _redirect(308, "//evil.test/v1/images")),
    # Error statuses whose body cannot be decoded (were httpx.ResponseNotRead).
    Shape(
        "500, bad gzip",
        _fixed(500, b"\x1f\x8b not gzip", {"Content-Encoding": "gzip"}),
        aurous.ServerError,
    ),
    Shape(
        "404, bad gzip",
        _fixed(404, b"\x1f\x8b not gzip", {"Content-Encoding": "gzip"}),
        aurous.NotFoundError,
    ),
    Shape("429, bad gzip", _fixed(429, b"\x1f\x8b not gzip", {"Content-Encoding": "gzip"})),
    Shape(
        "400, gzip of HTML",
        _fixed(400, GZIP_OF_GARBAGE, {"Content-Encoding": "gzip"}),
        aurous.InvalidRequestError,
    ),
    Shape("200, brotli garbage", _fixed(200, b"\x00\x01garbage", {"Content-Encoding": "br"}), RVE),
    # Bodies past max_response_size.
    Shape("200, 1 MiB body", _fixed(200, b"[" + b" " * (1 << 20) + b"]"), RVE),
    Shape("200, a body without length, 4 MiB", _unbounded(b" " * 8192), RVE),
    Shape(
        "500, a body without length, 4 MiB", _unbounded(b"x" * 8192, status=500), aurous.ServerError
    ),
    # Cursors no client can follow (were ValueError / UnicodeEncodeError, or endless paging).
    Shape("a 10,000-character cursor", _page_with("x" * 10_000, [PENDING]), RVE),
    Shape("a cursor with a lone surrogate", _page_with("c\ud800", [PENDING]), RVE),
    Shape("empty pages with fresh cursors, for ever", _fresh_cursors(), RVE, unless=FIRST),
    Shape("the same cursor again and again", _page_with("same", [PENDING]), RVE, unless=FIRST),
    # Text that is not Unicode (a lone surrogate, escaped, is valid JSON).
    Shape(
        "a lone surrogate in the id",
        _spoil(lambda v: {**v, "id": "img_\ud800"} if isinstance(v, dict) else v),
    ),
    Shape("a lone surrogate in every string", _spoil(lambda v: _strings(v, "\udfff"))),
    Shape(
        "a lone surrogate as a key",
        _spoil(lambda v: {**v, "\ud800": 1} if isinstance(v, dict) else v),
    ),
    # Money no budget can add up (refused once money fields are validated).
    Shape("negative credits", _spoil(_money(-5.0)), money=True),
    Shape("NaN credits", _spoil(_money(float("nan"))), money=True),
    # Bodies that break off.
    Shape(
        "connection reset mid-body",
        _breaks_after(b'{"id": "img', httpx.ReadError),
        aurous.APIConnectionError,
    ),
    Shape(
        "read timeout mid-body",
        _breaks_after(b'{"id": "img', httpx.ReadTimeout),
        aurous.APITimeoutError,
    ),
    Shape(
        "remote protocol error mid-body",
        _breaks_after(b"{", httpx.RemoteProtocolError),
        aurous.APIConnectionError,
    ),
    # Content types and encodings.
    Shape(
        "XML",
        _fixed(200, b"<generation><id>1</id></generation>", {"Content-Type": "application/xml"}),
        RVE,
    ),
    Shape(
        "no Content-Type", lambda r, n: httpx.Response(n(r).status_code, content=n(r).content), OK
    ),
    Shape(
        "charset=bogus",
        lambda r, n: httpx.Response(
            n(r).status_code,
            content=n(r).content,
            headers={"Content-Type": "application/json; charset=bogus"},
        ),
        OK,
    ),
    Shape(
        "a UTF-8 byte-order mark",
        lambda r, n: body(n(r).status_code, b"\xef\xbb\xbf" + n(r).content, JSON),
    ),
    Shape(
        "a non-ASCII request id header",
        lambda r, n: httpx.Response(
            n(r).status_code,
            content=n(r).content,
            headers=[
                (b"Content-Type", b"application/json"),
                (b"Aurous-Request-Id", b"req_\xff\xfe"),
            ],
        ),
        OK,
    ),
    Shape("duplicate keys, the last one right", _duplicate_keys),
    # Envelopes and statuses out of the ordinary.
    Shape("a number at the top", _fixed(200, b"42"), RVE),
    Shape("data: null", _fixed(200, b'{"object": "list", "data": null, "has_more": false}'), RVE),
    Shape("error is a string, on a 200", _fixed(200, b'{"error": "boom"}'), RVE),
    Shape("error is a string, on a 500", _fixed(500, b'{"error": "boom"}'), aurous.ServerError),
    Shape(
        "401 HTML",
        _fixed(401, b"<html>login</html>", {"Content-Type": "text/html"}),
        aurous.AuthenticationError,
    ),
    Shape(
        "418 with an unknown error type",
        _fixed(418, b'{"error": {"type": "teapot", "code": 7}}'),
        aurous.APIStatusError,
    ),
    Shape("status 999", _fixed(999, b"{}"), aurous.APIStatusError),
]


def _strings(value: Any, suffix: str) -> Any:
    if isinstance(value, str):
        return value + suffix
    if isinstance(value, dict):
        return {k: _strings(v, suffix) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(v, suffix) for v in value]
    return value


SHAPES = [_old(shape) for shape in FIRST_ROUND] + SECOND_ROUND


def server(shape: Shape, variant: Variant) -> Handler:
    """The handler of one case: ``shape`` for the requests ``variant`` picks, else `normal`."""

    def handle(request: httpx.Request) -> httpx.Response:
        if variant.hostile(request):
            return shape.answer(request, normal)
        return normal(request)

    return handle


__all__ = ["API", "LIMIT", "OK", "SHAPES", "VARIANTS", "Shape", "Variant", "normal", "server"]
