"""Prescription rule and exports: GDAL reads GeoJSON/Shapefile, TASKDATA.XML is sound ISOXML."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from pyproj import Transformer

from pipelines.cli import main
from pipelines.core.config import load_farm, load_prescription_rules
from pipelines.core.grid import FarmGrid
from pipelines.imagery.parcels.layer import load_parcels
from pipelines.imagery.zones.delineation import ZoneSet, management_zones
from pipelines.imagery.zones.prescription import export_prescription, zone_rates

FARM = load_farm("chtouka")
GRID = FarmGrid.of_farm(FARM)


def _ndvi() -> np.ndarray:
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[0:GRID.height, 0:GRID.width]
    ndvi = 0.3 + 0.45 * xx / GRID.width + 0.08 * np.sin(yy / 35.0) + rng.normal(0, 0.03, GRID.shape)
    return ndvi.astype(np.float32)


@pytest.fixture(scope="module")
def zones() -> ZoneSet:
    return management_zones(_ndvi(), GRID, load_parcels(FARM), n_zones=3, min_area_m2=200)


@pytest.fixture(scope="module")
def exported(zones, tmp_path_factory):
    return export_prescription(zones, "irrigation", tmp_path_factory.mktemp("rx"), customer="Coop", farm_name="Bloc")


def _farm_lonlat_bounds() -> tuple[float, float, float, float]:
    to_ll = Transformer.from_crs(GRID.crs.to_wkt(), "EPSG:4326", always_xy=True)
    return to_ll.transform_bounds(*GRID.bounds)


def test_rate_rule_scales_with_relative_vigour_and_is_bounded():
    frame = gpd.GeoDataFrame({"parcel_id": ["A", "A", "A", "B", "B"], "zone": [1, 2, 3, 1, 2],
                              "area_m2": [100.0, 100.0, 100.0, 300.0, 100.0],
                              "index_mean": [0.4, 0.5, 0.6, 0.1, 0.9]}, geometry=[shapely.Point(0, 0)] * 5)
    zones = ZoneSet(frame, np.zeros((1, 1), np.uint8), "ndvi", GRID, None)
    rules = load_prescription_rules()
    # A: mean 0.5, relative vigour -0.2/0/+0.2, irrigation response +1.0 around 6 mm: the vigorous zone gets more,
    # in the direction of the zone water balance (higher NDVI, higher Kcb)
    np.testing.assert_allclose(zone_rates(zones, "irrigation")[:3], [4.8, 6.0, 7.2])
    # B: mean 0.3, relative -2/3 and +2: 60·(1 + 0.8·2/3) = 92 kg/ha, 60·(1 − 1.6) clipped to 20
    np.testing.assert_allclose(zone_rates(zones, rules["nitrogen"])[3:], [92.0, 20.0])
    np.testing.assert_allclose(zone_rates(zones, "irrigation", base_rates={"A": 30.0})[:3], [24.0, 30.0, 36.0])
    # with the zone plan's depths the prescription is the plan, zone by zone (zones it does not name keep the rule)
    planned = {("A", 1): 3.1, ("A", 2): 4.2, ("A", 3): 5.3}
    np.testing.assert_allclose(zone_rates(zones, "irrigation", zone_depths=planned)[:3], [3.1, 4.2, 5.3])


def test_gdal_opens_geojson_and_shapefile_with_crs_count_and_rates(zones, exported):
    rule = load_prescription_rules()["irrigation"]
    expected = zone_rates(zones, rule)
    for fmt, epsg in (("geojson", "EPSG:4326"), ("shapefile", "EPSG:32629")):
        info = pyogrio.read_info(exported[fmt])
        assert info["crs"] == epsg
        assert info["features"] == len(zones.frame) == 30
        assert "depth_mm" in list(info["fields"])
        back = pyogrio.read_dataframe(exported[fmt])
        np.testing.assert_allclose(back["depth_mm"], expected, atol=0.006)
        assert back["depth_mm"].between(rule.min_rate, rule.max_rate).all()
        for _, own in back.groupby("parcel_id"):  # water follows vigour, as in the zone water balance
            assert np.all(np.diff(own.sort_values("zone")["depth_mm"]) > 0)
    assert exported["shapefile"].with_suffix(".prj").is_file()
    west, south, east, north = _farm_lonlat_bounds()
    lon_min, lat_min, lon_max, lat_max = pyogrio.read_dataframe(exported["geojson"]).total_bounds
    assert west <= lon_min and lon_max <= east and south <= lat_min and lat_max <= north


def test_taskdata_has_one_treatment_zone_per_zone_with_the_rate_as_process_data(zones, exported):
    root = ET.parse(exported["isoxml"]).getroot()
    assert root.tag == "ISO11783_TaskData"
    assert (root.get("VersionMajor"), root.get("DataTransferOrigin"), root.get("ManagementSoftwareManufacturer")) == \
        ("4", "1", "Saqi")
    assert len(root.findall("PFD")) == len(root.findall("TSK")) == 10
    rates = dict(zip(zip(zones.frame["parcel_id"], zones.frame["zone"]), zone_rates(zones, "irrigation").round(2)))
    fields = {pfd.get("A"): pfd.get("C") for pfd in root.findall("PFD")}
    for task in root.findall("TSK"):
        pid = fields[task.get("E")]
        treated = [t for t in task.findall("TZN") if t.find("PLN") is not None]
        assert len(treated) == int((zones.frame["parcel_id"] == pid).sum())
        for tzn in treated:
            pdv = tzn.find("PDV")
            assert pdv.get("A") == "0001"  # Setpoint Volume Per Area Application Rate, mm³/m²
            assert int(pdv.get("B")) == round(rates[(pid, int(tzn.get("A")))] * 1e6)
            assert {p.get("A") for p in tzn.findall("PLN")} == {"2"}  # ISO 11783-10 PolygonType 2 = treatment zone
    west, south, east, north = _farm_lonlat_bounds()
    rings = root.findall(".//LSG")
    assert rings and {pln.get("A") for pln in root.findall("PFD/PLN")} == {"1"}
    for ring in rings:
        points = [(float(p.get("C")), float(p.get("D"))) for p in ring.findall("PNT")]
        assert len(points) >= 4 and points[0] == points[-1]
        lat, lon = np.array(points).T
        assert south <= lat.min() and lat.max() <= north and west <= lon.min() and lon.max() <= east


def test_nitrogen_taskdata_uses_mass_per_area_in_mg_per_m2(zones, tmp_path):
    paths = export_prescription(zones, "nitrogen", tmp_path, formats=("isoxml",))
    assert set(paths) == {"isoxml"}
    rates = zone_rates(zones, "nitrogen").round(2)
    values = [int(t.find("PDV").get("B")) for t in ET.parse(paths["isoxml"]).getroot().iter("TZN")
              if t.find("PLN") is not None]
    assert {t.find("PDV").get("A") for t in ET.parse(paths["isoxml"]).getroot().iter("TZN")} == {"0006"}
    np.testing.assert_array_equal(values, np.round(rates * 100).astype(int))  # 1 kg/ha = 100 mg/m²


def test_parcels_zones_cli_writes_every_export_and_the_zone_raster(tmp_path, capsys):
    ndvi = _ndvi()
    red = np.full(GRID.shape, 0.05, np.float32)
    nir = (red * (1 + ndvi) / (1 - ndvi)).astype(np.float32)  # NDVI(red, nir) == ndvi
    with rasterio.open(tmp_path / "in.tif", "w", driver="GTiff", width=GRID.width, height=GRID.height, count=2,
                       dtype="float32", crs=GRID.crs, transform=GRID.transform) as dst:
        dst.write(np.stack([red, nir]))
        dst.descriptions = ("red", "nir")
    out = tmp_path / "rx"
    code = main(["parcels", "zones", str(tmp_path / "in.tif"), str(FARM.path("parcels.geojson")), "-o", str(out),
                 "--zones", "4", "--rule", "nitrogen", "--method", "natural_breaks"])
    assert code == 0
    assert "10 parcels, 40 zones, rule nitrogen" in capsys.readouterr().out
    assert pyogrio.read_info(out / "prescription.geojson")["features"] == 40
    assert pyogrio.read_info(out / "shapefile" / "prescription.shp")["features"] == 40
    assert (out / "TASKDATA" / "TASKDATA.XML").is_file()
    with rasterio.open(out / "zones.tif") as src:
        assert set(np.unique(src.read(1))) == {0, 1, 2, 3, 4}


def test_unknown_rule_is_refused_with_the_known_ones(zones, tmp_path):
    from pipelines.core.errors import ConfigError

    with pytest.raises(ConfigError, match="irrigation"):
        export_prescription(zones, "potassium", tmp_path)


def test_an_independent_isoxml_reader_reads_zones_geometry_and_rates_back(zones, exported):
    # isoxml (Josephinum Research, PyPI) parses TASKDATA.XML with its own ISO 11783-10 v4 bindings
    import isoxml.models.base.v4 as iso
    from isoxml.converter.shapely_geom import ShapelyConverterV4
    from isoxml.util.isoxml_io import isoxml_from_path

    task_data, _ = isoxml_from_path(exported["isoxml"])
    convert = ShapelyConverterV4()
    to_grid = Transformer.from_crs("EPSG:4326", GRID.crs.to_wkt(), always_xy=True)
    fields = {pfd.id: pfd.designator for pfd in task_data.partfields}
    expected = zones.frame.set_index(["parcel_id", "zone"])
    rates = dict(zip(zip(zones.frame["parcel_id"], zones.frame["zone"]), zone_rates(zones, "irrigation").round(2)))
    seen = 0
    for task in task_data.tasks:
        pid = fields[task.partfield_id_ref]
        for tzn in task.treatment_zones:
            if not tzn.polygons:
                continue
            assert {pln.type for pln in tzn.polygons} == {iso.PolygonType.TreatmentZone}
            shape = shapely.union_all([convert.to_shapely_polygon(pln) for pln in tzn.polygons])
            lon_lat = shapely.get_coordinates(shape)
            x, y = to_grid.transform(lon_lat[:, 0], lon_lat[:, 1])
            in_grid = shapely.set_coordinates(shape, np.column_stack([x, y]))
            truth = expected.loc[(pid, tzn.code), "geometry"]
            # the same zone: areas within 0.5 % and nearly full overlap (9-decimal degrees ≈ 0.1 mm)
            assert in_grid.area == pytest.approx(truth.area, rel=5e-3)
            assert shapely.intersection(in_grid, truth).area / truth.area > 0.995
            (pdv,) = tzn.process_data_variables
            assert pdv.process_data_ddi == bytes.fromhex("0001")  # Setpoint Volume Per Area Application Rate
            assert pdv.process_data_value == round(rates[(pid, tzn.code)] * 1e6)
            seen += 1
    assert seen == len(zones.frame)
