"""What the registries (readouts, output formats, encoders, losses, languages) share: a table by
name that refuses a name twice and answers an unknown name with the known ones, and the import of
a ``"module:attribute"`` reference on first use (so listing a registry imports no torch)."""

from __future__ import annotations

import importlib
from typing import Any, TypeVar

T = TypeVar("T")


def add(table: dict[str, T], name: str, item: T, what: str) -> T:
    if name in table:
        raise ValueError(f"{what} {name!r} is registered twice")
    table[name] = item
    return item


def lookup(table: dict[str, T], name: str, what: str) -> T:
    if name not in table:
        raise ValueError(f"unknown {what} {name!r}; choose from {', '.join(table)}")
    return table[name]


def resolve(where: str) -> Any:
    """The object ``"module:attribute"`` names (the module itself for ``"module"``)."""
    module, _, attribute = where.partition(":")
    loaded = importlib.import_module(module)
    return getattr(loaded, attribute) if attribute else loaded
