"""The price file: the shipped table loads and covers the providers it must; every
problem of a bad file is reported with its path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from analytics_hub.errors import ValidationError
from analytics_hub.pricing import (
    PriceFileError,
    decode_price_file,
    load_price_file,
    shipped_price_file,
)

GOOD_OVERRIDES = b"""
[[models]]
provider = "vllm"
model = "acme-ft-1"
prices = [{ from = 2025-01-01, input = 1.0, output = 2.0 }]
"""


def problems(data: str, *, shipped: bool = False) -> list[tuple[str, str]]:
    with pytest.raises(PriceFileError) as caught:
        decode_price_file(data.encode(), shipped=shipped)
    assert isinstance(caught.value, ValidationError)  # a 400 through the API
    return caught.value.problems


def paths(data: str, *, shipped: bool = False) -> list[str]:
    return [path for path, _ in problems(data, shipped=shipped)]


def test_the_shipped_table_loads_and_says_when_it_was_checked() -> None:
    table = shipped_price_file()
    assert table.checked is not None
    assert len(table.models) > 100
    assert all(m.prices for m in table.models)


@pytest.mark.parametrize(
    ("provider", "model_prefix"),
    [
        ("openai", "gpt-"),
        ("openai", "o3"),
        ("anthropic", "claude-"),
        ("google", "gemini-"),
        ("mistral", "mistral-"),
        ("cohere", "command-"),
        ("together", "meta-llama/"),
        ("groq", "llama-"),
        ("fireworks", "llama"),
        ("bedrock", "anthropic.claude-"),
        ("bedrock", "meta.llama"),
    ],
)
def test_the_shipped_table_covers_each_provider_family(provider: str, model_prefix: str) -> None:
    models = [m.model for m in shipped_price_file().models if m.provider == provider]
    assert any(name.startswith(model_prefix) for name in models), (provider, model_prefix)


def test_azure_has_no_prices_of_its_own_but_uses_openais() -> None:
    table = shipped_price_file()
    assert table.providers["azure"].prices_as == "openai"
    assert not [m for m in table.models if m.provider == "azure"]


def test_a_good_override_file_decodes_in_toml_and_json() -> None:
    toml = decode_price_file(GOOD_OVERRIDES)
    json = decode_price_file(
        b'{"models": [{"provider": "vllm", "model": "acme-ft-1",'
        b' "prices": [{"from": "2025-01-01", "input": 1.0, "output": 2.0}]}]}'
    )
    assert toml == json
    assert toml.models[0].prices[0].from_ == dt.date(2025, 1, 1)


def test_a_negative_price_is_reported_at_its_path() -> None:
    found = problems(GOOD_OVERRIDES.decode().replace("input = 1.0", "input = -1.0"))
    assert found[0][0] == "models[0].prices[0].input"
    assert ">= 0" in found[0][1]


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_infinite_and_nan_prices_are_refused(value: str) -> None:
    assert paths(GOOD_OVERRIDES.decode().replace("output = 2.0", f"output = {value}")) == [
        "models[0].prices[0].output"
    ]


def test_an_unknown_field_is_refused_with_its_path() -> None:
    found = problems(GOOD_OVERRIDES.decode().replace("output = 2.0", "output = 2.0, cahced = 1"))
    assert found[0][0] == "models[0].prices[0]"
    assert "cahced" in found[0][1]


def test_periods_out_of_order_are_reported() -> None:
    data = """
[[models]]
provider = "vllm"
model = "m"
prices = [
  { from = 2025-02-01, input = 1, output = 1 },
  { from = 2025-01-01, input = 2, output = 2 },
]
"""
    assert paths(data) == ["models[0].prices[1].from"]


def test_a_model_without_periods_is_reported() -> None:
    assert paths('[[models]]\nprovider = "vllm"\nmodel = "m"\nprices = []\n') == [
        "models[0].prices"
    ]


def test_names_listed_twice_and_upper_case_names_are_reported() -> None:
    data = """
[[models]]
provider = "vllm"
model = "m"
aliases = ["n"]
prices = [{ from = 2025-01-01, input = 1, output = 1 }]

[[models]]
provider = "vllm"
model = "N"
prices = [{ from = 2025-01-01, input = 1, output = 1 }]
"""
    found = problems(data)
    assert [p for p, _ in found] == ["models[1].model", "models[1].model"]
    assert "listed twice (also models[0].aliases[0])" in found[0][1]
    assert "lower case" in found[1][1]


def test_the_shipped_rules_need_declared_providers_and_valid_aliases() -> None:
    data = """
[providers.openai]
spellings = ["openai"]

[providers.azure]
spellings = ["azure", "OpenAI"]
prices_as = "nowhere"
aliases = { "gpt-35-turbo" = "gpt-3.5-turbo" }

[[models]]
provider = "anthropic"
model = "claude"
prices = [{ from = 2025-01-01, input = 1, output = 1 }]
"""
    assert sorted(paths(data, shipped=True)) == [
        "models[0].provider",
        "providers.azure.aliases.gpt-35-turbo",
        "providers.azure.prices_as",
        "providers.azure.spellings[1]",
    ]


def test_an_override_file_declares_no_providers() -> None:
    data = '[providers.x]\nspellings = ["x"]\n' + GOOD_OVERRIDES.decode()
    assert paths(data) == ["providers"]


def test_text_that_is_not_toml_is_one_problem_without_a_path() -> None:
    found = problems("models = [[[")
    assert found[0][0] == ""
    assert "not valid TOML or JSON" in found[0][1]


def test_a_missing_file_is_a_price_file_error(tmp_path: Path) -> None:
    with pytest.raises(PriceFileError, match="cannot read the file"):
        load_price_file(tmp_path / "absent.toml")


def test_load_price_file_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_bytes(GOOD_OVERRIDES)
    assert load_price_file(path).models[0].model == "acme-ft-1"
