"""Trees: APAR over the fruit-growth window only, projected to harvest, band narrowing through the window;
sample-farm orchards in the published Souss range."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from models.irrigation import et0 as fao
from models.yields.estimate import estimate_yield
from models.yields.lue import fapar_from_ndvi, fruit_growth_window
from models.yields.orchard import reference_harvest_index
from pipelines.core.config import load_crop

SITE = (30.2133, 95.0)


def _orchard(crop: str, start: str, end: str, ndvi: pd.Series, solar: pd.Series,
             ks: float = 1.0) -> tuple[xr.Dataset, pd.DataFrame, pd.DataFrame]:
    """One tree parcel with a flight every day (NDVI known on every day) and the given radiation."""
    dates = pd.date_range(start, end)
    ds = xr.Dataset({"kcb": (("parcel", "date"), np.full((1, len(dates)), 0.6)),
                     "ks": (("parcel", "date"), np.full((1, len(dates)), ks)),
                     "crop": (("parcel",), np.array([crop], dtype=object)),
                     "sowing_date": (("parcel",), np.array([np.datetime64(start)]))},
                    coords={"parcel": np.array(["T1"], dtype=object), "date": dates})
    observations = pd.DataFrame({"parcel": "T1", "date": dates, "ndvi_mean": ndvi.reindex(dates).to_numpy()})
    return ds, observations, pd.DataFrame({"solar_mj_m2": solar})


def test_window_apar_ignores_the_days_outside_the_fruit_growth_window():
    # olive window 1 June - 30 November (configs/crops/olive.yaml); record 1 March - 30 November
    days = pd.date_range("2026-03-01", "2026-11-30")
    inside = days >= "2026-06-01"
    ndvi = pd.Series(np.where(inside, 0.60, 0.85), index=days)
    solar = pd.Series(np.where(inside, 20.0, 28.0), index=days)
    olive = load_crop("olive")
    row = estimate_yield(*_orchard("olive", "2026-03-01", "2026-11-30", ndvi, solar), site=SITE).iloc[0]
    # 183 window days × fAPAR(0.60) 0.5557 × 0.48 × 20 MJ = 976.3 MJ/m²; the spring days count for nothing
    expected = 183 * fapar_from_ndvi(0.60) * 0.48 * 20.0
    assert expected == pytest.approx(976.3, abs=0.1)
    assert row.apar_mj_m2 == pytest.approx(expected, rel=1e-9) and row.apar_projected_mj_m2 == 0.0
    assert row.harvest_date == pd.Timestamp("2026-11-30") and row.projected_share == 0.0
    # fresh fruit = HI × RUE × APAR / 100 / (1 − moisture) = 0.45 × 1.0 × 976.3 / 100 / 0.5 = 8.79 t/ha
    assert row.yield_t_ha == pytest.approx(olive.harvest_index * olive.rue_g_mj * expected / 100 / 0.5, rel=1e-9)
    # other NDVI and radiation before fruit set change nothing
    spring = pd.Series(np.where(inside, 0.60, 0.20), index=days), pd.Series(np.where(inside, 20.0, 9.0), index=days)
    other = estimate_yield(*_orchard("olive", "2026-03-01", "2026-11-30", *spring), site=SITE).iloc[0]
    assert other.apar_mj_m2 == pytest.approx(expected, rel=1e-9)
    # water stress inside the window scales the recorded APAR (FAO-56 Ks)
    stressed = estimate_yield(*_orchard("olive", "2026-03-01", "2026-11-30", ndvi, solar, ks=0.5), site=SITE)
    assert stressed.iloc[0].apar_mj_m2 == pytest.approx(expected / 2, rel=1e-9)


def test_window_days_not_yet_recorded_are_projected_with_the_season_climatology():
    # citrus window 15 June - 15 January crosses the new year; estimate on 1 December 2026
    assert fruit_growth_window(load_crop("citrus").fruit_growth, pd.Timestamp("2026-12-01")) == (
        pd.Timestamp("2026-06-15"), pd.Timestamp("2027-01-15"))
    days = pd.date_range("2026-03-01", "2026-12-01")
    ndvi = pd.Series(np.where(days >= "2026-11-02", 0.66, 0.62), index=days)
    solar = pd.Series(0.8 * fao.clear_sky_radiation_mj_m2(SITE[0], days.day_of_year.to_numpy(), SITE[1]), index=days)
    row = estimate_yield(*_orchard("citrus", "2026-03-01", "2026-12-01", ndvi, solar), site=SITE).iloc[0]
    recorded = pd.date_range("2026-06-15", "2026-12-01")
    assert row.apar_mj_m2 == pytest.approx(float(np.sum(fapar_from_ndvi(ndvi[recorded]) * 0.48 * solar[recorded])),
                                           rel=1e-9)
    # 45 days ahead: Rs = Rso × 0.8 (the record's mean Rs/Rso), fAPAR held at the last 30 days' NDVI (0.66)
    ahead = pd.date_range("2026-12-02", "2027-01-15")
    rso = fao.clear_sky_radiation_mj_m2(SITE[0], ahead.day_of_year.to_numpy(), SITE[1])
    assert row.apar_projected_mj_m2 == pytest.approx(float(np.sum(fapar_from_ndvi(0.66) * 0.48 * 0.8 * rso)), rel=1e-9)
    assert row.harvest_date == pd.Timestamp("2027-01-15") and 0.1 < row.projected_share < 0.2
    # the day after harvest the estimate is next year's crop: the whole window projected
    after = estimate_yield(*_orchard("olive", "2026-03-01", "2026-12-01", ndvi, solar), site=SITE).iloc[0]
    assert after.harvest_date == pd.Timestamp("2027-11-30") and after.projected_share == 1.0


def test_the_band_narrows_monotonically_through_the_window():
    days = pd.date_range("2026-01-01", "2026-11-30")
    rng = np.random.default_rng(7)
    solar = pd.Series(fao.clear_sky_radiation_mj_m2(SITE[0], days.day_of_year.to_numpy(), SITE[1])
                      * rng.uniform(0.6, 0.95, len(days)), index=days)
    ndvi = pd.Series(0.55 + 0.03 * np.sin(np.arange(len(days)) / 20), index=days)
    full = _orchard("olive", "2026-01-01", "2026-11-30", ndvi, solar)
    widths, shares = [], []
    for end in pd.date_range("2026-04-01", "2026-11-30", freq="7D").append(pd.DatetimeIndex(["2026-11-30"])):
        ds = full[0].sel(date=slice(None, end))
        row = estimate_yield(ds, full[1], full[2], site=SITE).iloc[0]
        widths.append((row.yield_p90_t_ha - row.yield_p10_t_ha) / row.yield_t_ha)
        shares.append(row.projected_share)
    widths, shares = np.array(widths), np.array(shares)
    # before fruit set (April, May) the whole window is projected: the widest band, the same every week
    assert (shares[:9] == 1.0).all() and np.allclose(widths[:9], widths[0])
    assert (np.diff(shares) <= 1e-12).all() and shares[-1] == 0.0
    assert (np.diff(widths) <= 1e-9).all(), widths
    assert widths[-1] < 0.75 * widths[0]


@pytest.fixture(scope="module")
def sample_farm_trees(tmp_path_factory):
    from models.irrigation.farm_plan import farm_season
    from pipelines.core.config import load_farm
    from pipelines.plans.farm_inputs import farm_inputs

    farm = load_farm("chtouka")
    inputs = farm_inputs(farm, tmp_path_factory.mktemp("no_flights"))
    site = (farm.location.lat_deg, farm.location.elevation_m)
    tables = {}
    for end in (pd.Timestamp("2026-04-20").date(), None):
        balance = farm_season(farm, inputs, end=end)
        table = estimate_yield(balance, inputs.observations, inputs.weather, site=site)
        tables[end] = table[table["crop"].isin(["olive", "citrus"])].set_index("parcel")
    return tables


def test_sample_farm_orchards_yield_in_the_published_souss_range(sample_farm_trees):
    # olive 4-10 t/ha fresh fruit (intensive irrigated), citrus 25-40 t/ha (configs/crops, with sources)
    published = {"olive": (4.0, 10.0), "citrus": (25.0, 40.0)}
    april, june = sample_farm_trees[pd.Timestamp("2026-04-20").date()], sample_farm_trees[None]
    assert len(june) == 4
    for table in (april, june):
        for parcel, row in table.iterrows():
            low, high = published[row.crop]
            assert load_crop(row.crop).yield_range_t_ha == (low, high)
            assert low <= row.yield_t_ha <= high, (parcel, row.crop, row.yield_t_ha)
            assert row.yield_p10_t_ha < row.yield_t_ha < row.yield_p90_t_ha
    # in April nothing of the window is recorded; by 30 June part of it is, and the band is narrower
    assert (april["projected_share"] == 1.0).all() and (june["projected_share"] < 1.0).all()
    width = (june.yield_p90_t_ha - june.yield_p10_t_ha) / june.yield_t_ha
    assert (width < (april.yield_p90_t_ha - april.yield_p10_t_ha) / april.yield_t_ha).all()


def test_tree_harvest_index_is_the_reference_orchard_share():
    for crop_id, expected in (("olive", 0.455), ("citrus", 0.341)):
        crop = load_crop(crop_id)
        derived = reference_harvest_index(crop, SITE[0], pd.Timestamp("2026-05-01"))
        assert derived == pytest.approx(expected, abs=0.002)
        assert crop.harvest_index == pytest.approx(derived, abs=0.01)


def test_a_tree_crop_without_its_window_is_refused():
    from pydantic import ValidationError

    from pipelines.core.agronomy import Crop

    fields = load_crop("olive").model_dump()
    fields.pop("fruit_growth")
    with pytest.raises(ValidationError, match="needs `fruit_growth`"):
        Crop(**fields)
