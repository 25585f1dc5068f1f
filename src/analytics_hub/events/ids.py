"""Event ids: time-ordered UUIDv7 generation and batch checks of hex ids.

UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, the version, then a 42-bit counter
(``rand_a`` and the top of ``rand_b``, RFC 9562 §6.2 method 1) seeded at random each
millisecond with its top bit clear, then 32 random bits. Ids made by one process
therefore sort in creation order, even many per millisecond; a counter overflow moves to
the next millisecond. A batch of ids is built with array arithmetic and Arrow string
kernels rather than one Python formatting per id.

Checking ids one regular expression at a time would cost more than decoding them, so
:func:`check_hex_ids` checks a whole batch with a few string operations on the joined
text (``bytes.fromhex`` checks the digits) and falls back to a per-id regular expression
only to name the bad ones.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from array import array
from collections.abc import Sequence
from typing import cast

import pyarrow as pa
import pyarrow.compute as pc

from analytics_hub.events.fields import SPAN_ID_PATTERN, TRACE_ID_PATTERN, UUID_PATTERN

_LOW_BITS = 30  # counter bits in rand_b; the 12 above them are rand_a
_LOW_SPAN = 1 << _LOW_BITS
_HIGH_MAX = (1 << 12) - 1
_CHUNK = 1 << 20  # ids reserved at once, far below _LOW_SPAN
_lock = threading.Lock()
_last_ms = 0
_counter = 0  # 42 bits: rand_a (12) then the top 30 bits of rand_b


def _reserve(n: int) -> tuple[int, int]:
    """Reserve ``n`` consecutive counter values within one ms and one ``rand_a``.

    Returns ``(ms, counter)`` of the first; ``n`` must not exceed ``_CHUNK``. Keeping a
    reservation inside one ``rand_a`` lets :func:`uuid7_array` build the ids with array
    arithmetic: only the low counter bits and the random bits vary.
    """
    global _last_ms, _counter
    with _lock:
        now = time.time_ns() // 1_000_000
        if now > _last_ms:
            _last_ms = now
            _counter = int.from_bytes(os.urandom(6)) >> 7  # 41 random bits: top bit clear
        if (_counter & (_LOW_SPAN - 1)) + n > _LOW_SPAN:
            _counter = ((_counter >> _LOW_BITS) + 1) << _LOW_BITS  # next rand_a, still larger
        if _counter >> _LOW_BITS > _HIGH_MAX:  # the counter is used up: borrow the next ms
            _last_ms += 1
            _counter = int.from_bytes(os.urandom(6)) >> 7
        first = (_last_ms, _counter)
        _counter += n
        return first


def uuid7_array(n: int) -> pa.Array:
    """``n`` new UUIDv7 in canonical lower-case text, in increasing order, as Arrow."""
    chunks = [_uuid7_chunk(min(_CHUNK, n - start)) for start in range(0, n, _CHUNK)]
    if not chunks:
        return pa.array([], pa.string())
    return chunks[0] if len(chunks) == 1 else pa.concat_arrays(chunks)


def _uuid7_chunk(n: int) -> pa.Array:
    ms, counter = _reserve(n)
    high = (ms << 16) | (0x7 << 12) | (counter >> _LOW_BITS)  # unix_ts_ms, ver, rand_a
    h = f"{high:016x}"
    prefix = pa.scalar(f"{h[:8]}-{h[8:12]}-{h[12:]}", pa.string())
    # Low 64 bits: variant, counter (+k), 32 random bits; built as arrays, not per id.
    first_low = (0b10 << 62) | ((counter & (_LOW_SPAN - 1)) << 32)
    steps = array("Q", range(first_low, first_low + (n << 32), 1 << 32))
    rand = pa.Array.from_buffers(pa.uint32(), n, [None, pa.py_buffer(os.urandom(4 * n))])
    lows = pc.add(pa.Array.from_buffers(pa.uint64(), n, [None, pa.py_buffer(steps)]), rand)
    big_endian = array("Q")
    big_endian.frombytes(lows.buffers()[1].to_pybytes()[: 8 * n])
    if sys.byteorder == "little":
        big_endian.byteswap()
    hexes = big_endian.tobytes().hex().encode("ascii")
    texts = pa.StringArray.from_buffers(
        n, pa.py_buffer(array("i", range(0, 16 * n + 1, 16))), pa.py_buffer(hexes)
    )
    return pc.binary_join_element_wise(
        prefix,
        pc.utf8_slice_codeunits(texts, 0, 4),
        pc.utf8_slice_codeunits(texts, 4, 16),
        "-",
    )


def uuid7_batch(n: int) -> list[str]:
    """``n`` new UUIDv7 in canonical lower-case text, in increasing order."""
    return cast("list[str]", uuid7_array(n).to_pylist())


def uuid7() -> str:
    """One new UUIDv7 in canonical lower-case text."""
    return uuid7_batch(1)[0]


_UUID_DASHES = (8, 13, 18, 23)
_PATTERNS = {
    "uuid": re.compile(UUID_PATTERN),
    "trace": re.compile(TRACE_ID_PATTERN),
    "span": re.compile(SPAN_ID_PATTERN),
}
_LENGTHS = {"uuid": {36}, "trace": {16, 32}, "span": {16}}


def check_hex_ids(values: Sequence[str | None], kind: str) -> tuple[list[str | None], list[int]]:
    """Check and lower-case a batch of ids of ``kind`` (``uuid``, ``trace``, ``span``).

    Returns the canonical values (None stays None) and the positions of invalid ones.
    """
    missing = values.count(None)
    if missing == len(values):
        return list(values), []
    present = [v for v in values if v is not None] if missing else cast("Sequence[str]", values)
    joined = _joined_if_valid(present, kind)
    if joined is not None:
        if joined == joined.lower():
            return list(values), []  # already lower-case: the common case, no copy
        return [v.lower() if v is not None else None for v in values], []
    pattern = _PATTERNS[kind]
    bad = [i for i, v in enumerate(values) if v is not None and not pattern.fullmatch(v)]
    return [v.lower() if v is not None else None for v in values], bad


def _joined_if_valid(present: Sequence[str], kind: str) -> str | None:
    """All ids joined when every one is well-formed, else None."""
    if not set(map(len, present)) <= _LENGTHS[kind]:
        return None
    joined = "".join(present)
    digits = joined
    if kind == "uuid":
        # Exactly four dashes per id, each at its place (all ids are 36 long here).
        n = len(present)
        if joined.count("-") != 4 * n or not all(
            joined[p::36].count("-") == n for p in _UUID_DASHES
        ):
            return None
        digits = joined.replace("-", "")
    try:
        # fromhex refuses anything but hex digits and whitespace; the length catches the
        # whitespace it skips.
        return joined if len(bytes.fromhex(digits)) * 2 == len(digits) else None
    except ValueError:
        return None


__all__ = ["check_hex_ids", "uuid7", "uuid7_array", "uuid7_batch"]
