"""A range of daily partitions in one run (single-run backfill policy) writes the same
recommendations cube, day for day, as one run per day."""
from __future__ import annotations

import datetime as dt

import dagster as dg
import numpy as np
import xarray as xr

from pipelines.core.config import configs_dir
from pipelines.orchestration.definitions import defs
from pipelines.orchestration.resources import SaqiStorage
from pipelines.orchestration.runs import BACKFILL_ASSETS, backfill_keys, materialize_ranges, materialize_stage
from pipelines.store import cube, tables

FROM, TO = dt.date(2026, 1, 10), dt.date(2026, 1, 14)


def _backfill(tmp_path, name: str, runner) -> tuple[xr.Dataset, list]:
    storage = SaqiStorage(data_root=str(tmp_path / name / "data"), landing_dir=str(tmp_path / "landing"),
                          configs=str(configs_dir()))
    test_defs = dg.Definitions(assets=list(defs.assets), resources={"storage": storage})
    home = tmp_path / name / "home"
    home.mkdir(parents=True)
    with dg.DagsterInstance.local_temp(str(home)) as instance:
        keys = backfill_keys("daily", ["chtouka"], FROM, TO, instance)
        outcome = runner(test_defs, "backfill", BACKFILL_ASSETS["daily"], keys, instance)
        assert not outcome.failed and len(outcome.succeeded) == 5
        runs = instance.get_runs()
        planned = sorted(r.asset_materialization.partition for r in
                         instance.fetch_materializations(dg.AssetKey("irrigation_plan"), limit=100).records)
    store = cube.farm_store(storage.stores_root, "chtouka")
    return tables.read_recommendations(store), runs, planned


def test_range_run_equals_day_by_day_runs(tmp_path):
    daily, daily_runs, daily_planned = _backfill(tmp_path, "daily", materialize_stage)
    ranged, ranged_runs, ranged_planned = _backfill(tmp_path, "ranged", materialize_ranges)
    assert len(daily_runs) == 5 and len(ranged_runs) == 1
    assert ranged_runs[0].tags["dagster/asset_partition_range_start"] == "2026-01-10|chtouka"
    assert ranged_planned == daily_planned == [f"2026-01-{d}|chtouka" for d in range(10, 15)]
    days = slice(np.datetime64(FROM), np.datetime64(TO))
    assert int(np.isfinite(ranged["depletion_mm"].sel(date=days)).sum()) > 0
    for name in daily.data_vars:
        np.testing.assert_array_equal(ranged[name].values, daily[name].values, err_msg=name)
    before = ranged["depletion_mm"].sel(date=slice(None, np.datetime64(FROM) - np.timedelta64(1, "D")))
    assert bool(np.isnan(before).all()), "only the backfilled days are written"


def test_range_workers_load_the_code_location_the_workspace_names():
    """`materialize_ranges(workers>1)` loads the assets in each worker from the module workspace.yaml serves."""
    from pathlib import Path

    import yaml

    from pipelines.orchestration.runs import CODE_LOCATION

    workspace = yaml.safe_load((Path(__file__).resolve().parents[2] / "workspace.yaml").read_text(encoding="utf-8"))
    assert [w["python_module"]["module_name"] for w in workspace["load_from"]] == [CODE_LOCATION]
