"""Auto-paging over the three cursor schemes, sync and async."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
import respx

import aurous
from aurous.types import Character, Generation, UsageBucket, UsageEvent, WebhookEndpoint

from ..conftest import API, KEY, Runner, fixture
from .conftest import query_of, respond

_GENERATION_FIXTURES = [
    "generation.succeeded.image",
    "generation.succeeded.video",
    "generation.failed.image",
    "generation.cancelled.image",
    "generation.pending.image",
]


def _generations() -> list[dict[str, Any]]:
    rows = [fixture(name) for name in _GENERATION_FIXTURES]
    assert len({row["id"] for row in rows}) == len(rows)
    return rows


def _scheme_a_pages(rows: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    pages = []
    for start in range(0, len(rows), size):
        data = rows[start : start + size]
        more = start + size < len(rows)
        pages.append(
            {
                "object": "list",
                "data": data,
                "has_more": more,
                "next_cursor": data[-1]["id"] if more else None,
            }
        )
    return pages


ROWS = _generations()
PAGES = _scheme_a_pages(ROWS, 2)
IDS = [row["id"] for row in ROWS]


@pytest.fixture
def images(api: respx.Router) -> respx.Route:
    """``GET /v1/images`` answering three pages (2 + 2 + 1 generations) in order."""
    return api.get("/v1/images").mock(side_effect=[respond(200, page) for page in PAGES])


def _assert_walked_three_pages(route: respx.Route) -> None:
    assert [query_of(call.request) for call in route.calls] == [
        {"limit": "2"},
        {"limit": "2", "starting_after": IDS[1]},
        {"limit": "2", "starting_after": IDS[3]},
    ]


def test_images_list_sync_for_crosses_three_pages(images: respx.Route) -> None:
    seen: list[str] = []
    with aurous.Client(api_key=KEY, base_url=API) as client:
        for generation in client.images.list(limit=2):
            assert isinstance(generation, Generation)
            seen.append(generation.id)
    assert seen == IDS
    _assert_walked_three_pages(images)


def test_images_list_async_for_crosses_three_pages(images: respx.Route) -> None:
    async def main() -> list[str]:
        seen: list[str] = []
        async with aurous.AsyncClient(api_key=KEY, base_url=API) as client:
            async for generation in client.images.list(limit=2):
                assert isinstance(generation, Generation)
                seen.append(generation.id)
        return seen

    assert asyncio.run(main()) == IDS
    _assert_walked_three_pages(images)


def test_first_page_is_fetched_alone_and_lazily(run: Runner, images: respx.Route) -> None:
    page = run(lambda c: c.images.list(limit=2))
    assert images.call_count == 1
    assert [g.id for g in page.data] == IDS[:2]
    assert page.has_more is True
    assert page.next_cursor == IDS[1]
    assert page._request_id is not None
    pages = run.collect(page.iter_pages())
    assert images.call_count == 3
    assert [[g.id for g in p.data] for p in pages] == [IDS[:2], IDS[2:4], IDS[4:]]
    assert [p.has_more for p in pages] == [True, True, False]
    assert [p.next_cursor for p in pages] == [IDS[1], IDS[3], None]
    _assert_walked_three_pages(images)


def test_iterating_a_fetched_page_continues_from_it(run: Runner, images: respx.Route) -> None:
    page = run(lambda c: c.images.list(limit=2))
    assert [g.id for g in run.collect(page)] == IDS
    _assert_walked_three_pages(images)


def test_async_pager_iter_pages_without_await(images: respx.Route) -> None:
    async def main() -> list[list[str]]:
        async with aurous.AsyncClient(api_key=KEY, base_url=API) as client:
            return [[g.id for g in p.data] async for p in client.images.list(limit=2).iter_pages()]

    assert asyncio.run(main()) == [IDS[:2], IDS[2:4], IDS[4:]]


def test_stopping_early_fetches_no_further_page(run: Runner, images: respx.Route) -> None:
    page = run(lambda c: c.images.list(limit=2))
    first = run.collect(_take(page, 2, run.is_async))
    assert [g.id for g in first] == IDS[:2]
    assert images.call_count == 1


def _take(iterable: Any, n: int, is_async: bool) -> Any:
    if is_async:

        async def agen() -> Any:
            count = 0
            async for item in iterable:
                yield item
                count += 1
                if count == n:
                    return

        return agen()
    return itertools.islice(iterable, n)


@pytest.mark.parametrize(
    ("path", "call", "fixture_name", "model"),
    [
        (
            "/v1/webhook_endpoints",
            lambda c: c.webhook_endpoints.list(limit=1),
            "webhook_endpoints.list",
            WebhookEndpoint,
        ),
        ("/v1/characters", lambda c: c.characters.list(limit=1), "characters.list", Character),
    ],
    ids=["webhook_endpoints", "characters"],
)
def test_scheme_a_lists_follow_next_cursor(
    run: Runner, api: respx.Router, path: str, call: Any, fixture_name: str, model: type[Any]
) -> None:
    rows = fixture(fixture_name)["data"]
    route = api.get(path).mock(
        side_effect=[respond(200, page) for page in _scheme_a_pages(rows, 1)]
    )
    items = run.collect(run(call))
    assert [type(item) for item in items] == [model] * len(rows)
    assert [item.id for item in items] == [row["id"] for row in rows]
    assert [query_of(c.request) for c in route.calls] == [
        {"limit": "1"},
        {"limit": "1", "starting_after": rows[0]["id"]},
    ]


def _usage_pages() -> list[dict[str, Any]]:
    buckets = fixture("usage")["data"]
    empty = {
        "object": "usage.bucket",
        "bucket_start": "2026-05-18T00:00:00Z",
        "bucket_end": "2026-05-19T00:00:00Z",
        "groups": [],
    }
    return [
        {"object": "list", "data": [buckets[0]], "has_more": True, "next_page": "tok-page-2"},
        {"object": "list", "data": [buckets[1]], "has_more": True, "next_page": "tok-page-3"},
        {"object": "list", "data": [empty], "has_more": False, "next_page": None},
    ]


def test_usage_list_follows_page_token(run: Runner, api: respx.Router) -> None:
    pages = _usage_pages()
    route = api.get("/v1/usage").mock(side_effect=[respond(200, p) for p in pages])
    buckets = run.collect(
        run.client().usage.list(
            start_time=datetime(2026, 5, 18, tzinfo=timezone.utc),
            end_time=datetime(2026, 5, 21, tzinfo=timezone.utc),
            group_by="type",
            limit=1,
        )
    )
    assert all(isinstance(b, UsageBucket) for b in buckets)
    assert [b.to_dict() for b in buckets] == [p["data"][0] for p in pages]
    assert buckets[2].groups == []
    first = {
        "start_time": "2026-05-18T00:00:00Z",
        "end_time": "2026-05-21T00:00:00Z",
        "group_by": "type",
        "limit": "1",
    }
    # The filters are sent again unchanged on later pages, which the API accepts.
    assert [query_of(c.request) for c in route.calls] == [
        first,
        {**first, "page_token": "tok-page-2"},
        {**first, "page_token": "tok-page-3"},
    ]


def test_usage_list_page_exposes_next_page_as_next_cursor(run: Runner, api: respx.Router) -> None:
    api.get("/v1/usage").mock(return_value=respond(200, _usage_pages()[0]))
    page = run(lambda c: c.usage.list(start_time="2026-05-18T00:00:00Z"))
    assert page.has_more is True
    assert page.next_cursor == "tok-page-2"
    assert page.page.next_page == "tok-page-2"


def test_usage_events_follow_cursor_with_the_same_filters(run: Runner, api: respx.Router) -> None:
    listing = fixture("usage_events")
    last = {
        **listing["data"][-1],
        "id": "img_01KS2E00000000000000000000",
        "request_id": "req_01KS2E00000000000000000000",
    }
    pages = [listing, {"object": "list", "data": [last], "has_more": False, "next_cursor": None}]
    route = api.get("/v1/usage/events").mock(side_effect=[respond(200, p) for p in pages])
    events = run.collect(
        run.client().usage.list_events(
            start_time="2026-05-20T00:00:00Z", type="image", status=["completed"], limit=3
        )
    )
    assert all(isinstance(e, UsageEvent) for e in events)
    assert [e.id for e in events] == [row["id"] for row in listing["data"]] + [last["id"]]
    first = {
        "start_time": "2026-05-20T00:00:00Z",
        "type": "image",
        "status": "completed",
        "limit": "3",
    }
    assert [query_of(c.request) for c in route.calls] == [
        first,
        {**first, "cursor": listing["next_cursor"]},
    ]


def test_a_failing_later_page_raises_from_the_iteration(run: Runner, api: respx.Router) -> None:
    api.get("/v1/images").mock(
        side_effect=[
            respond(200, PAGES[0]),
            httpx.Response(404, json=fixture("error.resource_not_found")),
        ]
    )
    page = run(lambda c: c.images.list(limit=2))
    with pytest.raises(aurous.NotFoundError):
        run.collect(page)
