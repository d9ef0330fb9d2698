"""Generate the sample farm's season of flights: orthomosaics in a landing folder, truth beside.

Landing layout (what the flight sensor watches): `<landing>/<farm>/<yyyymmdd>/orthomosaic.tif`
and `flight.yaml`. Truth (for tests only, on the farm grid): `<truth>/<farm>-<yyyymmdd>/`
`classes.tif` (uint8: 0 soil, 1 crop, 2 weed, 3 shadow), `stress.tif` (float32, crop water-stress
fraction 0-1) and `reflectance.tif` (float32, noise-free reflectance, 5 bands).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import yaml

from pipelines.core.config import Farm
from pipelines.core.grid import FarmGrid
from pipelines.synthetic.layout import farm_layout
from pipelines.synthetic.mosaic import REFLECTANCE_SCALE, write_orthomosaic
from pipelines.synthetic.scene import render
from pipelines.synthetic.spectra import BAND_NAMES

SENSOR_ID = "micasense_rededge_mx"
DEFAULT_FLIGHT_DATES = (dt.date(2026, 1, 15), dt.date(2026, 2, 20), dt.date(2026, 3, 25), dt.date(2026, 4, 25))
DEFAULT_SEED = 20260115
CLASS_MEANINGS = "soil crop weed shadow"


@dataclass(frozen=True)
class GeneratedFlight:
    """One generated flight: its partition key `<farm>-<yyyymmdd>`, date and files."""

    flight: str
    date: dt.date
    orthomosaic: Path
    manifest: Path
    classes: Path
    stress: Path
    reflectance: Path


def _write_truth(path: Path, data: np.ndarray, grid: FarmGrid, names: Sequence[str] | None = None) -> None:
    data = data if data.ndim == 3 else data[None]
    floating = data.dtype.kind == "f"
    profile = dict(driver="GTiff", dtype=data.dtype.name, count=data.shape[0], width=grid.width,
                   height=grid.height, crs=grid.crs, transform=grid.transform, tiled=True,
                   blockxsize=512, blockysize=512, compress="zstd", zstd_level=1,
                   predictor=3 if floating else 2)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        for index, name in enumerate(names or (), start=1):
            dst.set_band_description(index, name)
        if not floating:
            dst.update_tags(flag_values="0 1 2 3", flag_meanings=CLASS_MEANINGS)


def generate_farm_flights(farm: Farm, landing_dir: Path, truth_dir: Path,
                          dates: Sequence[dt.date] = DEFAULT_FLIGHT_DATES,
                          seed: int = DEFAULT_SEED) -> list[GeneratedFlight]:
    """Write one orthomosaic (+ flight.yaml) and its truth per date; same seed, same bytes.

    The farm's layout (rows, trees, weed and stress patches) is drawn once from `seed`; each date
    is rendered from it with its own sensor noise, so any subset of dates gives identical files.
    """
    layout = farm_layout(farm, seed)
    grid = FarmGrid.of_farm(farm)
    inner = (slice(layout.margin_px, layout.margin_px + grid.height),
             slice(layout.margin_px, layout.margin_px + grid.width))
    flights = []
    for on in dates:
        stamp = on.strftime("%Y%m%d")
        flight_dir = Path(landing_dir) / farm.id / stamp
        truth = Path(truth_dir) / f"{farm.id}-{stamp}"
        truth.mkdir(parents=True, exist_ok=True)
        scene = render(layout, on)
        ortho = flight_dir / "orthomosaic.tif"
        write_orthomosaic(ortho, scene.reflectance, layout, on, seed)
        manifest = flight_dir / "flight.yaml"
        manifest.write_text(yaml.safe_dump({"sensor": SENSOR_ID, "kind": "orthomosaic", "captured": on.isoformat(),
                                            "reflectance_scale": REFLECTANCE_SCALE}, sort_keys=False), encoding="utf-8")
        flight = GeneratedFlight(f"{farm.id}-{stamp}", on, ortho, manifest, truth / "classes.tif",
                                 truth / "stress.tif", truth / "reflectance.tif")
        _write_truth(flight.classes, scene.classes[inner], grid)
        _write_truth(flight.stress, scene.stress[inner], grid, ["water_stress"])
        _write_truth(flight.reflectance, scene.reflectance[(slice(None), *inner)], grid, BAND_NAMES)
        flights.append(flight)
    return flights
