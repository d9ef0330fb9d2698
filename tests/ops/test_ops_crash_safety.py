"""The farm store under concurrency and faults: parallel writers, a reader during a rewrite, a
writer SIGKILLed mid-write. Afterwards the store opens, completed flights are intact, the killed
flight is absent or complete, a re-run completes it once, and staging debris is cleaned."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import zarr
from affine import Affine
from rasterio.crs import CRS

from pipelines.core.grid import FarmGrid
from pipelines.store import cube

WRITER = Path(__file__).with_name("store_writer.py")
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60


def _writer(store, flight, value, *extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WRITER), str(store), flight, str(value), *extra], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _values(store, flight) -> np.ndarray:
    return cube.load_product(store, cube.flight_group(flight, "reflectance"))["reflectance"].values


def _staging_debris(store) -> list[str]:
    area = Path(store) / cube.STAGING
    return sorted(p.name for p in area.iterdir()) if area.is_dir() else []


def test_two_processes_write_different_flights_of_one_farm(tmp_path):
    store = tmp_path / "chtouka.zarr"
    procs = [_writer(store, "chtouka-20260115", 0.2, "--repeat", "2"),
             _writer(store, "chtouka-20260203", 0.4, "--repeat", "2")]
    try:
        assert [p.wait(TIMEOUT_S) for p in procs] == [0, 0], [p.stderr.read() for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert cube.flights_in_store(store) == ["chtouka-20260115", "chtouka-20260203"]
    # the second write of each adds 0.1 (store_writer alternates value, value + 0.1)
    assert np.all(_values(store, "chtouka-20260115") == np.float32(0.3))
    assert np.all(_values(store, "chtouka-20260203") == np.float32(0.5))
    assert zarr.open_group(str(store),
                           mode="r")["flights"]["chtouka-20260115"]["reflectance"]["reflectance"].shape == (2, 768,
                                                                                                            1024)
    assert _staging_debris(store) == []


def test_reader_sees_whole_products_while_a_flight_is_rewritten(tmp_path):
    store = tmp_path / "chtouka.zarr"
    flight = "chtouka-20260115"
    proc = _writer(store, flight, 0.3, "--repeat", "1")
    assert proc.wait(TIMEOUT_S) == 0
    rewriter = _writer(store, flight, 0.5, "--repeat", "8")
    seen, deadline = set(), time.monotonic() + TIMEOUT_S
    try:
        while rewriter.poll() is None and time.monotonic() < deadline:
            values = _values(store, flight)
            uniques = np.unique(values)
            assert uniques.size == 1, f"half-replaced product read: {uniques}"
            seen.add(round(float(uniques[0]), 3))
        assert rewriter.wait(TIMEOUT_S) == 0, rewriter.stderr.read()
    finally:
        rewriter.kill()
    assert seen <= {0.3, 0.5, 0.6} and len(seen) >= 2
    assert float(_values(store, flight).max()) == pytest.approx(0.6)
    assert cube.flights_in_store(store) == [flight]


def _kill_mid_write(store, flight, value) -> None:
    proc = _writer(store, flight, value, "--slow", "5")
    try:
        assert proc.stdout.readline().strip() == "writing", proc.stderr.read()
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(TIMEOUT_S) == -signal.SIGKILL
    finally:
        proc.kill()


def test_sigkilled_writer_leaves_flight_absent_and_a_rerun_completes_it(tmp_path):
    store = tmp_path / "chtouka.zarr"
    assert _writer(store, "chtouka-20260115", 0.2).wait(TIMEOUT_S) == 0
    _kill_mid_write(store, "chtouka-20260203", 0.4)
    assert len(_staging_debris(store)) == 2  # the dead writer's staging group and its lock file
    assert cube.flights_in_store(store) == ["chtouka-20260115"]
    assert not cube.has_product(store, cube.flight_group("chtouka-20260203", "reflectance"))
    assert np.all(_values(store, "chtouka-20260115") == np.float32(0.2))
    assert _writer(store, "chtouka-20260203", 0.4).wait(TIMEOUT_S) == 0
    assert _staging_debris(store) == []  # the next write removed the dead writer's debris
    assert cube.flights_in_store(store) == ["chtouka-20260115", "chtouka-20260203"]
    assert np.all(_values(store, "chtouka-20260203") == np.float32(0.4))
    assert sorted(p.name for p in (store / "flights").iterdir() if p.is_dir()) == ["chtouka-20260115",
                                                                                   "chtouka-20260203"]


def test_sigkilled_rewrite_keeps_previous_product_and_cleanup_removes_debris(tmp_path):
    store = tmp_path / "chtouka.zarr"
    assert _writer(store, "chtouka-20260115", 0.2).wait(TIMEOUT_S) == 0
    before = cube.product_version(store, cube.flight_group("chtouka-20260115", "reflectance"))
    _kill_mid_write(store, "chtouka-20260115", 0.7)
    assert cube.product_version(store, cube.flight_group("chtouka-20260115", "reflectance")) == before
    assert np.all(_values(store, "chtouka-20260115") == np.float32(0.2))
    removed = cube.cleanup(store)
    assert len(removed) == 1 and _staging_debris(store) == []


def test_a_parent_group_created_by_another_writer_meanwhile_is_not_an_error(tmp_path, monkeypatch):
    """zarr's mode "a" checks then creates: the writer that loses that race gets ContainsGroupError
    (seen in CI with two flights of one farm published at once). The loser opens the group instead."""
    real = zarr.open_group
    raced = []

    def racing(store, *, path=None, mode="a", **kwargs):
        if path == "flights" and mode == "a" and not raced:
            raced.append(path)
            real(store, path=path, mode="a", **kwargs)           # the other writer wins the race
            raise zarr.errors.ContainsGroupError(store, path)
        return real(store, path=path, mode=mode, **kwargs)

    monkeypatch.setattr(zarr, "open_group", racing)
    store = tmp_path / "chtouka.zarr"
    data = np.zeros((1, 4, 4), np.float32)
    grid = FarmGrid(CRS.from_epsg(32629), Affine(0.25, 0, 0, 0, -0.25, 0), 4, 4)
    cube.write_product(store, cube.flight_group("chtouka-20260115", "reflectance"),
                       cube.raster(data, grid, "reflectance", "band", ["nir"]))
    assert raced == ["flights"] and cube.flights_in_store(store) == ["chtouka-20260115"]
