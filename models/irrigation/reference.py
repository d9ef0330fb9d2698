"""pyfao56 (Thorp et al. 2022) run on exactly the inputs of `prepare_balance`: the peer oracle.

Used by the tests and the benchmark to check the vectorised balance parcel by parcel. The
parcel's Kcb, crop height and observed ground cover are handed to pyfao56 as daily updates, its
weather carries our ET0, effective rain, u2 (at 2 m) and RHmin, and irrigation events carry the
method's efficiency and wetted fraction. pyfao56 starts on the sowing date, so the parcel must
be sown on or after the first day of the balance; its initial depletion is ours on that day (after
the bare-soil spin-up, when there is one). Localized irrigation stores water in the wetted soil
only (TAW × Pw): pyfao56 gets θFC' = θWP + Pw (θFC − θWP) and a Ze that keeps TEW. pyfao56 has no
single-Kc path, so days that carry a single Kc (`single_kc`) are not comparable. pyfao56 raises on
days whose Kcb is below
Kcb_ini without an observed cover (eq. 76 on a negative base); the balance clips that base at 0.
"""
from __future__ import annotations

import dataclasses

import pandas as pd

from models.irrigation.balance import water_balance
from models.irrigation.season import PreparedBalance


def _depletion_at_start(prepared: PreparedBalance, k: int, first: int) -> float:
    """Our root-zone depletion (mm) at the start of the parcel's first crop day."""
    i = prepared.inputs
    if first == 0 or not i.active[k, first - 1]:
        return float(i.initial_depletion_fraction[k] * 1000.0 * (i.theta_fc[k] - i.theta_wp[k]) * i.root_depth_m[k,
                                                                                                                 first]
                     * (1.0 if i.taw_fraction is None else i.taw_fraction[k]))
    unmasked = dataclasses.replace(i, crop_active=i.active)
    return float(water_balance(unmasked)["depletion_mm"][k, first - 1])


def pyfao56_parcel(prepared: PreparedBalance, k: int) -> pd.DataFrame:
    """pyfao56 Model output (odata) for parcel row k, indexed by date."""
    import pyfao56 as fao

    row = prepared.table.iloc[k]
    crop, soil, i = row["crop"], row["soil"], prepared.inputs
    dates = prepared.dates
    first = int((row["sowing"] - dates[0]).days)
    if first < 0:
        raise ValueError("pyfao56 starts at sowing: the balance must start on or before the sowing date")
    tree = crop.kind == "tree"
    pw = 1.0 if i.taw_fraction is None else float(i.taw_fraction[k])
    theta_fc = soil.theta_wp + pw * (soil.theta_fc - soil.theta_wp)
    z_ini = crop.root_depth_max_m if tree else crop.root_depth_min_m
    dr0 = _depletion_at_start(prepared, k, first)
    par = fao.Parameters(
        Kcbini=crop.kcb_ini, Kcbmid=crop.kcb_mid, Kcbend=crop.kcb_end,
        Lini=crop.stage_days[0], Ldev=crop.stage_days[1], Lmid=crop.stage_days[2], Lend=crop.stage_days[3],
        hini=i.height_m[k, first], hmax=crop.height_max_m, thetaFC=theta_fc, thetaWP=soil.theta_wp,
        theta0=theta_fc - dr0 / (1000 * z_ini),
        Zrini=z_ini, Zrmax=crop.root_depth_max_m,
        pbase=crop.depletion_fraction, Ze=soil.tew_mm / (1000 * (theta_fc - 0.5 * soil.theta_wp)), REW=soil.rew_mm)
    wth = fao.Weather()
    wth.wndht, wth.rfcrp = 2.0, "S"
    upd = fao.Update()
    irr = fao.Irrigation()
    keys = [d.strftime("%Y-%j") for d in dates]
    rows, updates = {}, {}
    for d in range(first, len(dates)):
        rows[keys[d]] = {"Srad": float("nan"), "Tmax": float("nan"), "Tmin": float("nan"), "Vapr": float("nan"),
                         "Tdew": float("nan"), "RHmax": float("nan"), "RHmin": i.rh_min_pct[d], "Wndsp": i.u2_ms[d],
                         "Rain": i.rain_mm[d], "ETref": i.et0_mm[d], "MorP": "M"}
        updates[keys[d]] = {"Kcb": i.kcb[k, d], "h": i.height_m[k, d], "fc": i.cover_fraction[k, d]}
        if i.irrigation_mm[k, d] > 0:
            irr.addevent(dates[d].year, dates[d].day_of_year, i.irrigation_mm[k, d], i.wetted_fraction[k],
                         100 * i.efficiency[k])
    wth.wdata = pd.DataFrame.from_dict(rows, orient="index")
    upd.udata = pd.DataFrame.from_dict(updates, orient="index")
    model = fao.Model(keys[first], keys[-1], par, wth, irr=irr, upd=upd)
    model.run()
    out = model.odata.iloc[:, :46].copy()
    out.index = dates[first:]
    return out
