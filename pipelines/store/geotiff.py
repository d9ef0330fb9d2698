"""Cloud-Optimized GeoTIFF copies of a flight's rasters, for GIS users (QGIS, GDAL, ArcGIS).

GDAL 3.10 (the one in the rasterio wheel and in current QGIS builds) cannot read our Zarr v3
stores (`Unsupported codec: bytes`), so every flight raster product of `GEOTIFF_PRODUCTS`
(reflectance, indices, classes) is also exported as a COG beside the store:

    <data_root>/<farm>.cog/<flight>/<product>.tif      e.g. chtouka.cog/chtouka-20260325/indices.tif

One band per layer of the product (band description = band or index name: `nir`, `ndvi`), the
farm grid's CRS and transform, tiles of 512 px, ZSTD compression (horizontal differencing for
class codes; no predictor for reflectance and indices, see `FLOAT_PREDICTOR`), internal overviews
(average for reflectance and indices, nearest for class codes), NaN (floats) or 255 (classes) as
nodata, and the Zarr product's `saqi_version` stamp as the TIFF tag `SAQI_VERSION`: a COG and the Zarr
group carrying the same stamp hold the same pixels.

The COGs are exported from the published Zarr products by `export_flight` (the `flight_geotiffs`
asset), under each product's write lock so the pixels and the stamp belong together, into a
temporary file beside the target that is renamed into place (local) or uploaded in one PUT
(object store): a reader sees the old or the new file, never half of one. A COG whose stamp is
the product's is current and is not written again. The export is its own step, off the path
from a flight to its advice: at 100 ha (20 000² px, 5 + 16 float layers) writing the copies
costs about as much as everything else the flight does (README, scale benchmark), and a farm
waiting for irrigation advice should not wait for its GIS files.
"""
from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import numpy as np
import xarray as xr

from pipelines.core.errors import StoreError, disk_full
from pipelines.store import cube
from pipelines.store.lock import product_lock
from pipelines.store.publish import Store, is_remote, join

GEOTIFF_PRODUCTS = ("reflectance", "indices", "classes")
SUFFIX = ".cog"
VERSION_TAG = "SAQI_VERSION"
BLOCK_PX = 512
STRIP_BYTES = 64 << 20
"""Bytes of one layer's row strip read from the Zarr product and written to the plain GeoTIFF."""


ZSTD_LEVEL = 1
"""ZSTD level of the COG (the driver's default is 9)."""
FLOAT_PREDICTOR = "NO"
"""TIFF predictor of float layers. GDAL's floating-point predictor (3) made files no smaller on a
real capture (Sequoia 2018 red/NIR and three indices, ZSTD 1: 0.713 of raw with it, 0.702
without) and twice as large on the benchmark's noisy 5 cm mosaic (16 indices, 4 000²: 890 MB
against 446 MB), and cost 1.6 s of 3.7 s there: 5 cm reflectance is sensor noise in the low
mantissa bits, which byte-wise differencing cannot predict."""
GDAL_CACHE_MB = 64
"""GDAL block cache (MB) while a COG is written."""


def geotiff_root(store: Store) -> Store:
    """The COG folder of a farm store: `<data_root>/<farm>.cog` beside `<data_root>/<farm>.zarr`."""
    text = str(store).rstrip("/")
    stem = text[: -len(".zarr")] if text.endswith(".zarr") else text
    return stem + SUFFIX if is_remote(store) else Path(stem + SUFFIX)


def geotiff_path(store: Store, flight: str, product: str) -> Store:
    """Where the COG of `flights/<flight>/<product>` lives (a Path, or a URL for a remote store)."""
    root = geotiff_root(store)
    return join(str(root), flight, f"{product}.tif") if is_remote(store) else Path(root) / flight / f"{product}.tif"


def _layers(array: xr.DataArray) -> list[str]:
    if array.ndim == 2:
        return [str(array.name)]
    return [str(v) for v in array[array.dims[0]].values]


def _strip_rows(width: int, itemsize: int) -> int:
    """Rows per strip: a multiple of the tile height holding at most STRIP_BYTES of one layer."""
    return max(1, STRIP_BYTES // (BLOCK_PX * width * itemsize)) * BLOCK_PX


def _write_plain(array: xr.DataArray, path: Path, version: str) -> dict:
    """A tiled, band-interleaved, uncompressed GeoTIFF written layer by layer, strip by strip
    (memory: one strip of one layer, at most STRIP_BYTES). It is the COG driver's source, read
    once and deleted: ZSTD here took no less disk on 5 cm float layers (1 027 MB for 1 024 MB raw,
    16 indices at 4 000²) and made the file's writing, overviews and copy 13.3 s against 6.0 s."""
    import rasterio
    import rioxarray  # noqa: F401  (registers the .rio accessor)
    from rasterio.windows import Window

    classes = array.dtype == np.uint8
    height, width = array.shape[-2:]
    nodata = int(array.attrs.get("flag_values", [255])[-1]) if classes else float("nan")
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1 if array.ndim == 2 else array.shape[0],
               "dtype": str(array.dtype), "crs": array.rio.crs, "transform": array.rio.transform(), "nodata": nodata,
               "tiled": True, "blockxsize": BLOCK_PX, "blockysize": BLOCK_PX, "bigtiff": "IF_SAFER",
               "interleave": "band"}
    with rasterio.open(path, "w", **profile) as out:
        for band, name in enumerate(_layers(array), start=1):
            out.set_band_description(band, name)
        step = _strip_rows(width, array.dtype.itemsize)
        planes = [array] if array.ndim == 2 else [array[k] for k in range(array.shape[0])]
        for band, plane in enumerate(planes, start=1):
            for top in range(0, height, step):
                rows = min(step, height - top)
                out.write(np.asarray(plane[top:top + rows, :].values), band, window=Window(0, top, width, rows))
        out.update_tags(**{VERSION_TAG: version, "units": str(array.attrs.get("units", "")),
                           "long_name": str(array.attrs.get("long_name", ""))})
        if classes and "flag_meanings" in array.attrs:
            out.update_tags(flag_values=" ".join(map(str, array.attrs["flag_values"])),
                            flag_meanings=str(array.attrs["flag_meanings"]))
    return {"classes": classes}


def overview_factors(height: int, width: int, block_px: int = BLOCK_PX) -> list[int]:
    """Decimation factors 2, 4, 8… down to the first level that fits in one block, as GDAL's COG
    driver chooses them (`OVERVIEW_COUNT` default, GDAL COG driver documentation)."""
    factors, factor = [], 2
    while max(height, width) / (factor // 2) > block_px:
        factors.append(factor)
        factor *= 2
    return factors


def write_geotiff(array: xr.DataArray, target: Store, version: str) -> None:
    """Publish `array` (a (y, x) or (layer, y, x) product on the farm grid) as a COG at `target`.

    Args:
        array: the product's data variable, with rioxarray CRS and transform (lazy is fine: read
            layer by layer in strips of at most `STRIP_BYTES`).
        target: final path (Path) or URL of the `.tif`.
        version: the Zarr product's `saqi_version` stamp, stored as the `SAQI_VERSION` tag.
    """
    import rasterio.shutil
    from rasterio.enums import Resampling

    remote = is_remote(target)
    folder = Path(tempfile.mkdtemp(prefix="saqi-cog-")) if remote else Path(target).parent
    folder.mkdir(parents=True, exist_ok=True)
    plain = folder / f".{uuid.uuid4().hex}.plain.tif"
    staged = folder / f".{uuid.uuid4().hex}.cog.tif"
    try:
        # GDAL's block cache defaults to 5 % of RAM (1.2 GB here) and the COG driver fills it while
        # building overviews: cap it so a flight's publication stays within a strip's memory.
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB, GDAL_NUM_THREADS="2"):
            kind = _write_plain(array, plain, version)
            predictor, resampling = ("2", Resampling.nearest) if kind["classes"] else (FLOAT_PREDICTOR,
                                                                                        Resampling.average)
            # Overviews are built on the band-interleaved plain file and copied by the COG driver: left
            # to the driver, a 13-index flight's overviews took 200 s at 4 000² (it decodes every
            # pixel-interleaved block once per band) against 7 s here.
            with rasterio.open(plain, "r+") as dst:
                dst.build_overviews(overview_factors(dst.height, dst.width), resampling)
            # ZSTD level 1: 3.6× faster than the driver's default 9 for 12 % more bytes (16 indices, 4 000²)
            rasterio.shutil.copy(plain, staged, driver="COG", COMPRESS="ZSTD", LEVEL=ZSTD_LEVEL, PREDICTOR=predictor,
                                 BLOCKSIZE=BLOCK_PX, BIGTIFF="IF_SAFER", NUM_THREADS="2")
        if remote:
            import fsspec

            fs, path = fsspec.core.url_to_fs(str(target))
            fs.put_file(str(staged), path)
        else:
            os.replace(staged, target)
    except Exception as exc:
        if disk_full(exc, folder):
            raise StoreError(str(target), "no space left on the device while writing the GIS copy; the previous "
                             "copy is unchanged", "free disk space and materialise flight_geotiffs again") from exc
        raise
    finally:
        plain.unlink(missing_ok=True)
        staged.unlink(missing_ok=True)
        if remote:
            folder.rmdir()


def cog_version(target: Store) -> str | None:
    """The `SAQI_VERSION` stamp of the COG at `target` (None if absent, unreadable or remote)."""
    if is_remote(target) or not Path(target).exists():
        return None
    import rasterio

    try:
        with rasterio.open(target) as src:
            return src.tags().get(VERSION_TAG)
    except rasterio.errors.RasterioIOError:
        return None


def export_flight(store: Store, flight: str, products: tuple[str, ...] = GEOTIFF_PRODUCTS) -> dict[str, bool]:
    """Export the COG of each of `products` the flight has; {product: True if written, False if its
    COG was current already}. A product the flight lacks is left out.

    Raises StoreError (naming the COG) when the disk fills; the previous COG is left in place.
    """
    done: dict[str, bool] = {}
    for product in products:
        group = cube.flight_group(flight, product)
        if not cube.has_product(store, group):
            continue
        target = geotiff_path(store, flight, product)
        with product_lock(store, group):
            version = cube.product_version(store, group)
            if version is not None and cog_version(target) == version:
                done[product] = False
                continue
            write_geotiff(cube.read_product(store, group)[product], target, version or "")
        done[product] = True
    return done
