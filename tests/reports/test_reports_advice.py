"""Advice follows the numbers: irrigation today or next date, stress, weeds and NDVI change thresholds."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from pipelines.reports.advice import AdviceThresholds, parcel_advice
from pipelines.reports.i18n import Formatter
from pipelines.reports.model import TrendPoint

EN, FR = Formatter("en"), Formatter("fr")


def texts(report, fmt=EN, **limits):
    return [(item.severity, item.text(fmt)) for item in parcel_advice(report, AdviceThresholds(**limits))]


def test_irrigation_today_comes_first_with_depth_and_volume(parcel_report):
    advice = texts(parcel_report)
    volume_m3 = 25 * 10 * parcel_report.parcel.area_ha  # 1 mm over 1 ha = 10 m³
    assert advice[0] == ("action", f"Irrigate 25 mm today, that is {volume_m3:.0f} m³ on this parcel.")
    assert ("warning", "The crop is short of water (stress coefficient Ks = 0.82): irrigate without delay.") in advice
    assert texts(parcel_report, FR)[0][1] == f"Irriguez 25 mm aujourd'hui, soit {volume_m3:.0f} m³ sur cette parcelle."


def test_no_irrigation_today_points_to_the_next_day_of_the_outlook(parcel_report):
    plan = parcel_report.plan
    rest = replace(plan, irrigate_today=False, depth_mm=0.0, volume_m3=0.0, next_date=plan.outlook[2].date,
                   stress_coefficient=1.0)
    advice = texts(replace(parcel_report, plan=rest))
    assert advice[-1][0] == "info" and "Next irrigation on 17 March 2026: about 22 mm (232 m³)." in advice[-1][1]
    assert not any("Ks" in text for _, text in advice)
    dry = texts(replace(parcel_report, plan=replace(rest, next_date=None, outlook=())))
    assert ("info", "No irrigation needed in the coming days.") in dry


def test_weed_alert_only_above_the_threshold(parcel_report):
    assert any("Weeds make up 14% of the vegetation, above the 10% alert level" in text
               for _, text in texts(parcel_report))
    assert not any("Weeds" in text for _, text in texts(parcel_report, weed_pressure_fraction=0.15))


def test_ndvi_change_between_the_last_two_flights(parcel_report):
    assert ("warning",
            "NDVI fell from 0.68 to 0.59 since 17 February 2026: "
            "check irrigation, pests and diseases.") in texts(parcel_report)
    small = parcel_report.trend[:2] + (TrendPoint(dt.date(2026, 3, 14), 0.66, 0.7, 0.05),)
    assert not any("NDVI" in text for _, text in texts(replace(parcel_report, trend=small)))
    rising = parcel_report.trend[:1] + parcel_report.trend[1:2]
    assert any(text.startswith("NDVI rose from 0.41 to 0.68") for _, text in texts(replace(parcel_report,
                                                                                           trend=rising)))


def test_drip_run_time_litres_and_leaching_follow_the_irrigate_action(parcel_report):
    """Tomato under drip, saline well (docs/irrigation.md): 1.7 L per plant in 0.8 h, LR 9.5 %."""
    drip = replace(parcel_report.plan, litres_per_plant=1.7, run_time_h=0.8, pulses=1, leaching_fraction=0.095)
    advice = texts(replace(parcel_report, plan=drip))
    assert advice[1] == ("action", "Run the drip for 0.8 h: 1.7 litres per plant.")
    assert ("info", "10% of this water is a leaching fraction that washes the salt brought by the irrigation "
                    "water out of the root zone (FAO-29).") in advice
    pulsed = texts(replace(parcel_report, plan=replace(drip, run_time_h=6.0, pulses=2, litres_per_plant=258.0)), FR)
    assert pulsed[1] == ("action", "Faites tourner le goutte-à-goutte 6,0 h en 2 impulsions : 258,0 litres par plant.")
    no_layout = texts(replace(parcel_report, plan=replace(drip, litres_per_plant=None, run_time_h=None)))
    assert not any("drip" in text for _, text in no_layout)


def test_quota_cut_is_said_with_its_volume_and_its_reason(parcel_report):
    cut = replace(parcel_report.plan, quota_cut_m3=600.0, quota_cut_mm=12.0, quota_deficit_stage=False)
    assert ("warning", "Water quota: 600 m³ (12 mm) less than today's demand, because the farm's allocation is "
                       "short and this crop has a lower priority.") in texts(replace(parcel_report, plan=cut))
    rdi = texts(replace(parcel_report, plan=replace(cut, quota_deficit_stage=True)), Formatter("ar"))
    assert any(severity == "warning" and "حصة الماء" in text and "عجزاً" in text for severity, text in rdi)
    assert not any("quota" in text for _, text in texts(parcel_report))
