"""Cut one bus message into pieces keyed by source module and asset partition.

A partitioned bus (NATS JetStream, subjects ``events.<module>.<partition>``) cannot read
the opaque bytes it carries; this router, which knows the message format
(:mod:`analytics_hub.ingest.batchcodec`), is handed to it by the assembly. Each piece
holds the events of one module token and one partition, so that a consumer filtering on
a partition sees every event of its assets, and no piece exceeds the bus's size limit.

The module token is the canonical module name; custom sources share the token
``custom``, so that tenants cannot multiply subjects by inventing module names. The
partition is CRC-32 of the ``asset_id`` (stable across processes and versions, unlike
``hash``) modulo the partition count; events without an asset are in partition 0.
Invalid events (dead letters) ride with the first piece, or alone under ``_invalid``.
"""

from __future__ import annotations

import zlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analytics_hub.bus.base import Part
from analytics_hub.events import CANONICAL_MODULES
from analytics_hub.ingest.batchcodec import decode_batch, encode_batch
from analytics_hub.store.base import DeadLetter

CUSTOM_MODULE = "custom"
INVALID_MODULE = "_invalid"  # no module slug starts with "_"
_CANONICAL = frozenset(CANONICAL_MODULES)


def route_batch(payload: bytes, weight: int, max_bytes: int, *, partitions: int) -> list[Part]:
    """The pieces of a message made by ``encode_batch``, at most ``max_bytes`` each."""
    table, letters = decode_batch(payload)
    if not table.num_rows:
        return [Part(INVALID_MODULE, 0, payload, weight)]
    keys, tokens = _keys(table, partitions)
    if len(payload) <= max_bytes and bool((keys == keys[0]).all()):
        # The common request: one source, one partition. Sent as it came, no re-encoding.
        key = int(keys[0])
        return [Part(tokens[key // partitions], key % partitions, payload, weight)]
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    table = table.take(pa.array(order))
    starts = np.flatnonzero(np.diff(keys)) + 1
    bounds = zip(np.concatenate(([0], starts)), np.concatenate((starts, [len(keys)])), strict=True)
    row_bytes = len(payload) / table.num_rows
    parts: list[Part] = []
    pending: list[DeadLetter] = list(letters)
    for start, stop in bounds:
        key = int(keys[start])
        token, partition = tokens[key // partitions], key % partitions
        for body, rows, carried in _pieces(
            table.slice(start, stop - start), pending, max_bytes, row_bytes
        ):
            parts.append(Part(token, partition, body, rows + carried))
            pending = pending[carried:]
    return parts


def _keys(table: pa.Table, partitions: int) -> tuple[np.ndarray, list[str]]:
    """Per row ``token index * partitions + partition``, and the module tokens by index."""
    modules = pc.dictionary_encode(table["source_module"]).combine_chunks()
    names = [m if m in _CANONICAL else CUSTOM_MODULE for m in modules.dictionary.to_pylist()]
    tokens = sorted(set(names))  # custom modules share one token, hence one index
    token_of_module = np.array([tokens.index(n) for n in names], dtype=np.int64)
    assets = pc.dictionary_encode(table["asset_id"]).combine_chunks()
    # Hash each distinct asset once (a batch has few), then spread by index.
    by_asset = np.array(
        [zlib.crc32(a.encode()) % partitions if a else 0 for a in assets.dictionary.to_pylist()]
        or [0],
        dtype=np.int64,
    )
    asset_idx = assets.indices.fill_null(0).to_numpy(zero_copy_only=False)
    partition = by_asset[asset_idx]
    if assets.null_count:
        partition = np.where(assets.indices.is_null().to_numpy(zero_copy_only=False), 0, partition)
    token_idx = token_of_module[modules.indices.to_numpy(zero_copy_only=False)]
    return token_idx * partitions + partition, tokens


def _pieces(
    rows: pa.Table, letters: list[DeadLetter], max_bytes: int, row_bytes: float
) -> list[tuple[bytes, int, int]]:
    """Encode ``rows`` in as few pieces under ``max_bytes`` as it takes.

    Returns (body, rows, letters carried); the letters go with the first piece.
    """
    per_piece = max(1, int(max_bytes * 0.8 / max(row_bytes, 1.0)))
    out: list[tuple[bytes, int, int]] = []
    for start in range(0, rows.num_rows, per_piece):
        out.extend(_fit(rows.slice(start, per_piece), letters if not out else [], max_bytes))
    return out


def _fit(rows: pa.Table, letters: list[DeadLetter], max_bytes: int) -> list[tuple[bytes, int, int]]:
    body = encode_batch(rows, letters)
    if len(body) <= max_bytes or rows.num_rows <= 1:
        # A single event too large for the bus is refused by the bus itself.
        return [(body, rows.num_rows, len(letters))]
    half = rows.num_rows // 2
    return _fit(rows.slice(0, half), letters, max_bytes) + _fit(rows.slice(half), [], max_bytes)


__all__ = ["CUSTOM_MODULE", "INVALID_MODULE", "route_batch"]
