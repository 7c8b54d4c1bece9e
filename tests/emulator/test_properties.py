"""Property tests: bucket arithmetic and canonical JSON."""

from __future__ import annotations

import json
import math
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from aurous.emulator._http import canonical_json
from aurous.emulator._ratelimit import TokenBucket


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.integers(1, 50),
    per_minute=st.integers(1, 600),
    gaps=st.lists(st.floats(0, 5, allow_nan=False), min_size=1, max_size=80),
)
def test_bucket_never_allows_more_than_burst_plus_refill(
    capacity: int, per_minute: int, gaps: list[float]
) -> None:
    now = 1_000_000.0
    bucket = TokenBucket(capacity, per_minute, now)
    allowed = 0
    for gap in gaps:
        now += gap
        decision = bucket.take(now)
        allowed += decision.allowed
        assert 0 <= decision.remaining <= capacity
        assert decision.limit == capacity
        assert decision.reset >= math.floor(now)
        if not decision.allowed:
            assert decision.retry_after >= 1
    elapsed = now - 1_000_000.0
    assert allowed <= capacity + per_minute / 60 * elapsed + 1e-6


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(
    value=st.dictionaries(st.text(max_size=4), json_values, max_size=6), seed=st.integers(0, 1000)
)
def test_canonical_json_ignores_key_order_only(value: dict[str, Any], seed: int) -> None:
    items = list(value.items())
    random.Random(seed).shuffle(items)
    shuffled = json.loads(json.dumps(dict(items)))
    assert canonical_json(shuffled) == canonical_json(value)
    if value:
        changed = {**value, "\x00extra": 1}
        assert canonical_json(changed) != canonical_json(value)
