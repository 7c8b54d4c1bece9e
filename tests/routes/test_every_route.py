"""One wire test per SDK method of the endpoint table (``spec/openapi.yaml``), for both clients.

The table (``tests/_spec.py``) gives each case its HTTP method, path template, host, success
status and whether an Idempotency-Key is sent. What the table cannot hold is kept here, keyed by
operation id: sample arguments for the SDK method, the concrete path and query they produce, the
body that must be sent and the fixture the server answers with. The keys must be exactly the
operations that have an SDK method, so a route added to the table without a case fails, and so
does a case for a route the table no longer has.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

import pytest
import respx

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
    ModelList,
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

from .._spec import ENDPOINTS, Endpoint, by_operation_id, host_of, sdk_method_of
from ..conftest import KEY, Runner, fixture
from .conftest import JPEG, PNG, REQUEST_ID, assert_uuid4, json_of, multipart_of, query_of, respond

TABLE = by_operation_id()
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


@dataclasses.dataclass(frozen=True, kw_only=True)
class Case:
    """Sample arguments for one SDK method of an operation, and the exact request they make."""

    path: str
    """The concrete path sent (it must fit the operation's template)."""
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    response: str | dict[str, Any] | list[Any] | None
    """A fixture name, a literal body, or None for an empty body."""
    model: type[Any] | None
    query: dict[str, str] = dataclasses.field(default_factory=dict)
    body: Any = NO_BODY
    result: str = "model"
    """"model", "list" (bare array), "page" (a list envelope) or "none"."""
    check_request: Callable[[Any], None] | None = None
    sdk: str | None = None
    """One of the operation's ``x-aurous-sdk-aliases``; None calls its ``x-aurous-sdk-method``."""
    variant: str = ""

    def sdk_method(self, endpoint: Endpoint) -> str:
        name = self.sdk or endpoint.sdk_method
        assert name is not None, f"{endpoint.operation_id} has no SDK method"
        return name

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


# Operations of the table that have an SDK method but whose wire behaviour is tested elsewhere.
TESTED_ELSEWHERE: dict[str, str] = {
    "images_download": "tests/helpers/test_download.py: outputs streamed to disk",
    "videos_download": "tests/helpers/test_download.py: the video streamed, resumed with Range",
}

# Operation id → the cases of its SDK method(s); every SDK method of the operation has one or more.
CASES: dict[str, tuple[Case, ...]] = {
    # ---- generations ---------------------------------------------------------------------------
    "images_create": (
        Case(
            path="/v1/images",
            kwargs=REQ_IMAGE,
            response="generation.pending.image",
            model=Generation,
            body=REQ_IMAGE,
        ),
        Case(
            variant="loras",
            path="/v1/images",
            kwargs=REQ_IMAGE_LORAS,
            response="generation.succeeded.image.multi_lora",
            model=Generation,
            body=REQ_IMAGE_LORAS,
        ),
        Case(
            variant="character",
            path="/v1/images",
            kwargs=REQ_IMAGE_CHARACTER,
            response="generation.succeeded.image.character",
            model=Generation,
            body=REQ_IMAGE_CHARACTER,
        ),
    ),
    "images_estimate": (
        Case(
            path="/v1/images/estimate",
            kwargs=REQ_IMAGE,
            response="estimate",
            model=Estimate,
            body=REQ_IMAGE,
        ),
    ),
    "images_list": (
        Case(
            path="/v1/images",
            kwargs={"limit": 3, "starting_after": "img_01KS2H0000000000000000000Z"},
            response="generations.list",
            model=Generation,
            query={"limit": "3", "starting_after": "img_01KS2H0000000000000000000Z"},
            result="page",
        ),
    ),
    "images_retrieve": (
        Case(
            path=f"/v1/images/{IMG}",
            args=(IMG,),
            response="generation.succeeded.image",
            model=Generation,
        ),
        Case(
            sdk="videos.retrieve",
            path=f"/v1/images/{VID}",
            args=(VID,),
            response="generation.succeeded.video",
            model=Generation,
        ),
    ),
    "images_cancel": (
        Case(
            path=f"/v1/images/{IMG}/cancel",
            args=(IMG,),
            response="generation.cancelled.image",
            model=Generation,
        ),
        Case(
            sdk="videos.cancel",
            path=f"/v1/images/{VID}/cancel",
            args=(VID,),
            response=_video_cancelled(),
            model=Generation,
        ),
    ),
    "videos_create": (
        Case(
            path="/v1/videos",
            kwargs=REQ_VIDEO,
            response="generation.pending.video",
            model=Generation,
            body=REQ_VIDEO,
        ),
        Case(
            variant="i2v",
            path="/v1/videos",
            kwargs=REQ_VIDEO_I2V,
            response="generation.pending.video",
            model=Generation,
            body=REQ_VIDEO_I2V,
        ),
    ),
    "videos_estimate": (
        Case(
            path="/v1/videos/estimate",
            kwargs=REQ_VIDEO,
            response="estimate.video",
            model=Estimate,
            body=REQ_VIDEO,
        ),
    ),
    # ---- catalogue and account -----------------------------------------------------------------
    "loras_list": (Case(path="/v1/loras", response="loras", model=Lora, result="list"),),
    "loras_retrieve": (Case(path=f"/v1/loras/{LORA}", args=(LORA,), response="lora", model=Lora),),
    "video_loras_list": (
        Case(path="/v1/video_loras", response="video_loras", model=VideoLora, result="list"),
    ),
    "video_loras_retrieve": (
        Case(
            path=f"/v1/video_loras/{VIDEO_LORA}",
            args=(VIDEO_LORA,),
            response="video_lora",
            model=VideoLora,
        ),
    ),
    "balance_retrieve": (Case(path="/v1/balance", response="balance", model=Balance),),
    "pricing_retrieve": (Case(path="/v1/pricing", response="pricing", model=Pricing),),
    "team_retrieve": (Case(path="/v1/team", response="team", model=Team),),
    # ---- usage ---------------------------------------------------------------------------------
    "usage_list": (
        Case(
            path="/v1/usage",
            kwargs={
                "start_time": datetime(2026, 5, 19, tzinfo=timezone.utc),
                "end_time": "2026-05-21T00:00:00Z",
                "bucket_width": "1d",
                "group_by": ["type", "status"],
                "status": ["completed", "failed"],
                "type": ["t2i", "t2v"],
                "api_key_id": API_KEY_ID,
                "user_id": USER_ID,
                "lora_id": LORA,
                "character_id": CHARACTER,
                "limit": 2,
            },
            response="usage",
            model=UsageBucket,
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
    ),
    "usage_list_events": (
        Case(
            path="/v1/usage/events",
            kwargs={
                # A naive datetime is UTC.
                "start_time": datetime(2026, 5, 20, 9, 30),
                "end_time": datetime(2026, 5, 20, 12, 0, tzinfo=timezone.utc),
                "type": ["image", "video"],
                "status": "completed",
                "model": "aurous-image-1",
                "api_key_id": [API_KEY_ID, "apikey_01KEZFGGZ0NC5C0E0YKKT67TQ2"],
                "user_id": USER_ID,
                "lora_id": LORA,
                "limit": 3,
            },
            response="usage_events",
            model=UsageEvent,
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
    ),
    # ---- files ---------------------------------------------------------------------------------
    "files_create": (
        Case(
            path="/v1/files",
            kwargs={
                "file": ("ref.png", PNG, None),
                "purpose": "reference",
                "metadata": {"campaign": "launch-2026"},
            },
            response="file",
            model=File,
            check_request=_files_create_request,
        ),
    ),
    "files_retrieve": (Case(path=f"/v1/files/{FILE}", args=(FILE,), response="file", model=File),),
    "files_delete": (
        Case(path=f"/v1/files/{FILE}", args=(FILE,), response="file.deleted", model=FileDeleted),
    ),
    # ---- webhook endpoints ---------------------------------------------------------------------
    "webhook_endpoints_create": (
        Case(
            path="/v1/webhook_endpoints",
            kwargs=REQ_WEBHOOK,
            response="webhook_endpoint.created",
            model=WebhookEndpoint,
            body=REQ_WEBHOOK,
        ),
        Case(
            variant="all fields",
            path="/v1/webhook_endpoints",
            kwargs={
                "url": "https://api.acme.dev/aurous-webhook",
                "events": ("*",),
                "description": "production receiver",
                "metadata": {"team": "platform"},
            },
            response="webhook_endpoint.created",
            model=WebhookEndpoint,
            body={
                "url": "https://api.acme.dev/aurous-webhook",
                "events": ["*"],
                "description": "production receiver",
                "metadata": {"team": "platform"},
            },
        ),
    ),
    "webhook_endpoints_list": (
        Case(
            path="/v1/webhook_endpoints",
            kwargs={"limit": 10},
            response="webhook_endpoints.list",
            model=WebhookEndpoint,
            query={"limit": "10"},
            result="page",
        ),
    ),
    "webhook_endpoints_retrieve": (
        Case(
            path=f"/v1/webhook_endpoints/{ENDPOINT}",
            args=(ENDPOINT,),
            response="webhook_endpoint",
            model=WebhookEndpoint,
        ),
    ),
    "webhook_endpoints_update": (
        Case(
            path=f"/v1/webhook_endpoints/{ENDPOINT}",
            # description=None clears it; arguments left out are not sent at all.
            args=(ENDPOINT,),
            kwargs={"events": ["image.completed"], "description": None, "is_active": True},
            response="webhook_endpoint",
            model=WebhookEndpoint,
            body={"events": ["image.completed"], "description": None, "is_active": True},
        ),
        Case(
            variant="url and metadata",
            path=f"/v1/webhook_endpoints/{ENDPOINT}",
            args=(ENDPOINT,),
            kwargs={"url": "https://api.acme.dev/v2/hook", "metadata": {}},
            response="webhook_endpoint",
            model=WebhookEndpoint,
            body={"url": "https://api.acme.dev/v2/hook", "metadata": {}},
        ),
    ),
    "webhook_endpoints_delete": (
        Case(
            path=f"/v1/webhook_endpoints/{ENDPOINT}",
            args=(ENDPOINT,),
            response="webhook_endpoint.deleted",
            model=WebhookEndpointDeleted,
        ),
    ),
    "webhook_endpoints_rotate_secret": (
        Case(
            path=f"/v1/webhook_endpoints/{ENDPOINT}/rotate_secret",
            args=(ENDPOINT,),
            response="webhook_endpoint.rotated",
            model=WebhookEndpoint,
        ),
    ),
    "webhook_endpoints_test": (
        Case(
            path=f"/v1/webhook_endpoints/{ENDPOINT}/test",
            args=(ENDPOINT,),
            kwargs={"event_type": "image.completed"},
            response="webhook_test_fire",
            model=WebhookTestFire,
            body={"event_type": "image.completed"},
        ),
    ),
    # ---- characters ----------------------------------------------------------------------------
    "characters_uploads_init": (
        Case(
            path="/v1/characters/uploads/init",
            kwargs={
                "filename": "aurora-front.jpg",
                "extension": "jpg",
                "content_type": "image/jpeg",
            },
            response="character_upload",
            model=CharacterUpload,
            body={
                "filename": "aurora-front.jpg",
                "extension": "jpg",
                "content_type": "image/jpeg",
            },
        ),
        Case(
            variant="derived types",
            path="/v1/characters/uploads/init",
            kwargs={"filename": "aurora-front.JPEG"},
            response="character_upload",
            model=CharacterUpload,
            body={
                "filename": "aurora-front.JPEG",
                "extension": "jpeg",
                "content_type": "image/jpeg",
            },
        ),
    ),
    "characters_uploads_upload": (
        Case(
            # The ticket's upload_url, on the upload host of the operation's own server.
            path=TICKET["upload_url"].split("aurous.storage", 1)[1].split("?", 1)[0],
            args=(CharacterUpload.model_validate(TICKET), JPEG),
            response=None,
            model=None,
            query={"signature": TICKET["upload_url"].split("signature=", 1)[1]},
            result="none",
            check_request=_upload_put_request,
        ),
    ),
    "characters_uploads_classify": (
        Case(
            path="/v1/characters/uploads/classify",
            args=(UPLOAD,),
            response="character_upload_classification",
            model=UploadClassification,
            body={"upload_id": UPLOAD},
        ),
    ),
    "characters_create": (
        Case(
            variant="upload flow",
            path="/v1/characters",
            kwargs=REQ_CHAR_UPLOAD,
            response="character",
            model=Character,
            body=REQ_CHAR_UPLOAD,
        ),
        Case(
            variant="synthesize flow",
            path="/v1/characters",
            kwargs=REQ_CHAR_SYNTH,
            response="character.synthesizing",
            model=Character,
            body=REQ_CHAR_SYNTH,
        ),
    ),
    "characters_list": (
        Case(
            path="/v1/characters",
            kwargs={"limit": 2},
            response="characters.list",
            model=Character,
            query={"limit": "2"},
            result="page",
        ),
    ),
    "characters_retrieve": (
        Case(
            path=f"/v1/characters/{CHARACTER}",
            args=(CHARACTER,),
            response="character",
            model=Character,
        ),
    ),
    "characters_update": (
        Case(
            path=f"/v1/characters/{CHARACTER}",
            args=(CHARACTER,),
            kwargs={"name": "Aurora", "attributes": {"hair_color": "silver", "age": 29}},
            response="character",
            model=Character,
            body={"name": "Aurora", "attributes": {"hair_color": "silver", "age": 29}},
        ),
    ),
    "characters_delete": (
        Case(
            path=f"/v1/characters/{CHARACTER}",
            args=(CHARACTER,),
            response="character.deleted",
            model=CharacterDeleted,
        ),
    ),
    "characters_save": (
        Case(
            path=f"/v1/characters/{CHARACTER}/save",
            args=(CHARACTER,),
            response="character",
            model=Character,
        ),
    ),
    "characters_resynthesize": (
        Case(
            path=f"/v1/characters/{SYNTH_CHARACTER}/resynthesize",
            args=(SYNTH_CHARACTER,),
            response="character.synthesizing",
            model=Character,
        ),
        Case(
            variant="force_all",
            path=f"/v1/characters/{SYNTH_CHARACTER}/resynthesize",
            args=(SYNTH_CHARACTER,),
            kwargs={"force_all": True},
            response="character.synthesizing",
            model=Character,
            body={"force_all": True},
        ),
    ),
    "characters_regenerate_ref": (
        Case(
            path=f"/v1/characters/{SYNTH_CHARACTER}/refs/regenerate",
            args=(SYNTH_CHARACTER,),
            kwargs={"pose": "side", "prompt_override": "three-quarter view"},
            response="character.synthesizing",
            model=Character,
            body={"pose": "side", "prompt_override": "three-quarter view"},
        ),
    ),
}


def _case_id(operation_id: str, case: Case) -> str:
    endpoint = TABLE.get(operation_id)
    name = case.sdk or (endpoint.sdk_method if endpoint else None) or operation_id
    return f"{name}[{case.variant}]" if case.variant else name


CASE_PARAMS = [
    pytest.param(operation_id, case, id=_case_id(operation_id, case))
    for operation_id, cases in CASES.items()
    for case in cases
]
WITH_SDK_METHOD = [endpoint for endpoint in ENDPOINTS if endpoint.sdk_method is not None]


def test_cases_are_keyed_by_the_operations_with_an_sdk_method() -> None:
    assert set(CASES).isdisjoint(TESTED_ELSEWHERE)
    assert set(CASES) | set(TESTED_ELSEWHERE) == {e.operation_id for e in WITH_SDK_METHOD}


@pytest.mark.parametrize(
    "endpoint",
    [e for e in WITH_SDK_METHOD if e.operation_id not in TESTED_ELSEWHERE],
    ids=lambda endpoint: endpoint.operation_id,
)
def test_every_sdk_method_of_the_table_has_a_case(endpoint: Endpoint) -> None:
    cases = CASES.get(endpoint.operation_id, ())
    assert {case.sdk_method(endpoint) for case in cases} == set(endpoint.sdk_methods)


@pytest.mark.parametrize(("operation_id", "case"), CASE_PARAMS)
def test_case_fits_its_operation(operation_id: str, case: Case) -> None:
    assert operation_id in TABLE, f"{operation_id} is not an operation of the table"
    endpoint = TABLE[operation_id]
    assert endpoint.matches(case.path), f"{case.path} does not fit {endpoint.label}"
    # A single documented success status, which the mocked server answers with.
    assert len(endpoint.success) == 1, endpoint.success


@pytest.mark.parametrize(("operation_id", "case"), CASE_PARAMS)
def test_route(run: Runner, api: respx.Router, operation_id: str, case: Case) -> None:
    endpoint = TABLE[operation_id]
    body = case.response_body()
    host = host_of(endpoint)
    where = {"host": host} if host else {}
    route = api.route(method=endpoint.method, path=case.path, **where)
    route.mock(return_value=respond(int(endpoint.success[0]), body))

    sdk = case.sdk_method(endpoint)
    result = run(lambda client: sdk_method_of(client, sdk)(*case.args, **case.kwargs))

    assert route.call_count == 1
    request = route.calls.last.request
    assert request.method == endpoint.method
    assert request.url.path == case.path
    assert query_of(request) == case.query

    if case.check_request is not None:
        case.check_request(request)
    elif case.body is NO_BODY:
        assert request.content == b""
        assert "content-type" not in request.headers
    else:
        assert json_of(request) == case.body

    if host is None:
        assert request.headers["x-api-key"] == KEY
        assert request.headers["aurous-version"] == "2026-05-15"
    if endpoint.idempotent:
        assert_uuid4(request.headers["idempotency-key"])
    else:
        assert "idempotency-key" not in request.headers

    _check_result(case, endpoint, result, body)


def _check_result(case: Case, endpoint: Endpoint, result: Any, body: Any) -> None:
    if case.result == "none":
        assert result is None
        return
    assert result._request_id == REQUEST_ID
    if case.result == "model":
        assert type(result) is case.model
        assert result.to_dict() == body
        if endpoint.idempotent:
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


@pytest.mark.parametrize(("operation_id", "case"), CASE_PARAMS)
def test_retry_safety_is_the_tables(
    run: Runner, api: respx.Router, operation_id: str, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the SDK may send again after it may have reached the server is derived from the
    method and the idempotency key, plus what the table declares (``x-aurous-retry-safe``): a
    new POST is never retried by default."""
    import aurous._transport

    endpoint = TABLE[operation_id]
    host = host_of(endpoint)
    where = {"host": host} if host else {}
    api.route(method=endpoint.method, path=case.path, **where).mock(
        return_value=respond(int(endpoint.success[0]), case.response_body())
    )
    seen: list[bool] = []
    attempt = aurous._transport.Transport.attempt

    def record(self: Any, call: Any, *args: Any) -> Any:
        seen.append(call.is_retry_safe)
        return attempt(self, call, *args)

    monkeypatch.setattr(aurous._transport.Transport, "attempt", record)
    sdk = case.sdk_method(endpoint)
    run(lambda client: sdk_method_of(client, sdk)(*case.args, **case.kwargs))
    assert seen == [endpoint.retry_safe], f"{endpoint.label}: table says {endpoint.retry_safe}"
