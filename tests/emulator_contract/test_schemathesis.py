"""Check the served emulator against ``spec/openapi.yaml`` with schemathesis.

The emulator is started in served mode on an ephemeral 127.0.0.1 port. Every response below must
pass two checks: no 5xx (``not_a_server_error``) and a body that matches the schema the document
gives for its status (``response_schema_conformance``).

* ``test_emulator_conforms_to_the_document`` fuzzes every operation with a bounded set of
  requests: the documented examples, the boundary values of the coverage phase (valid and
  invalid), and at most ``MAX_EXAMPLES`` generated cases.
* The ``test_tour_*`` tests walk the success paths that random inputs cannot reach (they need an
  image file, an existing generation, a recent ``start_time`` …) and pin the expected statuses.
* ``test_linked_workflows`` runs the document's OpenAPI links as a bounded state machine.

The signed character upload PUT is skipped: it is not served by the API host. The schema is
loaded at import time (so pytest reports one sub-test per operation); the base URL and the API
key only exist once the emulator runs, so they are passed on each call.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance

from aurous.emulator import Emulator

from .._spec import ENDPOINTS, SPEC_PATH

API_VERSION = "2026-05-15"
MAX_EXAMPLES = 20
# Fixed so that the same requests are generated on every run and a failure is reproducible.
SEED = 20260515
# Operations on an origin of their own (the signed upload PUT): the emulator does not serve them
# under the documented path.
OFF_API_HOST = [endpoint.operation_id for endpoint in ENDPOINTS if endpoint.server is not None]
CHECKS = [not_a_server_error, response_schema_conformance]
IDEMPOTENCY_HEADERS = ("Idempotency-Key", "Aurous-Idempotent-Key")
SUCCESS = {(endpoint.method, endpoint.path): endpoint.success for endpoint in ENDPOINTS}

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        # Pinning the version keeps generated requests from all stopping at step 3 of the
        # evaluation order (unknown_version) instead of reaching the handlers under test.
        "headers": {"Aurous-Version": API_VERSION},
        "request-timeout": 10,
        "generation": {"max-examples": MAX_EXAMPLES, "no-shrink": True, "database": "none"},
    }
)
schema = schemathesis.openapi.from_path(SPEC_PATH, config=CONFIG).exclude(operation_id=OFF_API_HOST)

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Served:
    """The emulator, where it is served, and the default team's key."""

    emu: Emulator
    base_url: str
    api_key: str

    def call(self, case: schemathesis.Case[Any]) -> Any:
        """Send ``case`` and run both checks on the response."""
        headers = {"X-Api-Key": self.api_key, "Aurous-Version": API_VERSION}
        return case.call_and_validate(base_url=self.base_url, headers=headers, checks=CHECKS)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """An emulator served on an ephemeral port, on a manual clock.

    Rate limits are off and the balance and concurrency limit are large so that generated
    requests reach the handlers instead of all ending in 429 / 402 (both documented, so
    conformance would still hold, but nothing behind them would be exercised). The manual clock
    lets the tours move generations and characters forward without sleeping.
    """
    emu = Emulator(
        clock="manual",
        seed=SEED,
        rate_limits=False,
        credits=1_000_000,
        concurrency_limit=100_000,
    )
    with emu.serve(host="127.0.0.1", port=0) as server:
        yield Served(emu, server.base_url, emu.api_key)
    emu.close()


def fresh_idempotency_keys(case: schemathesis.Case[Any]) -> None:
    """Replace valid generated idempotency keys with unique ones.

    Hypothesis reuses small values ("0", "00" …), so most idempotent creates would otherwise end
    in 409 and never reach validation. Keys of invalid length are kept: they test the 400.
    """
    headers = case.headers
    if headers is None:
        return
    for name in IDEMPOTENCY_HEADERS:
        value = headers.get(name)
        if isinstance(value, str) and 1 <= len(value) <= 256:
            headers[name] = str(uuid.uuid4())


@schema.parametrize()
@settings(deadline=timedelta(seconds=5))
def test_emulator_conforms_to_the_document(case: schemathesis.Case[Any], served: Served) -> None:
    fresh_idempotency_keys(case)
    served.call(case)


def test_every_operation_but_the_upload_put_is_fuzzed() -> None:
    labels = set()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        labels.add(result.ok().label)
    assert len(labels) == 43
    assert "PUT /uploads/{upload_id}/upload" not in labels


# -------------------------------------------------------------------------------------------------
# Tours of the success paths
# -------------------------------------------------------------------------------------------------


def png(width: int = 8, height: int = 8) -> bytes:
    """A valid RGB PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def op(method: str, path: str) -> Any:
    return schema[path][method]


def expect(served: Served, status: int, method: str, path: str, **case: Any) -> Any:
    """Call ``method path`` with the given case data, check it, and require ``status``.

    A success status must also be the one the endpoint table documents for the operation.
    """
    response = served.call(op(method, path).Case(**case))
    assert response.status_code == status, (method, path, response.status_code, response.text)
    if status < 400:
        assert str(status) in SUCCESS[method.upper(), path], (method, path, status)
    return response


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_tour_files_images_and_videos(served: Served) -> None:
    file = expect(
        served,
        201,
        "POST",
        "/v1/files",
        body={"file": png(), "purpose": "reference", "metadata": '{"campaign": "tour"}'},
        media_type="multipart/form-data",
    ).json()
    expect(served, 200, "GET", "/v1/files/{id}", path_parameters={"id": file["id"]})

    image_body = {
        "prompt": "a lighthouse at dusk",
        "reference_image_urls": [file["id"]],
        "count": 2,
        "size": "2k_16_9",
        "cfg_rescale": 0.5,
        "denoise_strength": 0.6,
        "enhance_prompt": True,
    }
    image = expect(served, 201, "POST", "/v1/images", body=image_body).json()
    expect(served, 200, "POST", "/v1/images/estimate", body=image_body)
    image_id = {"id": image["id"]}
    served.emu.advance(60)
    retrieved = expect(served, 200, "GET", "/v1/images/{id}", path_parameters=image_id).json()
    assert retrieved["status"] == "succeeded"
    for n, status in (("1", 200), ("2", 404)):
        expect(
            served,
            status,
            "GET",
            "/v1/images/{id}/output/{n}",
            path_parameters={**image_id, "n": n},
        )
    expect(served, 400, "POST", "/v1/images/{id}/cancel", path_parameters=image_id)

    pending = expect(served, 201, "POST", "/v1/images", body={"prompt": "to be cancelled"}).json()
    cancelled = expect(
        served, 200, "POST", "/v1/images/{id}/cancel", path_parameters={"id": pending["id"]}
    ).json()
    assert cancelled["status"] == "cancelled"
    expect(
        served,
        422,
        "GET",
        "/v1/images/{id}/output/{n}",
        path_parameters={"id": pending["id"], "n": "0"},
    )

    video_body = {"first_frame_url": file["id"], "resolution": "480p", "duration": 2}
    video = expect(served, 201, "POST", "/v1/videos", body=video_body).json()
    expect(served, 200, "POST", "/v1/videos/estimate", body=video_body)
    video_id = {"id": video["id"]}
    served.emu.advance(600)
    row = expect(served, 200, "GET", "/v1/images/{id}", path_parameters=video_id).json()
    assert row["media_type"] == "video"
    for headers, status in (({}, 200), ({"Range": "bytes=0-9"}, 206), ({"Range": "bytes=-4"}, 206)):
        expect(
            served,
            status,
            "GET",
            "/v1/videos/{id}/output",
            path_parameters=video_id,
            headers=headers,
        )
    expect(
        served,
        416,
        "GET",
        "/v1/videos/{id}/output",
        path_parameters=video_id,
        headers={"Range": "bytes=999999999-"},
    )

    page = expect(served, 200, "GET", "/v1/images", query={"limit": 1}).json()
    assert page["has_more"] is True
    expect(served, 200, "GET", "/v1/images", query={"starting_after": page["next_cursor"]})
    expect(served, 200, "GET", "/v1/images", query={"ending_before": page["next_cursor"]})

    deleted = expect(served, 200, "DELETE", "/v1/files/{id}", path_parameters={"id": file["id"]})
    assert deleted.json()["deleted"] is True


def test_tour_account_loras_and_usage(served: Served) -> None:
    for path in ("/v1/balance", "/v1/pricing", "/v1/team"):
        expect(served, 200, "GET", path)
    loras = expect(served, 200, "GET", "/v1/loras").json()
    video_loras = expect(served, 200, "GET", "/v1/video_loras").json()
    assert loras
    assert video_loras
    expect(served, 200, "GET", "/v1/loras/{id}", path_parameters={"id": loras[0]["id"]})
    expect(served, 200, "GET", "/v1/video_loras/{id}", path_parameters={"id": video_loras[0]["id"]})
    expect(served, 404, "GET", "/v1/loras/{id}", path_parameters={"id": video_loras[0]["id"]})

    expect(served, 201, "POST", "/v1/images", body={"prompt": "usage row"})
    served.emu.advance(60)
    start = iso(datetime.fromtimestamp(served.emu.now(), timezone.utc) - timedelta(days=1))
    events = expect(
        served, 200, "GET", "/v1/usage/events", query={"start_time": start, "limit": 2}
    ).json()
    assert events["data"]
    usage = expect(
        served,
        200,
        "GET",
        "/v1/usage",
        query={"start_time": start, "bucket_width": "1h", "group_by": ["type", "status"]},
    ).json()
    assert any(bucket["groups"] for bucket in usage["data"])
    # Fuzzing found this edge: years before 1000 are valid RFC 3339 and must be echoed as such
    # (four-digit years) in bucket bounds, or refused with a 400.
    ancient = {"start_time": "0411-12-26T00:00:00Z", "end_time": "0411-12-26T02:00:00Z"}
    response = served.call(op("GET", "/v1/usage").Case(query={**ancient, "bucket_width": "1h"}))
    assert response.status_code in (200, 400)


def test_tour_webhook_endpoints(served: Served) -> None:
    body = {"url": "https://hooks.example.com/aurous", "events": ["*"], "metadata": {"env": "ci"}}
    endpoint = expect(served, 201, "POST", "/v1/webhook_endpoints", body=body).json()
    assert endpoint["secret"]
    endpoint_id = {"id": endpoint["id"]}
    expect(served, 200, "GET", "/v1/webhook_endpoints")
    read = expect(served, 200, "GET", "/v1/webhook_endpoints/{id}", path_parameters=endpoint_id)
    assert read.json()["secret"] is None
    expect(
        served,
        200,
        "PATCH",
        "/v1/webhook_endpoints/{id}",
        path_parameters=endpoint_id,
        body={"is_active": False, "description": None},
    )
    expect(
        served,
        202,
        "POST",
        "/v1/webhook_endpoints/{id}/test",
        path_parameters=endpoint_id,
        body={"event_type": "image.completed"},
    )
    expect(
        served, 200, "POST", "/v1/webhook_endpoints/{id}/rotate_secret", path_parameters=endpoint_id
    )
    expect(served, 200, "DELETE", "/v1/webhook_endpoints/{id}", path_parameters=endpoint_id)
    gone = expect(served, 200, "DELETE", "/v1/webhook_endpoints/{id}", path_parameters=endpoint_id)
    assert gone.json()["deleted"] is False


def test_tour_characters(served: Served) -> None:
    ticket = expect(
        served,
        201,
        "POST",
        "/v1/characters/uploads/init",
        body={"filename": "front.png", "extension": "png", "content_type": "image/png"},
    ).json()
    # Nothing was PUT to the ticket yet, so the upload has no bytes.
    expect(
        served,
        400,
        "POST",
        "/v1/characters/uploads/classify",
        body={"upload_id": ticket["upload_id"]},
    )
    body = {"name": "Tour Guide", "generate": True, "attributes": {"age": 30, "gender": "female"}}
    character = expect(served, 201, "POST", "/v1/characters", body=body).json()
    assert character["status"] == "synthesizing"
    char_id = {"id": character["id"]}
    expect(served, 200, "GET", "/v1/characters")
    expect(
        served,
        200,
        "PATCH",
        "/v1/characters/{id}",
        path_parameters=char_id,
        body={"name": "Tour Guide II"},
    )
    # Not allowed while synthesizing (400 invalid_request), allowed once ready.
    expect(served, 400, "POST", "/v1/characters/{id}/save", path_parameters=char_id)
    served.emu.advance(600)
    ready = expect(served, 200, "GET", "/v1/characters/{id}", path_parameters=char_id).json()
    assert ready["status"] == "ready"
    assert ready["refs"]
    expect(served, 200, "POST", "/v1/characters/{id}/save", path_parameters=char_id)
    expect(served, 200, "POST", "/v1/characters/{id}/resynthesize", path_parameters=char_id)
    served.emu.advance(600)
    expect(
        served,
        200,
        "POST",
        "/v1/characters/{id}/refs/regenerate",
        path_parameters=char_id,
        body={"pose": "side"},
    )
    expect(served, 200, "DELETE", "/v1/characters/{id}", path_parameters=char_id)
    expect(served, 404, "GET", "/v1/characters/{id}", path_parameters=char_id)


def test_tour_legacy_redirects(served: Served) -> None:
    for method, path, params in (
        ("POST", "/v1/generations", {}),
        ("GET", "/v1/generations", {}),
        ("GET", "/v1/generations/{id}", {"id": "img_01KS2D7VBRX1NC1J4R82RJEXE5"}),
        ("POST", "/v1/generations/{id}/cancel", {"id": "img_01KS2D7VBRX1NC1J4R82RJEXE5"}),
        ("POST", "/v1/video-generations", {}),
    ):
        response = expect(served, 308, method, path, path_parameters=params)
        (location,) = response.headers["location"]
        assert location.startswith(served.base_url + "/v1/")


# -------------------------------------------------------------------------------------------------
# Linked workflows
# -------------------------------------------------------------------------------------------------


def test_linked_workflows(served: Served) -> None:
    base = schema.as_state_machine()

    class Workflows(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
            fresh_idempotency_keys(case)
            headers = {"X-Api-Key": served.api_key, "Aurous-Version": API_VERSION}
            return {"base_url": served.base_url, "headers": headers}

        def validate_response(
            self,
            response: schemathesis.Response,
            case: schemathesis.Case[Any],
            additional_checks: Any = None,
            **kwargs: Any,
        ) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Workflows.run(
        settings=settings(
            max_examples=15,
            stateful_step_count=6,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
