"""Probe cases of `saqi indices` and `saqi parcels stats`: rasters and parcel layers."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.reliability import inputs as make
from tests.reliability.probe import Answer, Case, cli

# --- saqi indices / parcels stats: rasters -------------------------------------------------------


def _indices(tmp: Path, raster: Path, *extra: str) -> Answer:
    return cli("indices", str(raster), "-o", str(tmp / "out.tif"), *extra)


def _raster_cases() -> list[Case]:
    def good(tmp):
        return make.raster(tmp / "field.tif")

    def spoil(values_fn, dtype="float32", **kw):
        def build(tmp):
            values = np.stack([np.full((20, 20), v, dtype="float64") for v in make.REFLECTANCE])
            values = values_fn(values).astype(dtype)
            return make.raster(tmp / "field.tif", values, **kw)

        return build

    def truncated(tmp):
        data = good(tmp).read_bytes()
        (tmp / "field.tif").write_bytes(data[: len(data) // 3])
        return tmp / "field.tif"

    def with_bytes(content: bytes):
        def build(tmp):
            (tmp / "field.tif").write_bytes(content)
            return tmp / "field.tif"

        return build

    def saturated(fraction):
        def fn(values):
            values = np.round(values * 10_000)
            values[4].flat[: int(fraction * 400)] = 65535
            return values

        return fn

    def nan_band(values):
        values[4] = np.nan
        return values

    def zero_band(values):
        values[4] = 0
        return values

    R = "field.tif"
    table = [
        ("raster-missing", "raster file does not exist", "refused", R, lambda t: t / "field.tif", ()),
        ("raster-empty", "raster file of 0 bytes", "refused", R, with_bytes(b""), ()),
        ("raster-text", "a text file named .tif", "refused", R, with_bytes(b"not a tiff at all\n" * 20), ()),
        (
            "raster-html",
            "an HTML error page saved as .tif",
            "refused",
            R,
            with_bytes(b"<html><body>404</body></html>"),
            (),
        ),
        ("raster-truncated", "a GeoTIFF cut to a third", "refused", R, truncated, ()),
        ("raster-no-crs", "GeoTIFF without a CRS", "refused", R, lambda t: make.raster(t / "field.tif", crs=None), ()),
        (
            "raster-geographic",
            "GeoTIFF in EPSG:4326 (degrees)",
            "refused",
            R,
            lambda t: make.raster(t / "field.tif", crs="EPSG:4326"),
            (),
        ),
        (
            "bands-repeated",
            "--bands red,red,green,rededge,nir",
            "refused",
            "--bands",
            good,
            ("--bands", "red,red,green,rededge,nir"),
        ),
        ("bands-count", "--bands with 3 roles for 5 bands", "refused", R, good, ("--bands", "red,green,nir")),
        (
            "bands-unknown",
            "no band descriptions and no --bands",
            "refused",
            R,
            lambda t: make.raster(t / "field.tif", descriptions=[]),
            (),
        ),
        (
            "bands-described-twice",
            "two bands described 'red'",
            "refused",
            R,
            lambda t: make.raster(t / "field.tif", descriptions=["blue", "red", "red", "rededge", "nir"]),
            (),
        ),
        ("band-all-nan", "NIR band all NaN", "refused", "band 5", spoil(nan_band), ()),
        ("band-all-zero", "NIR band all zero", "refused", "band 5", spoil(zero_band), ()),
        (
            "band-all-nodata",
            "NIR band all equal to the nodata value",
            "refused",
            "band 5",
            spoil(lambda v: zero_band(v) - 9999 * (np.arange(5) == 4)[:, None, None], nodata=-9999),
            (),
        ),
        (
            "band-saturated",
            "uint16 NIR band saturated everywhere",
            "refused",
            "band 5",
            spoil(saturated(1.0), dtype="uint16"),
            (),
        ),
        (
            "band-partly-saturated",
            "uint16 NIR band 10 % saturated",
            "warning",
            "saturated",
            spoil(saturated(0.1), dtype="uint16"),
            (),
        ),
        ("index-unknown", "--index foo", "refused", R, good, ("--index", "foo")),
        (
            "index-impossible",
            "--index ndre on an RGB raster",
            "refused",
            R,
            lambda t: make.raster(
                t / "field.tif", np.full((3, 20, 20), 0.2, dtype="float32"), descriptions=["red", "green", "blue"]
            ),
            ("--index", "ndre"),
        ),
    ]
    cases = [
        Case(cid, "saqi indices", what, expect, names, lambda t, b=build, x=extra: _indices(t, b(t), *x))
        for cid, what, expect, names, build, extra in table
    ]
    cases.append(
        Case(
            "output-folder-missing",
            "saqi indices",
            "-o into a folder that does not exist",
            "refused",
            "out.tif",
            lambda t: cli("indices", str(good(t)), "-o", str(t / "nowhere" / "out.tif")),
        )
    )
    cases.append(
        Case(
            "catalogue-missing",
            "saqi indices",
            "--catalogue pointing at no file",
            "refused",
            "extra.yaml",
            lambda t: _indices(t, good(t), "--catalogue", str(t / "extra.yaml")),
        )
    )
    return cases


# --- saqi parcels stats: parcel layers -----------------------------------------------------------


def _stats(tmp: Path, parcels: Path) -> Answer:
    return cli("parcels", "stats", str(make.raster(tmp / "field.tif")), str(parcels), "-o", str(tmp / "stats.csv"))


def _parcel_cases() -> list[Case]:
    def text(content: str):
        def build(tmp):
            (tmp / "parcels.geojson").write_text(content)
            return tmp / "parcels.geojson"

        return build

    def features(*items):
        return lambda tmp: make.parcels(tmp / "parcels.geojson", [make.parcel_feature("P01"), *items])

    bowtie = make.parcel_feature("BOW", x0=11)
    ring = bowtie["geometry"]["coordinates"][0]
    bowtie["geometry"]["coordinates"][0] = [ring[0], ring[2], ring[1], ring[3], ring[0]]
    point = make.parcel_feature("PT", x0=11)
    point["geometry"] = {"type": "Point", "coordinates": ring[0]}
    empty = make.parcel_feature("EMPTY", x0=11)
    empty["geometry"] = None

    def shapefile_without_prj(tmp):
        import geopandas as gpd

        frame = gpd.read_file(make.parcels(tmp / "p.geojson"))
        frame.to_file(tmp / "parcels.shp")
        (tmp / "parcels.prj").unlink()
        return tmp / "parcels.shp"

    P = "parcels"
    table = [
        ("parcels-missing", "parcels file does not exist", "refused", P, lambda t: t / "parcels.geojson"),
        ("parcels-empty-file", "parcels file of 0 bytes", "refused", P, text("")),
        ("parcels-not-json", "plain text instead of GeoJSON", "refused", P, text("hello parcels")),
        ("parcels-json-list", "a JSON list", "refused", P, text("[1, 2, 3]")),
        (
            "parcels-no-features",
            "a FeatureCollection without features",
            "refused",
            P,
            lambda t: make.parcels(t / "parcels.geojson", []),
        ),
        ("parcels-no-prj", "a Shapefile without its .prj", "refused", P, shapefile_without_prj),
        (
            "parcel-id-newline",
            "a parcel id holding a line break",
            "warning",
            "control character",
            features(make.parcel_feature("P02\nX", x0=11)),
        ),
        (
            "parcel-id-nul",
            "a parcel id holding NUL",
            "warning",
            "control character",
            features(make.parcel_feature("P\x002", x0=11)),
        ),
        (
            "parcel-duplicate-id",
            "two parcels with id P01",
            "warning",
            "used by 2 features",
            features(make.parcel_feature("P01", x0=11)),
        ),
        (
            "parcel-missing-id",
            "a parcel without its id",
            "warning",
            "id",
            features(make.parcel_feature(None, x0=11)),
        ),
        ("parcel-bowtie", "a self-intersecting outline", "warning", "invalid geometry", features(bowtie)),
        ("parcel-point", "a parcel drawn as a point", "warning", "Point", features(point)),
        ("parcel-no-geometry", "a parcel with a null geometry", "warning", "EMPTY", features(empty)),
        (
            "parcel-outside",
            "a parcel 10 km away",
            "warning",
            "outside",
            features(make.parcel_feature("FAR", x0=10_000)),
        ),
        (
            "parcel-partly-outside",
            "a parcel half off the raster",
            "warning",
            "PART",
            features(make.parcel_feature("PART", x0=15)),
        ),
    ]
    return [
        Case(cid, "saqi parcels stats", what, expect, names, lambda t, b=build: _stats(t, b(t)))
        for cid, what, expect, names, build in table
    ]
