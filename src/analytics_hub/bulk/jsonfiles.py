"""NDJSON and JSON readers that stream: memory holds one batch, never the whole file.

A JSON array is read element by element with :meth:`json.JSONDecoder.raw_decode` over a
sliding text buffer, so a multi-gigabyte array is as cheap as the same NDJSON. A ``.json``
file may also hold one object, or several objects one after another (NDJSON by mistake).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import msgspec

from analytics_hub.bulk.sources import READ_ERRORS, decode_error, open_text, read_failure

_CHUNK = 1 << 20  # characters read at a time from a JSON file
#: The largest single JSON value (event) the stream will buffer. It bounds memory when a
#: file is damaged: a value that still does not parse at this size is reported, not read on.
MAX_VALUE_CHARS = 64 << 20
_WS = " \t\r\n"


def read_ndjson(path: str | Path, batch_size: int) -> Iterator[list[dict[str, Any]]]:
    """Batches of the objects of an NDJSON file; blank lines are skipped."""
    decoder = msgspec.json.Decoder()
    batch: list[dict[str, Any]] = []
    line_no = 0
    with open_text(path) as fh:
        try:
            for line_no, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    value = decoder.decode(line)
                except msgspec.DecodeError as exc:
                    raise decode_error(path, line_no, f"invalid JSON: {exc}") from exc
                if not isinstance(value, dict):
                    raise decode_error(path, line_no, "each line must be one JSON object")
                batch.append(value)
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
        except READ_ERRORS as exc:
            raise read_failure(path, line_no + 1, exc) from exc
    if batch:
        yield batch


def read_json(path: str | Path, batch_size: int) -> Iterator[list[dict[str, Any]]]:
    """Batches of the objects of a JSON file: an array of objects, or objects in sequence."""
    batch: list[dict[str, Any]] = []
    with open_text(path) as fh:
        for value, line in _JsonStream(path, fh):
            if not isinstance(value, dict):
                raise decode_error(path, line, "each event must be a JSON object")
            batch.append(value)
            if len(batch) >= batch_size:
                yield batch
                batch = []
    if batch:
        yield batch


class _JsonStream:
    """Top-level values of a JSON text, or the elements of its top-level array.

    Yields ``(value, line)`` where ``line`` is the 1-based line the value starts on.
    """

    def __init__(self, path: str | Path, fh: IO[str]) -> None:
        self._path = path
        self._fh = fh
        self._decoder = json.JSONDecoder(parse_constant=_reject_constant)
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._line = 1  # line number at self._pos

    def __iter__(self) -> Iterator[tuple[Any, int]]:
        if not self._skip_ws():
            raise decode_error(self._path, self._line, "the file holds no JSON value")
        if self._buf[self._pos] != "[":
            while self._skip_ws():
                yield self._value(), self._line
            return
        self._advance(1)  # the opening bracket
        if not self._skip_ws():
            raise decode_error(self._path, self._line, "unterminated array: missing ']'")
        if self._buf[self._pos] == "]":
            self._advance(1)
        else:
            while True:
                line = self._line
                yield self._value(), line
                if not self._skip_ws():
                    raise decode_error(self._path, self._line, "unterminated array: missing ']'")
                char = self._buf[self._pos]
                self._advance(1)
                if char == "]":
                    break
                if char != ",":
                    raise decode_error(
                        self._path, self._line, f"expected ',' or ']', found {char!r}"
                    )
                if not self._skip_ws():
                    raise decode_error(self._path, self._line, "unterminated array: missing ']'")
        if self._skip_ws():
            raise decode_error(self._path, self._line, "unexpected data after the array")

    def _value(self) -> Any:
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                if self._may_be_cut(exc) and self._fill():
                    continue
                line = self._line + self._buf.count("\n", self._pos, exc.pos)
                raise decode_error(self._path, line, f"invalid JSON: {exc.msg}") from exc
            except ValueError as exc:  # NaN / Infinity, refused by _reject_constant
                raise decode_error(self._path, self._line, str(exc)) from exc
            # A number (or literal) ending exactly at the buffer's end may continue in the
            # next chunk: read more and decode it again.
            if end == len(self._buf) and self._fill():
                continue
            self._advance(end - self._pos)
            return value

    def _may_be_cut(self, exc: json.JSONDecodeError) -> bool:
        """Whether a parse error may only mean "the value continues past the buffer"."""
        if len(self._buf) - self._pos > MAX_VALUE_CHARS:
            return False
        # Errors at the very end (a cut \uXXXX escape is up to 6 characters) or an open
        # string are what truncation looks like; anything earlier is a real syntax error.
        return exc.pos >= len(self._buf) - 6 or exc.msg.startswith("Unterminated string")

    def _skip_ws(self) -> bool:
        """Move past whitespace; False at the end of the text."""
        while True:
            end = len(self._buf)
            pos = self._pos
            while pos < end and self._buf[pos] in _WS:
                pos += 1
            self._advance(pos - self._pos)
            if self._pos < len(self._buf):
                return True
            if not self._fill():
                return False

    def _advance(self, n: int) -> None:
        self._line += self._buf.count("\n", self._pos, self._pos + n)
        self._pos += n

    def _fill(self) -> bool:
        """Append the next chunk (dropping what was consumed); False at end of file."""
        if self._eof:
            return False
        try:
            chunk = self._fh.read(_CHUNK)
        except READ_ERRORS as exc:
            raise read_failure(self._path, self._line, exc) from exc
        if not chunk:
            self._eof = True
            return False
        self._buf = self._buf[self._pos :] + chunk
        self._pos = 0
        return True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


__all__ = ["MAX_VALUE_CHARS", "read_json", "read_ndjson"]
