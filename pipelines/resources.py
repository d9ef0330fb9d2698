"""Resources: where the farm stores, landing area, reports and configs live."""
from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from pipelines.config import Farm, configs_dir, load_farm
from pipelines.imagery.cube import farm_store
from pipelines.imagery.grid import FarmGrid


class SaqiStorage(dg.ConfigurableResource):
    """Data root (farm Zarr stores, manifests, models, reports) and landing area for flights."""

    data_root: str
    landing_dir: str
    configs: str

    def farm(self, farm_id: str) -> Farm:
        return load_farm(farm_id, Path(self.configs))

    def grid(self, farm_id: str) -> FarmGrid:
        return FarmGrid.of_farm(self.farm(farm_id))

    def store(self, farm_id: str) -> Path:
        return farm_store(self.data_root, farm_id)

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
    )
