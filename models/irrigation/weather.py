"""Daily station weather: column aliases, unit checks, spike removal, flagged gap filling, FAO-56 fallbacks.

The table `read_weather` returns is indexed by date (daily, no gaps) and always holds
`tmin_c, tmax_c, rh_min_pct, ea_kpa, u2_ms, solar_mj_m2, rain_mm` plus where each came from
(`humidity_source`, `wind_source`, `solar_source`) and a `flags` column saying, per day, what was
interpolated, clipped or estimated and why. Fallbacks (FAO-56 ch. 3, 'Missing data'):
wind missing -> u2 = 2 m/s (p. 63); humidity missing -> ea from Tdew = Tmin - 2 °C (eq. 48 and
Annex 6 for arid/semi-arid sites); radiation missing -> Angström from sunshine hours (eq. 35),
else Hargreaves' radiation formula (eq. 50).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from models.irrigation import et0 as fao
from pipelines.core.errors import InputDataError

CANONICAL = ("tmin_c", "tmax_c", "rh_min_pct", "rh_max_pct", "rh_mean_pct", "tdew_c", "wind_ms",
             "wind_height_m", "solar_mj_m2", "sunshine_h", "rain_mm")
ALIASES = {
    "tmin_c": ("tmin", "t_min", "min_temp_c", "temp_min_c", "tn"),
    "tmax_c": ("tmax", "t_max", "max_temp_c", "temp_max_c", "tx"),
    "rh_min_pct": ("rh_min", "rhmin", "hr_min"),
    "rh_max_pct": ("rh_max", "rhmax", "hr_max"),
    "rh_mean_pct": ("rh_mean", "rh", "rh_pct", "rhmean", "hr"),
    "tdew_c": ("tdew", "dew_point_c", "dewpoint_c", "td_c"),
    "wind_ms": ("wind", "wind_speed_ms", "wind_m_s", "ws_ms", "windspeed_ms"),
    "u2_ms": ("u2", "wind_2m_ms"),
    "wind_kmh": ("wind_km_h", "wind_speed_kmh"),
    "wind_height_m": ("wind_height", "anemometer_height_m"),
    "solar_mj_m2": ("rs_mj_m2", "srad_mj_m2", "solar", "srad", "rs", "radiation_mj_m2"),
    "solar_w_m2": ("rs_w_m2", "srad_w_m2"),
    "sunshine_h": ("sunshine", "n_h", "insolation_h"),
    "rain_mm": ("rain", "precip_mm", "precipitation_mm", "precip", "rr_mm", "pluie_mm"),
}
MAX_GAP_DAYS = 7
# Plausible daily ranges for Morocco and similar climates; outside them a unit is probably wrong.
RANGES = {"tmin_c": (-30, 50), "tmax_c": (-25, 60), "solar_mj_m2": (0, 45), "wind_ms": (0, 40),
          "sunshine_h": (0, 24), "rain_mm": (0, 500), "tdew_c": (-50, 40)}
DEWPOINT_DEPRESSION_C = 2.0
DEFAULT_U2_MS = 2.0


def _canonical_name(column: str) -> str | None:
    name = column.strip().lower().replace(" ", "_").replace("-", "_")
    if name in CANONICAL or name in ALIASES:
        return name
    for canonical, aliases in ALIASES.items():
        if name in aliases:
            return canonical
    return None


def _rename(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    mapping, seen = {}, {}
    for column in frame.columns:
        name = "date" if column.strip().lower() in ("date", "day", "jour") else _canonical_name(column)
        if name is None:
            continue
        if name in seen:
            raise InputDataError(path, f"columns '{seen[name]}' and '{column}' both mean '{name}'", "keep one of them")
        seen[name], mapping[column] = column, name
    frame = frame.rename(columns=mapping)[list(mapping.values())]
    if "wind_kmh" in frame:
        frame["wind_ms"] = frame.pop("wind_kmh") / 3.6
    if "solar_w_m2" in frame:
        frame["solar_mj_m2"] = frame.pop("solar_w_m2") * 0.0864
    if "u2_ms" in frame:
        frame["wind_ms"], frame["wind_height_m"] = frame.pop("u2_ms"), 2.0
    return frame


def _check_units(frame: pd.DataFrame, path: Path) -> None:
    for column in ("tmin_c", "tmax_c"):
        if column in frame and frame[column].median() > 200:
            raise InputDataError(path, f"'{column}' looks like kelvin (median {frame[column].median():.0f})",
                                 "convert to °C (subtract 273.15)")
    for column in ("rh_min_pct", "rh_max_pct", "rh_mean_pct"):
        if column in frame and frame[column].notna().any() and frame[column].max() <= 1.0:
            raise InputDataError(path, f"'{column}' holds fractions (max {frame[column].max()})",
                                 "multiply by 100 (percent)")
    for column, (low, high) in RANGES.items():
        if column not in frame:
            continue
        values = frame[column].dropna()
        outside = values[(values < low - abs(low) * 0.5) | (values > high * 2)]
        if len(outside) > max(2, 0.2 * len(values)):
            raise InputDataError(path,
                                 f"'{column}' is outside {low}..{high} on {len(outside)} days (e.g. {outside.iloc[0]})",
                                 "check the unit against the column name (°C, %, m/s, MJ/m²/day, h, mm)")


def _flag(flags: pd.Series, mask, text: str) -> None:
    mask = np.asarray(mask, dtype=bool)
    flags[mask] = flags[mask] + text + "; "


def _remove_spikes(frame: pd.DataFrame, flags: pd.Series) -> None:
    swapped = frame["tmax_c"] < frame["tmin_c"]
    _flag(flags, swapped, "tmax<tmin: both temperatures dropped and interpolated")
    frame.loc[swapped, ["tmin_c", "tmax_c"]] = np.nan
    for column in ("rh_min_pct", "rh_max_pct", "rh_mean_pct"):
        if column not in frame:
            continue
        slight = frame[column].between(100, 105, inclusive="right")
        _flag(flags, slight, f"{column} 100-105 % clipped to 100")
        frame.loc[slight, column] = 100.0
        bad = (frame[column] > 105) | (frame[column] < 0)
        _flag(flags, bad, f"{column} outside 0-100 % dropped and interpolated")
        frame.loc[bad, column] = np.nan
    for column, (low, high) in RANGES.items():
        if column in frame and column != "rain_mm":
            bad = (frame[column] < low) | (frame[column] > high)
            _flag(flags, bad, f"{column} outside {low}..{high} dropped and interpolated")
            frame.loc[bad, column] = np.nan
    if "rain_mm" in frame:
        bad = (frame["rain_mm"] < 0) | (frame["rain_mm"] > RANGES["rain_mm"][1])
        _flag(flags, bad, "rain_mm negative or > 500 mm: set to 0")
        frame.loc[bad, "rain_mm"] = 0.0


def _fill_gaps(frame: pd.DataFrame, flags: pd.Series, path: Path, max_gap_days: int) -> None:
    for column in frame.columns:
        if column == "rain_mm" or frame[column].isna().all():
            continue
        missing = frame[column].isna()
        if not missing.any():
            continue
        run_id = (missing != missing.shift()).cumsum()
        runs = missing.groupby(run_id).transform("sum")[missing]
        if runs.max() > max_gap_days:
            start = runs[runs == runs.max()].index[0]
            raise InputDataError(path, f"'{column}' is missing for {int(runs.max())} days from {start.date()}",
                                 f"fill the gap from a nearby station "
                                 f"(gaps up to {max_gap_days} days are interpolated)")
        frame[column] = frame[column].interpolate(method="time", limit_direction="both")
        _flag(flags, missing, f"{column} interpolated")
    if "rain_mm" in frame:
        missing = frame["rain_mm"].isna()
        _flag(flags, missing, "rain_mm missing: assumed 0")
        frame["rain_mm"] = frame["rain_mm"].fillna(0.0)


def _humidity(frame: pd.DataFrame, flags: pd.Series) -> None:
    """ea (kPa) by FAO-56's order of preference: Tdew (eq. 14), RHmax+RHmin (eq. 17), RHmax (eq. 18),
    RHmean (eq. 19)."""
    es_max, es_min = (fao.saturation_vapour_pressure_kpa(frame["tmax_c"]),
                      fao.saturation_vapour_pressure_kpa(frame["tmin_c"]))
    has = lambda c: c in frame and frame[c].notna().all()  # noqa: E731
    if has("tdew_c"):
        frame["ea_kpa"], source = fao.saturation_vapour_pressure_kpa(frame["tdew_c"]), "tdew"
    elif has("rh_max_pct") and has("rh_min_pct"):
        frame["ea_kpa"], source = (es_min * frame["rh_max_pct"] + es_max * frame["rh_min_pct"]) / 200, "rh_max_min"
    elif has("rh_max_pct"):
        frame["ea_kpa"], source = es_min * frame["rh_max_pct"] / 100, "rh_max"
    elif has("rh_mean_pct"):
        frame["ea_kpa"], source = frame["rh_mean_pct"] / 100 * (es_max + es_min) / 2, "rh_mean"
    else:
        frame["ea_kpa"] = fao.saturation_vapour_pressure_kpa(frame["tmin_c"] - DEWPOINT_DEPRESSION_C)
        source = "tmin"
        _flag(flags, np.ones(len(frame)),
              f"no humidity: ea from Tdew = Tmin - {DEWPOINT_DEPRESSION_C} °C (FAO-56 eq. 48)")
    frame["humidity_source"] = source
    if not has("rh_min_pct"):
        frame["rh_min_pct"] = np.clip(100 * frame["ea_kpa"] / es_max, 0, 100)
        _flag(flags, np.ones(len(frame)), "rh_min_pct derived from ea and Tmax")


def _wind(frame: pd.DataFrame, flags: pd.Series, path: Path) -> None:
    if "wind_ms" in frame and frame["wind_ms"].notna().all():
        if "wind_height_m" not in frame:
            raise InputDataError(path, "wind_ms is given without wind_height_m",
                                 "add a wind_height_m column (2 for a standard agro-met station, 10 for synoptic)")
        frame["u2_ms"] = fao.wind_at_2m_ms(frame["wind_ms"], frame["wind_height_m"])
        frame["wind_source"] = "measured"
    else:
        frame["u2_ms"], frame["wind_source"] = DEFAULT_U2_MS, "default"
        _flag(flags, np.ones(len(frame)), "no wind: u2 = 2 m/s (FAO-56 p. 63)")


def _solar(frame: pd.DataFrame, flags: pd.Series, lat_deg: float, krs: float) -> None:
    doy = frame.index.day_of_year.to_numpy()
    if "solar_mj_m2" in frame and frame["solar_mj_m2"].notna().all():
        frame["solar_source"] = "measured"
    elif "sunshine_h" in frame and frame["sunshine_h"].notna().all():
        frame["solar_mj_m2"] = fao.solar_from_sunshine_mj_m2(frame["sunshine_h"], lat_deg, doy)
        frame["solar_source"] = "sunshine"
        _flag(flags, np.ones(len(frame)), "solar from sunshine hours (FAO-56 eq. 35)")
    else:
        frame["solar_mj_m2"] = fao.solar_from_temperature_mj_m2(frame["tmax_c"], frame["tmin_c"], lat_deg, doy, krs)
        frame["solar_source"] = "temperature"
        _flag(flags, np.ones(len(frame)), f"no radiation: solar from temperature range, krs={krs} (FAO-56 eq. 50)")


def weather_table(frame: pd.DataFrame, path: str | Path, lat_deg: float, krs: float = fao.KRS_INTERIOR,
                  max_gap_days: int = MAX_GAP_DAYS) -> pd.DataFrame:
    """Clean a raw daily table (any alias columns plus 'date') into the canonical, gap-free table."""
    path = Path(path)
    frame = _rename(frame.copy(), path)
    for column in ("date", "tmin_c", "tmax_c"):
        if column not in frame:
            raise InputDataError(path, f"no '{column}' column (found {list(frame.columns)})",
                                 "add it; FAO-56 needs at least date, tmin_c and tmax_c")
    try:
        frame["date"] = pd.to_datetime(frame["date"], format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise InputDataError(path, f"unreadable date ({exc})", "write dates as YYYY-MM-DD") from None
    duplicated = frame["date"][frame["date"].duplicated()]
    if len(duplicated):
        raise InputDataError(path, f"date {duplicated.iloc[0].date()} appears twice", "keep one row per day")
    frame = frame.set_index("date").sort_index().apply(pd.to_numeric, errors="coerce")
    _check_units(frame, path)
    flags = pd.Series("", index=frame.index, dtype=object)
    days = pd.date_range(frame.index[0], frame.index[-1], freq="D", name="date")
    absent = days.difference(frame.index)
    frame, flags = frame.reindex(days), flags.reindex(days, fill_value="")
    _flag(flags, days.isin(absent), "day missing from the file")
    _remove_spikes(frame, flags)
    _fill_gaps(frame, flags, path, max_gap_days)
    _humidity(frame, flags)
    _wind(frame, flags, path)
    _solar(frame, flags, lat_deg, krs)
    if "rain_mm" not in frame:
        frame["rain_mm"] = 0.0
        _flag(flags, np.ones(len(frame)), "no rain column: rain assumed 0")
    frame["flags"] = flags.str.rstrip("; ")
    return frame


def read_weather(path: str | Path, lat_deg: float, krs: float = fao.KRS_INTERIOR,
                 max_gap_days: int = MAX_GAP_DAYS) -> pd.DataFrame:
    """Read a daily station CSV into the canonical weather table (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise InputDataError(path, "weather file not found",
                             "put the station's daily CSV there or fix farm.yaml 'weather'")
    try:
        frame = pd.read_csv(path, comment="#")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputDataError(path, f"not a readable CSV ({exc})", "save it as comma-separated UTF-8 text") from None
    if frame.empty:
        raise InputDataError(path, "no rows", "add daily weather rows")
    return weather_table(frame, path, lat_deg, krs, max_gap_days)
