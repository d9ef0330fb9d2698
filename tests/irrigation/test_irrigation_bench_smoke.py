"""The water-balance benchmark's quick mode runs and its vectorised result equals pyfao56's."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_rows(tmp_path):
    out = tmp_path / "rows.json"
    subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "water_balance", "--json", str(out)],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    rows = json.loads(out.read_text())
    assert len(rows) == 2
    for row in rows:
        assert row["figure"] > 0 and row["baseline_figure"] > 0
        assert float(row["case"].split("ΔDr vs pyfao56 ")[1].split()[0]) < 0.1
