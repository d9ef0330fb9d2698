"""The reliability probe: bad inputs tried at every entry point, as a careless or hostile user would.

Each case builds one bad input in a temporary folder and feeds it to one entry point. Its answer
is classified as:
- `refused`: the command exits 2 (or the library raises a `SaqiError`) with one line naming the input;
- `warning`: the run goes on and a named warning says what was repaired or left out;
and the case states which answer is right. Anything else (a traceback, another exception type, a
silent success) fails the probe. docs/errors.md holds the same table.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tests.reliability import inputs as make


@dataclass(frozen=True)
class Answer:
    kind: str  # refused | warning | silent
    text: str


@dataclass(frozen=True)
class Case:
    id: str
    entry: str
    what: str
    expect: str  # refused | warning
    names: str  # what the answer must name (file name, field, argument)
    run: Callable[[Path], Answer]


def cli(*argv: str) -> Answer:
    """Run `saqi ARGV` in-process; refused = exit 2, warning = exit 0 with a named line on stderr."""
    from pipelines.cli import main

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
    text = err.getvalue()
    assert "Traceback" not in text, text
    if code == 2:
        return Answer("refused", text)
    assert code == 0, f"exit {code}: {text}"
    return Answer("warning" if text.strip() else "silent", text)


def call(function: Callable, *args, **kwargs) -> Answer:
    """Call a library entry point: a SaqiError is a refusal, returned warnings/problems are warnings."""
    from pipelines.core.errors import SaqiError

    try:
        result = function(*args, **kwargs)
    except SaqiError as exc:
        return Answer("refused", str(exc))
    notes = result if isinstance(result, list) else []
    return Answer("warning" if notes else "silent", "\n".join(map(str, notes)))


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
            "parcel-missing-crop",
            "a parcel without its crop",
            "warning",
            "crop",
            features(make.parcel_feature("P02", x0=11, crop=None)),
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


# --- saqi irrigation et0: weather tables ---------------------------------------------------------


def _et0(tmp: Path, path: Path, lat: str = "30.2", elev: str = "95") -> Answer:
    return cli("irrigation", "et0", str(path), "--lat", lat, "--elev", elev)


def _weather_cases() -> list[Case]:
    def frame(change):
        def build(tmp):
            data = make.weather_frame().astype(object)
            change(data)
            return make.weather(tmp / "weather.csv", data)

        return build

    def raw(content: bytes):
        def build(tmp):
            (tmp / "weather.csv").write_bytes(content)
            return tmp / "weather.csv"

        return build

    def setter(row, column, value):
        def change(data):
            data.loc[row, column] = value

        return change

    def gap(data):
        data.loc[5:15, "tmax_c"] = np.nan

    W = "weather.csv"
    table = [
        ("weather-missing", "weather file does not exist", "refused", W, lambda t: t / "weather.csv"),
        ("weather-empty", "weather file of 0 bytes", "refused", W, raw(b"")),
        ("weather-header-only", "header line and no row", "refused", W, raw(b"date,tmin_c,tmax_c\n")),
        ("weather-binary", "binary garbage", "refused", W, raw(bytes(range(256)) * 4)),
        (
            "weather-latin1",
            "Latin-1 bytes (not UTF-8)",
            "refused",
            W,
            raw("date,tmin_c,tmax_c,pluie_é\n".encode("latin-1")),
        ),
        (
            "weather-semicolons",
            "semicolon-separated columns",
            "refused",
            W,
            raw(b"date;tmin_c;tmax_c\n2026-01-01;7;21\n"),
        ),
        (
            "weather-no-tmin",
            "no tmin column",
            "refused",
            "tmin_c",
            frame(lambda d: d.drop(columns="tmin_c", inplace=True)),
        ),
        ("weather-date-empty", "an empty date cell", "refused", "row 4", frame(setter(3, "date", None))),
        ("weather-date-month-13", "date 2026-13-01", "refused", "2026-13-01", frame(setter(3, "date", "2026-13-01"))),
        ("weather-date-text", "date 'yesterday'", "refused", "yesterday", frame(setter(3, "date", "yesterday"))),
        ("weather-date-twice", "one day twice", "refused", "twice", frame(setter(3, "date", "2026-01-03"))),
        (
            "weather-decimal-comma",
            "tmax '12,5' (decimal comma)",
            "warning",
            "decimal comma",
            frame(setter(3, "tmax_c", "22,5")),
        ),
        (
            "weather-text-cell",
            "tmax 'abc' in one cell",
            "warning",
            "'abc' is not a number",
            frame(setter(3, "tmax_c", "abc")),
        ),
        (
            "weather-text-column",
            "tmin column of words",
            "refused",
            "tmin_c",
            frame(lambda d: d.__setitem__("tmin_c", "cold")),
        ),
        ("weather-tmax-60", "tmax 60 °C", "warning", "tmax_c", frame(setter(3, "tmax_c", 60.0))),
        ("weather-tmax-55", "tmax 55 °C (the exclusive bound)", "warning", "tmax_c", frame(setter(3, "tmax_c", 55.0))),
        (
            "weather-tmin-48",
            "tmin 48 °C (tmax 50 °C)",
            "warning",
            "tmin_c outside",
            frame(lambda d: (setter(3, "tmin_c", 48.0)(d), setter(3, "tmax_c", 50.0)(d))),
        ),
        (
            "weather-kelvin",
            "temperatures in kelvin",
            "refused",
            "kelvin",
            frame(lambda d: d.__setitem__("tmax_c", d["tmax_c"].astype(float) + 273.15)),
        ),
        (
            "weather-rh-fraction",
            "relative humidity as fractions",
            "refused",
            "rh_min_pct",
            frame(lambda d: (d.__setitem__("rh_min_pct", 0.4), d.__setitem__("rh_max_pct", 0.85))),
        ),
        ("weather-gap", "tmax missing 11 days running", "refused", "11 days", frame(gap)),
        (
            "weather-wind-no-height",
            "wind without anemometer height",
            "refused",
            "wind_height_m",
            frame(lambda d: d.drop(columns="wind_height_m", inplace=True)),
        ),
        ("weather-tmax-below-tmin", "tmax below tmin", "warning", "tmax<tmin", frame(setter(3, "tmax_c", 2.0))),
        ("weather-rain-negative", "rain -4 mm", "warning", "rain_mm", frame(setter(3, "rain_mm", -4.0))),
        (
            "weather-rain-9999",
            "rain 9999 mm (a missing-value code)",
            "warning",
            "rain_mm",
            frame(setter(3, "rain_mm", 9999.0)),
        ),
        (
            "weather-alias-twice",
            "tmax and tx both present",
            "refused",
            "both mean",
            frame(lambda d: d.__setitem__("tx", d["tmax_c"])),
        ),
        (
            "weather-solar-w-m2",
            "W/m² values in an MJ/m² column",
            "refused",
            "solar_mj_m2",
            frame(lambda d: d.__setitem__("solar_mj_m2", 250.0)),
        ),
        ("weather-rh-140", "RH max 140 %", "warning", "rh_max_pct", frame(setter(3, "rh_max_pct", 140.0))),
        (
            "weather-day-missing",
            "a day left out",
            "warning",
            "day missing",
            frame(lambda d: d.drop(index=4, inplace=True)),
        ),
    ]
    cases = [
        Case(cid, "saqi irrigation et0", what, expect, names, lambda t, b=build: _et0(t, b(t)))
        for cid, what, expect, names, build in table
    ]
    good = frame(lambda d: None)
    for cid, lat, elev, names in (
        ("lat-200", "200", "95", "--lat"),
        ("lat-text", "north", "95", "--lat"),
        ("lat-nan", "nan", "95", "--lat"),
        ("elev-90km", "30", "90000", "--elev"),
        ("elev-inf", "30", "inf", "--elev"),
    ):
        cases.append(
            Case(
                cid,
                "saqi irrigation et0",
                f"--lat {lat} --elev {elev}",
                "refused",
                names,
                lambda t, la=lat, el=elev: _et0(t, good(t), la, el),
            )
        )
    cases.append(
        Case(
            "plan-date-bad",
            "saqi irrigation plan",
            "--date 2026-02-30",
            "refused",
            "--date",
            lambda t: cli("irrigation", "plan", "--farm", "chtouka", "--date", "2026-02-30"),
        )
    )
    cases.append(
        Case(
            "plan-farm-newline",
            "saqi irrigation plan",
            "--farm 'chtouka\\n'",
            "refused",
            "chtouka",
            lambda t: cli("irrigation", "plan", "--farm", "chtouka\n", "--date", "2026-01-15", "--data-root", str(t)),
        )
    )
    return cases


# --- flight keys ---------------------------------------------------------------------------------


def _key_cases() -> list[Case]:
    from pipelines.core.keys import FlightKey, farm_id

    keys = [
        ("key-trailing-newline", "chtouka-20260115\n"),
        ("key-upper", "Chtouka-20260115"),
        ("key-short-date", "chtouka-2026011"),
        ("key-feb-30", "chtouka-20260230"),
        ("key-traversal", "../etc-20260115"),
        ("key-number-0", "chtouka-20260115-0"),
        ("key-number-100", "chtouka-20260115-100"),
        ("key-arabic-digits", "chtouka-٢٠٢٦٠١١٥"),
        ("key-empty", ""),
        ("key-nul", "chtouka-20260115\x00"),
        ("key-space", " chtouka-20260115"),
        ("key-slash", "chtouka/x-20260115"),
    ]
    cases = [
        Case(
            cid,
            "FlightKey.parse",
            repr(key),
            "refused",
            "calendar date" if cid == "key-feb-30" else "flight key",
            lambda t, k=key: call(FlightKey.parse, k),
        )
        for cid, key in keys
    ]
    folders = [("folder-newline", "20260115\n"), ("folder-dashes", "2026-01-15"), ("folder-month-13", "20261315")]
    cases += [
        Case(
            cid,
            "FlightKey.from_folder",
            repr(name),
            "refused",
            repr(name)[1:-1][:8],
            lambda t, n=name: call(FlightKey.from_folder, "chtouka", n),
        )
        for cid, name in folders
    ]
    farms = [("farm-newline", "chtouka\n"), ("farm-one-letter", "a"), ("farm-dotdot", ".."), ("farm-none", None)]
    cases += [
        Case(cid, "farm_id", repr(name), "refused", "farm id", lambda t, n=name: call(farm_id, n))
        for cid, name in farms
    ]
    return cases


# --- landing scan and flight manifest: flight.yaml -----------------------------------------------


def _landing(tmp: Path, manifest: str | bytes | None, folder: str = "20260115") -> Answer:
    from pipelines.orchestration.landing import scan_landing

    flight = tmp / "landing" / "chtouka" / folder
    flight.mkdir(parents=True)
    (flight / "orthomosaic.tif").write_bytes(b"II*\x00" + b"\x00" * 64)
    if manifest is not None:
        (flight / "flight.yaml").write_bytes(manifest.encode() if isinstance(manifest, str) else manifest)
    scan = scan_landing(tmp / "landing", ["chtouka"])
    if scan.refused:
        return Answer("refused", "\n".join(scan.refused.values()))
    [landed] = scan.flights
    assert not landed.complete, f"{landed.key} called complete"
    return Answer("refused", "\n".join(landed.missing))


def _manifest(tmp: Path, manifest: str) -> Answer:
    from pipelines.core.config import load_farm
    from pipelines.imagery.ingest.flight import read_flight_folder

    folder = tmp / "20260115"
    folder.mkdir()
    make.raster(folder / "orthomosaic.tif")
    (folder / "flight.yaml").write_text(manifest)
    result = read_flight_folder(folder, load_farm("chtouka"))
    assert result.quarantined, "flight accepted"
    return Answer("refused", result.reason)


def _flight_cases() -> list[Case]:
    bad = [
        ("yaml-list", "- kind: orthomosaic\n- sensor: x\n", "not a mapping"),
        ("yaml-string", "orthomosaic\n", "not a mapping"),
        ("yaml-number", "42\n", "not a mapping"),
        ("yaml-broken", "kind: [orthomosaic\n", "YAML"),
        ("yaml-files-string", "files: orthomosaic.tif\n", "files"),
        ("yaml-files-missing", "files: [other.tif]\n", "other.tif"),
        ("yaml-scale-zero", "reflectance_scale: 0\n", "reflectance_scale"),
        ("yaml-scale-negative", "reflectance_scale: -0.0001\n", "reflectance_scale"),
        ("yaml-scale-text", "reflectance_scale: tiny\n", "reflectance_scale"),
        ("yaml-kind-unknown", "kind: mosaic\n", "kind"),
        ("yaml-captured-text", "captured: yesterday\n", "captured"),
        ("yaml-sensor-list", "sensor: [a, b]\n", "sensor"),
    ]
    cases = [
        Case(f"landing-{cid}", "landing scan", text.strip(), "refused", names, lambda t, m=text: _landing(t, m))
        for cid, text, names in bad
    ]
    cases.append(
        Case(
            "landing-yaml-binary",
            "landing scan",
            "flight.yaml of binary bytes",
            "refused",
            "flight.yaml",
            lambda t: _landing(t, b"\xff\xfe\x00kind"),
        )
    )
    cases.append(
        Case(
            "landing-folder-newline",
            "landing scan",
            "folder '20260115\\n'",
            "refused",
            "20260115",
            lambda t: _landing(t, None, "20260115\n"),
        )
    )
    cases += [
        Case(f"manifest-{cid}", "flight manifest", text.strip(), "refused", names, lambda t, m=text: _manifest(t, m))
        for cid, text, names in bad
        if cid in ("yaml-list", "yaml-string", "yaml-scale-zero", "yaml-captured-text")
    ]
    return cases


# --- configuration -------------------------------------------------------------------------------


def _config_cases() -> list[Case]:
    from pipelines.core.config import load_farm

    def load(farm_id="chtouka", **changes):
        def run(tmp):
            make.farm_yaml(tmp, **({"farm_id": farm_id} if farm_id != "chtouka" else {}), **changes)
            return call(load_farm, farm_id, tmp)

        return run

    def listed(tmp):
        path = make.farm_yaml(tmp)
        path.write_text("- id: chtouka\n")
        return call(load_farm, "chtouka", tmp)

    table = [
        ("farm-yaml-list", "farm.yaml holding a list", "mapping", listed),
        ("farm-lat-200", "location.lat_deg 200", "lat_deg", load(**{"location.lat_deg": 200})),
        ("farm-geographic-grid", "grid CRS EPSG:4326", "crs", load(**{"grid.crs": "EPSG:4326"})),
        ("farm-resolution-0", "grid resolution 0 m", "resolution_m", load(**{"grid.resolution_m": 0})),
        ("farm-season-reversed", "season ending before it starts", "season", load(**{"season.end": "2025-01-01"})),
        (
            "farm-email-bad",
            "cooperative e-mail 'bureau at alkhair'",
            "email",
            load(**{"cooperative.email": "bureau at alkhair"}),
        ),
        (
            "farm-email-injection",
            "cooperative e-mail with CR LF Bcc:",
            "email",
            load(**{"cooperative.email": "a@coop.ma\r\nBcc: all@x.ma"}),
        ),
        (
            "farm-email-two",
            "two addresses in one field",
            "email",
            load(**{"cooperative.email": "a@coop.ma, b@coop.ma"}),
        ),
        (
            "farm-coop-newline",
            "cooperative name with a line break",
            "name",
            load(**{"cooperative.name": "Al Khair\nSubject: x"}),
        ),
        ("farm-name-control", "farm name with an escape character", "name", load(**{"name": "Bloc\x1b[31m"})),
        ("farm-no-grid", "no grid", "grid", load(grid=None)),
        ("farm-unknown-field", "a misspelt field 'sensr'", "sensr", load(sensr="x")),
        (
            "farm-id-mismatch",
            "id differing from the folder",
            "id",
            lambda t: (make.farm_yaml(t, "other", id="chtouka"), call(load_farm, "other", t))[1],
        ),
        ("farm-id-newline", "load_farm('chtouka\\n')", "chtouka", lambda t: call(load_farm, "chtouka\n", t)),
    ]
    return [Case(cid, "farm configuration", what, "refused", names, run) for cid, what, names, run in table]


# --- captures: XMP and EXIF ----------------------------------------------------------------------


def _capture_cases() -> list[Case]:
    from pipelines.imagery.ingest.captures import read_band_image
    from pipelines.imagery.ingest.xmp import parse_xmp

    def band(**kw):
        return lambda tmp: call(read_band_image, make.band_file(tmp / "IMG_0001_4.tif", **kw))

    packet = make.xmp_packet
    table = [
        ("xmp-irradiance-text", "XMP Irradiance 'abc'", "Irradiance", band(xmp=packet(irradiance="abc"))),
        ("xmp-irradiance-nan", "XMP Irradiance 'NaN'", "Irradiance", band(xmp=packet(irradiance="NaN"))),
        ("xmp-gain-text", "XMP SensorGain 'x'", "SensorGain", band(xmp=packet(extra='MicaSense:SensorGain="x"'))),
        (
            "xmp-gps-text",
            "XMP GpsLatitude 'north'",
            "GpsLatitude",
            band(
                xmp=packet(
                    extra='xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/" drone-dji:GpsLatitude="north" '
                    'drone-dji:GpsLongitude="-9.3"'
                )
            ),
        ),
        ("xmp-dtd", "XMP declaring a DTD", "DTD", band(xmp=b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + packet())),
        ("xmp-malformed", "XMP cut in the middle", "not well-formed", band(xmp=packet()[:-40] + b"</x:xmpmeta>")),
        ("exif-date-text", "EXIF DateTime 'yesterday'", "DateTime", band(stamp="yesterday")),
        ("exif-exposure-zero", "EXIF ExposureTime 0/1000000", "ExposureTime", band(exposure=(0, 1_000_000))),
        ("exif-exposure-div0", "EXIF ExposureTime 4000/0", "ExposureTime", band(exposure=(4000, 0))),
        ("exif-iso-zero", "EXIF ISO 0", "ISOSpeedRatings", band(iso=0)),
        (
            "band-file-text",
            "a text file named .tif",
            "IMG_0001_4.tif",
            lambda t: ((t / "IMG_0001_4.tif").write_text("no"), call(read_band_image, t / "IMG_0001_4.tif"))[1],
        ),
        (
            "band-file-rgb8",
            "an 8-bit RGB JPEG-like TIFF",
            "16-bit",
            lambda t: (
                __import__("tifffile").imwrite(t / "IMG_0001_4.tif", np.zeros((8, 8, 3), np.uint8)),
                call(read_band_image, t / "IMG_0001_4.tif"),
            )[1],
        ),
    ]
    cases = [Case(cid, "read_band_image", what, "refused", names, run) for cid, what, names, run in table]
    billion = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&lol2;</x:xmpmeta>'
    )
    cases.append(
        Case(
            "xmp-billion-laughs",
            "parse_xmp",
            "entity expansion bomb",
            "refused",
            "entities",
            lambda t: call(parse_xmp, billion, "IMG_0001_4.tif"),
        )
    )

    def below_black(tmp):
        from pipelines.imagery.ingest.captures import group_captures
        from pipelines.imagery.ingest.radiometry import calibrate_capture

        paths = []
        for index, name in enumerate(["Blue", "Green", "Red", "NIR", "Red edge"], start=1):
            dn = np.full((24, 32), 20_000, dtype=np.uint16)
            dn[:4] = 4000  # under BlackLevel 4800
            paths.append(make.band_file(tmp / f"IMG_0001_{index}.tif", xmp=packet(band=name), dn=dn))
        result = calibrate_capture(group_captures(paths)[0])
        assert np.nanmin(result.reflectance) >= 0.0, "negative reflectance below the black level"
        return Answer("warning", "\n".join(w for w in result.warnings if "black level" in w))

    cases.append(
        Case(
            "dn-below-black-level",
            "calibrate_capture",
            "DN 4000 under black level 4800",
            "warning",
            "black level",
            below_black,
        )
    )
    return cases


# --- delivery ------------------------------------------------------------------------------------


def _delivery_cases() -> list[Case]:
    from pipelines.reports.delivery import RetryPolicy, SmtpSettings, deliver_all, delivery_log
    from pipelines.reports.model import Cooperative
    from pipelines.reports.render import RenderedReport

    env = {"SAQI_SMTP_HOST": "127.0.0.1", "SAQI_SMTP_TLS": "starttls", "SAQI_SMTP_FROM": "rapports@saqi.example"}

    def settings(**changes):
        return lambda tmp: call(SmtpSettings.from_env, {**env, **changes})

    def report(tmp, subject="Bulletin", email="bureau@coop.example"):
        pdf, html = tmp / "r.pdf", tmp / "r.html"
        pdf.write_bytes(b"%PDF-1.4\n")
        html.write_text("<p>r</p>")
        rendered = RenderedReport(html, pdf, subject, "fr")
        records = deliver_all(
            [(rendered, Cooperative("Coop", "Souss-Massa", "Chtouka", email))],
            tmp / "outbox",
            smtp=SmtpSettings("127.0.0.1", 9, "none", "rapports@saqi.example", timeout_s=1),
            retry=RetryPolicy(attempts=1),
            sleep=lambda s: None,
        )
        raise AssertionError(f"sent or queued: {records}")

    def refused_report(**kw):
        def run(tmp):
            answer = call(report, tmp, **kw)
            assert not (tmp / "outbox").exists() or not any((tmp / "outbox").rglob("*.jsonl")), "logged before refusal"
            return answer

        return run

    def damaged_log(tmp):
        folder = tmp / "outbox" / "Coop"
        folder.mkdir(parents=True)
        good = {
            "report": "r.pdf",
            "cooperative": "Coop",
            "outbox_dir": str(folder),
            "files": [],
            "subject": "s",
            "language": "fr",
            "recipient": None,
            "status": "failed",
        }
        (folder / "deliveries.jsonl").write_text(json.dumps(good) + "\n" + '{"report": "cut sh')
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        logging.getLogger("pipelines.reports.delivery").addHandler(handler)
        try:
            records = delivery_log(tmp / "outbox")
        finally:
            logging.getLogger("pipelines.reports.delivery").removeHandler(handler)
        assert [r.report for r in records] == ["r.pdf"]
        return Answer("warning", stream.getvalue())

    table = [
        (
            "smtp-password-in-clear",
            "SAQI_SMTP_TLS=none with user and password",
            "refused",
            "SAQI_SMTP_TLS",
            settings(SAQI_SMTP_TLS="none", SAQI_SMTP_USER="coop", SAQI_SMTP_PASSWORD="s3cret"),
        ),
        ("smtp-tls-typo", "SAQI_SMTP_TLS=tls1.0", "refused", "SAQI_SMTP_TLS", settings(SAQI_SMTP_TLS="tls1.0")),
        ("smtp-port-text", "SAQI_SMTP_PORT=smtp", "refused", "SAQI_SMTP_PORT", settings(SAQI_SMTP_PORT="smtp")),
        ("smtp-port-0", "SAQI_SMTP_PORT=0", "refused", "SAQI_SMTP_PORT", settings(SAQI_SMTP_PORT="0")),
        ("smtp-from-bad", "SAQI_SMTP_FROM=rapports", "refused", "SAQI_SMTP_FROM", settings(SAQI_SMTP_FROM="rapports")),
        (
            "smtp-from-injection",
            "SAQI_SMTP_FROM with CR LF",
            "refused",
            "SAQI_SMTP_FROM",
            settings(SAQI_SMTP_FROM="a@saqi.example\r\nBcc: x@y.ma"),
        ),
        (
            "smtp-cafile-missing",
            "SAQI_SMTP_CAFILE pointing at no file",
            "refused",
            "SAQI_SMTP_CAFILE",
            settings(SAQI_SMTP_CAFILE="/nonexistent/ca.pem"),
        ),
        (
            "mail-subject-crlf",
            "report subject with CR LF Bcc:",
            "refused",
            "subject",
            refused_report(subject="Bulletin\r\nBcc: everyone@x.ma"),
        ),
        (
            "mail-recipient-crlf",
            "recipient with CR LF",
            "refused",
            "email",
            refused_report(email="a@coop.ma\r\nBcc: x@y.ma"),
        ),
        ("mail-recipient-no-domain", "recipient 'bureau@'", "refused", "email", refused_report(email="bureau@")),
        (
            "mail-recipient-display",
            "recipient 'Bureau <b@coop.ma>'",
            "refused",
            "email",
            refused_report(email="Bureau <b@coop.ma>"),
        ),
        (
            "mail-recipient-list",
            "two recipients in one field",
            "refused",
            "email",
            refused_report(email="a@coop.ma,b@coop.ma"),
        ),
        (
            "delivery-log-damaged",
            "deliveries.jsonl with a cut-short last line",
            "warning",
            "deliveries.jsonl",
            damaged_log,
        ),
    ]
    return [Case(cid, "delivery", what, expect, names, run) for cid, what, expect, names, run in table]


# --- store and documents -------------------------------------------------------------------------


def _store_cases() -> list[Case]:
    from pipelines.core.grid import FarmGrid
    from pipelines.imagery.ingest.orthomosaic import ingest_orthomosaic, inspect_orthomosaic
    from pipelines.store import cube

    def grid():
        import rasterio.crs
        from rasterio.transform import from_origin

        return FarmGrid(rasterio.crs.CRS.from_epsg(32629), from_origin(*make.ORIGIN, 1.0, 1.0), 20, 20)

    def scale(value):
        def run(tmp):
            values = np.round(np.stack([np.full((20, 20), v) for v in make.REFLECTANCE]) * 10_000).astype("uint16")
            return call(inspect_orthomosaic, make.raster(tmp / "ortho.tif", values), None, grid(), value)

        return run

    def empty_mosaic(tmp):
        values = np.full((5, 20, 20), -9999, dtype="float32")
        path = make.raster(tmp / "ortho.tif", values, nodata=-9999)
        answer = call(ingest_orthomosaic, path, grid(), tmp / "farm.zarr", "flights/chtouka-20260115/reflectance")
        assert not cube.has_product(tmp / "farm.zarr", "flights/chtouka-20260115/reflectance"), "empty mosaic published"
        return answer

    def disk_full(tmp):
        import errno
        from unittest import mock

        product = cube.raster(np.ones((20, 20), "float32"), grid(), "ndvi")
        with mock.patch("xarray.Dataset.to_zarr", side_effect=OSError(errno.ENOSPC, "No space left on device")):
            answer = call(cube.write_product, tmp / "farm.zarr", "flights/chtouka-20260115/ndvi", product)
        assert list((tmp / "farm.zarr" / cube.STAGING).iterdir()) == [], "staging debris left"
        return answer

    def taskdata(pid):
        def run(tmp):
            import geopandas as gpd
            import shapely

            from pipelines.core.config import PrescriptionRule
            from pipelines.imagery.zones.taskdata import write_taskdata

            box = shapely.box(make.ORIGIN[0] + 2, make.ORIGIN[1] - 10, make.ORIGIN[0] + 10, make.ORIGIN[1] - 2)
            zones = gpd.GeoDataFrame(
                {"parcel_id": [pid], "zone": [1], "rate": [10.0]}, geometry=[box], crs="EPSG:32629"
            )
            outlines = gpd.GeoDataFrame({"id": [pid]}, geometry=[box], crs="EPSG:32629")
            rule = PrescriptionRule(
                product="water",
                rate_field="rate",
                unit="mm",
                base_rate=10,
                response=0,
                min_rate=0,
                max_rate=20,
                reference="test",
            )
            return call(write_taskdata, zones, outlines, rule, tmp / "out", "Coop", "Farm")

        return run

    return [
        Case("scale-zero", "inspect_orthomosaic", "reflectance_scale 0", "refused", "reflectance_scale", scale(0.0)),
        Case(
            "scale-nan",
            "inspect_orthomosaic",
            "reflectance_scale NaN",
            "refused",
            "reflectance_scale",
            scale(float("nan")),
        ),
        Case("scale-ten", "inspect_orthomosaic", "reflectance_scale 10", "refused", "reflectance_scale", scale(10.0)),
        Case(
            "mosaic-no-valid-pixel",
            "ingest_orthomosaic",
            "every pixel nodata",
            "refused",
            "no valid pixel",
            empty_mosaic,
        ),
        Case("disk-full", "write_product", "ENOSPC during the write", "refused", "no space left", disk_full),
        Case(
            "taskdata-control",
            "write_taskdata",
            "parcel id with a vertical tab",
            "refused",
            "parcel id",
            taskdata("P\x0b1"),
        ),
    ]


def all_cases() -> list[Case]:
    cases = (
        _raster_cases()
        + _parcel_cases()
        + _weather_cases()
        + _key_cases()
        + _flight_cases()
        + _config_cases()
        + _capture_cases()
        + _delivery_cases()
        + _store_cases()
    )
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case id"
    return cases


def frame_of(cases: list[Case]) -> pd.DataFrame:
    return pd.DataFrame([{"id": c.id, "entry": c.entry, "input": c.what, "answer": c.expect} for c in cases])
