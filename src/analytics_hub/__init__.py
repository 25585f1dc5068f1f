"""LLM Analytics Hub: one place for everything an organisation's LLM systems emit.

The public API is deliberately small; everything else is reached through the
command line (``analytics-hub``), the HTTP API or :mod:`analytics_hub.client`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("llm-analytics-hub")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
