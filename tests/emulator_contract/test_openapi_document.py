"""Checks that ``spec/openapi.yaml`` is a valid OpenAPI 3.1 document describing the whole API.

The document is the contract the emulator is fuzzed against (``test_schemathesis.py``) and the
endpoint table every other route list is derived from (``tests/_spec.py``). This module checks the
rules each operation must follow given its row of that table (idempotency header, scope, rate-limit
buckets, success and error responses); open versus closed enums; and every JSON fixture in
``tests/fixtures`` validating against the component schema it is an example of.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from .._spec import (
    ENDPOINTS,
    HTTP_METHODS,
    SPEC_PATH,
    Endpoint,
    SpecError,
    endpoints_of,
    load_document,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_ALIAS = "Aurous-Idempotent-Key"

# Operations that take an output token (`?token=`) besides an API key. Listed here because the
# token is a rule of these two routes, not something the endpoint table records.
TOKEN_OPERATIONS = {"images_download", "videos_download"}
# The one route that answers a byte range with 206 besides its 200.
RANGE_OPERATIONS = {"videos_download"}


def _is_legacy(endpoint: Endpoint) -> bool:
    """A legacy redirect: the SDK has no method for it."""
    return endpoint.sdk_method is None


def _off_api_host(endpoint: Endpoint) -> bool:
    """Served on its own origin (the signed upload URL), outside the API host's conventions."""
    return endpoint.server is not None


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

# Open enums: a string with known values listed as examples, never a closed enum.
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


def operation(document: dict[str, Any], endpoint: Endpoint) -> dict[str, Any]:
    op: dict[str, Any] = document["paths"][endpoint.path][endpoint.method.lower()]
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
    assert labels == {endpoint.label for endpoint in ENDPOINTS}


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


def test_every_operation_is_a_row_of_the_endpoint_table(document: dict[str, Any]) -> None:
    documented = [
        (method.upper(), path, op["operationId"]) for method, path, op in operations(document)
    ]
    assert documented == [(e.method, e.path, e.operation_id) for e in ENDPOINTS]


def test_operations_carry_no_other_extensions(document: dict[str, Any]) -> None:
    # x-rate-limit-bucket became x-aurous-bucket; a leftover would be a second, unchecked source.
    assert not [
        (op["operationId"], key)
        for _, _, op in operations(document)
        for key in op
        if key.startswith("x-") and not key.startswith("x-aurous-")
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda op: op.pop("x-aurous-sdk-method"), "x-aurous-sdk-method is missing"),
        (lambda op: op.pop("x-aurous-bucket"), "x-aurous-bucket is missing"),
        (lambda op: op.update({"x-aurous-sdk-method": "create"}), "dotted method path"),
        (lambda op: op.update({"x-aurous-bucket": "images_post"}), "list of distinct bucket"),
        (lambda op: op.update({"x-aurous-idempotent": "yes"}), "must be a boolean"),
        (lambda op: op.update({"x-aurous-idempotnet": True}), "unknown extensions"),
        (
            lambda op: op.update({"x-aurous-sdk-method": None, "x-aurous-sdk-aliases": ["a.b"]}),
            "without x-aurous-sdk-method",
        ),
        (lambda op: op.update({"x-aurous-sdk-method": "images.list"}), "named twice"),
    ],
    ids=[
        "no sdk method",
        "no bucket",
        "undotted method",
        "bucket not a list",
        "idempotent not a bool",
        "misspelt extension",
        "aliases without a method",
        "method named twice",
    ],
)
def test_the_table_reader_refuses_malformed_rows(
    document: dict[str, Any], change: Any, message: str
) -> None:
    endpoints_of(document)
    broken = copy.deepcopy(document)
    change(broken["paths"]["/v1/images"]["post"])
    with pytest.raises(SpecError, match=message):
        endpoints_of(broken)


def test_rule_lists_name_operations_of_the_table() -> None:
    ids = {endpoint.operation_id for endpoint in ENDPOINTS}
    assert ids >= TOKEN_OPERATIONS
    assert ids >= RANGE_OPERATIONS


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.operation_id)
def test_route_is_documented(document: dict[str, Any], endpoint: Endpoint) -> None:
    op = operation(document, endpoint)
    params = parameter_names(document, op)
    # The idempotency flag and the Idempotency-Key parameter (with its alias) go together.
    assert (("header", IDEMPOTENCY_HEADER) in params) is endpoint.idempotent
    assert (("header", IDEMPOTENCY_ALIAS) in params) is endpoint.idempotent
    if endpoint.idempotent:
        assert endpoint.method == "POST"
    # Legacy routes (no SDK method) are deprecated and only redirect; nothing else redirects.
    assert bool(op.get("deprecated")) is _is_legacy(endpoint)
    if _is_legacy(endpoint):
        assert endpoint.success == ("308",)
    elif endpoint.operation_id in RANGE_OPERATIONS:
        assert endpoint.success == ("200", "206")
    else:
        assert len(endpoint.success) == 1
        assert endpoint.success[0].startswith("2")
    # Routes that skip authentication are not counted; every authenticated one is.
    assert (endpoint.buckets == ()) is (_is_legacy(endpoint) or _off_api_host(endpoint))


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.operation_id)
def test_route_security_and_version_header(document: dict[str, Any], endpoint: Endpoint) -> None:
    op = operation(document, endpoint)
    security = op.get("security", document["security"])
    if _is_legacy(endpoint) or _off_api_host(endpoint):
        # Legacy redirects happen before authentication; the upload URL is its own credential.
        assert security == []
        return
    scope = "read" if endpoint.method == "GET" else "write"
    assert {"ApiKeyAuth": [scope]} in security
    assert {"BearerAuth": [scope]} in security
    assert ({"OutputToken": []} in security) is (endpoint.operation_id in TOKEN_OPERATIONS)
    assert ("header", "Aurous-Version") in parameter_names(document, op)


@pytest.mark.parametrize(
    "endpoint",
    [endpoint for endpoint in ENDPOINTS if not _off_api_host(endpoint)],
    ids=lambda endpoint: endpoint.operation_id,
)
def test_route_error_responses(document: dict[str, Any], endpoint: Endpoint) -> None:
    op = operation(document, endpoint)
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
    if _is_legacy(endpoint):
        assert statuses == {"308"}
        return
    assert {"400", "401", "429", "500", "502", "503", "504"} <= statuses
    assert ("403" in statuses) is (endpoint.method != "GET")


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
