"""Variable-rate prescriptions from management zones, exported for farm software and terminals.

Rate per zone (rule from `configs/prescription.yaml`, `pipelines.core.config.PrescriptionRule`):

    rate = clip(base · (1 + response · (v_zone − v̄) / v̄), min_rate, max_rate)

with v_zone the zone's mean index and v̄ the parcel's area-weighted mean of its zones, so a
parcel of one zone gets `base` (clipped). An irrigation prescription built with the zone water
balance (`zone_depths`, from `plan_zone_depths` of the zone plan) takes each zone's planned gross
depth instead, so the file sent to the controller says what the plan says, zone by zone; the
rule's positive response gives the same direction when no plan is at hand (more vigour, more
transpiration, more water: FAO-56 Kcb rises with NDVI). Exports: GeoJSON (RFC 7946: WGS84 lon/lat, right-hand
rings), ESRI Shapefile (grid CRS, with .prj) and ISO 11783-10 TASKDATA (`taskdata`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np

from pipelines.core.config import PrescriptionRule, load_prescription_rules
from pipelines.core.errors import ConfigError
from pipelines.imagery.zones.delineation import ZoneSet

FORMATS = ("geojson", "shapefile", "isoxml")
NAME = "prescription"


def prescription_rule(rule: str | PrescriptionRule) -> PrescriptionRule:
    """A rule by name from configs/prescription.yaml, or the rule itself."""
    if isinstance(rule, PrescriptionRule):
        return rule
    rules = load_prescription_rules()
    if rule not in rules:
        raise ConfigError("configs/prescription.yaml", rule, f"no prescription rule named '{rule}'",
                          f"use one of {sorted(rules)} or add it to the file")
    return rules[rule]


def plan_zone_depths(plan) -> dict[tuple[str, int], float]:
    """{(parcel id, zone rank): gross mm} of a zone plan: today's depth, else the next event's."""
    depth = np.where(plan["irrigate_today"], plan["depth_mm"],
                     plan["next_depth_mm"] if "next_depth_mm" in plan else np.nan)
    return {(str(p), int(z)): float(d) for p, z, d in zip(plan["parcel"], plan["zone"], depth) if np.isfinite(d)}


def zone_rates(zones: ZoneSet, rule: str | PrescriptionRule, base_rates: Mapping[str, float] | None = None,
               zone_depths: Mapping[tuple[str, int], float] | None = None) -> np.ndarray:
    """Rate of every zone (row of `zones.frame`) in the rule's unit; `base_rates` per parcel id override the rule's
    base; `zone_depths` {(parcel id, zone): mm} (the zone plan) replace the rule for the zones they name."""
    rule = prescription_rule(rule)
    frame = zones.frame
    area, mean = frame["area_m2"].to_numpy(float), frame["index_mean"].to_numpy(float)
    known = np.isfinite(mean)
    weighted = frame.assign(_w=np.where(known, area, 0.0), _wv=np.where(known, area * mean, 0.0))
    sums = weighted.groupby("parcel_id")[["_w", "_wv"]].transform("sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        reference = sums["_wv"].to_numpy() / sums["_w"].to_numpy()
        relative = np.where(known & (reference != 0), (mean - reference) / reference, 0.0)
    bases = (base_rates or {})
    base = np.array([bases.get(pid, rule.base_rate) for pid in frame["parcel_id"]], float)
    rates = np.clip(base * (1.0 + rule.response * relative), rule.min_rate, rule.max_rate)
    if zone_depths:
        planned = [zone_depths.get((str(p), int(z))) for p, z in zip(frame["parcel_id"], frame["zone"])]
        rates = np.array([r if d is None else d for r, d in zip(rates, planned)], dtype=float)
    return rates


def prescription_frame(zones: ZoneSet, rule: str | PrescriptionRule, base_rates: Mapping[str, float] | None = None,
                       zone_depths: Mapping[tuple[str, int], float] | None = None) -> gpd.GeoDataFrame:
    """The zones with the rule's rate column (`rule.rate_field`, in `rule.unit`), in the grid CRS."""
    rule = prescription_rule(rule)
    frame = zones.frame.copy()
    frame[rule.rate_field] = zone_rates(zones, rule, base_rates, zone_depths).round(2)
    frame["crop"] = frame["crop"].fillna("").astype(str)
    return frame


def export_prescription(zones: ZoneSet, rule: str | PrescriptionRule, out_dir: str | Path,
                        formats: Sequence[str] = FORMATS, base_rates: Mapping[str, float] | None = None,
                        customer: str = "Saqi customer", farm_name: str = "Saqi farm",
                        zone_depths: Mapping[tuple[str, int], float] | None = None) -> dict[str, Path]:
    """Write the prescription in each format under `out_dir`; return {format: path written}.

    geojson -> `prescription.geojson`, shapefile -> `shapefile/prescription.shp` (+ .shx .dbf
    .prj .cpg), isoxml -> `TASKDATA/TASKDATA.XML` (one task per zoned parcel).
    """
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown export format(s) {sorted(unknown)}; use {list(FORMATS)}")
    if zones.frame.empty:
        raise ValueError("no parcel has management zones: nothing to prescribe (see ZoneSet.notes)")
    rule = prescription_rule(rule)
    frame = prescription_frame(zones, rule, base_rates, zone_depths)
    return write_prescription(frame, zones.parcels.frame, rule, Path(out_dir), formats, NAME, customer, farm_name)


def write_prescription(frame: gpd.GeoDataFrame, outlines: gpd.GeoDataFrame, rule: PrescriptionRule, out_dir: Path,
                       formats: Sequence[str] = FORMATS, name: str = NAME, customer: str = "Saqi customer",
                       farm_name: str = "Saqi farm") -> dict[str, Path]:
    """Write zones with a rate column (`parcel_id`, `zone`, `rule.rate_field`, geometry in the grid
    CRS) as `<name>.geojson`, `shapefile/<name>.shp` and `TASKDATA/TASKDATA.XML`; return the paths."""
    from pipelines.imagery.zones.taskdata import write_taskdata

    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown export format(s) {sorted(unknown)}; use {list(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    if "geojson" in formats:
        path = out_dir / f"{name}.geojson"
        path.unlink(missing_ok=True)
        frame.to_crs("EPSG:4326").to_file(path, driver="GeoJSON", engine="pyogrio",
                                          layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": 8})
        written["geojson"] = path
    if "shapefile" in formats:
        path = out_dir / "shapefile" / f"{name}.shp"
        path.parent.mkdir(exist_ok=True)
        frame.to_file(path, driver="ESRI Shapefile", engine="pyogrio", encoding="UTF-8")
        written["shapefile"] = path
    if "isoxml" in formats:
        written["isoxml"] = write_taskdata(frame, outlines, rule, out_dir / "TASKDATA", customer=customer,
                                           farm_name=farm_name)
    return written
