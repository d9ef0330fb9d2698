"""Parcels load from any vector format and CRS; every problem is reported with its id and fix."""
from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from pipelines.core.config import load_farm
from pipelines.core.errors import InputDataError
from pipelines.core.grid import FarmGrid
from pipelines.imagery.parcels.layer import load_parcels

FARM = load_farm("chtouka")
GRID = FarmGrid.of_farm(FARM)
WEST, SOUTH, EAST, NORTH = GRID.bounds
ATTRS = {"member": "Ahmed", "crop": "olive", "sowing_date": "2025-11-01", "irrigation_method": "drip",
         "soil_texture": "loam"}


def _box(dx: float, dy: float, size: float = 20.0) -> shapely.Polygon:
    return shapely.box(WEST + dx, NORTH - dy - size, WEST + dx + size, NORTH - dy)


def test_sample_farm_parcels_are_clean_and_in_the_grid_crs():
    parcels = load_parcels(FARM)
    assert len(parcels.ids) == 10 and parcels.problems == []
    assert parcels.frame.crs.to_epsg() == 32629
    assert parcels.frame.area.between(10_000, 11_000).all()  # ~1.05 ha each


@pytest.mark.parametrize("suffix, driver", [(".gpkg", "GPKG"), (".shp", "ESRI Shapefile")])
def test_geopackage_and_shapefile_in_another_crs(tmp_path, suffix, driver):
    frame = load_parcels(FARM).frame.to_crs("EPSG:3857")
    path = tmp_path / f"parcels{suffix}"
    frame.to_file(path, driver=driver)
    parcels = load_parcels(path, GRID)
    assert parcels.problems == []
    assert parcels.frame.area.sum() == pytest.approx(load_parcels(FARM).frame.area.sum(), rel=1e-6)


def test_each_problem_is_reported_with_parcel_id_and_fix(tmp_path):
    bowtie = shapely.Polygon([(WEST + 100, NORTH - 100), (WEST + 120, NORTH - 120),
                              (WEST + 120, NORTH - 100), (WEST + 100, NORTH - 120)])
    records = [
        {"id": "A", **ATTRS, "geometry": _box(10, 10)},
        {"id": "B", **ATTRS, "geometry": _box(20, 10)},            # overlaps A by 10 x 20 m
        {"id": "C", **ATTRS, "geometry": bowtie},                   # self-intersection
        {"id": "D", **ATTRS, "geometry": _box(-500, 10)},           # outside the grid
        {"id": "E", **{**ATTRS, "crop": None}, "geometry": _box(200, 10)},
        {"id": "F", **ATTRS, "geometry": _box(250, 10)},
        {"id": "F", **ATTRS, "geometry": _box(300, 10)},            # duplicate id
        {"id": "G", **ATTRS, "geometry": _box(-10, 50)},            # half outside
    ]
    path = tmp_path / "parcels.geojson"
    gpd.GeoDataFrame(records, crs="EPSG:32629").to_file(path, driver="GeoJSON")
    parcels = load_parcels(path, GRID)
    kinds = {(p.parcel_id, p.kind, p.severity) for p in parcels.problems}
    assert kinds == {("A", "overlap", "warning"), ("B", "overlap", "warning"),
                     ("C", "invalid geometry", "error"), ("D", "outside grid", "error"),
                     ("E", "missing attribute", "error"), ("F", "duplicate id", "error"),
                     ("G", "partly outside grid", "warning")}
    assert len(parcels.ids) == 8  # nothing dropped
    assert "200.0 m²" in next(str(p) for p in parcels.problems if p.parcel_id == "A")
    with pytest.raises(InputDataError, match='parcel "C": invalid geometry.*--repair-geometries'):
        parcels.raise_for_errors()
    repaired = load_parcels(path, GRID, repair=True)
    assert ("C", "repaired geometry", "warning") in {(p.parcel_id, p.kind, p.severity) for p in repaired.problems}
    assert repaired.frame.set_index("id").loc["C", "geometry"].area == pytest.approx(200.0)


def test_missing_file_and_missing_crs_name_the_fix(tmp_path):
    with pytest.raises(InputDataError, match="parcels file not found"):
        load_parcels(tmp_path / "none.geojson", GRID)
    path = tmp_path / "nocrs.shp"
    gpd.GeoDataFrame([{"id": "A", **ATTRS, "geometry": _box(10, 10)}]).to_file(path)
    with pytest.raises(InputDataError, match="no coordinate reference system"):
        load_parcels(path, GRID)
