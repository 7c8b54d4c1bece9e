"""Checks that ``spec/openapi.yaml`` is a valid OpenAPI 3.1 document describing the whole API.

The document is the contract the emulator is fuzzed against (``test_schemathesis.py``), so this
module pins it to the specification: every route of the endpoint table with its success status,
idempotency, scope and rate-limit bucket; the error responses; open versus closed enums; and every
JSON fixture in ``tests/fixtures`` validating against the component schema it is an example of.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "spec" / "openapi.yaml"
FIXTURES = ROOT / "tests" / "fixtures"

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Route:
    """One row of the endpoint summary table (README.md)."""

    method: str
    path: str
    operation_id: str
    success: tuple[str, ...]
    idempotent: bool
    buckets: tuple[str, ...]


def _route(
    method: str,
    path: str,
    operation_id: str,
    success: str,
    bucket: str | tuple[str, ...] = (),
    *,
    idempotent: bool = False,
) -> Route:
    buckets = (bucket,) if isinstance(bucket, str) else bucket
    return Route(method, path, operation_id, tuple(success.split("/")), idempotent, buckets)


# The endpoint summary of the specification, row by row. The signed upload PUT is documented on its
# own upload host under the URL shape the documentation shows (`upload_url` itself is opaque).
ROUTES: tuple[Route, ...] = (
    _route("post", "/v1/images", "images_create", "201", "images_post", idempotent=True),
    _route("post", "/v1/images/estimate", "images_estimate", "200", "estimate_post"),
    _route("get", "/v1/images", "images_list", "200", "reads"),
    _route("get", "/v1/images/{id}", "images_retrieve", "200", "reads"),
    _route("post", "/v1/images/{id}/cancel", "images_cancel", "200", "images_post"),
    _route("get", "/v1/images/{id}/output/{n}", "images_download", "200", "reads"),
    _route("post", "/v1/videos", "videos_create", "201", "images_post", idempotent=True),
    _route("post", "/v1/videos/estimate", "videos_estimate", "200", "estimate_post"),
    _route("get", "/v1/videos/{id}/output", "videos_download", "200/206", "reads"),
    _route("get", "/v1/loras", "loras_list", "200", "reads"),
    _route("get", "/v1/loras/{id}", "loras_retrieve", "200", "reads"),
    _route("get", "/v1/video_loras", "video_loras_list", "200", "reads"),
    _route("get", "/v1/video_loras/{id}", "video_loras_retrieve", "200", "reads"),
    _route("get", "/v1/balance", "balance_retrieve", "200", "reads"),
    _route("get", "/v1/pricing", "pricing_retrieve", "200", "reads"),
    _route("get", "/v1/team", "team_retrieve", "200", "reads"),
    _route("get", "/v1/usage", "usage_list", "200", "reads"),
    _route("get", "/v1/usage/events", "usage_list_events", "200", "reads"),
    _route("post", "/v1/files", "files_create", "201", "files_post", idempotent=True),
    _route("get", "/v1/files/{id}", "files_retrieve", "200", "reads"),
    _route("delete", "/v1/files/{id}", "files_delete", "200", "files_post"),
    _route(
        "post", "/v1/webhook_endpoints", "webhook_endpoints_create", "201", "webhook_endpoints_post"
    ),
    _route("get", "/v1/webhook_endpoints", "webhook_endpoints_list", "200", "reads"),
    _route("get", "/v1/webhook_endpoints/{id}", "webhook_endpoints_retrieve", "200", "reads"),
    _route(
        "patch",
        "/v1/webhook_endpoints/{id}",
        "webhook_endpoints_update",
        "200",
        "webhook_endpoints_post",
    ),
    _route(
        "delete",
        "/v1/webhook_endpoints/{id}",
        "webhook_endpoints_delete",
        "200",
        "webhook_endpoints_post",
    ),
    _route(
        "post",
        "/v1/webhook_endpoints/{id}/rotate_secret",
        "webhook_endpoints_rotate_secret",
        "200",
        "webhook_endpoints_post",
    ),
    _route(
        "post", "/v1/webhook_endpoints/{id}/test", "webhook_endpoints_test", "202", "webhooks_test"
    ),
    _route(
        "post", "/v1/characters/uploads/init", "characters_uploads_init", "201", "characters_post"
    ),
    _route("put", "/uploads/{upload_id}/upload", "characters_uploads_upload", "200"),
    _route(
        "post",
        "/v1/characters/uploads/classify",
        "characters_uploads_classify",
        "200",
        "characters_post",
    ),
    _route(
        "post",
        "/v1/characters",
        "characters_create",
        "201",
        ("characters_post", "characters_synthesize"),
    ),
    _route("get", "/v1/characters", "characters_list", "200", "characters_get"),
    _route("get", "/v1/characters/{id}", "characters_retrieve", "200", "characters_get"),
    _route("patch", "/v1/characters/{id}", "characters_update", "200", "characters_post"),
    _route("delete", "/v1/characters/{id}", "characters_delete", "200", "characters_post"),
    _route("post", "/v1/characters/{id}/save", "characters_save", "200", "characters_post"),
    _route(
        "post",
        "/v1/characters/{id}/resynthesize",
        "characters_resynthesize",
        "200",
        "characters_synthesize",
        idempotent=True,
    ),
    _route(
        "post",
        "/v1/characters/{id}/refs/regenerate",
        "characters_regenerate_ref",
        "200",
        "characters_synthesize",
        idempotent=True,
    ),
    _route("post", "/v1/generations", "legacy_generations_create", "308"),
    _route("get", "/v1/generations", "legacy_generations_list", "308"),
    _route("get", "/v1/generations/{id}", "legacy_generations_retrieve", "308"),
    _route("post", "/v1/generations/{id}/cancel", "legacy_generations_cancel", "308"),
    _route("post", "/v1/video-generations", "legacy_video_generations_create", "308"),
)

# Operations that are not authenticated with an API key: legacy redirects happen before
# authentication, and the upload PUT is authenticated by its URL signature.
UNAUTHENTICATED = {
    "characters_uploads_upload",
    "legacy_generations_create",
    "legacy_generations_list",
    "legacy_generations_retrieve",
    "legacy_generations_cancel",
    "legacy_video_generations_create",
}
# Operations served outside the API host's JSON error conventions.
NOT_ON_API_HOST = {"characters_uploads_upload"}

# Fixture file → component schema it is an example of. Every fixture must be listed, so a new
# fixture cannot slip in unchecked.
FIXTURE_SCHEMAS: dict[str, str] = {
    "balance.exempt.json": "Balance",
    "balance.json": "Balance",
    "character.deleted.json": "CharacterDeleted",
    "character.json": "Character",
    "character.ready.synthesized.json": "Character",
    "character.synthesizing.json": "Character",
    "character_upload.json": "CharacterUploadTicket",
    "character_upload_classification.json": "CharacterUploadClassification",
    "characters.list.json": "CharacterList",
    "error.balance_too_low.json": "ErrorEnvelope",
    "error.character_not_ready.json": "ErrorEnvelope",
    "error.concurrency_limit_exceeded.json": "ErrorEnvelope",
    "error.generation_not_cancellable.json": "ErrorEnvelope",
    "error.idempotency_key_in_use.json": "ErrorEnvelope",
    "error.internal_error.json": "ErrorEnvelope",
    "error.invalid_api_key.json": "ErrorEnvelope",
    "error.invalid_page_token.json": "ErrorEnvelope",
    "error.missing_api_key.json": "ErrorEnvelope",
    "error.missing_field.json": "ErrorEnvelope",
    "error.missing_scope.json": "ErrorEnvelope",
    "error.mutually_exclusive_input.json": "ErrorEnvelope",
    "error.output_expired.json": "ErrorEnvelope",
    "error.output_not_available.json": "ErrorEnvelope",
    "error.parameter_invalid_combination.json": "ErrorEnvelope",
    "error.prompt_blocked.json": "ErrorEnvelope",
    "error.rate_limited.json": "ErrorEnvelope",
    "error.resource_not_found.json": "ErrorEnvelope",
    "error.unknown_version.json": "ErrorEnvelope",
    "error.upload_invalid.json": "ErrorEnvelope",
    "error.value_out_of_range.json": "ErrorEnvelope",
    "estimate.json": "Estimate",
    "estimate.video.json": "Estimate",
    "event.character.completed.json": "Event",
    "event.image.cancelled.json": "Event",
    "event.image.completed.json": "Event",
    "event.image.completed.synthetic.json": "Event",
    "event.image.failed.json": "Event",
    "event.usage.balance_low.json": "Event",
    "event.video.completed.json": "Event",
    "event.webhook.endpoint_disabled.json": "Event",
    "file.deleted.json": "FileDeleted",
    "file.json": "File",
    "generation.cancelled.image.json": "Generation",
    "generation.failed.image.json": "Generation",
    "generation.pending.image.json": "Generation",
    "generation.pending.video.json": "Generation",
    "generation.processing.video.json": "Generation",
    "generation.succeeded.image.batch.json": "Generation",
    "generation.succeeded.image.character.json": "Generation",
    "generation.succeeded.image.json": "Generation",
    "generation.succeeded.image.multi_lora.json": "Generation",
    "generation.succeeded.video.json": "Generation",
    "generations.list.json": "GenerationList",
    "lora.json": "Lora",
    "loras.json": "LoraArray",
    "pricing.json": "Pricing",
    "request.character.create.synthesize.json": "CharacterCreateRequest",
    "request.character.create.upload.json": "CharacterCreateRequest",
    "request.image.create.character.json": "ImageCreateRequest",
    "request.image.create.json": "ImageCreateRequest",
    "request.image.create.multi_lora.json": "ImageCreateRequest",
    "request.video.create.i2v.json": "VideoCreateRequest",
    "request.video.create.json": "VideoCreateRequest",
    "request.webhook_endpoint.create.json": "WebhookEndpointCreateRequest",
    "team.json": "Team",
    "usage.json": "UsageBucketList",
    "usage_events.json": "UsageEventList",
    "video_lora.json": "VideoLora",
    "video_loras.json": "VideoLoraArray",
    "webhook_endpoint.created.json": "WebhookEndpoint",
    "webhook_endpoint.deleted.json": "WebhookEndpointDeleted",
    "webhook_endpoint.json": "WebhookEndpoint",
    "webhook_endpoint.rotated.json": "WebhookEndpoint",
    "webhook_endpoints.list.json": "WebhookEndpointList",
    # Not a resource: its `body` (the raw signed delivery) is an event envelope.
    "webhook_signature.example.json": "Event",
    "webhook_test_fire.json": "WebhookTestFire",
    "webhook_url.image.completed.json": "GenerationCallback",
    "webhook_url.video.failed.json": "GenerationCallback",
}

# resources.md / errors.md mark these as open enums: a string with known values, never closed.
OPEN_ENUM_SCHEMAS = (
    "GenerationStatus",
    "InferenceType",
    "BillingMode",
    "EventType",
    "CharacterStatus",
    "UsageStatus",
    "UsageEventType",
)
OPEN_ENUM_PROPERTIES = (
    ("Generation", "media_type"),
    ("Generation", "size_preset"),
    ("Error", "type"),
    ("Error", "code"),
)
CLOSED_ENUM_SCHEMAS = {
    "Currency": {"credit"},
    "Pose": {"portrait", "front", "side", "back", "other"},
    "VideoResolution": {"480p", "720p", "1080p"},
    "VideoRatio": {"16:9", "4:3", "1:1", "3:4", "9:16", "21:9"},
    "FilePurpose": {"reference", "first_frame", "last_frame"},
    "KnownEventType": {
        "image.completed",
        "image.failed",
        "image.cancelled",
        "video.completed",
        "video.failed",
        "video.cancelled",
        "usage.balance_low",
        "webhook.endpoint_disabled",
        "character.completed",
        "character.failed",
        "character.cancelled",
    },
    "SizePreset": {
        f"{tier}_{ratio}" for tier in ("2k", "4k") for ratio in ("1_1", "3_2", "2_3", "4_3")
    }
    | {f"{tier}_{ratio}" for tier in ("2k", "4k") for ratio in ("3_4", "16_9", "9_16", "21_9")},
}
IMAGE_ONLY_FIELDS = (
    "negative_prompt",
    "output_urls",
    "reference_image_urls",
    "width",
    "height",
    "image_count",
    "size_preset",
    "cfg_rescale",
    "denoise_strength",
    "seed",
    "character_id",
)
VIDEO_ONLY_FIELDS = (
    "output_video_url",
    "video_duration",
    "video_resolution",
    "video_ratio",
    "video_camera_fixed",
)


def load_document() -> dict[str, Any]:
    """The parsed ``spec/openapi.yaml``."""
    document = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return load_document()


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def validator(document: dict[str, Any], schema_name: str) -> jsonschema_rs.Validator:
    """A JSON Schema 2020-12 validator for one component schema, with its ``$ref``s resolvable."""
    root = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": f"#/components/schemas/{schema_name}",
        "components": document["components"],
    }
    return jsonschema_rs.Draft202012Validator(root)


def assert_valid(document: dict[str, Any], schema_name: str, instance: Any) -> None:
    errors = [
        f"{'/'.join(map(str, error.instance_path)) or '<root>'}: {error.message}"
        for error in validator(document, schema_name).iter_errors(instance)
    ]
    assert not errors, f"{schema_name}: " + "; ".join(errors)


def resolve(document: dict[str, Any], node: Any) -> Any:
    """Follow local ``$ref``s until a node without one is reached."""
    while isinstance(node, dict) and "$ref" in node:
        node = pointer(document, node["$ref"])
    return node


def pointer(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"only local references are used, got {ref}"
    node: Any = document
    for part in ref[2:].split("/"):
        key = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict), f"{ref}: cannot descend into {key!r}"
        assert key in node, f"{ref}: {key!r} does not exist"
        node = node[key]
    return node


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield method, path, item[method]


def operation(document: dict[str, Any], route: Route) -> dict[str, Any]:
    item = document["paths"].get(route.path)
    assert item is not None, f"path {route.path} is missing"
    assert route.method in item, f"{route.method.upper()} {route.path} is missing"
    op: dict[str, Any] = item[route.method]
    return op


def parameter_names(document: dict[str, Any], op: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (param["in"], param["name"])
        for param in (resolve(document, p) for p in op.get("parameters", []))
    }


# -------------------------------------------------------------------------------------------------
# The document as a whole
# -------------------------------------------------------------------------------------------------


def test_document_is_openapi_3_1(document: dict[str, Any]) -> None:
    # schemathesis ships the official OpenAPI 3.1 JSON Schema of the document structure.
    from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

    assert str(document["openapi"]).startswith("3.1.")
    errors = [
        f"{'/'.join(map(str, error.instance_path))}: {error.message}"
        for error in OPENAPI_31_VALIDATOR.iter_errors(document)
    ]
    assert not errors, "\n".join(errors)


def test_schemathesis_loads_every_operation() -> None:
    import schemathesis
    from schemathesis.core.result import Ok

    schema = schemathesis.openapi.from_path(SPEC_PATH)
    labels = set()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        op = result.ok()
        labels.add(f"{op.method.upper()} {op.path}")
    assert labels == {f"{route.method.upper()} {route.path}" for route in ROUTES}


def test_component_schemas_are_valid_json_schema_2020_12(document: dict[str, Any]) -> None:
    for name, schema in document["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs = [node["$ref"] for node in walk(document) if isinstance(node, dict) and "$ref" in node]
    assert refs
    for ref in refs:
        pointer(document, ref)


def test_every_component_schema_is_used(document: dict[str, Any]) -> None:
    used = {
        node["$ref"].rsplit("/", 1)[1]
        for node in walk(document)
        if isinstance(node, dict) and str(node.get("$ref", "")).startswith("#/components/schemas/")
    }
    assert set(document["components"]["schemas"]) - used == set()


def test_nullability_uses_3_1_type_lists(document: dict[str, Any]) -> None:
    # 3.0's `nullable: true` is not a 3.1 keyword and would be silently ignored by validators.
    offenders = [node for node in walk(document) if isinstance(node, dict) and "nullable" in node]
    assert offenders == []


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids))


def test_security_schemes(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKeyAuth"] == {**schemes["ApiKeyAuth"], "type": "apiKey", "in": "header"}
    assert schemes["ApiKeyAuth"]["name"] == "X-Api-Key"
    assert schemes["BearerAuth"]["type"] == "http"
    assert schemes["BearerAuth"]["scheme"] == "bearer"
    assert schemes["OutputToken"] == {**schemes["OutputToken"], "in": "query", "name": "token"}


# -------------------------------------------------------------------------------------------------
# Routes of the endpoint table
# -------------------------------------------------------------------------------------------------


def test_no_route_beyond_the_endpoint_table(document: dict[str, Any]) -> None:
    documented = {(method, path) for method, path, _ in operations(document)}
    assert documented == {(route.method, route.path) for route in ROUTES}


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.operation_id)
def test_route_is_documented(document: dict[str, Any], route: Route) -> None:
    op = operation(document, route)
    assert op["operationId"] == route.operation_id
    statuses = set(op["responses"])
    assert {code for code in statuses if code[0] in "23"} == set(route.success)
    assert op.get("x-rate-limit-bucket") == list(route.buckets)
    has_key = ("header", IDEMPOTENCY_HEADER) in parameter_names(document, op)
    assert has_key is route.idempotent


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.operation_id)
def test_route_security_and_version_header(document: dict[str, Any], route: Route) -> None:
    op = operation(document, route)
    security = op.get("security", document["security"])
    if route.operation_id in UNAUTHENTICATED:
        assert security == []
        return
    scope = "read" if route.method == "get" else "write"
    assert {"ApiKeyAuth": [scope]} in security
    assert {"BearerAuth": [scope]} in security
    downloads = {"images_download", "videos_download"}
    assert ({"OutputToken": []} in security) is (route.operation_id in downloads)
    assert ("header", "Aurous-Version") in parameter_names(document, op)


@pytest.mark.parametrize(
    "route",
    [route for route in ROUTES if route.operation_id not in NOT_ON_API_HOST],
    ids=lambda route: route.operation_id,
)
def test_route_error_responses(document: dict[str, Any], route: Route) -> None:
    op = operation(document, route)
    for status, response in op["responses"].items():
        body = resolve(document, response)
        headers = body.get("headers", {})
        assert "Aurous-Request-Id" in headers, status
        assert "Aurous-Version" in headers, status
        if status[0] not in "45":
            continue
        schema = body["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}, status
        if status == "429":
            assert resolve(document, headers["Retry-After"])["required"] is True
        if status == "401":
            assert not any(name.startswith("X-RateLimit-") for name in headers)
    statuses = set(op["responses"])
    if route.operation_id in UNAUTHENTICATED:
        assert statuses == {"308"}
        return
    assert {"400", "401", "429", "500", "502", "503", "504"} <= statuses
    assert ("403" in statuses) is (route.method != "get")


def test_legacy_redirect_headers(document: dict[str, Any]) -> None:
    redirect = document["components"]["responses"]["LegacyRedirect"]
    assert {"Location", "Aurous-Deprecated", "Sunset"} <= set(redirect["headers"])
    assert "content" not in redirect


def test_output_download_outcomes(document: dict[str, Any]) -> None:
    image = document["paths"]["/v1/images/{id}/output/{n}"]["get"]["responses"]
    video = document["paths"]["/v1/videos/{id}/output"]["get"]["responses"]
    assert {"200", "404", "410", "422"} <= set(image)
    assert "206" not in image
    assert "416" not in image
    assert {"200", "206", "404", "410", "416", "422"} <= set(video)
    assert "image/png" in image["200"]["content"]
    assert "video/mp4" in video["206"]["content"]
    assert "Content-Range" in video["206"]["headers"]
    assert "Content-Range" in resolve(document, video["416"])["headers"]


def test_files_create_is_multipart(document: dict[str, Any]) -> None:
    body = document["paths"]["/v1/files"]["post"]["requestBody"]
    assert list(body["content"]) == ["multipart/form-data"]
    schema = resolve(document, body["content"]["multipart/form-data"]["schema"])
    assert set(schema["required"]) == {"file", "purpose"}


def test_query_parameter_ranges(document: dict[str, Any]) -> None:
    def limit(path: str) -> dict[str, Any]:
        op = document["paths"][path]["get"]
        params = [resolve(document, p) for p in op["parameters"]]
        (param,) = [p for p in params if p["name"] == "limit"]
        schema: dict[str, Any] = param["schema"]
        return schema

    for path in ("/v1/images", "/v1/characters", "/v1/webhook_endpoints"):
        assert limit(path) == {**limit(path), "minimum": 1, "maximum": 100, "default": 20}
    assert limit("/v1/usage") == {**limit("/v1/usage"), "minimum": 1, "maximum": 100, "default": 24}
    events = limit("/v1/usage/events")
    assert events == {**events, "minimum": 1, "maximum": 500, "default": 100}


# -------------------------------------------------------------------------------------------------
# Enums and field presence
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", OPEN_ENUM_SCHEMAS)
def test_open_enum_schemas_are_plain_strings(document: dict[str, Any], name: str) -> None:
    schema = document["components"]["schemas"][name]
    assert schema["type"] == "string"
    assert "enum" not in schema
    assert "const" not in schema
    assert schema["examples"]


@pytest.mark.parametrize(("schema_name", "field"), OPEN_ENUM_PROPERTIES)
def test_open_enum_properties_are_plain_strings(
    document: dict[str, Any], schema_name: str, field: str
) -> None:
    prop = document["components"]["schemas"][schema_name]["properties"][field]
    assert "enum" not in prop
    assert prop["examples"]
    assert "string" in (prop["type"] if isinstance(prop["type"], list) else [prop["type"]])


@pytest.mark.parametrize(("name", "values"), sorted(CLOSED_ENUM_SCHEMAS.items()))
def test_closed_enums(document: dict[str, Any], name: str, values: set[str]) -> None:
    assert set(document["components"]["schemas"][name]["enum"]) == values


def test_media_specific_generation_fields_are_not_required(document: dict[str, Any]) -> None:
    generation = document["components"]["schemas"]["Generation"]
    required = set(generation["required"])
    assert required.isdisjoint(IMAGE_ONLY_FIELDS)
    assert required.isdisjoint(VIDEO_ONLY_FIELDS)
    assert set(IMAGE_ONLY_FIELDS) | set(VIDEO_ONLY_FIELDS) <= set(generation["properties"])


# -------------------------------------------------------------------------------------------------
# Fixtures and examples against the schemas
# -------------------------------------------------------------------------------------------------


def test_every_fixture_is_mapped_to_a_schema(document: dict[str, Any]) -> None:
    assert {path.name for path in FIXTURES.glob("*.json")} == set(FIXTURE_SCHEMAS)
    assert set(FIXTURE_SCHEMAS.values()) <= set(document["components"]["schemas"])


@pytest.mark.parametrize(("name", "schema_name"), sorted(FIXTURE_SCHEMAS.items()))
def test_fixture_validates(document: dict[str, Any], name: str, schema_name: str) -> None:
    instance = fixture(name)
    if name == "webhook_signature.example.json":
        instance = json.loads(instance["body"])
    assert_valid(document, schema_name, instance)


def test_document_examples_validate(document: dict[str, Any]) -> None:
    checked = 0
    for media in walk(document):
        if not (isinstance(media, dict) and "schema" in media and "examples" in media):
            continue
        schema = resolve(document, media["schema"])
        if not isinstance(media["examples"], dict):
            continue
        for example in media["examples"].values():
            root = {**schema, "components": document["components"]}
            errors = list(jsonschema_rs.Draft202012Validator(root).iter_errors(example["value"]))
            assert not errors, (example.get("summary"), [e.message for e in errors])
            checked += 1
    assert checked >= 10


# Mutations of valid fixtures that each break exactly one rule of the specification.
def _drop(key: str) -> Any:
    def mutate(instance: dict[str, Any]) -> None:
        del instance[key]

    return mutate


def _set(key: str, value: Any) -> Any:
    def mutate(instance: dict[str, Any]) -> None:
        instance[key] = value

    return mutate


INVALID_CASES: list[tuple[str, str, str, Any]] = [
    ("image row without width", "generation.succeeded.image.json", "Generation", _drop("width")),
    (
        "image row without output_urls",
        "generation.pending.image.json",
        "Generation",
        _drop("output_urls"),
    ),
    (
        "image row with a null prompt",
        "generation.succeeded.image.json",
        "Generation",
        _set("prompt", None),
    ),
    (
        "video row without video_ratio",
        "generation.succeeded.video.json",
        "Generation",
        _drop("video_ratio"),
    ),
    (
        "video row with a bad resolution",
        "generation.succeeded.video.json",
        "Generation",
        _set("video_resolution", "4k"),
    ),
    ("generation without status", "generation.succeeded.video.json", "Generation", _drop("status")),
    (
        "generation with a wrong object",
        "generation.succeeded.image.json",
        "Generation",
        _set("object", "generation"),
    ),
    (
        "image_count above 4",
        "generation.succeeded.image.json",
        "Generation",
        _set("image_count", 5),
    ),
    (
        "character ref with an unknown pose",
        "character.json",
        "Character",
        _set("refs", [{"pose": "sideways", "url": "https://x"}]),
    ),
    (
        "character without client_reference_id",
        "character.json",
        "Character",
        _drop("client_reference_id"),
    ),
    ("balance without held_credits", "balance.json", "Balance", _drop("held_credits")),
    ("estimate currency other than credit", "estimate.json", "Estimate", _set("currency", "usd")),
    (
        "image event carrying a balance",
        "event.image.completed.json",
        "Event",
        _set("data", fixture("balance.json")),
    ),
    (
        "balance event carrying a generation",
        "event.usage.balance_low.json",
        "Event",
        _set("data", fixture("generation.succeeded.image.json")),
    ),
    ("list without next_cursor", "generations.list.json", "GenerationList", _drop("next_cursor")),
    (
        "usage list with next_cursor instead of next_page",
        "usage.json",
        "UsageBucketList",
        _drop("next_page"),
    ),
    (
        "webhook endpoint without secret key",
        "webhook_endpoint.json",
        "WebhookEndpoint",
        _drop("secret"),
    ),
    ("file with an unsupported mime type", "file.json", "File", _set("mime_type", "image/gif")),
    (
        "image create with count 5",
        "request.image.create.json",
        "ImageCreateRequest",
        _set("count", 5),
    ),
    (
        "image create with a whitespace prompt",
        "request.image.create.json",
        "ImageCreateRequest",
        _set("prompt", "   "),
    ),
    (
        "image create with width but no height",
        "request.image.create.json",
        "ImageCreateRequest",
        _set("width", 2048),
    ),
    (
        "image create with a retired preset",
        "request.image.create.json",
        "ImageCreateRequest",
        _set("size", "square"),
    ),
    (
        "image create with an http webhook",
        "request.image.create.json",
        "ImageCreateRequest",
        _set("webhook_url", "http://example.com/hook"),
    ),
    (
        "video create with last frame only",
        "request.video.create.i2v.json",
        "VideoCreateRequest",
        _drop("first_frame_url"),
    ),
    (
        "video create with duration 13",
        "request.video.create.json",
        "VideoCreateRequest",
        _set("duration", 13),
    ),
    (
        "character create with both flows",
        "request.character.create.synthesize.json",
        "CharacterCreateRequest",
        _set("upload_ids", ["upl_01KRX8AR20K4JY7JD5M1NWXS5Y"]),
    ),
    (
        "character create with an unknown attribute",
        "request.character.create.upload.json",
        "CharacterCreateRequest",
        _set("attributes", {"height": "tall"}),
    ),
    (
        "webhook create with no events",
        "request.webhook_endpoint.create.json",
        "WebhookEndpointCreateRequest",
        _set("events", []),
    ),
    (
        "webhook create with an unknown event",
        "request.webhook_endpoint.create.json",
        "WebhookEndpointCreateRequest",
        _set("events", ["image.exploded"]),
    ),
]


@pytest.mark.parametrize(
    ("fixture_name", "schema_name", "mutate"),
    [case[1:] for case in INVALID_CASES],
    ids=[case[0] for case in INVALID_CASES],
)
def test_schema_rejects(
    document: dict[str, Any], fixture_name: str, schema_name: str, mutate: Any
) -> None:
    instance = copy.deepcopy(fixture(fixture_name))
    assert validator(document, schema_name).is_valid(instance)
    mutate(instance)
    assert not validator(document, schema_name).is_valid(instance)


def test_video_create_without_prompt_needs_a_first_frame(document: dict[str, Any]) -> None:
    assert validator(document, "VideoCreateRequest").is_valid({"first_frame_url": "file_X"})
    assert not validator(document, "VideoCreateRequest").is_valid({"resolution": "720p"})


def test_patch_bodies_are_whitelists(document: dict[str, Any]) -> None:
    assert not validator(document, "WebhookEndpointUpdateRequest").is_valid({"secret": "x"})
    assert validator(document, "WebhookEndpointUpdateRequest").is_valid({"description": None})
    assert not validator(document, "CharacterUpdateRequest").is_valid({"status": "ready"})
    assert validator(document, "CharacterUpdateRequest").is_valid({"name": "Aurora"})


VALID_CASES: list[tuple[str, str, str, Any]] = [
    (
        "unknown generation status",
        "generation.pending.image.json",
        "Generation",
        _set("status", "archived"),
    ),
    (
        "unknown media type and inference type",
        "generation.pending.video.json",
        "Generation",
        lambda g: g.update(media_type="audio", inference_type="t2a"),
    ),
    (
        "null media type (legacy row)",
        "generation.succeeded.image.json",
        "Generation",
        _set("media_type", None),
    ),
    (
        "retired size preset on a row",
        "generation.succeeded.image.json",
        "Generation",
        _set("size_preset", "hd_square"),
    ),
    (
        "video row carrying image keys set to null",
        "generation.succeeded.video.json",
        "Generation",
        lambda g: g.update(dict.fromkeys(IMAGE_ONLY_FIELDS)),
    ),
    (
        "image row carrying video keys set to null",
        "generation.succeeded.image.json",
        "Generation",
        lambda g: g.update(dict.fromkeys(VIDEO_ONLY_FIELDS)),
    ),
    (
        "unknown extra field",
        "generation.succeeded.image.json",
        "Generation",
        _set("future_field", {"x": 1}),
    ),
    ("unknown billing mode", "balance.json", "Balance", _set("billing_mode", "prepaid")),
    ("unknown character status", "character.json", "Character", _set("status", "archived")),
    (
        "unknown event type with any data",
        "event.usage.balance_low.json",
        "Event",
        lambda e: e.update(type="model.trained", data={"anything": True}),
    ),
    (
        "cost without currency",
        "estimate.json",
        "Estimate",
        lambda e: e["estimated_cost"].pop("currency"),
    ),
    (
        "error without param and doc_url",
        "error.internal_error.json",
        "ErrorEnvelope",
        lambda e: [e["error"].pop("param"), e["error"].pop("doc_url")],
    ),
    (
        "unknown error type and code",
        "error.internal_error.json",
        "ErrorEnvelope",
        lambda e: e["error"].update(type="teapot", code="short_and_stout"),
    ),
    (
        "lora with optional fields absent",
        "lora.json",
        "Lora",
        lambda lora: [lora.pop(k) for k in ("slug", "description", "has_template")],
    ),
    (
        "unknown usage event type and status",
        "usage_events.json",
        "UsageEventList",
        lambda page: page["data"][0].update(type="chat", status="throttled"),
    ),
]


@pytest.mark.parametrize(
    ("fixture_name", "schema_name", "mutate"),
    [case[1:] for case in VALID_CASES],
    ids=[case[0] for case in VALID_CASES],
)
def test_schema_tolerates(
    document: dict[str, Any], fixture_name: str, schema_name: str, mutate: Any
) -> None:
    instance = copy.deepcopy(fixture(fixture_name))
    mutate(instance)
    assert_valid(document, schema_name, instance)
