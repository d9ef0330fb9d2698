"""Orthomosaics (GeoTIFF/COG from OpenDroneMap, Pix4D, Metashape, DJI Terra) onto the farm grid.

`inspect_orthomosaic` reads only the header (plus two probe pixels to catch truncated files) and
says what the mosaic holds: band roles, CRS, scale, nodata/alpha and how much of the farm it
covers. `ingest_orthomosaic` streams it onto the farm grid one destination window at a time
(the source window under it, warped by GDAL `reproject` on all cores, while the previous window
is compressed and written by a second thread), so peak memory follows `window_px`, not the
mosaic's size, and writes
`flights/<flight>/reflectance` (band, y, x) float32, reflectance 0–1, NaN = no data.

Reflectance = DN × scale + offset (the GDAL band scale/offset, or a declared scale such as the
0.0001 that ODM/DJI Terra use for uint16 reflectance); float mosaics are taken as reflectance.
A mosaic of an uncalibrated RGB camera (sensor profile `radiometry: dn`) holds DN that follow the
exposure and tone curve, not reflectance: it is stored as relative brightness DN / full scale
(255 for uint8) with `calibrated: false` and a long name that says so, and every reader of the
product (indices: chromatic coordinates) treats it as such.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
import rasterio.windows
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import ColorInterp, Resampling
from rasterio.errors import RasterioIOError
from rasterio.warp import reproject, transform_bounds
from rasterio.windows import Window

from pipelines.core.bands import ROLES, band_role
from pipelines.core.config import Sensor
from pipelines.core.errors import InputDataError
from pipelines.core.grid import FarmGrid
from pipelines.imagery.ingest.quality import ReflectanceTally
from pipelines.store import cube
from pipelines.store.windows import staged_template

RESAMPLING = {"average": Resampling.average, "bilinear": Resampling.bilinear}
COLOUR_ROLES = {ColorInterp.red: "red", ColorInterp.green: "green", ColorInterp.blue: "blue",
                ColorInterp.alpha: "alpha"}
GDAL_CACHE_MB = 128
WARP_MEMORY_MB = 64


@dataclass(frozen=True)
class OrthomosaicInfo:
    """What an orthomosaic holds, read from its header."""

    path: Path
    bands: tuple[str, ...]            # role of each data band, in file order
    band_indexes: tuple[int, ...]     # 1-based GDAL band index of each data band
    roles_from: str                   # "descriptions" | "colour interpretation" | "sensor profile"
    crs: CRS
    dtype: str
    scales: tuple[float, ...]         # reflectance = DN × scale + offset, per data band
    offsets: tuple[float, ...]
    scale_from: str                   # "gdal band scale" | "declared" | "float reflectance" | "none"
    nodata: float | None
    alpha_index: int | None           # 1-based band index of the alpha band
    width: int
    height: int
    overlap_fraction: float           # share of the farm grid's area the mosaic's footprint covers
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def saturation_dn(self) -> float | None:
        """Largest value of the integer dtype (where a DN clips), None for float data."""
        return float(np.iinfo(self.dtype).max) if np.issubdtype(np.dtype(self.dtype), np.integer) else None


def _open(path: Path):
    try:
        return rasterio.open(path)
    except RasterioIOError as exc:
        raise InputDataError(path, f"is unreadable, corrupt or truncated ({exc})",
                             "re-export the orthomosaic as GeoTIFF/COG; check the file is complete") from None


def _probe(src, path: Path) -> None:
    """Read the first and last pixel of every band: a truncated TIFF fails here, not mid-ingest."""
    try:
        for window in (Window(0, 0, 1, 1), Window(src.width - 1, src.height - 1, 1, 1)):
            src.read(window=window)
    except RasterioIOError as exc:
        raise InputDataError(path, f"is corrupt or truncated ({exc})", "copy the file again from the source") from None


def _roles(src, path: Path, sensor: Sensor | None) -> tuple[list[str], list[int], str, int | None]:
    colour = [COLOUR_ROLES.get(ci) for ci in src.colorinterp]
    described = [band_role(d) for d in src.descriptions]
    alpha = next((i + 1 for i in range(src.count) if colour[i] == "alpha" or described[i] == "alpha"), None)
    data_idx = [i for i in range(src.count) if i + 1 != alpha]
    if data_idx and all(described[i] for i in data_idx):
        roles, source = [described[i] for i in data_idx], "descriptions"
    elif data_idx and all(colour[i] for i in data_idx):
        roles, source = [colour[i] for i in data_idx], "colour interpretation"
    elif sensor is not None:
        if len(data_idx) != len(sensor.bands):
            raise InputDataError(path, f"has {len(data_idx)} data band(s) without names, sensor '{sensor.id}' has "
                                 f"{len(sensor.bands)} ({sensor.band_names})",
                                 "set band descriptions in the GeoTIFF or declare the right sensor in flight.yaml")
        roles, source = list(sensor.band_names), "sensor profile"
    else:
        labels = [src.descriptions[i] or f"band {i + 1} ({src.colorinterp[i].name})" for i in data_idx]
        raise InputDataError(path, f"band roles are unknown ({labels})",
                             "set band descriptions (blue, green, red, rededge, nir) "
                             "or declare the sensor in flight.yaml")
    if len(set(roles)) != len(roles):
        raise InputDataError(path, f"band roles repeat ({roles})", "give each band a distinct description")
    if sensor is not None and not set(roles) <= set(sensor.band_names):
        raise InputDataError(path, f"bands {sorted(set(roles) - set(sensor.band_names))} are not bands of "
                             f"sensor '{sensor.id}' ({sensor.band_names})", "declare the sensor that flew this mosaic")
    return roles, [i + 1 for i in data_idx], source, alpha


def _scales(src, data_idx: list[int], reflectance_scale: float | None,
            sensor: Sensor | None = None) -> tuple[list[float], list[float], str]:
    gdal_scales = [src.scales[i - 1] for i in data_idx]
    gdal_offsets = [src.offsets[i - 1] for i in data_idx]
    if reflectance_scale is not None:
        return [float(reflectance_scale)] * len(data_idx), [0.0] * len(data_idx), "declared"
    if any(s != 1.0 for s in gdal_scales) or any(o != 0.0 for o in gdal_offsets):
        return gdal_scales, gdal_offsets, "gdal band scale"
    dtype = np.dtype(src.dtypes[data_idx[0] - 1])
    if np.issubdtype(dtype, np.floating):
        return [1.0] * len(data_idx), [0.0] * len(data_idx), "float reflectance"
    if sensor is not None and sensor.radiometry == "dn":
        return [1.0 / float(np.iinfo(dtype).max)] * len(data_idx), [0.0] * len(data_idx), "camera dn"
    return [1.0] * len(data_idx), [0.0] * len(data_idx), "none"


def _overlap_fraction(src, grid: FarmGrid) -> float:
    west, south, east, north = transform_bounds(src.crs, grid.crs, *src.bounds, densify_pts=21)
    gw, gs, ge, gn = grid.bounds
    overlap_w, overlap_h = min(east, ge) - max(west, gw), min(north, gn) - max(south, gs)
    if overlap_w <= 0 or overlap_h <= 0:
        return 0.0
    return float(overlap_w * overlap_h / ((ge - gw) * (gn - gs)))


def inspect_orthomosaic(path: str | Path, sensor: Sensor | None, grid: FarmGrid,
                        reflectance_scale: float | None = None) -> OrthomosaicInfo:
    """Describe an orthomosaic; raise `InputDataError` naming the file when it cannot be ingested.

    Band roles come from band descriptions, else colour interpretation (RGB mosaics), else the
    sensor profile's band order. Errors: unreadable/corrupt/truncated file, no CRS, no overlap
    with the farm grid, unknown or repeated band roles, band count different from the sensor's.
    """
    path = Path(path)
    if not path.is_file():
        raise InputDataError(path, "file not found", "check the flight folder")
    with _open(path) as src:
        if src.crs is None:
            raise InputDataError(path, "has no CRS (no georeferencing)",
                                 "export the orthomosaic as a georeferenced GeoTIFF (any CRS) "
                                 "from the photogrammetry tool")
        _probe(src, path)
        roles, data_idx, roles_from, alpha = _roles(src, path, sensor)
        scales, offsets, scale_from = _scales(src, data_idx, reflectance_scale, sensor)
        overlap = _overlap_fraction(src, grid)
        if overlap == 0.0:
            raise InputDataError(path,
                                 f"does not overlap the farm grid "
                                 f"(mosaic bounds {tuple(round(b, 1) for b in src.bounds)} "
                                 f"in {src.crs.to_string()}, farm bounds {grid.bounds} in {grid.crs.to_string()})",
                                 "check the mosaic belongs to this farm and its CRS is declared correctly")
        warnings = []
        if scale_from == "none":
            warnings.append("integer DN without a declared reflectance scale; pass reflectance_scale (e.g. 0.0001 "
                            "for ODM/DJI Terra uint16 reflectance)")
        if scale_from == "camera dn":
            warnings.append(f"uncalibrated RGB camera DN ({src.dtypes[data_idx[0] - 1]}): "
                            f"stored as relative brightness "
                            f"DN/{round(1 / scales[0])}, not reflectance; RGB indices use chromatic coordinates")
        if overlap < 0.5:
            warnings.append(f"the mosaic covers only {overlap:.0%} of the farm grid")
        return OrthomosaicInfo(path, tuple(roles), tuple(data_idx), roles_from, src.crs, src.dtypes[data_idx[0] - 1],
                               tuple(scales), tuple(offsets), scale_from, src.nodata, alpha, src.width, src.height,
                               round(overlap, 6), tuple(warnings))


def _band_order(info: OrthomosaicInfo, sensor: Sensor | None) -> list[int]:
    """Positions of the data bands sorted by wavelength (sensor profile), else by canonical role order."""
    if sensor is not None:
        nm = {b.name: b.center_nm for b in sensor.bands}
        return sorted(range(len(info.bands)), key=lambda i: nm[info.bands[i]])
    return sorted(range(len(info.bands)), key=lambda i: ROLES.index(info.bands[i]))


def _grid_windows(grid: FarmGrid, info: OrthomosaicInfo, window_px: int):
    with rasterio.open(info.path) as src:
        west, south, east, north = transform_bounds(src.crs, grid.crs, *src.bounds, densify_pts=21)
    inverse = ~grid.transform
    col0, row0 = inverse @ (west, north)
    col1, row1 = inverse @ (east, south)
    c0, r0 = max(0, int(np.floor(col0))), max(0, int(np.floor(row0)))
    c1, r1 = min(grid.width, int(np.ceil(col1))), min(grid.height, int(np.ceil(row1)))
    start_c, start_r = c0 - c0 % window_px, r0 - r0 % window_px
    for row in range(start_r, r1, window_px):
        for col in range(start_c, c1, window_px):
            yield Window(col, row, min(window_px, grid.width - col), min(window_px, grid.height - row))


def _warp_window(src, info: OrthomosaicInfo, read_idx: list[int], grid: FarmGrid, window: Window,
                 resampling: Resampling) -> tuple[np.ndarray, np.ndarray]:
    """(DN (band, y, x) in the source dtype, valid mask) of one farm-grid window.

    Reads only the source window under the destination window (plus a 2-pixel margin for the
    resampling kernel) and warps it with GDAL's `reproject` on all cores; the source alpha band
    or nodata becomes a destination alpha band, so the footprint is exact without a second pass.
    """
    dst_transform = grid.transform @ Affine.translation(window.col_off, window.row_off)
    west, north = dst_transform @ (0, 0)
    east, south = dst_transform @ (window.width, window.height)
    bounds = transform_bounds(grid.crs, src.crs, west, south, east, north, densify_pts=21)
    source = rasterio.windows.from_bounds(*bounds,
                                          transform=src.transform).round_offsets(op="floor").round_lengths(op="ceil")
    source = Window(source.col_off - 2, source.row_off - 2, source.width + 4, source.height + 4)
    dst = np.zeros((len(read_idx) + 1, window.height, window.width), dtype=info.dtype)
    try:
        source = source.intersection(Window(0, 0, src.width, src.height))
    except rasterio.errors.WindowError:
        return dst[:-1], np.zeros(dst.shape[1:], dtype=bool)
    bands = read_idx + ([info.alpha_index] if info.alpha_index else [])
    try:
        data = src.read(bands, window=source)
    except RasterioIOError as exc:
        raise InputDataError(info.path, f"failed while reading ({exc})",
                             "copy the file again; it may be truncated") from None
    reproject(data, dst, src_transform=src.transform @ Affine.translation(source.col_off, source.row_off),
              src_crs=src.crs, dst_transform=dst_transform,
              dst_crs=grid.crs, resampling=resampling, src_nodata=info.nodata,
              src_alpha=len(bands) if info.alpha_index else 0, dst_alpha=len(read_idx) + 1,
              num_threads=os.cpu_count() or 1, warp_mem_limit=WARP_MEMORY_MB)
    return dst[:-1], dst[-1] > 0


def ingest_orthomosaic(path: str | Path, grid: FarmGrid, store: str | Path, group: str, sensor: Sensor | None = None,
                       reflectance_scale: float | None = None, window_px: int = 1024,
                       resampling: str = "average") -> dict:
    """Reproject an orthomosaic onto the farm grid, convert to reflectance and write `group` atomically.

    Streams destination windows of `window_px`² (source window read, warped, at most one more
    window in flight to the Zarr writer; GDAL cache and warp memory
    capped), so peak memory is bounded by the window, not the mosaic. Returns the metadata the
    asset reports: sensor, bands, method, per-band percentiles/valid/out-of-range/saturation
    fractions, overlap and timing.
    """
    import dask.array as da

    if resampling not in RESAMPLING:
        raise ValueError(f"resampling must be one of {sorted(RESAMPLING)}, not {resampling!r}")
    if window_px % cube.CHUNK_PX:
        raise ValueError(f"window_px must be a multiple of the store chunk ({cube.CHUNK_PX})")
    started = time.perf_counter()
    info = inspect_orthomosaic(path, sensor, grid, reflectance_scale)
    if info.scale_from == "none":
        raise InputDataError(info.path, f"holds integer DN ({info.dtype}) with no reflectance scale",
                             "set reflectance_scale in flight.yaml (0.0001 for ODM/DJI Terra uint16 reflectance) "
                             "or GDAL band scales in the GeoTIFF")
    order = _band_order(info, sensor)
    bands = [info.bands[i] for i in order]
    read_idx = [info.band_indexes[i] for i in order]
    scale = np.array([info.scales[i] for i in order], dtype=np.float64)[:, None, None]
    offset = np.array([info.offsets[i] for i in order], dtype=np.float64)[:, None, None]
    by_name = {b.name: b for b in sensor.bands} if sensor else {}
    calibrated = info.scale_from != "camera dn"
    method = {"declared": "DN × declared reflectance scale", "gdal band scale": "DN × GDAL band scale + offset",
              "float reflectance": "float reflectance as delivered",
              "camera dn": f"camera DN / {round(1 / info.scales[0])}: relative brightness of an uncalibrated "
                           "RGB camera, not reflectance"}[info.scale_from]
    attrs = {"units": "1", "long_name": "surface reflectance", "standard_name": "surface_bidirectional_reflectance",
             "source_file": str(info.path), "source_crs": info.crs.to_string(), "calibration_method": method,
             "sensor": sensor.id if sensor else "unknown", "resampling": resampling, "valid_range": [0.0, 1.5],
             "calibrated": calibrated}
    if not calibrated:
        del attrs["standard_name"]
        attrs["long_name"] = "relative brightness (camera DN / full scale; not reflectance)"
    template = cube.raster(da.full((len(bands), grid.height, grid.width), np.nan, dtype=np.float32,
                                   chunks=(1, cube.CHUNK_PX, cube.CHUNK_PX)), grid, "reflectance", "band", bands, attrs)
    template = template.assign_coords(
        wavelength_nm=("band", [by_name[b].center_nm if b in by_name else np.nan for b in bands], {"units": "nm"}),
        fwhm_nm=("band", [by_name[b].fwhm_nm if b in by_name else np.nan for b in bands], {"units": "nm"}),
        reflectance_scale=("band", scale[:, 0, 0]), reflectance_offset=("band", offset[:, 0, 0]),
        source_band_index=("band", np.array(read_idx, dtype=np.int32)))
    dataset = template.to_dataset()
    tally = ReflectanceTally(bands)
    saturation_dn = info.saturation_dn
    windows = 0
    with (rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB),
          staged_template(store, group, dataset, "reflectance") as target):
        with _open(info.path) as src, ThreadPoolExecutor(max_workers=1) as writer:
            pending = None
            for window in _grid_windows(grid, info, window_px):
                dn, valid = _warp_window(src, info, read_idx, grid, window, RESAMPLING[resampling])
                block = (dn * scale + offset).astype(np.float32)
                block[:, ~valid] = np.nan
                if info.nodata is not None and not np.isnan(info.nodata):
                    block[dn == info.nodata] = np.nan
                saturated = (dn >= saturation_dn) & valid if saturation_dn is not None else None
                tally.add(block, saturated)
                if pending is not None:
                    pending.result()  # at most one window waits to be compressed and written: memory stays bounded
                rows, cols = window.toslices()
                pending = writer.submit(target.__setitem__, (slice(None), rows, cols), block)
                windows += 1
            if pending is not None:
                pending.result()
    stats = tally.summary()
    grid_pixels = grid.width * grid.height
    return {
        "source_file": str(info.path), "sensor": sensor.id if sensor else None, "bands": bands,
        "method": method, "calibrated": calibrated, "reflectance_scale": [float(s) for s in scale[:, 0, 0]],
        "roles_from": info.roles_from,
        "source_crs": info.crs.to_string(), "resampling": resampling, "overlap_fraction": info.overlap_fraction,
        "valid_fraction": round(float(tally.valid.min()) / grid_pixels, 6),
        "saturation_fraction": max((s["saturation_fraction"] for s in stats.values()), default=0.0),
        "outside_0_1p5_fraction": max((s["outside_0_1p5_fraction"] for s in stats.values()), default=0.0),
        "band_stats": stats, "windows": windows, "window_px": window_px, "warnings": list(info.warnings),
        "seconds": round(time.perf_counter() - started, 3),
    }
