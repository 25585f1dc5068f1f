"""SQL dialects: one pure module per engine, found by the store's ``dialect`` name.

Adding an engine means adding ``dialects/<name>.py`` exposing ``DIALECT`` and its name
to :data:`DIALECTS`; nothing else in the query layer changes.
"""

from __future__ import annotations

import importlib

from analytics_hub.query.dialects.base import EVENT_SELECT, Compiled, Dialect

#: dialect names this build knows, each a module of this package
DIALECTS: tuple[str, ...] = ("duckdb", "postgres")


def get_dialect(name: str) -> Dialect:
    """The dialect called ``name`` (the ``dialect`` attribute of an ``EventStore``)."""
    if name not in DIALECTS:
        raise LookupError(f"unknown SQL dialect {name!r}; known: {', '.join(DIALECTS)}")
    # Imported on demand so that a store only loads the dialect it speaks.
    module = importlib.import_module(f"{__name__}.{name}")
    dialect = module.DIALECT
    if not isinstance(dialect, Dialect):  # pragma: no cover - a broken dialect module
        raise TypeError(f"dialect module {name!r} does not define DIALECT")
    return dialect


__all__ = ["DIALECTS", "EVENT_SELECT", "Compiled", "Dialect", "get_dialect"]
