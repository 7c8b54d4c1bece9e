"""Templated names for a batch's downloads: ``file_name="{index:05d}-{id}"``.

A template names a file *inside* ``download_to`` (the extension is added from the content type)
and must give every output of the batch its own name. Both are checked before anything is sent:
only the fields ``index``, ``id`` and ``n`` exist, the literal text and every rendered name use
``A-Z a-z 0-9 _ . -`` only (no separator, so no way out of the directory, nothing a shell or
another OS would read differently), and sample renderings with distinct items and outputs must
all differ — which refuses templates without ``{index}`` or ``{id}`` and format specs that cut
them short (``{id:.4}``).
"""

from __future__ import annotations

import dataclasses
import re
import string
from typing import Any

__all__ = ["FileNameTemplate"]

_FIELDS = frozenset({"index", "id", "n"})
_SAFE = re.compile(r"^[A-Za-z0-9_.-]+$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_MAX_LENGTH = 200
"""Longest name (before the extension): file systems allow 255 bytes with the extension."""
_SAMPLE_INDEXES = (0, 1, 2, 9, 10, 11, 99, 100, 12_345, 99_999, 100_000, 1_234_567)
_SAMPLE_IDS = (
    "img_01KS2D7VBRX1NC1J4R82RJEXE5",
    "img_01KS2D7VBRX1NC1J4R82RJEXE6",
    "img_11KS2D7VBRX1NC1J4R82RJEXE5",
    "vid_01KS2D7VBRX1NC1J4R82RJEXE5",
    "img_01KS2D7VBRX1NC1J4R82RJEXE5X",
    "img_01KS2D7VBRX1NC1J4R82RJEX",
    "img_01KT2D7VBRX1NC1J4R82RJEXE5",
    "img_01KS2D7VBRX1NC1J4R82RJEXF5",
    "img_01KS2D7VBRX1NC1J4R82RJEXE7",
    "img_01KS2D7VBRX1NC1J4R82RJEXE8",
    "img_01KS2D7VBRX1NC1J4R82RJEXE9",
    "img_01KS2D7VBRX1NC1J4R82RJEXEA",
)
_SAMPLE_OUTPUTS = 4
"""An image generation has at most four outputs."""


@dataclasses.dataclass(frozen=True)
class FileNameTemplate:
    """A checked ``file_name`` template."""

    template: str
    numbers_outputs: bool
    """Whether it has ``{n}``: without it, each generation may have only one output."""

    @classmethod
    def parse(cls, template: Any) -> FileNameTemplate:
        """Check ``template``; ValueError/TypeError naming ``file_name`` and the problem."""
        if not isinstance(template, str):
            raise TypeError(f"file_name must be a str template, not {type(template).__name__}")
        fields: set[str] = set()
        try:
            parts = list(string.Formatter().parse(template))
        except ValueError as exc:
            raise ValueError(f"file_name {template!r} is not a valid template: {exc}") from None
        for literal, field, spec, conversion in parts:
            if literal and not _SAFE.match(literal):
                raise ValueError(
                    f"file_name {template!r}: {literal!r} has characters other than letters, "
                    "digits, '_', '.' and '-' (a file name template cannot name a path)"
                )
            if field is None:
                continue
            if field not in _FIELDS:
                raise ValueError(
                    f"file_name {template!r}: unknown field {{{field}}}; the fields are "
                    "{index} (position of the request), {id} (the generation id) and {n} "
                    "(number of the output)"
                )
            if conversion is not None or (spec and "{" in spec):
                raise ValueError(
                    f"file_name {template!r}: {{{field}}} takes a format spec only "
                    "(e.g. {index:05d}), no conversion or nested field"
                )
            fields.add(field)
        if not fields & {"index", "id"}:
            raise ValueError(
                f"file_name {template!r} needs {{index}} or {{id}}: without either, every "
                "request's outputs would get the same name"
            )
        checked = cls(template, "n" in fields)
        checked._check_samples()
        return checked

    def _check_samples(self) -> None:
        seen: dict[str, tuple[int, str, int]] = {}
        outputs = _SAMPLE_OUTPUTS if self.numbers_outputs else 1
        for index, generation_id in zip(_SAMPLE_INDEXES, _SAMPLE_IDS, strict=True):
            for n in range(outputs):
                try:
                    name = self._format(index, generation_id, n)
                except (ValueError, TypeError) as exc:
                    raise ValueError(
                        f"file_name {self.template!r} cannot be rendered: {exc}"
                    ) from None
                if not _SAFE.match(name) or name.startswith(".") or len(name) > _MAX_LENGTH:
                    raise ValueError(
                        f"file_name {self.template!r} renders {name!r:.80}, which is not a plain "
                        f"file name (letters, digits, '_', '.', '-'; not starting with '.'; at "
                        f"most {_MAX_LENGTH} characters)"
                    )
                other = seen.get(name)
                if other is not None:
                    raise ValueError(
                        f"file_name {self.template!r} can give two outputs the same name: "
                        f"{name!r} for index={other[0]}, id={other[1]}, n={other[2]} and for "
                        f"index={index}, id={generation_id}, n={n}"
                    )
                seen[name] = (index, generation_id, n)

    def _format(self, index: int, generation_id: str, n: int) -> str:
        return self.template.format(index=index, id=_UNSAFE.sub("_", generation_id), n=n)

    def render(self, index: int, generation_id: str, n: int) -> str:
        """The name (without extension) of output ``n`` of the generation of request ``index``."""
        # Checked on samples already; an id of a shape never seen is still made harmless.
        return _UNSAFE.sub("_", self._format(index, generation_id, n)).lstrip(".") or "_"
