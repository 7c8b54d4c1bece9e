"""What an error carries: the host and the reason, the idempotency key, and never a secret.

Reliability case 10: a connection error names the host and why it failed; "more than 5
redirects" keeps the create's idempotency key; the API key is redacted from every request the
SDK attaches to an error (``exc.request``, ``exc.response.request``, the chained httpx error);
a webhook endpoint's signing secret is masked in its repr and str but still readable.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import aurous
from aurous.types import WebhookEndpoint

from .drills._support import KEY, Both, body, fixture

GEN = fixture("generation.pending.image")
ONE = fixture("generation.succeeded.image")


@pytest.fixture(params=["sync", "async"])
def both(request: pytest.FixtureRequest) -> Iterator[Both]:
    runner = Both(request.param)
    yield runner
    runner.close()


def _closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()
    return port


def test_connection_error_names_the_host_and_the_reason(both: Both) -> None:
    port = _closed_port()
    client = both.served(f"http://127.0.0.1:{port}", KEY, max_retries=0)
    with pytest.raises(aurous.APIConnectionError) as caught:
        both(client.images.create(prompt="x"))
    text = str(caught.value)
    assert f"127.0.0.1:{port}" in text
    assert "refused" in text.lower()
    assert caught.value.idempotency_key is not None


def test_redirect_loop_keeps_the_idempotency_key(both: Both) -> None:
    client = both.hostile(lambda r: httpx.Response(307, headers={"Location": "/v1/images"}))
    with pytest.raises(aurous.AurousError, match="redirects") as caught:
        both(client.images.create(prompt="x", idempotency_key="key-loop"))
    assert getattr(caught.value, "idempotency_key", None) == "key-loop"


# ---- the API key never travels with an error --------------------------------------------------


class _Broken(httpx.SyncByteStream, httpx.AsyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        yield b"\x89PNG"
        raise httpx.ReadError("connection reset by peer")

    async def __aiter__(self) -> Any:
        yield b"\x89PNG"
        raise httpx.ReadError("connection reset by peer")


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def _time_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def _same_origin_output(request: httpx.Request) -> httpx.Response:
    if "/output/" in request.url.path:
        return httpx.Response(200, headers={"Content-Length": "9999"}, stream=_Broken())
    generation = {**ONE, "output_urls": [f"https://api.test/v1/images/{ONE['id']}/output/0"]}
    return httpx.Response(200, json=generation)


Make = Callable[[Any, Path], Any]
ERROR_PATHS: dict[str, tuple[Callable[[httpx.Request], httpx.Response], Make]] = {
    "5xx": (
        lambda r: httpx.Response(500, json=fixture("error.internal_error")),
        lambda c, tmp: c.images.create(prompt="x"),
    ),
    "401": (
        lambda r: httpx.Response(401, json=fixture("error.invalid_api_key")),
        lambda c, tmp: c.images.retrieve("img_1"),
    ),
    "429": (
        lambda r: httpx.Response(
            429, json=fixture("error.rate_limited"), headers={"Retry-After": "999"}
        ),
        lambda c, tmp: c.images.retrieve("img_1"),
    ),
    "unreadable 200": (lambda r: body(200, b"{oops"), lambda c, tmp: c.images.create(prompt="x")),
    "bad gzip": (
        lambda r: body(200, b"nope", {"Content-Encoding": "gzip"}),
        lambda c, tmp: c.images.retrieve("img_1"),
    ),
    "connect error": (_refuse, lambda c, tmp: c.images.create(prompt="x")),
    "read timeout": (_time_out, lambda c, tmp: c.images.retrieve("img_1")),
    "redirect loop": (
        lambda r: httpx.Response(302, headers={"Location": "/v1/images/img_1"}),
        lambda c, tmp: c.images.retrieve("img_1"),
    ),
    "body broken mid-download": (
        _same_origin_output,
        lambda c, tmp: c.images.download(ONE["id"], tmp),
    ),
}


def _requests_of(error: BaseException) -> list[httpx.Request]:
    """Every request reachable from ``error``: its own, its response's, its causes'."""
    found: list[httpx.Request] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for holder in (current, getattr(current, "response", None)):
            try:
                request = getattr(holder, "request", None)
            except RuntimeError:  # an httpx error or response without a request
                request = None
            if isinstance(request, httpx.Request):
                found.append(request)
        current = current.__cause__ or current.__context__
    return found


@pytest.mark.parametrize("path", list(ERROR_PATHS))
def test_api_key_is_redacted_on_every_error_path(both: Both, path: str, tmp_path: Path) -> None:
    handler, make = ERROR_PATHS[path]
    client = both.hostile(handler, max_retries=0)

    with pytest.raises(aurous.AurousError) as caught:
        both(make(client, tmp_path))
    requests = _requests_of(caught.value)
    assert requests, f"{type(caught.value).__name__} carries no request"
    for request in requests:
        for name in ("x-api-key", "authorization"):
            assert KEY not in request.headers.get(name, ""), f"{name} in clear"
    assert KEY not in repr(caught.value)
    assert KEY not in str(caught.value)


PASSWORD = "hunter2-in-the-url"


def _output_behind_a_password(request: httpx.Request) -> httpx.Response:
    if "/output/" in request.url.path:
        return httpx.Response(200, headers={"Content-Length": "9999"}, stream=_Broken())
    url = f"https://someone:{PASSWORD}@api.test/v1/images/{ONE['id']}/output/0"
    return httpx.Response(200, json={**ONE, "output_urls": [url]})


@pytest.mark.parametrize("path", ["connect error", "read timeout", "body broken mid-download"])
def test_the_user_info_of_a_url_is_masked_in_the_error_and_the_log(
    both: Both, path: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    handler, make = ERROR_PATHS[path]
    if path == "body broken mid-download":
        handler = _output_behind_a_password
    client = both.hostile(handler, base_url=f"https://someone:{PASSWORD}@api.test")
    caplog.set_level(logging.INFO, logger="aurous")

    with pytest.raises(aurous.APIConnectionError) as caught:
        both(make(client, tmp_path))
    text = str(caught.value)
    assert "https://REDACTED:REDACTED@api.test/v1/" in text  # still says where it went
    assert PASSWORD not in text
    assert PASSWORD not in caught.value.message
    assert caplog.records, "the failure was not logged"
    assert PASSWORD not in caplog.text
    assert "someone" not in text + caplog.text


# ---- a webhook endpoint's secret is masked ------------------------------------------------------

SECRET = "whsec_" + "S3cr3t" * 6


def _endpoint() -> WebhookEndpoint:
    return WebhookEndpoint.model_validate({**fixture("webhook_endpoint.created"), "secret": SECRET})


def test_webhook_secret_is_masked_in_repr_and_str() -> None:
    endpoint = _endpoint()
    assert endpoint.secret == SECRET  # still usable
    for text in (repr(endpoint), str(endpoint), f"{endpoint}", repr([endpoint])):
        assert SECRET not in text
        assert SECRET[:12] not in text
    assert "secret=" in repr(endpoint)
    # The rest of the repr is intact, and a row without a secret says so.
    assert endpoint.id in repr(endpoint)
    assert "secret=None" in repr(WebhookEndpoint.model_validate(fixture("webhook_endpoint")))


def test_webhook_secret_is_masked_when_created_through_the_client(both: Both) -> None:
    from aurous.emulator import Emulator

    emu = Emulator(clock="manual")
    client = both.emulated(emu)
    endpoint = both(
        client.webhook_endpoints.create(url="https://hooks.example.com/aurous", events=["*"])
    )
    assert endpoint.secret is not None
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret not in repr(endpoint)
    assert endpoint.secret not in str(endpoint)
    emu.close()
