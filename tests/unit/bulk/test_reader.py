from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from analytics_hub.bulk import count_hint, detect_format, iter_batches, jsonfiles
from analytics_hub.errors import DecodeError, ValidationError

EVENTS = [
    {"event_id": f"e{i}", "severity": "info", "payload": {"data": {"input_tokens": i}}}
    for i in range(7)
]


def flatten(batches: Any) -> list[dict[str, Any]]:
    return [event for batch in batches for event in batch]


def write(path: Path, text: str, compression: str | None = None) -> Path:
    raw = text.encode()
    if compression == "gzip":
        raw = gzip.compress(raw)
    elif compression == "zstd":
        raw = zstandard.ZstdCompressor().compress(raw)
    path.write_bytes(raw)
    return path


# -- format detection ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.ndjson", "ndjson"),
        ("a.JSONL", "ndjson"),
        ("a.json", "json"),
        ("a.csv", "csv"),
        ("a.parquet", "parquet"),
        ("a.ndjson.gz", "ndjson"),
        ("a.json.zst", "json"),
        ("dir.v2/a.csv.gz", "csv"),
    ],
)
def test_the_format_comes_from_the_name(name: str, expected: str) -> None:
    assert detect_format(name) == expected


def test_an_explicit_format_wins_and_unknown_ones_are_refused() -> None:
    assert detect_format("dump.txt", "jsonl") == "ndjson"
    with pytest.raises(ValidationError, match=r"\.ndjson"):
        detect_format("dump.txt")
    with pytest.raises(ValidationError, match="unknown format"):
        detect_format("a.json", "xml")


def test_a_missing_file_fails_at_call_time(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        iter_batches(tmp_path / "nope.ndjson")


# -- NDJSON -------------------------------------------------------------------------


@pytest.mark.parametrize("compression", [None, "gzip", "zstd"])
def test_ndjson_is_read_in_batches(tmp_path: Path, compression: str | None) -> None:
    text = "\n".join(json.dumps(e) for e in EVENTS) + "\n\n"
    path = write(tmp_path / "e.ndjson", text, compression)
    batches = list(iter_batches(path, batch_size=3))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert flatten(batches) == EVENTS


def test_ndjson_errors_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "e.jsonl", '{"a": 1}\n\n{"a": \n')
    with pytest.raises(DecodeError, match=r"e\.jsonl:3: invalid JSON") as info:
        list(iter_batches(path))
    assert info.value.details == {"path": str(path), "line": 3}


def test_ndjson_lines_must_be_objects(tmp_path: Path) -> None:
    path = write(tmp_path / "e.ndjson", '{"a": 1}\n[1]\n')
    with pytest.raises(DecodeError, match=":2: each line must be one JSON object"):
        list(iter_batches(path))


def test_a_truncated_gzip_file_is_a_decode_error(tmp_path: Path) -> None:
    whole = gzip.compress(("".join(json.dumps(e) + "\n" for e in EVENTS) * 50).encode())
    path = tmp_path / "e.ndjson.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DecodeError, match="damaged or truncated"):
        list(iter_batches(path))


def test_invalid_utf8_is_a_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "e.ndjson"
    path.write_bytes(b'{"a": "\xff"}\n')
    with pytest.raises(DecodeError, match="not valid UTF-8"):
        list(iter_batches(path))


# -- JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize("compression", [None, "gzip"])
def test_a_json_array_is_streamed(tmp_path: Path, compression: str | None) -> None:
    path = write(tmp_path / "e.json", json.dumps(EVENTS, indent=2), compression)
    batches = list(iter_batches(path, batch_size=4))
    assert [len(b) for b in batches] == [4, 3]
    assert flatten(batches) == EVENTS


def test_a_json_array_split_across_tiny_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chunks of 3 characters cut every value, string, escape and number somewhere.
    monkeypatch.setattr(jsonfiles, "_CHUNK", 3)
    events = [{"n": 12345.5, "s": 'caf\u00e9 "q" \\u', "t": True, "l": [1, None]}] * 3
    path = write(tmp_path / "e.json", json.dumps(events, ensure_ascii=True))
    assert flatten(iter_batches(path)) == events


def test_a_single_object_or_a_sequence_of_objects(tmp_path: Path) -> None:
    one = write(tmp_path / "one.json", json.dumps(EVENTS[0]))
    assert flatten(iter_batches(one)) == [EVENTS[0]]
    seq = write(tmp_path / "seq.json", "\n".join(json.dumps(e) for e in EVENTS[:3]))
    assert flatten(iter_batches(seq)) == EVENTS[:3]
    empty = write(tmp_path / "empty.json", "[ ]")
    assert flatten(iter_batches(empty)) == []


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ('[\n{"a": 1},\n{"a": 2 "b": 3}\n]', 3, "invalid JSON"),
        ('[\n{"a": 1}\n{"a": 2}]', 3, "expected ',' or ']'"),
        ('[\n{"a": 1},\n', 3, "missing ']'"),
        ('[{"a": 1}] x', 1, "after the array"),
        ("[1]", 1, "must be a JSON object"),
        ('[{"a": NaN}]', 1, "NaN is not valid JSON"),
        ("  \n ", 2, "no JSON value"),
        ('[\n{"a": "unterminated}]', 2, "invalid JSON"),
    ],
)
def test_malformed_json_names_the_line(tmp_path: Path, text: str, line: int, reason: str) -> None:
    path = write(tmp_path / "bad.json", text)
    with pytest.raises(DecodeError, match=reason) as info:
        list(iter_batches(path))
    assert info.value.details == {"path": str(path), "line": line}


# -- CSV ----------------------------------------------------------------------------

CSV = (
    "timestamp,severity,user_id,tags.team,payload.payload_type,payload.data.input_tokens,"
    "payload.data.latency_ms,payload.data.cached,payload.data.rules\n"
    '1700000000,info,007,42,telemetry,120,35.5,true,"[""r1"",""r2""]"\n'
    "2024-01-01T00:00:00Z,warning,,,telemetry,,,FALSE,\n"
)


@pytest.mark.parametrize("compression", [None, "gzip", "zstd"])
def test_csv_headers_nest_and_cells_are_typed(tmp_path: Path, compression: str | None) -> None:
    path = write(tmp_path / "e.csv", CSV, compression)
    first, second = flatten(iter_batches(path))
    assert first == {
        "timestamp": 1700000000,
        "severity": "info",
        "user_id": "007",
        "tags": {"team": "42"},
        "payload": {
            "payload_type": "telemetry",
            "data": {
                "input_tokens": 120,
                "latency_ms": 35.5,
                "cached": True,
                "rules": ["r1", "r2"],
            },
        },
    }
    assert second == {
        "timestamp": "2024-01-01T00:00:00Z",
        "severity": "warning",
        "payload": {"payload_type": "telemetry", "data": {"cached": False}},
    }


def test_csv_count_hint_leaves_out_the_header(tmp_path: Path) -> None:
    assert count_hint(write(tmp_path / "e.csv", CSV)) == 2
    assert count_hint(write(tmp_path / "z.csv.gz", CSV, "gzip")) is None


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("a,a\n1,2\n", 1, "appears twice"),
        ("payload,payload.data\n1,2\n", 1, "uses it as an object"),
        ("a,b\n1,2\n3,4,5\n", 3, "3 fields, the header 2"),
        ('a,b\n1,"2\n', 2, "malformed CSV|unexpected end"),
    ],
)
def test_malformed_csv_names_the_line(tmp_path: Path, text: str, line: int, reason: str) -> None:
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(DecodeError, match=reason) as info:
        list(iter_batches(path))
    assert info.value.details["line"] == line  # type: ignore[index]


def test_csv_batches_and_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", "n\n1\n\n2\n3\n")
    assert list(iter_batches(path, batch_size=2)) == [[{"n": 1}, {"n": 2}], [{"n": 3}]]


# -- Parquet ------------------------------------------------------------------------


def test_parquet_structs_maps_and_dotted_names(tmp_path: Path) -> None:
    table = pa.table(
        {
            "timestamp": pa.array([1_700_000_000_000_000, None], pa.timestamp("us")),
            "tags": pa.array([[("team", "ml")], None], pa.map_(pa.string(), pa.string())),
            "payload": pa.array(
                [
                    {"payload_type": "telemetry", "data": {"input_tokens": 5, "ttft_ms": None}},
                    {"payload_type": "cost", "data": {"input_tokens": None, "ttft_ms": 1.5}},
                ]
            ),
            "payload.data.model_id": ["gpt-4o", None],
            "severity": ["info", "error"],
        }
    )
    path = tmp_path / "e.parquet"
    pq.write_table(table, path, row_group_size=1)
    assert count_hint(path) == 2
    first, second = flatten(iter_batches(path, batch_size=1))
    assert first == {
        "timestamp": "2023-11-14T22:13:20Z",
        "tags": {"team": "ml"},
        "payload": {"payload_type": "telemetry", "data": {"input_tokens": 5, "model_id": "gpt-4o"}},
        "severity": "info",
    }
    assert second == {
        "payload": {"payload_type": "cost", "data": {"ttft_ms": 1.5}},
        "severity": "error",
    }


def test_a_damaged_parquet_file_is_a_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(DecodeError, match="not a readable Parquet file"):
        list(iter_batches(path))


# -- count hints --------------------------------------------------------------------


def test_count_hint_for_ndjson_and_json(tmp_path: Path) -> None:
    assert count_hint(write(tmp_path / "a.ndjson", '{"a":1}\n{"a":2}')) == 2
    assert count_hint(write(tmp_path / "b.ndjson", "")) == 0
    assert count_hint(write(tmp_path / "c.json", "[]")) is None
