"""Probe cases of `saqi irrigation et0` and `plan`: weather tables and arguments."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.reliability import inputs as make
from tests.reliability.probe import Answer, Case, cli

# --- saqi irrigation et0: weather tables ---------------------------------------------------------


def _et0(tmp: Path, path: Path, lat: str = "30.2", elev: str = "95") -> Answer:
    return cli("irrigation", "et0", str(path), "--lat", lat, "--elev", elev)


def _weather_cases() -> list[Case]:
    def frame(change):
        def build(tmp):
            data = make.weather_frame().astype(object)
            change(data)
            return make.weather(tmp / "weather.csv", data)

        return build

    def raw(content: bytes):
        def build(tmp):
            (tmp / "weather.csv").write_bytes(content)
            return tmp / "weather.csv"

        return build

    def setter(row, column, value):
        def change(data):
            data.loc[row, column] = value

        return change

    def gap(data):
        data.loc[5:15, "tmax_c"] = np.nan

    W = "weather.csv"
    table = [
        ("weather-missing", "weather file does not exist", "refused", W, lambda t: t / "weather.csv"),
        ("weather-empty", "weather file of 0 bytes", "refused", W, raw(b"")),
        ("weather-header-only", "header line and no row", "refused", W, raw(b"date,tmin_c,tmax_c\n")),
        ("weather-binary", "binary garbage", "refused", W, raw(bytes(range(256)) * 4)),
        (
            "weather-latin1",
            "Latin-1 bytes (not UTF-8)",
            "refused",
            W,
            raw("date,tmin_c,tmax_c,pluie_é\n".encode("latin-1")),
        ),
        (
            "weather-semicolons",
            "semicolon-separated columns",
            "refused",
            W,
            raw(b"date;tmin_c;tmax_c\n2026-01-01;7;21\n"),
        ),
        (
            "weather-no-tmin",
            "no tmin column",
            "refused",
            "tmin_c",
            frame(lambda d: d.drop(columns="tmin_c", inplace=True)),
        ),
        ("weather-date-empty", "an empty date cell", "refused", "row 4", frame(setter(3, "date", None))),
        ("weather-date-month-13", "date 2026-13-01", "refused", "2026-13-01", frame(setter(3, "date", "2026-13-01"))),
        ("weather-date-text", "date 'yesterday'", "refused", "yesterday", frame(setter(3, "date", "yesterday"))),
        ("weather-date-twice", "one day twice", "refused", "twice", frame(setter(3, "date", "2026-01-03"))),
        (
            "weather-decimal-comma",
            "tmax '12,5' (decimal comma)",
            "warning",
            "decimal comma",
            frame(setter(3, "tmax_c", "22,5")),
        ),
        (
            "weather-text-cell",
            "tmax 'abc' in one cell",
            "warning",
            "'abc' is not a number",
            frame(setter(3, "tmax_c", "abc")),
        ),
        (
            "weather-text-column",
            "tmin column of words",
            "refused",
            "tmin_c",
            frame(lambda d: d.__setitem__("tmin_c", "cold")),
        ),
        ("weather-tmax-60", "tmax 60 °C", "warning", "tmax_c", frame(setter(3, "tmax_c", 60.0))),
        ("weather-tmax-55", "tmax 55 °C (the exclusive bound)", "warning", "tmax_c", frame(setter(3, "tmax_c", 55.0))),
        (
            "weather-tmin-48",
            "tmin 48 °C (tmax 50 °C)",
            "warning",
            "tmin_c outside",
            frame(lambda d: (setter(3, "tmin_c", 48.0)(d), setter(3, "tmax_c", 50.0)(d))),
        ),
        (
            "weather-kelvin",
            "temperatures in kelvin",
            "refused",
            "kelvin",
            frame(lambda d: d.__setitem__("tmax_c", d["tmax_c"].astype(float) + 273.15)),
        ),
        (
            "weather-rh-fraction",
            "relative humidity as fractions",
            "refused",
            "rh_min_pct",
            frame(lambda d: (d.__setitem__("rh_min_pct", 0.4), d.__setitem__("rh_max_pct", 0.85))),
        ),
        ("weather-gap", "tmax missing 11 days running", "refused", "11 days", frame(gap)),
        (
            "weather-wind-no-height",
            "wind without anemometer height",
            "refused",
            "wind_height_m",
            frame(lambda d: d.drop(columns="wind_height_m", inplace=True)),
        ),
        ("weather-tmax-below-tmin", "tmax below tmin", "warning", "tmax<tmin", frame(setter(3, "tmax_c", 2.0))),
        ("weather-rain-negative", "rain -4 mm", "warning", "rain_mm", frame(setter(3, "rain_mm", -4.0))),
        (
            "weather-rain-9999",
            "rain 9999 mm (a missing-value code)",
            "warning",
            "rain_mm",
            frame(setter(3, "rain_mm", 9999.0)),
        ),
        (
            "weather-alias-twice",
            "tmax and tx both present",
            "refused",
            "both mean",
            frame(lambda d: d.__setitem__("tx", d["tmax_c"])),
        ),
        (
            "weather-solar-w-m2",
            "W/m² values in an MJ/m² column",
            "refused",
            "solar_mj_m2",
            frame(lambda d: d.__setitem__("solar_mj_m2", 250.0)),
        ),
        ("weather-rh-140", "RH max 140 %", "warning", "rh_max_pct", frame(setter(3, "rh_max_pct", 140.0))),
        (
            "weather-day-missing",
            "a day left out",
            "warning",
            "day missing",
            frame(lambda d: d.drop(index=4, inplace=True)),
        ),
    ]
    cases = [
        Case(cid, "saqi irrigation et0", what, expect, names, lambda t, b=build: _et0(t, b(t)))
        for cid, what, expect, names, build in table
    ]
    good = frame(lambda d: None)
    for cid, lat, elev, names in (
        ("lat-200", "200", "95", "--lat"),
        ("lat-text", "north", "95", "--lat"),
        ("lat-nan", "nan", "95", "--lat"),
        ("elev-90km", "30", "90000", "--elev"),
        ("elev-inf", "30", "inf", "--elev"),
    ):
        cases.append(
            Case(
                cid,
                "saqi irrigation et0",
                f"--lat {lat} --elev {elev}",
                "refused",
                names,
                lambda t, la=lat, el=elev: _et0(t, good(t), la, el),
            )
        )
    cases.append(
        Case(
            "plan-date-bad",
            "saqi irrigation plan",
            "--date 2026-02-30",
            "refused",
            "--date",
            lambda t: cli("irrigation", "plan", "--farm", "chtouka", "--date", "2026-02-30"),
        )
    )
    cases.append(
        Case(
            "plan-farm-newline",
            "saqi irrigation plan",
            "--farm 'chtouka\\n'",
            "refused",
            "chtouka",
            lambda t: cli("irrigation", "plan", "--farm", "chtouka\n", "--date", "2026-01-15", "--data-root", str(t)),
        )
    )
    return cases
