"""The endpoint table of ``spec/openapi.yaml`` against the SDK, the emulator and the API reference.

Every route list of the project is checked from the one table ``tests/_spec.py`` reads:

* the SDK: each ``x-aurous-sdk-method`` (and alias) exists on ``aurous.Client`` and
  ``aurous.AsyncClient``, and each public namespace method either calls an operation of the table
  or is one of the helpers listed below;
* the emulator: its routers serve exactly the table's routes, registered with the table's buckets,
  idempotency, authentication and scope;
* ``api.md`` (the API reference users read): every SDK method of the table has a row there with
  its route, and every route a row names is in the table.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import aurous
from aurous.emulator import EmulatorConfig
from aurous.emulator.routes import default_routers

from ._spec import ENDPOINTS, Endpoint, sdk_method_of

API_REFERENCE = Path(__file__).resolve().parents[1] / "api.md"

# Public namespace methods that are not an endpoint: they are built from the table's methods (or
# do no I/O at all), so no operation names them. Keyed by method name, in any namespace.
HELPERS: dict[str, str] = {
    "wait": "polls the retrieve operation until the generation is terminal",
    "watch": "polls the retrieve operation and yields each new state",
    "create_and_wait": "the create operation, then wait",
    "batch": "creates, waits for and downloads many generations",
    "estimate_batch": "prices many requests with the estimate operation",
}
# Namespaces with no endpoint at all.
HELPER_NAMESPACES: dict[str, str] = {
    "webhooks": "verifies deliveries and hands their generations to the client's waits",
}

# Operations served on an origin of their own (the path item has its own `servers`): the URL is
# opaque and signed, so the emulator mints it under a path of its choosing.
EMULATOR_PATHS: dict[str, str] = {
    "characters_uploads_upload": "/_uploads/{id}",
}
# Routes the emulator serves that are not operations of the API.
EMULATOR_ONLY: dict[tuple[str, str], str] = {
    ("GET", "/storage/files/{id}"): "the signed `url` of a file: opaque, its shape is no contract",
    ("GET", "/storage/characters/{id}/{ref}"): "the signed URL of a character reference image",
    ("GET", "/docs"): "a redirect to the documentation site, not an API operation",
}

SDK_METHODS = sorted(name for endpoint in ENDPOINTS for name in endpoint.sdk_methods)


def _endpoint_ids(endpoint: Endpoint) -> str:
    return endpoint.operation_id


# -------------------------------------------------------------------------------------------------
# The SDK
# -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, Any]]:
    sync = aurous.Client(api_key="al_test_endpoint_table")
    async_ = aurous.AsyncClient(api_key="al_test_endpoint_table")
    yield {"sync": sync, "async": async_}
    sync.close()
    asyncio.run(async_.close())


def _is_namespace(value: object) -> bool:
    """A namespace object of the SDK (``client.images``, ``client.characters.uploads`` …)."""
    return not callable(value) and type(value).__module__.startswith("aurous.")


def namespace_methods(client: object) -> set[str]:
    """Every public method of every namespace reachable from ``client``, as dotted paths."""
    found: set[str] = set()

    def visit(namespace: object, prefix: str) -> None:
        for name in dir(namespace):
            if name.startswith("_"):
                continue
            value = getattr(namespace, name)
            if _is_namespace(value):
                visit(value, f"{prefix}{name}.")
            elif callable(value):
                found.add(f"{prefix}{name}")

    for name in dir(client):
        if name == "with_raw_response":  # the same namespaces again, answering APIResponse
            continue
        if not name.startswith("_") and _is_namespace(getattr(client, name)):
            visit(getattr(client, name), f"{name}.")
    return found


def _is_helper(dotted: str) -> bool:
    namespace, _, method = dotted.rpartition(".")
    return namespace.split(".")[0] in HELPER_NAMESPACES or method in HELPERS


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("dotted", SDK_METHODS)
def test_sdk_method_of_the_table_exists(clients: dict[str, Any], mode: str, dotted: str) -> None:
    client = clients[mode]
    try:
        method = sdk_method_of(client, dotted)
    except AttributeError as exc:
        pytest.fail(f"{type(client).__name__} has no {dotted}: {exc}")
    assert callable(method), dotted
    assert dotted in namespace_methods(client)
    assert not _is_helper(dotted), f"{dotted} is named by an operation and listed as a helper"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_every_namespace_method_is_an_operation_or_a_helper(
    clients: dict[str, Any], mode: str
) -> None:
    methods = namespace_methods(clients[mode])
    assert methods, "no namespace method found"
    unexplained = sorted(m for m in methods - set(SDK_METHODS) if not _is_helper(m))
    assert unexplained == [], "public methods no operation names and no helper list explains"


def test_both_clients_have_the_same_methods(clients: dict[str, Any]) -> None:
    assert namespace_methods(clients["sync"]) == namespace_methods(clients["async"])


def test_helper_namespaces_exist(clients: dict[str, Any]) -> None:
    for name in HELPER_NAMESPACES:
        assert any(m.startswith(f"{name}.") for m in namespace_methods(clients["sync"])), name


# -------------------------------------------------------------------------------------------------
# The emulator
# -------------------------------------------------------------------------------------------------

_PARAM = re.compile(r"\{[^/{}]+\}")


def _shape(method: str, template: str) -> tuple[str, str]:
    """Method and template with parameter names erased (``{id}`` and ``{upload_id}`` alike)."""
    return method.upper(), _PARAM.sub("{}", template)


def _served_shape(endpoint: Endpoint) -> tuple[str, str]:
    return _shape(endpoint.method, EMULATOR_PATHS.get(endpoint.operation_id, endpoint.path))


def emulator_routes() -> dict[tuple[str, str], Any]:
    """The emulator's routes by shape; fails on a route registered twice."""
    routes: dict[tuple[str, str], Any] = {}
    for router in default_routers():
        for route in router.routes:
            shape = _shape(route.method, route.template)
            assert shape not in routes, f"{route.method} {route.template} is registered twice"
            routes[shape] = route
    return routes


def test_emulator_paths_are_the_operations_off_the_api_host() -> None:
    assert set(EMULATOR_PATHS) == {e.operation_id for e in ENDPOINTS if e.server is not None}


def test_the_emulator_serves_exactly_the_table() -> None:
    served = set(emulator_routes())
    extra = {_shape(*key) for key in EMULATOR_ONLY}
    table = {_served_shape(endpoint): endpoint.label for endpoint in ENDPOINTS}
    missing = sorted(label for shape, label in table.items() if shape not in served)
    unexpected = sorted(served - set(table) - extra)
    assert missing == [], "operations of the table the emulator does not serve"
    assert unexpected == [], "routes the emulator serves that the table does not have"
    assert extra <= served, "EMULATOR_ONLY lists routes the emulator no longer serves"
    assert extra.isdisjoint(table), "EMULATOR_ONLY lists operations of the table"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_endpoint_ids)
def test_emulator_registration_matches_the_row(endpoint: Endpoint) -> None:
    route = emulator_routes().get(_served_shape(endpoint))
    assert route is not None, f"the emulator does not serve {endpoint.label}"
    assert route.idempotent is endpoint.idempotent
    if len(endpoint.buckets) <= 1:
        assert route.bucket == (endpoint.buckets[0] if endpoint.buckets else None)
    else:
        # The handler picks one of the buckets per request, so the route is registered uncounted.
        assert route.bucket is None
    # Legacy redirects (no SDK method) run before authentication.
    assert route.early is (endpoint.sdk_method is None)
    if route.early:
        return
    if not endpoint.auth_schemes:
        auth = "none"
    elif "OutputToken" in endpoint.auth_schemes:
        auth = "token_or_key"
    else:
        auth = "key"
    assert route.auth == auth
    if endpoint.scope is not None:
        assert route.scope == endpoint.scope


def test_every_bucket_of_the_table_is_configured_in_the_emulator() -> None:
    named = {bucket for endpoint in ENDPOINTS for bucket in endpoint.buckets}
    assert named == set(EmulatorConfig().buckets)


# -------------------------------------------------------------------------------------------------
# The API reference (api.md)
# -------------------------------------------------------------------------------------------------

_SECTION_NAMESPACE = re.compile(r"`client\.([a-z_]+)`")
_METHOD_NAME = re.compile(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*")
_ROUTE = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) (/[^\s`|()]*|<[^>]+>)")


def reference_rows(text: str) -> dict[str, set[tuple[str, str]]]:
    """SDK method (dotted from the client) → the routes its rows of ``api.md`` name.

    Rows live in the tables under ``## `client.<namespace>` …`` headings; the first cell names the
    method(s) in backticks, qualified or not (``create(…)``, ``loras.list()``, ``uploads.init(…)``),
    and the row shows the route as ``METHOD /path`` (``PUT <ticket.upload_url>`` for a signed URL).
    """
    rows: dict[str, set[tuple[str, str]]] = {}
    namespaces: list[str] = []
    for line in text.splitlines():
        if line.startswith("## "):
            namespaces = _SECTION_NAMESPACE.findall(line)
            continue
        if not (namespaces and line.startswith("|")) or set(line) <= set("|-: "):
            continue
        cells = line.strip("|").split(" | ")
        signatures = cells[0].split(" — ", 1)[0]  # what follows the dash describes the method
        names = [
            found.group(0).removeprefix("client.")
            for span in re.findall(r"`([^`]+)`", signatures)
            if (found := _METHOD_NAME.match(span)) is not None
        ]
        routes = {(method, path) for method, path in _ROUTE.findall(line)}
        for name in names:
            if name.startswith("aurous."):
                continue  # a module-level function, not a method of the client
            dotted = name if name.split(".")[0] in namespaces else f"{namespaces[0]}.{name}"
            rows.setdefault(dotted, set()).update(routes)
    return rows


def _reference_route(endpoint: Endpoint) -> tuple[str, str]:
    # An operation on an origin of its own is shown as its opaque URL, e.g. `<ticket.upload_url>`.
    return (endpoint.method, "<…>" if endpoint.server is not None else endpoint.path)


def _shown(route: tuple[str, str]) -> tuple[str, str]:
    method, path = route
    return (method, "<…>") if path.startswith("<") else route


@pytest.fixture(scope="module")
def reference() -> dict[str, set[tuple[str, str]]]:
    return reference_rows(API_REFERENCE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("endpoint", "dotted"),
    [(endpoint, dotted) for endpoint in ENDPOINTS for dotted in endpoint.sdk_methods],
    ids=[dotted for endpoint in ENDPOINTS for dotted in endpoint.sdk_methods],
)
def test_api_reference_lists_the_method_with_its_route(
    reference: dict[str, set[tuple[str, str]]], endpoint: Endpoint, dotted: str
) -> None:
    assert dotted in reference, f"api.md has no row for {dotted}"
    shown = {_shown(route) for route in reference[dotted]}
    assert _reference_route(endpoint) in shown, f"api.md does not show {dotted} as {endpoint.label}"


def test_api_reference_names_only_routes_of_the_table(
    reference: dict[str, set[tuple[str, str]]],
) -> None:
    table = {_reference_route(endpoint) for endpoint in ENDPOINTS}
    shown = {_shown(route) for routes in reference.values() for route in routes}
    assert shown, "no route found in api.md"
    assert sorted(shown - table) == []


def test_reference_reader_reads_rows() -> None:
    text = "\n".join(
        [
            "## `client.characters` — characters",
            "| Method | Route | Returns |",
            "|---|---|---|",
            "| `uploads.init(*, filename)` — `extension` derived | `POST /v1/characters/uploads/init` | x |",
            "| `uploads.upload(ticket, file)` | `PUT <ticket.upload_url>` | `None` |",
            "## `client.loras`, `client.video_loras` — catalogues",
            "| `video_loras.list()` | `GET /v1/video_loras` | x |",
            "| `wait`, `download` | as for images; download uses `GET /v1/videos/{id}/output` | |",
            "## `client.webhooks` and `aurous.webhooks` — receiving deliveries",
            "| `aurous.webhooks.sign(raw_body)` | `str` |",
            "| `client.webhooks.unwrap(raw_body)` | `Event` |",
            "## Models (`aurous.types`)",
            "| `Generation` | images create | `id` |",
        ]
    )
    assert reference_rows(text) == {
        "characters.uploads.init": {("POST", "/v1/characters/uploads/init")},
        "characters.uploads.upload": {("PUT", "<ticket.upload_url>")},
        "video_loras.list": {("GET", "/v1/video_loras")},
        "loras.wait": {("GET", "/v1/videos/{id}/output")},
        "loras.download": {("GET", "/v1/videos/{id}/output")},
        "webhooks.unwrap": set(),
    }
