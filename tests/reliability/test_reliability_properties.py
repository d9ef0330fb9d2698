"""Property-based tests (Hypothesis) of the parsers at the edge: flight keys, flight.yaml, weather
tables, parcel layers and XMP packets. For any input, a parser either returns a value that keeps
its contract or raises the project's named `InputDataError`; never another exception."""

from __future__ import annotations

import json
import math
import string
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipelines.core.errors import InputDataError, control_characters
from tests.reliability import inputs as make

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SLOW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

key_like = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda farm, date, n, tail: f"{farm}-{date}{n}{tail}",
        st.from_regex(r"[a-z][a-z0-9_]{1,8}", fullmatch=True),
        st.from_regex(r"[0-9]{8}", fullmatch=True),
        st.sampled_from(["", "-1", "-2", "-12", "-0", "-100"]),
        st.sampled_from(["", "\n", "\r\n", " ", "\x00", "/x"]),
    ),
)


@FAST
@given(key_like)
def test_flight_key_round_trips_or_is_refused_by_name(text):
    from pipelines.core.keys import FlightKey

    try:
        key = FlightKey.parse(text)
    except InputDataError as exc:
        assert "flight key" in str(exc) or "calendar date" in str(exc)
        return
    assert str(key) == text, "an accepted key must be exactly its own text (no trailing newline, no padding)"
    assert not control_characters(text) and text.isascii()


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
manifest_dicts = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.sampled_from(["orthomosaic", "captures", "mosaic", 3, None]),
        "sensor": st.one_of(st.text(max_size=10), st.lists(st.text(max_size=3), max_size=2), st.none()),
        "captured": st.one_of(st.dates().map(str), st.text(max_size=10), st.integers()),
        "reflectance_scale": st.one_of(
            st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, 2), st.text(max_size=5)
        ),
        "files": st.one_of(
            st.lists(st.text(max_size=8), max_size=3), st.text(max_size=8), st.lists(st.integers(), max_size=2)
        ),
    },
)


@FAST
@given(
    st.one_of(
        yaml_values.map(lambda v: yaml.safe_dump(v)),
        manifest_dicts.map(lambda v: yaml.safe_dump(v)),
        st.text(max_size=60),
        st.binary(max_size=60),
    )
)
def test_flight_yaml_is_a_valid_mapping_or_refused_by_name(text):
    from pipelines.imagery.ingest.flight import declared_flight

    try:
        declared = declared_flight(text, "landing/chtouka/20260115/flight.yaml")
    except InputDataError as exc:
        assert "flight.yaml" in str(exc)
        return
    assert isinstance(declared, dict)
    scale = declared.get("reflectance_scale")
    assert scale is None or 0 < scale <= 1
    assert declared.get("kind") in (None, "orthomosaic", "captures")
    assert declared.get("files") is None or all(isinstance(f, str) for f in declared["files"])


cells = st.one_of(
    st.floats(-100, 400), st.just(math.nan), st.sampled_from(["", "abc", "12,5", "-3,25", "n/a", " 7 ", "1e3", "inf"])
)


@SLOW
@given(st.lists(cells, min_size=12, max_size=12), st.lists(cells, min_size=12, max_size=12))
@example(  # found by Hypothesis: every tmax day missing, out of range or below tmin left an all-NaN column
    tmin=[0.0, 1.0, 0.0, math.nan, 1.0, math.nan, math.nan, 1.0, math.nan, math.nan, 0.0, 0.0],
    tmax=[math.nan, 0.0, math.nan, 55.0, 0.0, -26.0, math.nan, 0.0, 55.0, math.nan, math.nan, -1.0])
def test_weather_table_is_plausible_and_flagged_or_refused_by_name(tmin, tmax):
    from models.irrigation.weather import RANGES, weather_table

    frame = make.weather_frame(12).astype(object)
    frame["tmin_c"], frame["tmax_c"] = tmin, tmax
    try:
        table = weather_table(frame, "weather.csv", 30.2)
    except InputDataError as exc:
        assert str(exc).startswith("weather.csv")
        return
    for column in ("tmin_c", "tmax_c"):
        low, high = RANGES[column]
        assert table[column].notna().all() and table[column].between(low, high, inclusive="left").all()
    assert (table["tmax_c"] >= table["tmin_c"] - 1e-9).all() or table["flags"].str.contains("tmax<tmin").any()
    for day, raw in enumerate(tmax):  # every cell that was not a plain number is flagged on its day
        if isinstance(raw, str) and raw.strip() and not raw.strip().lstrip("-").replace(".", "", 1).isdigit():
            assert table["flags"].iloc[day] != "", (raw, table["flags"].iloc[day])
        if isinstance(raw, float) and math.isfinite(raw) and RANGES["tmax_c"][0] <= raw < RANGES["tmax_c"][1]:
            if "tmax" not in table["flags"].iloc[day]:
                assert table["tmax_c"].iloc[day] == pytest.approx(raw)


ids = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=6),
    st.text(max_size=6),
    st.none(),
    st.integers(0, 99),
)
features = st.lists(st.tuples(ids, st.floats(-30, 30), st.floats(-30, 30), st.floats(0, 12)), min_size=0, max_size=5)


@SLOW
@given(features)
def test_parcel_layer_names_every_unusable_parcel_or_is_refused(tmp_path_factory, items):
    import rasterio.crs
    from rasterio.transform import from_origin

    from pipelines.core.grid import FarmGrid
    from pipelines.imagery.parcels.layer import load_parcels

    tmp = tmp_path_factory.mktemp("parcels")
    grid = FarmGrid(rasterio.crs.CRS.from_epsg(32629), from_origin(*make.ORIGIN, 1.0, 1.0), 20, 20)
    path = make.parcels(tmp / "parcels.geojson", [make.parcel_feature(pid, x, y, size) for pid, x, y, size in items])
    try:
        parcels = load_parcels(path, grid)
    except InputDataError as exc:
        assert "parcels.geojson" in str(exc)
        return
    assert len(parcels.frame) == len(items)
    written = [str(pid) if pid is not None else None for pid, *_ in items]
    for pid in written:
        if pid is not None and control_characters(pid):
            assert pid in parcels.unusable, f"{pid!r} usable"
    for pid in parcels.ids:
        if pid not in parcels.unusable:
            assert not control_characters(pid)
    assert all(str(p).startswith("parcel ") for p in parcels.problems)


@FAST
@given(st.text(max_size=20), st.sampled_from(["Irradiance", "SensorGain", "GpsLatitude", "BandName", "CaptureId"]))
def test_xmp_values_are_numbers_where_numbers_are_read(value, tag):
    from pipelines.imagery.ingest.xmp import NUMERIC, numbers, parse_xmp

    packet = (
        make.xmp_packet(extra=f'xmlns:T="http://x/" T:{tag}={quoteattr(value)}')
        if tag not in ("Irradiance",)
        else make.xmp_packet(irradiance=value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;"))
    )
    try:
        parsed = parse_xmp(packet, "IMG_0001_4.tif")
    except InputDataError as exc:
        assert "IMG_0001_4.tif" in str(exc)
        return
    for key in NUMERIC:
        if key in parsed:
            assert all(math.isfinite(v) for v in numbers(parsed[key]))


@FAST
@given(st.binary(max_size=200))
def test_any_bytes_as_xmp_are_parsed_or_refused(packet):
    from pipelines.imagery.ingest.xmp import parse_xmp

    try:
        assert isinstance(parse_xmp(b"<x:xmpmeta" + packet + b"</x:xmpmeta>", "IMG.tif"), dict)
    except InputDataError as exc:
        assert "IMG.tif" in str(exc)


def test_weather_repairs_are_warnings_that_name_the_day():
    """A decimal comma and a 60 °C spike on one day: two named warnings, values read or interpolated."""
    from models.irrigation.weather import weather_table

    frame = make.weather_frame(10).astype(object)
    frame.loc[3, "tmax_c"], frame.loc[6, "tmax_c"] = "22,5", 60.0
    table = weather_table(frame, "weather.csv", 30.2)
    assert table["tmax_c"].iloc[3] == 22.5
    assert table["tmax_c"].iloc[6] == pytest.approx((float(frame.loc[5, "tmax_c"]) + float(frame.loc[7, "tmax_c"])) / 2)
    assert [w.split(": ")[1] for w in table.attrs["warnings"]] == ["2026-01-04", "2026-01-07"]
    assert json.dumps(table.attrs["warnings"])  # plain strings
    assert np.isfinite(table["tmax_c"]).all() and isinstance(table, pd.DataFrame)


@SLOW
@given(
    st.one_of(
        st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12),
        st.text(min_size=1, max_size=6),
        st.sampled_from(['P<1>&"', "\ufffe", "a\x0bb", "\U0001f600"]),
    )
)
def test_taskdata_is_well_formed_for_any_parcel_id_or_refused(tmp_path_factory, pid):
    """XML escaping: & < > " and any character XML allows in a parcel id give a well-formed
    TASKDATA.XML whose partfield carries the id unchanged; anything else is refused by name."""
    import xml.etree.ElementTree as ET

    import geopandas as gpd
    import shapely

    from pipelines.core.config import PrescriptionRule
    from pipelines.imagery.zones.taskdata import write_taskdata

    box = shapely.box(make.ORIGIN[0] + 2, make.ORIGIN[1] - 10, make.ORIGIN[0] + 10, make.ORIGIN[1] - 2)
    zones = gpd.GeoDataFrame({"parcel_id": [pid], "zone": [1], "rate": [10.0]}, geometry=[box], crs="EPSG:32629")
    outlines = gpd.GeoDataFrame({"id": [pid]}, geometry=[box], crs="EPSG:32629")
    rule = PrescriptionRule(
        product="water & <salt>",
        rate_field="rate",
        unit="mm",
        base_rate=10,
        response=0,
        min_rate=0,
        max_rate=20,
        reference="test",
    )
    try:
        path = write_taskdata(zones, outlines, rule, tmp_path_factory.mktemp("taskdata"), 'Coop "Al Khair"', "Farm <1>")
    except InputDataError as exc:
        assert "parcel id" in str(exc)
        return
    root = ET.parse(path).getroot()
    assert root.find("PFD").get("C") == pid and root.find("PDT").get("B") == "water & <salt>"
