"""Management-zone outlines and their field-average NDVI on every flight, for the zone water balance.

The store keeps a flight's zones as a (y, x) uint8 rank raster (`flights/<flight>/zones`, rank 1 =
lowest vigour, 0 outside; a pixel carries a parcel's rank when at least half of it lies in the
parcel, see `pipelines.imagery.zones.delineation`). Per parcel, the ranks of its own pixels (coverage ≥ 0.5)
are extended to its border pixels (nearest own pixel), vectorised (rasterio `shapes`) and clipped
to the parcel outline, so the zones of a parcel tile it exactly: their areas (m², farm grid CRS)
add up to the parcel area. A parcel without ranked pixels (unusable geometry, no valid NDVI on
the zoning flight) keeps its whole outline as zone 0, flagged.

On each flight the zone's NDVI is the coverage-weighted mean over all its pixels (exact coverage,
`pipelines.imagery.parcels.zonal.parcel_statistics`), the field average the NDVI-Kcb relations were
fitted on, as the parcel balance uses `ndvi_parcel_mean`; with the flight's class map, the crop
cover fraction (crop / classified area) is added, which drives the tree-crop Kcb.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine

from pipelines.core.grid import FarmGrid
from pipelines.core.keys import FlightKey
from pipelines.imagery.parcels.coverage import coverage
from pipelines.imagery.parcels.layer import ParcelSet
from pipelines.imagery.parcels.zonal import parcel_statistics
from pipelines.imagery.zones.classes import filled
from pipelines.store import cube, products, windows
from pipelines.store.products import INDICES, ZONES

OWN_PIXEL_COVERAGE = 0.5
WHOLE_PARCEL = 0


def zone_id(parcel: str, rank: int) -> str:
    """`<parcel>-z<rank>`; the parcel id itself for a parcel kept whole (rank 0)."""
    return parcel if rank == WHOLE_PARCEL else f"{parcel}-z{rank}"


def flight_date(flight: str) -> dt.date:
    """The date of a flight key `<farm>-<yyyymmdd>[-n]`."""
    return FlightKey.parse(flight).date


def zoned_flight(store: cube.Store, end: dt.date) -> str | None:
    """The latest flight on or before `end` whose `zones` product exists, or None."""
    flight = products.latest_flight(store, having=ZONES, on_or_before=end)
    return None if flight is None else str(flight)


def _rank_polygons(labels: np.ndarray, transform: Affine, outline) -> dict[int, shapely.Geometry]:
    from rasterio.features import shapes

    parts: dict[int, list] = {}
    for geojson, value in shapes(labels, mask=labels > 0, connectivity=4, transform=transform):
        parts.setdefault(int(value), []).append(shapely.geometry.shape(geojson))
    clipped = {rank: shapely.intersection(shapely.union_all(polys), outline) for rank, polys in parts.items()}
    return {rank: geom for rank, geom in sorted(clipped.items()) if geom.area > 0}


def zone_outlines(ranks: np.ndarray, grid: FarmGrid, parcels: ParcelSet) -> gpd.GeoDataFrame:
    """One row per zone: zone_id, parcel, zone (rank, 0 = whole parcel), area_m2, note, geometry.

    `ranks` is the stored (y, x) uint8 rank raster on `grid`; `parcels` the farm's ParcelSet.
    """
    if ranks.shape != grid.shape:
        raise ValueError(f"zone ranks must be (y, x) = {grid.shape}, got {ranks.shape}")
    rows = []
    for pid, outline in zip(parcels.frame["id"], parcels.frame.geometry):
        problem = parcels.problem_of(pid)
        cover = None if problem else coverage(outline, grid)
        zones: dict[int, shapely.Geometry] = {}
        if cover is not None:
            window = np.asarray(ranks[cover.rows, cover.cols])
            own = (cover.fraction >= OWN_PIXEL_COVERAGE) & (window > 0)
            if own.any():
                labels = filled(np.where(own, window, 0).astype(np.uint8), own, cover.fraction > 0)
                transform = grid.transform @ Affine.translation(cover.cols.start, cover.rows.start)
                zones = _rank_polygons(labels, transform, outline)
        note = "" if zones else f"no management zone ({problem or 'no ranked pixel'}): whole parcel"
        for rank, geom in (zones or {WHOLE_PARCEL: outline}).items():
            rows.append({"zone_id": zone_id(pid, rank), "parcel": pid, "zone": rank, "area_m2": float(geom.area),
                         "note": note, "geometry": geom})
    return gpd.GeoDataFrame(rows, columns=["zone_id", "parcel", "zone", "area_m2", "note", "geometry"],
                            geometry="geometry", crs=parcels.frame.crs)


def zone_observations(store: cube.Store, outlines: gpd.GeoDataFrame, grid: FarmGrid, start: dt.date,
                      end: dt.date) -> pd.DataFrame:
    """Long table parcel (= zone_id), date, ndvi_mean[, crop_cover_fraction]: one row per zone and
    flight between `start` and `end` that has an `indices` product (NDVI layer)."""
    zone_set = ParcelSet(Path(str(store)), outlines.rename(columns={"zone_id": "id"})[["id", "geometry"]])
    frames = []
    for flight in cube.flights_in_store(store):
        if not start <= flight_date(flight) <= end or not cube.has_product(store, cube.flight_group(flight, "indices")):
            continue
        if "ndvi" not in products.layer_names(store, flight, INDICES):
            continue  # an RGB camera flight: no NDVI, and the NDVI-Kcb relation never reads ExG
        ndvi = products.layers(store, flight, INDICES, ["ndvi"])
        stats = parcel_statistics(ndvi, ["ndvi"], grid, zone_set, stats=("count", "mean"))
        frame = pd.DataFrame({"parcel": stats["parcel_id"], "date": pd.Timestamp(flight_date(flight)),
                              "ndvi_mean": stats["ndvi_mean"]})
        if cube.has_product(store, cube.flight_group(flight, "classes")):
            classes = windows.stored_array(store, flight, "classes")
            frame["crop_cover_fraction"] = parcel_statistics(ndvi, ["ndvi"], grid, zone_set, classes,
                                                             stats=("count",))["crop_cover_fraction"].to_numpy()
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["parcel", "date", "ndvi_mean"])
    return pd.concat(frames, ignore_index=True).dropna(subset=["ndvi_mean"])
