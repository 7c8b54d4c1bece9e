"""The package's shape: no import cycles, layers that point down, honest method signatures."""

from __future__ import annotations

import ast
import asyncio
import inspect
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import aurous
from aurous.pagination import AsyncPager, SyncPage
from aurous.resources import RESOURCE_MODULES

PACKAGE = Path(aurous.__file__).parent
SDK_BOUNDARY = ("aurous.emulator", "aurous.cli")


def _modules() -> dict[str, tuple[Path, bool]]:
    found: dict[str, tuple[Path, bool]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, in functions too; ``if TYPE_CHECKING:`` blocks aside."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            for other in node.orelse:
                yield from _imports(other)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _imports(node)


def _named_imports(tree: ast.AST, package: str) -> Iterator[str]:
    """Modules imported by name for start-up time: the targets of ``namespace("mod:Class")``
    and the ``_SOURCES`` tables of the lazy packages. They are edges like any import."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "namespace"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value.partition(":")[0]
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.annotation, ast.Subscript)
            and isinstance(node.annotation.value, ast.Name)
            and node.annotation.value.id in RESOURCE_MODULES
        ):
            # A client's namespace block: ``images: Images[M]`` imports its module on first use.
            yield "aurous.resources" + RESOURCE_MODULES[node.annotation.value.id]
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == "_SOURCES" for t in targets):
            value = node.value  # type: ignore[union-attr]
            for leaf in ast.walk(value):
                text = leaf.value if isinstance(leaf, ast.Constant) else None
                if isinstance(text, str) and text.startswith("."):
                    yield package + text


def _graph() -> dict[str, set[str]]:
    modules = _modules()

    def owner(name: str) -> str:
        while name not in modules and "." in name:
            name = name.rpartition(".")[0]
        return name

    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("aurous")]
            else:
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if not target.startswith("aurous"):
                    continue
                # ``from pkg import sub`` imports the submodule; ``from mod import name`` the module.
                targets = [
                    f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target
                    for a in node.names
                ]
            edges[name].update(owner(t) for t in targets)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges[name].update(
            owner(t) for t in _named_imports(tree, package) if t.startswith("aurous")
        )
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_the_module_graph_has_no_cycle() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_check_sees_imports_inside_functions() -> None:
    edges = _graph()
    # A deferred import (inside a function) still counts as an edge, as do imports by name.
    assert "aurous._batch._engine" in edges["aurous._batch._operation"]
    assert "aurous.resources.images" in edges["aurous._client"]
    assert "aurous._client" in edges["aurous"]
    assert "aurous.types.generation" in edges["aurous.types"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_sdk_does_not_import_the_emulator_or_the_cli() -> None:
    offenders = {
        module: sorted(t for t in targets if t.startswith(SDK_BOUNDARY))
        for module, targets in _graph().items()
        if not module.startswith(SDK_BOUNDARY)
    }
    assert {m: t for m, t in offenders.items() if t} == {}


def test_import_aurous_does_not_load_the_batch_engine_or_the_emulator() -> None:
    code = "import aurous, sys; print(sorted(m for m in sys.modules if m.startswith('aurous')))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    for heavy in (
        "aurous._batch._engine",
        "aurous._batch._runtime",
        "aurous.emulator",
        "aurous.cli",
    ):
        assert f"'{heavy}" not in loaded, heavy


# ---- honest signatures ---------------------------------------------------------------------------


@pytest.fixture(params=["sync", "async"])
def any_client(request: pytest.FixtureRequest) -> aurous.Client | aurous.AsyncClient:
    if request.param == "sync":
        return aurous.Client(api_key="test", http_client=httpx.Client())
    return aurous.AsyncClient(api_key="test", http_client=httpx.AsyncClient())


def test_methods_show_their_real_parameters_and_model(
    any_client: aurous.Client | aurous.AsyncClient,
) -> None:
    signature = inspect.signature(any_client.images.create)
    assert "self" not in signature.parameters
    assert signature.parameters["prompt"].kind is inspect.Parameter.KEYWORD_ONLY
    assert signature.parameters["prompt"].default is inspect.Parameter.empty
    assert signature.parameters["size"].default is aurous.NOT_GIVEN
    assert "idempotency_key" in signature.parameters
    assert "timeout" in signature.parameters
    assert signature.return_annotation is aurous.Generation
    assert any_client.images.create.__doc__
    assert "Start an image generation" in any_client.images.create.__doc__
    retrieve = inspect.signature(any_client.images.retrieve)
    assert next(iter(retrieve.parameters)) == "generation_id"


def test_async_methods_are_coroutine_functions() -> None:
    client = aurous.AsyncClient(api_key="test", http_client=httpx.AsyncClient())
    assert inspect.iscoroutinefunction(client.images.create)
    assert inspect.iscoroutinefunction(client.balance.retrieve)
    assert not inspect.iscoroutinefunction(aurous.Client(api_key="t").images.create)


def test_list_methods_return_public_page_types() -> None:
    sync = aurous.Client(api_key="test")
    asynchronous = aurous.AsyncClient(api_key="test")
    assert inspect.signature(sync.images.list).return_annotation == SyncPage[aurous.Generation]
    returned = inspect.signature(asynchronous.images.list).return_annotation
    assert returned == AsyncPager[aurous.Generation]


def test_unbound_methods_say_how_to_call_them() -> None:
    with pytest.raises(TypeError, match=r"client\.images\.create"):
        aurous.Client.images.create(prompt="x")


def test_namespaces_are_visible_on_the_client_classes() -> None:
    assert aurous.Client.images is aurous.AsyncClient.images
    assert aurous.Client.images.__name__ == "Images"
    assert "prompt" in inspect.signature(aurous.Client.images.create).parameters
    assert aurous.Client.characters.uploads.__name__ == "CharacterUploads"
    text = _help(aurous.Client)
    for name in ("images", "videos", "balance", "webhook_endpoints", "characters", "usage"):
        assert name in text


def test_help_of_a_bound_method_lists_its_parameters() -> None:
    text = _help(aurous.Client(api_key="test").images.create)
    assert "prompt: str" in text
    assert "-> aurous.types.generation.Generation" in text or "-> Generation" in text


def test_bound_methods_are_built_once_per_client() -> None:
    client = aurous.Client(api_key="test")
    assert client.images.create is client.images.create
    assert client.images is client.images
    other = aurous.Client(api_key="test")
    assert other.images.create is not client.images.create


def _help(obj: object) -> str:
    import pydoc

    return pydoc.render_doc(obj, renderer=pydoc.plaintext)


# ---- warnings point at the caller's line ----------------------------------------------------------


def _deprecated_transport() -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {
            "credits": 1,
            "held_credits": 0,
            "available_credits": 1,
            "currency": "credit",
            "billing_mode": "metered",
        }
        return httpx.Response(200, json=body, headers={"Aurous-Deprecated": "route"})

    return httpx.MockTransport(handler)


def test_the_deprecation_warning_points_at_the_callers_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("aurous._transport._warned_routes", set())
    client = aurous.Client(
        api_key="test", http_client=httpx.Client(transport=_deprecated_transport())
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.balance.retrieve()
    [warning] = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert warning.filename == __file__


def test_the_async_deprecation_warning_points_at_the_callers_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("aurous._transport._warned_routes", set())
    client = aurous.AsyncClient(
        api_key="test", http_client=httpx.AsyncClient(transport=_deprecated_transport())
    )

    async def call() -> None:
        await client.balance.retrieve()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(call())
    [warning] = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert warning.filename == __file__


def test_default_filters_show_the_sync_deprecation_warning() -> None:
    script = textwrap.dedent(
        """
        import httpx, aurous

        def handler(request):
            body = {"credits": 1, "held_credits": 0, "available_credits": 1,
                    "currency": "credit", "billing_mode": "metered"}
            return httpx.Response(200, json=body, headers={"Aurous-Deprecated": "route"})

        client = aurous.Client(api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(handler)))
        client.balance.retrieve()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert "DeprecationWarning: Aurous marks GET /v1/balance as deprecated" in result.stderr
