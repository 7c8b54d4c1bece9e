"""Answers the SDK must survive (issue 24, items 7, 8, 13, 14 and 19), each as a typed error
that keeps what recovers a create, or as a model.

- ``X-RateLimit-*: inf`` (or ``1e999`` on a 429's reset) on every method: a model (the pacer
  plans without the figure), and a refused create keeps its key (was ``OverflowError``);
- a redirect to ``javascript:``, ``data:`` or ``mailto:`` (was ``httpx.InvalidURL``); an error
  status whose gzip body is broken (was ``httpx.ResponseNotRead``); an output URL
  ``http://[::1`` (was ``ValueError`` in the download);
- a ``next_cursor`` of 10,000 characters or with a lone surrogate (was ``ValueError`` /
  ``UnicodeEncodeError``), and ``has_more`` with empty pages for ever (was endless): an
  ``APIResponseValidationError`` naming the list;
- a body past ``max_response_size``: ``APIResponseValidationError`` with the key;
- a malformed answer to ``webhook_endpoints.create``/``rotate_secret``: the error's excerpt,
  message and cause do not hold the signing secret; no error's request (or its cause's) holds
  the API key.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import aurous

from .drills._hostile import OK, SHAPES, VARIANTS, Shape, Variant, normal, server
from .drills._support import KEY, Both, body, fixture

PENDING = fixture("generation.pending.image")
JSON = {"Content-Type": "application/json"}


@pytest.fixture(params=["sync", "async"])
def both(request: pytest.FixtureRequest) -> Iterator[Both]:
    runner = Both(request.param)
    yield runner
    runner.close()


class _Instant:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.now += seconds


def _outcome(both: Both, shape: Shape, variant: Variant, scratch: Path, **options: Any) -> Any:
    client = both.hostile(server(shape, variant), **options)
    client._set_clock(_Instant())
    try:
        return variant.run(client, both, scratch)
    except Exception as error:
        return error


def _shape(name: str) -> Shape:
    (found,) = [shape for shape in SHAPES if shape.name == name]
    return found


# ---- item 7: rate-limit figures no pacer can plan with, on every method ------------------------

ODD_FIGURES = ["X-RateLimit-* inf", "X-RateLimit-Reset 1e999", "RateLimit-* 10**400"]


@pytest.mark.parametrize("figures", ODD_FIGURES)
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_absurd_rate_limit_figures_are_ignored_on_every_method(
    both: Both, figures: str, variant: Variant, tmp_path: Path
) -> None:
    shape = _shape(figures)
    assert shape.expect == OK
    outcome = _outcome(both, shape, variant, tmp_path)
    assert not isinstance(outcome, BaseException), repr(outcome)


@pytest.mark.parametrize("header", ["Retry-After", "X-RateLimit-Reset"])
def test_a_429_with_an_absurd_wait_keeps_the_creates_key(both: Both, header: str) -> None:
    answer = fixture("error.rate_limited")
    headers = {**JSON, header: "1e999", "X-RateLimit-Remaining": "0"}
    client = both.hostile(lambda r: body(429, json.dumps(answer).encode(), headers))
    with pytest.raises(aurous.RateLimitError) as caught:
        both(client.images.create(prompt="x", idempotency_key="k-429"))
    assert caught.value.idempotency_key == "k-429"
    # And the figures of the next call are not poisoned.
    again = both.hostile(normal)
    assert both(again.images.create(prompt="x")).id == PENDING["id"]


# ---- item 8: redirects, broken error bodies, output URLs, cursors -------------------------------


@pytest.mark.parametrize(
    "location",
    ["javascript:alert(1)", "data:text/plain,hi", "mailto:ops@example.com", "http://[::1"],
)
def test_a_redirect_nobody_can_follow_is_a_typed_error_with_the_key(
    both: Both, location: str
) -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(302, headers={"Location": location})

    client = both.hostile(answer, max_retries=3)
    with pytest.raises((aurous.APIStatusError, aurous.APIResponseValidationError)) as caught:
        both(client.images.create(prompt="x", idempotency_key="k-302"))
    assert caught.value.idempotency_key == "k-302"
    assert "redirect" in str(caught.value)
    assert len(sent) == 1  # not retried: the server would answer the same


@pytest.mark.parametrize("status", [400, 404, 429, 500, 503])
def test_an_error_status_with_a_broken_gzip_body_keeps_its_class(both: Both, status: int) -> None:
    headers = {**JSON, "Content-Encoding": "gzip"}
    client = both.hostile(lambda r: body(status, b"\x1f\x8b definitely not gzip", headers))
    with pytest.raises(aurous.APIStatusError) as caught:
        both(client.images.create(prompt="x", idempotency_key="k-gz"))
    assert caught.value.status_code == status
    assert caught.value.idempotency_key == "k-gz"
    assert "could not be decoded" in str(caught.value)


@pytest.mark.parametrize(
    "url", ["http://[::1", "javascript:alert(1)", "ftp://cdn.test/x.png", "data:image/png,x"]
)
def test_an_output_url_that_cannot_be_fetched_is_an_unusable_answer(
    both: Both, url: str, tmp_path: Path
) -> None:
    row = {**fixture("generation.succeeded.image"), "output_urls": [url]}
    client = both.hostile(lambda r: httpx.Response(200, json=row))
    with pytest.raises(aurous.AurousError) as caught:
        both(client.images.download(row["id"], tmp_path))
    assert isinstance(caught.value, (aurous.APIResponseValidationError, aurous.APIConnectionError))
    assert list(tmp_path.iterdir()) == []


def _two_pages(cursor: Any, data: list[Any] | None = None) -> Any:
    first = {"object": "list", "data": [PENDING] if data is None else data, "has_more": True}
    first["next_cursor"] = cursor
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if "starting_after" in request.url.params:
            return httpx.Response(200, json={"object": "list", "data": [], "has_more": False})
        return body(200, json.dumps(first).encode(), JSON)

    return answer, sent


@pytest.mark.parametrize(
    "cursor",
    ["x" * 10_000, "c\ud800", "\udfff" * 3],
    ids=["10,000 characters", "surrogate", "surrogates"],
)
def test_a_cursor_that_cannot_be_sent_back_is_an_unusable_answer(both: Both, cursor: str) -> None:
    answer, sent = _two_pages(cursor)
    client = both.hostile(answer)
    with pytest.raises(aurous.APIResponseValidationError, match=r"GET /v1/images .*cursor"):
        both.collect(client.images.list())
    assert len(sent) == 1  # the first page only


def test_a_long_but_sane_cursor_is_followed(both: Both) -> None:
    answer, sent = _two_pages("c" * 1000)
    assert len(both.collect(both.hostile(answer).images.list())) == 1
    assert len(sent) == 2


def test_empty_pages_that_say_has_more_for_ever_are_refused(both: Both) -> None:
    served = iter(range(10**6))

    def answer(request: httpx.Request) -> httpx.Response:
        n = next(served)
        if n > 50:
            return httpx.Response(500)  # the old SDK paged on for ever; stop it here
        page = {"object": "list", "data": [], "has_more": True, "next_cursor": f"fresh-{n}"}
        return httpx.Response(200, json=page)

    client = both.hostile(answer)
    with pytest.raises(aurous.APIResponseValidationError, match="empty pages"):
        both.collect(client.usage.list_events(start_time="2026-05-01T00:00:00Z"))
    assert next(served) == 4  # three empty pages may say has_more; the fourth is refused


def test_a_few_empty_pages_in_a_row_are_followed(both: Both) -> None:
    pages = iter(
        [{"data": [], "has_more": True, "next_cursor": f"c{n}"} for n in range(3)]
        + [{"data": [PENDING], "has_more": False, "next_cursor": None}]
    )
    client = both.hostile(lambda r: httpx.Response(200, json={"object": "list", **next(pages)}))
    assert len(both.collect(client.images.list())) == 1


# ---- item 14: max_response_size -----------------------------------------------------------------


@pytest.mark.parametrize("length", [True, False], ids=["Content-Length", "no length"])
def test_a_body_past_max_response_size_is_refused_with_the_key(both: Both, length: bool) -> None:
    huge = b"[" + b" " * 200_000 + b"]"
    headers = {**JSON, "Content-Length": str(len(huge))} if length else JSON
    client = both.hostile(lambda r: body(201, huge, headers), max_response_size=100_000)
    with pytest.raises(aurous.APIResponseValidationError, match="max_response_size") as caught:
        both(client.images.create(prompt="x", idempotency_key="k-big"))
    assert caught.value.idempotency_key == "k-big"
    assert "100,000" in str(caught.value)


def test_a_body_at_the_limit_is_read(both: Both) -> None:
    content = json.dumps(PENDING).encode()
    client = both.hostile(lambda r: httpx.Response(201, content=content, headers=JSON))
    sized = client.with_options(max_response_size=len(content))
    assert both(sized.images.create(prompt="x")).id == PENDING["id"]


def test_a_large_error_body_is_refused_with_its_status(both: Both) -> None:
    client = both.hostile(lambda r: body(503, b"x" * 300_000), max_response_size=100_000)
    with pytest.raises(aurous.ServerError, match="max_response_size") as caught:
        both(client.images.create(prompt="x", idempotency_key="k-503"))
    assert caught.value.idempotency_key == "k-503"


def test_downloads_are_not_limited(both: Both, tmp_path: Path) -> None:
    row = {**fixture("generation.succeeded.image"), "output_urls": ["https://cdn.test/a.png"]}
    image = b"\x89PNG\r\n\x1a\n" + b"\x00" * 300_000

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "cdn.test":
            return httpx.Response(200, content=image, headers={"Content-Type": "image/png"})
        return httpx.Response(200, json=row)

    client = both.hostile(answer, max_response_size=100_000)
    (path,) = both(client.images.download(row["id"], tmp_path))
    assert path.read_bytes() == image


# ---- item 19: secrets -------------------------------------------------------------------------

SECRET = fixture("webhook_endpoint.created")["secret"]
MALFORMED = [
    ("wrong type", lambda row: {**row, "is_active": "maybe"}),
    ("missing field", lambda row: {k: v for k, v in row.items() if k != "url"}),
    ("a list", lambda row: [row]),
    ("an error envelope", lambda row: {**row, "error": {"code": "oops"}}),
    # A validation error quotes (part of) its input: here, the secret.
    ("only the secret", lambda row: {"secret": row["secret"]}),
]


@pytest.mark.parametrize("method", ["create", "rotate_secret"])
@pytest.mark.parametrize("malformed", MALFORMED, ids=lambda m: m[0])
def test_a_malformed_secret_answer_never_carries_the_secret(
    both: Both, method: str, malformed: Any
) -> None:
    name = "webhook_endpoint.created" if method == "create" else "webhook_endpoint.rotated"
    row = fixture(name)
    assert row["secret"].startswith("whsec_")
    content = json.dumps(malformed[1](row)).encode()
    client = both.hostile(lambda r: body(200, content, JSON))
    endpoints = client.webhook_endpoints
    with pytest.raises(aurous.APIResponseValidationError) as caught:
        if method == "create":
            both(endpoints.create(url="https://example.com/hook", events=["*"]))
        else:
            both(endpoints.rotate_secret("we_1"))
    error = caught.value
    printed = "".join(traceback.format_exception(error))
    secret = row["secret"]
    pieces = [secret, secret[6:20], secret[-16:]]
    for text in (str(error), repr(error), error.body or "", printed):
        for piece in pieces:
            assert piece not in text
    for link in _chain(error):
        for piece in pieces:
            assert piece not in str(link)
    assert error.body is not None
    assert "whsec_[redacted]" in error.body


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [current.__cause__, current.__context__]


def _requests_reachable(error: BaseException) -> Iterator[httpx.Request]:
    """Every request an error reaches: its own, its response's, its chain's, and the ones held
    by the frames of its traceback."""
    for link in _chain(error):
        for holder in (link, getattr(link, "response", None)):
            try:
                request = getattr(holder, "request", None)
            except RuntimeError:
                request = None
            if isinstance(request, httpx.Request):
                yield request
        tb = link.__traceback__
        while tb is not None:
            for value in tb.tb_frame.f_locals.values():
                if isinstance(value, httpx.Request):
                    yield value
            tb = tb.tb_next


@pytest.mark.parametrize("shape", [s for s in SHAPES if s.expect != OK][::3], ids=lambda s: s.name)
def test_no_error_reaches_a_request_holding_the_api_key(
    both: Both, shape: Shape, tmp_path: Path
) -> None:
    variant = VARIANTS[3]  # images.create: the request carries the key and an idempotency key
    outcome = _outcome(both, shape, variant, tmp_path)
    if not isinstance(outcome, BaseException):
        return
    assert isinstance(outcome, aurous.AurousError), repr(outcome)
    for request in _requests_reachable(outcome):
        assert request.headers.get("x-api-key") in (None, "[redacted]"), shape.name
    assert KEY not in "".join(traceback.format_exception(outcome))
