"""The sample farm generator: a real-looking orthomosaic off the farm grid, truthful ground truth."""
from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.features import rasterize, shapes
from rasterio.warp import Resampling, reproject
from scipy.ndimage import binary_erosion
from shapely.geometry import shape

from pipelines.cli import main
from pipelines.synthetic import DEFAULT_FLIGHT_DATES, generate_farm_flights
from pipelines.synthetic.layout import farm_layout
from pipelines.synthetic.scene import row_distance_m

MARCH, APRIL = 2, 3
BANDS = ("blue", "green", "red", "rededge", "nir")


@pytest.fixture(scope="module")
def season(farm, tmp_path_factory):
    root = tmp_path_factory.mktemp("season")
    return root, generate_farm_flights(farm, root / "landing", root / "truth")


@pytest.fixture(scope="module")
def parcels(farm, grid):
    table = gpd.read_file(farm.path(farm.parcels)).to_crs(grid.crs)
    ids = rasterize(((g, k + 1) for k, g in enumerate(table.geometry)), out_shape=grid.shape,
                    transform=grid.transform, dtype="uint8")
    return table, ids


def _on_farm_grid(path, grid) -> np.ndarray:
    """The mosaic's reflectance (DN × scale) averaged onto the farm grid, NaN where no data."""
    with rasterio.open(path) as src:
        dn = src.read().astype(np.float32)
        scale = np.array(src.scales, dtype=np.float32)[:, None, None]
        dn[dn == 0] = np.nan
        out = np.full((src.count, *grid.shape), np.nan, dtype=np.float32)
        reproject(dn * scale, out, src_transform=src.transform, src_crs=src.crs, src_nodata=np.nan,
                  dst_transform=grid.transform, dst_crs=grid.crs, dst_nodata=np.nan,
                  resampling=Resampling.average)
    return out


def _read(path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1)


def _ndvi(reflectance: np.ndarray) -> np.ndarray:
    return (reflectance[4] - reflectance[2]) / (reflectance[4] + reflectance[2])


def _core(mask: np.ndarray) -> np.ndarray:
    """Pixels whose 5 x 5 neighbourhood has the same class: no mixing across class edges."""
    return binary_erosion(mask, np.ones((5, 5), bool))


def test_orthomosaic_is_a_5_band_16_bit_mosaic_off_the_farm_grid(season, grid):
    _, flights = season
    assert [f.date for f in flights] == list(DEFAULT_FLIGHT_DATES)
    with rasterio.open(flights[0].orthomosaic) as src:
        assert src.crs.to_epsg() == 32629 and src.res == pytest.approx((0.2, 0.2))
        assert src.count == 5 and src.dtypes == ("uint16",) * 5 and src.nodata == 0
        assert src.descriptions == BANDS
        assert src.scales == pytest.approx((1e-4,) * 5)
        assert src.block_shapes[0] == (512, 512)
        assert src.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "2"
        assert src.compression.name.lower() in {"zstd", "deflate"}
        west, south, east, north = src.bounds
    farm_west, farm_south, farm_east, farm_north = grid.bounds
    assert farm_west - west == pytest.approx(10.0, abs=0.3) and north - farm_north == pytest.approx(10.0, abs=0.3)
    assert east - farm_east >= 9.8 and farm_south - south >= 9.8
    shift_px = ((west - farm_west) / 0.25 % 1, (north - farm_north) / 0.25 % 1)
    assert all(0.1 < s < 0.9 for s in shift_px), "origin must sit off the farm grid by a fraction of a pixel"
    manifest = flights[0].manifest.read_text(encoding="utf-8")
    assert "sensor: micasense_rededge_mx" in manifest and "captured: '2026-01-15'" in manifest
    assert "reflectance_scale: 0.0001" in manifest and "kind: orthomosaic" in manifest


def test_soil_pixels_have_dry_sandy_loam_reflectance(season, grid):
    _, flights = season
    flight = flights[MARCH]
    image = _on_farm_grid(flight.orthomosaic, grid)
    soil = _core(_read(flight.classes) == 0) & np.isfinite(image[0])
    median = np.median(image[:, soil], axis=1)
    assert soil.sum() > 100_000
    assert np.all((median > 0.09) & (median < 0.32)), dict(zip(BANDS, median))
    assert np.all(np.diff(median) > 0), "bare soil reflectance rises from blue to NIR"
    assert 0.0 < median[4] - median[2] < 0.1, "soil NIR exceeds red only a little"
    assert np.median(_ndvi(image)[soil]) < 0.25
    with rasterio.open(flight.reflectance) as src:
        truth = src.read()
    error = np.abs(image[:, soil] - truth[:, soil]) / truth[:, soil]
    assert np.median(error) < 0.02, "mosaic noise is ~1-2 % relative"


def test_wheat_in_march_is_dense_green_canopy(season, grid, parcels):
    _, flights = season
    table, ids = parcels
    flight = flights[MARCH]
    ndvi = _ndvi(_on_farm_grid(flight.orthomosaic, grid))
    classes, stress = _read(flight.classes), _read(flight.stress)
    crop = _core(classes == 1) & (stress == 0)
    for k in np.flatnonzero(table["crop"] == "durum_wheat"):
        pixels = crop & (ids == k + 1)
        assert pixels.sum() > 20_000
        assert np.median(ndvi[pixels]) > 0.7, table["id"].iloc[k]


def test_stressed_crop_has_lower_ndvi_than_unstressed(season, grid, parcels):
    table, ids = parcels[0], parcels[1]
    flight = season[1][MARCH]
    ndvi = _ndvi(_on_farm_grid(flight.orthomosaic, grid))
    classes, stress = _read(flight.classes), _read(flight.stress)
    crop = _core(classes == 1)
    stressed_parcels = 0
    for k, pid in enumerate(table["id"]):
        stressed = crop & (ids == k + 1) & (stress >= 0.4)
        healthy = crop & (ids == k + 1) & (stress == 0)
        if stressed.sum() < 200:
            continue
        stressed_parcels += 1
        assert np.median(ndvi[healthy]) - np.median(ndvi[stressed]) >= 0.08, pid
    assert 2 <= stressed_parcels <= 3


def test_stress_patches_grow_through_the_season(season):
    """January to March, before the potatoes are lifted: stressed canopy area only grows."""
    areas = [(_read(f.stress) > 0.2).sum() for f in season[1][:MARCH + 1]]
    assert areas == sorted(areas) and areas[-1] > 1.5 * areas[0]


def test_cereal_ndvi_falls_at_senescence_in_april(season, grid, parcels):
    table, ids = parcels
    march, april = (_ndvi(_on_farm_grid(season[1][i].orthomosaic, grid)) for i in (MARCH, APRIL))
    for k in np.flatnonzero(table["crop"].isin(["durum_wheat", "barley"])):
        inside = _core(ids == k + 1)
        assert np.nanmean(april[inside]) < np.nanmean(march[inside]) - 0.1, table["id"].iloc[k]


def test_weeds_grow_off_the_rows_in_row_crops(season, farm, grid):
    layout = farm_layout(farm, 20260115)
    classes = _read(season[1][MARCH].classes)
    m = layout.margin_px
    for parcel in (p for p in layout.parcels if p.crop.kind == "row"):
        window = classes[parcel.rows.start - m:parcel.rows.stop - m, parcel.cols.start - m:parcel.cols.stop - m]
        distance = row_distance_m(layout, parcel)[parcel.mask]
        labels = window[parcel.mask]
        weeds, crop = labels == 2, labels == 1
        assert weeds.mean() > 0.002, parcel.id
        spacing = parcel.crop.row_spacing_m
        assert np.median(distance[weeds]) > 0.3 * spacing > np.median(distance[crop]), parcel.id


def test_tree_crowns_cast_shadows_north_west(season, grid, parcels):
    table, ids = parcels
    classes = _read(season[1][0].classes)
    rows, cols = np.indices(classes.shape)
    for k in np.flatnonzero(table["crop"].isin(["olive", "citrus"])):
        inside = ids == k + 1
        crown, shadow = inside & (classes == 1), inside & (classes == 3)
        assert 0.05 < shadow.sum() / inside.sum() < 0.35
        assert rows[shadow].mean() < rows[crown].mean() and cols[shadow].mean() < cols[crown].mean()


def test_nodata_corner_touches_no_parcel(season, parcels):
    table, _ = parcels
    with rasterio.open(season[1][0].orthomosaic) as src:
        empty = (src.read(1) == 0).astype("uint8")
        transform = src.transform
    corner = [shape(g) for g, v in shapes(empty, mask=empty.astype(bool), transform=transform) if v == 1]
    assert sum(c.area for c in corner) > 20.0, "a stitched mosaic has a ragged no-data edge"
    assert all(not c.intersects(p) for c in corner for p in table.geometry)


def test_cli_rewrites_identical_files_and_another_seed_differs(season, farm, tmp_path):
    _, flights = season
    assert main(["farm", "generate", "--landing", str(tmp_path / "l"), "--truth", str(tmp_path / "t")]) == 0
    for flight in flights:
        stamp = flight.date.strftime("%Y%m%d")
        again = tmp_path / "l" / "chtouka" / stamp / "orthomosaic.tif"
        assert again.read_bytes() == flight.orthomosaic.read_bytes()
        assert (tmp_path / "t" / f"chtouka-{stamp}" / "stress.tif").read_bytes() == flight.stress.read_bytes()
    other = generate_farm_flights(farm, tmp_path / "x", tmp_path / "y", dates=[dt.date(2026, 1, 15)], seed=7)
    assert not np.array_equal(_read(other[0].classes), _read(flights[0].classes))
