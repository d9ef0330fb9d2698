"""The season-backfill benchmark's quick size: 3 farms × 30 days backfilled as one run per farm on
a PostgreSQL instance give, for the farm also run day by day, the same recommendations cube."""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks.bench_backfill import QUICK, season_backfill
from pipelines.store import cube, tables

pytestmark = pytest.mark.slow


def test_season_backfill_ranges_equal_day_by_day(tmp_path):
    n_farms, n_days, baseline_days = QUICK
    result = season_backfill(n_farms, n_days, baseline_days, tmp_path)
    assert result.range_failed == [] and result.baseline_failed == []
    assert len(result.farms) == 3 and len(result.days) == 30 and len(result.baseline_days) == 4
    for farm in result.farms:  # every farm got each of its 30 days, and nothing else
        planned = tables.read_recommendations(cube.farm_store(result.range_root, farm))
        written = np.isfinite(planned["depletion_mm"]).any("parcel")
        assert int(written.sum()) == 30
        assert str(planned.date.values[written.values][-1])[:10] == str(result.days[-1])
    days = slice(np.datetime64(result.baseline_days[0]), np.datetime64(result.baseline_days[-1]))
    ranged = tables.read_recommendations(cube.farm_store(result.range_root, result.farms[0])).sel(date=days)
    daily = tables.read_recommendations(cube.farm_store(result.baseline_root, result.farms[0])).sel(date=days)
    assert sorted(ranged.data_vars) == sorted(daily.data_vars)
    assert int(np.isfinite(daily["depletion_mm"]).sum()) > 0
    for name in daily.data_vars:
        np.testing.assert_array_equal(ranged[name].values, daily[name].values, err_msg=name)
