"""Webhook verification, unwrapping, signing and callback parsing (signed deliveries and per-request callbacks)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.datastructures import Headers as StarletteHeaders
from werkzeug.datastructures import EnvironHeaders
from werkzeug.datastructures import Headers as WerkzeugHeaders

import aurous
from aurous import WebhookVerificationError, webhooks
from aurous._signature import compute_signature
from aurous.types import Balance, Character, Generation, WebhookEndpoint
from aurous.types.events import (
    BalanceLowEvent,
    CharacterEvent,
    EndpointDisabledEvent,
    GenerationEvent,
    UnknownEvent,
)

FIXTURES = Path(__file__).parent / "fixtures"

# The worked example of the webhook signature scheme: these are its test vectors.
SECRET = "whsec_Zt3nQ8vJk2LmR5wXy7Bc9DfGh4Ps6Ua1"
OTHER_SECRET = "whsec_Aa0Bb1Cc2Dd3Ee4Ff5Gg6Hh7Ii8Jj9Kk"
T = 1779468310
BODY = (
    b'{"id":"evt_01KS8974G8M4EQ4KARE1T6XPYQ","object":"event","type":"usage.balance_low",'
    b'"created_at":"2026-05-22T16:45:09Z","api_version":"2026-05-15","synthetic":false,'
    b'"data":{"credits":9.5,"held_credits":0,"available_credits":9.5,"currency":"credit",'
    b'"billing_mode":"metered"}}'
)
SIGNATURE = "470253fe07b81977360b7f52005c710321b646976593771532372da7db6b9f9f"
OTHER_SIGNATURE = "05ab449bac5905bbbdbe8549ff6da78af66d6ddfb1e06ace7bc134540908ea35"
HEADER = f"t={T},v1={SIGNATURE}"
TWO_SIGNATURES = f"t={T},v1={OTHER_SIGNATURE},v1={SIGNATURE}"
HEX = "0123456789abcdef"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def rejects(reason: str, call: Callable[[], object]) -> WebhookVerificationError:
    """Assert ``call`` raises WebhookVerificationError mentioning ``reason``, never the secrets."""
    with pytest.raises(WebhookVerificationError) as info:
        call()
    error = info.value
    assert reason in str(error)
    for secret in (SECRET, OTHER_SECRET, SECRET.removeprefix("whsec_")):
        assert secret not in str(error)
        assert secret not in repr(error)
        assert secret not in error.reason
    return error


# --- worked example and test vectors -------------------------------------------------


def test_vectors_agree_with_the_fixture_file() -> None:
    example = fixture("webhook_signature.example.json")
    assert example["secret"] == SECRET
    assert example["other_secret"] == OTHER_SECRET
    assert example["timestamp"] == T
    assert example["body"].encode() == BODY
    assert len(BODY) == 273
    assert example["signature"] == SIGNATURE
    assert example["other_secret_signature"] == OTHER_SIGNATURE
    assert example["header"] == HEADER
    assert example["header_with_two_signatures"] == TWO_SIGNATURES
    assert json.loads(BODY) == fixture("event.usage.balance_low.json")


def test_vector_valid_at_signing_time() -> None:
    event = webhooks.verify(BODY, HEADER, SECRET, now=T)
    assert isinstance(event, BalanceLowEvent)
    assert event.type == "usage.balance_low"
    assert event.id == "evt_01KS8974G8M4EQ4KARE1T6XPYQ"
    assert event.synthetic is False
    assert isinstance(event.data, Balance)
    assert event.data.credits == 9.5


def test_vector_valid_at_the_tolerance_boundary() -> None:
    assert webhooks.verify(BODY, HEADER, SECRET, now=T + 300).id == "evt_01KS8974G8M4EQ4KARE1T6XPYQ"
    assert webhooks.verify(BODY, HEADER, SECRET, now=T - 300).type == "usage.balance_low"


def test_vector_stale_timestamp_is_invalid() -> None:
    rejects(
        "timestamp outside tolerance", lambda: webhooks.verify(BODY, HEADER, SECRET, now=T + 301)
    )


def test_vector_future_timestamp_is_invalid() -> None:
    error = rejects(
        "timestamp outside tolerance", lambda: webhooks.verify(BODY, HEADER, SECRET, now=T - 301)
    )
    assert "future" in str(error)


def test_vector_changed_body_is_invalid() -> None:
    tampered = BODY.replace(b'"credits":9.5', b'"credits":9.6')
    assert tampered != BODY
    rejects("no matching signature", lambda: webhooks.verify(tampered, HEADER, SECRET, now=T))


def test_vector_secret_without_prefix_is_invalid() -> None:
    bare = SECRET.removeprefix("whsec_")
    rejects("no matching signature", lambda: webhooks.verify(BODY, HEADER, bare, now=T))


def test_vector_two_signatures_with_a_secret_list() -> None:
    assert webhooks.verify(BODY, TWO_SIGNATURES, [OTHER_SECRET], now=T).type == "usage.balance_low"
    assert webhooks.verify(BODY, TWO_SIGNATURES, SECRET, now=T).type == "usage.balance_low"
    assert webhooks.verify(BODY, TWO_SIGNATURES, (SECRET,), now=T).type == "usage.balance_low"


def test_vector_header_missing_t_is_invalid() -> None:
    rejects("no valid timestamp", lambda: webhooks.verify(BODY, f"v1={SIGNATURE}", SECRET, now=T))


# --- tampering -------------------------------------------------------------------------------


@pytest.mark.parametrize("position", range(len(BODY)))
def test_every_one_byte_change_to_the_body_fails(position: int) -> None:
    tampered = bytearray(BODY)
    tampered[position] ^= 0x01
    rejects(
        "no matching signature", lambda: webhooks.verify(bytes(tampered), HEADER, SECRET, now=T)
    )


@pytest.mark.parametrize("position", range(len(str(T))))
def test_every_changed_timestamp_digit_fails(position: int) -> None:
    digits = list(str(T))
    digits[position] = str((int(digits[position]) + 1) % 10)
    forged_t = int("".join(digits))
    header = f"t={forged_t},v1={SIGNATURE}"
    # `now` follows the forged timestamp so only the signature can catch the change.
    rejects("no matching signature", lambda: webhooks.verify(BODY, header, SECRET, now=forged_t))


@pytest.mark.parametrize("position", range(64))
def test_every_changed_signature_character_fails(position: int) -> None:
    replacement = HEX[(HEX.index(SIGNATURE[position]) + 1) % 16]
    forged = SIGNATURE[:position] + replacement + SIGNATURE[position + 1 :]
    rejects(
        "no matching signature",
        lambda: webhooks.verify(BODY, f"t={T},v1={forged}", SECRET, now=T),
    )


def test_signature_for_another_timestamp_fails() -> None:
    moved = f"t={T + 1},v1={SIGNATURE}"
    rejects("no matching signature", lambda: webhooks.verify(BODY, moved, SECRET, now=T))


def test_wrong_secret_fails() -> None:
    rejects("no matching signature", lambda: webhooks.verify(BODY, HEADER, OTHER_SECRET, now=T))


def test_truncated_and_extended_signatures_fail() -> None:
    for value in (SIGNATURE[:-1], SIGNATURE + "0", SIGNATURE[:32], SIGNATURE * 2):
        header = f"t={T},v1={value}"
        rejects("no matching signature", partial(webhooks.verify, BODY, header, SECRET, now=T))


# --- header parsing ---------------------------------------------------------


def test_whitespace_around_items_keys_and_values_is_trimmed() -> None:
    header = f"  t = {T} ,  v1 =  {SIGNATURE}  "
    assert webhooks.verify(BODY, header, SECRET, now=T).type == "usage.balance_low"


def test_uppercase_signature_is_lowercased() -> None:
    header = f"t={T},v1={SIGNATURE.upper()}"
    assert webhooks.verify(BODY, header, SECRET, now=T).type == "usage.balance_low"


def test_items_are_order_independent_and_unknown_keys_ignored() -> None:
    header = f"v2=future-scheme,v1={'0' * 64},x,v0={SIGNATURE},v1={SIGNATURE},t={T},,"
    assert webhooks.verify(BODY, header, SECRET, now=T).type == "usage.balance_low"


def test_v0_alone_is_not_a_signature() -> None:
    rejects("no signatures", lambda: webhooks.verify(BODY, f"t={T},v0={SIGNATURE}", SECRET, now=T))


def test_junk_v1_values_never_match_but_a_good_one_still_does() -> None:
    header = f"t={T},v1=zz,v1=,v1={'g' * 64},v1={SIGNATURE}"
    assert webhooks.verify(BODY, header, SECRET, now=T).type == "usage.balance_low"
    rejects(
        "no matching signature",
        lambda: webhooks.verify(BODY, f"t={T},v1=zz,v1=,v1={'g' * 64}", SECRET, now=T),
    )


def test_header_as_ascii_bytes_is_accepted() -> None:
    assert webhooks.verify(BODY, HEADER.encode(), SECRET, now=T).type == "usage.balance_low"  # type: ignore[arg-type]


MALFORMED_HEADERS: list[tuple[str, object, str]] = [
    ("empty", "", "missing or empty"),
    ("blank", "   ", "missing or empty"),
    ("none", None, "missing or empty"),
    ("an int", 12345, "missing or empty"),
    ("a list", [HEADER], "missing or empty"),
    ("junk", "garbage", "no valid timestamp"),
    ("only commas", ",,,,", "no valid timestamp"),
    ("t without value", f"t=,v1={SIGNATURE}", "no valid timestamp"),
    ("t=abc", f"t=abc,v1={SIGNATURE}", "no valid timestamp"),
    ("negative t", f"t=-{T},v1={SIGNATURE}", "no valid timestamp"),
    ("signed t", f"t=+{T},v1={SIGNATURE}", "no valid timestamp"),
    ("fractional t", f"t={T}.5,v1={SIGNATURE}", "no valid timestamp"),
    ("exponent t", f"t=1.7e9,v1={SIGNATURE}", "no valid timestamp"),
    ("t with inner space", f"t=17794 68310,v1={SIGNATURE}", "no valid timestamp"),
    ("underscored t", f"t=1_779_468_310,v1={SIGNATURE}", "no valid timestamp"),
    ("huge t", f"t={'9' * 2000},v1={SIGNATURE}", "no valid timestamp"),
    ("t without =", f"t{T},v1={SIGNATURE}", "no valid timestamp"),
    ("uppercase T", f"T={T},v1={SIGNATURE}", "no valid timestamp"),
    ("two timestamps", f"t={T},t={T},v1={SIGNATURE}", "more than one timestamp"),
    ("timestamp only", f"t={T}", "no signatures"),
    ("uppercase V1", f"t={T},V1={SIGNATURE}", "no signatures"),
    ("empty v1", f"t={T},v1=", "no matching signature"),
    ("zero v1", f"t={T},v1={'0' * 64}", "no matching signature"),
    ("huge v1", f"t={T},v1={'a' * 4000}", "no matching signature"),
    ("huge header", f"t={T},v1={SIGNATURE}," + "x" * 1_000_000, "longer than"),
    ("thousands of items", f"t={T}," + ",".join([f"v1={SIGNATURE}"] * 3000), "longer than"),
    ("many short items", f"t={T},v1={SIGNATURE}" + ",a" * 1000, "more than 64 items"),
    ("non-ASCII text", f"t={T},v1={SIGNATURE[:-1]}é", "not ASCII"),
    ("non-ASCII digits in t", f"t=١٧٧٩٤٦٨٣١٠,v1={SIGNATURE}", "not ASCII"),
    ("superscript t", f"t=²,v1={SIGNATURE}", "not ASCII"),
    ("fullwidth signature", f"t={T},v1={'ａ' * 64}", "not ASCII"),
    ("non-ASCII bytes", b"t=1779468310,v1=\xff", "not ASCII"),
    ("NUL bytes", f"t={T}\x00,v1={SIGNATURE}", "no valid timestamp"),
]


@pytest.mark.parametrize(
    ("header", "reason"),
    [pytest.param(h, r, id=name) for name, h, r in MALFORMED_HEADERS],
)
def test_malformed_headers_raise_webhook_verification_error(header: object, reason: str) -> None:
    rejects(reason, lambda: webhooks.verify(BODY, header, SECRET, now=T))  # type: ignore[arg-type]


def test_absurd_headers_are_rejected_before_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []

    def counting_signature(*args: object) -> str:
        calls.append(args)
        return ""

    monkeypatch.setattr(webhooks, "compute_signature", counting_signature)
    huge = f"t={T},v1={SIGNATURE}," + "v1=" + "a" * 10_000_000
    rejects("longer than", lambda: webhooks.verify(BODY, huge, SECRET, now=T))
    assert calls == []


# --- secrets, time, payload types --------------------------------------------------------------


def test_secret_list_any_secret_may_match() -> None:
    rotated = [OTHER_SECRET, SECRET]
    assert webhooks.verify(BODY, HEADER, rotated, now=T).type == "usage.balance_low"
    rejects(
        "no matching signature",
        lambda: webhooks.verify(BODY, HEADER, [OTHER_SECRET, "whsec_x"], now=T),
    )


def test_a_header_signed_by_two_secrets_verifies_with_either() -> None:
    for secret in ([SECRET], [OTHER_SECRET], [OTHER_SECRET, SECRET]):
        assert webhooks.verify(BODY, TWO_SIGNATURES, secret, now=T).type == "usage.balance_low"


def test_empty_secret_list_is_an_error() -> None:
    rejects("list of secrets is empty", lambda: webhooks.verify(BODY, HEADER, [], now=T))
    rejects("list of secrets is empty", lambda: webhooks.verify(BODY, HEADER, (), now=T))


def test_empty_secret_is_an_error_even_when_the_signature_matches() -> None:
    header = f"t={T},v1={compute_signature('', T, BODY)}"
    rejects("empty webhook secret", lambda: webhooks.verify(BODY, header, "", now=T))
    rejects("empty webhook secret", lambda: webhooks.verify(BODY, header, [SECRET, ""], now=T))


def test_secrets_of_the_wrong_type_are_type_errors() -> None:
    with pytest.raises(TypeError):
        webhooks.verify(BODY, HEADER, SECRET.encode(), now=T)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        webhooks.verify(BODY, HEADER, [SECRET.encode()], now=T)  # type: ignore[list-item]
    with pytest.raises(TypeError):
        webhooks.verify(BODY, HEADER, 42, now=T)  # type: ignore[arg-type]


def test_secret_with_lone_surrogate_is_rejected_cleanly() -> None:
    rejects("not valid text", lambda: webhooks.verify(BODY, HEADER, "whsec_\ud800", now=T))


def test_default_clock_is_the_current_time() -> None:
    fresh = webhooks.sign(BODY, SECRET)
    assert webhooks.verify(BODY, fresh, SECRET).type == "usage.balance_low"
    rejects("timestamp outside tolerance", lambda: webhooks.verify(BODY, HEADER, SECRET))


def test_tolerance_is_configurable() -> None:
    assert webhooks.verify(BODY, HEADER, SECRET, now=T + 3600, tolerance=3600).type
    rejects(
        "timestamp outside tolerance",
        lambda: webhooks.verify(BODY, HEADER, SECRET, now=T + 1, tolerance=0),
    )
    assert webhooks.verify(BODY, HEADER, SECRET, now=T, tolerance=0).type == "usage.balance_low"


@pytest.mark.parametrize(
    ("tolerance", "now"), [(-1, T), (float("nan"), T), (300, float("nan")), (300, float("inf"))]
)
def test_nonsense_tolerance_or_clock_is_a_value_error(tolerance: float, now: float) -> None:
    with pytest.raises(ValueError):
        webhooks.verify(BODY, HEADER, SECRET, tolerance=tolerance, now=now)  # type: ignore[arg-type]


def test_str_and_buffer_payloads_are_accepted() -> None:
    assert webhooks.verify(BODY.decode(), HEADER, SECRET, now=T).type == "usage.balance_low"
    assert webhooks.verify(bytearray(BODY), HEADER, SECRET, now=T).type  # type: ignore[arg-type]
    assert webhooks.verify(memoryview(BODY), HEADER, SECRET, now=T).type  # type: ignore[arg-type]


def test_str_payload_is_encoded_as_utf8() -> None:
    body = '{"id":"evt_1","object":"event","type":"x.unknown","data":{"note":"café ☕"}}'
    header = webhooks.sign(body.encode("utf-8"), SECRET, timestamp=T)
    assert webhooks.verify(body, header, SECRET, now=T).type == "x.unknown"
    latin1 = body.encode("latin-1", errors="replace")
    rejects("no matching signature", lambda: webhooks.verify(latin1, header, SECRET, now=T))


def test_parsed_json_payload_is_a_type_error_that_explains_the_raw_body() -> None:
    with pytest.raises(TypeError, match="raw request body"):
        webhooks.verify(json.loads(BODY), HEADER, SECRET, now=T)


def test_payload_with_lone_surrogate_is_rejected() -> None:
    rejects("not valid Unicode", lambda: webhooks.verify("{\ud800}", HEADER, SECRET, now=T))


def test_signature_is_checked_before_the_body_is_parsed() -> None:
    # Unsigned garbage fails on the signature, not on JSON.
    rejects("no matching signature", lambda: webhooks.verify(b"not json", HEADER, SECRET, now=T))
    # The same garbage, correctly signed, passes the signature and then fails on JSON.
    header = webhooks.sign(b"not json", SECRET, timestamp=T)
    rejects("not valid JSON", lambda: webhooks.verify(b"not json", header, SECRET, now=T))


@pytest.mark.parametrize(
    ("body", "kind"),
    [(b"[1,2]", "an array"), (b'"event"', "a string"), (b"null", "null"), (b"4", "a number")],
)
def test_verified_body_must_be_a_json_object(body: bytes, kind: str) -> None:
    header = webhooks.sign(body, SECRET, timestamp=T)
    rejects(kind, lambda: webhooks.verify(body, header, SECRET, now=T))


def test_deeply_nested_verified_body_is_rejected_cleanly() -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    header = webhooks.sign(body, SECRET, timestamp=T)
    rejects("not valid JSON", lambda: webhooks.verify(body, header, SECRET, now=T))


def test_reason_never_contains_the_secret_across_failures() -> None:
    cases: list[Callable[[], object]] = [
        lambda: webhooks.verify(BODY, HEADER, SECRET, now=T + 10_000),
        lambda: webhooks.verify(BODY, f"t={T},v1={SECRET}", SECRET, now=T),
        lambda: webhooks.verify(BODY, f"t={SECRET},v1={SIGNATURE}", SECRET, now=T),
        lambda: webhooks.verify(BODY + b" ", HEADER, [OTHER_SECRET, SECRET], now=T),
        lambda: webhooks.verify(b"[]", webhooks.sign(b"[]", SECRET, timestamp=T), SECRET, now=T),
        lambda: webhooks.unwrap(BODY, {}, secret=SECRET, now=T),
    ]
    for case in cases:
        rejects("", case)


# --- typed events ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "event_class", "data_class"),
    [
        ("event.image.completed.json", GenerationEvent, Generation),
        ("event.image.failed.json", GenerationEvent, Generation),
        ("event.image.cancelled.json", GenerationEvent, Generation),
        ("event.image.completed.synthetic.json", GenerationEvent, Generation),
        ("event.video.completed.json", GenerationEvent, Generation),
        ("event.character.completed.json", CharacterEvent, Character),
        ("event.usage.balance_low.json", BalanceLowEvent, Balance),
        ("event.webhook.endpoint_disabled.json", EndpointDisabledEvent, WebhookEndpoint),
    ],
)
def test_verified_events_are_typed(name: str, event_class: type, data_class: type) -> None:
    raw = fixture(name)
    body = compact(raw)
    event = webhooks.verify(body, webhooks.sign(body, SECRET, timestamp=T), SECRET, now=T)
    assert type(event) is event_class
    assert isinstance(event.data, data_class)
    assert event.id == raw["id"]
    assert event.type == raw["type"]
    assert event.synthetic is raw["synthetic"]
    assert event.api_version == raw["api_version"]
    assert getattr(event.data, "id", None) == raw["data"].get("id")


def test_generation_event_data_is_a_full_generation() -> None:
    raw = fixture("event.image.completed.json")
    body = compact(raw)
    event = webhooks.verify(body, webhooks.sign(body, SECRET, timestamp=T), SECRET, now=T)
    assert isinstance(event, GenerationEvent)
    assert event.data.status == "succeeded"
    assert event.data.output_urls == raw["data"]["output_urls"]
    assert event.data.is_succeeded


def test_endpoint_disabled_event_carries_no_secret() -> None:
    body = compact(fixture("event.webhook.endpoint_disabled.json"))
    event = webhooks.verify(body, webhooks.sign(body, SECRET, timestamp=T), SECRET, now=T)
    assert isinstance(event, EndpointDisabledEvent)
    assert event.data.secret is None
    assert event.data.is_active is False


def test_unknown_event_types_verify_as_plain_dicts() -> None:
    body = b'{"id":"evt_9","object":"event","type":"model.retired","data":{"model":"m1"}}'
    event = webhooks.verify(body, webhooks.sign(body, SECRET, timestamp=T), SECRET, now=T)
    assert isinstance(event, UnknownEvent)
    assert event.type == "model.retired"
    assert event.data == {"model": "m1"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"id":"evt_9","object":"event","type":"image.completed","data":{"id":7}}',
        b'{"id":"evt_9","object":"event","data":{}}',
        b'{"id":"evt_9","object":"event","type":42,"data":{}}',
    ],
)
def test_authentic_but_malformed_events_raise_verification_errors(body: bytes) -> None:
    header = webhooks.sign(body, SECRET, timestamp=T)
    error = rejects("not a valid event", lambda: webhooks.verify(body, header, SECRET, now=T))
    assert error.__cause__ is not None


# --- sign ----------------------------------------------------------------------------------


def test_sign_reproduces_the_spec_header() -> None:
    assert webhooks.sign(BODY, SECRET, timestamp=T) == HEADER
    assert webhooks.sign(BODY.decode(), SECRET, timestamp=T) == HEADER
    assert webhooks.sign(BODY, OTHER_SECRET, timestamp=T) == f"t={T},v1={OTHER_SIGNATURE}"


def test_sign_defaults_to_the_current_time() -> None:
    before = int(time.time())
    header = webhooks.sign(BODY, SECRET)
    after = int(time.time())
    t = int(header.split(",")[0].removeprefix("t="))
    assert before <= t <= after


def test_sign_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="empty secret"):
        webhooks.sign(BODY, "")
    with pytest.raises(ValueError):
        webhooks.sign(BODY, SECRET, timestamp=-1)
    with pytest.raises(ValueError, match="UTF-8"):
        webhooks.sign(BODY, "whsec_\ud800")
    with pytest.raises(TypeError):
        webhooks.sign(BODY, [SECRET])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        webhooks.sign({"a": 1}, SECRET)  # type: ignore[arg-type]


# --- unwrap ---------------------------------------------------------------------------------


HEADER_COLLECTIONS: list[tuple[str, Callable[[str], object]]] = [
    (
        "dict canonical",
        lambda h: {"Aurous-Webhook-Signature": h, "Content-Type": "application/json"},
    ),
    ("dict lower", lambda h: {"aurous-webhook-signature": h}),
    ("dict upper", lambda h: {"AUROUS-WEBHOOK-SIGNATURE": h}),
    ("dict mixed", lambda h: {"aUrOuS-wEbHoOk-SiGnAtUrE": h}),
    ("pairs", lambda h: [("Content-Type", "application/json"), ("Aurous-Webhook-Signature", h)]),
    ("asgi raw bytes", lambda h: [(b"aurous-webhook-signature", h.encode())]),
    ("httpx", lambda h: httpx.Headers({"AUROUS-Webhook-Signature": h})),
    (
        "starlette",
        lambda h: StarletteHeaders(raw=[(b"aurous-webhook-signature", h.encode())]),
    ),
    ("werkzeug", lambda h: WerkzeugHeaders([("Aurous-Webhook-Signature", h)])),
    ("werkzeug environ", lambda h: EnvironHeaders({"HTTP_AUROUS_WEBHOOK_SIGNATURE": h})),
    ("wsgi environ", lambda h: {"HTTP_AUROUS_WEBHOOK_SIGNATURE": h, "REQUEST_METHOD": "POST"}),
]


@pytest.mark.parametrize(
    "make_headers", [pytest.param(make, id=name) for name, make in HEADER_COLLECTIONS]
)
def test_unwrap_finds_the_header_in_any_collection(make_headers: Callable[[str], object]) -> None:
    event = webhooks.unwrap(BODY, make_headers(HEADER), secret=SECRET, now=T)
    assert event.id == "evt_01KS8974G8M4EQ4KARE1T6XPYQ"
    forged = make_headers(f"t={T},v1={OTHER_SIGNATURE}")
    rejects("no matching signature", lambda: webhooks.unwrap(BODY, forged, secret=SECRET, now=T))


def test_unwrap_joins_repeated_header_lines() -> None:
    headers = httpx.Headers(
        [("Aurous-Webhook-Signature", f"t={T}"), ("aurous-webhook-signature", f"v1={SIGNATURE}")]
    )
    assert webhooks.unwrap(BODY, headers, secret=SECRET, now=T).type == "usage.balance_low"


def test_unwrap_reports_a_missing_header() -> None:
    rejects(
        "missing Aurous-Webhook-Signature header",
        lambda: webhooks.unwrap(BODY, {"Stripe-Signature": HEADER}, secret=SECRET, now=T),
    )
    rejects("missing", lambda: webhooks.unwrap(BODY, [], secret=SECRET, now=T))


def test_unwrap_rejects_things_that_are_not_headers() -> None:
    for not_headers in (HEADER, HEADER.encode(), None, 42, [HEADER], [("a", "b", "c")]):
        with pytest.raises(TypeError):
            webhooks.unwrap(BODY, not_headers, secret=SECRET, now=T)


def test_unwrap_reads_the_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUROUS_WEBHOOK_SECRET", SECRET)
    assert webhooks.unwrap(BODY, {"Aurous-Webhook-Signature": HEADER}, now=T).type


def test_unwrap_accepts_a_comma_separated_environment_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUROUS_WEBHOOK_SECRET", f"  {OTHER_SECRET} ,, {SECRET}\n")
    assert webhooks.unwrap(BODY, {"aurous-webhook-signature": HEADER}, now=T).type
    monkeypatch.setenv("AUROUS_WEBHOOK_SECRET", f"{OTHER_SECRET}, whsec_nope")
    rejects(
        "no matching signature",
        lambda: webhooks.unwrap(BODY, {"aurous-webhook-signature": HEADER}, now=T),
    )


@pytest.mark.parametrize("value", [None, "", " , ,  "])
def test_unwrap_reports_a_missing_secret(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("AUROUS_WEBHOOK_SECRET", raising=False)
    else:
        monkeypatch.setenv("AUROUS_WEBHOOK_SECRET", value)
    rejects(
        "AUROUS_WEBHOOK_SECRET",
        lambda: webhooks.unwrap(BODY, {"Aurous-Webhook-Signature": HEADER}, now=T),
    )


def test_unwrap_secret_argument_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUROUS_WEBHOOK_SECRET", OTHER_SECRET)
    headers = {"Aurous-Webhook-Signature": HEADER}
    assert webhooks.unwrap(BODY, headers, secret=SECRET, now=T).type == "usage.balance_low"
    rejects("no matching signature", lambda: webhooks.unwrap(BODY, headers, now=T))


def test_unwrap_applies_the_tolerance() -> None:
    headers = {"Aurous-Webhook-Signature": HEADER}
    rejects("tolerance", lambda: webhooks.unwrap(BODY, headers, secret=SECRET, now=T + 301))
    assert webhooks.unwrap(BODY, headers, secret=SECRET, now=T + 301, tolerance=400).type


# --- the Webhooks helper --------------------------------------------------------------------


def test_webhooks_helper_uses_its_secret_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    headers = {"Aurous-Webhook-Signature": HEADER}
    monkeypatch.setenv("AUROUS_WEBHOOK_SECRET", OTHER_SECRET)
    bound = webhooks.Webhooks(secret=[OTHER_SECRET, SECRET])
    assert bound.unwrap(BODY, headers, now=T).type == "usage.balance_low"
    assert bound.verify(BODY, HEADER, now=T).type == "usage.balance_low"
    unbound = webhooks.Webhooks()
    rejects("no matching signature", lambda: unbound.unwrap(BODY, headers, now=T))
    rejects("no matching signature", lambda: unbound.verify(BODY, HEADER, now=T))
    assert unbound.unwrap(BODY, headers, secret=SECRET, now=T).type == "usage.balance_low"
    monkeypatch.setenv("AUROUS_WEBHOOK_SECRET", SECRET)
    assert unbound.verify(BODY, HEADER, now=T).type == "usage.balance_low"


def test_webhooks_helper_passthroughs() -> None:
    helper = webhooks.Webhooks()
    assert helper.sign(BODY, SECRET, timestamp=T) == HEADER
    assert helper.verify(BODY, HEADER, SECRET, now=T).type == "usage.balance_low"
    assert helper.parse_callback(fixture("webhook_url.image.completed.json")).type == (
        "image.completed"
    )


def test_webhooks_helper_repr_hides_the_secret() -> None:
    assert SECRET not in repr(webhooks.Webhooks(SECRET))
    assert "set" in repr(webhooks.Webhooks(SECRET))


def test_public_names() -> None:
    assert webhooks.SIGNATURE_HEADER == "Aurous-Webhook-Signature"
    assert aurous.webhooks is webhooks
    for name in webhooks.__all__:
        assert hasattr(webhooks, name), name
    assert {"verify", "unwrap", "sign", "parse_callback", "Webhooks"} <= set(webhooks.__all__)
    assert webhooks.WebhookVerificationError is aurous.WebhookVerificationError
    assert issubclass(WebhookVerificationError, aurous.AurousError)


# --- parse_callback ---------------------------------------------------------------


def test_parse_callback_normalises_the_per_request_shape() -> None:
    raw = fixture("webhook_url.image.completed.json")
    for payload in (raw, compact(raw), compact(raw).decode()):
        event = webhooks.parse_callback(payload)
        assert isinstance(event, GenerationEvent)
        assert isinstance(event.data, Generation)
        assert event.data.id == raw["data"]["id"]
        assert event.type == "image.completed"
        assert event.id is None
        assert event.created_at is None
        assert event.api_version is None
        assert event.synthetic is False


def test_parse_callback_accepts_the_registered_envelope() -> None:
    raw = fixture("event.image.completed.json")
    event = webhooks.parse_callback(compact(raw))
    assert isinstance(event, GenerationEvent)
    assert event.type == "image.completed"
    assert event.id == raw["id"]
    assert event.api_version == "2026-05-15"
    assert event.synthetic is False


def test_parse_callback_failed_video() -> None:
    event = webhooks.parse_callback(compact(fixture("webhook_url.video.failed.json")))
    assert isinstance(event, GenerationEvent)
    assert event.type == "video.failed"
    assert event.id is None
    assert event.data.status == "failed"
    assert event.data.media_type == "video"


def test_parse_callback_with_data_that_does_not_fit_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        webhooks.parse_callback({"event": "image.completed", "data": {"id": 7}})


@pytest.mark.parametrize("payload", [b"{not json", "", b"\xff\xfe", b"[1]", "null", '"x"'])
def test_parse_callback_bad_json_is_a_value_error(payload: bytes | str) -> None:
    with pytest.raises(ValueError, match="webhook callback body") as info:
        webhooks.parse_callback(payload)
    assert not isinstance(info.value, WebhookVerificationError)
