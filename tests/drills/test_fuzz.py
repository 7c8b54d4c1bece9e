"""Drill: hypothesis throws open-ended arguments at the SDK and open-ended answers back at it.

Arguments: every parameter of ``images``/``videos`` ``create`` and ``estimate`` (and the per-call
options) with values of any type — NaN, huge integers, lone surrogates, control characters,
sets, nested containers, objects. The SDK either sends one well-formed request (strict JSON,
UTF-8, header values in printable ASCII) or raises ``ValueError``/``TypeError`` naming one of the
parameters it was given, having sent nothing. Nothing else.

Answers: arbitrary JSON (and near-valid generations with fields swapped for arbitrary values)
and arbitrary bytes as the body of a 2xx, with assorted content types and encodings, to
``retrieve``, ``create``, an auto-paging ``list`` and ``loras.list`` on both clients: the result
is a model or an `aurous.APIResponseValidationError` (carrying the key, for a create).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aurous

from ._support import API, KEY, Both, body, fixture
from .conftest import Figures

GEN = fixture("generation.pending.image")
ESTIMATE = fixture("estimate")
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# ---- values of any kind -------------------------------------------------------------------------

SURROGATES = st.sampled_from(["\ud800", "\udfff", "a\ud83d", "\udc00b"])
TEXT = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(codec="ascii"), max_size=30),
    SURROGATES,
    st.sampled_from(["", " ", "a\x00b", "line\r\nbreak", "é", "al_live_…", "x" * 5000]),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308]),
    TEXT,
    st.binary(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.frozensets(st.integers(), max_size=3),
        st.sets(st.text(max_size=3), max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers()), inner, max_size=3),
        st.builds(object),
    ),
    max_leaves=6,
)

IMAGE_PARAMS = [
    "prompt", "negative_prompt", "lora_id", "loras", "character_id", "reference_image_urls",
    "size", "width", "height", "steps", "guidance_scale", "cfg_rescale", "denoise_strength",
    "seed", "count", "enhance_prompt", "webhook_url",
]  # fmt: skip
VIDEO_PARAMS = [
    "video_lora_id", "prompt", "first_frame_url", "last_frame_url", "resolution", "ratio",
    "duration", "seed", "camera_fixed", "watermark", "enhance_prompt", "webhook_url",
]  # fmt: skip
OPTIONS = ["timeout", "max_retries", "extra_headers", "extra_query", "extra_body"]


_STR = {"prompt", "negative_prompt", "lora_id", "character_id", "webhook_url", "video_lora_id",
        "first_frame_url", "last_frame_url", "size", "resolution", "ratio", "idempotency_key"}  # fmt: skip
_INT = {"width", "height", "steps", "seed", "count", "duration", "max_retries"}
_FLOAT = {"guidance_scale", "cfg_rescale", "denoise_strength"}
_BOOL = {"enhance_prompt", "camera_fixed", "watermark"}
_CHOICES = {
    "size": ["2k_1_1", "4k_16_9", "2k_16_9"],
    "resolution": ["480p", "720p", "1080p"],
    "ratio": ["16:9", "9:16", "1:1"],
}


def _typed(name: str) -> st.SearchStrategy[Any]:
    """Values of the parameter's own type, edge cases included (NaN, 2**70, lone surrogates)."""
    if name in _CHOICES:
        return st.one_of(st.sampled_from(_CHOICES[name]), TEXT)
    if name in _STR:
        return TEXT
    if name in _INT:
        return st.one_of(st.integers(-10, 5000), st.integers(min_value=-(2**70), max_value=2**70))
    if name in _FLOAT:
        return st.one_of(st.floats(), st.integers(-5, 50))
    if name in _BOOL:
        return st.booleans()
    if name == "loras":
        lora = st.fixed_dictionaries({"lora": TEXT}, optional={"weight": st.floats()})
        return st.lists(lora, max_size=3)
    if name == "reference_image_urls":
        return st.lists(TEXT, max_size=3)
    if name in ("extra_headers", "extra_query", "extra_body"):
        return st.dictionaries(TEXT, st.one_of(TEXT, SCALARS), max_size=2)
    if name == "timeout":
        return st.one_of(st.none(), st.floats(), st.integers(-5, 100))
    return VALUES


def _plausible(name: str) -> st.SearchStrategy[Any]:
    """Mostly the parameter's own type (so the checks past the type check are reached), now and
    then anything at all."""
    return st.one_of(_typed(name), _typed(name), _typed(name), st.none(), VALUES)


def _arguments(names: list[str], extra: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    candidates = {name: _plausible(name) for name in [*names, *extra] if name != "prompt"}
    optional = st.fixed_dictionaries({}, optional=candidates)
    prompted = st.fixed_dictionaries({"prompt": _plausible("prompt")}, optional=candidates)
    return st.one_of(prompted, prompted, optional)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        answer = ESTIMATE if request.url.path.endswith("/estimate") else GEN
        return httpx.Response(201, json=answer)


def _strict_json(content: bytes) -> Any:
    def refuse(constant: str) -> Any:
        raise AssertionError(f"non-JSON constant {constant} sent")

    return json.loads(content.decode("utf-8"), parse_constant=refuse)


def _check_sent(request: httpx.Request) -> None:
    _strict_json(request.content)
    for name, value in request.headers.raw:
        assert value.isascii(), name
        assert b"\x00" not in value, name
        assert b"\n" not in value, name
    assert len(str(request.url)) < 10_000


def _fuzz_arguments(
    method: Callable[..., Any],
    server: Recorder,
    args: dict[str, Any],
    known: list[str],
    figures: Figures,
) -> None:
    before = len(server.sent)
    try:
        method(**args)
    except (ValueError, TypeError) as error:
        text = str(error)
        # The parameter at fault (one given, or a required one missing), by name.
        assert any(name in text for name in known), (  # noqa: PT017 - fuzzing: no raises()
            f"{type(error).__name__} names no parameter: {text!r} for {sorted(args)}"
        )
        assert len(server.sent) == before, "sent a request and raised"
        figures.add(refused=1)
    except aurous.AurousError as error:
        # Only a typed error from the (canned) answer is acceptable here, never from the input.
        raise AssertionError(f"{type(error).__name__}: {error}") from error
    else:
        assert len(server.sent) == before + 1
        _check_sent(server.sent[-1])
        figures.add(sent=1)


@pytest.fixture
def sync_client() -> Iterator[tuple[aurous.Client, Recorder]]:
    server = Recorder()
    http = httpx.Client(transport=httpx.MockTransport(server))
    client = aurous.Client(api_key=KEY, base_url=API, http_client=http, max_retries=0)
    yield client, server
    client.close()


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("images.create", IMAGE_PARAMS),
        ("images.estimate", IMAGE_PARAMS),
        ("videos.create", VIDEO_PARAMS),
        ("videos.estimate", VIDEO_PARAMS),
    ],
)
def test_arguments(
    sync_client: tuple[aurous.Client, Recorder], method: str, params: list[str], figures: Figures
) -> None:
    client, server = sync_client
    namespace, name = method.split(".")
    bound = getattr(getattr(client, namespace), name)
    extra = [*OPTIONS, "idempotency_key"] if name == "create" else OPTIONS

    @FUZZ
    @given(args=_arguments(params, extra))
    def run(args: dict[str, Any]) -> None:
        figures.add(examples=1)
        _fuzz_arguments(bound, server, args, [*params, *extra], figures)

    run()


# ---- answers of any kind ------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
NEAR_GENERATION = st.one_of(
    # One to four known fields swapped for anything.
    st.dictionaries(st.sampled_from(sorted(GEN)), JSON_VALUES, min_size=1, max_size=4),
    # Fields a newer server might add (kept, never refused).
    st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: k not in GEN), JSON_VALUES, max_size=3
    ),
).map(lambda changes: {**GEN, **changes})
NEAR_PAGE = st.builds(
    lambda data, more, cursor: {
        "object": "list",
        "data": data,
        "has_more": more,
        "next_cursor": cursor,
    },
    st.lists(st.one_of(NEAR_GENERATION, JSON_VALUES), max_size=2),
    st.one_of(st.booleans(), JSON_VALUES),
    st.one_of(st.none(), st.text(max_size=5), JSON_VALUES),
)
BODIES = st.one_of(
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    NEAR_GENERATION.map(lambda v: json.dumps(v).encode()),
    NEAR_PAGE.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    st.sampled_from([b"", b"NaN", b'{"id": NaN}', b"\xef\xbb\xbf{}", b"[" * 5000, b"\x1f\x8b\x08"]),
)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.sampled_from(
            ["application/json", "text/html", "", "application/json; charset=latin-1"]
        ),
        "Content-Encoding": st.sampled_from(["gzip", "deflate", "br", "identity", "x-unknown"]),
    },
)
STATUSES = st.sampled_from([200, 201, 202, 203, 204, 206, 299])

CALLS: dict[str, Callable[[Any], Any]] = {
    "retrieve": lambda c: c.images.retrieve(GEN["id"]),
    "create": lambda c: c.images.create(prompt="x", idempotency_key="k-fuzz"),
    "list": lambda c: c.images.list(limit=2),
    "loras.list": lambda c: c.loras.list(),
}


@pytest.mark.parametrize("call", list(CALLS))
def test_answers(both: Both, call: str, figures: Figures) -> None:
    @settings(FUZZ, max_examples=100)
    @given(status=STATUSES, content=BODIES, headers=HEADERS)
    def run(status: int, content: bytes, headers: dict[str, str]) -> None:
        sent: list[httpx.Request] = []

        def answer(request: httpx.Request) -> httpx.Response:
            sent.append(request)
            assert len(sent) <= 50, "still paging after 50 pages"
            return body(status, content, headers)

        client = both.hostile(answer)
        figures.add(examples=1)
        try:
            result = CALLS[call](client)
            result = both.collect(result) if call == "list" else both(result)
        except aurous.APIResponseValidationError as error:
            if call == "create":
                assert error.idempotency_key == "k-fuzz"  # noqa: PT017
            figures.add(refused=1)
        else:
            assert result is not None or call == "loras.list"
            figures.add(read=1)
        finally:
            both.clients.remove(client)
            both(client.close())

    run()
