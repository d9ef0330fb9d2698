"""Management zones within parcels from an index map (issue 4).

Per parcel: the index of its pixels is split into `n_zones` classes (`zone_classes`: 1-D k-means
or Fisher-Jenks natural breaks, coverage-weighted), smoothed by a majority filter, fragments
smaller than `min_area_m2` are merged into the neighbouring class, and the classes are
vectorised (rasterio `shapes`) and clipped to the parcel outline. Flights finer than `ZONE_CELL_M`
(0.25 m) are zoned on cells of that side (the NaN-ignoring block mean of the index, with the
cells' own exact coverage): a zone is at least 200 m² and the smoothing radius 1 m, so 5 cm
pixels only resolve crop rows and multiply the cost by 25 (docs/scale.md); the rank raster
stays on the flight's pixels, each pixel taking its cell's zone, and a zone's index mean/std
are over its cells (coverage-weighted). Pixels are weighted by their
exact coverage of the parcel (`coverage.coverage`), so a fragment's weighted pixel area is the
area of its clipped polygon. Zones are ranked by their coverage-weighted index mean:
rank 1 = lowest vigour. A zone may be a MultiPolygon (one class, several patches).
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine

from pipelines.core.grid import FarmGrid
from pipelines.imagery.parcels.coverage import Coverage, coverage
from pipelines.imagery.parcels.layer import ParcelSet
from pipelines.imagery.preview import reduce_mean
from pipelines.imagery.zones.classes import (
    filled,
    kmeans_breaks,
    merge_fragments,
    natural_breaks,
    smoothed,
)
from pipelines.store.cube import CHUNK_PX

METHODS = {"kmeans": kmeans_breaks, "natural_breaks": natural_breaks}
ZONE_COUNTS = range(2, 6)
ZONE_CELL_M = 0.25
"""Side of the cells zones are delineated on (m): finer flights are block-averaged to it (docs/scale.md)."""
CELL_BAND = 32
"""Rows of cells block-averaged at a time by `_cells` (temporaries of a few MB, in cache)."""
COLUMNS = ["parcel_id", "crop", "zone", "n_zones", "area_m2", "index_mean", "index_std"]


@dataclass(frozen=True)
class ZoneSet:
    """Zones (GeoDataFrame in the grid CRS, COLUMNS + geometry), the (y, x) uint8 rank raster
    (1..n, 0 outside parcels or no data; a pixel belongs to a parcel when at least half inside),
    and a note per parcel zoned with fewer zones than asked (or none), saying why."""

    frame: gpd.GeoDataFrame
    ranks: np.ndarray
    index_name: str
    grid: FarmGrid
    parcels: ParcelSet
    notes: dict[str, str] = field(default_factory=dict)


def _classes(window: np.ndarray, cover: Coverage, n_zones: int, min_area_px: float, method: str,
             radius_px: int, pixel_area_m2: float) -> tuple[np.ndarray, str | None]:
    inside = cover.fraction > 0
    valid = inside & np.isfinite(window)
    labels = np.zeros(window.shape, np.uint8)
    values, weights = window[valid].astype(np.float64), cover.fraction[valid].astype(np.float64)
    valid_px = float(weights.sum())
    if valid_px == 0:
        return labels, "no valid index pixels: no zone"
    if valid_px < n_zones * min_area_px:
        labels[inside] = 1
        return labels, (f"valid area {valid_px * pixel_area_m2:.0f} m² is below {n_zones} × the minimum zone area "
                        f"{min_area_px * pixel_area_m2:g} m²: one zone")
    if np.unique(values).size < n_zones:
        labels[inside] = 1
        return labels, f"fewer than {n_zones} distinct index values: one zone"
    breaks = METHODS[method](values, weights, n_zones)
    labels[valid] = np.digitize(values, breaks) + 1
    labels = filled(labels, valid, inside)
    labels = smoothed(labels, inside, radius_px)
    return merge_fragments(labels, cover.fraction, min_area_px), None


def _polygons(labels: np.ndarray, cover: Coverage, grid: FarmGrid, outline) -> dict[int, shapely.Geometry]:
    from rasterio.features import shapes

    transform = grid.transform @ Affine.translation(cover.cols.start, cover.rows.start)
    parts: dict[int, list] = {}
    for geojson, value in shapes(labels, mask=labels > 0, connectivity=4, transform=transform):
        parts.setdefault(int(value), []).append(shapely.geometry.shape(geojson))
    clipped = {}
    for value, polys in parts.items():
        geom = shapely.intersection(shapely.MultiPolygon(polys), outline)
        polygons = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]
        if polygons:
            clipped[value] = shapely.MultiPolygon(polygons)
    return clipped


def _absorb_slivers(zones: dict[int, shapely.Geometry], min_area_m2: float) -> dict[int, shapely.Geometry]:
    """Clipping can cut a patch where it touched itself only outside the parcel: merge the
    resulting pieces below the minimum area into the zone sharing the longest border."""
    if len(zones) < 2:
        return zones
    zones = dict(zones)
    for value in list(zones):
        pieces = list(shapely.get_parts(zones[value]))
        kept = [p for p in pieces if p.area >= min_area_m2]
        for piece in (p for p in pieces if p.area < min_area_m2):
            shared = {v: shapely.length(shapely.intersection(piece.boundary, g.boundary))
                      for v, g in zones.items() if v != value}
            best = max(shared, key=shared.get)
            if shared[best] > 0:
                zones[best] = shapely.union(zones[best], piece)
            else:
                kept.append(piece)
        zones[value] = shapely.MultiPolygon(kept) if kept else None
    return {v: shapely.MultiPolygon([p for p in shapely.get_parts(g) if p.geom_type == "Polygon"])
            for v, g in zones.items() if g is not None}


def _statistics(window: np.ndarray, weight: np.ndarray, labels: np.ndarray) -> dict[int, tuple[float, float]]:
    """Coverage-weighted mean and population std of the index in each zone label (cells with a NaN index left out)."""
    keep = (labels > 0) & (weight > 0) & np.isfinite(window)
    zone, w, v = labels[keep], weight[keep].astype(np.float64), window[keep].astype(np.float64)
    total = np.bincount(zone, w, 256)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(zone, w * v, 256) / total
        dev = v - mean[zone]
        var = np.bincount(zone, w * dev * dev, 256) / total
    std = np.sqrt(np.maximum(var, 0.0))
    return {int(k): ((float(mean[k]), float(std[k])) if total[k] > 0 else (float("nan"), float("nan")))
            for k in range(1, 256)}


def cell_factor(resolution_m: float) -> int:
    """Pixels per side of a zoning cell: flights finer than ZONE_CELL_M are zoned on ZONE_CELL_M cells."""
    return max(1, int(ZONE_CELL_M / resolution_m + 1e-9))


def _cells(index, cover: Coverage, factor: int, grid: FarmGrid) -> np.ndarray:
    """The index over the parcel's cell window: the pixels' NaN-ignoring block mean (the pixels at factor 1).

    Read in strips of rows aligned on the store's chunk rows (each chunk decoded once) and averaged
    in bands of `CELL_BAND` cells (cache-sized temporaries); `reduce_mean` of a band of whole blocks
    gives the same blocks as of the whole window, so memory is one strip, not the 5 cm window."""
    if factor == 1:
        return np.asarray(index[cover.rows, cover.cols])
    r0, c0 = cover.rows.start * factor, cover.cols.start * factor
    r1, c1 = cover.rows.stop * factor, cover.cols.stop * factor
    out = np.empty(cover.fraction.shape, np.float32)
    step = int(np.lcm(CHUNK_PX, factor))
    tops = [r0, *range((r0 // step + 1) * step, r1, step), r1]
    for top, bottom in zip(tops[:-1], tops[1:]):
        read = np.asarray(index[top:min(bottom, grid.height), c0:min(c1, grid.width)])
        padded = read
        if read.shape != (bottom - top, c1 - c0):
            padded = np.full((bottom - top, c1 - c0), np.nan, np.float32)
            padded[:read.shape[0], :read.shape[1]] = read
        band = CELL_BAND * factor
        for row in range(0, bottom - top, band):
            cell = (top - r0 + row) // factor
            block = reduce_mean(padded[row:row + band], factor)
            out[cell:cell + block.shape[0]] = block
    return out


def _on_pixels(labels: np.ndarray, cover: Coverage, fine_cover: Coverage, factor: int) -> np.ndarray:
    """Cell labels repeated onto the pixels of the parcel's pixel window."""
    if factor == 1:
        return labels
    top = fine_cover.rows.start - cover.rows.start * factor
    left = fine_cover.cols.start - cover.cols.start * factor
    height, width = fine_cover.fraction.shape
    rows = (np.arange(top, top + height) // factor)[:, None]
    cols = (np.arange(left, left + width) // factor)[None, :]
    return labels[rows, cols]


def _one_ahead(fn: Callable, items: Iterable) -> Iterator:
    """fn(item) for each item in order, the next one computed by a worker thread while the caller
    works on the current one: a parcel's window is read, block-averaged and covered (Blosc
    decoding and NumPy release the GIL) while the previous parcel is classified; memory is the
    inputs of two parcels."""
    items = iter(items)
    with ThreadPoolExecutor(max_workers=1) as worker:
        pending = [worker.submit(fn, item) for item in itertools.islice(items, 1)]
        while pending:
            current = pending.pop()
            pending.extend(worker.submit(fn, item) for item in itertools.islice(items, 1))
            yield current.result()


def management_zones(index: np.ndarray, grid: FarmGrid, parcels: ParcelSet, n_zones: int = 3,
                     min_area_m2: float = 200.0, method: str = "kmeans", smoothing_m: float = 1.0,
                     index_name: str = "ndvi") -> ZoneSet:
    """Zone every usable parcel into `n_zones` (2-5) zones of at least `min_area_m2` m².

    `index` is (y, x) float32 on `grid` (NaN = no data), a NumPy array or a lazy sliceable one
    (`windows.plane` of the Zarr product: only each parcel's window is read); `smoothing_m` is the radius in metres of
    the majority filter. Area in m², index mean/std coverage-weighted (population std).
    """
    if n_zones not in ZONE_COUNTS:
        raise ValueError(f"n_zones must be between 2 and 5, got {n_zones}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    if index.shape != grid.shape:
        raise ValueError(f"index must be (y, x) = {grid.shape}, got {index.shape}")
    factor = cell_factor(grid.resolution_m)
    cells = grid.coarsened(factor)
    min_area_px = min_area_m2 / cells.pixel_area_m2
    radius_px = int(round(smoothing_m / cells.resolution_m))
    ranks = np.zeros(grid.shape, np.uint8)
    rows, notes = [], {}
    crops = parcels.frame["crop"] if "crop" in parcels.frame.columns else [None] * len(parcels.frame)

    def inputs(parcel: tuple) -> tuple[Coverage, Coverage, np.ndarray] | str:
        pid, outline = parcel
        problem = parcels.problem_of(pid)
        cover = None if problem else coverage(outline, cells)
        if cover is None:
            return f"{problem or 'outside grid'}: no zone"
        return cover, cover if factor == 1 else coverage(outline, grid), _cells(index, cover, factor, grid)

    read = _one_ahead(inputs, zip(parcels.frame["id"], parcels.frame.geometry))
    for pid, crop, outline, found in zip(parcels.frame["id"], crops, parcels.frame.geometry, read):
        if isinstance(found, str):
            notes[pid] = found
            continue
        cover, fine_cover, window = found
        labels, note = _classes(window, cover, n_zones, min_area_px, method, radius_px, cells.pixel_area_m2)
        polygons = _absorb_slivers(_polygons(labels, cover, cells, outline), min_area_m2)
        fine_labels = _on_pixels(labels, cover, fine_cover, factor)
        stats = _statistics(window, cover.fraction, labels)
        order = sorted(polygons, key=lambda v: (np.isnan(stats[v][0]), stats[v][0]))
        if note is None and len(order) < n_zones:
            note = f"{len(order)} of {n_zones} zones remain after smoothing and the {min_area_m2:g} m² minimum"
        if note:
            notes[pid] = note
        rank_of = np.zeros(256, np.uint8)
        for rank, value in enumerate(order, start=1):
            rank_of[value] = rank
            mean, std = stats[value]
            rows.append({"parcel_id": pid, "crop": crop, "zone": rank, "n_zones": len(order),
                         "area_m2": polygons[value].area, "index_mean": mean, "index_std": std,
                         "geometry": polygons[value]})
        target = ranks[fine_cover.rows, fine_cover.cols]
        np.copyto(target, rank_of[fine_labels], where=(fine_cover.fraction >= 0.5) & (fine_labels > 0))
    frame = gpd.GeoDataFrame(rows, columns=[*COLUMNS, "geometry"], geometry="geometry", crs=parcels.frame.crs)
    return ZoneSet(frame, ranks, index_name, grid, parcels, notes)
