"""``images.wait`` / ``videos.wait`` / ``create_and_wait`` on the emulator's manual clock."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

import aurous
from aurous._flow import capped_timeout

from ..conftest import API, KEY, RecordingClock, fixture
from .conftest import Counting, Harness


def test_wait_follows_pending_processing_succeeded(make_harness: Any) -> None:
    h: Harness = make_harness(image_phases=(3.0, 6.0))
    created = h(h.client.images.create(prompt="a lighthouse"))
    seen: list[str] = []
    start = h.emu.now()
    done = h(
        h.client.images.wait(
            created.id,
            poll_interval=1.0,
            max_poll_interval=2.0,
            on_update=lambda g: seen.append(g.status),
        )
    )
    assert done.status == "succeeded"
    assert done.is_succeeded
    assert done.outputs
    assert seen == ["pending", "processing", "succeeded"]
    # Polls stopped soon after the generation finished (9 s in; intervals are at most 2 s).
    assert 9.0 <= h.emu.now() - start <= 9.0 + 2.0 * 1.1


def test_wait_given_a_generation_reports_it_first_and_sleeps_before_polling(
    make_harness: Any,
) -> None:
    h: Harness = make_harness(image_phases=(1.0, 1.0))
    counted: dict[str, Counting] = {}

    def wrap(transport: Any) -> Counting:
        counted["transport"] = Counting(transport)
        return counted["transport"]

    client = h.make_client(wrap=wrap)
    created = h(client.images.create(prompt="a fox"))
    seen: list[str] = []
    done = h(client.images.wait(created, on_update=lambda g: seen.append(g.status)))
    assert seen[0] == "pending"
    assert seen[-1] == "succeeded"
    assert done.status == "succeeded"
    # The first poll came after poll_interval (2 s), when the 2 s generation was done.
    assert counted["transport"].requests == [
        ("POST", "/v1/images"),
        ("GET", f"/v1/images/{created.id}"),
    ]


def test_wait_returns_a_terminal_generation_without_polling(h: Harness) -> None:
    created = h(h.client.images.create(prompt="a fox"))
    h.emu.advance(10)
    finished = h(h.client.images.retrieve(created.id))
    before = h.emu.now()
    assert h(h.client.images.wait(finished)) is finished
    assert h.emu.now() == before


def test_unknown_terminal_status_ends_the_wait(make_harness: Any) -> None:
    h: Harness = make_harness(image_phases=(1.0, 1.0))
    h.emu.faults.fail_generation(status="archived", error_message="moved to cold storage")
    created = h(h.client.images.create(prompt="a fox"))
    done = h(h.client.images.wait(created.id, timeout=60))
    assert done.status == "archived"
    assert done.is_terminal
    assert not done.is_succeeded


def test_deadline_raises_with_the_last_state_seen(make_harness: Any) -> None:
    h: Harness = make_harness(image_phases=(100.0, 100.0))
    created = h(h.client.images.create(prompt="slow"))
    start = h.emu.now()
    with pytest.raises(aurous.WaitTimeoutError) as caught:
        h(h.client.images.wait(created.id, timeout=10, poll_interval=1.0))
    assert caught.value.generation is not None
    assert caught.value.generation.id == created.id
    assert caught.value.generation.status == "pending"
    # One deadline: the sleeps never overshoot it.
    assert h.emu.now() - start == pytest.approx(10.0)
    assert h.emu.generation(created.id).status == "pending"


def test_cancel_on_timeout_cancels_and_releases_the_hold(make_harness: Any) -> None:
    h: Harness = make_harness(image_phases=(100.0, 100.0))
    created = h(h.client.images.create(prompt="slow", count=2))
    assert h.emu.team.balance()["held_credits"] == Decimal(2)
    seen: list[str] = []
    with pytest.raises(aurous.WaitTimeoutError) as caught:
        h(
            h.client.images.wait(
                created,
                timeout=5,
                cancel_on_timeout=True,
                on_update=lambda g: seen.append(g.status),
            )
        )
    assert caught.value.generation is not None
    assert caught.value.generation.status == "cancelled"
    assert seen == ["pending", "cancelled"]
    assert h.emu.generation(created.id).status == "cancelled"
    balance = h.emu.team.balance()
    assert balance["held_credits"] == 0
    assert balance["available_credits"] == balance["credits"] == Decimal(1000)


def test_429_during_polling_is_waited_out_and_polling_continues(make_harness: Any) -> None:
    h: Harness = make_harness(image_phases=(1.0, 1.0))
    created = h(h.client.images.create(prompt="a fox"))
    h.emu.faults.fail_next("GET /v1/images/*", status=429, times=3)
    start = h.emu.now()
    done = h(h.client.images.wait(created.id, poll_interval=0.5))
    assert done.status == "succeeded"
    # Three 429s, each answered with Retry-After: 1.
    assert h.emu.now() - start >= 3.0


def test_connection_failures_are_retried_within_max_retries(make_harness: Any) -> None:
    h: Harness = make_harness(image_phases=(1.0, 1.0))
    created = h(h.client.images.create(prompt="a fox"))
    h.emu.faults.fail_next("GET /v1/images/*", drop_connection=True, times=2)
    assert h(h.client.images.wait(created.id)).status == "succeeded"
    h.emu.faults.fail_next("GET /v1/images/*", status=503, times=5)
    with pytest.raises(aurous.ServerError):
        h(h.client.with_options(max_retries=1).images.wait(created.id))


def test_videos_wait_uses_the_images_route(make_harness: Any) -> None:
    h: Harness = make_harness(video_phases=(2.0, 8.0))
    created = h(h.client.videos.create(prompt="waves at dusk"))
    assert created.id.startswith("vid_")
    seen: list[str] = []
    done = h(h.client.videos.wait(created.id, on_update=lambda g: seen.append(g.status)))
    assert done.status == "succeeded"
    assert done.output_video_url
    assert seen[0] == "pending"
    assert seen[-1] == "succeeded"


def test_create_and_wait(make_harness: Any) -> None:
    h: Harness = make_harness(image_phases=(1.0, 2.0))
    seen: list[str] = []
    done = h(
        h.client.images.create_and_wait(
            prompt="a red fox", count=2, on_update=lambda g: seen.append(g.status)
        )
    )
    assert done.status == "succeeded"
    assert len(done.outputs) == 2
    assert seen[0] == "pending"
    assert seen[-1] == "succeeded"
    failed = h(h.client.images.create_and_wait(prompt="a fox [fail]"))
    assert failed.status == "failed"


@pytest.mark.parametrize("marker", ["[fail]", "[moderate]", "[expire]"])
def test_create_and_wait_raise_on_failure(h: Harness, marker: str) -> None:
    with pytest.raises(aurous.GenerationFailedError) as caught:
        h(h.client.images.create_and_wait(prompt=f"a fox {marker}", raise_on_failure=True))
    generation = caught.value.generation
    assert generation.is_terminal
    assert not generation.is_succeeded
    assert caught.value.error_message == generation.error_message
    assert generation.id in str(caught.value)


def test_video_create_and_wait_raise_on_failure(h: Harness) -> None:
    with pytest.raises(aurous.GenerationFailedError) as caught:
        h(h.client.videos.create_and_wait(prompt="waves [moderate]", raise_on_failure=True))
    assert caught.value.error_message == "output_moderation_rejected"


def test_create_and_wait_deadline_covers_the_create(make_harness: Any) -> None:
    h: Harness = make_harness(image_phases=(100.0, 100.0))
    h.emu.faults.latency(4.0, "POST /v1/images")
    start = h.emu.now()
    with pytest.raises(aurous.WaitTimeoutError):
        h(h.client.images.create_and_wait(prompt="slow", timeout=10))
    assert h.emu.now() - start == pytest.approx(10.0)


def test_wait_arguments_are_checked(h: Harness) -> None:
    with pytest.raises(ValueError, match="poll_interval"):
        h(h.client.images.wait("img_x", poll_interval=0))
    with pytest.raises(ValueError, match="max_poll_interval"):
        h(h.client.images.wait("img_x", poll_interval=5, max_poll_interval=1))
    with pytest.raises(TypeError):
        h(h.client.images.wait(42))  # type: ignore[arg-type]


# ---- respx: exact requests, sleeps and timeouts ----------------------------------------------


def _row(status: str) -> dict[str, Any]:
    row: dict[str, Any] = fixture("generation.pending.image")
    row["status"] = status
    return row


def _sync_client(clock: RecordingClock, **options: Any) -> aurous.Client:
    client = aurous.Client(api_key=KEY, base_url=API, **options)
    client._set_clock(clock)
    return client


def test_backoff_grows_by_half_with_jitter_up_to_the_cap(clock: RecordingClock) -> None:
    with respx.mock(base_url=API) as api:
        api.get(url__regex=r"/v1/images/img_\w+$").respond(200, json=_row("processing"))
        client = _sync_client(clock)
        with pytest.raises(aurous.WaitTimeoutError) as caught:
            client.images.wait("img_01KS2DH0GPE2Y1X16JH0Z1Y2GF", timeout=120)
    assert caught.value.generation is not None
    assert caught.value.generation.status == "processing"
    sleeps = clock.sleeps
    expected = [2.0, 3.0, 4.5, 6.75, 10.125, 15.0, 15.0]
    for got, want in zip(sleeps, expected, strict=False):
        assert want * 0.9 <= got <= min(15.0, want * 1.1)
    assert sum(sleeps) == pytest.approx(120.0)
    assert max(sleeps) <= 15.0


def test_each_poll_timeout_is_capped_to_the_time_left(clock: RecordingClock) -> None:
    timeouts: list[dict[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        return httpx.Response(200, json=_row("processing"))

    with respx.mock(base_url=API) as api:
        api.get(url__regex=r"/v1/images/img_\w+$").mock(side_effect=answer)
        client = _sync_client(clock, timeout=60.0)
        with pytest.raises(aurous.WaitTimeoutError):
            client.images.wait("img_01KS2DH0GPE2Y1X16JH0Z1Y2GF", timeout=7, poll_interval=2)
    assert timeouts
    assert timeouts[0]["read"] == pytest.approx(7.0)
    # A number means every phase (one conversion for client and call), each capped by the wait.
    assert all(t["read"] <= 7.0 and t["connect"] <= 7.0 for t in timeouts)
    assert timeouts[-1]["read"] < 7.0


def test_unknown_status_via_respx_is_terminal(clock: RecordingClock) -> None:
    replies = iter([_row("queued"), _row("processing"), _row("teleported")])
    with respx.mock(base_url=API) as api:
        api.get(url__regex=r"/v1/images/img_\w+$").mock(
            side_effect=lambda request: httpx.Response(200, json=next(replies))
        )
        seen: list[str] = []
        done = _sync_client(clock).images.wait(
            "img_01KS2DH0GPE2Y1X16JH0Z1Y2GF", on_update=lambda g: seen.append(g.status)
        )
    assert done.status == "teleported"
    assert seen == ["queued", "processing", "teleported"]


def test_rate_limited_poll_sleeps_retry_after(clock: RecordingClock) -> None:
    limited = fixture("error.rate_limited")
    replies = [
        httpx.Response(429, json=limited, headers={"Retry-After": "7"}),
        httpx.Response(200, json=_row("succeeded")),
    ]
    with respx.mock(base_url=API) as api:
        route = api.get(url__regex=r"/v1/images/img_\w+$").mock(side_effect=replies)
        done = _sync_client(clock).images.wait("img_01KS2DH0GPE2Y1X16JH0Z1Y2GF")
    assert done.status == "succeeded"
    assert route.call_count == 2
    assert clock.sleeps == [7.0]


def test_capped_timeout_keeps_shorter_phases() -> None:
    base = httpx.Timeout(60.0, connect=5.0)
    capped = capped_timeout(base, 3.0)
    assert (capped.connect, capped.read, capped.write, capped.pool) == (3.0, 3.0, 3.0, 3.0)
    assert capped_timeout(base, 30.0).connect == 5.0
    assert capped_timeout(httpx.Timeout(None), 4.0).read == 4.0
    assert capped_timeout(base, None) is base


def test_failed_error_message_names_status_and_reason() -> None:
    row = fixture("generation.failed.image")
    error = aurous.GenerationFailedError(generation=aurous.Generation.model_validate(row))
    assert isinstance(error, aurous.GenerationFailedError)
    assert row["id"] in str(error)
    assert "'failed'" in str(error)
    assert row["error_message"] in str(error)
    assert error.error_message == row["error_message"]
    # A failed row's cost is 0 in every part: the hold was released, nothing was charged.
    assert "no credits were charged" in str(error)


def test_failed_error_message_says_what_was_charged() -> None:
    row = {**fixture("generation.failed.image"), "cost": {"amount": 2, "breakdown": {"base": 2}}}
    error = aurous.GenerationFailedError(generation=aurous.Generation.model_validate(row))
    assert "2 credits were charged" in str(error)
    del row["cost"]
    error = aurous.GenerationFailedError(generation=aurous.Generation.model_validate(row))
    assert "charged" not in str(error)
