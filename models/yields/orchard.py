"""The reference orchard a tree crop's harvest index is set on (configs/crops `harvest_index`, trees).

For a tree the harvest index is the fruit share of the dry matter made in the fruit-growth window
(models/yields/lue.py). It is not fitted to any farm's file: it is the share that makes a reference
irrigated Souss orchard yield the middle of the crop's published regional range (`yield_range_t_ha`):

    HI = mid-range fresh yield × (1 − moisture) / (RUE × Σ_window fAPAR_ref · 0.48 · Rs_ref)

- fAPAR_ref: the crop's typical ground cover (`tree_cover.typical_cover_fraction`, FAO-56 Table 17)
  as NDVI by linear mixing of soil and canopy NDVI, through Myneni & Williams (1994).
- Rs_ref: the Angström relation (FAO-56 eq. 35, as 0.25, bs 0.50) with the relative sunshine n/N of
  the Souss, `SOUSS_SUNSHINE_H_YEAR` bright-sunshine hours a year over the year's daylight hours
  (eq. 34), at the site's latitude.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from models.yields.lue import PAR_FRACTION, fapar_from_ndvi, fruit_growth_window

# Agadir (Souss-Massa) climate normals: about 3 000 h of bright sunshine a year.
SOUSS_SUNSHINE_H_YEAR = 3000.0


def reference_apar_mj_m2(crop, lat_deg: float, season_end: pd.Timestamp,
                         sunshine_h_year: float = SOUSS_SUNSHINE_H_YEAR) -> float:
    """APAR (MJ/m²) of the reference orchard over the fruit-growth window ending on or after `season_end`.

    Args:
        crop: a tree crop (configs/crops) with `fruit_growth` and `tree_cover`.
        lat_deg: latitude (°).
        season_end: any day before the window's harvest (the window is the one whose harvest is next).
        sunshine_h_year: bright-sunshine hours a year (h), turned into n/N with FAO-56 eq. 34.
    """
    from models.irrigation import et0 as fao

    start, harvest = fruit_growth_window(crop.fruit_growth, season_end)
    year = pd.date_range(f"{start.year}-01-01", f"{start.year}-12-31").day_of_year.to_numpy()
    relative_sunshine = sunshine_h_year / float(np.sum(fao.daylight_hours(lat_deg, year)))
    doy = pd.date_range(start, harvest).day_of_year.to_numpy()
    solar = fao.solar_from_sunshine_mj_m2(relative_sunshine * fao.daylight_hours(lat_deg, doy), lat_deg, doy)
    cover = crop.tree_cover
    ndvi = cover.ndvi_soil + cover.typical_cover_fraction * (cover.ndvi_full - cover.ndvi_soil)
    return float(np.sum(fapar_from_ndvi(ndvi) * PAR_FRACTION * solar))


def reference_harvest_index(crop, lat_deg: float, season_end: pd.Timestamp) -> float:
    """Fruit share of the window's dry matter that gives the middle of `yield_range_t_ha` (see module doc).

    Args:
        crop: a tree crop with `yield_range_t_ha`, `yield_moisture_fraction` and `rue_g_mj` (g DM per MJ PAR).
        lat_deg: latitude (°).
        season_end: as in `reference_apar_mj_m2`.
    """
    low, high = crop.yield_range_t_ha
    dry_t_ha = (low + high) / 2 * (1 - crop.yield_moisture_fraction)
    return dry_t_ha / (crop.rue_g_mj * reference_apar_mj_m2(crop, lat_deg, season_end) / 100)
