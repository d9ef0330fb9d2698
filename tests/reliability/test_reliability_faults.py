"""Fault injection on the farm store and the delivery log: a full disk (a real 3 MB tmpfs, and a
patched writer failing at each step of a publish), SIGKILL at random points of a publish, two
writers and a reader of one product, a crash between two e-mails. Afterwards nothing published is
lost, every product still opens whole, and no staging debris is left behind."""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from pipelines.core.errors import StoreError
from pipelines.store import cube, lock

ROOT = Path(__file__).resolve().parents[2]
WRITER = ROOT / "tests" / "ops" / "store_writer.py"
TIMEOUT_S = 120
FLIGHT = "chtouka-20260115"
GROUP = cube.flight_group(FLIGHT, "reflectance")


def _grid(size_px: int = 256):
    import rasterio.crs
    from rasterio.transform import from_origin

    from pipelines.core.grid import FarmGrid

    return FarmGrid(rasterio.crs.CRS.from_epsg(32629), from_origin(464200.0, 3342850.0, 0.25, 0.25), size_px, size_px)


def _product(value: float, noise: bool = False):
    size_px = 512 if noise else 256
    data = np.full((2, size_px, size_px), value, dtype="float32")
    if noise:  # incompressible: 1 MiB per band, 2 MiB per product
        data = np.random.default_rng(0).random((2, size_px, size_px), dtype=np.float32)
    return cube.raster(data, _grid(size_px), "reflectance", "band", ["red", "nir"])


def _debris(store: Path) -> list[str]:
    area = store / cube.STAGING
    return sorted(p.name for p in area.iterdir()) if area.is_dir() else []


def _uniform(store, group=GROUP) -> float:
    values = cube.load_product(store, group)["reflectance"].values
    uniques = np.unique(values)
    assert uniques.size == 1, f"half-written product: {uniques[:5]}"
    return round(float(uniques[0]), 3)


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs (root only); skipped where mounting is not permitted."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_on_a_real_small_disk_is_named_and_loses_nothing(small_disk):
    store = small_disk / "chtouka.zarr"
    cube.write_product(store, GROUP, _product(0.25))
    free_before = os.statvfs(small_disk).f_bavail
    other = cube.flight_group("chtouka-20260203", "reflectance")
    with pytest.raises(StoreError, match="no space left") as refused:
        for _ in range(3):  # 2 MiB incompressible per product, staged beside the published one: cannot fit twice
            cube.write_product(store, other, _product(0.0, noise=True))
    assert "chtouka-20260203/reflectance" in str(refused.value)
    assert _debris(store) == [], "staging debris left on a full disk"
    assert _uniform(store) == 0.25, "the published product was touched"
    assert cube.has_product(store, other) in (True, False)
    if cube.has_product(store, other):  # an earlier write of it fitted: it is whole
        assert cube.load_product(store, other)["reflectance"].shape == (2, 512, 512)
    assert os.statvfs(small_disk).f_bavail <= free_before
    cube.write_product(store, GROUP, _product(0.5))  # space of the failed write was given back
    assert _uniform(store) == 0.5


@pytest.mark.parametrize(
    "step",
    [
        "pipelines.store.cube.xr.Dataset.to_zarr",
        "pipelines.store.cube._stamp",
        "pipelines.store.cube._ensure_groups",
        "pipelines.store.publish.os.rename",
    ],
)
def test_disk_full_at_each_step_of_a_publish(tmp_path, step):
    store = tmp_path / "chtouka.zarr"
    cube.write_product(store, GROUP, _product(0.25))
    full = OSError(errno.ENOSPC, "No space left on device")
    with mock.patch(step, side_effect=full), pytest.raises(StoreError, match="no space left"):
        cube.write_product(store, GROUP, _product(0.75))
    assert _debris(store) == []
    assert _uniform(store) == 0.25
    cube.write_product(store, GROUP, _product(0.75))
    assert _uniform(store) == 0.75


def test_a_failed_swap_puts_the_published_product_back(tmp_path):
    store = tmp_path / "chtouka.zarr"
    cube.write_product(store, GROUP, _product(0.25))
    real = os.rename
    calls = []

    def second_rename_fails(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(errno.EIO, "I/O error")
        return real(src, dst)

    with mock.patch("pipelines.store.publish.os.rename", side_effect=second_rename_fails), pytest.raises(OSError):
        cube.write_product(store, GROUP, _product(0.75))
    assert _uniform(store) == 0.25 and _debris(store) == []


def _writer(store, value, *extra) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WRITER), str(store), FLIGHT, str(value), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_sigkill_at_random_points_of_publishes(tmp_path):
    """Six writers killed after a random delay (seeded), from start-up to the middle of their second
    publish (scaled by one whole write's time on this machine): each leaves the product whole."""
    store = tmp_path / "chtouka.zarr"
    started = time.monotonic()
    assert _writer(store, 0.2).wait(TIMEOUT_S) == 0
    one_write_s = time.monotonic() - started
    rng = random.Random(13)
    seen = set()
    for attempt in range(6):
        value = round(0.3 + 0.1 * attempt, 1)
        proc = _writer(store, value, "--repeat", "3")
        time.sleep(rng.uniform(0.3, 1.8) * one_write_s)
        proc.send_signal(signal.SIGKILL)
        proc.wait(TIMEOUT_S)
        got = _uniform(store)
        assert got in {0.2} | {round(0.3 + 0.1 * k + d, 1) for k in range(attempt + 1) for d in (0.0, 0.1)}, got
        seen.add(got)
        assert cube.flights_in_store(store) == [FLIGHT]
    assert len(seen) >= 2, f"no kill fell after a publish: {seen}"
    cube.cleanup(store)
    assert _debris(store) == []
    assert _writer(store, 0.9).wait(TIMEOUT_S) == 0
    assert _uniform(store) == 0.9 and _debris(store) == []


@pytest.mark.slow
def test_two_writers_and_a_reader_of_one_product(tmp_path):
    store = tmp_path / "chtouka.zarr"
    assert _writer(store, 0.1).wait(TIMEOUT_S) == 0
    writers = [_writer(store, 0.3, "--repeat", "4"), _writer(store, 0.5, "--repeat", "4")]
    seen, reads, deadline = set(), 0, time.monotonic() + TIMEOUT_S
    try:
        while any(w.poll() is None for w in writers) and time.monotonic() < deadline:
            seen.add(_uniform(store))
            lazy = cube.read_product(store, GROUP)  # an open across a publish is retried, never GroupNotFoundError
            assert lazy["reflectance"].shape == (2, 768, 1024)
            reads += 1
        codes = [w.wait(TIMEOUT_S) for w in writers]
        assert codes == [0, 0], [w.stderr.read() for w in writers]
    finally:
        for w in writers:
            w.kill()
    assert reads >= 3 and seen <= {0.1, 0.3, 0.4, 0.5, 0.6}
    assert _uniform(store) in {0.4, 0.6}, "the last publish is one writer's last product, whole"
    assert _debris(store) == []


def test_a_second_writer_waits_for_the_product_lock(tmp_path):
    store = tmp_path / "chtouka.zarr"
    with lock.product_lock(store, GROUP):
        assert lock.writer_active(store, GROUP)
        with pytest.raises(StoreError, match="another run"):
            with lock.product_lock(store, GROUP, timeout_s=0.3):
                pass
        with lock.product_lock(store, cube.flight_group(FLIGHT, "indices"), timeout_s=0.3):
            pass  # another product of the same flight is free
    assert not lock.writer_active(store, GROUP)
    order = []

    def late_writer():
        with lock.product_lock(store, GROUP, timeout_s=5):
            order.append("second")

    with lock.product_lock(store, GROUP):
        thread = threading.Thread(target=late_writer)
        thread.start()
        time.sleep(0.3)
        order.append("first")
    thread.join(10)
    assert order == ["first", "second"]


def test_a_lease_on_an_object_store_is_exclusive_and_expires():
    store = "memory://reliability/chtouka.zarr"
    with lock.product_lock(store, GROUP, lease_s=60):
        assert lock.writer_active(store, GROUP)
        with pytest.raises(StoreError, match="lease"):
            with lock.product_lock(store, GROUP, timeout_s=0.5):
                pass
    assert not lock.writer_active(store, GROUP)
    dead = lock._remote_lease(store, GROUP, 5, lease_s=0.05)
    dead.__enter__()  # a writer that dies without releasing
    time.sleep(0.1)
    with lock.product_lock(store, GROUP, timeout_s=2):
        pass  # its lease expired: taken over


def test_a_crash_between_two_mails_keeps_the_record_of_the_first(tmp_path):
    """Process death (BaseException) while sending the second report: the first one, sent, is logged."""
    from pipelines.reports import delivery
    from pipelines.reports.model import Cooperative
    from pipelines.reports.render import RenderedReport

    items = []
    for name in ("a", "b"):
        (tmp_path / f"{name}.pdf").write_bytes(b"%PDF-1.4\n")
        (tmp_path / f"{name}.html").write_text("<p/>")
        items.append(
            (
                RenderedReport(tmp_path / f"{name}.html", tmp_path / f"{name}.pdf", f"Report {name}", "fr"),
                Cooperative("Coop", "Souss-Massa", "Chtouka", "bureau@coop.example"),
            )
        )
    sent = []

    def send(message, settings):
        if sent:
            raise SystemExit("killed")
        sent.append(message["Subject"])

    settings = delivery.SmtpSettings("127.0.0.1", 2525, "starttls", "rapports@saqi.example")
    with mock.patch.object(delivery, "_send", side_effect=send), pytest.raises(SystemExit):
        delivery.deliver_all(items, tmp_path / "outbox", smtp=settings, sleep=lambda s: None)
    [record] = delivery.delivery_log(tmp_path / "outbox")
    assert (record.report, record.status) == ("a.pdf", "sent") and sent == ["Report a"]


def test_dagster_instance_marks_dead_and_hung_runs_failed(tmp_path, monkeypatch):
    """configs/dagster/dagster.yaml turns run monitoring on (start timeout, max runtime), so a run
    whose worker died does not stay STARTED forever."""
    import shutil

    import dagster as dg

    shutil.copy(ROOT / "configs" / "dagster" / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        assert instance.run_monitoring_enabled
        assert 0 < instance.run_monitoring_start_timeout_seconds <= 600
        assert 0 < instance.run_monitoring_max_runtime_seconds <= 24 * 3600


def test_a_full_disk_during_a_gis_copy_is_named_and_keeps_the_previous_copy(small_disk, grid):
    """GDAL reports a full disk as a TIFF write error without an errno ("Write error at scanline"):
    the COG writer still names it, leaves the previous copy and no temporary file."""
    from pipelines.store import geotiff

    target, coarse = small_disk / "indices.tif", grid.coarsened(8)  # the first copy fits (its plain file: 120 kB)
    geotiff.write_geotiff(cube.raster(np.zeros(coarse.shape, np.float32), coarse, "ndvi"), target, "v1")
    noisy = np.random.default_rng(0).random((2, *grid.shape), dtype=np.float32)  # 15 MB that cannot compress
    with pytest.raises(StoreError, match="no space left") as refused:
        geotiff.write_geotiff(cube.raster(noisy, grid, "indices", "index", ["ndvi", "ndre"]), target, "v2")
    assert str(target) in str(refused.value) and "flight_geotiffs" in str(refused.value)
    assert geotiff.cog_version(target) == "v1"
    assert sorted(p.name for p in small_disk.iterdir()) == ["indices.tif"]


def test_disk_full_recognises_the_system_error_through_a_library_chain():
    from pipelines.core.errors import disk_full

    try:
        try:
            raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))
        except OSError as inner:
            raise RuntimeError("write failed") from inner
    except RuntimeError as outer:
        assert disk_full(outer)
    assert disk_full(RuntimeError(f"_tiffWriteProc: {os.strerror(errno.ENOSPC)}."))
    assert not disk_full(RuntimeError("TIFFAppendToStrip: Write error at scanline 384"))  # no folder to look at
    assert not disk_full(ValueError("not a number"))
