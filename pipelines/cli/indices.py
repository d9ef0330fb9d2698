"""`saqi indices RASTER -o OUT.tif [--index ndvi,ndre] [--bands blue,green,red,rededge,nir]`."""
from __future__ import annotations

import argparse
from pathlib import Path


def _names(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def register(subparsers) -> None:
    cmd = subparsers.add_parser("indices", help="reflectance GeoTIFF → one float32 band per vegetation index")
    cmd.add_argument("raster", type=Path, help="orthomosaic GeoTIFF (reflectance or RGB)")
    cmd.add_argument("-o", "--output", type=Path, required=True, help="output GeoTIFF")
    cmd.add_argument("--index", help="comma-separated index names (default: every index the bands allow)")
    cmd.add_argument("--bands", help="comma-separated band roles when the raster does not name them")
    cmd.add_argument("--catalogue", type=Path, action="append", default=[],
                     help="extra indices.yaml merged over the catalogue")
    cmd.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import rasterio

    from pipelines.core.errors import InputDataError
    from pipelines.imagery.indices.catalogue import index_catalogue
    from pipelines.imagery.indices.kernel import compute_indices
    from pipelines.imagery.indices.rgb import index_inputs
    from pipelines.imagery.ingest.band_raster import read_band_raster

    catalogue = index_catalogue(args.catalogue)
    raster = read_band_raster(args.raster, _names(args.bands))
    values, definition = index_inputs(raster.values, raster.band_names, raster.calibrated)
    print(f"band roles from {raster.roles_from}: {raster.band_names}; indices computed on {definition}")
    result = compute_indices(values, raster.band_names, _names(args.index), catalogue=catalogue)
    for name, reason in result.skipped.items():
        print(f"skipped {name}: {reason}")
    if not result.names:
        raise InputDataError(args.raster, "none of the requested indices can be computed", "see the reasons above")
    grid = raster.grid
    profile = dict(driver="GTiff", width=grid.width, height=grid.height, count=len(result.names), dtype="float32",
                   crs=grid.crs, transform=grid.transform, nodata=float("nan"), compress="zstd", predictor=3,
                   tiled=True, blockxsize=512, blockysize=512)
    with rasterio.open(args.output, "w", **profile) as dst:
        dst.write(result.values)
        for i, name in enumerate(result.names):
            dst.set_band_description(i + 1, name)
    print(f"wrote {args.output}: {', '.join(result.names)}")
    return 0
