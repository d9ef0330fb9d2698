"""Weed-pressure grid per parcel and the spot-spray prescription it implies.

Each parcel is cut into square cells of `cell_m` (a boom section's width) aligned on the farm
grid; a cell's weed cover is its weed pixels over its valid pixels inside the parcel (class map
of `crop_segmentation`: 0 soil, 1 crop, 2 weed, 3 shadow, 255 no data). Cells whose weed cover
reaches `weed_cover_threshold` are sprayed at the rule's `base_rate`, the others get 0 — patch
spraying as in Gerhards & Christensen 2003 (Weed Research 43:385-392). Parameters in
`configs/segmentation.yaml` (`spot_spray`), rate and product in `configs/prescription.yaml`
(`herbicide_spot`). Exports through `prescription.write_prescription` (GeoJSON, Shapefile,
ISO 11783-10 TASKDATA with two treatment zones per parcel: 1 spray, 2 no spray).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import yaml
from pydantic import BaseModel, Field
from rasterio import features, windows

from pipelines.core.config import PrescriptionRule, configs_dir
from pipelines.core.errors import ConfigError
from pipelines.imagery.parcels.layer import ParcelSet
from pipelines.imagery.zones.prescription import FORMATS, prescription_rule, write_prescription

WEED, CROP, NO_DATA = 2, 1, 255
NAME = "spot_spray"


class SpotSpraySettings(BaseModel):
    """Cell size and the weed cover above which a cell is sprayed."""

    cell_m: float = Field(default=5.0, gt=0)
    weed_cover_threshold: float = Field(default=0.02, gt=0, lt=1)
    rule: str = "herbicide_spot"
    reference: str = ""


def load_spot_spray_settings(path: Path | None = None) -> SpotSpraySettings:
    """The `spot_spray` section of `configs/segmentation.yaml` (or `path`)."""
    path = path or configs_dir() / "segmentation.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if "spot_spray" not in data:
        raise ConfigError(path, "spot_spray", "no spot_spray section", "add cell_m, weed_cover_threshold and rule")
    return SpotSpraySettings.model_validate(data["spot_spray"])


def weed_cells(classes, grid, parcels: ParcelSet, cell_m: float) -> gpd.GeoDataFrame:
    """One row per cell: parcel_id, crop, cell, valid_px, weed_cover, crop_cover, area_m2, geometry (grid CRS).

    `classes` is a (y, x) class map on `grid` (NumPy or lazy Zarr), read one parcel window at a time.
    """
    transform, (height, width) = grid.transform, classes.shape
    cell_px = max(1, int(round(cell_m / abs(transform.a))))
    rows = []
    for pid, crop, geometry in zip(parcels.frame["id"], parcels.frame["crop"], parcels.frame.geometry):
        if geometry is None or geometry.is_empty:
            continue
        window = windows.from_bounds(*geometry.bounds, transform=transform)
        col0 = int(np.floor(window.col_off / cell_px)) * cell_px
        row0 = int(np.floor(window.row_off / cell_px)) * cell_px
        col1 = min(width, int(np.ceil((window.col_off + window.width) / cell_px)) * cell_px)
        row1 = min(height, int(np.ceil((window.row_off + window.height) / cell_px)) * cell_px)
        col0, row0 = max(col0, 0), max(row0, 0)
        if col1 <= col0 or row1 <= row0:
            continue
        win = windows.Window(col0, row0, col1 - col0, row1 - row0)
        inside = features.rasterize([(geometry, 1)], out_shape=(win.height, win.width), fill=0, dtype="uint8",
                                    transform=windows.transform(win, transform)).astype(bool)
        block = np.asarray(classes[row0:row1, col0:col1])
        valid = inside & (block != NO_DATA)
        ny, nx = -(-win.height // cell_px), -(-win.width // cell_px)
        cy, cx = np.divmod(np.arange(win.height * win.width), win.width)
        cell_id = (cy // cell_px) * nx + (cx // cell_px)
        count = lambda mask: np.bincount(cell_id[mask.ravel()], minlength=ny * nx)  # noqa: E731
        n_valid, n_weed, n_crop = count(valid), count(valid & (block == WEED)), count(valid & (block == CROP))
        for k in np.flatnonzero(n_valid):
            r, c = divmod(int(k), nx)
            x0, y0 = transform @ (col0 + c * cell_px, row0 + r * cell_px)
            x1, y1 = transform @ (col0 + (c + 1) * cell_px, row0 + (r + 1) * cell_px)
            shape = shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)).intersection(geometry)
            if shape.is_empty:
                continue
            rows.append({"parcel_id": pid, "crop": crop, "cell": int(k), "valid_px": int(n_valid[k]),
                         "weed_cover": float(n_weed[k] / n_valid[k]), "crop_cover": float(n_crop[k] / n_valid[k]),
                         "area_m2": float(shape.area), "geometry": shape})
    columns = ["parcel_id", "crop", "cell", "valid_px", "weed_cover", "crop_cover", "area_m2", "geometry"]
    return gpd.GeoDataFrame(rows, columns=columns, geometry="geometry", crs=parcels.frame.crs)


def spray_zones(cells: gpd.GeoDataFrame, settings: SpotSpraySettings, rule: PrescriptionRule) -> gpd.GeoDataFrame:
    """Cells dissolved per parcel into zone 1 (weed cover >= threshold: `rule.base_rate`) and zone 2 (0)."""
    sprayed = cells["weed_cover"].to_numpy() >= settings.weed_cover_threshold
    frame = cells.assign(zone=np.where(sprayed, 1, 2), _weed_area=cells["weed_cover"] * cells["area_m2"])
    zones = frame.dissolve(by=["parcel_id", "zone"], aggfunc={"crop": "first", "area_m2": "sum", "_weed_area": "sum",
                                                              "cell": "count"}).reset_index()
    zones = zones.rename(columns={"cell": "n_cells"})
    zones["weed_cover"] = (zones.pop("_weed_area") / zones["area_m2"]).round(4)
    zones[rule.rate_field] = np.where(zones["zone"] == 1, rule.base_rate, 0.0)
    zones["crop"] = zones["crop"].fillna("").astype(str)
    return zones[["parcel_id", "zone", "crop", "n_cells", "area_m2", "weed_cover", rule.rate_field, "geometry"]]


def export_spot_spray(classes, grid, parcels: ParcelSet, out_dir: str | Path, settings: SpotSpraySettings,
                      formats: Sequence[str] = FORMATS, customer: str = "Saqi customer",
                      farm_name: str = "Saqi farm") -> tuple[gpd.GeoDataFrame, dict[str, Path]]:
    """Weed cells and the spot-spray prescription written under `out_dir` (`spot_spray.geojson`,
    `shapefile/spot_spray.shp`, `TASKDATA/TASKDATA.XML`); returns (cells, {format: path})."""
    rule = prescription_rule(settings.rule)
    cells = weed_cells(classes, grid, parcels, settings.cell_m)
    if cells.empty:
        return cells, {}
    zones = spray_zones(cells, settings, rule)
    written = write_prescription(zones, parcels.frame, rule, Path(out_dir), formats, NAME, customer, farm_name)
    return cells, written
