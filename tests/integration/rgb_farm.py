"""An RGB-only farm for the Dagster integration test: configs, parcels, RGBA orthomosaics, a run.

Kept out of `configs/farms` (it would change the farms partitions, the demo and the asset-graph
snapshot): `write_farm` builds a configs folder in a temporary directory (the project's configs
minus its farms, plus this farm), `write_flight` writes an RGBA uint8 orthomosaic of camera DN
with vegetation rows whose truth is returned, and running this file as a script materialises the
whole graph in-process for the farm (`python rgb_farm.py ROOT`, environment SAQI_CONFIGS,
SAQI_DATA_ROOT, SAQI_LANDING_DIR, DAGSTER_HOME set by the test), writing `ROOT/outcome.json`. A
separate process because the farms partitions are read from SAQI_CONFIGS when Dagster's
definitions are imported.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import numpy as np

FARM = "rgbcoop"
CRS = "EPSG:32629"
ORIGIN = (464200.0, 3342850.0)
PIXEL_M = 0.25
SHAPE = (240, 320)  # rows, cols: 60 m × 80 m
NO_ALPHA_COLS = 16  # the east edge of every mosaic is outside its footprint (alpha 0)
SOIL_DN = (165, 140, 115)
LEAF_DN = (70, 120, 45)
NOISE_DN = 6
# parcel: (crop, sowing, method, (west, south, east, north) in metres from the grid origin, east/north)
PARCELS = {
    "W1": ("durum_wheat", "2025-11-20", "sprinkler", (5.0, -55.0, 40.0, -5.0)),
    "T2": ("potato", "2026-01-15", "drip", (45.0, -55.0, 75.0, -5.0)),
}
FLIGHTS = {dt.date(2026, 2, 10): {"W1": 1, "T2": 0}, dt.date(2026, 3, 20): {"W1": 2, "T2": 1}}
"""Leaf pixels per 4-pixel row period in each parcel, per flight (crop cover 0, 0.25 or 0.5)."""
DAYS = (dt.date(2026, 3, 21),)
PROJECT = Path(__file__).resolve().parents[2]


def leaf_exg() -> float:
    """ExG on chromatic coordinates of the leaf DN (Woebbecke et al. 1995): the expected crop value."""
    r, g, b = LEAF_DN
    return (2 * g - r - b) / (r + g + b)


def _polygon(bounds):
    import shapely

    west, south, east, north = bounds
    return shapely.box(ORIGIN[0] + west, ORIGIN[1] + south, ORIGIN[0] + east, ORIGIN[1] + north)


def write_farm(configs: Path) -> Path:
    """`configs` = the project's configs without its farms, plus farms/rgbcoop (RGB camera, 2 parcels)."""
    import geopandas as gpd
    import yaml

    shutil.copytree(PROJECT / "configs", configs, ignore=shutil.ignore_patterns("farms"))
    folder = configs / "farms" / FARM
    folder.mkdir(parents=True)
    farm = {"id": FARM, "name": "Bloc RGB, Biougra",
            "cooperative": {"name": "Coopérative test RGB", "region": "Souss-Massa", "province": "Chtouka-Aït Baha",
                            "language": "fr"},
            "location": {"lat_deg": 30.2133, "lon_deg": -9.3716, "elevation_m": 95},
            "grid": {"crs": CRS, "origin_x_m": ORIGIN[0], "origin_y_m": ORIGIN[1], "resolution_m": PIXEL_M,
                     "width": SHAPE[1], "height": SHAPE[0]},
            "season": {"name": "2025-2026", "start": "2025-10-01", "end": "2026-06-30"},
            "sensor": "rgb_camera", "parcels": "parcels.geojson", "weather": "weather.csv"}
    (folder / "farm.yaml").write_text(yaml.safe_dump(farm, allow_unicode=True), encoding="utf-8")
    shutil.copy(PROJECT / "configs" / "farms" / "chtouka" / "weather.csv", folder / "weather.csv")
    frame = gpd.GeoDataFrame(
        {"id": list(PARCELS), "member": ["Fatima Test", "Omar Test"], "crop": [p[0] for p in PARCELS.values()],
         "sowing_date": [p[1] for p in PARCELS.values()], "irrigation_method": [p[2] for p in PARCELS.values()],
         "soil_texture": "sandy_loam"},
        geometry=[_polygon(p[3]) for p in PARCELS.values()], crs=CRS).to_crs("EPSG:4326")
    frame.to_file(folder / "parcels.geojson", driver="GeoJSON")
    return folder


def write_flight(folder: Path, day: dt.date, seed: int) -> np.ndarray:
    """An RGBA uint8 orthomosaic (GDAL colour interpretation red, green, blue, alpha; no band
    descriptions) of soil with east-west leaf rows in each parcel; returns the leaf truth (y, x)."""
    import rasterio
    from rasterio.enums import ColorInterp
    from rasterio.transform import from_origin

    rng = np.random.default_rng(seed)
    rows, cols = np.indices(SHAPE)
    leaf = np.zeros(SHAPE, bool)
    for pid, (_, _, _, (west, south, east, north)) in PARCELS.items():
        inside = ((cols >= west / PIXEL_M) & (cols < east / PIXEL_M)
                  & (rows >= -north / PIXEL_M) & (rows < -south / PIXEL_M))
        leaf |= inside & (rows % 4 < FLIGHTS[day][pid])
    rgb = np.where(leaf, np.array(LEAF_DN)[:, None, None], np.array(SOIL_DN)[:, None, None]).astype(float)
    rgb = np.clip(np.rint(rgb + rng.normal(0, NOISE_DN, rgb.shape)), 1, 254).astype(np.uint8)
    alpha = np.full(SHAPE, 255, np.uint8)
    alpha[:, -NO_ALPHA_COLS:] = 0
    folder.mkdir(parents=True, exist_ok=True)
    profile = dict(driver="GTiff", width=SHAPE[1], height=SHAPE[0], count=4, dtype="uint8", crs=CRS,
                   transform=from_origin(*ORIGIN, PIXEL_M, PIXEL_M), photometric="RGB", alpha="YES")
    with rasterio.open(folder / "ortho_rgb.tif", "w", **profile) as dst:
        dst.write(np.concatenate([rgb, alpha[None]]))
        dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha]
    return leaf


def run(root: Path) -> None:
    """Materialise the whole graph for the farm (every flight landed under SAQI_LANDING_DIR/rgbcoop)."""
    import dagster as dg

    from pipelines.core.keys import FlightKey
    from pipelines.orchestration.definitions import ASSET_MODULES
    from pipelines.orchestration.resources import default_storage
    from pipelines.orchestration.runs import run_farm

    defs = dg.Definitions(assets=dg.load_assets_from_modules(ASSET_MODULES),
                          asset_checks=dg.load_asset_checks_from_modules(ASSET_MODULES),
                          resources={"storage": default_storage()})
    keys = [FlightKey(FARM, day, 0) for day in FLIGHTS]
    with dg.DagsterInstance.get() as instance:
        outcomes = run_farm(defs, instance, FARM, keys, DAYS, training={"steps": 5, "time_budget_s": 20.0})
        metadata = {}
        for key in instance.get_asset_keys():
            event = instance.get_latest_materialization_event(key)
            if event is not None and event.asset_materialization is not None:
                metadata[key.to_user_string()] = {k: str(getattr(v, "value", v))[:2000]
                                                  for k, v in event.asset_materialization.metadata.items()
                                                  if "preview" not in k and not k.startswith("ndvi_map")
                                                  and not k.startswith("class_map")}
    result = {"outcomes": {o.stage: {"succeeded": o.succeeded, "failed": o.failed} for o in outcomes},
              "metadata": metadata}
    (root / "outcome.json").write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    run(Path(sys.argv[1]))
