"""Class vocabulary: canonical names, aliases, parents and functions, read from ``annotation/vocab``.

Every reader resolves the class names of its format through :func:`load_classes`, so
``soccer-ball-field``, ``Soccer_Ball_Field`` and ``soccer ball field`` are one class, and a
name that matches nothing is rejected by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from lrsgro.errors import InputError
from lrsgro.resources import annotation_path

_SEPARATORS = re.compile(r"[\s_\-./]+")


def class_key(name: str) -> str:
    """Return the spelling-insensitive key of a class name: lower case, no separators."""
    return _SEPARATORS.sub("", name.strip().lower())


@dataclass(frozen=True)
class ClassInfo:
    """One class of the vocabulary."""

    name: str
    parent: str | None = None
    plural: str | None = None
    function: str | None = None
    built_up: bool = False
    kind: str = "object"
    aliases: tuple[str, ...] = ()

    @property
    def plural_name(self) -> str:
        if self.plural:
            return self.plural
        if self.name.endswith(("s", "x", "sh", "ch")):
            return self.name + "es"
        return self.name + "s"


@dataclass
class ClassVocabulary:
    """All known classes, looked up by any accepted spelling."""

    classes: dict[str, ClassInfo]
    _index: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for info in self.classes.values():
            for spelling in (info.name, *info.aliases):
                self._index.setdefault(class_key(spelling), info.name)

    def resolve(self, name: str) -> ClassInfo | None:
        """Return the class a spelling refers to, or None when it is unknown."""
        canonical = self._index.get(class_key(name))
        return self.classes[canonical] if canonical else None

    def require(self, name: str, *, path: str | Path | None = None, line: int | None = None) -> ClassInfo:
        """Resolve a class name or raise an :class:`InputError` naming it."""
        info = self.resolve(name)
        if info is None:
            raise InputError(
                f"unknown class {name!r}",
                path=path,
                line=line,
                fix="add it with its aliases to annotation/vocab/classes.yaml, or pass --class-map",
            )
        return info

    def __getitem__(self, name: str) -> ClassInfo:
        return self.classes[name]

    def __contains__(self, name: str) -> bool:
        return self.resolve(name) is not None

    def extended(self, extra: dict[str, ClassInfo]) -> ClassVocabulary:
        """Return a copy with more classes (a format's own fine classes, say)."""
        merged = dict(self.classes)
        merged.update(extra)
        return ClassVocabulary(merged)


def _parse_classes(data: dict[str, Any], path: Path) -> dict[str, ClassInfo]:
    classes: dict[str, ClassInfo] = {}
    for name, fields in (data.get("classes") or {}).items():
        fields = fields or {}
        if not isinstance(fields, dict):
            raise InputError(f"class {name!r} must map to a table of fields", path=path)
        classes[str(name)] = ClassInfo(
            name=str(name),
            parent=fields.get("parent"),
            plural=fields.get("plural"),
            function=fields.get("function"),
            built_up=bool(fields.get("built_up", False)),
            kind=str(fields.get("kind", "object")),
            aliases=tuple(str(a) for a in fields.get("aliases", ())),
        )
    return classes


def load_classes(path: Path | None = None) -> ClassVocabulary:
    """Load the class vocabulary (default: ``annotation/vocab/classes.yaml``), cached per file."""
    return _load_classes(path or annotation_path("vocab", "classes.yaml"))


def load_yaml(name: str) -> dict[str, Any]:
    """Load one vocabulary file of ``annotation/vocab`` by file name, cached per file."""
    return _load_yaml(annotation_path("vocab", name))


@lru_cache(maxsize=8)
def _load_classes(path: Path) -> ClassVocabulary:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return ClassVocabulary(_parse_classes(data, path))


@lru_cache(maxsize=32)
def _load_yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
