"""Spot-spray prescription from a class map: weed cover per cell by hand, exports GDAL and ISOXML read back."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pyogrio
import pytest
from rasterio import features

from pipelines.core.config import load_farm, load_prescription_rules
from pipelines.core.grid import FarmGrid
from pipelines.imagery.parcels.layer import load_parcels
from pipelines.imagery.zones.spot_spray import (
    SpotSpraySettings,
    export_spot_spray,
    load_spot_spray_settings,
    weed_cells,
)

FARM = load_farm("chtouka")
GRID = FarmGrid.of_farm(FARM)
PARCELS = load_parcels(FARM)


@pytest.fixture(scope="module")
def classes():
    """Crop everywhere inside the parcels, one 40 x 40 px weed square (10 x 10 m, 2 x 2 cells) in the first parcel."""
    inside = features.rasterize([(g, k + 1) for k, g in enumerate(PARCELS.frame.geometry)], out_shape=GRID.shape,
                                transform=GRID.transform, fill=0, dtype="int32")
    out = np.where(inside > 0, 1, 0).astype(np.uint8)
    ys, xs = np.nonzero(inside == 1)
    cy, cx = int(np.median(ys)) // 20 * 20, int(np.median(xs)) // 20 * 20  # on the 5 m (20 px) cell grid
    out[cy - 20:cy + 20, cx - 20:cx + 20] = 2
    return out


def test_weed_cover_per_cell(classes):
    cells = weed_cells(classes, GRID, PARCELS, cell_m=5.0)
    first = PARCELS.frame["id"].iloc[0]
    weedy = cells[cells["weed_cover"] > 0]
    assert set(weedy["parcel_id"]) == {first}
    # 40 x 40 px of 0.25 m = 10 x 10 m: 1600 weed px over cells of 20 x 20 px (5 m)
    assert int(round((weedy["weed_cover"] * weedy["valid_px"]).sum())) == 1600
    assert len(weedy) == 4 and (weedy["weed_cover"] == 1.0).all() and (weedy["valid_px"] == 400).all()
    whole = cells.groupby("parcel_id")["area_m2"].sum()
    # cells cover the parcels but for edge slivers holding no pixel centre (< 0.05 % of the area)
    areas = PARCELS.frame.set_index("id").loc[whole.index].area.to_numpy()
    np.testing.assert_allclose(whole.to_numpy(), areas, rtol=5e-4)


def test_exports_read_back(classes, tmp_path):
    settings = load_spot_spray_settings()
    rule = load_prescription_rules()[settings.rule]
    cells, files = export_spot_spray(classes, GRID, PARCELS, tmp_path, settings, customer="Coop", farm_name="Bloc")
    sprayed = cells[cells["weed_cover"] >= settings.weed_cover_threshold]
    back = pyogrio.read_dataframe(files["geojson"])
    assert pyogrio.read_info(files["shapefile"])["crs"] == GRID.crs.to_string()
    spray = back[back["zone"] == 1]
    assert len(spray) == 1 and spray[rule.rate_field].iloc[0] == rule.base_rate
    assert (back.loc[back["zone"] == 2, rule.rate_field] == 0).all()
    assert spray.to_crs(GRID.crs).area.iloc[0] == pytest.approx(sprayed["area_m2"].sum(), rel=1e-3)
    root = ET.parse(files["isoxml"]).getroot()
    rates = [int(p.get("B")) for p in root.iter("PDV")]
    assert max(rates) == round(rule.base_rate * 100)  # kg/ha -> mg/m2 (DDI 0006)
    assert {t.get("A") for t in root.iter("TZN")} >= {"0", "1", "2"}
    strict = SpotSpraySettings(cell_m=5.0, weed_cover_threshold=0.99)
    _, none_left = export_spot_spray(classes * 0 + 1, GRID, PARCELS, tmp_path / "clean", strict)
    assert "geojson" in none_left and (pyogrio.read_dataframe(none_left["geojson"])["zone"] == 2).all()
