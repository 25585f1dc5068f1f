"""bench/anomaly_nab.py reads any folder laid out like NAB and scores what is present."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[4] / "bench" / "anomaly_nab.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("anomaly_nab_bench", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def write_folder(root: Path) -> None:
    (root / "data" / "realThings").mkdir(parents=True)
    (root / "labels").mkdir()
    lines = ["timestamp,value"] + [
        f"2014-04-01 {h:02d}:{m:02d}:00,{1.0 + (h * 60 + m == 600) * 9}"
        for h in range(24)
        for m in range(0, 60, 5)
    ]
    (root / "data" / "realThings" / "a.csv").write_text("\n".join(lines) + "\n")
    (root / "data" / "realThings" / "unlabelled.csv").write_text("\n".join(lines) + "\n")
    windows = {"realThings/a.csv": [["2014-04-01 09:30:00.000000", "2014-04-01 10:30:00.000000"]]}
    (root / "labels" / "combined_windows.json").write_text(json.dumps(windows))


def test_the_bench_loads_labelled_files_and_scores_them(bench: ModuleType, tmp_path: Path) -> None:
    write_folder(tmp_path)
    corpus = bench.load_corpus(tmp_path, quick=False)
    assert [s.key for s in corpus] == ["realThings/a.csv"]
    series = corpus[0]
    assert series.values.size == 288
    assert series.labelled.spans == ((114, 126),)  # 09:30 .. 10:30 in five-minute rows
    perfect = np.zeros(288)
    perfect[114] = 1.0
    figures = bench.evaluate(corpus, [perfect])
    assert figures["standard"] == pytest.approx(100.0)
    assert figures["recall"] == 1.0
    assert bench.evaluate(corpus, [np.zeros(288)])["standard"] == 0.0


def test_the_default_data_folder_is_beside_the_repository(bench: ModuleType) -> None:
    expected = BENCH.parents[1].parent / "shared" / "datasets" / "nab"
    assert expected == bench.DEFAULT_DATA


def test_published_anchors_are_read_from_results(bench: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "final_results.json").write_text(
        json.dumps({"numenta": {"standard": 70.1, "reward_low_FP_rate": 63.1}})
    )
    assert bench.anchors(tmp_path) == {"numenta": {"standard": 70.1, "reward_low_FP_rate": 63.1}}
    (tmp_path / "results" / "subset_scores_shared.csv").write_text(
        "detector,standard,reward_low_FP_rate,reward_low_FN_rate\nARTime,75.06,65.25,80.71\n"
    )
    assert bench.anchors(tmp_path)["ARTime"]["standard"] == 75.06
