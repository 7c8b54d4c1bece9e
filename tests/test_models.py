"""The typed resource models (aurous.types) against the contract's fixtures and rules."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pydantic
import pytest

import aurous.types as types
from aurous._models import AurousModel
from aurous.types import (
    Balance,
    BalanceLowEvent,
    Character,
    CharacterAttributes,
    CharacterDeleted,
    CharacterEvent,
    CharacterUpload,
    Cost,
    EndpointDisabledEvent,
    Estimate,
    Event,
    File,
    FileDeleted,
    Generation,
    GenerationEvent,
    Lora,
    LoraRef,
    Pricing,
    Team,
    UnknownEvent,
    UploadClassification,
    UsageBucket,
    UsageEvent,
    VideoLora,
    WebhookEndpoint,
    WebhookEndpointDeleted,
    WebhookTestFire,
    parse_callback_payload,
    parse_event,
)

FIXTURES = Path(__file__).parent / "fixtures"

# Fixture file -> the model of the object it holds.
OBJECT_FIXTURES: dict[str, type[AurousModel]] = {
    "generation.cancelled.image.json": Generation,
    "generation.failed.image.json": Generation,
    "generation.pending.image.json": Generation,
    "generation.pending.video.json": Generation,
    "generation.processing.video.json": Generation,
    "generation.succeeded.image.batch.json": Generation,
    "generation.succeeded.image.character.json": Generation,
    "generation.succeeded.image.json": Generation,
    "generation.succeeded.image.multi_lora.json": Generation,
    "generation.succeeded.video.json": Generation,
    "estimate.json": Estimate,
    "estimate.video.json": Estimate,
    "balance.json": Balance,
    "balance.exempt.json": Balance,
    "pricing.json": Pricing,
    "team.json": Team,
    "lora.json": Lora,
    "video_lora.json": VideoLora,
    "file.json": File,
    "file.deleted.json": FileDeleted,
    "webhook_endpoint.created.json": WebhookEndpoint,
    "webhook_endpoint.json": WebhookEndpoint,
    "webhook_endpoint.rotated.json": WebhookEndpoint,
    "webhook_endpoint.deleted.json": WebhookEndpointDeleted,
    "webhook_test_fire.json": WebhookTestFire,
    "character.json": Character,
    "character.synthesizing.json": Character,
    "character.ready.synthesized.json": Character,
    "character.deleted.json": CharacterDeleted,
    "character_upload.json": CharacterUpload,
    "character_upload_classification.json": UploadClassification,
}

# Fixture file -> the model of its items (list envelopes and bare arrays).
LIST_FIXTURES: dict[str, type[AurousModel]] = {
    "generations.list.json": Generation,
    "characters.list.json": Character,
    "webhook_endpoints.list.json": WebhookEndpoint,
    "usage.json": UsageBucket,
    "usage_events.json": UsageEvent,
    "loras.json": Lora,
    "video_loras.json": VideoLora,
}

# Fixture file -> (event class, class of its data).
EVENT_FIXTURES: dict[str, tuple[type[Any], type[AurousModel]]] = {
    "event.image.completed.json": (GenerationEvent, Generation),
    "event.image.completed.synthetic.json": (GenerationEvent, Generation),
    "event.image.failed.json": (GenerationEvent, Generation),
    "event.image.cancelled.json": (GenerationEvent, Generation),
    "event.video.completed.json": (GenerationEvent, Generation),
    "event.character.completed.json": (CharacterEvent, Character),
    "event.usage.balance_low.json": (BalanceLowEvent, Balance),
    "event.webhook.endpoint_disabled.json": (EndpointDisabledEvent, WebhookEndpoint),
}

CALLBACK_FIXTURES = ["webhook_url.image.completed.json", "webhook_url.video.failed.json"]

GENERATION_FIXTURES = [name for name, model in OBJECT_FIXTURES.items() if model is Generation]


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def wire(obj: Any) -> str:
    """``obj`` as the API writes it: compact JSON, UTF-8 characters unescaped."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def list_items(name: str) -> list[dict[str, Any]]:
    raw = load(name)
    items = raw if isinstance(raw, list) else raw["data"]
    assert items, f"{name} has no items"
    return items


def generation(name: str = "generation.succeeded.image.json", **changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = load(name)
    raw.update(changes)
    return raw


# --- every fixture is covered ---------------------------------------------------------------


def test_every_resource_fixture_is_mapped_to_a_model() -> None:
    excluded_prefixes = ("error.", "request.", "webhook_signature.")
    on_disk = {p.name for p in FIXTURES.glob("*.json") if not p.name.startswith(excluded_prefixes)}
    mapped = set(OBJECT_FIXTURES) | set(LIST_FIXTURES) | set(EVENT_FIXTURES)
    mapped |= set(CALLBACK_FIXTURES)
    assert on_disk == mapped


# --- parsing and round trips ----------------------------------------------------------------


@pytest.mark.parametrize(("name", "model"), sorted(OBJECT_FIXTURES.items()))
def test_object_fixture_parses_and_round_trips(name: str, model: type[AurousModel]) -> None:
    raw = load(name)
    obj = model.model_validate(raw)
    assert type(obj) is model
    assert obj.model_extra == {}, "every documented field should be declared on the model"
    assert obj.to_dict() == raw
    # Key order, whole numbers written without ".0" and timestamps with "Z": as on the wire.
    assert obj.to_json() == wire(raw)


@pytest.mark.parametrize(("name", "model"), sorted(LIST_FIXTURES.items()))
def test_list_fixture_items_parse_and_round_trip(name: str, model: type[AurousModel]) -> None:
    for item in list_items(name):
        obj = model.model_validate(item)
        assert obj.model_extra == {}
        assert obj.to_dict() == item
        assert obj.to_json() == wire(item)


def test_every_declared_field_has_a_docstring_in_the_source() -> None:
    import ast
    import inspect

    for name in types.__all__:
        model = getattr(types, name)
        if not (isinstance(model, type) and issubclass(model, AurousModel)):
            continue
        tree = ast.parse(inspect.getsource(model))
        body = tree.body[0]
        assert isinstance(body, ast.ClassDef)
        assert ast.get_docstring(body), f"{name} has no docstring"
        documented: set[str] = set()
        for node, following in zip(body.body, [*body.body[1:], None], strict=True):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                documented.add(node.target.id)
        own_fields = set(inspect.get_annotations(model))
        assert own_fields <= documented, f"{name}: no docstring for {own_fields - documented}"


def test_parsed_values_are_typed() -> None:
    g = Generation.model_validate(load("generation.succeeded.image.json"))
    assert g.created_at == datetime(2026, 5, 20, 10, 0, 0, tzinfo=timezone.utc)
    assert g.completed_at is not None
    assert g.completed_at.utcoffset() == timedelta(0)
    assert isinstance(g.cost, Cost)
    assert isinstance(g.cost.amount, float)
    assert g.cost.amount == 2.0
    assert g.cost.breakdown == {"base": 1.0, "enhance": 1.0}
    assert all(isinstance(v, float) for v in g.cost.breakdown.values())
    assert g.loras == [
        LoraRef(id="lora_01KJKB3Q000MP4314Q6EWM27HK", name="Golden Hour Photography")
    ]
    assert g.seed == 819572108
    assert g.output_video_url is None

    v = Generation.model_validate(load("generation.succeeded.video.json"))
    assert (v.video_duration, v.video_resolution, v.video_ratio) == (5, "720p", "16:9")
    assert v.video_camera_fixed is False
    # A video row has no image keys at all: they read as None, and stay absent on the way out.
    assert v.output_urls is None
    assert v.width is None
    assert "width" not in v.to_dict()

    balance = Balance.model_validate(load("balance.json"))
    assert balance.available_credits == pytest.approx(1019.49)
    pricing = Pricing.model_validate(load("pricing.json"))
    assert pricing.video.resolution_factor["1080p"] == 2.5
    assert pricing.image.enhance_prompt_multiplier == 2.0
    character = Character.model_validate(load("character.json"))
    assert character.attributes.age == 28
    assert character.refs[0].pose == "front"
    assert character.is_ready
    upload = CharacterUpload.model_validate(load("character_upload.json"))
    assert upload.upload_headers == {"Content-Type": "image/jpeg"}
    assert upload.expires_at.tzinfo is not None
    bucket = UsageBucket.model_validate(list_items("usage.json")[0])
    assert bucket.groups[1].key == {"type": "t2v"}
    assert bucket.groups[1].metrics.credits_used == 3.75
    endpoint = WebhookEndpoint.model_validate(load("webhook_endpoint.created.json"))
    assert endpoint.secret is not None
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.last_success_at is None


def test_absent_and_null_optional_fields_read_the_same() -> None:
    with_nulls = generation(
        "generation.pending.image.json",
        output_video_url=None,
        video_duration=None,
        video_resolution=None,
        video_ratio=None,
        video_camera_fixed=None,
    )
    a = Generation.model_validate(with_nulls)
    b = Generation.model_validate(load("generation.pending.image.json"))
    for name in ("output_video_url", "video_duration", "video_resolution", "video_camera_fixed"):
        assert getattr(a, name) is None
        assert getattr(b, name) is None
    # The row is still echoed exactly: present-as-null stays null, absent stays absent.
    assert a.to_dict() == with_nulls
    assert "video_ratio" not in b.to_dict()

    raw = load("generation.pending.image.json")
    for name in ("media_type", "cost", "loras", "completed_at", "prompt", "negative_prompt"):
        del raw[name]
    sparse = Generation.model_validate(raw)
    assert (sparse.media_type, sparse.cost, sparse.loras, sparse.completed_at) == (None,) * 4

    lora = Lora.model_validate({k: v for k, v in load("lora.json").items() if k != "slug"})
    assert lora.slug is None
    team = Team.model_validate({k: v for k, v in load("team.json").items() if k != "billing_email"})
    assert team.billing_email is None


def test_a_missing_required_field_is_a_validation_error() -> None:
    raw = load("generation.succeeded.image.json")
    del raw["status"]
    with pytest.raises(pydantic.ValidationError, match="status"):
        Generation.model_validate(raw)


def test_estimate_cost_without_currency_is_accepted() -> None:
    raw = {
        "object": "estimate",
        "estimated_cost": {"amount": 2, "breakdown": {"base": 2}},
        "currency": "credit",
    }
    estimate = Estimate.model_validate(raw)
    assert estimate.estimated_cost.currency is None
    assert estimate.to_dict() == raw


# --- forward compatibility ------------------------------------------------------------------


def test_unknown_fields_are_kept_at_every_level() -> None:
    raw = generation(new_top="x")
    raw["cost"] = {**raw["cost"], "tax": {"vat": 0.2}}
    raw["loras"] = [{**raw["loras"][0], "weight": 0.8}]
    g = Generation.model_validate(raw)
    assert g.new_top == "x"  # type: ignore[attr-defined]
    assert g.cost is not None
    assert g.cost.model_extra == {"tax": {"vat": 0.2}}
    assert g.loras is not None
    assert g.loras[0].model_extra == {"weight": 0.8}
    assert g.to_dict() == raw


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "archived"),
        ("media_type", "audio"),
        ("inference_type", "i2i"),
        ("size_preset", "hd_square"),
        ("size_preset", "8k_1_1"),
    ],
)
def test_unknown_open_enum_values_are_kept(field: str, value: str) -> None:
    raw = generation(**{field: value})
    g = Generation.model_validate(raw)
    assert getattr(g, field) == value
    assert g.to_dict() == raw


def test_unknown_values_in_other_open_enums_are_kept() -> None:
    balance = Balance.model_validate({**load("balance.json"), "billing_mode": "prepaid"})
    assert balance.billing_mode == "prepaid"
    character = Character.model_validate({**load("character.json"), "status": "archived"})
    assert character.status == "archived"
    assert not character.is_ready
    usage_event = UsageEvent.model_validate(
        {**list_items("usage_events.json")[0], "type": "chat", "status": "throttled"}
    )
    assert (usage_event.type, usage_event.status) == ("chat", "throttled")
    endpoint = WebhookEndpoint.model_validate(
        {**load("webhook_endpoint.json"), "events": ["image.completed", "image.edited"]}
    )
    assert endpoint.events == ["image.completed", "image.edited"]


def test_character_with_no_attributes() -> None:
    raw = {**load("character.synthesizing.json"), "attributes": {}, "refs": []}
    character = Character.model_validate(raw)
    assert character.attributes == CharacterAttributes()
    assert character.attributes.gender is None
    assert character.to_dict() == raw


# --- timestamps and numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "written"),
    [
        (
            "2026-05-20T10:00:14Z",
            datetime(2026, 5, 20, 10, 0, 14, tzinfo=timezone.utc),
            "2026-05-20T10:00:14Z",
        ),
        (
            "2026-05-20T00:00:00.000Z",
            datetime(2026, 5, 20, tzinfo=timezone.utc),
            "2026-05-20T00:00:00Z",
        ),
        (
            "2026-05-20T00:00:00.250Z",
            datetime(2026, 5, 20, 0, 0, 0, 250000, tzinfo=timezone.utc),
            "2026-05-20T00:00:00.250Z",
        ),
        (
            "2026-05-20T00:00:00.123456Z",
            datetime(2026, 5, 20, 0, 0, 0, 123456, tzinfo=timezone.utc),
            "2026-05-20T00:00:00.123456Z",
        ),
        (
            "2026-05-20T12:00:00+02:00",
            datetime(2026, 5, 20, 10, 0, 0, tzinfo=timezone.utc),
            "2026-05-20T12:00:00+02:00",
        ),
        (
            "2026-05-20T10:00:00+00:00",
            datetime(2026, 5, 20, 10, 0, 0, tzinfo=timezone.utc),
            "2026-05-20T10:00:00Z",
        ),
        # No offset at all: the API only speaks UTC, so it is read as UTC.
        (
            "2026-05-20T10:00:00",
            datetime(2026, 5, 20, 10, 0, 0, tzinfo=timezone.utc),
            "2026-05-20T10:00:00Z",
        ),
    ],
)
def test_timestamps_are_aware_and_written_in_rfc3339(
    text: str, expected: datetime, written: str
) -> None:
    g = Generation.model_validate(generation(created_at=text))
    assert g.created_at.tzinfo is not None
    assert g.created_at == expected
    assert g.to_dict()["created_at"] == written
    assert isinstance(g.model_dump()["created_at"], datetime)


def test_whole_and_fractional_numbers_are_written_as_the_api_writes_them() -> None:
    raw = {"amount": 3, "currency": "credit", "breakdown": {"base": 2.5, "enhance": 0.5}}
    cost = Cost.model_validate(raw)
    assert cost.amount == 3.0
    assert isinstance(cost.amount, float)
    assert (
        cost.to_json() == '{"amount":3,"currency":"credit","breakdown":{"base":2.5,"enhance":0.5}}'
    )
    assert Cost(amount=1e20, breakdown={}).to_dict()["amount"] == 1e20


# --- Generation helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "terminal", "succeeded"),
    [
        ("pending", False, False),
        ("queued", False, False),
        ("processing", False, False),
        ("succeeded", True, True),
        ("failed", True, False),
        ("cancelled", True, False),
        ("expired", True, False),
        ("moderation_rejected", True, False),
        ("some_future_status", True, False),
    ],
)
def test_status_helpers(status: str, terminal: bool, succeeded: bool) -> None:
    g = Generation.model_validate(generation(status=status))
    assert g.is_terminal is terminal
    assert g.is_succeeded is succeeded
    assert g.is_failed is (terminal and not succeeded)


@pytest.mark.parametrize(
    ("gid", "media_type", "kind"),
    [
        ("img_01KS2D7VBRX1NC1J4R82RJEXE5", "image", "image"),
        ("vid_01KS2FH384HD535F6G5AQW417P", "video", "video"),
        ("img_01KS2D7VBRX1NC1J4R82RJEXE5", None, "image"),
        ("vid_01KS2FH384HD535F6G5AQW417P", None, "video"),
        ("gen_01KS2D7VBRX1NC1J4R82RJEXE5", None, None),
        ("img_01KS2D7VBRX1NC1J4R82RJEXE5", "audio", "audio"),
    ],
)
def test_kind_uses_media_type_then_the_id_prefix(
    gid: str, media_type: str | None, kind: str | None
) -> None:
    assert Generation.model_validate(generation(id=gid, media_type=media_type)).kind == kind
    raw = generation(id=gid)
    del raw["media_type"]
    if media_type is None:
        assert Generation.model_validate(raw).kind == kind


def test_outputs() -> None:
    batch = Generation.model_validate(load("generation.succeeded.image.batch.json"))
    assert batch.outputs == load("generation.succeeded.image.batch.json")["output_urls"]
    assert len(batch.outputs) == 2
    video = Generation.model_validate(load("generation.succeeded.video.json"))
    assert video.outputs == [load("generation.succeeded.video.json")["output_video_url"]]
    for name in (
        "generation.pending.image.json",
        "generation.pending.video.json",
        "generation.failed.image.json",
        "generation.cancelled.image.json",
    ):
        assert Generation.model_validate(load(name)).outputs == []
    # ``outputs`` is a fresh list: changing it leaves the model alone.
    batch.outputs.append("x")
    assert len(batch.outputs) == 2


# --- events ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "classes"), sorted(EVENT_FIXTURES.items()))
def test_event_fixture_parses_to_its_class(
    name: str, classes: tuple[type[Any], type[AurousModel]]
) -> None:
    event_class, data_class = classes
    raw = load(name)
    event = parse_event(raw)
    assert type(event) is event_class
    assert type(event.data) is data_class
    assert event.type == raw["type"]
    assert event.id == raw["id"]
    assert event.object == "event"
    assert event.api_version == "2026-05-15"
    assert event.created_at == datetime.fromisoformat(raw["created_at"].replace("Z", "+00:00"))
    assert event.synthetic is raw["synthetic"]
    assert event.to_dict() == raw
    assert event.to_json() == wire(raw)
    # Both shapes are accepted by parse_callback_payload; the envelope passes through as is.
    assert parse_callback_payload(raw) == event


def test_synthetic_event() -> None:
    event = parse_event(load("event.image.completed.synthetic.json"))
    assert event.synthetic is True
    assert isinstance(event, GenerationEvent)
    assert event.data.is_succeeded


def test_typed_data_is_usable() -> None:
    event = parse_event(load("event.image.completed.json"))
    assert isinstance(event, GenerationEvent)
    assert event.data.outputs == load("event.image.completed.json")["data"]["output_urls"]
    balance_event = parse_event(load("event.usage.balance_low.json"))
    assert isinstance(balance_event, BalanceLowEvent)
    assert balance_event.data.credits == 9.5
    disabled = parse_event(load("event.webhook.endpoint_disabled.json"))
    assert isinstance(disabled, EndpointDisabledEvent)
    assert disabled.data.is_active is False
    assert disabled.data.secret is None


def test_unknown_event_type_gives_unknown_event_with_plain_data() -> None:
    raw = {
        "id": "evt_1",
        "object": "event",
        "type": "invoice.paid",
        "created_at": "2026-05-22T16:45:09Z",
        "api_version": "2026-05-15",
        "synthetic": False,
        "data": {"amount": 12, "nested": {"a": [1, 2]}},
    }
    event = parse_event(raw)
    assert type(event) is UnknownEvent
    assert event.type == "invoice.paid"
    assert event.data == {"amount": 12, "nested": {"a": [1, 2]}}
    assert event.to_dict() == raw


def test_unknown_event_with_only_a_type() -> None:
    event = parse_event({"type": "something.new"})
    assert type(event) is UnknownEvent
    assert (event.id, event.created_at, event.api_version, event.data) == (None, None, None, {})
    assert event.synthetic is False
    assert event.object == "event"


def test_new_type_in_a_known_family_is_typed_when_its_data_fits() -> None:
    raw = {**load("event.image.completed.json"), "type": "image.upscaled"}
    event = parse_event(raw)
    assert type(event) is GenerationEvent
    assert event.type == "image.upscaled"
    odd = {**raw, "type": "character.merged", "data": {"left": "char_1", "right": "char_2"}}
    fallback = parse_event(odd)
    assert type(fallback) is UnknownEvent
    assert fallback.data == {"left": "char_1", "right": "char_2"}


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "image.completed", "data": {}},
        {"type": "image.completed"},
        {"type": "usage.balance_low", "data": {"credits": "lots"}},
        {"type": "webhook.endpoint_disabled", "data": []},
        {"type": "character.failed", "data": {"id": "char_1"}},
        {"data": {}},
        {"type": 5, "data": {}},
        {"type": "invoice.paid", "created_at": "not a time"},
    ],
)
def test_structurally_broken_events_raise_validation_error(payload: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        parse_event(payload)


def test_a_payload_that_is_not_an_object_is_a_validation_error() -> None:
    with pytest.raises(pydantic.ValidationError):
        parse_event([1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize("name", CALLBACK_FIXTURES)
def test_callback_payload_is_normalised(name: str) -> None:
    raw = load(name)
    event = parse_callback_payload(raw)
    assert isinstance(event, GenerationEvent)
    assert event.type == raw["event"]
    assert (event.id, event.created_at, event.api_version) == (None, None, None)
    assert event.synthetic is False
    assert event.data.to_dict() == raw["data"]
    assert event.data.id == raw["data"]["id"]


def test_callback_shape_matches_the_envelope_it_mirrors() -> None:
    callback = parse_callback_payload(load("webhook_url.image.completed.json"))
    envelope = parse_event(load("event.image.completed.json"))
    assert type(callback) is type(envelope)
    assert callback.type == envelope.type
    assert callback.data == envelope.data


def test_callback_failed_video() -> None:
    event = parse_callback_payload(load("webhook_url.video.failed.json"))
    assert isinstance(event, GenerationEvent)
    assert event.data.kind == "video"
    assert event.data.is_failed
    assert event.data.error_message == "provider_timeout"


def test_callback_with_an_unknown_event_name() -> None:
    event = parse_callback_payload({"event": "image.someday", "data": {"x": 1}})
    assert type(event) is UnknownEvent
    assert event.type == "image.someday"


def test_event_type_adapter_discriminates_like_parse_event() -> None:
    adapter: pydantic.TypeAdapter[Event] = pydantic.TypeAdapter(Event)
    for name, (event_class, _) in EVENT_FIXTURES.items():
        parsed = adapter.validate_python(load(name))
        assert type(parsed) is event_class
        assert parsed == parse_event(load(name))
    assert type(adapter.validate_python({"type": "x.y", "data": {}})) is UnknownEvent
    # Already-built events pass through.
    event = parse_event(load("event.usage.balance_low.json"))
    assert adapter.validate_python(event) == event


# --- deleted objects and params -------------------------------------------------------------


@pytest.mark.parametrize("model", [FileDeleted, WebhookEndpointDeleted, CharacterDeleted])
def test_deleted_false(model: type[types.DeletedObject]) -> None:
    obj = model.model_validate({"id": "x_1", "object": "whatever", "deleted": False})
    assert obj.deleted is False
    assert obj.object == "whatever"


def test_param_typed_dicts_declare_required_and_optional_keys() -> None:
    assert types.LoraParam.__required_keys__ == frozenset({"lora"})
    assert types.LoraParam.__optional_keys__ == frozenset({"weight"})
    assert types.CharacterAttributesParam.__required_keys__ == frozenset()
    attribute_keys = set(CharacterAttributes.model_fields)
    assert types.CharacterAttributesParam.__optional_keys__ == attribute_keys
    request = load("request.image.create.multi_lora.json")
    loras: list[types.LoraParam] = request["loras"]
    assert {entry["lora"] for entry in loras} == {
        "lora_01KJKB3Q000MP4314Q6EWM27HK",
        "acme-ink-wash",
    }


def test_literal_enums_list_the_documented_values() -> None:
    from typing import get_args

    assert len(get_args(types.ImageSize)) == 16
    assert len(get_args(types.EventType)) == 11
    assert set(get_args(types.VideoRatio)) == {"16:9", "4:3", "1:1", "3:4", "9:16", "21:9"}
    # Open enums accept any string on top of the documented values.
    assert str in get_args(types.GenerationStatus)
    assert "moderation_rejected" in get_args(get_args(types.GenerationStatus)[0])


def test_public_names_are_exported() -> None:
    for name in types.__all__:
        assert hasattr(types, name), name
    models = {
        name
        for name in types.__all__
        if isinstance(getattr(types, name), type) and issubclass(getattr(types, name), AurousModel)
    }
    assert {
        "Generation",
        "Cost",
        "LoraRef",
        "Estimate",
        "Balance",
        "Pricing",
        "ImagePricing",
        "VideoPricing",
        "Team",
        "Lora",
        "VideoLora",
        "File",
        "FileDeleted",
        "WebhookEndpoint",
        "WebhookEndpointDeleted",
        "WebhookTestFire",
        "Character",
        "CharacterRef",
        "CharacterAttributes",
        "CharacterDeleted",
        "CharacterUpload",
        "UploadClassification",
        "UsageBucket",
        "UsageGroup",
        "UsageMetrics",
        "UsageEvent",
        "GenerationEvent",
        "CharacterEvent",
        "BalanceLowEvent",
        "EndpointDisabledEvent",
        "UnknownEvent",
    } <= models
