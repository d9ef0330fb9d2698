"""Resources: where the farm stores, landing area, reports and configs live."""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from pipelines.core.config import Farm, configs_dir, load_farm
from pipelines.core.grid import FarmGrid
from pipelines.core.keys import FlightKey
from pipelines.orchestration.landing import fetch_flight
from pipelines.store.cube import Store, farm_store


class SaqiStorage(dg.ConfigurableResource):
    """Data root (manifests, models, reports; farm Zarr stores unless `store_root` is set), landing
    area for flights (a local folder or any fsspec URL such as s3://bucket/landing), and where the
    farm stores live (`store_root`: any fsspec URL; empty = `data_root`). Credentials for object
    stores come from the environment (AWS_*), never from this config."""

    data_root: str
    landing_dir: str
    configs: str
    store_root: str = ""

    def farm(self, farm_id: str) -> Farm:
        return load_farm(farm_id, Path(self.configs))

    def grid(self, farm_id: str) -> FarmGrid:
        return FarmGrid.of_farm(self.farm(farm_id))

    @property
    def stores_root(self) -> str:
        """Where the farm stores live: the root that library calls taking a `data_root` read stores from."""
        return self.store_root or self.data_root

    def store(self, farm_id: str) -> Store:
        return farm_store(self.stores_root, farm_id)

    def flight_folder(self, key: FlightKey) -> Path:
        """The flight's landing folder on local disk (a remote landing area is copied to
        `<data_root>/landing_cache/` first)."""
        return fetch_flight(self.landing_dir, str(key), Path(self.data_root) / "landing_cache")

    def manifest_path(self, key: FlightKey) -> Path:
        """`<data_root>/manifests/<farm>/<flight>.json`: where a flight's manifest is kept."""
        return self.folder("manifests", key.farm) / f"{key}.json"

    def folder(self, *parts: str) -> Path:
        path = Path(self.data_root).joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path


def default_storage() -> SaqiStorage:
    data_root = os.environ.get("SAQI_DATA_ROOT", str(Path.cwd() / "data"))
    return SaqiStorage(
        data_root=data_root,
        landing_dir=os.environ.get("SAQI_LANDING_DIR", str(Path(data_root) / "landing")),
        configs=str(configs_dir()),
        store_root=os.environ.get("SAQI_STORE_ROOT", ""),
    )


class DaskCluster(dg.ConfigurableResource):
    """Where heavy raster stages run: a `distributed` scheduler at `scheduler_address`
    (tcp://host:8786, from SAQI_DASK_SCHEDULER), or a local cluster of `n_workers` processes
    started for the step and closed after it when the address is empty."""

    scheduler_address: str = ""
    n_workers: int = 2
    threads_per_worker: int = 1
    memory_limit: str = "2GiB"

    @contextlib.contextmanager
    def client(self) -> Iterator:
        from distributed import Client, LocalCluster

        if self.scheduler_address:
            with Client(self.scheduler_address, timeout="30s") as client:
                yield client
            return
        with LocalCluster(n_workers=self.n_workers, threads_per_worker=self.threads_per_worker, processes=True,
                          memory_limit=self.memory_limit, host="127.0.0.1", dashboard_address=None) as cluster, \
                Client(cluster) as client:
            yield client


def default_dask() -> DaskCluster:
    return DaskCluster(scheduler_address=os.environ.get("SAQI_DASK_SCHEDULER", ""))
