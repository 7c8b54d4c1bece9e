"""Wire behaviour of the transport, for both clients: headers, idempotency, retries, redirects."""

from __future__ import annotations

import logging
import uuid
import warnings
from typing import Any

import httpx
import pytest
import respx

import aurous

from .conftest import API, KEY, RecordingClock, Runner, fixture

GEN = fixture("generation.pending.image")
GID = GEN["id"]


def error_response(status: int, name: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=fixture(f"error.{name}"), headers=headers or {})


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        yield router


def test_headers_on_every_request(run: Runner, api: respx.Router) -> None:
    route = api.get(API + f"/v1/images/{GID}").respond(200, json=GEN)
    client = run.client(default_headers={"X-Trace": "t1"})
    g = run(lambda c: c.images.retrieve(GID))
    assert g.id == GID
    headers = route.calls.last.request.headers
    assert headers["x-api-key"] == KEY
    assert headers["aurous-version"] == "2026-05-15"
    assert headers["accept"] == "application/json"
    assert headers["x-trace"] == "t1"
    assert headers["user-agent"].startswith(f"aurous-python/{aurous.__version__} python/3.")
    assert "idempotency-key" not in headers
    assert client.api_version == "2026-05-15"


def test_api_version_none_sends_no_header(run: Runner, api: respx.Router) -> None:
    route = api.get(API + "/v1/balance").respond(200, json=fixture("balance"))
    run.client(api_version=None)
    run(lambda c: c.balance.retrieve())
    assert "aurous-version" not in route.calls.last.request.headers


def test_idempotency_key_reused_across_500_then_201(
    run: Runner, api: respx.Router, clock: RecordingClock
) -> None:
    route = api.post(API + "/v1/images")
    route.side_effect = [error_response(500, "internal_error"), httpx.Response(201, json=GEN)]
    run.client()._set_clock(clock)
    g = run(lambda c: c.images.create(prompt="a lighthouse"))
    keys = [call.request.headers["idempotency-key"] for call in route.calls]
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert uuid.UUID(keys[0]).version == 4
    assert g._response is not None
    assert g._response.idempotency_key == keys[0]
    assert len(clock.sleeps) == 1


def test_idempotency_key_reused_after_dropped_connection(
    run: Runner, api: respx.Router, clock: RecordingClock
) -> None:
    route = api.post(API + "/v1/images")
    route.side_effect = [httpx.RemoteProtocolError("peer closed"), httpx.Response(201, json=GEN)]
    run.client()._set_clock(clock)
    run(lambda c: c.images.create(prompt="a lighthouse"))
    keys = {call.request.headers["idempotency-key"] for call in route.calls}
    assert route.call_count == 2
    assert len(keys) == 1


def test_caller_supplied_idempotency_key(run: Runner, api: respx.Router) -> None:
    route = api.post(API + "/v1/images").respond(201, json=GEN)
    run(lambda c: c.images.create(prompt="x", idempotency_key="order-42"))
    assert route.calls.last.request.headers["idempotency-key"] == "order-42"


def test_409_in_flight_is_retried_until_replay(
    run: Runner, api: respx.Router, clock: RecordingClock
) -> None:
    route = api.post(API + "/v1/images")
    route.side_effect = [
        error_response(409, "idempotency_key_in_use"),
        httpx.Response(201, json=GEN, headers={"Aurous-Idempotent-Replayed": "true"}),
    ]
    run.client()._set_clock(clock)
    g = run(lambda c: c.images.create(prompt="x"))
    assert route.call_count == 2
    assert g._response.replayed is True
    keys = {call.request.headers["idempotency-key"] for call in route.calls}
    assert len(keys) == 1


def test_429_honours_retry_after(run: Runner, api: respx.Router, clock: RecordingClock) -> None:
    route = api.get(API + "/v1/balance")
    route.side_effect = [
        error_response(429, "rate_limited", {"Retry-After": "7"}),
        httpx.Response(200, json=fixture("balance")),
    ]
    run.client()._set_clock(clock)
    run(lambda c: c.balance.retrieve())
    assert clock.sleeps == [7.0]


def test_429_waits_for_reset_when_no_retry_after(
    run: Runner, api: respx.Router, clock: RecordingClock
) -> None:
    import time

    reset = int(time.time()) + 4
    route = api.get(API + "/v1/balance")
    route.side_effect = [
        error_response(429, "rate_limited", {"RateLimit-Reset": str(reset)}),
        httpx.Response(200, json=fixture("balance")),
    ]
    run.client()._set_clock(clock)
    run(lambda c: c.balance.retrieve())
    assert 2.0 <= clock.sleeps[0] <= 5.0


def test_429_retry_after_really_waits(run: Runner, api: respx.Router) -> None:
    import time

    route = api.get(API + "/v1/balance")
    route.side_effect = [
        error_response(429, "rate_limited", {"Retry-After": "1"}),
        httpx.Response(200, json=fixture("balance")),
    ]
    started = time.monotonic()
    run(lambda c: c.balance.retrieve())
    assert time.monotonic() - started >= 1.0
    assert route.call_count == 2


def test_400_is_never_retried(run: Runner, api: respx.Router, clock: RecordingClock) -> None:
    route = api.post(API + "/v1/images").mock(
        return_value=error_response(400, "value_out_of_range")
    )
    run.client()._set_clock(clock)
    with pytest.raises(aurous.InvalidRequestError) as info:
        # A body the SDK sends (count=9 is refused before sending); the server refuses it.
        run(lambda c: c.images.create(prompt="x", count=4))
    assert route.call_count == 1
    assert clock.sleeps == []
    err = info.value
    body = fixture("error.value_out_of_range")["error"]
    assert err.status_code == 400
    assert err.type == "invalid_request"
    assert err.code == body["code"]
    assert err.param == body["param"]
    assert err.message == body["message"]
    assert err.request_id == body["request_id"]
    assert err.doc_url == body["doc_url"]
    assert err.idempotency_key == route.calls.last.request.headers["idempotency-key"]


def test_retries_give_up_after_max_retries(
    run: Runner, api: respx.Router, clock: RecordingClock
) -> None:
    route = api.get(API + "/v1/balance").mock(return_value=error_response(503, "internal_error"))
    run.client(max_retries=2)._set_clock(clock)
    with pytest.raises(aurous.ServerError):
        run(lambda c: c.balance.retrieve())
    assert route.call_count == 3
    assert len(clock.sleeps) == 2
    assert all(0.25 <= s <= 8.0 for s in clock.sleeps)


def test_post_without_idempotency_is_not_retried_after_it_may_have_arrived(
    run: Runner, api: respx.Router, clock: RecordingClock
) -> None:
    route = api.post(API + "/v1/webhook_endpoints").mock(side_effect=httpx.ReadError("reset"))
    run.client()._set_clock(clock)
    with pytest.raises(aurous.APIConnectionError):
        run(lambda c: c.webhook_endpoints.create(url="https://x.test/h", events=["*"]))
    assert route.call_count == 1


def test_post_without_idempotency_is_retried_when_never_sent(
    run: Runner, api: respx.Router, clock: RecordingClock
) -> None:
    route = api.post(API + "/v1/webhook_endpoints")
    route.side_effect = [
        httpx.ConnectError("refused"),
        httpx.Response(201, json=fixture("webhook_endpoint.created")),
    ]
    run.client()._set_clock(clock)
    endpoint = run(lambda c: c.webhook_endpoints.create(url="https://x.test/h", events=["*"]))
    assert endpoint.secret
    assert route.call_count == 2


def test_308_same_origin_post_is_resent_with_body(run: Runner, api: respx.Router) -> None:
    api.post(API + "/v1/images").respond(308, headers={"Location": f"{API}/v1/images-new"})
    target = api.post(API + "/v1/images-new").respond(201, json=GEN)
    run(lambda c: c.images.create(prompt="a lighthouse", count=2))
    request = target.calls.last.request
    assert request.method == "POST"
    assert request.headers["x-api-key"] == KEY
    assert "idempotency-key" in request.headers
    assert request.read() == b'{"prompt":"a lighthouse","count":2}'


def test_cross_origin_redirect_drops_credentials(run: Runner, api: respx.Router) -> None:
    api.get(API + f"/v1/images/{GID}").respond(
        308, headers={"Location": "https://elsewhere.test/x"}
    )
    foreign = api.get("https://elsewhere.test/x").respond(200, json=GEN)
    run(lambda c: c.images.retrieve(GID))
    headers = foreign.calls.last.request.headers
    assert "x-api-key" not in headers
    assert "authorization" not in headers
    assert "idempotency-key" not in headers


def test_redirect_loop_is_bounded(run: Runner, api: respx.Router) -> None:
    route = api.get(API + "/v1/balance").respond(308, headers={"Location": f"{API}/v1/balance"})
    with pytest.raises(aurous.AurousError, match="redirects"):
        run(lambda c: c.balance.retrieve())
    assert route.call_count == 6


def test_deprecation_header_warns_once_per_route(run: Runner, api: respx.Router) -> None:
    path = f"/v1/deprecated-{run.mode}"
    api.get(API + path).respond(
        308, headers={"Location": f"{API}/v1/balance", "Aurous-Deprecated": "route"}
    )
    api.get(API + "/v1/balance").respond(200, json=fixture("balance"))
    client = run.client()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            run(lambda c: _runner(c)(c, _get(path)))
    messages = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(messages) == 1
    assert path in str(messages[0].message)
    assert client is not None


def _runner(client: Any) -> Any:
    from aurous._drivers import run_async, run_sync

    return run_async if client._is_async else run_sync


def _get(path: str):  # a raw one-call step generator for routes the SDK does not expose
    from aurous._call import Call
    from aurous.types import Balance

    return iter(Call("GET", path, parse=Balance.model_validate))


@pytest.mark.parametrize(
    ("status", "name", "cls"),
    [
        (402, "balance_too_low", aurous.InsufficientBalanceError),
        (409, "idempotency_key_in_use", aurous.IdempotencyKeyInUseError),
        (401, "invalid_api_key", aurous.AuthenticationError),
        (401, "missing_api_key", aurous.AuthenticationError),
        (403, "missing_scope", aurous.PermissionDeniedError),
        (404, "resource_not_found", aurous.NotFoundError),
        (410, "output_expired", aurous.OutputExpiredError),
        (422, "output_not_available", aurous.InvalidRequestError),
        (429, "concurrency_limit_exceeded", aurous.RateLimitError),
        (400, "unknown_version", aurous.InvalidRequestError),
        (500, "internal_error", aurous.ServerError),
    ],
)
def test_error_classes(run: Runner, api: respx.Router, status: int, name: str, cls: type) -> None:
    api.get(API + "/v1/team").mock(return_value=error_response(status, name, {"Retry-After": "0"}))
    run.client(max_retries=0)
    with pytest.raises(cls) as info:
        run(lambda c: c.team.retrieve())
    assert info.value.status_code == status
    assert info.value.code == fixture(f"error.{name}")["error"]["code"]
    assert isinstance(info.value, aurous.APIStatusError)


def test_rate_limit_error_exposes_retry_after(run: Runner, api: respx.Router) -> None:
    api.get(API + "/v1/team").mock(
        return_value=error_response(429, "rate_limited", {"Retry-After": "3"})
    )
    run.client(max_retries=0)
    with pytest.raises(aurous.RateLimitError) as info:
        run(lambda c: c.team.retrieve())
    assert info.value.retry_after == 3.0


def test_non_json_error_body_still_typed(run: Runner, api: respx.Router) -> None:
    html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    api.get(API + "/v1/team").respond(502, text=html, headers={"Content-Type": "text/html"})
    run.client(max_retries=0)
    with pytest.raises(aurous.ServerError) as info:
        run(lambda c: c.team.retrieve())
    assert info.value.status_code == 502
    assert info.value.code is None
    assert "502 Bad Gateway" in str(info.value)


def test_legacy_code_spellings_map_to_modern_classes(run: Runner, api: respx.Router) -> None:
    body = {"error": {"type": "invalid_request_error", "code": "insufficient_credits",
                      "message": "no credits", "request_id": "req_1"}}  # fmt: skip
    api.post(API + "/v1/images").respond(402, json=body)
    with pytest.raises(aurous.InsufficientBalanceError) as info:
        run(lambda c: c.images.create(prompt="x"))
    assert info.value.type == "invalid_request"
    assert info.value.code == "balance_too_low"


def test_key_never_leaks(
    run: Runner, api: respx.Router, caplog: pytest.LogCaptureFixture, clock: RecordingClock
) -> None:
    api.get(API + "/v1/team").mock(
        side_effect=[error_response(500, "internal_error"), error_response(401, "invalid_api_key")]
    )
    client = run.client()
    client._set_clock(clock)
    with caplog.at_level(logging.DEBUG, logger="aurous"):
        with pytest.raises(aurous.AuthenticationError) as info:
            run(lambda c: c.team.retrieve())
    assert KEY not in repr(client)
    assert KEY not in str(info.value)
    assert KEY not in repr(info.value)
    assert KEY not in caplog.text
    assert "/v1/team" in caplog.text


def test_missing_api_key_names_env_var(monkeypatch: pytest.MonkeyPatch, run: Runner) -> None:
    monkeypatch.delenv("AUROUS_API_KEY", raising=False)
    with pytest.raises(aurous.AurousError, match="AUROUS_API_KEY"):
        run.client(api_key=None)


def test_env_configuration(monkeypatch: pytest.MonkeyPatch, run: Runner, api: respx.Router) -> None:
    monkeypatch.setenv("AUROUS_API_KEY", "al_live_env")
    monkeypatch.setenv("AUROUS_BASE_URL", API)
    route = api.get(API + "/v1/team").respond(200, json=fixture("team"))
    cls = aurous.AsyncClient if run.is_async else aurous.Client
    run.clients.append(cls())
    run(lambda c: c.team.retrieve())
    assert route.calls.last.request.headers["x-api-key"] == "al_live_env"


def test_header_injection_refused_before_sending(run: Runner, api: respx.Router) -> None:
    route = api.get(API + "/v1/team").respond(200, json=fixture("team"))
    with pytest.raises(ValueError, match="X-Evil"):
        run(lambda c: c.team.retrieve(extra_headers={"X-Evil": "a\r\nX-Api-Key: stolen"}))
    with pytest.raises(ValueError, match="line break"):
        run.client(api_key="key\nInjected: 1")
    assert route.call_count == 0


def test_wrong_argument_types_raise_before_sending(run: Runner, api: respx.Router) -> None:
    route = api.post(API + "/v1/images").respond(201, json=GEN)
    with pytest.raises(TypeError, match="count"):
        run(lambda c: c.images.create(prompt="x", count="2"))
    with pytest.raises(TypeError, match="prompt"):
        run(lambda c: c.images.create(prompt=42))
    with pytest.raises(TypeError, match="prompt"):
        run(lambda c: c.images.create(size="2k_1_1"))
    with pytest.raises(TypeError, match="promt"):
        run(lambda c: c.images.create(prompt="x", promt="typo"))
    with pytest.raises(ValueError, match="size"):
        run(lambda c: c.images.create(prompt="x", size="2k_1_1", width=1024, height=1024))
    with pytest.raises(ValueError, match="height"):
        run(lambda c: c.images.create(prompt="x", width=1024))
    assert route.call_count == 0


def test_per_call_timeout_and_extras(run: Runner, api: respx.Router) -> None:
    route = api.post(API + "/v1/images").respond(201, json=GEN)
    run(
        lambda c: c.images.create(
            prompt="x",
            timeout=3.5,
            extra_headers={"X-Extra": "1"},
            extra_query={"debug": "yes"},
            extra_body={"future_field": True},
        )
    )
    request = route.calls.last.request
    assert request.headers["x-extra"] == "1"
    assert request.url.params["debug"] == "yes"
    assert request.read() == b'{"prompt":"x","future_field":true}'
    # A per-call number bounds the whole call: each phase is capped by the time left of 3.5 s.
    assert 3.4 < request.extensions["timeout"]["read"] <= 3.5


def test_timeout_raises_typed_error(run: Runner, api: respx.Router, clock: RecordingClock) -> None:
    route = api.get(API + "/v1/team").mock(side_effect=httpx.ReadTimeout("slow"))
    run.client(max_retries=1)._set_clock(clock)
    with pytest.raises(aurous.APITimeoutError):
        run(lambda c: c.team.retrieve())
    assert route.call_count == 2


def test_result_exposes_request_id_and_rate_limit(run: Runner, api: respx.Router) -> None:
    headers = {
        "Aurous-Request-Id": "req_01KS2QK8QCD5P89H0RD921BY89",
        "X-RateLimit-Limit": "1200",
        "X-RateLimit-Remaining": "1187",
        "X-RateLimit-Reset": "1779282180",
    }
    api.get(API + "/v1/balance").respond(200, json=fixture("balance"), headers=headers)
    balance = run(lambda c: c.balance.retrieve())
    assert balance._request_id == "req_01KS2QK8QCD5P89H0RD921BY89"
    assert balance._response.status_code == 200
    assert balance._response.headers["x-ratelimit-limit"] == "1200"
    assert balance._response.rate_limit.remaining == 1187
    assert balance._response.rate_limit.limit == 1200
    assert balance._response.rate_limit.reset == 1779282180


def test_with_options_shares_the_pool(run: Runner, api: respx.Router) -> None:
    route = api.get(API + "/v1/team").respond(200, json=fixture("team"))
    client = run.client()
    other = client.with_options(max_retries=0, default_headers={"X-Other": "1"})
    run.clients.append(other)
    run(lambda c: c.team.retrieve())
    assert other._http is client._http
    assert other.max_retries == 0
    assert route.calls.last.request.headers["x-other"] == "1"
    with pytest.raises(TypeError, match="bogus"):
        client.with_options(bogus=1)


def test_user_http_client_is_not_closed(run: Runner) -> None:
    http = httpx.AsyncClient() if run.is_async else httpx.Client()
    cls = aurous.AsyncClient if run.is_async else aurous.Client
    client = cls(api_key=KEY, http_client=http)
    run.resolve(client.close())
    assert not http.is_closed
    run.resolve(http.aclose() if run.is_async else http.close())
