"""Schemas of the agronomic configuration: crops (`configs/crops/*.yaml`), soils
(`configs/soils.yaml`) and irrigation systems (`configs/irrigation.yaml`), validated by
`pipelines.core.config`'s loaders (which every caller uses)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NdviKcb(_Strict):
    """Linear Kcb = slope·NDVI + intercept with its published source."""

    slope: float
    intercept: float
    coefficient: Literal["basal", "single"] = Field(
        default="basal", description="fitted on the basal Kcb or on the single Kc (soil evaporation included)")
    source: str


class SaltTolerance(_Strict):
    """Maas-Hoffman salt tolerance (FAO-29 Table 4, FAO-56 Table 23) and the yield-response factor Ky."""

    ece_threshold_ds_m: float = Field(ge=0, le=20)
    slope_pct_per_ds_m: float = Field(gt=0, le=50)
    ky: float = Field(gt=0, le=2, description="FAO-33 yield response factor, for FAO-56 eq. 89")
    source: str


class WeedCompetition(_Strict):
    """Yield loss by weeds from their relative leaf area (Kropff & Spitters 1991; m as in Lotz et al. 1996):
    `damage_coefficient` q and `max_loss_fraction` m of YL = q Lw / (1 + (q/m - 1) Lw)."""

    damage_coefficient: float = Field(gt=0, le=50, description="q: initial slope of loss vs relative weed leaf area")
    max_loss_fraction: float = Field(default=1.0, gt=0, le=1, description="m: loss as the weeds' share tends to 1")
    source: str


class DeficitStage(_Strict):
    """A stage that tolerates regulated deficit irrigation: fraction of the demand that suffices."""

    name: str
    months: list[int]
    fraction: float = Field(gt=0, le=1)
    source: str


class TreeCover(_Strict):
    """Ground-cover Kcb of a tree crop (Allen & Pereira 2009, Irrig. Sci. 28:17-34, eqs. 7-10)."""

    kc_min: float = Field(default=0.15, ge=0, le=0.3, description="Kcb of bare soil (eq. 7)")
    ml: float = Field(default=1.5, ge=1, le=2, description="multiplier on fc for light absorption (eq. 8)")
    leaf_resistance_s_m: float = Field(gt=100, le=1000, description="mean leaf resistance rl for Fr (eq. 10)")
    ndvi_soil: float = Field(default=0.15, ge=0, lt=0.5, description="NDVI of the bare inter-row soil")
    ndvi_full: float = Field(default=0.85, gt=0.5, le=1, description="NDVI of a closed canopy")
    typical_cover_fraction: float = Field(default=0.5, gt=0, le=1,
                                          description="cover of the FAO-56 Table 17 Kcb (unobserved days)")
    source: str


class FruitGrowth(_Strict):
    """A tree crop's fruit-growth window, fruit set to harvest ("MM-DD"; an end before the start is in the
    following year), with its published source: the days whose absorbed PAR makes the harvest."""

    start: str = Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", description="fruit set, MM-DD")
    end: str = Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", description="harvest, MM-DD")
    source: str

    @model_validator(mode="after")
    def _every_year(self) -> "FruitGrowth":
        if "02-29" in (self.start, self.end) or self.start == self.end:
            raise ValueError("fruit_growth: start and end must differ and exist every year (not 02-29)")
        return self


class Crop(_Strict):
    """Crop parameters (FAO-56 tables, NDVI relation, light-use efficiency) with their sources."""

    id: str
    names: dict[Literal["fr", "ar", "en"], str]
    kind: Literal["cereal", "row", "tree"]
    row_spacing_m: float | None = Field(default=None, gt=0)
    kcb_ini: float = Field(ge=0, le=1.5)
    kcb_mid: float = Field(ge=0, le=1.5)
    kcb_end: float = Field(ge=0, le=1.5)
    stage_days: tuple[int, int, int, int] = Field(description="FAO-56 Table 11: initial, development, mid, late")
    root_depth_min_m: float = Field(gt=0, le=5)
    root_depth_max_m: float = Field(gt=0, le=5)
    depletion_fraction: float = Field(gt=0, lt=1, description="FAO-56 Table 22 p")
    height_max_m: float = Field(gt=0, le=20)
    ndvi_kcb: NdviKcb
    rue_g_mj: float = Field(gt=0, le=6, description="radiation-use efficiency, g dry matter per MJ PAR")
    harvest_index: float = Field(gt=0, lt=1)
    yield_moisture_fraction: float = Field(default=0.0, ge=0, lt=1)
    yield_range_t_ha: tuple[float, float] | None = Field(
        default=None, description="typical marketable yield range in the region (t/ha), for plausibility checks")
    tree_cover: TreeCover | None = Field(default=None, description="tree crops: Kcb from ground cover")
    kc_single: tuple[float, float, float] | None = Field(default=None, description="FAO-56 Table 12 Kc ini, mid, end")
    salinity: SaltTolerance | None = None
    weed_competition: WeedCompetition | None = Field(
        default=None, description="annual crops: yield loss from the weeds' relative cover; None: not applied")
    quota_priority: int = Field(default=3, ge=1, le=9, description="1 = served first when water is short")
    deficit_stages: list[DeficitStage] = Field(default_factory=list)
    fruit_growth: FruitGrowth | None = Field(default=None, description="trees: the fruit-growth (yield) window")
    sources: list[str]

    @model_validator(mode="after")
    def _tree_window(self) -> "Crop":
        if self.kind == "tree" and self.fruit_growth is None:
            raise ValueError(f"tree crop {self.id!r} needs `fruit_growth` (fruit set and harvest MM-DD, with source):"
                             " its yield is made in that window")
        return self


class Soil(_Strict):
    """Soil hydraulic defaults by texture (FAO-56 Table 19)."""

    theta_fc: float = Field(gt=0, lt=1)
    theta_wp: float = Field(gt=0, lt=1)
    rew_mm: float = Field(gt=0)
    tew_mm: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> "Soil":
        if self.theta_wp >= self.theta_fc:
            raise ValueError("theta_wp must be below theta_fc")
        return self


class IrrigationMethod(_Strict):
    """An irrigation method's defaults (configs/irrigation.yaml `methods`)."""

    kind: Literal["localized", "sprinkler", "surface"]
    application_efficiency: float = Field(gt=0.2, le=1, description="Ea: share of the water reaching the root zone")
    distribution_uniformity: float = Field(gt=0.2, le=1, description="DU (emission uniformity for drip)")
    wetted_fraction: float = Field(gt=0, le=1, description="FAO-56 Table 20 fw")
    interval_days: int = Field(default=0, ge=0, le=7, description="localized: replacement interval, days")
    rotation_days: int = Field(default=0, ge=0, le=30, description="set rotation: days before a set is irrigated again")
    max_depth_mm: float | None = Field(default=None, gt=0, description="largest gross depth of one event")
    application_rate_mm_h: float | None = Field(default=None, gt=0)
    max_pulse_h: float | None = Field(default=None, gt=0)
    source: str

    @property
    def efficiency(self) -> float:
        """Net-to-gross factor without leaching: Ea × DU."""
        return self.application_efficiency * self.distribution_uniformity


class IrrigationSettings(_Strict):
    """Drip wetting table and under-cover ET0 factor (configs/irrigation.yaml)."""

    wetting: dict[Literal["coarse", "medium", "fine"], list[tuple[float, float]]]
    wetting_source: str
    min_wetted_fraction_trees: float = Field(gt=0, le=1)
    under_cover_et0_factor: float = Field(gt=0, le=1.2)
    under_cover_source: str
