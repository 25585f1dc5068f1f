"""The journal's file format: append-only segment files of checksummed frames.

A frame is a 20-byte header ``<payload length u32, crc32 u32, seq u64, weight u32>``
followed by the payload. The CRC covers seq, weight and payload, so a torn write (the
machine died in the middle of an append) or a flipped bit is detected when the segment is
read back. Segment files are named by the seq of their first frame, zero-padded so that
names sort in seq order.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HEADER = struct.Struct("<IIQI")
_CRC_PART = struct.Struct("<QI")
SUFFIX = ".journal"
MAX_PAYLOAD = 1 << 30  # a length above this is corruption, not a message


@dataclass(frozen=True, slots=True)
class Frame:
    """One message read back from a segment."""

    seq: int
    weight: int
    payload: bytes
    end: int  # offset just past the frame


@dataclass(frozen=True, slots=True)
class Scan:
    """What a segment holds: its valid frames, and where (if anywhere) it stops being valid."""

    frames: list[Frame]
    valid_bytes: int
    size: int

    @property
    def damaged(self) -> bool:
        """True when bytes after the last valid frame could not be read as a frame."""
        return self.valid_bytes < self.size


def encode_frame(seq: int, weight: int, payload: bytes) -> bytes:
    """The bytes to append for one message."""
    crc = zlib.crc32(payload, zlib.crc32(_CRC_PART.pack(seq, weight)))
    return HEADER.pack(len(payload), crc, seq, weight) + payload


def segment_name(first_seq: int) -> str:
    """File name of the segment whose first frame has ``first_seq``."""
    return f"{first_seq:020d}{SUFFIX}"


def list_segments(directory: Path) -> list[Path]:
    """Segment files of ``directory`` in seq order."""
    return sorted(p for p in directory.iterdir() if p.name.endswith(SUFFIX) and p.is_file())


def scan(path: Path) -> Scan:
    """Read every valid frame of a segment, stopping at the first invalid byte."""
    data = path.read_bytes()
    frames = list(_frames(data))
    return Scan(frames=frames, valid_bytes=frames[-1].end if frames else 0, size=len(data))


def _frames(data: bytes) -> Iterator[Frame]:
    offset = 0
    view = memoryview(data)
    while offset + HEADER.size <= len(data):
        length, crc, seq, weight = HEADER.unpack_from(data, offset)
        start = offset + HEADER.size
        end = start + length
        if length > MAX_PAYLOAD or end > len(data):
            return
        payload = view[start:end]
        if zlib.crc32(payload, zlib.crc32(_CRC_PART.pack(seq, weight))) != crc:
            return
        yield Frame(seq=seq, weight=weight, payload=bytes(payload), end=end)
        offset = end


def fsync_directory(directory: Path) -> None:
    """Make a file's creation, rename or removal in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = [
    "HEADER",
    "SUFFIX",
    "Frame",
    "Scan",
    "encode_frame",
    "fsync_directory",
    "list_segments",
    "scan",
    "segment_name",
]
