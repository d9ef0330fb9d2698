"""The landing area: which flight folders have arrived completely, on a local disk or any fsspec URL.

Layout: `<landing>/<farm>/<yyyymmdd>[-n]/` holding the orthomosaic (or the band captures) and
`flight.yaml`. A folder is *complete* when it holds at least one TIFF, no partial-upload file
(`*.part`, `*.tmp`, `*.crdownload`, hidden files), every file `flight.yaml` lists under `files:`,
exactly one TIFF if it declares `kind: orthomosaic`, and every file size is non-zero and the same
as at the previous look (an upload still growing is not stable). Farm and folder names are
validated (`pipelines.core.keys`) before anything is joined into a path; invalid ones are refused.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import fsspec
import yaml

from pipelines.core.errors import InputDataError
from pipelines.core.keys import FlightKey, farm_id
from pipelines.imagery.ingest.flight import RASTER_SUFFIXES
from pipelines.store.publish import is_remote, join

PARTIAL_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".filepart")


@dataclass(frozen=True)
class LandedFlight:
    """One flight folder as seen now: its key, location and file sizes (bytes)."""

    key: str
    location: str
    sizes: dict[str, int]
    missing: tuple[str, ...] = ()

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(sorted(self.sizes.items())).encode()).hexdigest()[:16]

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass
class LandingScan:
    flights: list[LandedFlight] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def _fs(landing: str | Path):
    if is_remote(landing):
        return fsspec.core.url_to_fs(str(landing), use_listings_cache=False)
    return fsspec.filesystem("file"), str(Path(landing).resolve())


def _entries(fs, path: str) -> list[dict]:
    return fs.ls(path, detail=True) if fs.exists(path) else []


def _name(entry: dict) -> str:
    return entry["name"].rstrip("/").rsplit("/", 1)[-1]


def _missing(fs, folder: str, sizes: dict[str, int]) -> tuple[str, ...]:
    problems = [f"{n} is still uploading" for n in sizes if n.startswith(".") or n.lower().endswith(PARTIAL_SUFFIXES)]
    problems += [f"{n} is empty" for n, size in sizes.items() if size == 0]
    tifs = [n for n in sizes if n.lower().endswith(RASTER_SUFFIXES)]
    if not tifs:
        problems.append("no TIFF yet")
    if "flight.yaml" in sizes and sizes["flight.yaml"] > 0:
        try:
            declared = yaml.safe_load(fs.cat_file(f"{folder}/flight.yaml").decode("utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError):
            return (*problems, "flight.yaml is not readable YAML yet")
        if isinstance(declared, dict):
            problems += [f"{n} listed in flight.yaml is missing" for n in declared.get("files") or [] if n not in sizes]
            if declared.get("kind") == "orthomosaic" and len(tifs) > 1:
                problems.append(f"{len(tifs)} TIFFs for an orthomosaic flight")
    return tuple(problems)


def scan_landing(landing: str | Path, farms: Iterable[str]) -> LandingScan:
    """Every flight folder under `landing` for the known `farms`, with sizes and what is missing."""
    fs, root = _fs(landing)
    known = set(farms)
    scan = LandingScan()
    for farm_entry in _entries(fs, root):
        if farm_entry["type"] != "directory":
            continue
        farm = _name(farm_entry)
        try:
            farm_id(farm)
        except InputDataError as exc:
            scan.refused[farm] = str(exc)
            continue
        if farm not in known:
            scan.refused[farm] = f"{farm}: no configs/farms/{farm}/farm.yaml; add the farm before landing its flights"
            continue
        for entry in _entries(fs, f"{root}/{farm}"):
            if entry["type"] != "directory":
                continue
            folder = _name(entry)
            try:
                key = FlightKey.from_folder(farm, folder)
            except InputDataError as exc:
                scan.refused[f"{farm}/{folder}"] = str(exc)
                continue
            location = f"{root}/{farm}/{key.folder}"
            sizes = {_name(e): int(e.get("size") or 0) for e in _entries(fs, location) if e["type"] == "file"}
            scan.flights.append(LandedFlight(str(key), location, sizes, _missing(fs, location, sizes)))
    return scan


def flight_location(landing: str | Path, key: str) -> str:
    """URL or absolute path of a flight's landing folder, from a validated key."""
    flight = FlightKey.parse(key)
    return join(str(landing), flight.farm,
                flight.folder) if is_remote(landing) else str(Path(landing) / flight.farm / flight.folder)


def fetch_flight(landing: str | Path, key: str, cache_dir: str | Path) -> Path:
    """A local folder holding the flight: the landing folder itself, or a copy of a remote one in
    `<cache_dir>/<farm>/<folder>` (replaced whole when the remote files differ in size)."""
    location = flight_location(landing, key)
    if not is_remote(landing):
        return Path(location)
    flight = FlightKey.parse(key)
    fs, path = _fs(location)
    remote = {_name(e): int(e["size"]) for e in _entries(fs, path) if e["type"] == "file"}
    if not remote:
        raise InputDataError(location, "the flight folder is empty or absent", "land the flight again")
    local = Path(cache_dir) / flight.farm / flight.folder
    if local.is_dir() and {p.name: p.stat().st_size for p in local.iterdir()} == remote:
        return local
    staging = local.with_name(local.name + ".fetching")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in remote:
        fs.get_file(f"{path}/{name}", str(staging / name))
    shutil.rmtree(local, ignore_errors=True)
    staging.rename(local)
    return local


@dataclass
class LandingCursor:
    """What the sensor remembers between evaluations (stored as the sensor's JSON cursor).

    `pending`: size fingerprint of each incomplete or not-yet-stable flight at the last look;
    `registered`: flights already registered (never requested twice, even after a restart)."""

    pending: dict[str, str] = field(default_factory=dict)
    registered: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, text: str | None) -> "LandingCursor":
        data = json.loads(text) if text else {}
        return cls(dict(data.get("pending", {})), set(data.get("registered", [])))

    def dump(self) -> str:
        return json.dumps({"pending": self.pending, "registered": sorted(self.registered)}, sort_keys=True)

    def advance(self, scan: LandingScan, already: set[str]) -> list[LandedFlight]:
        """Update from a new scan; return the flights that became complete and stable now.

        `already` holds flights registered by other means (e.g. the instance's dynamic
        partitions): they are remembered, never returned."""
        ready, pending = [], {}
        for flight in scan.flights:
            if flight.key in self.registered or flight.key in already:
                self.registered.add(flight.key)
                continue
            if flight.complete and self.pending.get(flight.key) == flight.fingerprint:
                ready.append(flight)
                self.registered.add(flight.key)
            else:
                pending[flight.key] = flight.fingerprint
        self.pending = pending
        return ready
