"""Shared fixtures: the sample farm, its grid, and the real data folder beside the project."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def farm():
    from pipelines.core.config import load_farm

    return load_farm("chtouka")


@pytest.fixture(scope="session")
def grid(farm):
    from pipelines.core.grid import FarmGrid

    return FarmGrid.of_farm(farm)
