"""Typed webhook events, and the parsers that pick the right event class for a payload.

Registered endpoints receive an envelope (``{"id", "object": "event", "type", "created_at",
"api_version", "synthetic", "data"}``); per-request ``webhook_url`` callbacks receive
``{"event", "data"}``. Both become one of the classes below, chosen by the event type:

- ``image.*``, ``video.*`` → :class:`GenerationEvent`, ``data`` a :class:`Generation`;
- ``character.*`` → :class:`CharacterEvent`, ``data`` a :class:`Character`;
- ``usage.balance_low`` → :class:`BalanceLowEvent`, ``data`` a :class:`Balance`;
- ``webhook.endpoint_disabled`` → :class:`EndpointDisabledEvent`, ``data`` a
  :class:`WebhookEndpoint`;
- any other type → :class:`UnknownEvent`, ``data`` a plain ``dict``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeAlias, get_args

from pydantic import Discriminator, Field, PrivateAttr, Tag, ValidationError

from .._models import AurousModel
from ._common import Timestamp
from .account import Balance
from .character import Character
from .generation import Generation
from .literals import CharacterEventType, EventType, GenerationEventType, WebhookEventType
from .webhook_endpoint import WebhookEndpoint

__all__ = [
    "BalanceLowEvent",
    "BaseEvent",
    "CharacterEvent",
    "EndpointDisabledEvent",
    "Event",
    "GenerationEvent",
    "UnknownEvent",
    "parse_callback_payload",
    "parse_event",
]


class BaseEvent(AurousModel):
    """Fields common to every webhook event."""

    id: str | None = None
    """``evt_…``: unique per event and stable across retries; use it to drop duplicates.
    ``None`` for per-request ``webhook_url`` callbacks."""
    object: str | None = "event"
    """Always ``"event"``."""
    type: WebhookEventType
    """The event type, e.g. ``"image.completed"``. Unknown types are kept as plain strings."""
    created_at: Timestamp | None = None
    """When the event happened (not when it was delivered); ``None`` for per-request callbacks."""
    api_version: str | None = None
    """The API version used to render ``data``; ``None`` for per-request callbacks."""
    synthetic: bool = False
    """``True`` only for test deliveries fired from the webhook endpoint's ``test`` call."""
    data: Any
    """The resource the event is about, as it stood when the event happened."""

    _duplicate: bool = PrivateAttr(default=False)
    """Set by ``client.webhooks.receive``: see `duplicate`."""
    _stale: bool = PrivateAttr(default=False)
    """Set by ``client.webhooks.receive``: see `stale`."""

    @property
    def duplicate(self) -> bool:
        """True when ``client.webhooks.receive`` had already received this event (same ``id``;
        by any process sharing the client's pacing store): nothing was done with it again."""
        return self._duplicate

    @property
    def stale(self) -> bool:
        """True when the generation it carries is older than a state the client already had
        (deliveries arrive out of order): it did not replace that state."""
        return self._stale


class GenerationEvent(BaseEvent):
    """A generation finished: ``image.completed``/``failed``/``cancelled`` and the ``video.*``
    equivalents. ``data`` is the generation."""

    type: GenerationEventType | str
    """``image.completed``, ``image.failed``, ``image.cancelled``, ``video.completed``,
    ``video.failed`` or ``video.cancelled``."""
    data: Generation
    """The generation, as ``GET /v1/images/{id}`` would have returned it at the time."""


class CharacterEvent(BaseEvent):
    """A character synthesis ended (``character.completed``/``failed``) or was cancelled by a
    delete (``character.cancelled``). ``data`` is the character."""

    type: CharacterEventType | str
    """``character.completed``, ``character.failed`` or ``character.cancelled``."""
    data: Character
    """The character (``status: "deleted"`` for ``character.cancelled``)."""


class BalanceLowEvent(BaseEvent):
    """The team's credits fell to or below its low-balance threshold (``usage.balance_low``)."""

    type: Literal["usage.balance_low"]
    """Always ``"usage.balance_low"``."""
    data: Balance
    """The balance right after the debit that crossed the threshold."""


class EndpointDisabledEvent(BaseEvent):
    """Another webhook endpoint of the team was disabled after repeated failures
    (``webhook.endpoint_disabled``)."""

    type: Literal["webhook.endpoint_disabled"]
    """Always ``"webhook.endpoint_disabled"``."""
    data: WebhookEndpoint
    """The endpoint that was disabled (``secret`` is ``None``)."""


class UnknownEvent(BaseEvent):
    """An event of a type this version of the SDK does not know. Acknowledge it with a 2xx."""

    type: str
    """The event type."""
    data: dict[str, Any] = Field(default_factory=dict)
    """The event's data as plain JSON."""


_KNOWN_TYPES: frozenset[str] = frozenset(get_args(EventType))

_EventClass: TypeAlias = (
    type[GenerationEvent]
    | type[CharacterEvent]
    | type[BalanceLowEvent]
    | type[EndpointDisabledEvent]
    | type[UnknownEvent]
)

_CLASS_BY_TAG: dict[str, _EventClass] = {
    "generation": GenerationEvent,
    "character": CharacterEvent,
    "balance_low": BalanceLowEvent,
    "endpoint_disabled": EndpointDisabledEvent,
    "unknown": UnknownEvent,
}
_TAG_BY_CLASS: dict[type[BaseEvent], str] = {cls: tag for tag, cls in _CLASS_BY_TAG.items()}


def _tag_for_type(event_type: object) -> str:
    if not isinstance(event_type, str):
        return "unknown"
    # Event families are routed by prefix, so a new ``image.*`` type still gets a
    # typed Generation (parse_event falls back to UnknownEvent if its data does not fit).
    if event_type.startswith(("image.", "video.")):
        return "generation"
    if event_type.startswith("character."):
        return "character"
    if event_type == "usage.balance_low":
        return "balance_low"
    if event_type == "webhook.endpoint_disabled":
        return "endpoint_disabled"
    return "unknown"


def _event_tag(value: Any) -> str:
    if isinstance(value, BaseEvent):
        return _TAG_BY_CLASS.get(type(value), "unknown")
    if isinstance(value, Mapping):
        return _tag_for_type(value.get("type"))
    return "unknown"


Event: TypeAlias = Annotated[
    Annotated[GenerationEvent, Tag("generation")]
    | Annotated[CharacterEvent, Tag("character")]
    | Annotated[BalanceLowEvent, Tag("balance_low")]
    | Annotated[EndpointDisabledEvent, Tag("endpoint_disabled")]
    | Annotated[UnknownEvent, Tag("unknown")],
    Discriminator(_event_tag),
]
"""Any webhook event. Narrow it with ``isinstance`` (e.g. ``isinstance(event, GenerationEvent)``).

Usable as a pydantic field type or with ``pydantic.TypeAdapter``, which pick the class as
:func:`parse_event` does, except that a new type of a known family (say ``image.upscaled``) whose
data does not fit raises there instead of becoming an :class:`UnknownEvent`.
"""


def parse_event(obj: Mapping[str, Any]) -> Event:
    """Build the typed event for a registered-endpoint envelope (already JSON-decoded).

    The class is chosen by ``type`` (see the module docstring). An unknown type is never an error
    in itself: it gives an :class:`UnknownEvent`. A known type whose payload does not have the
    documented structure raises :class:`pydantic.ValidationError`, as does a payload that is not
    an object or has no string ``type``.
    """
    if not isinstance(obj, Mapping):
        return UnknownEvent.model_validate(obj)
    payload = dict(obj)
    event_type = payload.get("type")
    cls = _CLASS_BY_TAG[_tag_for_type(event_type)]
    if cls is UnknownEvent or event_type in _KNOWN_TYPES:
        return cls.model_validate(payload)
    try:
        return cls.model_validate(payload)
    except ValidationError:
        # A new type in a known family whose data has a new shape: still an event to acknowledge.
        return UnknownEvent.model_validate(payload)


def parse_callback_payload(obj: Mapping[str, Any]) -> Event:
    """Build the typed event for either delivery shape (already JSON-decoded).

    Accepts the registered-endpoint envelope (``{"id", "type", "created_at", …, "data"}``) and the
    per-request ``webhook_url`` callback (``{"event", "data"}``). For the latter, ``type`` comes
    from ``event``; ``id``, ``created_at`` and ``api_version`` are ``None`` and ``synthetic`` is
    ``False``. Errors as for :func:`parse_event`.
    """
    if isinstance(obj, Mapping) and "type" not in obj and "event" in obj:
        normalised = {key: value for key, value in obj.items() if key != "event"}
        normalised["type"] = obj["event"]
        return parse_event(normalised)
    return parse_event(obj)
