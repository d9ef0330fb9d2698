"""A landed flight folder → its manifest: id, kind, sensor (from the files' own metadata), files, date.

Ordinary bad input never raises here: the problem is recorded and the flight is quarantined with
its reason, so the other flights of a backfill go on (the manifest asset reports it).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from pipelines.core.config import Farm, load_sensor
from pipelines.core.errors import SaqiError
from pipelines.core.keys import FOLDER, FlightKey

RASTER_SUFFIXES = (".tif", ".tiff")


class FlightManifest(BaseModel):
    """What ingest found in a flight folder: kind, sensor, files, capture date, reflectance
    scale, and the problems (quarantine) and warnings."""

    flight: str = Field(description="<farm>-<yyyymmdd>[-n]")
    farm: str
    folder: str
    kind: Literal["orthomosaic", "captures", "unknown"]
    sensor: str | None
    files: list[str]
    captured: dt.date | None
    reflectance_scale: float | None = None
    problems: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    @property
    def quarantined(self) -> bool:
        """True when the flight has problems and must not be processed."""
        return bool(self.problems)

    @property
    def reason(self) -> str:
        """The problems joined into one line (empty when none)."""
        return "; ".join(self.problems)


def _orthomosaic(folder: Path, farm: Farm, tifs: list[Path], declared: dict, result: dict) -> None:
    from pipelines.core.grid import FarmGrid
    from pipelines.imagery.ingest.orthomosaic import inspect_orthomosaic

    if len(tifs) != 1:
        raise SaqiError(f"{folder}: {len(tifs)} GeoTIFFs for an orthomosaic flight; keep exactly one")
    sensor_id = declared.get("sensor") or farm.sensor
    if not declared.get("sensor"):
        result["warnings"].append(f"flight.yaml declares no sensor; using the farm's default '{farm.sensor}'")
    sensor = load_sensor(sensor_id)
    info = inspect_orthomosaic(tifs[0], sensor, FarmGrid.of_farm(farm), declared.get("reflectance_scale"))
    result.update(sensor=sensor.id, reflectance_scale=declared.get("reflectance_scale"))
    result["warnings"].extend(info.warnings)


def _captures(tifs: list[Path], result: dict) -> None:
    from pipelines.imagery.ingest.captures import group_captures

    captures = group_captures(tifs)
    result["sensor"] = captures[0].sensor.id
    dates = {im.captured.date() for c in captures for im in c.images if im.captured}
    if dates and result["captured"] is None:
        result["captured"] = min(dates)
    result["warnings"].extend(sorted({w.split(": ", 1)[1] for c in captures for w in c.warnings}))


def read_flight_folder(folder: str | Path, farm: Farm, taken: set[str] | frozenset = frozenset()) -> FlightManifest:
    """Describe a flight folder; `taken` holds flight ids already registered (a second flight that day gets -2)."""
    folder = Path(folder)
    tifs = sorted(p for p in folder.iterdir() if p.suffix.lower() in RASTER_SUFFIXES) if folder.is_dir() else []
    manifest_file = folder / "flight.yaml"
    declared = {}
    result: dict = {"sensor": None, "captured": None, "problems": [], "warnings": []}
    try:
        declared = yaml.safe_load(manifest_file.read_text(encoding="utf-8")) or {} if manifest_file.is_file() else {}
        if declared.get("captured"):
            result["captured"] = dt.date.fromisoformat(str(declared["captured"]))
        kind = declared.get("kind") or ("orthomosaic" if len(tifs) == 1 else "captures")
        if not tifs:
            raise SaqiError(f"{folder}: no TIFF files in the flight folder; land the orthomosaic or the band files")
        (_orthomosaic(folder, farm, tifs, declared, result) if kind == "orthomosaic" else _captures(tifs, result))
    except (SaqiError, yaml.YAMLError, ValueError) as exc:
        kind = declared.get("kind", "unknown") if isinstance(declared, dict) else "unknown"
        result["problems"].append(str(exc))
    match = FOLDER.match(folder.name)
    captured = result["captured"] or (FlightKey.from_folder(farm.id, folder.name).date if match else None)
    if captured is None:
        result["problems"].append(f"{folder}: no capture date in the files or flight.yaml; add 'captured: yyyy-mm-dd'")
        flight = f"{farm.id}-unknown-{folder.name}"
    else:
        number = int(match["n"]) if match and match["n"] else 0
        key = FlightKey(farm.id, captured, number)
        while str(key) in taken and key.number < 99:
            key = FlightKey(farm.id, captured, max(key.number, 1) + 1)
        flight = str(key)
        if match and FlightKey.from_folder(farm.id, folder.name).date != captured:
            result["warnings"].append(f"folder name {folder.name} differs from the capture date {captured}")
    return FlightManifest(flight=flight, farm=farm.id, folder=str(folder),
                          kind=kind if kind in ("orthomosaic", "captures") else "unknown",
                          files=[p.name for p in tifs], **result)
