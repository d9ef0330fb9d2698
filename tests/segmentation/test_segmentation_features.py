"""Network input channels: the `<index>-otsu` channel is the index minus the whole image's Otsu
threshold (scikit-image's `threshold_otsu` as the oracle), the same for every strip of a mosaic."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from segmentation_scenes import BANDS, row_scene
from skimage.filters import threshold_otsu

from models.segmentation.card import ModelCard
from models.segmentation.features import feature_stack, image_thresholds, normalise
from pipelines.synthetic.spectra import DRY_SOIL


def _ndvi(reflectance: np.ndarray) -> np.ndarray:
    nir, red = reflectance[BANDS.index("nir")].astype(np.float64), reflectance[BANDS.index("red")].astype(np.float64)
    return (nir - red) / (nir + red)


def test_centred_channel_is_ndvi_minus_the_images_otsu_threshold():
    reflectance, truth = row_scene()
    reflectance[:, :10, :10] = np.nan                       # no data stays out of the threshold
    ndvi = _ndvi(reflectance)
    expected = threshold_otsu(ndvi[np.isfinite(ndvi)].astype(np.float32))
    thresholds = image_thresholds(reflectance, BANDS, ["ndvi", "ndvi-otsu"])
    assert thresholds["ndvi"] == pytest.approx(expected, abs=1e-6)
    assert 0.2 < thresholds["ndvi"] < 0.7, "a soil / canopy scene splits between soil (~0.1) and canopy (~0.8)"
    stack = feature_stack(reflectance, BANDS, ["ndvi", "ndvi-otsu"], thresholds)
    assert stack.shape == (len(BANDS) + 2, *truth.shape)
    assert np.allclose(stack[-2], ndvi, atol=1e-6, equal_nan=True)
    assert np.allclose(stack[-1], ndvi - expected, atol=1e-5, equal_nan=True)
    plant = (truth == 1) | (truth == 2)
    assert (stack[-1][plant & np.isfinite(ndvi)] > 0).mean() > 0.99 and (stack[-1][truth == 0] < 0).mean() > 0.99


def test_a_gain_on_the_nir_band_moves_the_threshold_with_the_image():
    """The reason for the channel: a flight whose NIR reads 30 % low has lower NDVI everywhere
    (soil more than canopy); its own threshold follows, and the centred channel still splits plants
    from soil at 0."""
    reflectance, truth = row_scene()
    dim = reflectance.copy()
    dim[BANDS.index("nir")] *= 0.7
    bright_t, dim_t = (image_thresholds(r, BANDS, ["ndvi-otsu"])["ndvi"] for r in (reflectance, dim))
    assert bright_t - dim_t > 0.05
    plant, soil = (truth == 1) | (truth == 2), truth == 0
    for r, t in ((reflectance, bright_t), (dim, dim_t)):
        centred = feature_stack(r, BANDS, ["ndvi-otsu"], {"ndvi": t})[-1]
        assert (centred[plant] > 0).mean() > 0.99 and (centred[soil] < 0).mean() > 0.99


def test_large_images_take_the_threshold_from_a_strided_sample():
    reflectance, _ = row_scene(shape=(400, 500))
    ndvi = _ndvi(reflectance)
    sampled = image_thresholds(reflectance, BANDS, ["ndvi-otsu"], sample_px=20_000)["ndvi"]
    step = int(np.ceil(np.sqrt(400 * 500 / 20_000)))
    assert sampled == pytest.approx(threshold_otsu(ndvi[::step, ::step].astype(np.float32)), abs=1e-6)
    assert sampled == pytest.approx(threshold_otsu(ndvi.astype(np.float32)), abs=0.05)


def test_no_threshold_without_a_split_and_none_asked():
    constant = np.full((len(BANDS), 40, 40), 0.2, np.float32)
    thresholds = image_thresholds(constant, BANDS, ["ndvi-otsu"])
    assert np.isnan(thresholds["ndvi"])
    channel = normalise(feature_stack(constant, BANDS, ["ndvi-otsu"], thresholds), [0.0] * 6, [1.0] * 6)[-1]
    assert (channel == 0).all(), "no threshold: the channel carries no information (its training mean)"
    assert image_thresholds(constant, BANDS, ["ndvi"]) == {}
    with pytest.raises(ValueError, match="Otsu threshold"):
        feature_stack(constant, BANDS, ["ndvi-otsu"])


def test_every_strip_of_a_mosaic_is_centred_on_the_whole_images_threshold():
    """A mosaic whose top 128 rows are bare soil: a strip's own Otsu threshold would split soil
    noise there; the inference centres every strip on the whole mosaic's threshold."""
    from models.segmentation.inference import blended_strips

    reflectance, _ = row_scene(shape=(320, 96))
    rng = np.random.default_rng(1)
    reflectance[:, :128] = (DRY_SOIL[:, None, None] * rng.normal(1.0, 0.03, (len(BANDS), 128, 96))).astype(np.float32)
    whole = image_thresholds(reflectance, BANDS, ["ndvi-otsu"])["ndvi"]
    top_strip_own = threshold_otsu(_ndvi(reflectance[:, :128]).astype(np.float32))
    assert abs(top_strip_own - whole) > 0.05, "the soil strip's own threshold would differ"
    centred = _ndvi(reflectance) - whole
    card = ModelCard(encoder="resnet18", band_names=BANDS, indices=["ndvi", "ndvi-otsu"],
                     channel_mean=[0.1] * 7, channel_std=[2.0] * 7, checkpoint=Path("unused"), sha256="-")
    seen = []

    def runner(batch):
        seen.append(batch.copy())
        return np.full((batch.shape[0], 4, *batch.shape[2:]), 0.25, np.float32)

    strips = list(blended_strips(card, reflectance, BANDS, tile=128, overlap=32, runner=runner))
    assert [s.top for s in strips] == [0, 96, 192] and len(seen) == 3
    for strip, batch in zip(strips, seen):
        assert np.allclose(batch[0, -1], (centred[strip.top:strip.top + 128] - 0.1) / 2.0, atol=1e-5)
        # the strip hands the guard the centred NDVI itself, not the network's normalised input
        assert np.allclose(strip.centred, centred[strip.top:strip.done], atol=1e-5, equal_nan=True)
        # its own rows only: not a view that keeps the strip's whole feature stack alive
        owner = strip.centred if strip.centred.base is None else strip.centred.base
        assert owner.size <= 128 * reflectance.shape[2]


@pytest.mark.parametrize("step", [1, 3, 7, 64, 70])
def test_strided_sample_of_a_zarr_mosaic_equals_numpys(tmp_path, step):
    """A lazy mosaic is sampled strip by strip (its chunk rows) with the same pixels as NumPy's
    `[:, ::step, ::step]` on the whole array, NaN included."""
    import zarr

    from models.segmentation.features import strided_sample

    values = np.random.default_rng(0).uniform(0, 1, (3, 301, 203)).astype(np.float32)
    values[:, 100:140, 50:90] = np.nan
    lazy = zarr.create_array(str(tmp_path / "mosaic.zarr"), shape=values.shape, chunks=(1, 64, 64), dtype="float32")
    lazy[:] = values
    np.testing.assert_array_equal(strided_sample(lazy, step), values[:, ::step, ::step])


@pytest.mark.parametrize("sample_px", [4_000_000, 5_000])
def test_thresholds_from_the_stored_ndvi_equal_those_from_the_bands(tmp_path, sample_px):
    """A flight's threshold read from its stored NDVI layer (what `crop_segmentation` does: one
    layer instead of every band) equals the one recomputed from the stored reflectance, whole or
    strided, and a LayerStack samples like NumPy."""
    from affine import Affine
    from rasterio.crs import CRS

    from models.segmentation.features import strided_sample
    from pipelines.core.grid import FarmGrid
    from pipelines.imagery.indices.kernel import compute_indices
    from pipelines.imagery.indices.product import write_index_product
    from pipelines.plans.flight_segmentation import stored_centred_indices
    from pipelines.store import cube, windows

    reflectance, _ = row_scene(shape=(300, 260))
    reflectance[:, 40:60] = np.nan
    grid = FarmGrid(CRS.from_epsg(32629), Affine(0.05, 0, 464200.0, 0, -0.05, 3342850.0), 260, 300)
    store = cube.farm_store(tmp_path, "farm")
    cube.write_product(store, cube.flight_group("f1", "reflectance"),
                       cube.raster(reflectance, grid, "reflectance", layer_dim="band", layers=BANDS))
    write_index_product(store, "f1", ["ndvi", "ndre"])
    card = ModelCard(encoder="resnet18", band_names=BANDS, indices=["ndvi", "ndvi-otsu"],
                     channel_mean=[0.0] * 7, channel_std=[1.0] * 7, checkpoint=Path("unused"), sha256="-")
    stored = stored_centred_indices(store, "f1", card)
    lazy = windows.stored_array(store, "f1", "reflectance")
    from_layer = image_thresholds(lazy, BANDS, card.indices, sample_px, stored=stored)
    from_bands = image_thresholds(lazy, BANDS, card.indices, sample_px)
    assert from_layer == from_bands == image_thresholds(reflectance, BANDS, card.indices, sample_px)
    kernel_ndvi = compute_indices(reflectance, BANDS, ["ndvi"])["ndvi"]
    np.testing.assert_array_equal(strided_sample(stored, 3)[0], kernel_ndvi[::3, ::3])
    tiny = card.model_copy(update={"indices": ["ndvi"]})
    assert stored_centred_indices(store, "f1", tiny) is None
