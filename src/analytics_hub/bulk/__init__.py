"""Readers for ``analytics-hub ingest FILE``: NDJSON, JSON, CSV and Parquet, streaming.

::

    from analytics_hub.bulk import count_hint, iter_batches

    total = count_hint("events.csv.gz")          # None: compressed, unknown
    for batch in iter_batches("events.csv.gz"):  # lists of at most 10,000 event dicts
        client.send(batch)
"""

from analytics_hub.bulk.reader import count_hint, iter_batches
from analytics_hub.bulk.sources import FORMATS, Format, detect_format

__all__ = ["FORMATS", "Format", "count_hint", "detect_format", "iter_batches"]
