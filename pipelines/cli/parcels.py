"""`saqi parcels stats RASTER PARCELS -o OUT.csv [--index exg,ndvi] [--bands ...] [--repair-geometries]`
and `saqi parcels zones RASTER PARCELS -o OUTDIR [--index ndvi] [--zones 3] [--min-area-m2 200] [--rule irrigation]`."""
from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.cli.indices import _names


def register(subparsers) -> None:
    cmd = subparsers.add_parser("parcels", help="per-parcel statistics of vegetation indices")
    sub = cmd.add_subparsers(dest="parcels_command", required=True)
    stats = sub.add_parser("stats", help="one CSV row per parcel: id, n_pixels, area and index statistics")
    stats.add_argument("raster", type=Path, help="orthomosaic GeoTIFF (reflectance or RGB)")
    stats.add_argument("parcels", type=Path, help="GeoJSON / GeoPackage / Shapefile with parcel outlines")
    stats.add_argument("-o", "--output", type=Path, required=True, help="output CSV")
    stats.add_argument("--index", help="comma-separated index names (default: every index the bands allow)")
    stats.add_argument("--bands", help="comma-separated band roles when the raster does not name them")
    stats.add_argument("--repair-geometries", action="store_true", help="repair invalid parcel outlines")
    stats.add_argument("--id-field", help="property holding the plot id (default: first of id, ID, fid, name, plot)")
    stats.set_defaults(handler=run_stats)
    zones = sub.add_parser("zones", help="management zones per parcel and a variable-rate prescription "
                                         "(GeoJSON, Shapefile, ISOXML TASKDATA, zone raster)")
    zones.add_argument("raster", type=Path, help="orthomosaic GeoTIFF (reflectance or RGB)")
    zones.add_argument("parcels", type=Path, help="GeoJSON / GeoPackage / Shapefile with parcel outlines")
    zones.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    zones.add_argument("--index", default="ndvi", help="index the zones are drawn from (default ndvi)")
    zones.add_argument("--zones", type=int, default=3, choices=range(2, 6), help="zones per parcel, 2-5 (default 3)")
    zones.add_argument("--min-area-m2", type=float, default=200.0, help="smallest zone patch in m² (default 200)")
    zones.add_argument("--method", default="kmeans", choices=("kmeans", "natural_breaks"), help="classification")
    zones.add_argument("--rule", default="irrigation",
                       help="rate rule of configs/prescription.yaml (irrigation, nitrogen)")
    zones.add_argument("--bands", help="comma-separated band roles when the raster does not name them")
    zones.add_argument("--repair-geometries", action="store_true", help="repair invalid parcel outlines")
    zones.add_argument("--id-field", help="property holding the plot id (default: first of id, ID, fid, name, plot)")
    zones.set_defaults(handler=run_zones)


def run_stats(args: argparse.Namespace) -> int:
    from pipelines.imagery.indices.kernel import compute_indices
    from pipelines.imagery.indices.rgb import index_inputs
    from pipelines.imagery.ingest.band_raster import read_band_raster
    from pipelines.imagery.parcels.layer import load_parcels
    from pipelines.imagery.parcels.zonal import parcel_statistics

    raster = read_band_raster(args.raster, _names(args.bands))
    parcels = load_parcels(args.parcels, raster.grid, repair=args.repair_geometries, id_field=args.id_field,
                           require_attributes=False)
    for problem in parcels.problems:
        print(f"{problem.severity}: {problem}")
    values, definition = index_inputs(raster.values, raster.band_names, raster.calibrated)
    print(f"band roles from {raster.roles_from}: {raster.band_names}; indices computed on {definition}")
    result = compute_indices(values, raster.band_names, _names(args.index))
    for name, reason in result.skipped.items():
        print(f"skipped {name}: {reason}")
    table = parcel_statistics(result.values, result.names, raster.grid, parcels)
    table.to_csv(args.output, index=False, float_format="%.6g")
    print(f"wrote {args.output}: {len(table)} parcels, {len(result.names)} indices")
    return 0


def run_zones(args: argparse.Namespace) -> int:
    import rasterio

    from pipelines.core.errors import InputDataError
    from pipelines.imagery.indices.kernel import compute_indices
    from pipelines.imagery.indices.rgb import index_inputs
    from pipelines.imagery.ingest.band_raster import read_band_raster
    from pipelines.imagery.parcels.layer import load_parcels
    from pipelines.imagery.zones.delineation import management_zones
    from pipelines.imagery.zones.prescription import (
        export_prescription,
        prescription_rule,
    )

    rule = prescription_rule(args.rule)
    raster = read_band_raster(args.raster, _names(args.bands))
    parcels = load_parcels(args.parcels, raster.grid, repair=args.repair_geometries, id_field=args.id_field,
                           require_attributes=False)
    for problem in parcels.problems:
        print(f"{problem.severity}: {problem}")
    values, definition = index_inputs(raster.values, raster.band_names, raster.calibrated)
    print(f"band roles from {raster.roles_from}: {raster.band_names}; {args.index} computed on {definition}")
    result = compute_indices(values, raster.band_names, [args.index])
    if not result.names:
        raise InputDataError(args.raster, f"cannot compute {args.index}: {result.skipped[args.index.lower()]}",
                             "choose another --index or pass --bands")
    zones = management_zones(result.values[0], raster.grid, parcels, n_zones=args.zones, min_area_m2=args.min_area_m2,
                             method=args.method, index_name=result.names[0])
    for pid, note in zones.notes.items():
        print(f"parcel \"{pid}\": {note}")
    if zones.frame.empty:
        raise InputDataError(args.parcels, "no parcel could be zoned", "see the reasons above")
    written = export_prescription(zones, rule, args.output)
    grid, raster_path = raster.grid, args.output / "zones.tif"
    with rasterio.open(raster_path, "w", driver="GTiff", width=grid.width, height=grid.height, count=1, dtype="uint8",
                       crs=grid.crs, transform=grid.transform, nodata=0, compress="zstd", tiled=True) as dst:
        dst.write(zones.ranks, 1)
        dst.set_band_description(1, f"zone rank (1 = lowest {result.names[0]})")
    for fmt, path in {**written, "raster": raster_path}.items():
        print(f"wrote {fmt}: {path}")
    print(f"{zones.frame['parcel_id'].nunique()} parcels, {len(zones.frame)} zones, rule {args.rule} ({rule.unit})")
    return 0
