"""Property tests: signing round-trips, and no mutation of a delivery ever verifies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from aurous import WebhookVerificationError, webhooks

SECRET = "whsec_Zt3nQ8vJk2LmR5wXy7Bc9DfGh4Ps6Ua1"
T = 1779468310

FIXTURES = Path(__file__).parent / "fixtures"
# Known types carry their documented data (from the fixtures); any other type carries any object.
KNOWN_EVENTS = [
    json.loads(path.read_text(encoding="utf-8")) for path in sorted(FIXTURES.glob("event.*.json"))
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
unknown_types = st.text(min_size=1).map("x.".__add__) | st.text().map("image.new_".__add__)
timestamps = st.integers(min_value=0, max_value=10**11)
VALID_PAYLOAD = b'{"id":"evt_1","object":"event","type":"x.test","data":{}}'


@st.composite
def payloads(draw: st.DrawFn) -> bytes:
    """A compact JSON event envelope: a documented event, or an unknown type with any data."""
    if draw(st.booleans()):
        envelope = dict(draw(st.sampled_from(KNOWN_EVENTS)))
    else:
        envelope = {
            "id": "evt_" + draw(st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ", max_size=26)),
            "object": "event",
            "type": draw(unknown_types),
            "synthetic": draw(st.booleans()),
            "data": draw(st.dictionaries(st.text(), json_values, max_size=4)),
        }
    envelope["extra"] = draw(json_values)
    ascii_only = draw(st.booleans())
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=ascii_only).encode("utf-8")


def _encodable(secret: str) -> bool:
    try:
        secret.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@settings(max_examples=150, deadline=None)
@given(
    payload=payloads(),
    secret=st.text(min_size=1).filter(_encodable),
    t=timestamps,
    skew=st.integers(min_value=-300, max_value=300),
)
def test_sign_then_verify_round_trips(payload: bytes, secret: str, t: int, skew: int) -> None:
    header = webhooks.sign(payload, secret, timestamp=t)
    event = webhooks.verify(payload, header, secret, now=t + skew)
    sent = json.loads(payload)
    assert (event.type, event.id, event.synthetic) == (sent["type"], sent["id"], sent["synthetic"])
    # The same delivery passes as str, with the secret among others, and through unwrap.
    assert webhooks.verify(payload.decode("utf-8"), header, ["whsec_other", secret], now=t).type
    assert webhooks.unwrap(payload, {"AUROUS-webhook-signature": header}, secret=secret, now=t)


@settings(max_examples=150, deadline=None)
@given(payload=payloads(), data=st.data())
def test_any_payload_byte_change_fails(payload: bytes, data: st.DataObject) -> None:
    header = webhooks.sign(payload, SECRET, timestamp=T)
    position = data.draw(st.integers(min_value=0, max_value=len(payload) - 1))
    replacement = data.draw(
        st.integers(min_value=0, max_value=255).filter(lambda b: b != payload[position])
    )
    tampered = payload[:position] + bytes([replacement]) + payload[position + 1 :]
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        webhooks.verify(tampered, header, SECRET, now=T)


@settings(max_examples=100, deadline=None)
@given(payload=payloads(), extra=st.binary(min_size=1, max_size=8), prepend=st.booleans())
def test_appended_or_prepended_bytes_fail(payload: bytes, extra: bytes, prepend: bool) -> None:
    header = webhooks.sign(payload, SECRET, timestamp=T)
    tampered = extra + payload if prepend else payload + extra
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        webhooks.verify(tampered, header, SECRET, now=T)


@settings(max_examples=150, deadline=None)
@given(payload=payloads(), data=st.data())
def test_semantic_header_mutations_fail(payload: bytes, data: st.DataObject) -> None:
    header = webhooks.sign(payload, SECRET, timestamp=T)
    signature = header.split(",v1=")[1]
    kind = data.draw(st.sampled_from(["signature digit", "timestamp", "drop signature"]))
    now = T
    if kind == "signature digit":
        position = data.draw(st.integers(min_value=0, max_value=63))
        digit = data.draw(
            st.sampled_from("0123456789abcdef").filter(lambda d: d != signature[position])
        )
        forged = signature[:position] + digit + signature[position + 1 :]
        mutated, reason = f"t={T},v1={forged}", "no matching signature"
    elif kind == "timestamp":
        now = data.draw(timestamps.filter(lambda t: t != T))
        mutated, reason = f"t={now},v1={signature}", "no matching signature"
    else:
        mutated, reason = f"t={T}", "no signatures"
    with pytest.raises(WebhookVerificationError, match=reason):
        webhooks.verify(payload, mutated, SECRET, now=now)


@st.composite
def edited_headers(draw: st.DrawFn, header: str) -> str:
    """``header`` with a few random character insertions, deletions and replacements."""
    chars = list(header)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        position = draw(st.integers(min_value=0, max_value=max(0, len(chars) - 1)))
        char = draw(st.characters() | st.sampled_from(list("=, tv10abcdef")))
        if op == "insert":
            chars.insert(position, char)
        elif chars and op == "delete":
            del chars[position]
        elif chars:
            chars[position] = char
    return "".join(chars)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_random_header_edits_fail_or_keep_the_same_signed_pair(data: st.DataObject) -> None:
    payload = VALID_PAYLOAD
    header = webhooks.sign(payload, SECRET, timestamp=T)
    mutated = data.draw(edited_headers(header))
    reason: str | None = None
    try:
        event = webhooks.verify(payload, mutated, SECRET, now=T)
    except WebhookVerificationError as exc:
        reason = str(exc)
    if reason is not None:
        assert SECRET not in reason
        assert "not a valid event" not in reason  # the payload itself is always fine
        return
    # An edit can be harmless (whitespace, an ignored item, case): then the signed timestamp and
    # signature must still be in the header, unchanged in meaning.
    signature = header.split(",v1=")[1]
    assert event.id == "evt_1"
    assert signature in mutated.lower()
    timestamps = [
        value.strip()
        for key, sep, value in (item.partition("=") for item in mutated.split(","))
        if sep and key.strip() == "t"
    ]
    assert [int(t) for t in timestamps] == [T]


@settings(max_examples=300, deadline=None)
@example(header="t=1779468310,v1=" + "0" * 64)
@example(header="t=" + "9" * 5000)
@example(header="\x00")
@given(header=st.text() | st.binary().map(lambda b: b.decode("latin-1")))
def test_arbitrary_headers_only_raise_verification_errors(header: str) -> None:
    payload = VALID_PAYLOAD
    with pytest.raises(WebhookVerificationError) as info:
        webhooks.verify(payload, header, SECRET, now=T)
    assert SECRET not in str(info.value)


@settings(max_examples=150, deadline=None)
@given(
    header=st.binary(max_size=200),
    payload=st.binary(max_size=200),
    secret_list=st.lists(st.text().filter(_encodable).map("whsec_".__add__), max_size=3),
)
def test_arbitrary_bytes_everywhere_only_raise_verification_errors(
    header: bytes, payload: bytes, secret_list: list[str]
) -> None:
    assume(not secret_list or SECRET not in secret_list)
    with pytest.raises(WebhookVerificationError) as info:
        webhooks.unwrap(payload, [(b"aurous-webhook-signature", header)], secret=secret_list, now=T)
    for secret in secret_list:
        assert secret not in str(info.value)
