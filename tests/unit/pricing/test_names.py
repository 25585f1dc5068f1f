"""Which shipped entry an event's provider and model resolve to: the documented rules,
and nothing looser."""

from __future__ import annotations

import pytest

from analytics_hub.pricing import PriceBook, shipped_price_file, strip_suffix

BOOK = PriceBook(shipped_price_file())


def resolved(provider: str, model: str) -> tuple[str, str] | None:
    found = BOOK.resolve(provider, model, {})
    return None if found is None else (found.provider, found.model)


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("OpenAI", "openai"),
        ("azure_openai", "azure"),
        ("az.ai.openai", "azure"),
        ("azure", "azure"),
        ("aws_bedrock", "bedrock"),
        ("aws.bedrock", "bedrock"),
        ("gcp.gemini", "google"),
        ("vertex_ai", "google"),
        ("mistral_ai", "mistral"),
        (" Together_AI ", "together"),
        ("fireworks_ai", "fireworks"),
        ("vllm", "vllm"),  # undeclared: itself, normalised
    ],
)
def test_provider_spellings_map_to_one_canonical_name(spelling: str, canonical: str) -> None:
    assert BOOK.names.provider(spelling) == canonical


@pytest.mark.parametrize(
    ("provider", "model", "entry"),
    [
        # exact, any case
        ("openai", "GPT-4o", ("openai", "gpt-4o")),
        # a dated snapshot without an entry of its own: its base model
        ("openai", "gpt-4o-2024-11-20", ("openai", "gpt-4o")),
        ("openai", "gpt-4.1-2025-04-14", ("openai", "gpt-4.1")),
        # a dated snapshot with its own (different) price keeps it
        ("openai", "gpt-4o-2024-05-13", ("openai", "gpt-4o-2024-05-13")),
        ("openai", "gpt-3.5-turbo-0125", ("openai", "gpt-3.5-turbo")),
        # "<provider>/" prefixes of the same provider
        ("openai", "openai/gpt-4o-mini", ("openai", "gpt-4o-mini")),
        # model aliases, and an alias reached after stripping "-latest"
        ("anthropic", "claude-sonnet-4", ("anthropic", "claude-sonnet-4-20250514")),
        ("anthropic", "claude-3-5-haiku-latest", ("anthropic", "claude-3-5-haiku-20241022")),
        ("mistral_ai", "mistral-large-latest", ("mistral", "mistral-large-2411")),
        ("cohere", "command-r", ("cohere", "command-r-03-2024")),
        # Gemini: "models/" prefix and revision suffix
        ("gcp.gemini", "models/gemini-2.0-flash-001", ("google", "gemini-2.0-flash")),
        ("vertex_ai", "gemini-1.5-pro-002", ("google", "gemini-1.5-pro")),
        # Azure: OpenAI's prices, Azure's own spellings
        ("azure_openai", "gpt-4o", ("openai", "gpt-4o")),
        ("azure", "gpt-35-turbo", ("openai", "gpt-3.5-turbo")),
        ("az.ai.openai", "gpt-35-turbo-0125", ("openai", "gpt-3.5-turbo")),
        # Bedrock model ids, with and without a cross-region profile prefix
        (
            "aws.bedrock",
            "anthropic.claude-3-5-sonnet-20241022-v2:0",
            ("bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0"),
        ),
        (
            "bedrock",
            "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
            ("bedrock", "anthropic.claude-3-7-sonnet-20250219-v1:0"),
        ),
        (
            "aws_bedrock",
            "meta.llama3-1-70b-instruct-v1:0",
            ("bedrock", "meta.llama3-1-70b-instruct-v1:0"),
        ),
        # Llama on hosts, in the hosts' own spelling (case-insensitive)
        (
            "together_ai",
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            ("together", "meta-llama/llama-3.3-70b-instruct-turbo"),
        ),
        ("groq", "llama-3.3-70b-versatile", ("groq", "llama-3.3-70b-versatile")),
        (
            "fireworks",
            "accounts/fireworks/models/llama-v3p3-70b-instruct",
            ("fireworks", "llama-v3p3-70b-instruct"),
        ),
    ],
)
def test_names_resolve_by_the_documented_rules(
    provider: str, model: str, entry: tuple[str, str]
) -> None:
    assert resolved(provider, model) == entry


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("openai", "ft:gpt-4o-mini-2024-07-18:acme::abc123"),  # fine-tunes cost more
        ("openai", "gpt-4o-turbo-ultra"),  # close is not the same
        ("litellm", "gpt-4o"),  # an unknown provider is not guessed
        ("anthropic", "gpt-4o"),  # nor is a model of another provider
        ("openai", "claude-sonnet-4"),
        ("azure", "my-prod-deployment"),  # a deployment name says nothing of the model
        ("google", "anthropic/claude-sonnet-4"),  # a prefix of another provider stays
        ("unknown", "gpt-4o"),
        ("openai", "gpt-4o\x00x"),
        ("openai", ""),
    ],
)
def test_what_the_rules_do_not_find_has_no_price(provider: str, model: str) -> None:
    assert resolved(provider, model) is None


@pytest.mark.parametrize(
    ("name", "stripped"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("claude-3-5-sonnet@20241022", "claude-3-5-sonnet"),
        ("mistral-large-latest", "mistral-large"),
        ("gemini-2.0-flash-001", "gemini-2.0-flash"),
        ("gpt-4-0613", "gpt-4"),
        ("gpt-4o", None),
        ("o3", None),
        ("-latest", None),
    ],
)
def test_one_trailing_version_marker_is_stripped(name: str, stripped: str | None) -> None:
    assert strip_suffix(name) == stripped
