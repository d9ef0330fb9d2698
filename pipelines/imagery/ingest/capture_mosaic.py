"""A flight of raw captures onto the farm grid by direct georeferencing (no bundle adjustment).

Each capture is calibrated (`radiometry.calibrate_capture`, with the panel capture if given), its
bands co-registered onto a reference band (`alignment.co_register`: NIR when the camera writes
optical-centre priors, else the middle band) and placed by its own GPS/IMU metadata
(`footprint.footprint` of the reference band's file). The frames are then resampled onto the
farm grid one destination window at a time with GDAL `reproject` (average resampling: a 3–8 cm
frame pixel onto a 25 cm farm pixel); where frames overlap their reflectances are averaged, where
none covers the value is NaN. Between the two passes each frame waits on disk (.npy, read back
for the windows it covers), so memory follows the window and one frame, not the flight.

Writes `flights/<flight>/reflectance` (band, y, x) float32, reflectance 0–1, NaN = no data,
through `cube.staged_product` (all-or-nothing). Placement is metres-accurate, not centimetres
(see `footprint`); for centimetre work make an orthomosaic (OpenDroneMap) and ingest that.
"""
from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from affine import Affine
from rasterio.enums import Resampling
from rasterio.warp import reproject
from rasterio.windows import Window

from pipelines.core.config import Sensor
from pipelines.core.errors import InputDataError
from pipelines.core.grid import FarmGrid
from pipelines.imagery.ingest.alignment import co_register, optical_centre_priors
from pipelines.imagery.ingest.captures import Capture, group_captures
from pipelines.imagery.ingest.footprint import REFIT, Footprint, footprint
from pipelines.imagery.ingest.quality import ReflectanceTally
from pipelines.imagery.ingest.radiometry import calibrate_capture
from pipelines.store import cube
from pipelines.store.windows import staged_template

METHOD = "direct georeferencing from GPS/IMU; no bundle adjustment"
NOT_REFLECTIVE = ("lwir", "panchro")


@dataclass(frozen=True)
class Frame:
    """One calibrated, co-registered capture parked on disk, with its place on the farm grid."""

    capture_id: str
    npy: Path
    place: Footprint
    box: tuple[int, int, int, int]    # col0, row0, col1, row1 on the farm grid (end-exclusive)


def _grid_box(transform: Affine, shape: tuple[int, int], grid: FarmGrid) -> tuple[int, int, int, int] | None:
    height, width = shape
    inverse = ~grid.transform
    cols, rows = zip(*(inverse @ (transform @ corner) for corner in ((0, 0), (width, 0), (0, height), (width, height))))
    c0, r0 = max(0, int(np.floor(min(cols)))), max(0, int(np.floor(min(rows))))
    c1, r1 = min(grid.width, int(np.ceil(max(cols)))), min(grid.height, int(np.ceil(max(rows))))
    return (c0, r0, c1, r1) if c1 > c0 and r1 > r0 else None


def _windows(boxes: list[tuple[int, int, int, int]], grid: FarmGrid, window_px: int):
    c0, r0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    c1, r1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    for row in range(r0 - r0 % window_px, r1, window_px):
        for col in range(c0 - c0 % window_px, c1, window_px):
            yield Window(col, row, min(window_px, grid.width - col), min(window_px, grid.height - row))


def _reference(capture: Capture) -> tuple[str, dict]:
    images = [im for im in capture.images if im.band not in NOT_REFLECTIVE]
    priors = optical_centre_priors(images)
    return ("nir" if priors else images[len(images) // 2].band), priors


def _mosaic_window(frames: list[Frame], n_bands: int, grid: FarmGrid, window: Window) -> np.ndarray:
    """Average of every frame covering `window` (band, y, x) float32, NaN where none does."""
    shape = (n_bands, window.height, window.width)
    total, count = np.zeros(shape, np.float64), np.zeros(shape, np.uint16)
    dst_transform = grid.transform @ Affine.translation(window.col_off, window.row_off)
    for frame in frames:
        c0, r0, c1, r1 = frame.box
        if (c1 <= window.col_off or c0 >= window.col_off + window.width
                or r1 <= window.row_off or r0 >= window.row_off + window.height):
            continue
        warped = np.full(shape, np.nan, np.float32)
        reproject(np.load(frame.npy), warped, src_transform=frame.place.transform, src_crs=grid.crs, src_nodata=np.nan,
                  dst_transform=dst_transform, dst_crs=grid.crs, dst_nodata=np.nan, resampling=Resampling.average,
                  num_threads=os.cpu_count() or 1)
        seen = np.isfinite(warped)
        total[seen] += warped[seen]
        count += seen
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan).astype(np.float32)


def _mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(float(np.mean(values)), 6) if values else None


@dataclass
class CaptureRecord:
    """What the calibrated captures of a flight said, per band, for the product's metadata."""

    bands: list[str] = field(default_factory=list)
    methods: set[str] = field(default_factory=set)
    relative: bool = False
    skipped: list[str] = field(default_factory=list)
    irradiance: dict[str, list] = field(default_factory=dict)
    residuals: dict[str, list] = field(default_factory=dict)
    saturation: dict[str, list] = field(default_factory=dict)


def _frames(captures: list[Capture], grid: FarmGrid, scratch: Path, panel: Capture | None, panel_reflectance,
            ground_elevation_m: float | None, warnings: list[str]) -> tuple[list[Frame], CaptureRecord]:
    """Place, calibrate and co-register each capture; park the frames in `scratch`; skip the unplaceable."""
    frames, record = [], CaptureRecord()
    for capture in captures:
        reference, priors = _reference(capture)
        try:
            place = footprint(next(im for im in capture.images if im.band == reference), grid.crs, ground_elevation_m)
        except InputDataError as exc:
            warnings.append(f"capture {capture.capture_id} skipped: {exc}")
            record.skipped.append(capture.capture_id)
            continue
        result = calibrate_capture(capture, panel, panel_reflectance)
        aligned, _, band_residuals = co_register(result.reflectance, result.bands, reference, priors)
        box = _grid_box(place.transform, aligned.shape[1:], grid)
        warnings += list(place.warnings) + result.warnings
        if box is None:
            warnings.append(f"capture {capture.capture_id} skipped: its footprint lies outside the farm grid")
            record.skipped.append(capture.capture_id)
            continue
        record.bands, record.relative = result.bands, record.relative or result.relative
        record.methods.add(result.method)
        for band in result.bands:
            record.irradiance.setdefault(band, []).append(result.irradiance.get(band))
            record.residuals.setdefault(band, []).append(band_residuals.get(band))
            record.saturation.setdefault(band, []).append(result.saturation_fraction.get(band, 0.0))
        npy = scratch / f"frame-{len(frames)}.npy"
        np.save(npy, aligned)
        frames.append(Frame(capture.capture_id, npy, place, box))
    return frames, record


def ingest_captures(files: list[str | Path], grid: FarmGrid, store: cube.Store, group: str,
                    sensor: Sensor | None = None,
                    panel_files: list[str | Path] | None = None,
                    panel_reflectance: float | list[float] | dict[str, float] | None = None,
                    window_px: int = 1024, ground_elevation_m: float | None = None) -> dict:
    """Calibrate, co-register and place every capture of a flight on the farm grid; write `group` atomically.

    `ground_elevation_m` (the farm's `location.elevation_m`) turns GPS altitude into height above
    ground where the files carry no RelativeAltitude (MicaSense). A capture that cannot be
    placed (no position, altitude, yaw or focal length) is skipped with a warning naming its
    file; none placed → `InputDataError` naming the folder. Returns `ingest_orthomosaic`'s keys
    plus `captures` (placed), `captures_total`, `captures_skipped`, `calibration_method`,
    `relative`, `irradiance` (mean per band; W m⁻² nm⁻¹ for MicaSense DLS, arbitrary unit
    otherwise), `alignment_residual_px` (max per band over captures) and `footprints`.
    """
    import dask.array as da

    if window_px % cube.CHUNK_PX:
        raise ValueError(f"window_px must be a multiple of the store chunk ({cube.CHUNK_PX})")
    started = time.perf_counter()
    files = [Path(f) for f in files]
    folder = files[0].parent if files else Path("<captures>")
    captures = group_captures(files)
    if sensor is not None and captures[0].sensor.id != sensor.id:
        raise InputDataError(folder, f"the files are from '{captures[0].sensor.id}', the flight declares '{sensor.id}'",
                             "declare the camera that took the files in flight.yaml")
    sensor = captures[0].sensor
    panel = group_captures(panel_files)[0] if panel_files else None
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="saqi-frames-") as scratch:
        frames, record = _frames(captures, grid, Path(scratch), panel, panel_reflectance, ground_elevation_m, warnings)
        if not frames:
            reasons = "; ".join(w for w in warnings if "skipped" in w)[:600]
            raise InputDataError(folder,
                                 f"none of the {len(captures)} capture(s) can be placed on the farm grid ({reasons})",
                                 REFIT)
        from_gps = [f.place.altitude_m for f in frames if f.place.altitude_from.startswith("GPS")]
        if from_gps:
            warnings.append(f"height above ground of {len(from_gps)} capture(s) = {frames[0].place.altitude_from} "
                            f"({min(from_gps):.1f}–{max(from_gps):.1f} m; no RelativeAltitude in the files, "
                            f"flat terrain assumed)")
        methods, bands, relative = record.methods, record.bands, record.relative
        skipped = record.skipped
        if len(methods) > 1:
            warnings.append(f"captures were calibrated differently ({sorted(methods)}); "
                            "reflectance may step between frames")
        calibration = " | ".join(sorted(methods))
        irradiance_mean = {b: _mean(v) for b, v in record.irradiance.items()}
        residual_max = {b: (max(r for r in v if r is not None) if any(r is not None for r in v) else None)
                        for b, v in record.residuals.items()}
        saturation_mean = {b: round(float(np.mean(v)), 6) for b, v in record.saturation.items()}
        by_name = {b.name: b for b in sensor.bands}
        attrs = {"units": "1", "long_name": "surface reflectance", "standard_name": "surface_bidirectional_reflectance",
                 "source_folder": str(folder), "method": METHOD, "calibration_method": calibration,
                 "relative": bool(relative), "sensor": sensor.id, "resampling": "average", "valid_range": [0.0, 1.5],
                 "captures": len(frames), "irradiance_units": "W m-2 nm-1" if sensor.metadata_layout == "micasense"
                 else "arbitrary (sensor counts)", "placement_accuracy": "metres (GNSS, compass yaw, flat terrain)"}
        template = cube.raster(da.full((len(bands), grid.height, grid.width), np.nan, dtype=np.float32,
                                       chunks=(1, cube.CHUNK_PX, cube.CHUNK_PX)), grid, "reflectance", "band", bands,
                               attrs)
        template = template.assign_coords(
            wavelength_nm=("band", [by_name[b].center_nm for b in bands], {"units": "nm"}),
            fwhm_nm=("band", [by_name[b].fwhm_nm for b in bands], {"units": "nm"}),
            irradiance=("band", [np.nan if irradiance_mean[b] is None else irradiance_mean[b] for b in bands],
                        {"units": attrs["irradiance_units"], "long_name": "mean irradiance-sensor reading"}),
            alignment_residual_px=("band", [np.nan if residual_max[b] is None else residual_max[b] for b in bands],
                                   {"units": "pixel",
                                    "long_name": "largest band-alignment residual over the captures"}))
        dataset = template.to_dataset()
        tally = ReflectanceTally(bands)
        covered, windows = 0, 0
        with staged_template(store, group, dataset, "reflectance") as target:
            for window in _windows([f.box for f in frames], grid, window_px):
                block = _mosaic_window(frames, len(bands), grid, window)
                tally.add(block)
                covered += int(np.count_nonzero(np.isfinite(block).any(axis=0)))
                rows, cols = window.toslices()
                target[:, rows, cols] = block
                windows += 1
    stats = tally.summary()
    for band in bands:
        stats[band]["saturation_fraction"] = saturation_mean[band]   # share of frame pixels at DN 65535
    grid_pixels = grid.width * grid.height
    return {
        "source_file": str(folder), "sensor": sensor.id, "bands": bands, "method": METHOD,
        "calibration_method": calibration, "relative": bool(relative), "reflectance_scale": None,
        "roles_from": "capture metadata", "source_crs": "EPSG:4326 (GNSS positions)", "resampling": "average",
        "overlap_fraction": round(covered / grid_pixels, 6),
        "valid_fraction": round(float(tally.valid.min()) / grid_pixels, 6),
        "saturation_fraction": max(saturation_mean.values(), default=0.0),
        "outside_0_1p5_fraction": max((s["outside_0_1p5_fraction"] for s in stats.values()), default=0.0),
        "band_stats": stats, "windows": windows, "window_px": window_px,
        "captures": len(frames), "captures_total": len(captures), "captures_skipped": skipped,
        "irradiance": irradiance_mean, "alignment_residual_px": residual_max,
        "footprints": [{"capture": f.capture_id, "gsd_m": f.place.gsd_m, "altitude_m": f.place.altitude_m,
                        "altitude_from": f.place.altitude_from, "yaw_deg": f.place.yaw_deg} for f in frames],
        "warnings": list(dict.fromkeys(warnings)), "seconds": round(time.perf_counter() - started, 3),
    }
