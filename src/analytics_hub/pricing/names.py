"""Which table entries an event's (provider, model) may mean: the documented normalisation.

Sources spell the same thing many ways (``azure_openai`` and ``az.ai.openai``,
``models/gemini-2.0-flash-001``, ``us.anthropic.claude-...``, ``gpt-4o-2024-11-20``).
The rules, applied in this order and nothing beyond them (docs/concepts/pricing.md):

1. Provider: trimmed and lower-cased, then mapped to its canonical name through the
   ``spellings`` of ``[providers]``; a spelling no provider declares stays as it is.
2. Model: trimmed and lower-cased; the provider's first matching ``strip_prefixes``
   entry is removed, and so is a ``<provider>/`` prefix naming the same provider
   (``openai/gpt-4o``).
3. Candidate names: that name, then the name without one trailing version marker
   (``SUFFIXES``: a date, ``-latest``, a three-digit revision, a four-digit release) when
   the full name is not listed. Each candidate is also tried through the provider's
   ``aliases`` and the models' ``aliases``.
4. Providers tried: the canonical one, then its ``prices_as`` provider (Azure -> OpenAI).

A name that none of this finds has no price: it is never matched to "something close".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analytics_hub.pricing.table import ModelPrices, PriceFile, ProviderInfo, normal_name

# One trailing version marker, tried only when the full name is not listed.
SUFFIXES: tuple[re.Pattern[str], ...] = (
    re.compile(r"-\d{4}-\d{2}-\d{2}$"),  # OpenAI snapshots: gpt-4o-2024-11-20
    re.compile(r"[-@]\d{8}$"),  # Anthropic and Vertex dates: -20241022, @20241022
    re.compile(r"-latest$"),  # moving aliases: claude-3-5-haiku-latest
    re.compile(r"-\d{3}$"),  # Gemini revisions: gemini-2.0-flash-001
    re.compile(r"-\d{4}$"),  # release numbers: gpt-4-0613, gpt-3.5-turbo-0125
)

Key = tuple[str, str]  # (canonical provider, model name)


def strip_suffix(name: str) -> str | None:
    """``name`` without its trailing version marker, or None when it has none."""
    for pattern in SUFFIXES:
        stripped = pattern.sub("", name)
        if stripped != name and stripped:
            return stripped
    return None


@dataclass(frozen=True, slots=True)
class _Provider:
    prices_as: str | None
    prefixes: tuple[str, ...]  # longest first, so that the most specific one wins
    aliases: dict[str, str]


class Names:
    """Normalisation of the shipped table; built once, then read by many threads."""

    def __init__(self, table: PriceFile) -> None:
        self._spellings: dict[str, str] = {}
        self._providers: dict[str, _Provider] = {}
        for name, info in table.providers.items():
            self._add_provider(name, info)
        # (provider, model alias) -> model name, for every alias in the table
        self._model_aliases: dict[Key, str] = {}
        for entry in table.models:
            for alias in entry.aliases:
                self._model_aliases[(entry.provider, normal_name(alias))] = entry.model

    def _add_provider(self, name: str, info: ProviderInfo) -> None:
        for spelling in (name, *info.spellings):
            self._spellings[normal_name(spelling)] = name
        self._providers[name] = _Provider(
            prices_as=info.prices_as,
            prefixes=tuple(sorted(map(normal_name, info.strip_prefixes), key=len, reverse=True)),
            aliases={normal_name(a): normal_name(t) for a, t in info.aliases.items()},
        )

    def provider(self, spelling: str) -> str:
        """The canonical provider for ``spelling`` (itself, normalised, when unknown)."""
        key = normal_name(spelling)
        return self._spellings.get(key, key)

    def model(self, provider: str, model: str) -> str:
        """Rule 2: the model name with the provider's prefixes removed."""
        name = normal_name(model)
        info = self._providers.get(provider)
        if info is not None:
            for prefix in info.prefixes:
                if name.startswith(prefix) and len(name) > len(prefix):
                    name = name[len(prefix) :]
                    break
        head, sep, rest = name.partition("/")
        if sep and rest and self._spellings.get(head) == provider:
            name = rest
        return name

    def chain(self, provider: str) -> list[str]:
        """Rule 4: the canonical ``provider`` and the one whose prices it uses, if any."""
        info = self._providers.get(provider)
        return [provider] if info is None or info.prices_as is None else [provider, info.prices_as]

    def candidates(self, provider_spelling: str, model: str) -> list[Key]:
        """Rules 1 to 4: the keys to look up, in order, without repeats."""
        provider = self.provider(provider_spelling)
        chain = self.chain(provider)
        name = self.model(provider, model)
        names = [name]
        stripped = strip_suffix(name)
        if stripped is not None:
            names.append(stripped)
        keys: list[Key] = []
        for owner in chain:
            for candidate in names:
                for each in self._expand(provider, owner, candidate):
                    if each not in keys:
                        keys.append(each)
        return keys

    def _expand(self, provider: str, owner: str, name: str) -> list[Key]:
        """``(owner, name)`` and what the provider's and the models' aliases make of it."""
        info = self._providers.get(provider)
        out = [(owner, name)]
        if info is not None and name in info.aliases:
            out.append((owner, info.aliases[name]))
        for _, each in list(out):
            target = self._model_aliases.get((owner, each))
            if target is not None:
                out.append((owner, target))
        return out


def entries_by_key(table: PriceFile) -> dict[Key, ModelPrices]:
    """Every model of ``table`` under its own name (aliases are resolved by Names)."""
    return {(entry.provider, normal_name(entry.model)): entry for entry in table.models}


__all__ = ["SUFFIXES", "Key", "Names", "entries_by_key", "strip_suffix"]
