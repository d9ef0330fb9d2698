"""Imagery of one flight on the farm grid.

- `reflectance`: surface reflectance (unitless, 0–1, NaN = no data) per band (blue, green, red,
  red edge, NIR…), float32 on the farm grid (farm CRS, e.g. EPSG:32629, fixed origin and pixel
  size). Store: `<farm>.zarr/flights/<flight>/reflectance` (band, y, x). One per flight.
- `vegetation_indices`: vegetation indices of one flight, every index its bands allow (NDVI, NDRE,
  GNDVI, SAVI, …), float32, NaN where an input is missing or a denominator is zero. Store:
  `<farm>.zarr/flights/<flight>/indices` (index, y, x).
- `flight_geotiffs`: Cloud-Optimized GeoTIFF copies of the flight's reflectance, indices and class
  map for GIS users (QGIS, ArcGIS; GDAL cannot read the Zarr v3 store), one band per layer named
  after it, stamped with the Zarr product's version. Files:
  `<data_root>/<farm>.cog/<flight>/{reflectance,indices,classes}.tif`. Exported after the
  products, off the path to the flight's advice; a copy whose stamp is current is kept.

An RGB camera flight (sensor profile `radiometry: dn`) is stored as relative brightness (camera
DN / full scale, `calibrated: false`), never as reflectance; its indices (ExG, ExGR, VARI, GLI,
NGRDI) are computed on chromatic coordinates r = R/(R+G+B)…, as `saqi parcels stats` does.

How to read them: healthy irrigated canopy has red reflectance of 0.03–0.05 and NIR of 0.4–0.5
(NDVI 0.8–0.9); dry sandy soil is flat and bright (0.15–0.30 in every band, NDVI 0.1–0.2).
"""

import json
from pathlib import Path

import dagster as dg

from assets._metadata import OWNERS, number, preview, section, shown, thumbnail
from pipelines.core.config import load_sensor
from pipelines.core.keys import FlightKey
from pipelines.imagery.indices.product import write_index_product
from pipelines.imagery.indices.rgb import vigour_index
from pipelines.imagery.ingest.capture_mosaic import ingest_captures
from pipelines.imagery.ingest.orthomosaic import ingest_orthomosaic
from pipelines.imagery.preview import preview_png, preview_step
from pipelines.orchestration.partitions import flights
from pipelines.orchestration.resources import SaqiStorage
from pipelines.reports.maps import ndvi_map
from pipelines.store import cube, geotiff, windows

OUT_OF_RANGE_MAX = 0.01
SATURATION_MAX = 0.02
ALIGNMENT_MAX_PX = 1.0
PREVIEW_SIDE_PX = 400
"""Longer side of the reflectance previews (a decimated read: the sample farm's 1 600 px at step 4)."""

REFLECTANCE_CHECKS = [
    dg.AssetCheckSpec("reflectance_in_physical_range", asset="reflectance",
                      description=f"Fails when more than {OUT_OF_RANGE_MAX:.0%} of valid pixels fall outside "
                                  "reflectance 0–1.5 (wrong scale or failed calibration)."),
    dg.AssetCheckSpec("reflectance_not_saturated", asset="reflectance",
                      description=f"Fails when more than {SATURATION_MAX:.0%} of the flight is saturated in any band "
                                  "(over-exposed: bright soil or plastic mulch clipped)."),
    dg.AssetCheckSpec("bands_aligned", asset="reflectance",
                      description=f"Fails when any band's co-registration residual exceeds {ALIGNMENT_MAX_PX:.1f} px, "
                                  "or cannot be measured, in a flight of raw captures (bands seen through separate "
                                  "lenses do not overlay)."),
]


def _manifest(storage: SaqiStorage, key: FlightKey) -> dict:
    return json.loads(storage.manifest_path(key).read_text(encoding="utf-8"))


def _alignment_check(residuals: dict[str, float | None]) -> dg.AssetCheckResult:
    unmeasured = [band for band, px in residuals.items() if px is None]
    worst_band, worst = max(((b, px) for b, px in residuals.items() if px is not None), key=lambda item: item[1],
                            default=(None, 0.0))
    description = f"largest band-alignment residual {worst:.2f} px ({worst_band}), threshold {ALIGNMENT_MAX_PX:.1f} px"
    if unmeasured:
        description += f"; residual not measurable for {', '.join(unmeasured)} (too little texture)"
    return dg.AssetCheckResult(check_name="bands_aligned", passed=worst <= ALIGNMENT_MAX_PX and not unmeasured,
                               metadata={"alignment_residual_px": dg.MetadataValue.json(residuals)},
                               description=description)


@dg.asset(partitions_def=flights, group_name="imagery", owners=OWNERS["imagery"], kinds={"zarr", "xarray"},
          code_version="1", deps=["flight_manifest"], check_specs=REFLECTANCE_CHECKS,
          description=section(__doc__, "reflectance"))
def reflectance(context: dg.AssetExecutionContext, storage: SaqiStorage) -> dg.MaterializeResult:
    key = FlightKey.parse(context.partition_key)
    manifest = _manifest(storage, key)
    store = storage.store(key.farm)
    sensor = load_sensor(manifest["sensor"], Path(storage.configs))
    captures = manifest["kind"] == "captures"
    if captures:
        summary = ingest_captures([Path(manifest["folder"]) / name for name in manifest["files"]],
                                  storage.grid(key.farm), store,
                                  cube.flight_group(key, "reflectance"), sensor,
                                  ground_elevation_m=storage.farm(key.farm).location.elevation_m)
    else:
        summary = ingest_orthomosaic(Path(manifest["folder"]) / manifest["files"][0], storage.grid(key.farm), store,
                                     cube.flight_group(key, "reflectance"),
                                     sensor=sensor, reflectance_scale=manifest.get("reflectance_scale"))
    data = cube.read_product(store, cube.flight_group(key, "reflectance"))["reflectance"]
    bands = [str(b) for b in data.band.values]
    step = preview_step(data.shape[1:], PREVIEW_SIDE_PX)
    small = windows.stored_array(store, str(key), "reflectance")[:, ::step, ::step]
    out_of_range, saturated = summary["outside_0_1p5_fraction"], summary["saturation_fraction"]
    metadata = {
        "sensor": summary["sensor"], "bands": ", ".join(bands), "method": summary["method"],
        "calibrated": bool(summary.get("calibrated", True)),
        "valid_fraction": number(summary["valid_fraction"]), "saturation_fraction": number(saturated),
        "rgb_preview": preview(preview_png(small, bands, "rgb"), "RGB"),
        **({"false_colour_preview": preview(preview_png(small, bands, "false_colour"), "false colour NIR-red-green")}
           if "nir" in bands else {}),
        **{f"{band}_p50": number(s["p50"]) for band, s in summary["band_stats"].items()},
        "band_percentiles": dg.MetadataValue.json(summary["band_stats"]),
    }
    if captures:
        metadata |= {"calibration_method": summary["calibration_method"], "relative": summary["relative"],
                     "captures": summary["captures"],
                     "captures_skipped": ", ".join(summary["captures_skipped"]) or "none",
                     "irradiance": dg.MetadataValue.json(summary["irradiance"]),
                     "alignment_residual_px": dg.MetadataValue.json(summary["alignment_residual_px"]),
                     "warnings": "; ".join(summary["warnings"]) or "none"}
    checks = [
        dg.AssetCheckResult(check_name="reflectance_in_physical_range", passed=out_of_range <= OUT_OF_RANGE_MAX,
                            metadata={"fraction_outside": number(out_of_range)},
                            description=f"{out_of_range:.2%} of valid pixels outside reflectance 0–1.5"),
        dg.AssetCheckResult(check_name="reflectance_not_saturated", passed=saturated <= SATURATION_MAX,
                            metadata={"saturated_fraction": number(saturated)},
                            description=f"reflectance saturated on {saturated:.1%} of the flight"),
        _alignment_check(summary["alignment_residual_px"]) if captures else dg.AssetCheckResult(
            check_name="bands_aligned", passed=True,
            description="orthomosaic: bands already co-registered by the photogrammetry tool"),
    ]
    return dg.MaterializeResult(metadata=shown(metadata), check_results=checks)


@dg.asset(partitions_def=flights, group_name="imagery", owners=OWNERS["imagery"], kinds={"zarr", "numexpr"},
          code_version="1", deps=[reflectance], description=section(__doc__, "vegetation_indices"))
def vegetation_indices(context: dg.AssetExecutionContext, storage: SaqiStorage) -> dg.MaterializeResult:
    key = FlightKey.parse(context.partition_key)
    store = storage.store(key.farm)
    summary = write_index_product(store, str(key))
    grid = storage.grid(key.farm)
    step = preview_step(grid.shape, 480)
    ndvi = (windows.plane(windows.stored_array(store, str(key), "indices"), summary.names.index("ndvi"))[::step, ::step]
            if "ndvi" in summary.names else None)
    return dg.MaterializeResult(metadata=shown({
        "indices": ", ".join(summary.names), "computed_on": summary.computed_on,
        "vigour_index": vigour_index(summary.names) or "none",
        "not_computed": dg.MetadataValue.json(summary.skipped),
        **{f"{name}_mean": number(v) for name, v in summary.means.items()},
        **({"ndvi_thumbnail": thumbnail(lambda px: ndvi_map(ndvi, grid.resolution_m * step, max_side_px=px,
                                                           decorated=False).png, "NDVI")}
           if ndvi is not None else {}),
        **({"ndvi_preview": preview(ndvi_map(ndvi, grid.resolution_m * step, max_side_px=480).png, "NDVI")}
           if ndvi is not None else {}),
    }))


@dg.asset(partitions_def=flights, group_name="imagery", owners=OWNERS["imagery"], kinds={"geotiff", "gdal"},
          code_version="1", deps=[reflectance, vegetation_indices, "crop_segmentation"],
          description=section(__doc__, "flight_geotiffs"))
def flight_geotiffs(context: dg.AssetExecutionContext, storage: SaqiStorage) -> dg.MaterializeResult:
    key = FlightKey.parse(context.partition_key)
    store = storage.store(key.farm)
    written = geotiff.export_flight(store, str(key))
    paths = {product: geotiff.geotiff_path(store, str(key), product) for product in written}
    sizes = {product: Path(path).stat().st_size / 1e6 for product, path in paths.items()
             if not isinstance(path, str) and Path(path).exists()}
    return dg.MaterializeResult(metadata=shown({
        "products": ", ".join(written) or "none",
        "written": ", ".join(p for p, fresh in written.items() if fresh) or "none (all current)",
        **{f"{product}_path": str(path) for product, path in paths.items()},
        **{f"{product}_mb": number(size) for product, size in sizes.items()},
    }))
