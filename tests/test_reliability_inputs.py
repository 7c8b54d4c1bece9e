"""Bad input is a ValueError/TypeError naming the parameter, raised before anything is sent.

Reliability cases 8 and 9: values that json, httpx or the socket would choke on (NaN, sets, lone
surrogates, non-ASCII or NUL in headers, huge query strings, absurd timeouts, a placeholder API
key) are refused up front; bodies the API accepts (an empty list next to its alternative) are not.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import aurous

from .drills._support import API, KEY, Both, fixture

GEN = fixture("generation.pending.image")
ESTIMATE = fixture("estimate")
NAN = float("nan")
INF = float("inf")


@pytest.fixture(params=["sync", "async"])
def both(request: pytest.FixtureRequest) -> Iterator[Both]:
    runner = Both(request.param)
    yield runner
    runner.close()


class Recorder:
    """Answers every request with a pending generation and remembers what was sent."""

    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        if request.url.path.endswith("/estimate"):
            return httpx.Response(200, json=ESTIMATE)
        return httpx.Response(201, json=GEN)

    def body(self, index: int = -1) -> Any:
        return json.loads(self.sent[index].content)


Call = Callable[[Any], Any]

# (what, the call, the parameter the error must name)
BAD: list[tuple[str, Call, str]] = [
    (
        "nan guidance_scale",
        lambda c: c.images.create(prompt="x", guidance_scale=NAN),
        "guidance_scale",
    ),
    (
        "inf guidance_scale",
        lambda c: c.images.create(prompt="x", guidance_scale=INF),
        "guidance_scale",
    ),
    (
        "-inf cfg_rescale (estimate)",
        lambda c: c.images.estimate(prompt="x", cfg_rescale=-INF),
        "cfg_rescale",
    ),
    (
        "nan LoRA weight",
        lambda c: c.images.create(prompt="x", loras=[{"lora": "a", "weight": NAN}]),
        "weight",
    ),
    (
        "set of reference urls",
        lambda c: c.images.create(prompt="x", reference_image_urls={"https://a.test/b.png"}),
        "reference_image_urls",
    ),
    ("set of loras", lambda c: c.images.create(prompt="x", loras={"a"}), "loras"),
    ("lone surrogate in prompt", lambda c: c.images.create(prompt="a \ud800 b"), "prompt"),
    ("lone surrogate in video prompt", lambda c: c.videos.create(prompt="\udfff"), "prompt"),
    (
        "lone surrogate in negative_prompt (estimate)",
        lambda c: c.images.estimate(prompt="x", negative_prompt="\ud83d"),
        "negative_prompt",
    ),
    (
        "non-ASCII idempotency_key",
        lambda c: c.images.create(prompt="x", idempotency_key="clé-1"),
        "idempotency_key",
    ),
    (
        "NUL in idempotency_key",
        lambda c: c.images.create(prompt="x", idempotency_key="a\x00b"),
        "idempotency_key",
    ),
    (
        "line break in idempotency_key",
        lambda c: c.images.create(prompt="x", idempotency_key="a\r\nX-Evil: 1"),
        "idempotency_key",
    ),
    (
        "NUL in an extra header",
        lambda c: c.images.retrieve("img_1", extra_headers={"X-Trace": "a\x00"}),
        "extra_headers",
    ),
    (
        "non-ASCII extra header",
        lambda c: c.images.retrieve("img_1", extra_headers={"X-Trace": "é"}),
        "extra_headers",
    ),
    # h11 refuses these when it writes the request; that used to surface as a connection error,
    # retried for seconds before the caller heard of it.
    (
        "space in an extra header name",
        lambda c: c.images.retrieve("img_1", extra_headers={"X Trace": "1"}),
        "extra_headers",
    ),
    (
        "colon in an extra header name",
        lambda c: c.images.retrieve("img_1", extra_headers={"X:Trace": "1"}),
        "extra_headers",
    ),
    (
        "int as an extra header name",
        lambda c: c.images.retrieve("img_1", extra_headers={7: "1"}),
        "extra_headers",
    ),
    (
        "leading space in idempotency_key",
        lambda c: c.images.create(prompt="x", idempotency_key=" k-1"),
        "idempotency_key",
    ),
    (
        "trailing space in an extra header",
        lambda c: c.images.retrieve("img_1", extra_headers={"X-Trace": "a "}),
        "extra_headers",
    ),
    (
        "70,000-character extra_query",
        lambda c: c.images.retrieve("img_1", extra_query={"q": "a" * 70_000}),
        "extra_query",
    ),
    # Found by the fuzz drill: keys were not checked, only values.
    (
        "lone surrogate in an extra_query key",
        lambda c: c.images.retrieve("img_1", extra_query={"\ud800": "1"}),
        "extra_query",
    ),
    (
        "lone surrogate in an extra_body key",
        lambda c: c.images.create(prompt="x", extra_body={"a\udfff": 1}),
        "extra_body",
    ),
    (
        "tuple as an extra_body key",
        lambda c: c.images.create(prompt="x", extra_body={(1, 2): 1}),
        "extra_body",
    ),
    (
        "lone surrogate in a nested key",
        lambda c: c.images.create(prompt="x", extra_body={"a": {"\ud800": 1}}),
        "extra_body",
    ),
    (
        "nan in extra_body",
        lambda c: c.images.create(prompt="x", extra_body={"strength": NAN}),
        "extra_body",
    ),
    ("timeout=-1", lambda c: c.images.retrieve("img_1", timeout=-1), "timeout"),
    ("timeout=nan", lambda c: c.images.retrieve("img_1", timeout=NAN), "timeout"),
    ("timeout=inf", lambda c: c.images.retrieve("img_1", timeout=INF), "timeout"),
    ("timeout=0", lambda c: c.images.create(prompt="x", timeout=0), "timeout"),
    (
        "lone surrogate in a generation id",
        lambda c: c.images.retrieve("img_\ud800"),
        "generation_id",
    ),
]


@pytest.mark.parametrize(("what", "call", "param"), BAD, ids=[b[0] for b in BAD])
def test_bad_argument_is_refused_before_sending(
    both: Both, what: str, call: Call, param: str
) -> None:
    server = Recorder()
    client = both.hostile(server)
    with pytest.raises((ValueError, TypeError)) as caught:
        both(call(client))
    assert param in str(caught.value)
    assert server.sent == []


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"timeout": NAN}, "timeout"),
        ({"timeout": INF}, "timeout"),
        ({"timeout": -5}, "timeout"),
        ({"api_key": "al_live_…"}, "api_key"),
        ({"api_key": "al_live_abc\n"}, "api_key"),
        ({"default_headers": {"X-Team": "Zoë"}}, "default_headers"),
    ],
    ids=[
        "timeout=nan",
        "timeout=inf",
        "timeout=-5",
        "README placeholder key",
        "key with newline",
        "non-ASCII default header",
    ],
)
def test_bad_client_option_is_refused(both: Both, options: dict[str, Any], param: str) -> None:
    options = {"api_key": KEY, "base_url": API, **options}
    cls = aurous.AsyncClient if both.is_async else aurous.Client
    with pytest.raises((ValueError, TypeError)) as caught:
        cls(**options)
    assert param in str(caught.value)
    # The key itself is never echoed in the message.
    assert "al_live_abc" not in str(caught.value)


def test_bad_value_in_a_batch_request_is_that_items_error(both: Both) -> None:
    server = Recorder()
    client = both.hostile(server)
    requests: list[Any] = [
        {"prompt": "x", "guidance_scale": NAN},
        {"prompt": "x", "reference_image_urls": {"https://a.test/b.png"}},
        "a \ud800 b",
        {"prompt": "fine", "idempotency_key": "k\x00"},
    ]
    results = both(client.images.batch(requests, wait_timeout=None))
    assert len(results) == 4
    for result, param in zip(
        results,
        ["guidance_scale", "reference_image_urls", "prompt", "idempotency_key"],
        strict=True,
    ):
        assert isinstance(result.error, aurous.AurousError)
        assert param in str(result.error)
    assert server.sent == []


# ---- case 9: an empty array counts as absent --------------------------------------------------


@pytest.mark.parametrize(
    ("params", "sent"),
    [
        ({"lora_id": "lora_1", "loras": []}, {"lora_id": "lora_1"}),
        ({"character_id": "char_1", "reference_image_urls": []}, {"character_id": "char_1"}),
        ({"loras": [], "lora_id": None}, {}),
    ],
    ids=["lora_id with loras=[]", "character_id with reference_image_urls=[]", "loras=[] alone"],
)
def test_empty_list_next_to_its_alternative_is_sent(
    both: Both, params: dict[str, Any], sent: dict[str, Any]
) -> None:
    server = Recorder()
    client = both.hostile(server)
    both(client.images.create(prompt="x", **params))
    both(client.images.estimate(prompt="x", **params))
    for index in (0, 1):
        assert server.body(index) == {"prompt": "x", **sent}
