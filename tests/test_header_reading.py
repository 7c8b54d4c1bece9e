"""Pacing reads a response's rate-limit headers and ``Date`` in one pass; it must read exactly
what ``httpx.Headers.get`` would, whatever the case, order or repetition of the headers."""

from __future__ import annotations

import httpx
from hypothesis import given
from hypothesis import strategies as st

from aurous import RateLimit
from aurous._response import _NAMES, header_values

NAMES = [*_NAMES, "content-type", "aurous-request-id"]
spellings = st.sampled_from(NAMES).flatmap(
    lambda name: st.sampled_from([name, name.upper(), name.title()])
)
values = st.text(alphabet="0123456789 .,-eEinfa", max_size=12)


@given(st.lists(st.tuples(spellings, values), max_size=12))
def test_one_pass_reads_what_get_reads(items: list[tuple[str, str]]) -> None:
    headers = httpx.Headers(items)
    assert header_values(headers) == [headers.get(name) for name in _NAMES]
    assert header_values(dict(headers)) == [dict(headers).get(name) for name in _NAMES]


def test_repeats_are_joined_and_the_x_spelling_wins_unless_unreadable() -> None:
    headers = httpx.Headers(
        [
            ("X-RateLimit-Limit", "oops"),
            ("RateLimit-Limit", "60"),
            ("x-ratelimit-remaining", "5"),
            ("X-RATELIMIT-REMAINING", "6"),
            ("ratelimit-remaining", "7"),
            ("x-ratelimit-reset", " 12 "),
        ]
    )
    assert header_values(headers)[1] == "5, 6"
    # "5, 6" is no number: the other spelling is read, as with two ``get`` calls.
    assert RateLimit.from_headers(headers) == RateLimit(limit=60, remaining=7, reset=12)
