"""Python's cyclic garbage collector, tuned for a server that decodes large batches.

A 1,000-event request allocates tens of thousands of containers that live until the
request is done. With CPython's default thresholds (a young collection every 700
allocations) each request triggers dozens of collections that find nothing to free but
traverse the request's live objects, and the older generations are collected often
enough to traverse the whole heap of imported modules again and again. Freezing the
startup heap and a first threshold of 10,000 let the embedded hub take 5-15 % more
OTLP spans and JSON events per second for about 65 MB more peak RSS (decision 0028).
"""

from __future__ import annotations

import gc

#: gen1 and gen2 thresholds used with a tuned gen0: CPython's own. 50,000 / 20 / 100 was
#: as fast but raised the OTLP benchmark's peak RSS by 200-260 MB (garbage kept longer).
OLDER_THRESHOLDS = (10, 10)


def tune_collector(gen0: int) -> None:
    """Freeze what startup made and collect the young generation every ``gen0``
    allocations; ``gen0 = 0`` leaves the collector as CPython set it.

    Frozen objects (modules, settings, stores, caches made at startup) are never
    traversed again; they are freed normally if their references go.
    """
    if gen0 <= 0:
        return
    gc.freeze()
    gc.set_threshold(gen0, *OLDER_THRESHOLDS)


__all__ = ["OLDER_THRESHOLDS", "tune_collector"]
