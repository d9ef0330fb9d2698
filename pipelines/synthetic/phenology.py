"""Season course of a crop's cover and greenness, and the sun's position at flight time.

Cover follows the four FAO-56 growth stages (Allen et al. 1998, FAO-56 ch. 6, Table 11 and
Fig. 25): initial (emergence, cover up to ~10 %), development (cover rising linearly to its
maximum), mid-season (full cover), late season (leaves yellow; for cereals the canopy ripens to
straw). Ground cover of trees is constant within a season (FAO-56 revision for tree crops,
Pereira et al. 2020, Agric. Water Manage. 241:106197).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from pipelines.core.config import Crop

INITIAL_COVER = 0.10
MAX_COVER = {"cereal": 0.95, "row": 0.85}
FINAL_GREENNESS = {"cereal": 0.10, "row": 0.55}


@dataclass(frozen=True)
class CanopyState:
    """Mean ground-cover fraction (0-1) and greenness (1 green, 0 ripe straw) on a date."""

    cover_fraction: float
    greenness: float


def canopy_state(crop: Crop, sowing: dt.date, on: dt.date) -> CanopyState:
    """Cover and greenness of an annual crop `(on - sowing)` days after sowing (FAO-56 stages).

    Trees are not handled here (their crowns are drawn with fixed sizes). After the end of the
    late stage cereals stay as ripe straw and row crops are harvested (bare soil).
    """
    if crop.kind == "tree":
        raise ValueError(f"canopy_state is for annual crops; {crop.id} is a tree crop")
    days = (on - sowing).days
    ini, dev, mid, late = crop.stage_days
    top, final = MAX_COVER[crop.kind], FINAL_GREENNESS[crop.kind]
    if days <= 0:
        return CanopyState(0.0, 1.0)
    if days <= ini:
        return CanopyState(INITIAL_COVER * days / ini, 1.0)
    if days <= ini + dev:
        return CanopyState(INITIAL_COVER + (top - INITIAL_COVER) * (days - ini) / dev, 1.0)
    if days <= ini + dev + mid:
        return CanopyState(top, 1.0)
    if days <= ini + dev + mid + late:
        done = (days - ini - dev - mid) / late
        return CanopyState(top * (1 - 0.15 * done), 1.0 - (1.0 - final) * done)
    if crop.kind == "cereal":
        return CanopyState(top * 0.85, final)
    return CanopyState(0.0, 1.0)


def sun_position(lat_deg: float, on: dt.date, solar_hour: float = 10.5) -> tuple[float, float]:
    """Sun elevation and azimuth (degrees, azimuth clockwise from north) at a local solar time.

    Declination from FAO-56 eq. 24, δ = 0.409 sin(2πJ/365 − 1.39); elevation from
    sin h = sin φ sin δ + cos φ cos δ cos ω, with ω = 15°·(hour − 12) (Iqbal 1983, ch. 1).
    """
    doy = on.timetuple().tm_yday
    decl = 0.409 * math.sin(2 * math.pi * doy / 365 - 1.39)
    lat = math.radians(lat_deg)
    omega = math.radians(15.0 * (solar_hour - 12.0))
    sin_h = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(omega)
    elevation = math.asin(sin_h)
    cos_az = (math.sin(decl) - sin_h * math.sin(lat)) / (math.cos(elevation) * math.cos(lat))
    azimuth = math.degrees(math.acos(max(-1.0, min(1.0, cos_az))))
    if omega > 0:
        azimuth = 360.0 - azimuth
    return math.degrees(elevation), azimuth
