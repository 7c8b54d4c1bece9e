"""Every namespace and method of both clients, as a type checker sees them.

This file is checked with ``mypy --strict`` in CI: each ``assert_type`` pins the exact result type of
a call (a sync method returns the model, the same async method a coroutine of it; lists return
auto-paging pages), so a change that loosens the SDK's types — or makes something ``Any`` — fails
the check. The functions are never called here; nothing in this file touches the network.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

from typing_extensions import assert_type

import aurous
from aurous import NOT_GIVEN
from aurous.streams import SyncStream
from aurous.types import (
    Balance,
    Character,
    CharacterDeleted,
    CharacterUpload,
    Estimate,
    Event,
    File,
    FileDeleted,
    Generation,
    Lora,
    Pricing,
    Team,
    UploadClassification,
    UsageBucket,
    UsageEvent,
    VideoLora,
    WebhookEndpoint,
    WebhookEndpointDeleted,
    WebhookTestFire,
)

IMAGE_ID = "img_01KS2G3DEJ5QY9C5Y7E3TGR1JQ"
VIDEO_ID = "vid_01KS2FH384HD535F6G5AQW417P"
FILE_ID = "file_01KS2CYP90WE5PBC1J4HM0HD90"
ENDPOINT_ID = "we_01KS08JJR033RZ9KJ5SJB5Q8B1"
CHARACTER_ID = "char_01KRX8ED80MGJ5N55BA73RARM1"
UPLOAD_ID = "upl_01KRX8AR20K4JY7JD5M1NWXS5Y"


# ---- sync ---------------------------------------------------------------------------------------


def sync_generations(client: aurous.Client) -> None:
    """Images and videos: create, estimate, retrieve, cancel, list."""
    g = client.images.create(
        prompt="A golden retriever wearing sunglasses, cinematic lighting",
        negative_prompt="blurry, low quality",
        lora_id="golden-hour-photography",
        size="2k_16_9",
        count=2,
        seed=42,
        webhook_url="https://example.com/hooks/aurous",
        idempotency_key="order-8812-hero",
        timeout=30.0,
    )
    assert_type(g, Generation)
    assert_type(g.is_terminal, bool)
    assert_type(
        client.images.create(
            prompt="Koi pond from above",
            loras=[
                {"lora": "acme-ink-wash", "weight": 0.5},
                {"lora": "lora_01KJKB3Q000MP4314Q6EWM27HK"},
            ],
            width=2048,
            height=1536,
        ),
        Generation,
    )
    assert_type(client.images.estimate(prompt="a lighthouse at dusk", size="4k_1_1"), Estimate)
    assert_type(client.images.retrieve(IMAGE_ID), Generation)
    assert_type(client.images.cancel(IMAGE_ID, max_retries=0), Generation)

    page = client.images.list(limit=50)
    assert_type(page.data, list[Generation])
    assert_type(page.has_more, bool)
    assert_type(page.next_cursor, str | None)
    for generation in page:
        assert_type(generation, Generation)
    for each_page in page.iter_pages():
        assert_type(each_page.data, list[Generation])

    video = client.videos.create(
        video_lora_id="seedance-1-pro",
        prompt="A golden sunset over the ocean with gentle waves",
        resolution="720p",
        ratio="16:9",
        duration=5,
        camera_fixed=False,
    )
    assert_type(video, Generation)
    assert_type(
        client.videos.create(first_frame_url=FILE_ID, last_frame_url="https://example.com/b.jpg"),
        Generation,
    )
    assert_type(client.videos.estimate(prompt="waves", resolution="1080p", duration=8), Estimate)
    assert_type(client.videos.retrieve(VIDEO_ID), Generation)
    assert_type(client.videos.cancel(VIDEO_ID), Generation)


def sync_catalogue_and_account(client: aurous.Client) -> None:
    """LoRAs, video LoRAs, balance, pricing, team."""
    loras = client.loras.list()
    for lora in loras:
        assert_type(lora, Lora)
    assert_type(loras._request_id, str | None)
    assert_type(client.loras.retrieve("golden-hour-photography"), Lora)
    for video_lora in client.video_loras.list():
        assert_type(video_lora, VideoLora)
    assert_type(client.video_loras.retrieve("seedance-1-pro"), VideoLora)
    assert_type(client.balance.retrieve(), Balance)
    assert_type(client.pricing.retrieve(), Pricing)
    assert_type(client.team.retrieve(), Team)


def sync_usage(client: aurous.Client) -> None:
    """Usage buckets (``page_token``) and usage events (``cursor``)."""
    since = datetime.now(timezone.utc) - timedelta(days=7)
    buckets = client.usage.list(
        start_time=since,
        end_time="2026-05-21T00:00:00Z",
        bucket_width="1d",
        group_by=["type", "status"],
        status=["completed", "failed"],
        type=["t2i", "t2v"],
        api_key_id="apikey_01KEZFGGZ0NC5C0E0YKKT67TQ1",
        lora_id="lora_01KJKB3Q000MP4314Q6EWM27HK",
        character_id=CHARACTER_ID,
        limit=24,
    )
    for bucket in buckets:
        assert_type(bucket, UsageBucket)
    events = client.usage.list_events(
        start_time=since, type=["image", "video"], status="completed", user_id="u_1", limit=500
    )
    assert_type(events.data, list[UsageEvent])
    for event in events:
        assert_type(event, UsageEvent)


def sync_files(client: aurous.Client, path: Path) -> None:
    """Upload from a path, bytes, a file object or a tuple; retrieve; delete."""
    assert_type(client.files.create(file=path, purpose="reference"), File)
    assert_type(client.files.create(file=str(path), purpose="first_frame"), File)
    assert_type(client.files.create(file=path.read_bytes(), purpose="last_frame"), File)
    with path.open("rb") as handle:
        assert_type(
            client.files.create(file=handle, purpose="reference", metadata={"campaign": "x"}),
            File,
        )
    assert_type(
        client.files.create(file=("ref.png", io.BytesIO(b"..."), "image/png"), purpose="reference"),
        File,
    )
    assert_type(client.files.retrieve(FILE_ID), File)
    deleted = client.files.delete(FILE_ID)
    assert_type(deleted, FileDeleted)
    assert_type(deleted.deleted, bool)


def sync_webhook_endpoints(client: aurous.Client) -> None:
    """Create (store the secret!), list, retrieve, update, rotate, test, delete."""
    endpoint = client.webhook_endpoints.create(
        url="https://api.acme.dev/aurous-webhook",
        events=["image.completed", "image.failed"],
        description="production receiver",
        metadata={"team": "platform"},
    )
    assert_type(endpoint, WebhookEndpoint)
    assert_type(endpoint.secret, str | None)
    assert_type(
        client.webhook_endpoints.create(url="https://x.dev/h", events=["*"]), WebhookEndpoint
    )
    for listed in client.webhook_endpoints.list(limit=100):
        assert_type(listed, WebhookEndpoint)
    assert_type(client.webhook_endpoints.retrieve(ENDPOINT_ID), WebhookEndpoint)
    assert_type(
        client.webhook_endpoints.update(
            ENDPOINT_ID, events=["*"], description=None, metadata={}, is_active=True
        ),
        WebhookEndpoint,
    )
    assert_type(
        client.webhook_endpoints.update(ENDPOINT_ID, url="https://x.dev/v2", description=NOT_GIVEN),
        WebhookEndpoint,
    )
    assert_type(client.webhook_endpoints.rotate_secret(ENDPOINT_ID), WebhookEndpoint)
    assert_type(
        client.webhook_endpoints.test(ENDPOINT_ID, event_type="image.completed"), WebhookTestFire
    )
    assert_type(client.webhook_endpoints.delete(ENDPOINT_ID), WebhookEndpointDeleted)


def sync_characters(client: aurous.Client, front: Path) -> None:
    """The upload flow, the synthesize flow, and managing characters."""
    ticket = client.characters.uploads.init(
        filename="aurora-front.jpg", extension="jpg", content_type="image/jpeg"
    )
    assert_type(ticket, CharacterUpload)
    assert_type(client.characters.uploads.init(filename="aurora-side.png"), CharacterUpload)
    assert_type(client.characters.uploads.upload(ticket, front), None)
    assert_type(client.characters.uploads.classify(ticket.upload_id), UploadClassification)

    made = client.characters.create(
        name="Aurora the Adventurer",
        upload_ids=[ticket.upload_id, UPLOAD_ID],
        attributes={"gender": "female", "age": 28, "hair_color": "black"},
    )
    assert_type(made, Character)
    assert_type(made.is_ready, bool)
    assert_type(
        client.characters.create(
            name="Professor Okafor",
            generate=True,
            attributes={"age": 41, "additional_details": "round wire-frame glasses"},
            client_reference_id="crm-contact-88412",
        ),
        Character,
    )
    for character in client.characters.list(limit=20):
        assert_type(character, Character)
    assert_type(client.characters.retrieve(CHARACTER_ID), Character)
    assert_type(client.characters.update(CHARACTER_ID, name="Aurora"), Character)
    assert_type(
        client.characters.update(CHARACTER_ID, attributes={"eye_color": "green"}), Character
    )
    assert_type(client.characters.save(CHARACTER_ID), Character)
    assert_type(client.characters.resynthesize(CHARACTER_ID), Character)
    assert_type(
        client.characters.resynthesize(CHARACTER_ID, force_all=True, idempotency_key="k-1"),
        Character,
    )
    assert_type(client.characters.regenerate_ref(CHARACTER_ID, pose="side"), Character)
    assert_type(
        client.characters.regenerate_ref(CHARACTER_ID, pose="back", prompt_override="in the rain"),
        Character,
    )
    assert_type(client.characters.delete(CHARACTER_ID), CharacterDeleted)


def sync_webhooks(client: aurous.Client, body: bytes, headers: dict[str, str]) -> None:
    """Webhook verification needs no I/O; the same helpers exist on the module."""
    secret = "whsec_" + "A" * 32
    header = aurous.webhooks.sign(body, secret)
    assert_type(header, str)
    assert_type(aurous.webhooks.verify(body, header, [secret, "whsec_old"]), Event)
    assert_type(client.webhooks.unwrap(body, headers), Event)
    assert_type(aurous.webhooks.parse_callback(body), Event)


# ---- async --------------------------------------------------------------------------------------


async def async_generations(client: aurous.AsyncClient) -> None:
    """The same methods, awaited; lists are iterated with ``async for`` (no await)."""
    assert_type(await client.images.create(prompt="a lighthouse at dusk"), Generation)
    assert_type(await client.images.estimate(prompt="a lighthouse at dusk"), Estimate)
    assert_type(await client.images.retrieve(IMAGE_ID), Generation)
    assert_type(await client.images.cancel(IMAGE_ID), Generation)
    async for generation in client.images.list(limit=50):
        assert_type(generation, Generation)
    first = await client.images.list()
    assert_type(first.data, list[Generation])
    assert_type(first.next_cursor, str | None)
    async for each_page in first.iter_pages():
        assert_type(each_page.has_more, bool)
    assert_type(
        await client.videos.create(video_lora_id="seedance-1-pro", prompt="waves"), Generation
    )
    assert_type(await client.videos.estimate(prompt="waves"), Estimate)
    assert_type(await client.videos.retrieve(VIDEO_ID), Generation)
    assert_type(await client.videos.cancel(VIDEO_ID), Generation)


async def async_catalogue_account_usage(client: aurous.AsyncClient) -> None:
    for lora in await client.loras.list():
        assert_type(lora, Lora)
    assert_type(await client.loras.retrieve("acme-ink-wash"), Lora)
    for video_lora in await client.video_loras.list():
        assert_type(video_lora, VideoLora)
    assert_type(await client.video_loras.retrieve("seedance-1-pro"), VideoLora)
    assert_type(await client.balance.retrieve(), Balance)
    assert_type(await client.pricing.retrieve(), Pricing)
    assert_type(await client.team.retrieve(), Team)
    async for bucket in client.usage.list(start_time=datetime(2026, 5, 1), bucket_width="1h"):
        assert_type(bucket, UsageBucket)
    async for event in client.usage.list_events(start_time="2026-05-20T00:00:00Z"):
        assert_type(event, UsageEvent)


async def async_files_and_endpoints(client: aurous.AsyncClient, path: Path) -> None:
    assert_type(await client.files.create(file=path, purpose="reference"), File)
    assert_type(await client.files.retrieve(FILE_ID), File)
    assert_type(await client.files.delete(FILE_ID), FileDeleted)
    endpoint = await client.webhook_endpoints.create(url="https://x.dev/h", events=["*"])
    assert_type(endpoint, WebhookEndpoint)
    async for listed in client.webhook_endpoints.list():
        assert_type(listed, WebhookEndpoint)
    assert_type(await client.webhook_endpoints.retrieve(endpoint.id), WebhookEndpoint)
    assert_type(
        await client.webhook_endpoints.update(endpoint.id, is_active=False), WebhookEndpoint
    )
    assert_type(await client.webhook_endpoints.rotate_secret(endpoint.id), WebhookEndpoint)
    assert_type(
        await client.webhook_endpoints.test(endpoint.id, event_type="character.completed"),
        WebhookTestFire,
    )
    assert_type(await client.webhook_endpoints.delete(endpoint.id), WebhookEndpointDeleted)


async def async_characters(client: aurous.AsyncClient, front: bytes) -> None:
    ticket = await client.characters.uploads.init(filename="front.webp")
    assert_type(ticket, CharacterUpload)
    assert_type(await client.characters.uploads.upload(ticket, front), None)
    assert_type(await client.characters.uploads.classify(ticket.upload_id), UploadClassification)
    made = await client.characters.create(name="Aurora", upload_ids=[ticket.upload_id])
    assert_type(made, Character)
    async for character in client.characters.list():
        assert_type(character, Character)
    assert_type(await client.characters.retrieve(made.id), Character)
    assert_type(await client.characters.update(made.id, name="Aurora II"), Character)
    assert_type(await client.characters.save(made.id), Character)
    assert_type(await client.characters.resynthesize(made.id), Character)
    assert_type(await client.characters.regenerate_ref(made.id, pose="portrait"), Character)
    assert_type(await client.characters.delete(made.id), CharacterDeleted)


def clients() -> tuple[aurous.Client, aurous.AsyncClient]:
    """How the two clients are built (key from ``AUROUS_API_KEY`` when not given)."""
    client = aurous.Client(api_key="al_live_example", max_retries=5, timeout=120.0)
    aclient = aurous.AsyncClient(api_key="al_live_example", default_headers={"X-Team": "web"})
    return client, aclient


def sync_helpers(client: aurous.Client, out: Path) -> None:
    """Waiting, downloading and batches."""
    seen: list[str] = []
    created = client.images.create(prompt="a lighthouse at dusk")
    done = client.images.wait(created, timeout=300, on_update=lambda g: seen.append(g.status))
    assert_type(done, Generation)
    assert_type(client.images.create_and_wait(prompt="x", raise_on_failure=True), Generation)
    assert_type(client.videos.create_and_wait(prompt="waves", resolution="720p"), Generation)
    assert_type(client.videos.wait(VIDEO_ID, cancel_on_timeout=True), Generation)
    paths = client.images.download(done, out, on_progress=lambda done_, total: None)
    assert_type(paths, list[Path])
    assert_type(client.videos.download(VIDEO_ID, out / "clip.mp4", overwrite=True), list[Path])
    results = client.images.batch(
        ["a red fox", {"prompt": "a blue whale", "count": 2}],
        concurrency=4,
        manifest=out / "run.jsonl",
        on_progress=lambda p: print(p.done, p.failed, p.in_flight),
    )
    assert_type(results, list[aurous.BatchResult])
    ok: list[Generation] = [r.generation for r in results if r.ok and r.generation is not None]
    assert ok is not None


async def async_helpers(client: aurous.AsyncClient, out: Path) -> None:
    """The same helpers, awaited."""
    done = await client.images.create_and_wait(prompt="a lighthouse at dusk")
    assert_type(await client.images.wait(done.id), Generation)
    assert_type(await client.images.download(done, out), list[Path])
    assert_type(await client.images.batch(["a red fox"], concurrency=2), list[aurous.BatchResult])


def raw_responses_and_streams(client: aurous.Client) -> None:
    """``with_raw_response`` (the HTTP response and the result) and ``watch`` (every state)."""
    raw = client.with_raw_response.images.create(prompt="a lighthouse at dusk")
    assert_type(raw, aurous.APIResponse[Generation])
    assert_type(raw.parse(), Generation)
    assert_type(raw.status_code, int | None)
    listed = client.with_raw_response.images.list(limit=10)
    assert_type(listed.parse().data, list[Generation])
    states = client.images.watch(IMAGE_ID, timeout=120)
    assert_type(states, SyncStream[Generation])
    for state in states:
        assert_type(state, Generation)


async def async_raw_responses_and_streams(client: aurous.AsyncClient) -> None:
    raw = await client.with_raw_response.balance.retrieve()
    assert_type(raw.parse(), aurous.types.Balance)
    async for state in client.images.watch(IMAGE_ID):
        assert_type(state, Generation)
