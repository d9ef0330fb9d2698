"""Fill the report dataclasses from a farm's configs and Zarr store (no rendering here).

Reads the latest flight's vigour index (NDVI, or ExG for an RGB camera farm: the report says
which), class map and management zones (each parcel's window and a block-mean overview read strip
by strip from the Zarr store, never the whole mosaic), the `parcels` season cube, and the
`recommendations` cube (irrigation plan of the latest planned day, yield of the latest estimate).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio.features
import xarray as xr

from pipelines.core.config import Farm, load_crop
from pipelines.core.errors import InputDataError, SaqiError
from pipelines.core.grid import FarmGrid
from pipelines.core.keys import FlightKey
from pipelines.imagery import preview
from pipelines.imagery.indices.rgb import vigour_index
from pipelines.imagery.parcels.layer import load_parcels
from pipelines.reports.maps import (
    DEFAULT_MAX_SIDE_PX,
    NO_DATA,
    class_map,
    ndvi_map,
    zones_map,
)
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
from pipelines.store import cube, products, tables, windows
from pipelines.store.products import INDICES, PARCEL_STATS

MAP_MARGIN_PX = 8


@dataclass(frozen=True)
class FarmReports:
    """Everything the reports of one farm need, for its latest flight."""

    parcels: tuple[ParcelReport, ...]
    cooperative: CooperativeReport
    bulletin: IrrigationBulletin | None
    quarantined: dict[str, str] = field(default_factory=dict)
    """Parcels left out of the reports, with the reason (bad outline, unknown crop…): one bad parcel
    never stops the reports of the others."""


def _latest_flight(store: Path) -> FlightKey:
    flight = products.latest_flight(store, having=PARCEL_STATS)
    if flight is None:
        raise LookupError(f"{store}: no flight with parcel statistics yet; materialise parcel_stats first")
    return flight


def _trend(season: xr.DataArray, parcel_id: str, vigour: str = "ndvi") -> tuple[TrendPoint, ...]:
    points = []
    variables = set(season["variable"].values.tolist())
    for time in season["time"].values:
        row = season.sel(parcel=parcel_id, time=time)
        value = lambda name: float(row.sel(variable=name)) if name in variables else float("nan")  # noqa: E731
        if np.isfinite(value(f"{vigour}_mean")):
            points.append(TrendPoint(pd.Timestamp(time).date(), value(f"{vigour}_mean"), value("crop_cover_fraction"),
                                     value("weed_pressure")))
    return tuple(points)


def _latest_day(rec: xr.Dataset, variable: str, on_or_before: dt.date | None = None) -> pd.Timestamp | None:
    filled = rec[variable].notnull().any("parcel")
    dates = rec["date"].values[filled.values]
    if on_or_before is not None:
        dates = dates[dates <= np.datetime64(on_or_before)]
    return pd.Timestamp(dates[-1]) if len(dates) else None


def _plan(rec: xr.Dataset | None, parcel_id: str) -> IrrigationPlan | None:
    day = _latest_day(rec, "depth_mm") if rec is not None else None
    if day is None:
        return None
    row = rec.sel(parcel=parcel_id, date=day)
    following = rec.sel(parcel=parcel_id, date=slice(day + pd.Timedelta(days=1), day + pd.Timedelta(days=7)))
    outlook = tuple(IrrigationDay(pd.Timestamp(d).date(), float(depth), float(volume))
                    for d, depth, volume in zip(following["date"].values, following["depth_mm"].values,
                                                following["volume_m3"].values) if np.isfinite(depth))
    next_date = row["next_irrigation_date"].values
    return IrrigationPlan(
        date=day.date(), irrigate_today=bool(row["irrigate_today"]), depth_mm=float(row["depth_mm"]),
        volume_m3=float(row["volume_m3"]), next_date=None if pd.isna(next_date) else pd.Timestamp(next_date).date(),
        outlook=outlook, stress_coefficient=float(row["ks"]), depletion_mm=float(row["depletion_mm"]),
        readily_available_mm=float(row["raw_mm"]), litres_per_plant=_finite(row, "litres_per_plant"),
        run_time_h=_finite(row, "run_time_h"),
        pulses=None if _finite(row, "pulses") is None else int(_finite(row, "pulses")),
        leaching_fraction=_finite(row, "leaching_fraction"), quota_cut_m3=_finite(row, "quota_cut_m3") or 0.0,
        quota_cut_mm=_finite(row, "quota_cut_mm") or 0.0,
        quota_deficit_stage=bool(_finite(row, "quota_deficit_stage") or 0.0))


def _finite(row: xr.Dataset, name: str) -> float | None:
    """The variable's value, or None when the cube lacks it or it is NaN (not applicable that day)."""
    if name not in row:
        return None
    value = float(row[name])
    return value if np.isfinite(value) else None


def _yield(rec: xr.Dataset | None, parcel_id: str) -> YieldEstimate | None:
    day = _latest_day(rec, "yield_t_ha") if rec is not None else None
    if day is None:
        return None
    row = rec.sel(parcel=parcel_id, date=day)
    if not np.isfinite(float(row["yield_t_ha"])):
        return None
    return YieldEstimate(float(row["yield_t_ha"]), float(row["yield_p10_t_ha"]), float(row["yield_p90_t_ha"]),
                         rec.attrs.get("yield_model", "light-use efficiency"))


def _window(grid: FarmGrid, geometry) -> tuple[slice, slice, np.ndarray]:
    """Pixel window around a parcel (with a margin) and the parcel's mask in that window."""
    inverse = ~grid.transform
    xmin, ymin, xmax, ymax = geometry.bounds
    col0, row0 = inverse @ (xmin, ymax)
    col1, row1 = inverse @ (xmax, ymin)
    r0, c0 = max(int(row0) - MAP_MARGIN_PX, 0), max(int(col0) - MAP_MARGIN_PX, 0)
    r1, c1 = min(int(np.ceil(row1)) + MAP_MARGIN_PX, grid.height), min(int(np.ceil(col1)) + MAP_MARGIN_PX, grid.width)
    transform = grid.transform @ grid.transform.translation(c0, r0)
    mask = rasterio.features.geometry_mask([geometry], out_shape=(r1 - r0, c1 - c0), transform=transform, invert=True)
    return slice(r0, r1), slice(c0, c1), mask


def farm_reports(farm: Farm, data_root: str | Path) -> FarmReports:
    """Report contents for every parcel of `farm`, the cooperative summary and the weekly bulletin."""
    grid, store = FarmGrid.of_farm(farm), cube.farm_store(data_root, farm.id)
    flight = _latest_flight(store)
    vigour = vigour_index(products.layer_names(store, flight, INDICES))
    if vigour is None:
        raise LookupError(f"{store}: flight {flight} has neither NDVI nor ExG; materialise vegetation_indices again")
    ndvi = products.layer(store, flight, INDICES, vigour)
    classes = windows.stored_array(store, flight, "classes")
    zones = (windows.stored_array(store, flight, "zones")
             if cube.has_product(store, cube.flight_group(flight, "zones")) else None)
    season = tables.read_parcel_cube(store)
    rec = tables.read_recommendations(store) if cube.has_product(store, tables.RECOMMENDATIONS) else None
    cooperative = Cooperative.of_farm(farm)
    reports, rows, quarantined = [], [], {}
    parcel_set = load_parcels(farm, grid)
    for feature in parcel_set.frame.itertuples(index=False):
        if str(feature.id) in parcel_set.unusable:
            quarantined[str(feature.id)] = "; ".join(str(p) for p in parcel_set.problems
                                                     if p.parcel_id == str(feature.id) and p.severity == "error")
            continue
        try:
            crop = load_crop(feature.crop)
        except SaqiError as exc:
            quarantined[str(feature.id)] = f'parcel "{feature.id}": {exc}'
            continue
        parcel = Parcel(str(feature.id), str(feature.member), crop.id, dict(crop.names),
                        float(feature.geometry.area) / 10_000, str(feature.irrigation_method))
        rows_, cols_, mask = _window(grid, feature.geometry)
        parcel_ndvi = np.where(mask, ndvi[rows_, cols_], np.nan)
        parcel_classes = np.where(mask, classes[rows_, cols_], NO_DATA).astype(np.uint8)
        trend = _trend(season, parcel.id, vigour) if parcel.id in season["parcel"].values else ()
        plan, estimate = _plan(rec, parcel.id), _yield(rec, parcel.id)
        reports.append(ParcelReport(farm.id, farm.name, cooperative, parcel, flight.date,
                                    ndvi_map(parcel_ndvi, grid.resolution_m, index=vigour),
                                    class_map(parcel_classes, grid.resolution_m),
                                    zones_map=(zones_map(np.where(mask, zones[rows_, cols_], 0).astype(np.uint8),
                                                         grid.resolution_m) if zones is not None else None),
                                    trend=trend, plan=plan, yield_estimate=estimate, vigour_index=vigour))
        latest = trend[-1] if trend else None
        rows.append(CooperativeRow(parcel, latest.ndvi_mean if latest else None,
                                   latest.crop_cover_fraction if latest else None,
                                   latest.weed_pressure_fraction if latest else None, plan, estimate))
    factor = preview.preview_step(grid.shape, DEFAULT_MAX_SIDE_PX)
    overview = ndvi_map(preview.block_mean_strips(ndvi, factor), grid.resolution_m * factor, index=vigour)
    summary = CooperativeReport(farm.id, farm.name, cooperative, flight.date, tuple(rows), overview, vigour)
    if not reports:
        raise InputDataError(farm.path(farm.parcels), f"no parcel can be reported ({'; '.join(quarantined.values())})",
                             "fix the parcels file and configs/crops")
    return FarmReports(tuple(reports), summary, _bulletin(farm, rec, [r.parcel for r in rows], cooperative),
                       quarantined)


def _bulletin(farm: Farm, rec: xr.Dataset | None, parcels: list[Parcel],
              cooperative: Cooperative) -> IrrigationBulletin | None:
    """The planned week: the 7 days ending on the latest planned day, starting at its first planned day."""
    last = _latest_day(rec, "depth_mm") if rec is not None else None
    if last is None:
        return None
    window = rec.sel(date=slice(last - pd.Timedelta(days=6), last))
    filled = window["date"].values[window["depth_mm"].notnull().any("parcel").values]
    start = pd.Timestamp(filled[0])
    week = rec.sel(date=slice(start, start + pd.Timedelta(days=6)))
    rows = []
    for parcel in parcels:
        days = tuple(IrrigationDay(pd.Timestamp(d).date(), float(depth), float(volume))
                     for d, depth, volume in zip(week["date"].values, week["depth_mm"].sel(parcel=parcel.id).values,
                                                 week["volume_m3"].sel(parcel=parcel.id).values) if np.isfinite(depth))
        rows.append(BulletinRow(parcel, days))
    return IrrigationBulletin(farm.id, farm.name, cooperative, start.date(), tuple(rows))
