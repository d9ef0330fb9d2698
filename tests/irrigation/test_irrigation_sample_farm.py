"""The sample farm (configs/farms/chtouka) in April: what an agronomist in the Souss checks first."""
from __future__ import annotations

import datetime as dt
import io
from contextlib import redirect_stdout

import numpy as np
import pandas as pd
import pytest

from models.irrigation.kcb import parcel_kcb
from pipelines.cli import main
from pipelines.core.config import load_crop
from pipelines.plans.farm_inputs import read_farm_plan

APRIL = pd.date_range("2026-04-01", "2026-04-30")


@pytest.fixture(scope="module")
def april(tmp_path_factory):
    root = tmp_path_factory.mktemp("no_flights")
    day_plans = {day: read_farm_plan("chtouka", day.date(), root) for day in (pd.Timestamp("2026-04-20"),
                                                                           pd.Timestamp("2026-04-21"))}
    return root, day_plans


def test_drip_parcels_get_a_few_mm_every_one_to_three_days_in_hours_and_litres(april):
    _, plans = april
    plan, balance, _ = plans[pd.Timestamp("2026-04-21")]
    drip = plan[plan["irrigation_method"] == "drip"].set_index("parcel")
    assert len(drip) == 6 and drip["interval_days"].between(1, 3).all()
    events = balance["irrigation_mm"].sel(parcel=list(drip.index), date=slice("2026-04-01", "2026-04-30")).to_pandas()
    for parcel, row in events.iterrows():
        days = np.flatnonzero(row.to_numpy() > 0)
        assert np.diff(days).max() <= drip.loc[parcel, "interval_days"], parcel
        assert 1.0 < row[row > 0].median() < 15.0, (parcel, row[row > 0].median())  # a few mm, not 50-150 mm
    today = drip[drip["irrigate_today"]]
    assert len(today) == 6
    # litres per plant = gross mm × plant area; run time = gross / application rate (L/h per m²)
    olive = today.loc["P04"]  # 2 drip lines per row, 4 L/h every 0.75 m, lines 3 m apart, trees every 4 m
    assert olive.litres_per_plant == pytest.approx(olive.depth_mm * 4 * 6, abs=2.5)
    assert olive.run_time_h == pytest.approx(olive.depth_mm / (4 / (0.75 * 3)), abs=0.06)
    assert (today["run_time_h"] > 0).all() and (today["litres_per_plant"] > 0).all()
    # run times above the sector's maximum pulse are split (P05: 6 emitters of 4 L/h for a 35 m² tree, 0.69 mm/h)
    assert today.loc["P05", "pulses"] >= 2 and today.loc["P05", "pulse_h"] <= 4.0 + 1e-9
    tomato = today.loc["P09"]  # drip tape 1.6 L/h every 0.3 m, lines 0.75 m apart, plants every 0.4 m
    assert tomato.litres_per_plant == pytest.approx(tomato.depth_mm * 0.4 * 0.75, abs=0.05)
    assert 0.5 < tomato.litres_per_plant < 4.0


def test_saline_well_water_shows_a_leaching_share(april):
    _, plans = april
    plan = plans[pd.Timestamp("2026-04-21")][0].set_index("parcel")
    # P09 tomato on the 2.4 dS/m well: LR = 2.4 / (2 × 12.6) (FAO-29 eq. 8); P08 on desalinated water (0.6 dS/m)
    assert plan.loc["P09", "leaching_fraction"] == pytest.approx(2.4 / (2 * (2.5 + 100 / 9.9)), abs=1e-3)
    assert plan.loc["P09", "leaching_mm"] == pytest.approx(plan.loc["P09", "depth_mm"] * 0.0952, abs=0.06)
    assert plan.loc["P08", "leaching_fraction"] < 0.03 and plan.loc["P08", "ecw_ds_m"] == 0.6
    # potato on the well (sprinkler, FAO-29 eq. 7): LR = 2.4 / (5 × 1.7 − 2.4) = 0.39, flagged as too saline
    assert plan.loc["P10", "leaching_fraction"] == pytest.approx(2.4 / 6.1, abs=1e-3)
    assert "too saline for potato" in plan.loc["P10", "notes"]
    assert plan.loc["P09", "ks_salinity"] == pytest.approx(1 - 9.9 / 105 * (3.6 - 2.5), abs=1e-3)


def test_quota_cuts_are_visible_and_explained(april):
    _, plans = april
    plan, _, note = plans[pd.Timestamp("2026-04-20")]
    cut = plan[plan["quota_cut_m3"] > 0]
    assert len(cut) >= 1 and "allocation: month 9500 m³" in note and "m³ cut on" in note
    assert cut["quota_reason"].str.contains("allocation short").all()
    # the lowest-priority crops are cut first: nothing cut on tomato (priority 1) while wheat (4) is cut
    assert set(cut["crop"]) <= {"durum_wheat", "barley"}
    assert not plan["quota_deficit_stage"].any(), "cereals have no deficit-tolerant stage: cut by priority"
    asked = plan["volume_m3"] + plan["quota_cut_m3"]
    assert plan["volume_m3"].sum() < asked.sum()


def test_no_parcel_is_both_harvested_and_unsown(april):
    _, plans = april
    for plan, _, _ in plans.values():
        statuses = plan.set_index("parcel")["status"]
        assert statuses["P03"] == "harvested" and "not sown" not in plan.set_index("parcel").loc["P03", "notes"]
        assert not plan["notes"].str.contains("harvested").where(plan["notes"].str.contains("not sown"), False).any()


def test_a_flight_after_harvest_leaves_the_cycle_intact():
    # barley sown 2025-11-15 (cycle 170 days to 2026-05-04); a flight after that must not end the balance early
    barley = load_crop("barley")
    dates = pd.date_range("2025-10-01", "2026-06-30")
    obs = pd.DataFrame({"date": pd.to_datetime(["2026-02-01", "2026-06-10"]), "ndvi_mean": [0.7, 0.2]})
    series = parcel_kcb(barley, dates, pd.Timestamp("2025-11-15"), obs, {"u2_ms": 2, "rh_min_pct": 45, "tmean_c": 18})
    cycle = (dates >= "2025-11-15") & (dates <= pd.Timestamp("2025-11-15") + pd.Timedelta(days=sum(barley.stage_days)))
    assert np.isfinite(series.kcb[cycle]).all() and np.isnan(series.kcb[~cycle]).all()
    labels = pd.Series(series.source, index=dates)
    assert labels["2026-01-31"] == "fao_table" and labels["2026-02-01"] == "ndvi"
    assert labels["2026-02-15"] == "ndvi_extrapolated" and labels["2026-04-01"] == "fao_table"
    assert labels["2025-11-01"] == "not_sown" and labels["2026-06-10"] == "harvested"


def test_forecast_from_the_landing_area_and_csv_output(april, tmp_path):
    root, _ = april
    landing = tmp_path / "landing"
    (landing / "chtouka").mkdir(parents=True)
    days = pd.date_range("2026-04-21", periods=7)
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "tmin_c": 14.0, "tmax_c": 24.0, "rh_min_pct": 60, "rh_max_pct": 90,
                  "wind_ms": 2.0, "wind_height_m": 2.0, "solar_mj_m2": 24.0,
                  "rain_mm": [0, 30, 0, 0, 0, 0, 0]}).to_csv(landing / "chtouka" / "forecast.csv", index=False)
    out = tmp_path / "PLAN.csv"
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        assert main(["irrigation", "plan", "--farm", "chtouka", "--date", "2026-04-20", "--data-root", str(root),
                     "--landing-dir", str(landing), "-o", str(out)]) == 0
    header = buffer.getvalue().splitlines()[0]
    assert f"forecast {landing / 'chtouka' / 'forecast.csv'} (2026-04-21..2026-04-27)" in header
    table = pd.read_csv(out)
    assert len(table) == 10 and table["outlook_source"].eq("forecast (7 days)").all()
    assert table["outlook_rain_mm"].eq(30.0).all()
    for column in ("parcel", "sector", "net_depth_mm", "depth_mm", "leaching_mm", "volume_m3", "litres_per_plant",
                   "run_time_h", "pulses", "interval_days", "next_irrigation_date", "quota_cut_m3", "quota_reason"):
        assert column in table.columns
    assert dt.date.fromisoformat(table.loc[table["parcel"] == "P04", "next_irrigation_date"].item()) == dt.date(2026, 4,
                                                                                                                21)
