"""The price file: its types, loading and validation.

One format serves the shipped table (``pricing/data/prices.toml``) and the override
files a tenant imports (``analytics-hub prices import``): ``[[models]]`` entries with
price periods, and, in the shipped table only, ``[providers]`` that say how names are
spelled. Loading decodes with msgspec (types, ranges) and then checks what a type cannot
say (periods in order, no name listed twice, aliases that point somewhere); every
problem is reported with its path in the file, e.g. ``models[12].prices[1].from``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import msgspec

from analytics_hub.errors import ValidationError

# At most a million dollars per million tokens: a typo guard that also rejects inf and nan.
Usd = Annotated[float, msgspec.Meta(ge=0.0, le=1_000_000.0)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
EPOCH_DAY = dt.date(1970, 1, 1)


class PricePeriod(msgspec.Struct, forbid_unknown_fields=True, frozen=True, omit_defaults=True):
    """Prices from ``from_`` (a UTC day) until the next period, USD per million tokens.

    ``cached_input`` defaults to ``input`` and ``reasoning`` to ``output``.
    """

    from_: dt.date = msgspec.field(name="from")
    input: Usd
    output: Usd
    cached_input: Usd | None = None
    reasoning: Usd | None = None


class ModelPrices(msgspec.Struct, forbid_unknown_fields=True, frozen=True, omit_defaults=True):
    """One model of one provider: its other names and its price periods, oldest first."""

    provider: Name
    model: Name
    prices: list[PricePeriod]
    aliases: list[Name] = []


class ProviderInfo(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """How a provider and its model names are spelled (see docs/concepts/pricing.md)."""

    spellings: list[Name] = []
    prices_as: str | None = None
    strip_prefixes: list[Name] = []
    aliases: dict[str, str] = {}


class PriceFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A whole price file: the shipped table, or a tenant's overrides (no providers)."""

    version: int = 1
    checked: dt.date | None = None
    providers: dict[str, ProviderInfo] = {}
    models: list[ModelPrices] = []


class PriceFileError(ValidationError):
    """A price file that cannot be used; ``details`` lists ``{path, message}``."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        first = f"{problems[0][0]}: {problems[0][1]}" if problems else "invalid"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(
            f"{source}: {first}{more}",
            details=[{"path": path, "message": message} for path, message in problems],
        )
        self.problems = problems


def decode_price_file(
    data: bytes, *, source: str = "price file", shipped: bool = False
) -> PriceFile:
    """Decode and check a price file (TOML, or JSON when it starts with ``{``).

    ``shipped`` applies the rules of the shipped table (every model's provider declared
    under ``[providers]``); an override file may name any provider but declare none.
    Raises :class:`PriceFileError` listing every problem found.
    """
    try:
        if data.lstrip()[:1] == b"{":
            parsed = msgspec.json.decode(data, type=PriceFile)
        else:
            parsed = msgspec.toml.decode(data, type=PriceFile)
    except msgspec.ValidationError as exc:
        raise PriceFileError(source, [_msgspec_problem(str(exc))]) from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise PriceFileError(source, [("", f"not valid TOML or JSON: {exc}")]) from None
    problems = list(check(parsed, shipped=shipped))
    if problems:
        raise PriceFileError(source, problems)
    return parsed


def load_price_file(path: Path, *, shipped: bool = False) -> PriceFile:
    """:func:`decode_price_file` of the file at ``path``."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PriceFileError(str(path), [("", f"cannot read the file: {exc}")]) from None
    return decode_price_file(data, source=str(path), shipped=shipped)


def shipped_price_file() -> PriceFile:
    """The price table shipped in the package (``pricing/data/prices.toml``)."""
    data = files("analytics_hub.pricing").joinpath("data", "prices.toml").read_bytes()
    return decode_price_file(data, source="prices.toml", shipped=True)


def _msgspec_problem(text: str) -> tuple[str, str]:
    # msgspec says "Expected `float` >= 0.0 - at `$.models[3].prices[0].input`".
    message, sep, where = text.rpartition(" - at `")
    if not sep:
        return "", text
    return where.rstrip("`").removeprefix("$").removeprefix("."), message


def normal_name(name: str) -> str:
    """How names are compared: trimmed and lower-cased."""
    return name.strip().lower()


def check(table: PriceFile, *, shipped: bool) -> Iterator[tuple[str, str]]:
    """Every problem of ``table`` that its types cannot express, as ``(path, message)``."""
    yield from _check_providers(table, shipped=shipped)
    seen: dict[tuple[str, str], str] = {}  # (provider, name or alias) -> path of its entry
    for i, entry in enumerate(table.models):
        at = f"models[{i}]"
        if shipped and entry.provider not in table.providers:
            yield f"{at}.provider", f"{entry.provider!r} is not declared under [providers]"
        if entry.provider != normal_name(entry.provider):
            yield f"{at}.provider", f"write {entry.provider!r} in lower case"
        if not entry.prices:
            yield f"{at}.prices", "a model needs at least one price period"
        for j in range(1, len(entry.prices)):
            if entry.prices[j].from_ <= entry.prices[j - 1].from_:
                yield f"{at}.prices[{j}].from", "periods must be listed oldest first, one per day"
        names = [(f"{at}.model", entry.model)]
        names += [(f"{at}.aliases[{k}]", a) for k, a in enumerate(entry.aliases)]
        for path, name in names:
            listed = (entry.provider, normal_name(name))
            if listed in seen:
                yield path, f"{name!r} of {entry.provider!r} is listed twice (also {seen[listed]})"
            else:
                seen[listed] = path
            if name != normal_name(name):
                yield path, f"write {name!r} in lower case without spaces around it"
    for provider, info in table.providers.items():
        for alias, target in info.aliases.items():
            owners = (provider, info.prices_as) if info.prices_as else (provider,)
            if not any((owner, target) in seen for owner in owners):
                yield (
                    f"providers.{provider}.aliases.{alias}",
                    f"{target!r} is not a model of {' or '.join(map(repr, owners))}",
                )


def _check_providers(table: PriceFile, *, shipped: bool) -> Iterator[tuple[str, str]]:
    if table.providers and not shipped:
        yield "providers", "an override file lists models only: providers come with the hub"
    spelled: dict[str, str] = {}
    for name, info in table.providers.items():
        at = f"providers.{name}"
        if name != normal_name(name):
            yield at, f"write the provider {name!r} in lower case"
        if info.prices_as is not None:
            target = table.providers.get(info.prices_as)
            if target is None:
                yield f"{at}.prices_as", f"{info.prices_as!r} is not a declared provider"
            elif target.prices_as is not None or info.prices_as == name:
                yield f"{at}.prices_as", "must name a provider that has no prices_as itself"
        for k, spelling in enumerate([name, *info.spellings]):
            key = normal_name(spelling)
            if spelled.get(key, name) != name:
                path = f"{at}.spellings[{k - 1}]" if k else at
                yield path, f"{spelling!r} already spells provider {spelled[key]!r}"
            spelled[key] = name


__all__ = [
    "EPOCH_DAY",
    "ModelPrices",
    "PriceFile",
    "PriceFileError",
    "PricePeriod",
    "ProviderInfo",
    "check",
    "decode_price_file",
    "load_price_file",
    "normal_name",
    "shipped_price_file",
]
