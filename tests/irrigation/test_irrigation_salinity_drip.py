"""Salinity (FAO-29, FAO-56 eq. 89), drip geometry (Keller & Karmeli 1974) and the allocation rule, against
published table values and worked numbers."""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from models.irrigation import localized, quota, salinity
from pipelines.core.config import load_crop, load_irrigation_settings

# FAO-29 (Ayers & Westcot 1985) Table 4: ECe (dS/m) at 100, 90, 75, 50 % yield potential and at zero yield
FAO29_TABLE4 = {"tomato": (2.5, 3.5, 5.0, 7.6, 12.5), "potato": (1.7, 2.5, 3.8, 5.9, 10.0),
                "citrus": (1.7, 2.3, 3.3, 4.8, 8.0), "barley": (8.0, 10.0, 13.0, 18.0, 28.0),
                "durum_wheat": (5.7, 7.6, 10.0, 15.0, 24.0)}


@pytest.mark.parametrize("crop_id", sorted(FAO29_TABLE4))
def test_crop_tolerance_reproduces_fao29_table4(crop_id):
    tolerance = load_crop(crop_id).salinity
    columns = FAO29_TABLE4[crop_id]
    yields = salinity.relative_yield_pct(np.array(columns), tolerance.ece_threshold_ds_m, tolerance.slope_pct_per_ds_m)
    # the table rounds ECe to 0.1-1 dS/m: the yield read back is within 2.5 % of the column's
    assert yields == pytest.approx([100, 90, 75, 50, 0], abs=2.5)
    assert salinity.max_ece_ds_m(tolerance.ece_threshold_ds_m,
                                 tolerance.slope_pct_per_ds_m) == pytest.approx(columns[-1], abs=0.6)


def test_leaching_requirement_fao29_equations_7_and_8():
    tomato = load_crop("tomato").salinity
    # eq. 7 (surface, sprinkler): LR = ECw / (5 ECe − ECw): 2.0 / (12.5 − 2.0) = 0.190
    assert salinity.leaching_requirement(2.0, 2.5, 9.9, "surface") == pytest.approx(2.0 / 10.5, abs=1e-9)
    # eq. 8 (drip): LR = ECw / (2 max ECe), max ECe = 2.5 + 100 / 9.9 = 12.60: 2.4 / 25.2 = 0.0952
    lr = salinity.leaching_requirement(2.4, tomato.ece_threshold_ds_m, tomato.slope_pct_per_ds_m, "localized")
    assert lr == pytest.approx(0.0952, abs=1e-4)
    # gross: losses of a drip event (1 − Ea = 5 %) leach too; LR 9.5 % exceeds them -> gross = net / ((1 − LR) DU)
    assert salinity.gross_factor(0.95, 0.90, lr) == pytest.approx((1 - lr) * 0.90)
    assert salinity.gross_factor(0.95, 0.90, 0.03) == pytest.approx(0.95 * 0.90)


def test_salinity_stress_fao56_eq_89():
    tomato = load_crop("tomato").salinity
    # ECe = 1.5 ECw (FAO-56 p. 176) = 3.6 dS/m for 2.4 dS/m water: Ks = 1 − 9.9 / (1.05 × 100) (3.6 − 2.5) = 0.8963
    ks = salinity.salinity_ks(1.5 * 2.4, tomato.ece_threshold_ds_m, tomato.slope_pct_per_ds_m, tomato.ky)
    assert ks == pytest.approx(1 - 9.9 / 105 * 1.1, abs=1e-9) and ks == pytest.approx(0.896, abs=1e-3)
    assert salinity.salinity_ks(2.0, 2.5, 9.9, 1.05) == 1.0 and salinity.salinity_ks(30.0, 2.5, 9.9, 1.05) == 0.0


def test_wetted_width_and_fraction_keller_karmeli():
    wetting = load_irrigation_settings().wetting
    # Keller & Karmeli 1974: a 4 L/h emitter on medium soil wets a strip at Se = 1.0 m, so w = 1.0 / 0.8 = 1.25 m
    assert localized.wetted_width_m(4.0, "loam", wetting) == pytest.approx(1.25)
    assert localized.wetted_width_m(4.0, "sand", wetting) == pytest.approx(0.75)
    assert localized.wetted_width_m(3.0, "loam", wetting) == pytest.approx((0.7 + 0.5 * 0.3) / 0.8)
    # two drip lines per tree row (3 m apart, 6 m rows), emitters every 0.75 m: a continuous strip, Pw = 1.25 / 3
    line = localized.DripLayout(4.0, plant_spacing_m=4.0, lateral_spacing_m=3.0, emitter_spacing_m=0.75,
                                laterals_per_row=2)
    assert localized.wetted_fraction(line, 1.25) == pytest.approx(1.25 / 3)
    assert line.application_rate_mm_h == pytest.approx(4.0 / (0.75 * 3.0)) and line.plant_area_m2 == 24.0
    # six 4 L/h emitters per tree at 7 × 5 m: Pw = 6 π 1.25² / 4 / 35 = 0.210; 24 L/h over 35 m² = 0.686 mm/h
    trees = localized.DripLayout(4.0, plant_spacing_m=5.0, lateral_spacing_m=7.0, emitters_per_plant=6)
    assert localized.wetted_fraction(trees, 1.25) == pytest.approx(6 * math.pi * 1.25 ** 2 / 4 / 35)
    hours, pulses, per_pulse = localized.run_time(np.array([6.0]), trees.application_rate_mm_h, 4.0)
    assert hours[0] == pytest.approx(6.0 / (24 / 35)) and pulses[0] == 3 and per_pulse[0] == pytest.approx(hours[0] / 3)


def test_allocation_cuts_deficit_tolerant_stages_then_low_priority_first():
    # 100 m³ allowed, 160 asked: olive in pit hardening (RDI 50 %) gives 20, then wheat (priority 4) the other 40
    volume = np.array([40.0, 60.0, 60.0])  # olive, wheat, tomato
    allowed, why = quota.allocate(volume, np.array([3, 4, 1]), np.array([0.5, 1.0, 1.0]),
                                  ["RDI olive pit hardening", "", ""], 100.0)
    assert allowed == pytest.approx([20.0, 20.0, 60.0]) and allowed.sum() == pytest.approx(100.0)
    assert why[0] == "RDI olive pit hardening" and "priority 4" in why[1] and why[2] == ""
    plan = pd.DataFrame({"volume_m3": volume, "area_m2": [10_000.0] * 3})
    columns = quota.quota_columns(plan, allowed, why, np.array([0.5, 1.0, 1.0]))
    assert columns["quota_cut_m3"].tolist() == [20.0, 40.0, 0.0] and columns["quota_cut_mm"].tolist() == [2.0, 4.0, 0.0]
    assert columns["quota_deficit_stage"].tolist() == [True, False, False]
    allowance, text = quota.daily_allowance_m3(dt.date(2026, 4, 21), dt.date(2026, 6, 30), None, 9000.0, 0.0, 6000.0,
                                               300.0, 300.0)
    # 3000 m³ left for 10 days × 300 m³: all of today's demand
    assert allowance == pytest.approx(300.0) and "10 days" in text
    allowance, _ = quota.daily_allowance_m3(dt.date(2026, 4, 21), dt.date(2026, 6, 30), None, 9000.0, 0.0, 7500.0,
                                            300.0, 300.0)
    assert allowance == pytest.approx(300.0 * 1500 / 3000)
