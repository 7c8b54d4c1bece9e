"""A griffe extension: render the SDK's methods as callers see them, not as they are written.

Every namespace method is written once as a generator of steps and turned into a method of both
clients by a descriptor (``@operation``, ``@paginated``, ``@batch_operation``). Read statically,
``images.create`` is ``create(self, **args: Unpack[ImageCreateArgs]) -> Steps[Generation]``; what a
caller gets (and what ``help()`` and ``inspect.signature`` show at run time) is
``create(*, prompt, negative_prompt, …, idempotency_key, timeout, …) -> Generation``. This
extension makes the reference show the latter:

* ``**kw: Unpack[SomeTypedDict]`` becomes one keyword-only parameter per key (bases included, in
  the order the runtime uses), optional keys defaulting to ``NOT_GIVEN`` as in ``help()``, and
  each key's docstring becomes a row of the "Parameters" table;
* the return annotation becomes what the sync client returns: ``Steps[T]`` → ``T``,
  ``PageRequest[T]`` → ``SyncPage[T]``, a batch plan → ``list[BatchResult]``; a "Returns" row says
  what the async client returns.

It also makes two docstring habits render as intended in Markdown: ``>>>`` examples become code
blocks (Markdown would read ``>`` as a quote), and Sphinx roles (``:class:`X```) become code.

And it keeps the reference to the public surface, which the code's own structure would leak:

* no dunders (``__repr__``, ``__iter__`` …): classes say in prose how they behave;
* no type variables: ``Client(…, http_client: H | None)`` inherits its constructor from a private
  generic base, so the constructor is copied onto ``Client`` and ``AsyncClient`` with the base's
  type variables replaced by their arguments (``httpx.Client``), and ``CharacterUploads[ModeT]``
  reads ``CharacterUploads``;
* no constructor for namespaces (``Images(client: _BaseClient[Any, Any])``): users reach them as
  ``client.images`` and never build one.

Loaded by mkdocstrings (see ``mkdocs.yml``); it runs once the whole package is loaded, so a
TypedDict defined in another module resolves.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

import griffe

_REQUIRED = {"typing.Required", "typing_extensions.Required"}
_NOT_REQUIRED = {"typing.NotRequired", "typing_extensions.NotRequired"}
_UNPACK = {"typing.Unpack", "typing_extensions.Unpack"}
_TYPED_DICT = {"typing.TypedDict", "typing_extensions.TypedDict"}

# Decorator name → how the sync and async clients return the method's result.
_OPERATION = "operation"
_PAGINATED = "paginated"
_BATCH = "batch_operation"
_DESCRIPTORS = {_OPERATION, _PAGINATED, _BATCH}


def _walk(obj: griffe.Object) -> Iterator[griffe.Object]:
    for member in obj.members.values():
        if isinstance(member, griffe.Alias):
            continue
        yield member
        if member.is_module or member.is_class:
            yield from _walk(member)


def _is_typeddict(cls: griffe.Class) -> bool:
    return any(isinstance(b, griffe.Expr) and b.canonical_path in _TYPED_DICT for b in cls.bases)


def _total(cls: griffe.Class) -> bool:
    value = cls.keywords.get("total")
    if value is None:
        return True
    try:
        return bool(ast.literal_eval(str(value)))
    except (ValueError, SyntaxError):
        return True


def _typeddict_fields(cls: griffe.Class) -> list[tuple[griffe.Attribute, Any, bool]]:
    """(attribute, annotation, required) for every key of ``cls``, bases first, as at run time."""
    fields: dict[str, tuple[griffe.Attribute, Any, bool]] = {}
    for base in cls.resolved_bases:
        if isinstance(base, griffe.Class) and _is_typeddict_like(base):
            for field in _typeddict_fields(base):
                fields.setdefault(field[0].name, field)
    total = _total(cls)
    for attr in cls.attributes.values():
        annotation = attr.annotation
        required = total
        if isinstance(annotation, griffe.ExprSubscript):
            if annotation.canonical_path in _REQUIRED:
                annotation, required = annotation.slice, True
            elif annotation.canonical_path in _NOT_REQUIRED:
                annotation, required = annotation.slice, False
        fields[attr.name] = (attr, annotation, required)
    return list(fields.values())


def _is_typeddict_like(cls: griffe.Class) -> bool:
    return _is_typeddict(cls) or any(
        isinstance(b, griffe.Class) and _is_typeddict_like(b) for b in cls.resolved_bases
    )


def _resolve_class(expr: Any, func: griffe.Function) -> griffe.Class | None:
    path = getattr(expr, "canonical_path", None)
    if not isinstance(path, str):
        return None
    try:
        found = func.modules_collection[path]
    except KeyError:
        return None
    if found.is_alias:
        found = found.final_target
    return found if isinstance(found, griffe.Class) else None


def _parameters_section(func: griffe.Function) -> griffe.DocstringSectionParameters:
    if func.docstring is None:
        func.docstring = griffe.Docstring("", parent=func)
    for section in func.docstring.parsed:
        if isinstance(section, griffe.DocstringSectionParameters):
            return section
    section = griffe.DocstringSectionParameters([])
    func.docstring.parsed.append(section)
    return section


def _expand_unpack(func: griffe.Function) -> None:
    """``**kw: Unpack[TD]`` → one keyword-only parameter (and one table row) per key of TD."""
    for parameter in list(func.parameters):
        annotation = parameter.annotation
        if parameter.kind is not griffe.ParameterKind.var_keyword:
            continue
        if not (
            isinstance(annotation, griffe.ExprSubscript) and annotation.canonical_path in _UNPACK
        ):
            continue
        typed_dict = _resolve_class(annotation.slice, func)
        if typed_dict is None:
            raise griffe.ExtensionError(
                f"{func.path}: cannot resolve {annotation.slice} to expand **{parameter.name}"
            )
        del func.parameters[parameter.name]
        added = []
        for attr, field_annotation, required in _typeddict_fields(typed_dict):
            if attr.name in func.parameters:
                continue
            default = None if required else "NOT_GIVEN"
            func.parameters[attr.name] = griffe.Parameter(
                attr.name,
                annotation=field_annotation,
                kind=griffe.ParameterKind("keyword-only"),
                default=default,
                docstring=attr.docstring,
            )
            added.append((attr, field_annotation, default))
        # Parsed only now, once the signature has every key: the docstring's own ``Args:``
        # (docs/_ext/docstrings.py writes one) names them, and rows it has are not added twice.
        section = _parameters_section(func)
        documented = {row.name for row in section.value}
        for attr, field_annotation, default in added:
            if attr.name in documented:
                continue
            section.value.append(
                griffe.DocstringParameter(
                    attr.name,
                    description=attr.docstring.value if attr.docstring else "",
                    annotation=field_annotation,
                    value=default,
                )
            )


def _public_name(name: str, module: str, pkg: griffe.Module) -> griffe.ExprName:
    return griffe.ExprName(name, parent=pkg.modules_collection[module])


def _descriptor(func: griffe.Function) -> str | None:
    for decorator in func.decorators:
        path = getattr(decorator.value, "canonical_path", str(decorator.value))
        name = str(path).rsplit(".", 1)[-1]
        if name in _DESCRIPTORS and str(path).startswith("aurous."):
            return name
    return None


def _fix_returns(func: griffe.Function, kind: str, pkg: griffe.Module) -> None:
    returns = func.returns
    item = returns.slice if isinstance(returns, griffe.ExprSubscript) else returns
    if item is None:
        raise griffe.ExtensionError(f"{func.path}: a {kind} method needs a return annotation")
    if kind == _OPERATION:
        sync: Any = item
        async_text = "a coroutine of the same"
    elif kind == _PAGINATED:
        sync = griffe.ExprSubscript(_public_name("SyncPage", "aurous.pagination", pkg), item)
        async_text = (
            f"`AsyncPager[{item}]`, iterated with `async for` or awaited for the first page"
        )
    else:
        sync = griffe.ExprSubscript(
            griffe.ExprName("list"), _public_name("BatchResult", "aurous.types", pkg)
        )
        async_text = "a coroutine of the same"
    func.returns = sync
    if func.docstring is None:
        func.docstring = griffe.Docstring("", parent=func)
    func.docstring.parsed.append(
        griffe.DocstringSectionReturns(
            [
                griffe.DocstringReturn(
                    "", description=f"On `AsyncClient`: {async_text}.", annotation=sync
                )
            ]
        )
    )


_ROLE = re.compile(r":(?:attr|class|func|meth|mod|data|exc|obj):`~?([^`]+)`")


def _markdown(text: str) -> str:
    """Doctest examples as fenced ``pycon`` blocks, ``::`` as ``:``, Sphinx roles as code."""
    out: list[str] = []
    in_fence = in_doctest = False
    indent = 0
    for line in text.split("\n"):
        stripped = line.lstrip()
        if in_doctest:
            if stripped:
                out.append(line[indent:] if not line[:indent].strip() else stripped)
                continue
            out.append("```")
            in_doctest = False
        if stripped.startswith("```"):
            in_fence = not in_fence
        if not in_fence and stripped.startswith(">>>"):
            indent = len(line) - len(stripped)
            out += ["```pycon", stripped]
            in_doctest = True
            continue
        if not in_fence and line.endswith("::"):
            # A reST literal block follows: Markdown shows the indented lines as code already.
            line = line[:-1]
        out.append(line)
    if in_doctest:
        out.append("```")
    return _ROLE.sub(r"`\1`", "\n".join(out))


def _rewrite_docstring(obj: griffe.Object) -> None:
    if obj.docstring is not None:
        obj.docstring.value = _markdown(obj.docstring.value)


def _type_variables(pkg: griffe.Module) -> set[str]:
    """Names bound to ``TypeVar(...)`` / ``ParamSpec(...)`` anywhere in the package."""
    names: set[str] = set()
    for obj in _walk(pkg):
        if isinstance(obj, griffe.Attribute) and obj.parent is not None and obj.parent.is_module:
            value = str(obj.value or "")
            if value.startswith(("TypeVar(", "ParamSpec(")):
                names.add(obj.name)
    return names


def _substitute(expr: Any, mapping: dict[str, Any], typevars: set[str]) -> Any:
    """``expr`` with type variables replaced (``mapping``) or dropped (``X[ModeT]`` → ``X``)."""
    if isinstance(expr, griffe.ExprName):
        return mapping.get(expr.name, expr)
    if isinstance(expr, griffe.ExprBinOp):
        return griffe.ExprBinOp(
            _substitute(expr.left, mapping, typevars),
            expr.operator,
            _substitute(expr.right, mapping, typevars),
        )
    if isinstance(expr, griffe.ExprSubscript):
        inner = expr.slice.elements if isinstance(expr.slice, griffe.ExprTuple) else [expr.slice]
        if all(isinstance(e, griffe.ExprName) and e.name in typevars for e in inner) and not (
            any(isinstance(e, griffe.ExprName) and e.name in mapping for e in inner)
        ):
            return _substitute(expr.left, mapping, typevars)
        return griffe.ExprSubscript(
            _substitute(expr.left, mapping, typevars), _substitute(expr.slice, mapping, typevars)
        )
    if isinstance(expr, griffe.ExprTuple):
        return griffe.ExprTuple(
            [_substitute(e, mapping, typevars) for e in expr.elements], implicit=expr.implicit
        )
    return expr


def _generic_parameters(cls: griffe.Class) -> list[str]:
    """``M, H`` of ``class _BaseClient(Generic[M, H])``."""
    for base in cls.bases:
        if isinstance(base, griffe.ExprSubscript) and str(base.left) in (
            "Generic",
            "typing.Generic",
        ):
            inner = (
                base.slice.elements if isinstance(base.slice, griffe.ExprTuple) else [base.slice]
            )
            return [str(e) for e in inner]
    return []


def _private_generic_base(cls: griffe.Class) -> tuple[griffe.Class, dict[str, Any]] | None:
    """The private generic base ``cls`` specialises, with its type variables' arguments."""
    for base, resolved in zip(cls.bases, cls.resolved_bases, strict=False):
        if not (isinstance(base, griffe.ExprSubscript) and isinstance(resolved, griffe.Class)):
            continue
        if not resolved.name.startswith("_"):
            continue
        params = _generic_parameters(resolved)
        args = base.slice.elements if isinstance(base.slice, griffe.ExprTuple) else [base.slice]
        if params and len(params) == len(args):
            return resolved, dict(zip(params, args, strict=True))
    return None


def _specialise_constructor(cls: griffe.Class, typevars: set[str]) -> None:
    """Copy the constructor of a private generic base onto ``cls``, its type variables bound."""
    found = _private_generic_base(cls)
    if found is None or "__init__" in cls.members:
        return
    base, mapping = found
    init = base.members.get("__init__")
    if not isinstance(init, griffe.Function):
        return
    parameters = [
        griffe.Parameter(
            p.name,
            annotation=_substitute(p.annotation, mapping, typevars),
            kind=p.kind,
            default=p.default,
        )
        for p in init.parameters
    ]
    copy = griffe.Function(
        "__init__",
        parameters=griffe.Parameters(*parameters),
        returns=init.returns,
        lineno=init.lineno,
        endlineno=init.endlineno,
    )
    cls.set_member("__init__", copy)


def _is_namespace(cls: griffe.Class) -> bool:
    return any(
        isinstance(b, griffe.Class)
        and (b.path == "aurous._operations.Namespace" or _is_namespace(b))
        for b in cls.resolved_bases
    )


def _hide_internals(pkg: griffe.Module) -> None:
    typevars = _type_variables(pkg)
    classes = [obj for obj in _walk(pkg) if isinstance(obj, griffe.Class)]
    for cls in classes:
        _specialise_constructor(cls, typevars)
    for cls in classes:
        namespace = cls.path == "aurous._operations.Namespace" or _is_namespace(cls)
        for name in list(cls.members):
            member = cls.members[name]
            if name == "__init__":
                if namespace:
                    cls.del_member(name)
            elif name.startswith("__") and name.endswith("__"):
                cls.del_member(name)
            elif isinstance(member, griffe.Attribute) and member.annotation is not None:
                member.annotation = _substitute(member.annotation, {}, typevars)
            elif isinstance(member, griffe.Function) and not name.startswith("_"):
                for parameter in member.parameters:
                    parameter.annotation = _substitute(parameter.annotation, {}, typevars)


class AurousSdk(griffe.Extension):
    """Show ``aurous`` methods with the signature ``help()`` shows at run time."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.name != "aurous":
            return
        _rewrite_docstring(pkg)
        for obj in list(_walk(pkg)):
            _rewrite_docstring(obj)
            if isinstance(obj, griffe.Class) and "model_config" in obj.members:
                # pydantic's settings of a model are no part of what users call.
                obj.del_member("model_config")
            if not isinstance(obj, griffe.Function):
                continue
            if obj.name.startswith("_") and obj.name != "__init__":
                continue
            _expand_unpack(obj)
            kind = _descriptor(obj)
            if kind is not None:
                _fix_returns(obj, kind, pkg)
        _hide_internals(pkg)
