"""A flight of raw MicaSense captures onto the chtouka farm grid by direct georeferencing.

Six RedEdge-MX captures (MicaSense XMP layout of `test_radiometry_micasense`, plus EXIF GPS,
DLS yaw in radians, focal length and focal-plane resolution) look down from 144 m at a field of
known reflectance with a 3 m × 3 m target twice as bright. Each frame is rendered independently of
the code under test: the image's axes are turned by the camera yaw, then from true north to grid
north by the meridian convergence and scaled by the UTM scale factor that pyproj's `get_factors`
gives (the code instead walks the WGS84 ellipsoid with `Geod.fwd`).

Tolerance for the target's position: 1 farm pixel (0.25 m). The frames' pixels are 10 cm, so the
rendered square's edges are quantised to 0.1 m, average resampling onto 0.25 m blurs each edge
over one farm pixel, and the GPS is stored to 1e-4″ (3 mm); the centroid is exact to a few cm
when the model is right, while a yaw or axis error moves it by metres.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image, TiffImagePlugin
from pyproj import Proj, Transformer
from test_radiometry_micasense import BANDS, SHAPE, E, _dn, _xmp

from pipelines.core.config import configs_dir, load_farm, load_sensor
from pipelines.core.errors import InputDataError
from pipelines.core.grid import FarmGrid
from pipelines.imagery.ingest.capture_mosaic import METHOD, ingest_captures
from pipelines.store import cube

ALTITUDE_M, ELEVATION_M = 144.0, 95.0
PX_PER_MM, FOCAL_MM = 266.6667, 5.4                 # 3.75 µm pixels, as the RedEdge-MX
GSD_M = ALTITUDE_M / (FOCAL_MM * PX_PER_MM)        # 0.1 m
TARGET = (464400.0, 3342700.0, 3.0)                # centre x, y (EPSG:32629) and side, m
# camera position relative to the target centre (m, grid east/north) and yaw (° from true north)
SHOTS = [(0.0, 0.0, 0.0), (3.0, 1.5, 90.0), (-3.0, -1.0, 0.0), (2.0, -2.0, 90.0), (-2.5, 2.0, 90.0), (1.0, 3.0, 0.0)]
TRUTH = {"blue": 0.05, "green": 0.08, "red": 0.06, "rededge": 0.25, "nir": 0.45}
TO_LONLAT = Transformer.from_crs(32629, 4326, always_xy=True)


def _scene(x: float, y: float, yaw_deg: float) -> np.ndarray:
    """Reflectance multiplier (1 field, 2 target; ±3 % ground texture, mean 1, for band alignment) seen at
    each pixel centre of a frame from (x, y)."""
    lon, lat = TO_LONLAT.transform(x, y)
    factors = Proj("EPSG:32629").get_factors(lon, lat)
    k, gamma = factors.meridional_scale, factors.meridian_convergence
    rows, cols = np.indices(SHAPE, dtype=np.float64)
    right, down = (cols + 0.5 - SHAPE[1] / 2) * GSD_M, (rows + 0.5 - SHAPE[0] / 2) * GSD_M
    up_az, right_az = math.radians(yaw_deg - gamma), math.radians(yaw_deg + 90 - gamma)   # grid bearings
    east = x + k * (right * math.sin(right_az) - down * math.sin(up_az))
    north = y + k * (right * math.cos(right_az) - down * math.cos(up_az))
    cx, cy, side = TARGET
    inside = (np.abs(east - cx) < side / 2) & (np.abs(north - cy) < side / 2)
    texture = 1 + 0.01 * (np.sin(east / 0.21) + np.sin(north / 0.14) + np.sin((east + north) / 0.33))
    return np.where(inside, 2.0, 1.0) * texture


def _dms(value: float) -> tuple:
    value = abs(value)
    degrees, minutes = int(value), int(value * 60) % 60
    seconds = round((value * 3600 - degrees * 3600 - minutes * 60) * 10000)
    return (TiffImagePlugin.IFDRational(degrees, 1), TiffImagePlugin.IFDRational(minutes, 1),
            TiffImagePlugin.IFDRational(seconds, 10000))


def write_located_capture(folder, number: int, x: float | None, y: float | None, yaw_deg: float) -> list:
    """One 5-band capture with EXIF GPS (none when x is None), DLS yaw and the camera's focal geometry."""
    scene = _scene(x if x is not None else TARGET[0], y if y is not None else TARGET[1], yaw_deg)
    principal = f"{SHAPE[1] / 2 / PX_PER_MM:.6f},{SHAPE[0] / 2 / PX_PER_MM:.6f}"
    extra = (f'DLS:Yaw="{math.radians(yaw_deg):.8f}" DLS:Pitch="0.0" DLS:Roll="0.0" '
             f'Camera:PerspectiveFocalLength="{FOCAL_MM}" Camera:PerspectiveFocalLengthUnits="mm" '
             f'Camera:PrincipalPoint="{principal}"')
    paths = []
    for name, index, rho in BANDS:
        dn = _dn(rho * scene * E / np.pi, 100, 0.004)
        tags = TiffImagePlugin.ImageFileDirectory_v2()
        tags[271], tags[272], tags[306] = "MicaSense", "RedEdge-MX", "2026:01:15 11:02:03"
        tags[700] = _xmp(name, f"cap{number}", E, extra)
        tags[50714], tags[34855] = 4800, 100
        tags[33434] = TiffImagePlugin.IFDRational(4000, 1_000_000)
        tags[37386] = TiffImagePlugin.IFDRational(54, 10)
        tags[41486] = TiffImagePlugin.IFDRational(round(PX_PER_MM * 10000), 10000)
        tags[41488] = 4                                   # focal-plane resolution per millimetre
        if x is not None:
            lon, lat = TO_LONLAT.transform(x, y)
            tags[34853] = {1: "N", 2: _dms(lat), 3: "W", 4: _dms(lon), 5: 0,
                           6: TiffImagePlugin.IFDRational(round((ALTITUDE_M + ELEVATION_M) * 1000), 1000)}
        path = folder / f"IMG_{number:04d}_{index}.tif"
        Image.fromarray(dn).save(path, tiffinfo=tags)
        paths.append(path)
    return paths


def _flight(folder, without_gps: int = 0) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for number, (dx, dy, yaw) in enumerate(SHOTS, start=1):
        located = number > without_gps
        files += write_located_capture(folder, number, TARGET[0] + dx if located else None, TARGET[1] + dy, yaw)
    return files


@pytest.fixture(scope="module")
def mosaic(tmp_path_factory):
    root = tmp_path_factory.mktemp("capture_mosaic")
    farm = load_farm("chtouka")
    grid = FarmGrid.of_farm(farm)
    store = cube.farm_store(root / "data", "chtouka")
    group = cube.flight_group("chtouka-20260115", "reflectance")
    summary = ingest_captures(_flight(root / "flight", without_gps=1), grid, store, group,
                              load_sensor("micasense_rededge_mx"), window_px=512,
                              ground_elevation_m=farm.location.elevation_m)
    data = cube.load_product(store, group)["reflectance"]
    return summary, data, grid


def test_target_lands_on_its_place_on_the_farm_grid(mosaic):
    summary, data, grid = mosaic
    nir = data.sel(band="nir").values
    bright = nir > 0.45 * 1.5
    rows, cols = np.nonzero(bright)
    x, y = grid.transform @ (cols.mean() + 0.5, rows.mean() + 0.5)
    assert math.hypot(x - TARGET[0], y - TARGET[1]) < grid.resolution_m          # within one farm pixel
    assert bright.sum() * grid.pixel_area_m2 == pytest.approx(TARGET[2] ** 2, rel=0.15)  # 9 m², edges blurred
    assert data.rio.crs.to_epsg() == 32629 and data.rio.transform() == grid.transform
    assert summary["footprints"][0]["gsd_m"] == pytest.approx(GSD_M, rel=1e-3)
    assert {f["yaw_deg"] for f in summary["footprints"]} == {0.0, 90.0}


def test_reflectance_within_two_percent_of_truth(mosaic):
    _, data, grid = mosaic
    col, row = ~grid.transform @ TARGET[:2]
    core = (slice(int(row) - 3, int(row) + 3), slice(int(col) - 3, int(col) + 3))       # 1.5 m inside the 3 m target
    field = (slice(int(row) + 12, int(row) + 16), slice(int(col) - 10, int(col) + 10))  # 3–4 m south of its centre
    for band, rho in TRUTH.items():
        layer = data.sel(band=band).values
        assert float(np.median(layer[core])) == pytest.approx(2 * rho, rel=0.02), band
        assert float(np.median(layer[field])) == pytest.approx(rho, rel=0.02), band


def test_nan_where_no_capture_covers_and_metadata(mosaic):
    summary, data, grid = mosaic
    nir = data.sel(band="nir").values
    assert np.isnan(nir[:100, :100]).all() and np.isnan(nir[-100:, -100:]).all()
    covered = np.isfinite(nir).sum() * grid.pixel_area_m2
    assert 150 < covered < 5 * 12.8 * 9.6                           # five 12.8 m × 9.6 m frames, overlapping
    assert summary["method"] == METHOD == data.attrs["method"]
    assert summary["calibration_method"] == "irradiance sensor" and not summary["relative"]
    assert summary["irradiance"]["nir"] == pytest.approx(E)
    assert all(v is not None and v < 0.5 for v in summary["alignment_residual_px"].values())
    assert list(data.alignment_residual_px.values) == [summary["alignment_residual_px"][b] for b in summary["bands"]]
    assert summary["bands"] == ["blue", "green", "red", "rededge", "nir"]
    assert any("5 capture(s) = GPS altitude − farm elevation 95.0 m (144.0–144.0 m" in w for w in summary["warnings"])


def test_capture_without_gps_is_skipped_with_its_file_named(mosaic):
    summary, *_ = mosaic
    assert summary["captures"] == 5 and summary["captures_total"] == 6 and summary["captures_skipped"] == ["cap1"]
    skipped = [w for w in summary["warnings"] if "skipped" in w]
    assert len(skipped) == 1 and "IMG_0001_" in skipped[0] and "no position: not placed, never invented" in skipped[0]


def test_flight_without_any_position_is_refused(tmp_path, grid):
    files = _flight(tmp_path / "nogps", without_gps=len(SHOTS))[:10]
    with pytest.raises(InputDataError, match="none of the 2 capture") as error:
        ingest_captures(files, grid, tmp_path / "s.zarr", "flights/x/reflectance", ground_elevation_m=ELEVATION_M)
    assert str(tmp_path / "nogps") in str(error.value) and "OpenDroneMap" in str(error.value)
    assert not cube.has_product(tmp_path / "s.zarr", "flights/x/reflectance")


@pytest.mark.integration
def test_capture_flight_through_the_reflectance_asset(tmp_path):
    import dagster as dg

    from assets.imagery import reflectance
    from pipelines.imagery.ingest.flight import read_flight_folder
    from pipelines.orchestration.resources import SaqiStorage

    flight = "chtouka-20260115"
    folder = tmp_path / "landing" / "chtouka" / "20260115"
    _flight(folder)
    manifest = read_flight_folder(folder, load_farm("chtouka"))
    assert manifest.flight == flight and manifest.kind == "captures" and manifest.sensor == "micasense_rededge_mx"
    assert len(manifest.files) == 30 and not manifest.quarantined
    storage = SaqiStorage(data_root=str(tmp_path / "data"), landing_dir=str(tmp_path / "landing"),
                          configs=str(configs_dir()))
    (storage.folder("manifests", "chtouka") / f"{flight}.json").write_text(manifest.model_dump_json(indent=1),
                                                                           encoding="utf-8")
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("flights", [flight])
        result = dg.materialize([reflectance], partition_key=flight, instance=instance, resources={"storage": storage})
    assert result.success
    metadata = result.asset_materializations_for_node("reflectance")[0].metadata
    assert metadata["method"].value == METHOD and metadata["captures"].value == 6
    assert json.loads(json.dumps(metadata["alignment_residual_px"].value))["nir"] is not None
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert checks["bands_aligned"].passed and checks["reflectance_in_physical_range"].passed
    nir = cube.load_product(storage.store("chtouka"),
                            cube.flight_group(flight, "reflectance"))["reflectance"].sel(band="nir")
    assert float(np.nanmedian(nir.values)) == pytest.approx(0.45, rel=0.02)


@pytest.mark.parametrize("pitch_deg", [-90.0, -80.0])
def test_dji_footprint_from_xmp_gps_relative_altitude_and_gimbal_yaw(tmp_path, pitch_deg):
    from test_radiometry_dji import CENTRE, RHO
    from test_radiometry_dji import write_capture as write_dji

    from pipelines.imagery.ingest.captures import read_band_image
    from pipelines.imagery.ingest.footprint import footprint

    x, y = 464500.0, 3342600.0
    lon, lat = TO_LONLAT.transform(x, y)
    xmp = {"GpsLatitude": f"{lat:.10f}", "GpsLongtitude": f"{lon:.10f}", "AbsoluteAltitude": "+180.20",
           "RelativeAltitude": "+60.00", "GimbalYawDegree": "+30.0", "FlightYawDegree": "+28.0",
           "GimbalPitchDegree": pitch_deg, "GimbalRollDegree": "0.0"}
    files = write_dji(tmp_path, "FC6360", {b: np.full((260, 320), rho) for b, rho in RHO.items()}, extra=xmp)
    image = read_band_image(files[-1])                               # NIR, the DJI reference band
    assert image.position == pytest.approx((lat, lon, 180.2), abs=1e-9) and not image.warnings
    place = footprint(image, FarmGrid.of_farm(load_farm("chtouka")).crs)   # no farm elevation needed
    assert place.gsd_m == pytest.approx(60 / 1913.3333,
                                        rel=1e-4) and place.altitude_from.startswith("XMP RelativeAltitude")
    assert place.yaw_deg == 30.0                                     # the gimbal's yaw, not the aircraft's
    x0, y0 = place.transform @ CENTRE
    assert math.hypot(x0 - x, y0 - y) < 1e-3                         # principal point under the GPS position
    x1, y1 = place.transform @ (CENTRE[0], CENTRE[1] - 1000)          # 1000 px towards the image top
    factors = Proj("EPSG:32629").get_factors(lon, lat)
    assert math.degrees(math.atan2(x1 - x0, y1 - y0)) == pytest.approx(30 - factors.meridian_convergence, abs=0.01)
    assert math.hypot(x1 - x0, y1 - y0) == pytest.approx(1000 * 60 / 1913.3333 * factors.meridional_scale, rel=1e-4)
    tilted = [w for w in place.warnings if "tilted" in w]
    assert (tilted == []) if pitch_deg == -90.0 else ("tilted 10.0° from nadir" in tilted[0] and "10.6 m" in tilted[0])
