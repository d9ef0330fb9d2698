"""Probe cases of keys, landing, flight manifests, farm configuration and captures."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.reliability import inputs as make
from tests.reliability.probe import Answer, Case, call

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
