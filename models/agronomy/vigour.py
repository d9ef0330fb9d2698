"""Agronomic reading of parcel statistics: which parcels look weak for their growth stage."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.core.config import load_crop

MID_SEASON_NDVI_MIN = 0.5


@dataclass(frozen=True)
class LowVigour:
    """Parcels of one crop whose crop-pixel NDVI is below `threshold` at full canopy."""

    crop: str
    parcels: tuple[str, ...]
    threshold: float
    month: str

    def __str__(self) -> str:
        name = load_crop(self.crop).names["en"].lower()
        return (f"NDVI below {self.threshold:g} on {len(self.parcels)} {name} parcel(s) in {self.month}: "
                f"{', '.join(self.parcels)}")


def at_full_canopy(crop_id: str, sowing: dt.date, on: dt.date) -> bool:
    """True during the FAO-56 mid-season stage (after the initial and development stages, Table 11)."""
    crop = load_crop(crop_id)
    ini, dev, mid, _ = crop.stage_days
    days = (on - sowing).days
    return crop.kind != "tree" and ini + dev <= days <= ini + dev + mid


def low_vigour(stats: pd.DataFrame, parcels: pd.DataFrame, on: dt.date,
               threshold: float = MID_SEASON_NDVI_MIN) -> list[LowVigour]:
    """Group by crop the parcels at full canopy whose `ndvi_mean` is below `threshold`.

    Healthy cereal and vegetable canopies at mid-season reach NDVI 0.7–0.9 (Duchemin et al. 2006,
    Haouz wheat); below 0.5 at that stage points to stress, poor emergence or a sowing error.
    """
    joined = stats.merge(parcels[["id", "crop", "sowing_date"]], left_on="parcel", right_on="id")
    found: dict[str, list[str]] = {}
    for row in joined.itertuples(index=False):
        sowing = pd.Timestamp(row.sowing_date).date()
        if at_full_canopy(row.crop, sowing, on) and np.isfinite(row.ndvi_mean) and row.ndvi_mean < threshold:
            found.setdefault(row.crop, []).append(row.parcel)
    return [LowVigour(crop, tuple(ids), threshold, on.strftime("%B")) for crop, ids in sorted(found.items())]
