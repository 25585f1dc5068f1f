"""The committed gRPC stubs are what the .proto generates (no drift), and they work."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics_hub.api.grpc.generate import GENERATED_FILES, STUB_DIR, generate
from analytics_hub.api.grpc.v1 import ingest_pb2, ingest_pb2_grpc


def test_committed_stubs_match_the_proto(tmp_path: Path) -> None:
    written = generate(tmp_path)
    assert sorted(p.name for p in written) == sorted(GENERATED_FILES)
    stale = [
        name
        for name in GENERATED_FILES
        if (tmp_path / name).read_text() != (STUB_DIR / name).read_text()
    ]
    assert not stale, (
        f"src/analytics_hub/api/grpc/v1/{', '.join(stale)} drifted from "
        "proto/analytics_hub/v1/ingest.proto: run `.venv/bin/python -m "
        "analytics_hub.api.grpc.generate`"
    )


def test_a_broken_proto_fails_generation(tmp_path: Path) -> None:
    proto = tmp_path / "proto" / "analytics_hub" / "v1" / "ingest.proto"
    proto.parent.mkdir(parents=True)
    proto.write_text('syntax = "proto3";\nmessage {')
    with pytest.raises(RuntimeError, match="protoc failed"):
        generate(tmp_path / "out", proto_root=tmp_path / "proto")


def test_the_stubs_import_from_their_package_and_round_trip() -> None:
    ack = ingest_pb2.BatchAck(batch_id="b", accepted=2, rejected=1)
    ack.errors.add(index=1, field="timestamp", message="required")
    assert ingest_pb2.BatchAck.FromString(ack.SerializeToString()) == ack
    assert ingest_pb2.DESCRIPTOR.package == "analytics_hub.v1"
    assert (
        ingest_pb2_grpc.IngestServiceStub.__module__ == "analytics_hub.api.grpc.v1.ingest_pb2_grpc"
    )
