"""Source module names: the canonical ones, their aliases, and custom sources.

A name is lower-cased, then an alias is replaced by its canonical name. Any other name
that is a well-formed slug (``SLUG_PATTERN``: a lower-case letter, then letters, digits
and single ``-``, ``_`` or ``.`` separators, at most 64 characters) is accepted as a
custom source and stored as is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from analytics_hub.events.fields import SLUG_PATTERN

CANONICAL_MODULES: tuple[str, ...] = (
    "llm-observatory",
    "llm-sentinel",
    "llm-cost-ops",
    "llm-governance-dashboard",
    "llm-registry",
    "llm-policy-engine",
    "llm-marketplace",
    "llm-analytics-hub",
)

MODULE_ALIASES: dict[str, str] = {
    "observatory": "llm-observatory",
    "sentinel": "llm-sentinel",
    "costops": "llm-cost-ops",
    "cost-ops": "llm-cost-ops",
    "llm-costops": "llm-cost-ops",
    "governance": "llm-governance-dashboard",
    "llm-governance": "llm-governance-dashboard",
    "governance-dashboard": "llm-governance-dashboard",
    "registry": "llm-registry",
    "policy-engine": "llm-policy-engine",
    "marketplace": "llm-marketplace",
    "analytics-hub": "llm-analytics-hub",
}

_SLUG = re.compile(SLUG_PATTERN)
_CANONICAL = frozenset(CANONICAL_MODULES)


def canonical_module(name: str) -> str:
    """The canonical name of ``name``; ``ValueError`` when it is not a valid slug."""
    lowered = name.lower()
    canonical = MODULE_ALIASES.get(lowered, lowered)
    if canonical in _CANONICAL:
        return canonical
    if len(lowered) > 64 or not _SLUG.fullmatch(lowered):
        raise ValueError(
            f"invalid source_module {name!r}: use a canonical name such as "
            "'llm-observatory', or a slug of lower-case letters, digits and single "
            "'-', '_' or '.' separators starting with a letter (at most 64 characters)"
        )
    return lowered


def canonical_modules(names: Sequence[str]) -> tuple[list[str], dict[int, str]]:
    """Canonicalise a batch; returns the names and ``{position: error message}``.

    Works on the distinct names only (a batch has few), so it costs a set build and,
    when something changes, one dictionary lookup per event.
    """
    distinct = set(names)
    if distinct <= _CANONICAL:
        return list(names), {}
    mapping: dict[str, str] = {}
    invalid: dict[str, str] = {}
    for name in distinct:
        try:
            mapping[name] = canonical_module(name)
        except ValueError as exc:
            invalid[name] = str(exc)
    errors = {i: invalid[n] for i, n in enumerate(names) if n in invalid} if invalid else {}
    return [mapping.get(n, n) for n in names], errors


__all__ = ["CANONICAL_MODULES", "MODULE_ALIASES", "canonical_module", "canonical_modules"]
