"""Reference evapotranspiration ET0 (mm/day) and its radiation terms, after FAO-56 chapter 3.

Allen R.G., Pereira L.S., Raes D., Smith M. 1998, FAO Irrigation and Drainage Paper 56. Every
function is vectorised over NumPy arrays; equation numbers refer to FAO-56.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

SOLAR_CONSTANT_MJ_M2_MIN = 0.0820
STEFAN_BOLTZMANN_MJ_K4_M2_DAY = 4.903e-9
ALBEDO = 0.23
KRS_INTERIOR = 0.16
RS_RSO_MIN = 0.3


def saturation_vapour_pressure_kpa(t_c):
    """e°(T) in kPa (eq. 11)."""
    t_c = np.asarray(t_c, dtype=float)
    return 0.6108 * np.exp(17.27 * t_c / (t_c + 237.3))


def atmospheric_pressure_kpa(elevation_m):
    """P in kPa from elevation (eq. 7)."""
    return 101.3 * ((293.0 - 0.0065 * np.asarray(elevation_m, dtype=float)) / 293.0) ** 5.26


def wind_at_2m_ms(wind_ms, height_m):
    """u2 (m/s) from wind measured at height_m above grass (eq. 47)."""
    return np.asarray(wind_ms, dtype=float) * 4.87 / np.log(67.8 * np.asarray(height_m, dtype=float) - 5.42)


def _solar_geometry(lat_deg, doy):
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    doy = np.asarray(doy, dtype=float)
    dr = 1 + 0.033 * np.cos(2 * np.pi / 365 * doy)                      # eq. 23
    decl = 0.409 * np.sin(2 * np.pi / 365 * doy - 1.39)                 # eq. 24
    ws = np.arccos(np.clip(-np.tan(lat) * np.tan(decl), -1.0, 1.0))     # eq. 25
    return lat, dr, decl, ws


def extraterrestrial_radiation_mj_m2(lat_deg, doy):
    """Ra, MJ m-2 day-1 (eq. 21)."""
    lat, dr, decl, ws = _solar_geometry(lat_deg, doy)
    return (24 * 60 / np.pi) * SOLAR_CONSTANT_MJ_M2_MIN * dr * (
        ws * np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.sin(ws))


def daylight_hours(lat_deg, doy):
    """N, maximum possible sunshine duration in hours (eq. 34)."""
    return 24 / np.pi * _solar_geometry(lat_deg, doy)[3]


def solar_from_sunshine_mj_m2(sunshine_h, lat_deg, doy, a_s: float = 0.25, b_s: float = 0.50):
    """Rs from sunshine hours n with the Angström formula (eq. 35), MJ m-2 day-1."""
    ra = extraterrestrial_radiation_mj_m2(lat_deg, doy)
    return (a_s + b_s * np.asarray(sunshine_h, dtype=float) / daylight_hours(lat_deg, doy)) * ra


def solar_from_temperature_mj_m2(tmax_c, tmin_c, lat_deg, doy, krs: float = KRS_INTERIOR):
    """Rs from the temperature range, Hargreaves' radiation formula (eq. 50), MJ m-2 day-1.

    krs = 0.16 for interior and 0.19 for coastal locations (FAO-56 p. 60).
    """
    spread = np.clip(np.asarray(tmax_c, dtype=float) - np.asarray(tmin_c, dtype=float), 0, None)
    ra = extraterrestrial_radiation_mj_m2(lat_deg, doy)
    return krs * np.sqrt(spread) * ra


def clear_sky_radiation_mj_m2(lat_deg, doy, elevation_m):
    """Rso, MJ m-2 day-1 (eq. 37)."""
    return (0.75 + 2e-5 * np.asarray(elevation_m, dtype=float)) * extraterrestrial_radiation_mj_m2(lat_deg, doy)


def net_radiation_mj_m2(solar_mj_m2, tmax_c, tmin_c, ea_kpa, lat_deg, doy, elevation_m):
    """Rn = Rns - Rnl, MJ m-2 day-1 (eqs. 38, 39, 40).

    The relative shortwave radiation Rs/Rso is held to [0.3, 1.0] (ASCE-EWRI 2005, eq. 18 and
    its note), so the cloudiness term 1.35 Rs/Rso − 0.35 stays within [0.055, 1.0] on overcast
    days, as refet and pyfao56 compute it.
    """
    rs = np.asarray(solar_mj_m2, dtype=float)
    rso = clear_sky_radiation_mj_m2(lat_deg, doy, elevation_m)
    relative = np.clip(rs / rso, RS_RSO_MIN, 1.0)
    tk4 = ((np.asarray(tmax_c, dtype=float) + 273.16) ** 4 + (np.asarray(tmin_c, dtype=float) + 273.16) ** 4) / 2
    rnl = STEFAN_BOLTZMANN_MJ_K4_M2_DAY * tk4 * (0.34 - 0.14 * np.sqrt(ea_kpa)) * (1.35 * relative - 0.35)
    return (1 - ALBEDO) * rs - rnl


def monthly_soil_heat_flux_mj_m2(t_previous_month_c, t_next_month_c=None, t_this_month_c=None):
    """G for a monthly time step, MJ m-2 day-1, from mean monthly air temperatures (°C):
    0.07 (T_next − T_previous) (eq. 43), or 0.14 (T_this − T_previous) when the next month is
    not known yet (eq. 44). Daily steps take G = 0 (eq. 42)."""
    previous = np.asarray(t_previous_month_c, dtype=float)
    if t_next_month_c is not None:
        return 0.07 * (np.asarray(t_next_month_c, dtype=float) - previous)
    if t_this_month_c is None:
        raise ValueError("give the next month's mean temperature (eq. 43) or this month's (eq. 44)")
    return 0.14 * (np.asarray(t_this_month_c, dtype=float) - previous)


def penman_monteith_mm(tmin_c, tmax_c, solar_mj_m2, u2_ms, ea_kpa, lat_deg, doy, elevation_m, soil_heat_mj_m2=0.0):
    """FAO-56 Penman-Monteith ET0 for the grass reference, mm/day (eq. 6; G = 0 for days, eq. 42)."""
    tmin_c, tmax_c = np.asarray(tmin_c, dtype=float), np.asarray(tmax_c, dtype=float)
    tmean = (tmin_c + tmax_c) / 2                                                       # eq. 9
    delta = 4098 * saturation_vapour_pressure_kpa(tmean) / (tmean + 237.3) ** 2         # eq. 13
    gamma = 0.665e-3 * atmospheric_pressure_kpa(elevation_m)                            # eq. 8
    es = (saturation_vapour_pressure_kpa(tmax_c) + saturation_vapour_pressure_kpa(tmin_c)) / 2  # eq. 12
    rn = net_radiation_mj_m2(solar_mj_m2, tmax_c, tmin_c, ea_kpa, lat_deg, doy, elevation_m)
    u2 = np.asarray(u2_ms, dtype=float)
    numerator = 0.408 * delta * (rn - soil_heat_mj_m2) + gamma * 900 / (tmean + 273) * u2 * (es - ea_kpa)
    return np.maximum(numerator / (delta + gamma * (1 + 0.34 * u2)), 0.0)


def hargreaves_samani_mm(tmin_c, tmax_c, lat_deg, doy):
    """Hargreaves-Samani ET0, mm/day (FAO-56 eq. 52; Hargreaves & Samani 1985), Ra in mm (× 0.408)."""
    tmin_c, tmax_c = np.asarray(tmin_c, dtype=float), np.asarray(tmax_c, dtype=float)
    ra_mm = 0.408 * extraterrestrial_radiation_mj_m2(lat_deg, doy)
    return 0.0023 * ((tmax_c + tmin_c) / 2 + 17.8) * np.sqrt(np.clip(tmax_c - tmin_c, 0, None)) * ra_mm


def reference_et_method(weather: pd.DataFrame) -> pd.Series:
    """Per day, 'penman_monteith' or 'hargreaves_samani'.

    Hargreaves-Samani is used on days whose solar radiation came from the temperature range
    while humidity or wind were not measured either: Penman-Monteith would then rest on three
    estimated inputs (FAO-56 ch. 3, 'Missing data'), and Hargreaves needs none of them.
    """
    estimated_rs = weather["solar_source"].eq("temperature")
    weak = weather["humidity_source"].eq("tmin") | weather["wind_source"].eq("default")
    return pd.Series(np.where(estimated_rs & weak, "hargreaves_samani", "penman_monteith"),
                     index=weather.index, name="et0_method")


def reference_et_mm(weather: pd.DataFrame, lat_deg: float, elevation_m: float) -> pd.Series:
    """Daily ET0 (mm) of a weather table from `read_weather` (FAO-56 eq. 6, Hargreaves eq. 52 fallback)."""
    doy = weather.index.day_of_year.to_numpy()
    pm = penman_monteith_mm(weather["tmin_c"], weather["tmax_c"], weather["solar_mj_m2"], weather["u2_ms"],
                            weather["ea_kpa"], lat_deg, doy, elevation_m)
    hs = hargreaves_samani_mm(weather["tmin_c"], weather["tmax_c"], lat_deg, doy)
    method = reference_et_method(weather)
    values = np.where(method.eq("hargreaves_samani"), hs, pm)
    return pd.Series(values, index=weather.index, name="et0_mm")
