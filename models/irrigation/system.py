"""A parcel's irrigation system and water: what the balance and the plan need, with its provenance.

From the parcel's row (configs/farms/<farm>/parcels.geojson properties) and the method's defaults
(configs/irrigation.yaml):
- kind: localized (drip, micro), sprinkler or surface;
- net-to-gross factor: application efficiency Ea × distribution uniformity DU (Keller & Bliesner
  1990; Brouwer et al. 1989), or (1 − LR) · DU when the leaching requirement exceeds the losses
  (`salinity.gross_factor`);
- localized: wetted fraction Pw from the emitter layout (`localized.wetted_fraction`), the
  replacement interval (1-3 days), the application rate (mm/h), litres per plant, maximum pulse;
  without a layout FAO-56 Table 20's wetted fraction and no run time, flagged;
- sprinkler/surface: the RAW rule with the largest gross depth one event applies and the set
  rotation (days before the same set comes round again); sprinkler run time from its
  application rate (mm/h);
- salinity: ECw of the parcel's water source, ECe = 1.5 ECw (or measured), LR (FAO-29) and the
  salinity Ks (FAO-56 eq. 89) from the crop's tolerance (configs/crops `salinity`);
- under cover: ET0 × the configured factor, rain 0, drone NDVI not used.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.irrigation import localized, salinity
from pipelines.core.config import Crop, IrrigationMethod, IrrigationSettings


@dataclass(frozen=True)
class ParcelSystem:
    """One parcel's irrigation system and water, as the balance and the plan use them (module docstring)."""

    kind: str
    efficiency: float
    wetted_fraction: float
    taw_fraction: float
    interval_days: int
    rotation_days: int
    max_gross_mm: float
    application_rate_mm_h: float
    plant_area_m2: float
    max_pulse_h: float
    sector: str
    ecw_ds_m: float
    ece_ds_m: float
    leaching_requirement: float
    ks_salinity: float
    et0_factor: float
    rain_factor: float
    under_cover: bool
    notes: tuple[str, ...]


def _number(row, name: str) -> float | None:
    value = getattr(row, name, None)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) and value > 0 else None


def _flag(row, name: str) -> bool:
    value = getattr(row, name, False)
    return bool(value) and str(value).lower() not in ("false", "0", "nan", "none", "")


def _sector(row) -> str:
    """The parcel's irrigation sector (one valve), the parcel itself when none is given."""
    sector = str(getattr(row, "sector", "") or "")
    return str(row.parcel) if sector in ("", "nan", "None") else sector


def parcel_system(row, crop: Crop, soil_texture: str, method: IrrigationMethod,
                  settings: IrrigationSettings) -> ParcelSystem:
    """The irrigation system of one parcel row (attributes as in the module docstring)."""
    notes: list[str] = []
    pw, rate, plant_area = method.wetted_fraction, _number(row, "application_rate_mm_h"), float("nan")
    interval = 0
    if method.kind == "localized":
        interval = int(_number(row, "interval_days") or method.interval_days)
        flow, sp, sl = _number(row, "emitter_flow_l_h"), _number(row, "plant_spacing_m"), _number(row,
                                                                                                  "lateral_spacing_m")
        per_plant, spacing = _number(row, "emitters_per_plant"), _number(row, "emitter_spacing_m")
        if flow and sp and sl and (per_plant or spacing):
            layout = localized.DripLayout(flow, sp, sl, per_plant, None if per_plant else spacing,
                                          int(_number(row, "laterals_per_row") or 1))
            pw = localized.wetted_fraction(layout, localized.wetted_width_m(flow, soil_texture, settings.wetting))
            rate, plant_area = layout.application_rate_mm_h, layout.plant_area_m2
            if crop.kind == "tree" and pw < settings.min_wetted_fraction_trees:
                notes.append(f"wetted fraction {pw:.0%} below the {settings.min_wetted_fraction_trees:.0%} advised for "
                             "trees in arid climates (Keller & Bliesner 1990): add emitters")
        else:
            notes.append(f"no drip layout (emitter_flow_l_h, plant_spacing_m, lateral_spacing_m, emitters_per_plant or "
                         f"emitter_spacing_m): wetted fraction {pw:.2f} from FAO-56 Table 20, no run time")
    else:
        rate = rate or method.application_rate_mm_h
    ecw = _number(row, "ecw_ds_m") or 0.0
    measured_ece = _number(row, "ece_ds_m")
    ece = measured_ece if measured_ece else salinity.ECE_PER_ECW * ecw
    tolerance = crop.salinity
    if tolerance is not None and ecw > 0:
        lr = float(salinity.leaching_requirement(ecw, tolerance.ece_threshold_ds_m, tolerance.slope_pct_per_ds_m,
                                                 method.kind))
        ks_salt = float(salinity.salinity_ks(ece, tolerance.ece_threshold_ds_m, tolerance.slope_pct_per_ds_m,
                                             tolerance.ky))
    else:
        lr, ks_salt = 0.0, 1.0
        if ecw > 0:
            notes.append(f"no salt tolerance for {crop.id} in configs/crops: no leaching requirement")
    if lr > salinity.LR_HIGH:
        notes.append(f"leaching requirement {lr:.0%}: water of {ecw:.1f} dS/m is too saline for {crop.id} "
                     "(FAO-29: a more tolerant crop, or blend with better water)")
    factor = float(salinity.gross_factor(method.application_efficiency, method.distribution_uniformity, lr))
    covered = _flag(row, "under_cover")
    if covered:
        notes.append(f"under cover: ET0 × {settings.under_cover_et0_factor} ({settings.under_cover_source}), no rain, "
                     "drone NDVI through plastic not used")
    return ParcelSystem(
        kind=method.kind, efficiency=factor, wetted_fraction=pw, taw_fraction=pw if method.kind == "localized" else 1.0,
        interval_days=interval, rotation_days=int(_number(row, "rotation_days") or method.rotation_days),
        max_gross_mm=_number(row, "max_depth_mm") or method.max_depth_mm or float("inf"),
        application_rate_mm_h=rate or float("nan"), plant_area_m2=plant_area,
        max_pulse_h=_number(row, "max_pulse_h") or method.max_pulse_h or float("nan"),
        sector=_sector(row),
        ecw_ds_m=ecw, ece_ds_m=ece, leaching_requirement=lr, ks_salinity=ks_salt,
        et0_factor=settings.under_cover_et0_factor if covered else 1.0, rain_factor=0.0 if covered else 1.0,
        under_cover=covered, notes=tuple(notes))
