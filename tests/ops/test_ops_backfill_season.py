"""The season-backfill benchmark's quick size: 3 farms × 30 days backfilled as one run per farm on
a PostgreSQL instance, farms side by side in worker processes, give the same cube for every copy
of the farm and, for the farm also run day by day, the same recommendations cube and
the same daily zone plans (written together, one catalogue rebuild per range)."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from benchmarks.bench_backfill import QUICK, season_backfill
from pipelines.store import cube, tables
from pipelines.store.products import zone_plan_group

pytestmark = pytest.mark.slow


def test_season_backfill_ranges_equal_day_by_day(tmp_path):
    n_farms, n_days, baseline_days = QUICK
    result = season_backfill(n_farms, n_days, baseline_days, tmp_path)
    assert result.range_failed == [] and result.baseline_failed == []
    assert len(result.farms) == 3 and len(result.days) == 30 and len(result.baseline_days) == 4
    first = tables.read_recommendations(cube.farm_store(result.range_root, result.farms[0]))
    for farm in result.farms:  # every farm got each of its 30 days, and nothing else
        planned = tables.read_recommendations(cube.farm_store(result.range_root, farm))
        for name in first.data_vars:  # copies of one farm, run in different worker processes: the same plan
            np.testing.assert_array_equal(planned[name].values, first[name].values, err_msg=f"{farm} {name}")
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
    for day in result.baseline_days:
        ranged_zones, daily_zones = (cube.read_product(cube.farm_store(root, result.farms[0]), zone_plan_group(day))
                                     ["zone_plan"].load() for root in (result.range_root, result.baseline_root))
        assert ranged_zones.attrs["date"] == day.isoformat() and ranged_zones.sizes["zone_id"] == 10
        xr.testing.assert_identical(ranged_zones, daily_zones)
    last = xr.open_zarr(str(cube.farm_store(result.range_root, result.farms[-1])), consolidated=True,
                        group=zone_plan_group(result.days[-1]))
    assert last["zone_plan"].attrs["date"] == result.days[-1].isoformat()
