"""A namespace is registered once — a line in the client's namespace block — and nothing that
should list it can forget it: the client, ``aurous.resources``, the docs reference, the spec."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import aurous
import aurous.resources
from aurous._client import _BaseClient
from aurous._operations import Namespace

from ._spec import ENDPOINTS

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference" / "namespaces.md"


def _namespace_classes() -> list[tuple[str, type[Namespace[object]]]]:
    """Every namespace class defined in a module of ``aurous.resources`` (module, class)."""
    found = []
    for module_info in pkgutil.iter_modules(aurous.resources.__path__):
        module = importlib.import_module(f"aurous.resources.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, Namespace)
                and cls.__module__ == module.__name__
                and cls.__dict__.get("_path")
            ):
                found.append((module_info.name, cls))
    return found


NAMESPACES = _namespace_classes()
IDS = [cls._path for _, cls in NAMESPACES]


def test_the_resources_hold_the_namespaces_the_client_has() -> None:
    assert len(NAMESPACES) >= 12
    paths = {cls._path for _, cls in NAMESPACES}
    declared = {
        name
        for name, annotation in _BaseClient.__annotations__.items()
        if isinstance(annotation, str) and annotation.endswith("[M]")
    }
    assert declared == {p for p in paths if "." not in p}


@pytest.mark.parametrize(("module", "cls"), NAMESPACES, ids=IDS)
def test_a_namespace_is_exported_by_aurous_resources(module: str, cls: type) -> None:
    assert cls.__name__ in aurous.resources.__all__
    assert aurous.resources.RESOURCE_MODULES[cls.__name__] == f".{module}"
    assert getattr(aurous.resources, cls.__name__) is cls


@pytest.mark.parametrize(("module", "cls"), NAMESPACES, ids=IDS)
def test_a_namespace_is_reachable_from_both_clients(module: str, cls: type) -> None:
    for client_cls in (aurous.Client, aurous.AsyncClient):
        target: object = client_cls
        for part in cls._path.split("."):  # type: ignore[attr-defined]
            target = getattr(target, part)
        assert target is cls, (client_cls, cls)
    client = aurous.Client(api_key="al_test")
    instance: object = client
    for part in cls._path.split("."):  # type: ignore[attr-defined]
        instance = getattr(instance, part)
    assert type(instance) is cls


@pytest.mark.parametrize(("module", "cls"), NAMESPACES, ids=IDS)
def test_a_namespace_has_its_reference_section(module: str, cls: type) -> None:
    text = REFERENCE.read_text()
    assert f"::: aurous.resources.{module}.{cls.__name__}" in text
    assert f"heading: client.{cls._path}" in text  # type: ignore[attr-defined]


@pytest.mark.parametrize(("module", "cls"), NAMESPACES, ids=IDS)
def test_a_namespace_has_its_routes_in_the_spec_table(module: str, cls: type) -> None:
    prefix = f"{cls._path}."  # type: ignore[attr-defined]
    methods = {
        name
        for endpoint in ENDPOINTS
        for name in (endpoint.sdk_method, *endpoint.sdk_aliases)
        if name is not None and name.startswith(prefix) and "." not in name[len(prefix) :]
    }
    assert methods, f"spec/openapi.yaml has no operation for client.{cls._path}"  # type: ignore[attr-defined]
