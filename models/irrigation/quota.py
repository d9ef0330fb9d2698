"""Sharing a farm's water allocation (m³) between parcels when the plan would exceed it.

The allowance of the plan day shares what is left of the month's and of the season's allocation
over the days left, in proportion to their demand (projected from the recent daily use). When today's
gross volumes exceed it the cut is made in two steps, and every cut row says how much and why:

1. Regulated deficit irrigation (RDI): parcels whose crop is in a stage the literature shows to
   tolerate deficit (configs/crops `deficit_stages`, e.g. olive pit hardening, Moriana et al. 2003,
   J. Amer. Soc. Hort. Sci. 128:425-431; Iniesta et al. 2009, Eur. J. Agron. 30:258-265; citrus
   summer fruit growth phase II, González-Altozano & Castel 1999, J. Hortic. Sci. Biotechnol.
   74:706-713) are brought down to the stage's fraction of their demand.
2. Crop priority (configs/crops `quota_priority`, 1 = served first): the remaining excess is taken
   from the lowest-priority parcels first, pro rata to volume within a priority class.
"""
from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import pandas as pd


def daily_allowance_m3(day: dt.date, season_end: dt.date, season_m3: float | None, monthly_m3: float | None,
                       used_season_m3: float, used_month_m3: float, today_m3: float,
                       recent_daily_m3: float) -> tuple[float, str]:
    """(m³ allowed today, how it was derived). Infinite when the farm has no allocation.

    What is left of the month's (and of the season's) allocation is shared over the days left in
    proportion to their demand: the demand still to come is projected from the recent daily use
    (at least today's), and today gets the same share of its own demand (≤ 1).
    """
    ratios, why = [], []
    for label, limit, used, days_left in (
            ("month", monthly_m3, used_month_m3, calendar.monthrange(day.year, day.month)[1] - day.day + 1),
            ("season", season_m3, used_season_m3, (season_end - day).days + 1)):
        if limit is None:
            continue
        left = max(limit - used, 0.0)
        projected = max(recent_daily_m3 * days_left, today_m3, 1e-9)
        ratios.append(min(1.0, left / projected))
        why.append(f"{label} {limit:.0f} m³, {used:.0f} used, {left:.0f} left for ~{projected:.0f} m³ of demand "
                   f"over {days_left} days ({min(1.0, left / projected):.0%})")
    if not ratios:
        return float("inf"), "no allocation configured"
    return float(min(ratios) * today_m3), "; ".join(why)


def allocate(volume_m3: np.ndarray, priority: np.ndarray, rdi_fraction: np.ndarray, rdi_reason: list[str],
             allowance_m3: float) -> tuple[np.ndarray, list[str]]:
    """(allowed m³ per parcel, reason per parcel) so that the total ≤ allowance_m3.

    volume_m3: today's gross demand per parcel; priority: 1 = served first; rdi_fraction: share of
    the demand the crop's current stage can do with (1 = no tolerated deficit).
    """
    demand = np.asarray(volume_m3, dtype=float)
    allowed = demand.copy()
    reasons = [""] * len(demand)
    if allowed.sum() <= allowance_m3 + 1e-9:
        return allowed, reasons
    rdi = np.clip(np.asarray(rdi_fraction, dtype=float), 0.0, 1.0)
    deficit = (rdi < 1.0) & (demand > 0)
    reduced = np.where(deficit, demand * rdi, demand)
    excess = reduced.sum() - allowance_m3
    if excess < 0:  # part of the RDI cut is enough: cut the RDI parcels pro rata to their tolerated cut
        tolerated = demand - reduced
        reduced = demand - tolerated * (demand.sum() - allowance_m3) / tolerated.sum()
    for k in np.flatnonzero(deficit & (reduced < demand - 1e-9)):
        reasons[k] = rdi_reason[k]
    allowed = reduced
    excess = allowed.sum() - allowance_m3
    for level in sorted(set(np.asarray(priority).tolist()), reverse=True):
        if excess <= 1e-9:
            break
        members = (np.asarray(priority) == level) & (allowed > 0)
        pool = allowed[members].sum()
        if pool <= 0:
            continue
        share = min(excess, pool) / pool
        for k in np.flatnonzero(members):
            reasons[k] = "; ".join(filter(None, [reasons[k], f"quota: priority {level} cut {share:.0%}"]))
        allowed[members] *= 1.0 - share
        excess -= min(excess, pool)
    return allowed, reasons


def quota_arrays(volume_m3: np.ndarray, area_m2: np.ndarray, allowed_m3: np.ndarray, reasons: list[str],
                 rdi_fraction: np.ndarray) -> dict:
    """quota_cut_m3, quota_cut_mm (cut volume over the area: 1 m³ on 1 m² = 1000 mm), quota_reason and
    quota_deficit_stage (the cut fell on a stage that tolerates regulated deficit irrigation,
    `allocate`'s first cut) per row, from today's demand `volume_m3` and what `allocate` allowed."""
    cut_m3 = np.maximum(np.round(np.asarray(volume_m3, dtype=float) - allowed_m3, 1), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cut_mm = np.round(cut_m3 * 1000.0 / np.asarray(area_m2, dtype=float), 1)
    return {"quota_cut_m3": cut_m3, "quota_cut_mm": cut_mm, "quota_reason": reasons,
            "quota_deficit_stage": (np.asarray(rdi_fraction, dtype=float) < 1.0) & (cut_m3 > 0)}


def quota_columns(plan: pd.DataFrame, allowed_m3: np.ndarray, reasons: list[str],
                  rdi_fraction: np.ndarray) -> pd.DataFrame:
    """Add `quota_arrays`' columns to `plan` (needs volume_m3, area_m2)."""
    out = plan.copy()
    for name, values in quota_arrays(plan["volume_m3"].to_numpy(float), plan["area_m2"].to_numpy(float), allowed_m3,
                                     reasons, rdi_fraction).items():
        out[name] = values
    return out
