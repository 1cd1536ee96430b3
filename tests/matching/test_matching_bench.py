"""The benchmark script runs end to end on a tiny ambito and reports consistent figures."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "matching.py"


def test_bench_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("matching_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.main(
        [
            "--resources",
            "400",
            "--needs",
            "300",
            "--seed",
            "3",
            "--suggest-sample",
            "20",
            "--edge-budget",
            "500",
        ]
    )
    printed = capsys.readouterr().out.strip().splitlines()
    assert "BATCH TOTAL" in "\n".join(printed)
    figures = json.loads(printed[-1])
    assert figures["graph_edges"] <= 500 < figures["candidate_pairs"]
    assert figures["cap_applied"] is not None
    assert figures["ratio_to_reference"] == pytest.approx(1.0, abs=1e-6)
    assert 0.0 < figures["ratio_to_full_graph_optimum"] <= 1.0 + 1e-9
    assert (
        figures["assigned"] + figures["unassigned_no_candidates"] + figures["unassigned_capacity"]
        == 300
    )
    assert out["suggest_warm_p95_ms"] > 0
