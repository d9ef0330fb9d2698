"""Report fixtures built from the sample farm `chtouka` and small synthetic rasters (seeded)."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from pipelines.core.config import load_crop, load_farm
from pipelines.reports import maps
from pipelines.reports.model import (
    BulletinRow,
    Cooperative,
    CooperativeReport,
    CooperativeRow,
    IrrigationBulletin,
    IrrigationDay,
    IrrigationPlan,
    Parcel,
    ParcelReport,
    TrendPoint,
    YieldEstimate,
)

FLIGHT = dt.date(2026, 3, 14)
PIXEL_M = 0.25


def _parcels(farm) -> list[Parcel]:
    import shapely
    from pyproj import Transformer
    from shapely.geometry import shape

    transformer = Transformer.from_crs("EPSG:4326", farm.grid.crs, always_xy=True)
    features = json.loads(farm.path(farm.parcels).read_text(encoding="utf-8"))["features"]
    result = []
    for feature in features:
        props = feature["properties"]
        utm = shapely.transform(shape(feature["geometry"]),
                                lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
        area_ha = utm.area / 10_000
        names = load_crop(props["crop"]).names
        result.append(Parcel(props["id"], props["member"], props["crop"], dict(names), area_ha,
                             props["irrigation_method"]))
    return result


def _rasters(seed: int = 7, size: tuple[int, int] = (360, 400)):
    """NDVI with a west-east vigour gradient and crop rows, a class map and three zones."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : size[0], 0 : size[1]]
    rows = (x // 6) % 2 == 0
    ndvi = np.where(rows, 0.35 + 0.45 * x / size[1], 0.12) + rng.normal(0, 0.03, size)
    weeds = rng.random(size) < 0.04
    ndvi[weeds] = 0.6
    ndvi[:20, :] = np.nan
    classes = np.where(ndvi > 0.3, 1, 0).astype(np.uint8)
    classes[weeds] = 2
    classes[330:, 380:] = 3
    classes[:20, :] = 255
    zones = np.digitize(np.nan_to_num(ndvi, nan=-1), [0.0, 0.45, 0.6]).astype(np.uint8)
    zones[:20, :] = 0
    return ndvi.astype(np.float32), classes, zones


def _plan(parcel: Parcel, today: dt.date, irrigate: bool) -> IrrigationPlan:
    depths = [0, 0, 22, 0, 0, 0, 18]
    outlook = tuple(IrrigationDay(today + dt.timedelta(days=i + 1), d,
                                  d * 10 * parcel.area_ha) for i, d in enumerate(depths))
    depth = 25.0 if irrigate else 0.0
    return IrrigationPlan(today, irrigate, depth, depth * 10 * parcel.area_ha, today if irrigate else outlook[2].date,
                          outlook,
                          stress_coefficient=0.82 if irrigate else 1.0, depletion_mm=61.0, readily_available_mm=55.0)


@pytest.fixture(scope="session")
def farm():
    return load_farm("chtouka")


@pytest.fixture(scope="session")
def parcels(farm):
    return _parcels(farm)


@pytest.fixture(scope="session")
def rasters():
    return _rasters()


@pytest.fixture(scope="session")
def parcel_report(farm, parcels, rasters) -> ParcelReport:
    ndvi, classes, zones = rasters
    parcel = parcels[0]
    trend = (
        TrendPoint(dt.date(2026, 1, 20), 0.41, 0.38, 0.05),
        TrendPoint(dt.date(2026, 2, 17), 0.68, 0.71, 0.08),
        TrendPoint(FLIGHT, 0.59, 0.66, 0.14),
    )
    return ParcelReport(
        farm.id, farm.name, Cooperative.of_farm(farm), parcel, FLIGHT,
        maps.ndvi_map(ndvi, PIXEL_M), maps.class_map(classes, PIXEL_M), maps.zones_map(zones, PIXEL_M),
        trend, _plan(parcel, FLIGHT, irrigate=True),
        YieldEstimate(3.24, 2.61, 3.87, "light-use efficiency (fAPAR × PAR × RUE × HI)"),
    )


@pytest.fixture(scope="session")
def cooperative_report(farm, parcels, rasters) -> CooperativeReport:
    rows = tuple(
        CooperativeRow(p, 0.45 + 0.03 * i, 0.5 + 0.03 * i, 0.04 + 0.015 * i, _plan(p, FLIGHT, irrigate=i % 3 == 0),
                       YieldEstimate(3.0 + 0.1 * i, 2.5, 3.6, "LUE") if p.crop in ("durum_wheat", "barley") else None)
        for i, p in enumerate(parcels)
    )
    return CooperativeReport(farm.id, farm.name, Cooperative.of_farm(farm), FLIGHT, rows,
                             maps.ndvi_map(rasters[0], PIXEL_M))


@pytest.fixture(scope="session")
def bulletin(farm, parcels) -> IrrigationBulletin:
    week = dt.date(2026, 3, 16)
    rows = tuple(
        BulletinRow(p,
                    tuple(IrrigationDay(week + dt.timedelta(days=d), depth,
                                        depth * 10 * p.area_ha) for d, depth in enumerate([0, 20 + i, 0, 0, 18, 0, 0])))
        for i, p in enumerate(parcels)
    )
    return IrrigationBulletin(farm.id, farm.name, Cooperative.of_farm(farm), week, rows)
