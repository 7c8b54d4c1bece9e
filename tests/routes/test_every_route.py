"""One wire test per SDK method and route (README endpoint table), for both clients.

Each case says what the method must send (method, path, query, JSON body, Idempotency-Key or not)
and which fixture the server answers with; the test checks the request respx recorded and that the
result is the fixture parsed into the right model.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
import respx

from aurous._models import ModelList
from aurous.types import (
    Balance,
    Character,
    CharacterDeleted,
    CharacterUpload,
    Estimate,
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

from ..conftest import KEY, Runner, fixture
from .conftest import JPEG, PNG, REQUEST_ID, assert_uuid4, json_of, multipart_of, query_of, respond

NO_BODY: Any = object()

IMG = fixture("generation.succeeded.image")["id"]
VID = fixture("generation.succeeded.video")["id"]
LORA = fixture("lora")["id"]
VIDEO_LORA = fixture("video_lora")["id"]
FILE = fixture("file")["id"]
ENDPOINT = fixture("webhook_endpoint")["id"]
CHARACTER = fixture("character")["id"]
SYNTH_CHARACTER = fixture("character.synthesizing")["id"]
TICKET = fixture("character_upload")
UPLOAD = TICKET["upload_id"]
API_KEY_ID = fixture("usage_events")["data"][0]["api_key_id"]
USER_ID = fixture("usage_events")["data"][0]["user_id"]

REQ_IMAGE = fixture("request.image.create")
REQ_IMAGE_LORAS = fixture("request.image.create.multi_lora")
REQ_IMAGE_CHARACTER = fixture("request.image.create.character")
REQ_VIDEO = fixture("request.video.create")
REQ_VIDEO_I2V = fixture("request.video.create.i2v")
REQ_WEBHOOK = fixture("request.webhook_endpoint.create")
REQ_CHAR_UPLOAD = fixture("request.character.create.upload")
REQ_CHAR_SYNTH = fixture("request.character.create.synthesize")


def _video_cancelled() -> dict[str, Any]:
    row = fixture("generation.processing.video")
    return {**row, "status": "cancelled"}


@dataclasses.dataclass(frozen=True)
class Case:
    """One SDK call and the exact request it must make."""

    sdk: str
    """The SDK method, as in the README endpoint table."""
    method: str
    path: str
    invoke: Callable[[Any], Any]
    response: str | dict[str, Any] | list[Any] | None
    """A fixture name, a literal body, or None for an empty body."""
    model: type[Any] | None
    status: int = 200
    query: dict[str, str] = dataclasses.field(default_factory=dict)
    body: Any = NO_BODY
    idempotent: bool = False
    result: str = "model"
    """"model", "list" (bare array), "page" (a list envelope) or "none"."""
    check_request: Callable[[Any], None] | None = None
    host: str | None = None
    """For the signed upload PUT: the host of the absolute URL."""

    @property
    def id(self) -> str:
        return self.sdk

    def response_body(self) -> Any:
        if isinstance(self.response, str):
            return fixture(self.response)
        return self.response


def _files_create_request(request: Any) -> None:
    parts = multipart_of(request)
    assert parts == {
        "file": ("ref.png", "image/png", PNG),
        "purpose": (None, "text/plain", b"reference"),
        "metadata": (None, "text/plain", b'{"campaign":"launch-2026"}'),
    }


def _upload_put_request(request: Any) -> None:
    assert request.content == JPEG
    assert request.headers["content-type"] == "image/jpeg"
    assert "x-api-key" not in request.headers
    assert "authorization" not in request.headers
    assert "idempotency-key" not in request.headers
    assert str(request.url) == TICKET["upload_url"]


CASES: list[Case] = [
    # ---- generations ---------------------------------------------------------------------------
    Case(
        "images.create",
        "POST",
        "/v1/images",
        lambda c: c.images.create(**REQ_IMAGE),
        "generation.pending.image",
        Generation,
        status=201,
        body=REQ_IMAGE,
        idempotent=True,
    ),
    Case(
        "images.create[loras]",
        "POST",
        "/v1/images",
        lambda c: c.images.create(**REQ_IMAGE_LORAS),
        "generation.succeeded.image.multi_lora",
        Generation,
        status=201,
        body=REQ_IMAGE_LORAS,
        idempotent=True,
    ),
    Case(
        "images.create[character]",
        "POST",
        "/v1/images",
        lambda c: c.images.create(**REQ_IMAGE_CHARACTER),
        "generation.succeeded.image.character",
        Generation,
        status=201,
        body=REQ_IMAGE_CHARACTER,
        idempotent=True,
    ),
    Case(
        "images.estimate",
        "POST",
        "/v1/images/estimate",
        lambda c: c.images.estimate(**REQ_IMAGE),
        "estimate",
        Estimate,
        body=REQ_IMAGE,
    ),
    Case(
        "images.list",
        "GET",
        "/v1/images",
        lambda c: c.images.list(limit=3, starting_after="img_01KS2H0000000000000000000Z"),
        "generations.list",
        Generation,
        query={"limit": "3", "starting_after": "img_01KS2H0000000000000000000Z"},
        result="page",
    ),
    Case(
        "images.retrieve",
        "GET",
        f"/v1/images/{IMG}",
        lambda c: c.images.retrieve(IMG),
        "generation.succeeded.image",
        Generation,
    ),
    Case(
        "videos.retrieve",
        "GET",
        f"/v1/images/{VID}",
        lambda c: c.videos.retrieve(VID),
        "generation.succeeded.video",
        Generation,
    ),
    Case(
        "images.cancel",
        "POST",
        f"/v1/images/{IMG}/cancel",
        lambda c: c.images.cancel(IMG),
        "generation.cancelled.image",
        Generation,
    ),
    Case(
        "videos.cancel",
        "POST",
        f"/v1/images/{VID}/cancel",
        lambda c: c.videos.cancel(VID),
        _video_cancelled(),
        Generation,
    ),
    Case(
        "videos.create",
        "POST",
        "/v1/videos",
        lambda c: c.videos.create(**REQ_VIDEO),
        "generation.pending.video",
        Generation,
        status=201,
        body=REQ_VIDEO,
        idempotent=True,
    ),
    Case(
        "videos.create[i2v]",
        "POST",
        "/v1/videos",
        lambda c: c.videos.create(**REQ_VIDEO_I2V),
        "generation.pending.video",
        Generation,
        status=201,
        body=REQ_VIDEO_I2V,
        idempotent=True,
    ),
    Case(
        "videos.estimate",
        "POST",
        "/v1/videos/estimate",
        lambda c: c.videos.estimate(**REQ_VIDEO),
        "estimate.video",
        Estimate,
        body=REQ_VIDEO,
    ),
    # ---- catalogue and account -----------------------------------------------------------------
    Case("loras.list", "GET", "/v1/loras", lambda c: c.loras.list(), "loras", Lora, result="list"),
    Case(
        "loras.retrieve",
        "GET",
        f"/v1/loras/{LORA}",
        lambda c: c.loras.retrieve(LORA),
        "lora",
        Lora,
    ),
    Case(
        "video_loras.list",
        "GET",
        "/v1/video_loras",
        lambda c: c.video_loras.list(),
        "video_loras",
        VideoLora,
        result="list",
    ),
    Case(
        "video_loras.retrieve",
        "GET",
        f"/v1/video_loras/{VIDEO_LORA}",
        lambda c: c.video_loras.retrieve(VIDEO_LORA),
        "video_lora",
        VideoLora,
    ),
    Case(
        "balance.retrieve", "GET", "/v1/balance", lambda c: c.balance.retrieve(), "balance", Balance
    ),
    Case(
        "pricing.retrieve", "GET", "/v1/pricing", lambda c: c.pricing.retrieve(), "pricing", Pricing
    ),
    Case("team.retrieve", "GET", "/v1/team", lambda c: c.team.retrieve(), "team", Team),
    # ---- usage ---------------------------------------------------------------------------------
    Case(
        "usage.list",
        "GET",
        "/v1/usage",
        lambda c: c.usage.list(
            start_time=datetime(2026, 5, 19, tzinfo=timezone.utc),
            end_time="2026-05-21T00:00:00Z",
            bucket_width="1d",
            group_by=["type", "status"],
            status=["completed", "failed"],
            type=["t2i", "t2v"],
            api_key_id=API_KEY_ID,
            user_id=USER_ID,
            lora_id=LORA,
            character_id=CHARACTER,
            limit=2,
        ),
        "usage",
        UsageBucket,
        query={
            "start_time": "2026-05-19T00:00:00Z",
            "end_time": "2026-05-21T00:00:00Z",
            "bucket_width": "1d",
            "group_by": "type,status",
            "status": "completed,failed",
            "type": "t2i,t2v",
            "api_key_id": API_KEY_ID,
            "user_id": USER_ID,
            "lora_id": LORA,
            "character_id": CHARACTER,
            "limit": "2",
        },
        result="page",
    ),
    Case(
        "usage.list_events",
        "GET",
        "/v1/usage/events",
        lambda c: c.usage.list_events(
            # A naive datetime is UTC.
            start_time=datetime(2026, 5, 20, 9, 30),
            end_time=datetime(2026, 5, 20, 12, 0, tzinfo=timezone.utc),
            type=["image", "video"],
            status="completed",
            model="aurous-image-1",
            api_key_id=[API_KEY_ID, "apikey_01KEZFGGZ0NC5C0E0YKKT67TQ2"],
            user_id=USER_ID,
            lora_id=LORA,
            limit=3,
        ),
        "usage_events",
        UsageEvent,
        query={
            "start_time": "2026-05-20T09:30:00Z",
            "end_time": "2026-05-20T12:00:00Z",
            "type": "image,video",
            "status": "completed",
            "model": "aurous-image-1",
            "api_key_id": f"{API_KEY_ID},apikey_01KEZFGGZ0NC5C0E0YKKT67TQ2",
            "user_id": USER_ID,
            "lora_id": LORA,
            "limit": "3",
        },
        result="page",
    ),
    # ---- files ---------------------------------------------------------------------------------
    Case(
        "files.create",
        "POST",
        "/v1/files",
        lambda c: c.files.create(
            file=("ref.png", PNG, None), purpose="reference", metadata={"campaign": "launch-2026"}
        ),
        "file",
        File,
        status=201,
        idempotent=True,
        check_request=_files_create_request,
    ),
    Case(
        "files.retrieve", "GET", f"/v1/files/{FILE}", lambda c: c.files.retrieve(FILE), "file", File
    ),
    Case(
        "files.delete",
        "DELETE",
        f"/v1/files/{FILE}",
        lambda c: c.files.delete(FILE),
        "file.deleted",
        FileDeleted,
    ),
    # ---- webhook endpoints ---------------------------------------------------------------------
    Case(
        "webhook_endpoints.create",
        "POST",
        "/v1/webhook_endpoints",
        lambda c: c.webhook_endpoints.create(**REQ_WEBHOOK),
        "webhook_endpoint.created",
        WebhookEndpoint,
        status=201,
        body=REQ_WEBHOOK,
    ),
    Case(
        "webhook_endpoints.create[all fields]",
        "POST",
        "/v1/webhook_endpoints",
        lambda c: c.webhook_endpoints.create(
            url="https://api.acme.dev/aurous-webhook",
            events=("*",),
            description="production receiver",
            metadata={"team": "platform"},
        ),
        "webhook_endpoint.created",
        WebhookEndpoint,
        status=201,
        body={
            "url": "https://api.acme.dev/aurous-webhook",
            "events": ["*"],
            "description": "production receiver",
            "metadata": {"team": "platform"},
        },
    ),
    Case(
        "webhook_endpoints.list",
        "GET",
        "/v1/webhook_endpoints",
        lambda c: c.webhook_endpoints.list(limit=10),
        "webhook_endpoints.list",
        WebhookEndpoint,
        query={"limit": "10"},
        result="page",
    ),
    Case(
        "webhook_endpoints.retrieve",
        "GET",
        f"/v1/webhook_endpoints/{ENDPOINT}",
        lambda c: c.webhook_endpoints.retrieve(ENDPOINT),
        "webhook_endpoint",
        WebhookEndpoint,
    ),
    Case(
        "webhook_endpoints.update",
        "PATCH",
        f"/v1/webhook_endpoints/{ENDPOINT}",
        # description=None clears it; arguments left out are not sent at all.
        lambda c: c.webhook_endpoints.update(
            ENDPOINT, events=["image.completed"], description=None, is_active=True
        ),
        "webhook_endpoint",
        WebhookEndpoint,
        body={"events": ["image.completed"], "description": None, "is_active": True},
    ),
    Case(
        "webhook_endpoints.update[url and metadata]",
        "PATCH",
        f"/v1/webhook_endpoints/{ENDPOINT}",
        lambda c: c.webhook_endpoints.update(
            ENDPOINT, url="https://api.acme.dev/v2/hook", metadata={}
        ),
        "webhook_endpoint",
        WebhookEndpoint,
        body={"url": "https://api.acme.dev/v2/hook", "metadata": {}},
    ),
    Case(
        "webhook_endpoints.delete",
        "DELETE",
        f"/v1/webhook_endpoints/{ENDPOINT}",
        lambda c: c.webhook_endpoints.delete(ENDPOINT),
        "webhook_endpoint.deleted",
        WebhookEndpointDeleted,
    ),
    Case(
        "webhook_endpoints.rotate_secret",
        "POST",
        f"/v1/webhook_endpoints/{ENDPOINT}/rotate_secret",
        lambda c: c.webhook_endpoints.rotate_secret(ENDPOINT),
        "webhook_endpoint.rotated",
        WebhookEndpoint,
    ),
    Case(
        "webhook_endpoints.test",
        "POST",
        f"/v1/webhook_endpoints/{ENDPOINT}/test",
        lambda c: c.webhook_endpoints.test(ENDPOINT, event_type="image.completed"),
        "webhook_test_fire",
        WebhookTestFire,
        status=202,
        body={"event_type": "image.completed"},
    ),
    # ---- characters ----------------------------------------------------------------------------
    Case(
        "characters.uploads.init",
        "POST",
        "/v1/characters/uploads/init",
        lambda c: c.characters.uploads.init(
            filename="aurora-front.jpg", extension="jpg", content_type="image/jpeg"
        ),
        "character_upload",
        CharacterUpload,
        status=201,
        body={"filename": "aurora-front.jpg", "extension": "jpg", "content_type": "image/jpeg"},
    ),
    Case(
        "characters.uploads.init[derived types]",
        "POST",
        "/v1/characters/uploads/init",
        lambda c: c.characters.uploads.init(filename="aurora-front.JPEG"),
        "character_upload",
        CharacterUpload,
        status=201,
        body={"filename": "aurora-front.JPEG", "extension": "jpeg", "content_type": "image/jpeg"},
    ),
    Case(
        "characters.uploads.upload",
        "PUT",
        TICKET["upload_url"].split("aurous.storage", 1)[1].split("?", 1)[0],
        lambda c: c.characters.uploads.upload(CharacterUpload.model_validate(TICKET), JPEG),
        None,
        None,
        query={"signature": TICKET["upload_url"].split("signature=", 1)[1]},
        result="none",
        check_request=_upload_put_request,
        host="aurous.storage",
    ),
    Case(
        "characters.uploads.classify",
        "POST",
        "/v1/characters/uploads/classify",
        lambda c: c.characters.uploads.classify(UPLOAD),
        "character_upload_classification",
        UploadClassification,
        body={"upload_id": UPLOAD},
    ),
    Case(
        "characters.create[upload flow]",
        "POST",
        "/v1/characters",
        lambda c: c.characters.create(**REQ_CHAR_UPLOAD),
        "character",
        Character,
        status=201,
        body=REQ_CHAR_UPLOAD,
    ),
    Case(
        "characters.create[synthesize flow]",
        "POST",
        "/v1/characters",
        lambda c: c.characters.create(**REQ_CHAR_SYNTH),
        "character.synthesizing",
        Character,
        status=201,
        body=REQ_CHAR_SYNTH,
    ),
    Case(
        "characters.list",
        "GET",
        "/v1/characters",
        lambda c: c.characters.list(limit=2),
        "characters.list",
        Character,
        query={"limit": "2"},
        result="page",
    ),
    Case(
        "characters.retrieve",
        "GET",
        f"/v1/characters/{CHARACTER}",
        lambda c: c.characters.retrieve(CHARACTER),
        "character",
        Character,
    ),
    Case(
        "characters.update",
        "PATCH",
        f"/v1/characters/{CHARACTER}",
        lambda c: c.characters.update(
            CHARACTER, name="Aurora", attributes={"hair_color": "silver", "age": 29}
        ),
        "character",
        Character,
        body={"name": "Aurora", "attributes": {"hair_color": "silver", "age": 29}},
    ),
    Case(
        "characters.delete",
        "DELETE",
        f"/v1/characters/{CHARACTER}",
        lambda c: c.characters.delete(CHARACTER),
        "character.deleted",
        CharacterDeleted,
    ),
    Case(
        "characters.save",
        "POST",
        f"/v1/characters/{CHARACTER}/save",
        lambda c: c.characters.save(CHARACTER),
        "character",
        Character,
    ),
    Case(
        "characters.resynthesize",
        "POST",
        f"/v1/characters/{SYNTH_CHARACTER}/resynthesize",
        lambda c: c.characters.resynthesize(SYNTH_CHARACTER),
        "character.synthesizing",
        Character,
        idempotent=True,
    ),
    Case(
        "characters.resynthesize[force_all]",
        "POST",
        f"/v1/characters/{SYNTH_CHARACTER}/resynthesize",
        lambda c: c.characters.resynthesize(SYNTH_CHARACTER, force_all=True),
        "character.synthesizing",
        Character,
        body={"force_all": True},
        idempotent=True,
    ),
    Case(
        "characters.regenerate_ref",
        "POST",
        f"/v1/characters/{SYNTH_CHARACTER}/refs/regenerate",
        lambda c: c.characters.regenerate_ref(
            SYNTH_CHARACTER, pose="side", prompt_override="three-quarter view"
        ),
        "character.synthesizing",
        Character,
        body={"pose": "side", "prompt_override": "three-quarter view"},
        idempotent=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_route(run: Runner, api: respx.Router, case: Case) -> None:
    body = case.response_body()
    where = {"host": case.host} if case.host else {}
    route = api.route(method=case.method, path=case.path, **where)
    route.mock(return_value=respond(case.status, body))

    result = run(case.invoke)

    assert route.call_count == 1
    request = route.calls.last.request
    assert request.method == case.method
    assert request.url.path == case.path
    assert query_of(request) == case.query

    if case.check_request is not None:
        case.check_request(request)
    elif case.body is NO_BODY:
        assert request.content == b""
        assert "content-type" not in request.headers
    else:
        assert json_of(request) == case.body

    if case.host is None:
        assert request.headers["x-api-key"] == KEY
        assert request.headers["aurous-version"] == "2026-05-15"
    if case.idempotent:
        assert_uuid4(request.headers["idempotency-key"])
    else:
        assert "idempotency-key" not in request.headers

    _check_result(case, result, body)


def _check_result(case: Case, result: Any, body: Any) -> None:
    if case.result == "none":
        assert result is None
        return
    assert result._request_id == REQUEST_ID
    if case.result == "model":
        assert type(result) is case.model
        assert result.to_dict() == body
        if case.idempotent:
            assert result._response.idempotency_key is not None
    elif case.result == "list":
        assert isinstance(result, ModelList)
        assert all(type(item) is case.model for item in result)
        assert [item.to_dict() for item in result] == body
    else:
        assert all(type(item) is case.model for item in result.data)
        assert [item.to_dict() for item in result.data] == body["data"]
        assert result.has_more is body["has_more"]
        cursor = body.get("next_cursor", body.get("next_page"))
        assert result.next_cursor == (cursor if body["has_more"] else None)


# The README endpoint table (api/README.md), minus the legacy redirects and the output downloads
# (which have their own tests): every row must have at least one case above.
README_ROUTES = [
    ("POST", "/v1/images", "images.create"),
    ("POST", "/v1/images/estimate", "images.estimate"),
    ("GET", "/v1/images", "images.list"),
    ("GET", "/v1/images/{id}", "images.retrieve"),
    ("GET", "/v1/images/{id}", "videos.retrieve"),
    ("POST", "/v1/images/{id}/cancel", "images.cancel"),
    ("POST", "/v1/images/{id}/cancel", "videos.cancel"),
    ("POST", "/v1/videos", "videos.create"),
    ("POST", "/v1/videos/estimate", "videos.estimate"),
    ("GET", "/v1/loras", "loras.list"),
    ("GET", "/v1/loras/{id}", "loras.retrieve"),
    ("GET", "/v1/video_loras", "video_loras.list"),
    ("GET", "/v1/video_loras/{id}", "video_loras.retrieve"),
    ("GET", "/v1/balance", "balance.retrieve"),
    ("GET", "/v1/pricing", "pricing.retrieve"),
    ("GET", "/v1/team", "team.retrieve"),
    ("GET", "/v1/usage", "usage.list"),
    ("GET", "/v1/usage/events", "usage.list_events"),
    ("POST", "/v1/files", "files.create"),
    ("GET", "/v1/files/{id}", "files.retrieve"),
    ("DELETE", "/v1/files/{id}", "files.delete"),
    ("POST", "/v1/webhook_endpoints", "webhook_endpoints.create"),
    ("GET", "/v1/webhook_endpoints", "webhook_endpoints.list"),
    ("GET", "/v1/webhook_endpoints/{id}", "webhook_endpoints.retrieve"),
    ("PATCH", "/v1/webhook_endpoints/{id}", "webhook_endpoints.update"),
    ("DELETE", "/v1/webhook_endpoints/{id}", "webhook_endpoints.delete"),
    ("POST", "/v1/webhook_endpoints/{id}/rotate_secret", "webhook_endpoints.rotate_secret"),
    ("POST", "/v1/webhook_endpoints/{id}/test", "webhook_endpoints.test"),
    ("POST", "/v1/characters/uploads/init", "characters.uploads.init"),
    ("PUT", "<upload_url>", "characters.uploads.upload"),
    ("POST", "/v1/characters/uploads/classify", "characters.uploads.classify"),
    ("POST", "/v1/characters", "characters.create"),
    ("GET", "/v1/characters", "characters.list"),
    ("GET", "/v1/characters/{id}", "characters.retrieve"),
    ("PATCH", "/v1/characters/{id}", "characters.update"),
    ("DELETE", "/v1/characters/{id}", "characters.delete"),
    ("POST", "/v1/characters/{id}/save", "characters.save"),
    ("POST", "/v1/characters/{id}/resynthesize", "characters.resynthesize"),
    ("POST", "/v1/characters/{id}/refs/regenerate", "characters.regenerate_ref"),
]


@pytest.mark.parametrize(("method", "template", "sdk"), README_ROUTES)
def test_every_readme_route_has_a_case(method: str, template: str, sdk: str) -> None:
    if template == "<upload_url>":
        pattern = re.compile(r"/uploads/.+")
    else:
        pattern = re.compile(re.sub(r"\\\{id\\\}", "[^/]+", re.escape(template)) + "$")
    matching = [
        case
        for case in CASES
        if case.method == method
        and case.sdk.split("[")[0] == sdk
        and pattern.fullmatch(case.path) is not None
    ]
    assert matching, f"no wire test for {sdk} ({method} {template})"
