import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pipelines.store import cube, tables

SEASON = (dt.date(2025, 10, 1), dt.date(2026, 6, 30))
VARIABLES = {"depth_mm": {"units": "mm"}, "next_irrigation_date": {"units": "days since 2025-10-01"}}


def test_day_region_write_is_idempotent_and_touches_only_its_day(tmp_path):
    store = tmp_path / "farm.zarr"
    day = pd.DataFrame({"depth_mm": [12.5, 0.0], "next_irrigation_date": [210.0, 212.0]}, index=["P02", "P01"])
    for _ in range(2):
        tables.write_day(store, day, dt.date(2026, 4, 28), SEASON, VARIABLES)
    tables.write_day(store, day * 0 + 1, dt.date(2026, 4, 29), SEASON, VARIABLES)
    rec = tables.read_recommendations(store)
    assert rec.depth_mm.sizes == {"parcel": 2, "date": 273}
    assert rec.depth_mm.sel(parcel="P02", date="2026-04-28").item() == 12.5
    assert rec.depth_mm.sel(parcel="P02", date="2026-04-29").item() == 1.0
    assert np.isnan(rec.depth_mm.sel(parcel="P02", date="2026-04-27").item())
    assert str(rec.next_irrigation_date.sel(parcel="P01", date="2026-04-28").values)[:10] == "2026-05-01"


def test_day_outside_season_is_refused(tmp_path):
    with pytest.raises(ValueError, match="outside the season"):
        tables.write_day(tmp_path / "s.zarr", pd.DataFrame({"depth_mm": [1.0]}, index=["P01"]), dt.date(2027, 1, 1),
                         SEASON, VARIABLES)


def test_parcel_cube_stacks_flights_in_time_order(tmp_path):
    store = tmp_path / "farm.zarr"
    for flight, date, ndvi in [("chtouka-20260320", dt.date(2026, 3, 20), 0.8),
                               ("chtouka-20260115", dt.date(2026, 1, 15), 0.4)]:
        frame = pd.DataFrame({"parcel": ["P01", "P02"], "ndvi_mean": [ndvi, ndvi - 0.1]})
        cube.write_product(store, cube.flight_group(flight, "parcel_stats"), tables.stats_product(frame, flight, date))
    parcels = tables.assemble_parcel_cube(store)
    assert parcels.dims == ("parcel", "time", "variable")
    assert parcels.sel(parcel="P01", variable="ndvi_mean").values.tolist() == [0.4, 0.8]
