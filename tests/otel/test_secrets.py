"""Nothing secret in any span: not the API key, a webhook secret or an output URL's token.

A full run over a real socket (the served emulator): a webhook endpoint created (its secret comes
back), a retried create, a wait, a download through signed output URLs, a failed call and a
batch, on both clients; then every exported span is scanned whole, as its JSON export.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

import aurous
from aurous._otel import redact
from aurous.emulator import Emulator

from .conftest import Telemetry

EVENTS = ["image.completed"]


def _secrets(endpoint_secret: str, generations: list[aurous.Generation]) -> list[str]:
    tokens = [
        token
        for generation in generations
        for url in generation.outputs
        for token in parse_qs(urlsplit(url).query).get("token", [])
    ]
    assert len(tokens) == len(generations)  # the scan looks for something real
    return [endpoint_secret, *tokens]


def _scan(telemetry: Telemetry, secrets: list[str], api_key: str) -> str:
    exported = "\n".join(span.to_json() for span in telemetry.spans())
    assert api_key not in exported
    for secret in secrets:
        assert secret not in exported
    assert "whsec_" not in exported
    assert "token=" not in exported
    for span in telemetry.spans():
        assert "?" not in str((span.attributes or {}).get("url.full", ""))
    return exported


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_no_secret_reaches_any_span(mode: str, telemetry: Telemetry, tmp_path: Path) -> None:
    emu = Emulator(instant=True, webhook_sender=lambda outgoing: 200)
    with emu.serve() as server:
        options = {"api_key": emu.api_key, "base_url": server.base_url, **telemetry.providers}
        emu.faults.fail_next("POST /v1/images", status=503)
        if mode == "sync":
            with aurous.Client(**options) as client:
                endpoint = client.webhook_endpoints.create(
                    url="https://example.com/hooks", events=EVENTS
                )
                client.webhook_endpoints.list()
                generation = client.images.create_and_wait(
                    prompt="a lighthouse", poll_interval=0.05
                )
                client.images.download(generation, tmp_path / "one")
                with pytest.raises(aurous.NotFoundError):
                    client.images.retrieve("img_01KS2DH0GPE2Y1X16JH0Z1Y2GF")
                results = client.images.batch(
                    ["a", "b"], download_to=tmp_path / "batch", poll_interval=0.05
                )
        else:

            async def go() -> tuple[
                aurous.types.WebhookEndpoint, aurous.Generation, list[aurous.BatchResult]
            ]:
                async with aurous.AsyncClient(**options) as client:
                    endpoint = await client.webhook_endpoints.create(
                        url="https://example.com/hooks", events=EVENTS
                    )
                    await client.webhook_endpoints.list()
                    generation = await client.images.create_and_wait(
                        prompt="a lighthouse", poll_interval=0.05
                    )
                    await client.images.download(generation, tmp_path / "one")
                    with pytest.raises(aurous.NotFoundError):
                        await client.images.retrieve("img_01KS2DH0GPE2Y1X16JH0Z1Y2GF")
                    results = await client.images.batch(
                        ["a", "b"], download_to=tmp_path / "b", poll_interval=0.05
                    )
                    return endpoint, generation, results

            endpoint, generation, results = asyncio.run(go())
    assert endpoint.secret is not None
    generations = [generation, *(r.generation for r in results if r.generation is not None)]
    exported = _scan(telemetry, _secrets(endpoint.secret, generations), emu.api_key)
    # The scan read real spans: the identity of what was made is there.
    assert generation.id in exported
    assert "webhook_endpoints.create" in exported
    assert '"http.request.resend_count": 1' in exported


def test_an_api_key_in_the_callers_own_code_stays_out_of_the_exception(
    telemetry: Telemetry,
) -> None:
    emu = Emulator(clock="manual")
    client = emu.client(**telemetry.providers)
    key = emu.api_key
    with pytest.raises(aurous.NotFoundError):
        client.images.retrieve(f"img_{key}")  # the key on the very line the stack shows
    [span] = telemetry.named("images.retrieve")
    exported = span.to_json()
    assert key not in exported
    assert "[redacted]" in exported


def test_redact_takes_out_keys_secrets_queries_and_user_info() -> None:
    text = (
        "GET https://u:p@cdn.test/a.png?token=abc&x=1 failed with al_live_KEY and whsec_ABC+/= "
        "then http://api.test/v1?q=2."
    )
    assert redact(text, "al_live_KEY") == (
        "GET https://REDACTED:REDACTED@cdn.test/a.png failed with [redacted] and "
        "whsec_[redacted] then http://api.test/v1"
    )
