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

import re
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
# Plausible daily ranges, low <= value < high (upper bound exclusive). Temperatures: the highest
# reliably measured air temperature is 54.4 °C (Death Valley, 2020-21; Morocco's record is 50.4 °C,
# Agadir, Aug. 2023) and the highest daily minimum 44.2 °C (Khasab, Oman, 2018), so tmax >= 55 or
# tmin >= 45 is a sensor or unit error, not weather. Outside them a value is dropped and interpolated.
RANGES = {"tmin_c": (-30, 45), "tmax_c": (-25, 55), "solar_mj_m2": (0, 45), "wind_ms": (0, 40),
          "sunshine_h": (0, 24), "rain_mm": (0, 500), "tdew_c": (-50, 40)}
DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
REPAIRS = ("dropped", "clipped", "decimal comma", "not a number", "set to 0", "day missing", "crossed")
"""Flags that record a repair of the station's own values (reported as warnings)."""
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
            bad = (frame[column] < low) | (frame[column] >= high)
            _flag(flags, bad, f"{column} outside {low}..{high} (upper bound exclusive) dropped and interpolated")
            frame.loc[bad, column] = np.nan
    if "rain_mm" in frame:
        bad = (frame["rain_mm"] < 0) | (frame["rain_mm"] >= RANGES["rain_mm"][1])
        _flag(flags, bad, "rain_mm negative or > 500 mm: set to 0")
        frame.loc[bad, "rain_mm"] = 0.0


def _fill_gaps(frame: pd.DataFrame, flags: pd.Series, path: Path, max_gap_days: int) -> None:
    for column in ("tmin_c", "tmax_c"):  # FAO-56's minimum: nothing to interpolate from is a refusal
        if frame[column].isna().all():
            raise InputDataError(path, f"'{column}' has no usable day: every value is missing, not a number, "
                                 "out of range or below tmin_c (see the flags)",
                                 f"check the column's units and values (°C, one row per day) or take {column} "
                                 "from a nearby station")
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


def _order_temperatures(frame: pd.DataFrame, flags: pd.Series) -> None:
    """After gap filling an interpolated temperature can cross the measured one (tmin above tmax);
    the measured value is kept and the other set equal to it, flagged (FAO-56 needs tmax >= tmin)."""
    crossed = (frame["tmax_c"] < frame["tmin_c"]).to_numpy()
    if not crossed.any():
        return
    tmin_filled = flags.str.contains("tmin_c interpolated").to_numpy()
    lower_tmin = crossed & (tmin_filled | ~flags.str.contains("tmax_c interpolated").to_numpy())
    frame.loc[lower_tmin, "tmin_c"] = frame.loc[lower_tmin, "tmax_c"]
    frame.loc[crossed & ~lower_tmin, "tmax_c"] = frame.loc[crossed & ~lower_tmin, "tmin_c"]
    _flag(flags, crossed, "interpolated temperature crossed the measured one: set equal to it")


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


def _dates(frame: pd.DataFrame, path: Path) -> pd.Series:
    """Parse the date column; refuse an empty or unreadable cell naming its data row (1 = first row)."""
    text = frame["date"].astype("string").str.strip()
    for row, value in enumerate(text, start=1):
        if pd.isna(value) or value == "":
            raise InputDataError(path, "empty date cell", "write the day as YYYY-MM-DD or delete the row",
                                 field="date", row=row)
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    for row, (value, date) in enumerate(zip(text, parsed), start=1):
        if pd.isna(date):
            raise InputDataError(path, f"'{value}' is not a date", "write dates as YYYY-MM-DD", field="date", row=row)
    return parsed


def _numbers(frame: pd.DataFrame, path: Path, flags: pd.Series) -> pd.DataFrame:
    """Numeric columns: a decimal comma ('12,5') is read as 12.5 and flagged; any other text in a
    cell is dropped (then interpolated) and flagged; a column holding only text is refused."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        raw = frame[column]
        if pd.api.types.is_numeric_dtype(raw):
            out[column] = raw.astype("float64")
            continue
        text = raw.astype("string").str.strip()
        comma = text.str.fullmatch(DECIMAL_COMMA.pattern).fillna(False).to_numpy(dtype=bool)
        text = text.where(~comma, text.str.replace(",", ".", regex=False))
        values = pd.to_numeric(text, errors="coerce")
        given = (text.notna() & (text != "")).to_numpy(dtype=bool)
        unreadable = given & values.isna().to_numpy()
        if given.any() and unreadable[given].all():
            examples = sorted(set(text[unreadable].head(3)))
            raise InputDataError(path, f"column '{column}' holds text ({', '.join(map(repr, examples))}), not numbers",
                                 "write plain numbers with a decimal point (12.5), in the column's unit", field=column)
        _flag(flags, comma, f"{column} decimal comma read as a decimal point")
        for day in frame.index[unreadable]:
            flags[day] += f"{column} '{text[day]}' is not a number: dropped; "
        out[column] = values.astype("float64")
    return out


def _warnings(flags: pd.Series, path: Path) -> list[str]:
    """One named warning per day whose own values were repaired (the flags say how)."""
    return [f"{path}: {day.date()}: {text}" for day, text in flags.items()
            if any(word in text for word in REPAIRS)]


def weather_table(frame: pd.DataFrame, path: str | Path, lat_deg: float, krs: float = fao.KRS_INTERIOR,
                  max_gap_days: int = MAX_GAP_DAYS) -> pd.DataFrame:
    """Clean a raw daily table (any alias columns plus 'date') into the canonical, gap-free table.

    `lat_deg` in -90..90 (station latitude, north positive). The repairs of the station's own values
    are in the `flags` column and listed in `table.attrs["warnings"]`."""
    path = Path(path)
    if not isinstance(lat_deg, (int, float)) or not -90 <= float(lat_deg) <= 90:
        raise InputDataError(path, f"latitude {lat_deg} is not in -90..90 degrees",
                             "give the station's latitude (north positive)",
                             field="lat_deg")
    frame = _rename(frame.copy(), path)
    for column in ("date", "tmin_c", "tmax_c"):
        if column not in frame:
            raise InputDataError(path, f"no '{column}' column (found {list(frame.columns)})",
                                 "add it; FAO-56 needs at least date, tmin_c and tmax_c")
    frame["date"] = _dates(frame, path)
    duplicated = frame["date"][frame["date"].duplicated()]
    if len(duplicated):
        raise InputDataError(path, f"date {duplicated.iloc[0].date()} appears twice", "keep one row per day")
    frame = frame.set_index("date").sort_index()
    flags = pd.Series("", index=frame.index, dtype=object)
    frame = _numbers(frame, path, flags)
    _check_units(frame, path)
    days = pd.date_range(frame.index[0], frame.index[-1], freq="D", name="date")
    absent = days.difference(frame.index)
    frame, flags = frame.reindex(days), flags.reindex(days, fill_value="")
    _flag(flags, days.isin(absent), "day missing from the file")
    _remove_spikes(frame, flags)
    _fill_gaps(frame, flags, path, max_gap_days)
    _order_temperatures(frame, flags)
    _humidity(frame, flags)
    _wind(frame, flags, path)
    _solar(frame, flags, lat_deg, krs)
    if "rain_mm" not in frame:
        frame["rain_mm"] = 0.0
        _flag(flags, np.ones(len(frame)), "no rain column: rain assumed 0")
    frame["flags"] = flags.str.rstrip("; ")
    frame.attrs["warnings"] = _warnings(frame["flags"], path)
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
