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
