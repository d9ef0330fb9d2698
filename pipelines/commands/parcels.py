"""`saqi parcels stats RASTER PARCELS -o OUT.csv [--index exg,ndvi] [--bands ...] [--repair-geometries]`."""
from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.commands.indices import _names


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
    stats.set_defaults(handler=run_stats)


def run_stats(args: argparse.Namespace) -> int:
    from pipelines.imagery.band_raster import read_band_raster
    from pipelines.imagery.indices import compute_indices
    from pipelines.imagery.parcels import load_parcels
    from pipelines.imagery.zonal import parcel_statistics

    raster = read_band_raster(args.raster, _names(args.bands))
    parcels = load_parcels(args.parcels, raster.grid, repair=args.repair_geometries)
    for problem in parcels.problems:
        print(f"{problem.severity}: {problem}")
    result = compute_indices(raster.values, raster.band_names, _names(args.index))
    for name, reason in result.skipped.items():
        print(f"skipped {name}: {reason}")
    table = parcel_statistics(result.values, result.names, raster.grid, parcels)
    table.to_csv(args.output, index=False, float_format="%.6g")
    print(f"wrote {args.output}: {len(table)} parcels, {len(result.names)} indices")
    return 0
