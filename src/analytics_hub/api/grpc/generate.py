"""Regenerate the committed gRPC stubs: ``python -m analytics_hub.api.grpc.generate``.

The stubs of ``proto/analytics_hub/v1/ingest.proto`` live in
``analytics_hub.api.grpc.v1`` so that they ship inside the package. protoc names the
Python module after the proto's path (``analytics_hub.v1``) and has no option to change
that, so the generated import of the messages module is rewritten to the real location.
Each file also gets a header that keeps ruff and mypy out of generated code. A unit test
generates into a temporary directory and compares, so the committed stubs cannot drift
from the .proto (nor from the grpcio-tools version in ``requirements/constraints.txt``).

Needs ``grpcio-tools`` (a development dependency); the hub itself never imports this.
"""

from __future__ import annotations

import argparse
import tempfile
from importlib import resources
from pathlib import Path

# src/analytics_hub/api/grpc/generate.py -> the repository root is four levels up
PROTO_ROOT = Path(__file__).resolve().parents[4] / "proto"
STUB_DIR = Path(__file__).resolve().parent / "v1"
PROTOS = ("analytics_hub/v1/ingest.proto",)
GENERATED_FILES = ("ingest_pb2.py", "ingest_pb2.pyi", "ingest_pb2_grpc.py")

_PROTO_MODULE = "analytics_hub.v1"  # what protoc derives from the proto's path
_REAL_MODULE = "analytics_hub.api.grpc.v1"
_HEADER = (
    "# ruff: noqa\n"
    "# fmt: off\n"
    "# mypy: ignore-errors\n"
    "# Generated from proto/{proto} by `python -m analytics_hub.api.grpc.generate`: "
    "do not edit.\n"
)


def _rewrite(text: str, proto: str) -> str:
    # Only the module references protoc wrote: the import in *_grpc.py and the module
    # name the messages register under in *_pb2.py.
    text = text.replace(f"from {_PROTO_MODULE} import ", f"from {_REAL_MODULE} import ")
    text = text.replace(f"'{_PROTO_MODULE}.", f"'{_REAL_MODULE}.")
    return _HEADER.format(proto=proto) + text


def generate(out_dir: Path, proto_root: Path = PROTO_ROOT) -> list[Path]:
    """Generate the stubs of :data:`PROTOS` into ``out_dir``; return the files written."""
    from grpc_tools import protoc  # type: ignore[import-untyped]  # dev dependency

    well_known = resources.files("grpc_tools") / "_proto"
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "grpc_tools.protoc",
            f"-I{proto_root}",
            f"-I{well_known}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            f"--grpc_python_out={tmp}",
            *PROTOS,
        ]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed on {', '.join(PROTOS)} (see its output above)")
        for proto in PROTOS:
            source_dir = Path(tmp) / Path(proto).parent
            for name in GENERATED_FILES:
                target = out_dir / name
                target.write_text(_rewrite((source_dir / name).read_text(), proto))
                written.append(target)
    return written


def main() -> None:
    """Command line: write the stubs into the package (or ``--out``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=STUB_DIR, help="output directory")
    parser.add_argument("--proto-root", type=Path, default=PROTO_ROOT, help=".proto root")
    args = parser.parse_args()
    for path in generate(args.out, args.proto_root):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
