"""The live feed across processes: commits and anomalies carried by a ``Broadcast``.

With a NATS bus several processes may write and score, so every writer announces the
rows it newly stored and every analytics worker the anomalies it found; every process
with the api role listens and hands them to its live feed. With the local journal there
is one process and the feed is fed directly.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import msgspec
import pyarrow as pa
import structlog
import zstandard

from analytics_hub.bus.broadcast import Broadcast
from analytics_hub.store.anomalies import AnomalyRecord

log = structlog.get_logger(__name__)

ROWS, ANOMALIES = "rows", "anomalies"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # how every zstd frame begins; an IPC stream never does


def encode_rows(rows: pa.Table, max_payload: int) -> list[bytes]:
    """Messages of ``rows``, each under ``max_payload`` bytes (cut by rows): an Arrow IPC
    stream compressed whole with zstd.

    Every writer of a NATS layout encodes every row it commits, so this is writer CPU:
    zstd over the whole stream costs about a quarter of Arrow's own per-buffer zstd
    (31 against 125-146 ms for 20,000 events) and compresses better (2.0 against 2.4 MB).
    """
    if rows.num_rows == 0:
        return []
    # Sized on the uncompressed bytes, so that compressed pieces surely fit.
    per_row = max(1, rows.nbytes // rows.num_rows)
    step = max(1, (max_payload // 2) // per_row)
    compressor = zstandard.ZstdCompressor(level=1)  # one per call: not thread-safe
    out = []
    for start in range(0, rows.num_rows, step):
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, rows.schema) as writer:
            writer.write_table(rows.slice(start, step))
        data = compressor.compress(sink.getbuffer())
        if len(data) <= max_payload:
            out.append(data)
        else:  # one huge row: the live feed goes without it
            log.debug("live fan-out: rows too large to announce", rows=min(step, rows.num_rows))
    return out


def decode_rows(payload: bytes) -> pa.Table:
    """The rows of one ``encode_rows`` message (also of an older writer's, which sent the
    IPC stream with Arrow's per-buffer compression instead: a rolling upgrade keeps its
    live feed)."""
    if payload[:4] == _ZSTD_MAGIC:
        payload = zstandard.ZstdDecompressor().decompress(payload)
    return pa.ipc.open_stream(payload).read_all()


RowsSink = Callable[[pa.Table | None], None]
AnomaliesSink = Callable[[list[AnomalyRecord]], None]


def connect_live_feed(
    broadcast: Broadcast, on_rows: RowsSink, on_anomalies: AnomaliesSink, *, listen: bool
) -> tuple[RowsSink, AnomaliesSink]:
    """Subscribe ``on_rows``/``on_anomalies`` to every process's announcements (when
    ``listen``: this process serves the api), and return the functions this process's
    writer calls with its new rows and its scorer with its anomalies."""
    anomalies_codec = msgspec.json.Decoder(list[AnomalyRecord])
    if listen:
        broadcast.subscribe(ROWS, lambda data: on_rows(decode_rows(data)))
        broadcast.subscribe(ANOMALIES, lambda data: on_anomalies(anomalies_codec.decode(data)))

    def announce_rows(rows: pa.Table | None) -> None:
        if rows is None or rows.num_rows == 0:
            return
        try:
            for piece in encode_rows(rows, broadcast.max_payload):
                broadcast.publish(ROWS, piece)
        except Exception:  # never fails a commit
            log.warning("live fan-out: rows not announced", exc_info=True)

    def announce_anomalies(records: list[AnomalyRecord]) -> None:
        if records:
            broadcast.publish(ANOMALIES, msgspec.json.encode(records))

    return announce_rows, announce_anomalies


__all__ = ["AnomaliesSink", "RowsSink", "connect_live_feed", "decode_rows", "encode_rows"]
