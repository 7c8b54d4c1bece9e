"""What importing and using aurous loads, the HTTP clients it creates, and its fast paths.

Timing goals live in ``benchmarks/perf.py``; these tests pin down the behaviour behind them:
``import aurous`` loads nothing, a client loads no model until a call needs one, the pytest
plugin costs nothing, and the shortcuts of the request path send and return exactly what the
general path does.
"""

from __future__ import annotations

import ast
import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

import aurous
import aurous.resources
import aurous.types
from aurous.emulator import EmulatorServer
from tests.conftest import API, KEY, Runner, fixture

SRC = Path(aurous.__file__).parent


def _loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


# ---- what loads when ------------------------------------------------------------------------------


def test_import_aurous_loads_only_the_package_itself() -> None:
    loaded = _loaded_after("import aurous")
    assert {m for m in loaded if m.startswith("aurous")} == {
        "aurous",
        "aurous._lazy",
        "aurous._version",
    }
    assert "httpx" not in loaded
    assert "pydantic" not in loaded


def test_naming_a_client_loads_no_model_no_namespace_and_no_retry_machinery() -> None:
    loaded = _loaded_after("from aurous import Client, AsyncClient")
    for heavy in (
        "pydantic.main",  # models build with the first call that returns one
        "aurous.types.generation",
        "aurous.resources.images",
        "aurous._batch",
        "aurous.webhooks",
        "tenacity",  # not a dependency any more: the retry policy is a function
        "asyncio",  # a sync program never needs it
    ):
        assert heavy not in loaded, heavy


def test_a_namespace_loads_its_own_module_not_the_others() -> None:
    loaded = _loaded_after("import aurous; aurous.Client(api_key='k').balance")
    assert "aurous.resources.account" in loaded
    for other in ("aurous.resources.characters", "aurous.resources.files", "aurous.types.events"):
        assert other not in loaded, other


def test_the_images_namespace_builds_no_account_model() -> None:
    # types.batch names `Balance` for type checkers only: a first ``images`` call builds the
    # models it returns, not the balance, pricing and team models.
    loaded = _loaded_after("import aurous; aurous.Client(api_key='k').images")
    assert "aurous.types.batch" in loaded
    assert "aurous.types.account" not in loaded


_GENERATION_GRAPH = {
    "aurous",
    "aurous._lazy",
    "aurous._models",
    "aurous._response",
    "aurous._version",
    "aurous.types",
    "aurous.types._common",
    "aurous.types.generation",
    "aurous.types.literals",
}


def test_naming_the_generation_model_builds_its_own_module_graph_only() -> None:
    loaded = _loaded_after("import aurous; aurous.Generation")
    # Not the other models (account, batch, events …), not a client.
    assert {m for m in loaded if m.startswith("aurous")} == _GENERATION_GRAPH


def test_the_models_load_nothing_a_plain_pydantic_model_does_not() -> None:
    # The floor of any typed client: httpx, and a pydantic model with a nested model, a
    # datetime and an optional list. Whatever aurous's models load beyond that is aurous's own.
    plain = _loaded_after(
        "import datetime, httpx, pydantic\n"
        "class Cost(pydantic.BaseModel):\n    amount: float\n"
        "class Row(pydantic.BaseModel):\n"
        "    at: datetime.datetime\n    cost: Cost | None = None\n    urls: list[str] | None = None"
    )
    loaded = _loaded_after("import aurous, httpx; aurous.Generation")
    assert loaded - plain == _GENERATION_GRAPH
    # e.g. the serialisers' module: the timestamp and number fields build theirs from
    # pydantic_core directly.
    assert "pydantic.functional_serializers" not in loaded


def test_the_json_field_marker_is_what_pydantic_plain_serializer_does() -> None:
    # types._common builds the JSON serialisers of timestamps and numbers from pydantic_core
    # (cheaper to load); a model using pydantic's own PlainSerializer must behave the same.
    from datetime import datetime, timezone
    from typing import Annotated

    import pydantic

    from aurous.types import _common

    class Light(pydantic.BaseModel):
        at: _common.Timestamp
        amount: _common.Credits
        parts: dict[str, _common.FiniteCredits]
        rate: _common.Number | None = None

    class Plain(pydantic.BaseModel):
        at: Annotated[
            datetime,
            pydantic.AfterValidator(_common._as_aware),
            pydantic.PlainSerializer(_common.format_timestamp, return_type=str, when_used="json"),
        ]
        amount: Annotated[
            float,
            pydantic.Field(ge=0, allow_inf_nan=False),
            pydantic.PlainSerializer(_common._compact_number, return_type=Any, when_used="json"),
        ]
        parts: dict[
            str,
            Annotated[
                float,
                pydantic.Field(allow_inf_nan=False),
                pydantic.PlainSerializer(
                    _common._compact_number, return_type=Any, when_used="json"
                ),
            ],
        ]
        rate: (
            Annotated[
                float,
                pydantic.PlainSerializer(
                    _common._compact_number, return_type=Any, when_used="json"
                ),
            ]
            | None
        ) = None

    for mode in ("validation", "serialization"):
        light, plain = Light.model_json_schema(mode=mode), Plain.model_json_schema(mode=mode)
        assert light == {**plain, "title": "Light"}, mode
    for data in (
        {"at": "2026-05-15T10:00:00", "amount": 2.0, "parts": {"base": 2, "x": -0.5}},
        {"at": "2026-05-15T10:00:00.120+02:00", "amount": "1.5", "parts": {}, "rate": 3.0},
        {"at": datetime(2026, 5, 15, tzinfo=timezone.utc), "amount": 0, "parts": {}},
    ):
        light, plain = Light.model_validate(data), Plain.model_validate(data)
        assert light.model_dump_json() == plain.model_dump_json()
        assert light.model_dump() == plain.model_dump()
        assert light.model_dump(mode="json") == plain.model_dump(mode="json")
    for bad in ({"amount": -1}, {"amount": float("nan")}, {"parts": {"x": float("inf")}}):
        data = {"at": "2026-05-15T10:00:00Z", "amount": 1, "parts": {}, **bad}
        with pytest.raises(pydantic.ValidationError) as light_error:
            Light.model_validate(data)
        with pytest.raises(pydantic.ValidationError) as plain_error:
            Plain.model_validate(data)
        assert light_error.value.errors() == plain_error.value.errors()


def test_the_pytest_plugin_imports_nothing_of_the_sdk() -> None:
    loaded = _loaded_after("import aurous.emulator.pytest_plugin")
    assert {m for m in loaded if m.startswith("aurous")} == {
        "aurous",
        "aurous._lazy",
        "aurous._version",
        "aurous.emulator",
        "aurous.emulator.pytest_plugin",
    }
    assert "httpx" not in loaded
    assert "pydantic" not in loaded


def _type_checking_names(path: Path) -> set[str]:
    """Names imported under ``if TYPE_CHECKING:`` in ``path`` (what type checkers see)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for statement in ast.walk(node):
                if isinstance(statement, ast.ImportFrom):
                    names.update(alias.asname or alias.name for alias in statement.names)
    return names


@pytest.mark.parametrize(
    ("module", "path"),
    [
        (aurous, SRC / "__init__.py"),
        (aurous.types, SRC / "types" / "__init__.py"),
        (aurous.resources, SRC / "resources" / "__init__.py"),
    ],
    ids=["aurous", "aurous.types", "aurous.resources"],
)
def test_lazy_names_are_declared_everywhere_and_resolve(module: Any, path: Path) -> None:
    public = set(module.__all__) - {"__version__"}
    # Type checkers (and editors) see every name; the module can load every name.
    assert public <= _type_checking_names(path)
    lazy = set(module._SOURCES) | set(getattr(module, "_SUBMODULES", ()))
    assert public <= lazy
    for name in sorted(public):
        assert getattr(module, name) is not None, name
    assert public <= set(dir(module))
    with pytest.raises(AttributeError, match="Nothing"):
        module.Nothing  # noqa: B018


def test_lazily_loaded_names_are_the_defining_objects() -> None:
    from aurous._client import Client
    from aurous._errors import NotFoundError
    from aurous.types.generation import Generation

    assert aurous.Client is Client
    assert aurous.NotFoundError is NotFoundError
    assert aurous.Generation is aurous.types.Generation is Generation
    assert aurous.Client.images.__name__ == "Images"


# ---- the HTTP clients the SDK creates --------------------------------------------------------------


@pytest.mark.parametrize("cls", [aurous.Client, aurous.AsyncClient])
def test_created_pools_keep_every_connection_alive(cls: Any) -> None:
    client = cls(api_key=KEY)
    # httpx does not expose its limits: read them from the connection pool (httpcore).
    pool = client._http._transport._pool
    assert pool._max_connections == 100
    assert pool._max_keepalive_connections == 100


def test_default_aiohttp_client_sends_through_aiohttp(
    aurous_emulator_server: EmulatorServer,
) -> None:
    pytest.importorskip("httpx_aiohttp")
    from httpx_aiohttp import AiohttpTransport

    emu = aurous_emulator_server.emulator
    assert emu is not None

    async def scenario() -> None:
        async with aurous.DefaultAioHttpClient() as http:
            assert isinstance(http._transport, AiohttpTransport)
            assert http.follow_redirects is False
            assert type(http.cookies).__name__ == "_LeanCookies"
            client = aurous.AsyncClient(
                api_key=emu.api_key, base_url=aurous_emulator_server.base_url, http_client=http
            )
            created = await client.images.create(prompt="through aiohttp")
            again = await client.images.retrieve(created.id)
            assert again.id == created.id
            assert again._response is not None
            assert again._response.status_code == 200
            with pytest.raises(aurous.NotFoundError):
                await client.images.retrieve("img_missing")
            await client.close()
            assert not http.is_closed  # the SDK never closes a client it was given

    asyncio.run(scenario())


def test_default_aiohttp_client_without_the_extra_says_how_to_install_it() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["httpx_aiohttp"] = None  # as if the extra were not installed
        import aurous
        try:
            aurous.DefaultAioHttpClient()
        except ImportError as exc:
            print(exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "pip install 'aurous[aiohttp]'" in result.stdout


# ---- the request path's shortcuts ------------------------------------------------------------------


def _recording(handler: Any, run: Runner) -> tuple[Any, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)  # type: ignore[no-any-return]

    transport = httpx.MockTransport(record)
    http = (
        httpx.AsyncClient(transport=transport)
        if run.is_async
        else httpx.Client(transport=transport)
    )
    return run.client(http_client=http), seen


def test_prebuilt_headers_carry_exactly_what_each_request_needs(run: Runner) -> None:
    pending = fixture("generation.pending.image")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201 if request.method == "POST" else 200, json=pending)

    _, seen = _recording(handler, run)
    run(lambda c: c.images.create(prompt="a lighthouse"))
    run(lambda c: c.images.retrieve(pending["id"]))
    run(lambda c: c.images.retrieve(pending["id"], extra_headers={"X-Trace": "t1"}))
    create, retrieve, traced = seen
    for request in seen:
        assert request.headers["x-api-key"] == KEY
        assert request.headers["aurous-version"] == "2026-05-15"
        assert request.headers["user-agent"].startswith("aurous-python/")
        assert request.headers["accept"] == "application/json"
    assert len(create.headers["idempotency-key"]) == 36
    # The create's key went on a copy: the next request does not inherit it.
    assert "idempotency-key" not in retrieve.headers
    assert traced.headers["x-trace"] == "t1"
    assert "x-trace" not in retrieve.headers
    assert str(retrieve.url) == f"{API}/v1/images/{pending['id']}"


def test_a_body_only_the_general_decoder_reads_still_parses(run: Runner) -> None:
    # UTF-16 JSON: pydantic's JSON parser refuses it, json.loads does not; the answer is the same.
    body = json.dumps(fixture("generation.pending.image")).encode("utf-16")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    _recording(handler, run)
    generation = run(lambda c: c.images.retrieve("img_01KS2DH0GPE2Y1X16JH0Z1Y2GF"))
    assert generation.id == "img_01KS2DH0GPE2Y1X16JH0Z1Y2GF"
    assert generation._response.status_code == 200


def test_an_error_member_that_is_not_an_envelope_is_kept(run: Runner) -> None:
    row = {**fixture("generation.pending.image"), "error": "transient note"}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=row)

    _recording(handler, run)
    generation = run(lambda c: c.images.retrieve(row["id"]))
    assert generation.model_extra == {"error": "transient note"}


def test_an_error_envelope_in_a_model_shaped_2xx_body_is_refused(run: Runner) -> None:
    # Every field a generation needs, and an error object: a failure, not a generation.
    row = {**fixture("generation.pending.image"), "error": {"code": "internal_error"}}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=row)

    _recording(handler, run)
    with pytest.raises(aurous.APIResponseValidationError, match="error envelope"):
        run(lambda c: c.images.retrieve(row["id"], max_retries=0))


@pytest.mark.parametrize("cls", [aurous.Client, aurous.AsyncClient])
def test_created_clients_keep_the_cookies_a_response_sets(cls: Any) -> None:
    from aurous._client import _lean_cookies

    answers = iter(
        [
            httpx.Response(200, json={}),
            httpx.Response(200, json={}, headers={"Set-Cookie": "lb=a1; Path=/"}),
            httpx.Response(200, json={}),
            httpx.Response(200, json={}),
        ]
    )
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return next(answers)

    transport = httpx.MockTransport(handler)
    if cls is aurous.Client:
        http: Any = httpx.Client(transport=transport)
        send = http.get
    else:
        http = httpx.AsyncClient(transport=transport)

        def send(url: str) -> httpx.Response:
            return asyncio.run(http.get(url))

    _lean_cookies(http)
    assert type(http.cookies).__name__ == "_LeanCookies"
    for _ in range(4):
        send(f"{API}/v1/balance")
    # No cookie before the answer that set one, and that cookie on every request after it.
    assert [r.headers.get("cookie") for r in sent] == [None, None, "lb=a1", "lb=a1"]
    assert dict(http.cookies) == {"lb": "a1"}


def test_the_sdk_leaves_the_cookie_store_of_a_client_it_was_given_alone() -> None:
    http = httpx.Client()
    aurous.Client(api_key=KEY, http_client=http)
    assert type(http.cookies) is httpx.Cookies
    assert type(aurous.Client(api_key=KEY)._http.cookies).__name__ == "_LeanCookies"
