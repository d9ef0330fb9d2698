"""Drip and micro-irrigation (localized) geometry: wetted fraction, litres per plant, run time.

- Wetted width w of one emitter from its discharge and the soil texture class: Keller & Karmeli
  (1974, Trans. ASAE 17:678-684) tabulate the emitter spacing Se along a lateral that wets a
  continuous strip (Se = 0.8 w) for emitters of 1.5-12 L/h on coarse, medium and fine soils; that
  table (configs/irrigation.yaml `wetting`) is interpolated linearly in the discharge.
- Percentage wetted area (Keller & Karmeli 1974; Keller & Bliesner 1990, Sprinkle and Trickle
  Irrigation, ch. 17): with emitters per metre of lateral at spacing Se, the area wetted per metre
  is w when Se ≤ 0.8 w (a strip), else π w²/4 per emitter; with emitters per plant, Np π w²/4
  per plant. Pw = wetted area / area per plant (or per metre of lateral × lateral spacing), ≤ 1.
- Litres per plant: 1 mm over the plant's area Sp × Sr (m²) is 1 L. Run time (h) = gross depth /
  the system's application rate (mm/h): emitters per plant Np·q / (Sp·Sr), per metre q / (Se·Sl).
  Run times above the maximum pulse are split into equal pulses (pulsed drip, e.g. Assouline et
  al. 2006: shorter pulses keep water in the root zone of light soils).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

STRIP_SPACING_RATIO = 0.8
TEXTURE_CLASS = {"sand": "coarse", "loamy_sand": "coarse", "sandy_loam": "medium", "loam": "medium",
                 "silt_loam": "medium", "silty_clay_loam": "fine", "clay": "fine"}


@dataclass(frozen=True)
class DripLayout:
    """One parcel's drip system (L/h, m); either emitters_per_plant or emitter_spacing_m."""

    emitter_flow_l_h: float
    plant_spacing_m: float
    lateral_spacing_m: float
    emitters_per_plant: float | None = None
    emitter_spacing_m: float | None = None
    laterals_per_row: int = 1

    @property
    def plant_area_m2(self) -> float:
        """Ground area of one plant: in-row spacing × row spacing (= lateral spacing × laterals per row)."""
        return self.plant_spacing_m * self.lateral_spacing_m * self.laterals_per_row

    @property
    def application_rate_mm_h(self) -> float:
        """Depth applied per hour over the whole parcel (mm/h = L/h per m²)."""
        if self.emitters_per_plant:
            return self.emitters_per_plant * self.emitter_flow_l_h / self.plant_area_m2
        return self.emitter_flow_l_h / (self.emitter_spacing_m * self.lateral_spacing_m)

    @property
    def plant_flow_l_h(self) -> float:
        """Litres per hour delivered to one plant."""
        return self.application_rate_mm_h * self.plant_area_m2


def wetted_width_m(emitter_flow_l_h: float, soil_texture: str, wetting: dict[str, list[list[float]]]) -> float:
    """Wetted width w (m) of one emitter: tabulated strip spacing Se / 0.8 (Keller & Karmeli 1974).

    wetting: {texture class: [[flow L/h, Se m], ...]} from configs/irrigation.yaml.
    """
    table = np.asarray(wetting[TEXTURE_CLASS.get(soil_texture, "medium")], dtype=float)
    spacing = np.interp(emitter_flow_l_h, table[:, 0], table[:, 1])
    return float(spacing / STRIP_SPACING_RATIO)


def wetted_fraction(layout: DripLayout, width_m: float) -> float:
    """Fraction of the parcel's soil volume wetted by the emitters, Pw (0-1)."""
    circle_m2 = math.pi * width_m ** 2 / 4
    if layout.emitters_per_plant:
        wetted_m2 = layout.emitters_per_plant * circle_m2
        return float(min(wetted_m2 / layout.plant_area_m2, 1.0))
    spacing = layout.emitter_spacing_m
    per_metre_m2 = width_m if spacing <= STRIP_SPACING_RATIO * width_m else circle_m2 / spacing
    return float(min(per_metre_m2 * layout.laterals_per_row / (layout.lateral_spacing_m * layout.laterals_per_row),
                     1.0))


def run_time(gross_mm, application_rate_mm_h, max_pulse_h: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(run time h, pulses, hours per pulse) to apply `gross_mm` at `application_rate_mm_h`.

    NaN where the rate is unknown (surface irrigation); one pulse when under max_pulse_h.
    """
    gross = np.asarray(gross_mm, dtype=float)
    rate = np.asarray(application_rate_mm_h, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        hours = np.where(rate > 0, gross / rate, np.nan)
    limit = np.asarray(np.nan if max_pulse_h is None else max_pulse_h, dtype=float)
    pulses = np.where(np.isfinite(hours) & (hours > 0),
                      np.where(np.isfinite(limit) & (limit > 0), np.ceil(np.nan_to_num(hours / limit) - 1e-9), 1), 0)
    pulses = np.maximum(pulses, np.where(hours > 0, 1, 0)).astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_pulse = np.where(pulses > 0, hours / np.maximum(pulses, 1), 0.0)
    return hours, pulses, per_pulse
