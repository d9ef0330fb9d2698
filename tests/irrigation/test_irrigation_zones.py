"""Water balance and plan per management zone on the sample farm with synthetic flights (irrigation_zoned_store)."""
from __future__ import annotations

import datetime as dt
import io
from contextlib import redirect_stdout

import numpy as np
import pandas as pd
import pytest
from irrigation_zoned_store import STEP, UNIFORM, write_zoned_store

from models.irrigation.farm_plan import farm_season, parcel_table
from models.irrigation.zone_plan import NO_ZONES, zone_inputs, zone_plan, zone_season
from pipelines.cli import main
from pipelines.core.config import load_farm
from pipelines.core.errors import InputDataError

PLAN_DATE = dt.date(2026, 4, 10)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("zoned")
    write_zoned_store(root)
    return root


@pytest.fixture(scope="module")
def zoned(data_root):
    plan, balance, note = zone_plan("chtouka", PLAN_DATE, data_root)
    return plan, balance, note


def test_zones_tile_each_parcel_and_volumes_add_up(zoned):
    plan, balance, note = zoned
    assert note.startswith("zones of flight chtouka-20260320: 19 zones in 10 parcels")
    areas = parcel_table(load_farm("chtouka")).set_index("parcel")["area_m2"]
    by_parcel = plan.groupby("parcel")
    # the zones of a parcel cover it exactly (rounded to 0.1 m² per zone)
    np.testing.assert_allclose(by_parcel["area_m2"].sum(), areas.loc[by_parcel["area_m2"].sum().index], atol=0.1)
    assert (by_parcel["zone"].max() == [1] + [2] * 9).all()
    # volume = gross depth (Dr / efficiency, refill to field capacity) × zone area; 1 mm on 1 m² = 1 L
    today = balance.sel(date=str(PLAN_DATE), parcel=plan["zone_id"].to_numpy())
    gross_mm = np.where(plan["irrigate_today"], today.depletion_mm / today.efficiency, 0.0)
    expected_m3 = gross_mm * today.area_m2.values / 1000
    np.testing.assert_allclose(plan["volume_m3"], expected_m3, atol=0.051)
    assert plan["irrigate_today"].sum() >= 3 and (plan.loc[~plan["irrigate_today"], "volume_m3"] == 0).all()
    # the parcel's volume is the total over its zones
    np.testing.assert_allclose(by_parcel["volume_m3"].sum(),
                               pd.Series(expected_m3).groupby(plan["parcel"].to_numpy()).sum(),
                               atol=0.11)


def test_vigorous_zone_uses_more_water_than_the_weak_zone(zoned):
    plan, balance, _ = zoned
    # wheat P02 (recorded irrigations, the same depth on both zones): zone 2 has NDVI 0.2 higher
    weak, strong = balance.sel(parcel="P02-z1"), balance.sel(parcel="P02-z2")
    flight = "2026-03-20"
    # Kcb = 1.64 NDVI - 0.2296 (Duchemin et al. 2006): 0.2 NDVI apart -> 0.328 apart
    assert float(strong.kcb.sel(date=flight) - weak.kcb.sel(date=flight)) == pytest.approx(1.64 * 2 * STEP, abs=1e-3)
    after = slice("2026-01-15", str(PLAN_DATE))
    assert float(strong.etc_mm.sel(date=after).sum()) > float(weak.etc_mm.sel(date=after).sum()) + 20
    np.testing.assert_array_equal(strong.irrigation_mm.values, weak.irrigation_mm.values)
    rows = plan.set_index("zone_id")
    assert rows.loc["P02-z2", "depletion_mm"] > rows.loc["P02-z1", "depletion_mm"]
    assert rows.loc["P02-z2", "next_irrigation_date"] <= rows.loc["P02-z1", "next_irrigation_date"]
    assert rows.loc["P02-z2", "depth_mm"] >= rows.loc["P02-z1", "depth_mm"]
    spread = rows.loc["P02-z2", "depletion_mm"] - rows.loc["P02-z1", "depletion_mm"]
    assert rows.loc["P02-z1", "depletion_spread_mm"] == pytest.approx(spread, abs=0.11)
    # tomato P09 (no records: each zone refilled at its own RAW): the vigorous zone gets more water, sooner
    weak, strong = balance.sel(parcel="P09-z1"), balance.sel(parcel="P09-z2")
    assert float(strong.irrigation_mm.sum()) > float(weak.irrigation_mm.sum())
    first = [pd.Timestamp(z.date.values[np.argmax(z.irrigation_mm.fillna(0).values > 0)]) for z in (weak, strong)]
    assert first[1] <= first[0]


def test_single_zone_equals_the_parcel_balance(data_root, zoned):
    _, zones, _ = zoned
    _, parcels = farm_season(load_farm("chtouka"), data_root, PLAN_DATE)
    zone, parcel = zones.sel(parcel=f"{UNIFORM}-z1"), parcels.sel(parcel=UNIFORM)
    assert float(zone.area_m2) == pytest.approx(float(parcel.area_m2), rel=1e-9)
    for name in ("kcb", "etc_mm", "depletion_mm", "ks", "irrigation_mm"):
        np.testing.assert_allclose(zone[name].values, parcel[name].values, atol=1e-6, equal_nan=True, err_msg=name)


def test_recorded_irrigations_apply_to_every_zone(data_root):
    inputs = zone_inputs(load_farm("chtouka"), data_root, PLAN_DATE)
    records = pd.read_csv(load_farm("chtouka").path("irrigation_events.csv"), dtype={"parcel": str})
    p02 = records[records["parcel"] == "P02"]
    for zone in ("P02-z1", "P02-z2"):
        events = inputs.irrigation_events[inputs.irrigation_events["parcel"] == zone]
        np.testing.assert_array_equal(events["depth_mm"].to_numpy(), p02["depth_mm"].to_numpy())


def test_no_zones_falls_back_to_the_parcel_plan(tmp_path):
    with pytest.raises(InputDataError,
                       match=r"chtouka.zarr: no management zones .* none on or before 2026-04-10; "
                             r"materialise management_zones"):
        zone_season(load_farm("chtouka"), tmp_path, PLAN_DATE)
    plan, balance, note = zone_plan("chtouka", PLAN_DATE, tmp_path)
    assert note.startswith(NO_ZONES) and "per-parcel plan" in note
    assert plan["parcel"].tolist() == [f"P{i:02d}" for i in range(1, 11)] and (plan["zone"] == 0).all()
    assert (plan["depletion_spread_mm"] == 0).all() and list(balance.parcel.values) == plan["parcel"].tolist()


def test_zones_after_the_plan_date_are_not_used(data_root):
    plan, _, note = zone_plan("chtouka", dt.date(2026, 3, 1), data_root)
    assert note.startswith(NO_ZONES) and (plan["zone"] == 0).all()


def test_plan_command_with_zones(data_root):
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        assert main(["irrigation", "plan", "--farm", "chtouka", "--date", str(PLAN_DATE), "--data-root", str(data_root),
                     "--zones"]) == 0
    lines = buffer.getvalue().splitlines()
    assert lines[0].startswith("# chtouka irrigation plan per management zone for 2026-04-10: "
                               "zones of flight chtouka-20260320")
    assert lines[1].split()[:3] == ["parcel", "zone", "area_m2"]
    assert [line.split()[:2] for line in lines[2:5]] == [["P01", "1"], ["P02", "1"], ["P02", "2"]]
