"""`saqi irrigation et0` and `saqi irrigation plan` on the sample farm (no flights in the store)."""
from __future__ import annotations

import io
from contextlib import redirect_stdout

import pandas as pd
import pytest

from pipelines.cli import main


def _run(argv: list[str]) -> str:
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        assert main(argv) == 0
    return buffer.getvalue()


def test_et0_command_prints_csv(tmp_path, souss_frame, souss_site):
    path = tmp_path / "weather.csv"
    souss_frame.to_csv(path, index=False)
    out = pd.read_csv(io.StringIO(_run(["irrigation", "et0", str(path), "--lat", str(souss_site[0]), "--elev", "95"])))
    assert list(out.columns) == ["date", "et0_mm"] and len(out) == len(souss_frame)
    assert out["et0_mm"].between(0.5, 8).all()


def test_plan_command_falls_back_to_fao_tables(tmp_path):
    text = _run(["irrigation", "plan", "--farm", "chtouka", "--date", "2026-03-15", "--data-root", str(tmp_path)])
    assert "no flights in the store yet" in text.splitlines()[0]
    lines = text.splitlines()
    rows = [line.split()[0] for line in lines[2:lines.index("# per irrigation sector")]]
    assert rows == [f"P{i:02d}" for i in range(1, 11)]


def test_plan_command_bad_farm(capsys, tmp_path):
    assert main(["irrigation", "plan", "--farm", "atlantis", "--date", "2026-03-15", "--data-root", str(tmp_path)]) == 2
    assert "farms/atlantis/farm.yaml" in capsys.readouterr().err


def test_plan_reads_flights_from_the_parcels_cube(tmp_path):
    import numpy as np
    import xarray as xr

    from pipelines.plans.farm_inputs import read_farm_plan
    from pipelines.store import cube

    parcels = [f"P{i:02d}" for i in range(1, 11)]
    times = pd.to_datetime(["2026-02-01", "2026-03-01"])
    values = np.zeros((10, 2, 3))
    values[:, :, 0] = [[0.55, 0.80]] * 10
    values[:, :, 1] = [[0.50, 0.70]] * 10
    values[:, :, 2] = 10_000.0
    stats = xr.DataArray(values, dims=("parcel", "time", "variable"), name="parcel_stats",
                         coords={"parcel": np.array(parcels, dtype=object), "time": times,
                                 "variable": np.array(["ndvi_mean", "crop_cover_fraction", "area_m2"], dtype=object)})
    cube.write_product(cube.farm_store(tmp_path, "chtouka"), "parcels", stats)
    plan, balance, note = read_farm_plan("chtouka", pd.Timestamp("2026-03-15").date(), tmp_path)
    assert note.startswith("Kcb from 2 flights")
    plan = plan.set_index("parcel")
    # two weeks after the last flight the offset is carried forward, fading, and labelled so (trees too: their Kcb
    # comes from the drone's ground cover, Allen & Pereira 2009)
    assert plan.loc["P01", "kcb_source"] == "ndvi_extrapolated" and plan.loc["P04", "kcb_source"] == "ndvi_extrapolated"
    assert balance["kcb_source"].sel(parcel="P04", date="2026-03-01").item() == "ndvi"
    assert balance["kcb_source"].sel(parcel="P04", date="2026-01-31").item() == "fao_table"
    # wheat on the flight date: Kcb = 1.64 × 0.80 − 0.2296
    assert float(balance.kcb.sel(parcel="P01", date="2026-03-01")) == pytest.approx(1.0824)
