"""What a report shows: plain dataclasses the pipeline fills from the cubes, nothing rendered yet.

Units are in the field names; fractions are 0–1 (rendered as percentages); dates are calendar
days of the farm. PNG images arrive as bytes (see `pipelines.reports.maps`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

QUINTALS_PER_TONNE = 10.0  # 1 quintal = 100 kg; Moroccan cereal yields are quoted in qx/ha


@dataclass(frozen=True)
class Cooperative:
    """Who receives the reports; `language` is the default report language (fr, ar or en)."""

    name: str
    region: str
    province: str
    email: str | None = None
    language: str = "fr"

    @classmethod
    def of_farm(cls, farm) -> "Cooperative":
        """The cooperative of a farm configuration (`pipelines.core.config.Farm`)."""
        coop = farm.cooperative
        return cls(coop.name, coop.region, coop.province, coop.email, coop.language)


@dataclass(frozen=True)
class Parcel:
    """A member's parcel as the cooperative knows it."""

    id: str
    member: str
    crop: str
    crop_name: dict[str, str]
    area_ha: float
    irrigation_method: str

    def crop_label(self, language: str) -> str:
        """The crop's name in `language`, else in French, else the crop id."""
        return self.crop_name.get(language) or self.crop_name.get("fr") or self.crop


@dataclass(frozen=True)
class LegendEntry:
    """One swatch of a map legend: a colour `#rrggbb` and an English label (translated when shown)."""

    colour: str
    label: str


@dataclass(frozen=True)
class MapImage:
    """A rendered map (PNG bytes) with its legend; `ramp` is a CSS gradient for continuous maps."""

    png: bytes
    title: str
    legend: tuple[LegendEntry, ...] = ()
    ramp: str | None = None
    ramp_ticks: tuple[float, ...] = ()


@dataclass(frozen=True)
class TrendPoint:
    """Parcel statistics of one flight: mean NDVI (–; ExG on an RGB camera farm, see the report's
    `vigour_index`), crop cover and weed pressure (fractions 0–1).

    Crop cover = crop pixels / valid pixels; weed pressure = weed pixels / vegetated (crop + weed) pixels.
    """

    date: dt.date
    ndvi_mean: float
    crop_cover_fraction: float
    weed_pressure_fraction: float


@dataclass(frozen=True)
class IrrigationDay:
    """Recommended net irrigation on one day: depth over the parcel (mm) and volume (m³)."""

    date: dt.date
    depth_mm: float
    volume_m3: float


@dataclass(frozen=True)
class IrrigationPlan:
    """FAO-56 water-balance recommendation for one parcel (Allen et al. 1998, ch. 8).

    `stress_coefficient` is Ks (FAO-56 eq. 84), 1 = no water stress; `depletion_mm` is the root-zone
    depletion Dr and `readily_available_mm` RAW = p·TAW (eq. 83). Drip and micro-sprinkler
    parcels with a layout carry litres per plant and the run time (h) in pulses; saline water the
    leaching requirement LR (FAO-29, share of the gross depth); a short quota the volume and depth
    cut from today's demand, and whether the cut fell on a deficit-tolerant stage (regulated
    deficit irrigation) or on the crop's priority.
    """

    date: dt.date
    irrigate_today: bool
    depth_mm: float
    volume_m3: float
    next_date: dt.date | None
    outlook: tuple[IrrigationDay, ...] = ()
    stress_coefficient: float = 1.0
    depletion_mm: float | None = None
    readily_available_mm: float | None = None
    litres_per_plant: float | None = None
    run_time_h: float | None = None
    pulses: int | None = None
    leaching_fraction: float | None = None
    quota_cut_m3: float = 0.0
    quota_cut_mm: float = 0.0
    quota_deficit_stage: bool = False


@dataclass(frozen=True)
class YieldEstimate:
    """Expected yield (t/ha, at the crop's market moisture) with its 10th–90th percentile interval."""

    yield_t_ha: float
    p10_t_ha: float
    p90_t_ha: float
    model: str

    @property
    def yield_qx_ha(self) -> float:
        """Expected yield in quintals per hectare (1 t/ha = 10 qx/ha)."""
        return self.yield_t_ha * QUINTALS_PER_TONNE

    @property
    def p10_qx_ha(self) -> float:
        """10th-percentile yield in quintals per hectare."""
        return self.p10_t_ha * QUINTALS_PER_TONNE

    @property
    def p90_qx_ha(self) -> float:
        """90th-percentile yield in quintals per hectare."""
        return self.p90_t_ha * QUINTALS_PER_TONNE


@dataclass(frozen=True)
class ParcelReport:
    """Everything one parcel's report shows for one flight."""

    farm_id: str
    farm_name: str
    cooperative: Cooperative
    parcel: Parcel
    flight_date: dt.date
    ndvi_map: MapImage
    class_map: MapImage
    zones_map: MapImage | None = None
    trend: tuple[TrendPoint, ...] = ()
    plan: IrrigationPlan | None = None
    yield_estimate: YieldEstimate | None = None
    vigour_index: str = "ndvi"
    """The index in `ndvi_map` and in the trend's `ndvi_mean`: "ndvi", or "exg" for an RGB camera farm."""

    @property
    def latest(self) -> TrendPoint | None:
        """The most recent trend point, or None without flights."""
        return max(self.trend, key=lambda point: point.date) if self.trend else None


@dataclass(frozen=True)
class CooperativeRow:
    """One parcel's line in the cooperative summary."""

    parcel: Parcel
    ndvi_mean: float | None
    crop_cover_fraction: float | None
    weed_pressure_fraction: float | None
    plan: IrrigationPlan | None = None
    yield_estimate: YieldEstimate | None = None


@dataclass(frozen=True)
class CooperativeReport:
    """The cooperative's overview of one flight: one row per parcel and an optional farm-wide map."""

    farm_id: str
    farm_name: str
    cooperative: Cooperative
    flight_date: dt.date
    rows: tuple[CooperativeRow, ...]
    overview_map: MapImage | None = None
    vigour_index: str = "ndvi"
    """The index in the rows' `ndvi_mean` and the overview map: "ndvi", or "exg" for an RGB camera farm."""


@dataclass(frozen=True)
class BulletinRow:
    """One parcel's irrigation days in the weekly bulletin."""

    parcel: Parcel
    days: tuple[IrrigationDay, ...]

    def on(self, day: dt.date) -> IrrigationDay | None:
        """The parcel's irrigation on `day`, or None."""
        return next((item for item in self.days if item.date == day), None)

    @property
    def total_depth_mm(self) -> float:
        """Sum of the week's irrigation depths over the parcel, in mm."""
        return sum(day.depth_mm for day in self.days)

    @property
    def total_volume_m3(self) -> float:
        """Sum of the week's irrigation volumes, in m³."""
        return sum(day.volume_m3 for day in self.days)


@dataclass(frozen=True)
class IrrigationBulletin:
    """The weekly irrigation bulletin of a cooperative: 7 days from `week_start`, every parcel."""

    farm_id: str
    farm_name: str
    cooperative: Cooperative
    week_start: dt.date
    rows: tuple[BulletinRow, ...] = field(default_factory=tuple)

    @property
    def days(self) -> tuple[dt.date, ...]:
        """The 7 dates of the bulletin's week, from `week_start`."""
        return tuple(self.week_start + dt.timedelta(days=offset) for offset in range(7))


    def volume_m3_on(self, day: dt.date) -> float:
        """Water all parcels need on `day` (m³): the cooperative's demand on its water source."""
        return sum(item.volume_m3 for row in self.rows for item in row.days if item.date == day)
