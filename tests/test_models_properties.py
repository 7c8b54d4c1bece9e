"""Property tests: models accept what newer servers may send and give it back unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from aurous.types import Generation, UnknownEvent, parse_callback_payload, parse_event

FIXTURES = Path(__file__).parent / "fixtures"
GENERATION_FIXTURES = {
    path.name: json.loads(path.read_text(encoding="utf-8"))
    for path in sorted(FIXTURES.glob("generation.*.json"))
}
KNOWN_EVENT_TYPES = {
    "image.completed",
    "image.failed",
    "image.cancelled",
    "video.completed",
    "video.failed",
    "video.cancelled",
    "usage.balance_low",
    "webhook.endpoint_disabled",
    "character.completed",
    "character.failed",
    "character.cancelled",
}
NON_TERMINAL = {"pending", "queued", "processing"}

# Text the API could send: any Unicode except lone surrogates, which JSON text cannot carry.
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


def _free_name(name: str) -> bool:
    # A new field can be read as an attribute unless it shadows something the class defines.
    return name not in Generation.model_fields and not hasattr(Generation, name)


field_names = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True).filter(_free_name)
unknown_fields = st.dictionaries(field_names, json_values, max_size=5)


@st.composite
def evolved_generations(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A generation fixture as a newer server might send it, and the unknown fields it gained."""
    name = draw(st.sampled_from(sorted(GENERATION_FIXTURES)))
    raw = json.loads(json.dumps(GENERATION_FIXTURES[name]))
    extras = draw(unknown_fields)
    raw.update(extras)
    if draw(st.booleans()):
        raw["status"] = draw(texts)
    if draw(st.booleans()):
        raw["media_type"] = draw(texts)
    if raw.get("media_type") != "video" and draw(st.booleans()):
        raw["size_preset"] = draw(texts)
    if draw(st.booleans()):
        raw["inference_type"] = draw(texts)
    if draw(st.booleans()):
        raw["cost"] = {**raw["cost"], **draw(unknown_fields)}
    return raw, extras


@settings(max_examples=200, deadline=None)
@given(evolved_generations())
def test_generation_keeps_unknown_fields_and_values(
    case: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    raw, extras = case
    g = Generation.model_validate(raw)

    for name, value in extras.items():
        assert getattr(g, name) == value
    assert g.model_extra == extras
    assert g.status == raw["status"]
    assert g.media_type == raw["media_type"]
    assert g.inference_type == raw["inference_type"]
    assert g.size_preset == raw.get("size_preset")
    assert g.is_terminal is (raw["status"] not in NON_TERMINAL)
    assert g.is_succeeded is (raw["status"] == "succeeded")
    assert g.kind == raw["media_type"]

    assert g.to_dict() == raw
    assert json.loads(g.to_json()) == raw
    # And again from its own output: parsing is stable.
    assert Generation.model_validate(g.to_dict()) == g


def _outside_known_families(event_type: str) -> bool:
    return not event_type.startswith(("image.", "video.", "character.")) and (
        event_type not in KNOWN_EVENT_TYPES
    )


unknown_event_types = texts.filter(_outside_known_families) | st.sampled_from(
    ["invoice.paid", "usage.quota_reset", "webhook.endpoint_enabled", "IMAGE.COMPLETED", ""]
)
# Data whose keys no documented resource uses, so that even a known family cannot claim it.
odd_data = st.dictionaries(st.from_regex(r"x_[a-z]{1,8}", fullmatch=True), json_values, max_size=4)


@settings(max_examples=150, deadline=None)
@given(
    event_type=unknown_event_types,
    data=odd_data,
    extras=st.dictionaries(st.from_regex(r"z_[a-z]{1,8}", fullmatch=True), json_values),
    synthetic=st.booleans(),
)
def test_unknown_event_types_give_unknown_event(
    event_type: str, data: dict[str, Any], extras: dict[str, Any], synthetic: bool
) -> None:
    envelope = {
        "id": "evt_01KS8974G8M4EQ4KARE1T6XPYQ",
        "object": "event",
        "type": event_type,
        "created_at": "2026-05-22T16:45:09Z",
        "api_version": "2026-05-15",
        "synthetic": synthetic,
        "data": data,
        **extras,
    }
    event = parse_event(envelope)
    assert type(event) is UnknownEvent
    assert event.type == event_type
    assert event.data == data
    assert event.synthetic is synthetic
    assert event.to_dict() == envelope

    callback = parse_callback_payload({"event": event_type, "data": data})
    assert type(callback) is UnknownEvent
    assert (callback.type, callback.data, callback.id) == (event_type, data, None)


new_family_types = st.builds(
    "".join,
    st.tuples(
        st.sampled_from(["image.", "video.", "character."]),
        st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
    ),
).filter(lambda event_type: event_type not in KNOWN_EVENT_TYPES)


@settings(max_examples=100, deadline=None)
@given(event_type=new_family_types, data=odd_data)
def test_new_types_in_known_families_never_raise(event_type: str, data: dict[str, Any]) -> None:
    event = parse_event({"type": event_type, "data": data})
    assert type(event) is UnknownEvent
    assert event.type == event_type
    assert event.data == data
