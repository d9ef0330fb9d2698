"""Parcels of a farm: read (GeoJSON / GeoPackage / Shapefile, any CRS), reproject, validate.

Every problem is reported with the parcel id and a fix; no parcel is silently dropped. Errors
(invalid or empty geometry, outside the farm grid, duplicate id, missing attribute) make a
parcel unusable for statistics; warnings (overlap with a neighbour, partly outside the grid)
do not. Invalid geometries are repaired (shapely.make_valid) only when asked.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from pipelines.core.config import Farm
from pipelines.core.errors import InputDataError
from pipelines.core.grid import FarmGrid

ATTRIBUTES = ("id", "member", "crop", "sowing_date", "irrigation_method", "soil_texture")
ID_FIELDS = ("id", "ID", "fid", "name", "plot")
"""Id column of any polygon layer (plots, trial grids, blocks) when no --id-field is given: the first present."""
SHAPEFILE_NAMES = {a[:10]: a for a in ATTRIBUTES if len(a) > 10}
"""Shapefile (dBase) truncates field names to 10 characters: sowing_dat -> sowing_date, ..."""
OVERLAP_M2 = 0.01
"""Shared area below which two parcels only touch (digitising noise), in m²."""


@dataclass(frozen=True)
class ParcelProblem:
    """A problem of one parcel feature: kind, severity ("error" makes it unusable, or "warning"),
    message and fix."""

    parcel_id: str
    kind: str
    severity: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f'parcel "{self.parcel_id}": {self.message}; {self.fix}'


@dataclass(frozen=True)
class ParcelSet:
    """Parcels in the grid CRS (GeoDataFrame with the ATTRIBUTES columns) and their problems."""

    path: Path
    frame: gpd.GeoDataFrame
    problems: list[ParcelProblem] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        """Parcel ids, in the layer's order."""
        return list(self.frame["id"])

    @property
    def unusable(self) -> set[str]:
        """Ids of the parcels with at least one error."""
        return {p.parcel_id for p in self.problems if p.severity == "error"}

    def problem_of(self, parcel_id: str) -> str | None:
        """The parcel's error kinds, comma-joined, or None when it has none."""
        errors = [p.kind for p in self.problems if p.parcel_id == parcel_id and p.severity == "error"]
        return ", ".join(errors) or None

    def raise_for_errors(self) -> None:
        """Raise InputDataError naming the parcels file and listing every error, if any."""
        errors = [str(p) for p in self.problems if p.severity == "error"]
        if errors:
            raise InputDataError(self.path, f"{len(errors)} parcel problem(s): " + " | ".join(errors),
                                 "fix the parcels file (or pass repair=True / --repair-geometries "
                                 "for invalid geometries)")


def _read(path: Path) -> gpd.GeoDataFrame:
    if not path.is_file():
        raise InputDataError(path, "parcels file not found", "check the farm's 'parcels' entry or the path")
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises its own DataSourceError family
        raise InputDataError(path, f"cannot be read as a vector file ({exc})",
                             "export it as GeoJSON, GeoPackage or Shapefile") from None
    if frame.crs is None:
        raise InputDataError(path, "has no coordinate reference system",
                             "add a .prj / CRS (GeoJSON is WGS84 by definition)")
    return frame.rename(columns={k: v for k, v in SHAPEFILE_NAMES.items()
                                 if k in frame.columns and v not in frame.columns})


def _id_column(frame: gpd.GeoDataFrame, path: Path, id_field: str | None) -> str:
    if id_field is not None:
        if id_field not in frame.columns:
            raise InputDataError(path,
                                 f"has no field '{id_field}' (fields: {[c for c in frame.columns if c != 'geometry']})",
                                 "pass --id-field with one of these fields")
        return id_field
    found = next((c for c in ID_FIELDS if c in frame.columns), None)
    if found is None:
        raise InputDataError(path, f"has none of the id fields {list(ID_FIELDS)} "
                             f"(fields: {[c for c in frame.columns if c != 'geometry']})", "pass --id-field FIELD")
    return found


def _attribute_problems(frame: gpd.GeoDataFrame, attributes: tuple[str, ...] = ATTRIBUTES) -> list[ParcelProblem]:
    problems = []
    for row, record in frame.iterrows():
        pid = str(record["id"]) if "id" in frame.columns and record["id"] is not None else f"row {row}"
        missing = [a for a in attributes if a not in frame.columns or record[a] is None
                   or (isinstance(record[a], float) and np.isnan(record[a])) or str(record[a]).strip() == ""]
        if missing:
            problems.append(ParcelProblem(pid, "missing attribute", "error", f"attribute(s) {missing} are missing",
                                          f"add them to the feature properties ({', '.join(attributes)})"))
    counts = frame["id"].astype(str).value_counts() if "id" in frame.columns else {}
    for pid, count in getattr(counts, "items", lambda: [])():
        if count > 1:
            problems.append(ParcelProblem(pid, "duplicate id", "error", f"id is used by {count} features",
                                          "give every parcel its own id"))
    return problems


def _geometry_problems(frame: gpd.GeoDataFrame, grid: FarmGrid, repair: bool) -> list[ParcelProblem]:
    problems = []
    farm = shapely.box(*grid.bounds)
    for row in frame.index:
        pid, geom = str(frame.at[row, "id"]), frame.geometry[row]
        if geom is None or geom.is_empty:
            problems.append(ParcelProblem(pid, "empty geometry", "error", "has no geometry", "draw the parcel outline"))
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(ParcelProblem(pid, "not a polygon", "error", f"is a {geom.geom_type}",
                                          "draw it as a polygon"))
            continue
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            if repair:
                fixed = shapely.make_valid(geom)
                fixed = shapely.union_all([g for g in shapely.get_parts(fixed) if g.geom_type in ("Polygon",
                                                                                                  "MultiPolygon")])
                frame.loc[row, "geometry"] = fixed
                geom = fixed
                problems.append(ParcelProblem(pid, "repaired geometry", "warning",
                                              f"invalid geometry ({reason}) was repaired",
                                              "check the repaired outline and fix the source file"))
            else:
                problems.append(ParcelProblem(pid, "invalid geometry", "error", f"invalid geometry ({reason})",
                                              "fix it or run with --repair-geometries (repair=True)"))
                continue
        inside = geom.intersection(farm).area / geom.area if geom.area > 0 else 0.0
        if inside == 0.0:
            problems.append(ParcelProblem(pid, "outside grid", "error", "lies entirely outside the farm grid",
                                          "check its coordinates/CRS or extend the farm grid in farm.yaml"))
        elif inside < 1.0 - 1e-9:
            problems.append(ParcelProblem(pid, "partly outside grid", "warning",
                                          f"only {inside:.1%} of its area lies on the farm grid",
                                          "extend the farm grid in farm.yaml; statistics cover the part on the grid"))
    return problems


def _overlap_problems(frame: gpd.GeoDataFrame) -> list[ParcelProblem]:
    geoms = frame.geometry.values
    usable = np.array([g is not None and not g.is_empty and g.is_valid for g in geoms])
    left, right = frame.sindex.query(geoms, predicate="intersects")
    problems = []
    for i, j in zip(left, right):
        if i < j and usable[i] and usable[j]:
            shared = geoms[i].intersection(geoms[j]).area
            if shared > OVERLAP_M2:
                a, b = str(frame["id"].iloc[i]), str(frame["id"].iloc[j])
                for pid, other in ((a, b), (b, a)):
                    problems.append(ParcelProblem(pid, "overlap", "warning",
                                                  f"overlaps parcel \"{other}\" by {shared:.1f} m²",
                                                  "correct the shared border; each parcel keeps its full area "
                                                  "in the statistics"))
    return problems


def load_parcels(farm_or_path: Farm | str | Path, grid: FarmGrid | None = None, repair: bool = False,
                 id_field: str | None = None, require_attributes: bool = True) -> ParcelSet:
    """Read the parcels, reproject them to the grid CRS and list every problem found.

    A farm's parcel configuration must carry every agronomic attribute (ATTRIBUTES). With
    `require_attributes=False` (the CLI's `parcels stats|zones` on any polygon layer: plots, trial
    grids, management blocks) only an id is needed: `id_field`, else the first of ID_FIELDS present.
    """
    farm = isinstance(farm_or_path, Farm) or require_attributes
    if isinstance(farm_or_path, Farm):
        path = farm_or_path.path(farm_or_path.parcels)
        grid = grid or FarmGrid.of_farm(farm_or_path)
    else:
        path = Path(farm_or_path)
    if grid is None:
        raise ValueError("load_parcels needs the farm grid when given a path")
    frame = _read(path)
    frame = frame.to_crs(grid.crs.to_wkt()).reset_index(drop=True)
    if not farm:
        column = _id_column(frame, path, id_field)
        frame = frame.rename(columns={"id": "id_source"}) if column != "id" and "id" in frame.columns else frame
        frame["id"] = frame[column]
    problems = _attribute_problems(frame, ATTRIBUTES if farm else ("id",))
    if "id" not in frame.columns:
        frame["id"] = [f"row {i}" for i in range(len(frame))]
    frame["id"] = [str(v) if v is not None else f"row {i}" for i, v in enumerate(frame["id"])]
    problems += _geometry_problems(frame, grid, repair) + _overlap_problems(frame)
    return ParcelSet(path, frame, problems)
