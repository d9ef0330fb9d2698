"""The one configuration loader: farms, crops, soils and sensors are data in `configs/`.

Every file is validated with pydantic on load; a failure raises `ConfigError` naming the file,
the field and what to change.
"""
from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pipelines.core.errors import ConfigError
from pipelines.core.keys import FARM

CONFIGS_DIR = Path(os.environ.get("SAQI_CONFIGS", Path(__file__).resolve().parents[2] / "configs"))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Grid(_Strict):
    """The farm's fixed raster grid: every flight is resampled onto it (DESIGN: farm grid)."""

    crs: str = Field(description="projected CRS, e.g. EPSG:32629 (UTM 29N)")
    origin_x_m: float = Field(description="x of the grid's west edge")
    origin_y_m: float = Field(description="y of the grid's north edge")
    resolution_m: float = Field(gt=0, le=10)
    width: int = Field(gt=0, le=200_000)
    height: int = Field(gt=0, le=200_000)

    @field_validator("crs")
    @classmethod
    def _projected(cls, value: str) -> str:
        from pyproj import CRS

        crs = CRS.from_user_input(value)
        if not crs.is_projected:
            raise ValueError(f"{value} is not a projected CRS; "
                             "use the farm's UTM zone (EPSG:32629 for most of Morocco)")
        return value


class Location(_Strict):
    """The farm's position: latitude and longitude (degrees) and elevation (m)."""

    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: float = Field(ge=-180, le=180)
    elevation_m: float = Field(ge=-500, le=6000)


class Season(_Strict):
    """The growing season the farm's balance runs over, `start` to `end` (dates)."""

    name: str
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> "Season":
        if self.end <= self.start:
            raise ValueError("season end must come after its start")
        return self


class Cooperative(_Strict):
    """The cooperative that receives the reports: its name, region, province, report language
    and optional e-mail address."""

    name: str
    region: str
    province: str
    language: Literal["fr", "ar", "en"] = "fr"
    email: str | None = None


class Farm(_Strict):
    """A farm (one cooperative's block of parcels) with its grid and input files."""

    id: str
    name: str
    cooperative: Cooperative
    location: Location
    grid: Grid
    season: Season
    sensor: str = Field(description="default sensor profile id for orthomosaic flights")
    parcels: str = "parcels.geojson"
    weather: str = "weather.csv"
    irrigation_events: str | None = None
    harvests: str | None = None
    directory: Path = Field(default=Path("."), exclude=True)

    @field_validator("id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        if not FARM.match(value):
            raise ValueError("farm id must be lower-case letters, digits and '_' "
                             "(it becomes a path and a partition key)")
        return value

    def path(self, name: str) -> Path:
        """Path of one of the farm's input files (`name` relative to the farm's config folder)."""
        return self.directory / name


class NdviKcb(_Strict):
    """Linear Kcb = slope·NDVI + intercept with its published source."""

    slope: float
    intercept: float
    source: str


class TreeCover(_Strict):
    """Ground-cover Kcb of a tree crop (Allen & Pereira 2009, Irrig. Sci. 28:17-34, eqs. 7-10)."""

    kc_min: float = Field(default=0.15, ge=0, le=0.3, description="Kcb of bare soil (eq. 7)")
    ml: float = Field(default=1.5, ge=1, le=2, description="multiplier on fc for light absorption (eq. 8)")
    leaf_resistance_s_m: float = Field(gt=100, le=1000, description="mean leaf resistance rl for Fr (eq. 10)")
    ndvi_soil: float = Field(default=0.15, ge=0, lt=0.5, description="NDVI of the bare inter-row soil")
    ndvi_full: float = Field(default=0.85, gt=0.5, le=1, description="NDVI of a closed canopy")
    source: str


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
    sources: list[str]


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
    """Application efficiency and wetted fraction of an irrigation system."""

    efficiency: float = Field(gt=0.2, le=1, description="fraction of the applied depth stored in the root zone")
    wetted_fraction: float = Field(gt=0, le=1, description="FAO-56 Table 20 fw")
    source: str


class SensorBand(_Strict):
    """One band of a camera: role name, centre wavelength and full width at half maximum (nm)."""

    name: str = Field(description="band role: blue, green, red, rededge, nir, …")
    center_nm: float = Field(gt=300, lt=15000, description="centre wavelength; thermal bands ~10 500 nm")
    fwhm_nm: float = Field(gt=0, lt=10000)
    file_suffix: str | None = Field(default=None, description="raw capture file name suffix, e.g. _1, _GRE, _MS_NIR")


class Sensor(BaseModel):
    """A camera profile; radiometric fields beyond the bands are kept for the calibration code."""

    model_config = ConfigDict(extra="allow", frozen=True)
    id: str
    name: str
    vendor: str
    bands: list[SensorBand]
    make: str = Field(default="", description="EXIF Make of the raw files (sensor detection)")
    models: list[str] = Field(default_factory=list, description="EXIF Model values of the raw files (sensor detection)")
    metadata_layout: str = Field(default="", description="radiometric XMP layout: micasense | sequoia | dji")
    file_pattern: str = Field(default="", description="regex of a raw band file name; group 'capture' groups files")
    radiometry: Literal["reflectance", "dn"] = Field(
        default="reflectance",
        description="what this camera's orthomosaics hold: reflectance (multispectral, calibrated by the "
                    "photogrammetry tool) or dn (an uncalibrated RGB camera: relative brightness, never reflectance)")

    @property
    def band_names(self) -> list[str]:
        """Band role names in the profile's order."""
        return [band.name for band in self.bands]


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(path, "<file>", "file not found", "create it or fix the path")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(path, "<file>", f"invalid YAML ({exc})", "fix the syntax") from None
    if not isinstance(data, dict):
        raise ConfigError(path, "<file>", "top level is not a mapping", "write 'key: value' pairs")
    return data


def _validated(model: type[BaseModel], path: Path, data: dict) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(part) for part in err["loc"]) or "<file>"
        raise ConfigError(path, field, err["msg"], "correct this value (see configs/README.md)") from None


def configs_dir() -> Path:
    """The configs folder: $SAQI_CONFIGS when set, else the repository's `configs/`."""
    return Path(os.environ.get("SAQI_CONFIGS", CONFIGS_DIR))


def farm_ids(root: Path | None = None) -> list[str]:
    """Ids of the farms with a `farms/<id>/farm.yaml` under `root` (default: `configs_dir()`), sorted."""
    root = root or configs_dir()
    return sorted(p.parent.name for p in (root / "farms").glob("*/farm.yaml"))


@lru_cache(maxsize=64)
def _load_farm(root: Path, farm_id: str) -> Farm:
    if not FARM.match(farm_id):
        raise ConfigError(root / "farms", "id", f"'{farm_id}' is not a valid farm id",
                          "use lower-case letters, digits, '_'")
    path = root / "farms" / farm_id / "farm.yaml"
    data = _read_yaml(path)
    if data.get("id") != farm_id:
        raise ConfigError(path, "id", f"id '{data.get('id')}' differs from its folder '{farm_id}'", "make them equal")
    return _validated(Farm, path, {**data, "directory": path.parent})


def load_farm(farm_id: str, root: Path | None = None) -> Farm:
    """The validated Farm of `farms/<farm_id>/farm.yaml`; ConfigError names the file and field."""
    return _load_farm((root or configs_dir()).resolve(), farm_id)


@lru_cache(maxsize=128)
def _load_named(root: Path, kind: str, name: str, model_name: str) -> BaseModel:
    model = {"crops": Crop, "sensors": Sensor}[kind]
    path = root / kind / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (root / kind).glob("*.yaml"))
        raise ConfigError(path, kind[:-1], f"unknown {kind[:-1]} '{name}'", f"use one of {known} or add {path.name}")
    data = _read_yaml(path)
    if data.get("id") != name:
        raise ConfigError(path, "id", f"id '{data.get('id')}' differs from the file name", "make them equal")
    return _validated(model, path, data)


def load_crop(crop_id: str, root: Path | None = None) -> Crop:
    """The validated Crop of `crops/<crop_id>.yaml`; ConfigError lists the known crops."""
    return _load_named((root or configs_dir()).resolve(), "crops", crop_id, "Crop")


def load_sensor(sensor_id: str, root: Path | None = None) -> Sensor:
    """The validated Sensor profile of `sensors/<sensor_id>.yaml`; ConfigError lists the known ones."""
    return _load_named((root or configs_dir()).resolve(), "sensors", sensor_id, "Sensor")


def sensor_ids(root: Path | None = None) -> list[str]:
    """Ids of the sensor profiles under `root` (default: `configs_dir()`), sorted."""
    return sorted(p.stem for p in ((root or configs_dir()) / "sensors").glob("*.yaml"))


def load_soils(root: Path | None = None) -> dict[str, Soil]:
    """Soil hydraulic defaults by texture from `soils.yaml` (FAO-56 Table 19)."""
    path = (root or configs_dir()) / "soils.yaml"
    data = _read_yaml(path)
    return {name: _validated(Soil, path, values) for name, values in data.items()}


def load_irrigation_methods(root: Path | None = None) -> dict[str, IrrigationMethod]:
    """Irrigation methods (efficiency, wetted fraction fw: FAO-56 Table 20) from `irrigation.yaml`."""
    path = (root or configs_dir()) / "irrigation.yaml"
    data = _read_yaml(path)
    return {name: _validated(IrrigationMethod, path, values) for name, values in data.items()}


class PrescriptionRule(_Strict):
    """A variable-rate rule (configs/prescription.yaml): a rate per management zone from its vigour."""

    product: str = Field(description="what is applied, e.g. irrigation water, nitrogen (N)")
    rate_field: str = Field(pattern=r"^[a-z][a-z0-9_]{0,9}$", description="column name (≤ 10 characters: Shapefile)")
    unit: Literal["mm", "kg/ha"]
    base_rate: float = Field(gt=0, description="rate at the parcel's mean vigour, in `unit`")
    response: float = Field(ge=-5, le=5,
                            description="relative rate change per relative vigour change; < 0: weaker zones get more")
    min_rate: float = Field(ge=0)
    max_rate: float = Field(gt=0)
    reference: str

    @model_validator(mode="after")
    def _bounded(self) -> "PrescriptionRule":
        if not self.min_rate <= self.base_rate <= self.max_rate:
            raise ValueError("min_rate <= base_rate <= max_rate must hold")
        return self


def load_prescription_rules(root: Path | None = None) -> dict[str, PrescriptionRule]:
    """The variable-rate rules of `prescription.yaml`, by name."""
    path = (root or configs_dir()) / "prescription.yaml"
    data = _read_yaml(path)
    return {name: _validated(PrescriptionRule, path, values) for name, values in data.items()}
