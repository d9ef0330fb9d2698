"""Metadata helpers shared by the assets: previews, tables, plottable numbers, as an agronomist reads them.

- Figures: `shown(metadata)` relabels every float from `number()` for the UI, unit in the label and
  rounded to the precision that means something (`ndvi_mean` 0.40374600887 → "NDVI mean" 0.4,
  `zone_area_mean_m2` → "Zone area mean (ha)", `valid_fraction` → "Valid (%)" 98.7).
- Tables: every column of a `table()` schema carries a description with its unit (`COLUMNS`).
- Previews: Dagster 1.13 renders a markdown metadata value inline (on the asset's Overview, which
  shows the latest materialisation, and on its Events) only below 1 000 characters
  (`MetadataEntry.tsx`, `expandSmallValues`); larger ones hide behind "[Show Markdown]". So each map
  comes twice: `thumbnail()`, a palette PNG small enough to be seen without a click, and the full
  `preview()` one click away.
"""

import base64
import math
import re
from collections.abc import Callable, Mapping

import dagster as dg
import pandas as pd

from pipelines.imagery.preview import PREVIEW_MAX_BYTES

OWNERS = {
    "ingest": ["team:data-engineering"],
    "imagery": ["team:agronomy"],
    "segmentation": ["team:agronomy"],
    "parcels": ["team:agronomy"],
    "irrigation": ["team:agronomy"],
    "yield": ["team:agronomy"],
    "reports": ["team:cooperatives"],
}


def card(doc: str | None) -> str:
    """The asset module's dataset card (its docstring), reused as the asset description."""
    return (doc or "").strip()


def section(doc: str | None, name: str) -> str:
    """One asset's description from a module card that describes several: its "- `name`: …" item,
    capitalised so the catalogue's one-line summary reads as a sentence, then the card's closing
    "How to read" paragraph."""
    text = card(doc)
    item = next(part for part in text.split("- `") if part.startswith(name + "`"))
    body = item.split(":", 1)[1].split("\n\n", 1)[0].strip()
    return body[:1].upper() + body[1:] + "\n\n" + text.rsplit("\n\n", 1)[1]


INLINE_MD_CHARS = 1000
"""Dagster 1.13 renders markdown metadata inline below this many characters."""
THUMBNAIL_SIDES_PX = (200, 160, 128, 96, 64, 48, 32)


def thumbnail(render: Callable[[int], bytes], alt: str) -> dg.MetadataValue:
    """The largest of `THUMBNAIL_SIDES_PX` renderings whose markdown the UI shows inline (no click).

    Args:
        render: draws the map with its longer side at most the given number of pixels, returns PNG bytes.
        alt: the image's alternative text.
    """
    for side_px in THUMBNAIL_SIDES_PX:
        markdown = f"![{alt}](data:image/png;base64,{base64.b64encode(render(side_px)).decode()})"
        if len(markdown) < INLINE_MD_CHARS:
            return dg.MetadataValue.md(markdown)
    return dg.MetadataValue.text(f"{alt}: no thumbnail under {INLINE_MD_CHARS} characters; see the full preview")


def preview(png: bytes, alt: str) -> dg.MetadataValue:
    """A PNG preview embedded in markdown metadata (kept under 150 KB for the UI)."""
    if len(png) > PREVIEW_MAX_BYTES:
        raise ValueError(f"preview '{alt}' is {len(png)} bytes; render it smaller (limit {PREVIEW_MAX_BYTES})")
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})")


def _column_type(dtype) -> str:
    kind = getattr(dtype, "kind", "O")
    return {"f": "float", "i": "int", "u": "int", "b": "bool", "M": "datetime"}.get(kind, "string")


COLUMNS = {
    "parcel": "parcel id (farm.yaml / parcels file)", "parcel_id": "parcel id (farm.yaml / parcels file)",
    "zone_id": "management zone id (<parcel>-z<n>)",
    "zone": "management zone number within the parcel (1 = lowest vigour)",
    "n_zones": "number of management zones in the parcel", "crop": "crop of the parcel (configs/crops)",
    "status": "ok, or why the parcel has no statistics",
    "n_pixels": "crop pixels counted in the parcel (coverage-weighted)",
    "parcel_n_pixels": "valid pixels in the whole parcel (coverage-weighted)",
    "ndvi_mean": "mean NDVI of the crop pixels (unitless, -1..1)", "ndvi_parcel_mean": "mean NDVI of all the parcel's "
    "pixels (unitless, -1..1; drives the water balance)", "ndvi_p10": "10th percentile of crop-pixel NDVI (unitless)",
    "ndvi_p90": "90th percentile of crop-pixel NDVI (unitless)", "ndre_mean": "mean NDRE of the crop pixels (unitless)",
    "crop_cover_fraction": "crop pixels / parcel pixels (fraction 0-1)", "weed_pressure": "weed pixels / vegetation "
    "pixels (fraction 0-1; 0.2 = one plant in five is a weed)",
    "irrigate_today": "true when the parcel is irrigated today (drip: a day of its interval; else depletion ≥ RAW)",
    "depth_mm": "gross irrigation depth to apply today (mm)", "volume_m3": "water volume to apply today (m³)",
    "sector": "irrigation sector (one valve) of the parcel", "irrigation_method": "irrigation method (configs)",
    "net_depth_mm": "net depth stored in the root zone today (mm)",
    "leaching_mm": "share of the gross depth meant to drain salts below the roots (mm, FAO-29)",
    "litres_per_plant": "water per plant today (L)", "run_time_h": "time to run the sector today (h)",
    "pulses": "number of equal pulses the run time is split into", "quota_cut_m3": "volume cut by the farm's "
    "water allocation today (m³)", "quota_reason": "why and how the allocation cut this parcel",
    "next_irrigation_date": "forecast date of the next irrigation (YYYY-MM-DD)",
    "depletion_mm": "root-zone depletion Dr at the end of the day (mm)", "raw_mm": "readily available water RAW (mm)",
    "taw_mm": "total available water TAW (mm)", "ks": "water-stress coefficient Ks (unitless, 1 = no stress)",
    "stress": "true when Ks < 1 (crop under water stress)", "kcb": "basal crop coefficient Kcb (unitless)",
    "kcb_source": "where Kcb comes from: ndvi (flights), ndvi_extrapolated (after the last flight), fao_table",
    "area_m2": "area (m²)", "depletion_spread_mm": "max - min depletion across the zone's pixels (mm)",
    "index_mean": "mean of the zoning index over the zone (unitless)", "index_std": "standard deviation of the zoning "
    "index over the zone (unitless)", "model": "yield model used for the parcel",
    "yield_t_ha": "expected yield (t/ha)", "yield_p10_t_ha": "yield, 10th percentile (t/ha)",
    "yield_p90_t_ha": "yield, 90th percentile (t/ha)", "yield_qx_ha": "expected yield (quintals/ha)",
    "weed_cover_fraction": "weeds' share of the parcel's vegetation on its latest flight (0-1)",
    "weed_yield_loss_fraction": "share of the weed-free yield lost to weeds (0-1, Kropff & Spitters 1991)",
    "file": "file name", "kind": "captures (raw frames) or orthomosaic", "language": "report language (fr, ar, en)",
    "pdf": "PDF file name", "delivery": "delivery status (sent, queued, failed)",
    "exg_mean": "mean ExG of the crop pixels (chromatic coordinates of an RGB camera, unitless, -1..2)",
    "exg_parcel_mean": "mean ExG of all the parcel's pixels (chromatic coordinates, unitless)",
    "exg_p10": "10th percentile of crop-pixel ExG (unitless)",
    "exg_p90": "90th percentile of crop-pixel ExG (unitless)",
}
DATE_COLUMN = re.compile(r"\d{4}-\d{2}-\d{2}")


def column_description(name: str, dates: str = "") -> str:
    """The description (with unit) of a table column: `COLUMNS`, or `dates` for a YYYY-MM-DD column."""
    if name in COLUMNS:
        return COLUMNS[name]
    if dates and DATE_COLUMN.fullmatch(name):
        return f"{dates} on {name}"
    raise KeyError(f"table column '{name}' has no description: add it, with its unit, to assets/_metadata.COLUMNS")


def table(frame: pd.DataFrame, description: str = "", dates: str = "") -> dict[str, dg.MetadataValue]:
    """A table preview with its column schema (each column described with its unit) and row count.

    Args:
        frame: the rows shown (floats rounded to 4 decimals, NaN shown empty).
        description: what one row is.
        dates: description of YYYY-MM-DD columns (e.g. "mean crop NDVI (unitless) of the flight").
    """
    schema = dg.TableSchema(columns=[dg.TableColumn(str(c), _column_type(frame[c].dtype),
                                                    description=column_description(str(c), dates))
                                     for c in frame.columns])
    records = []
    for row in frame.to_dict(orient="records"):
        clean = {str(k): (None if isinstance(v,
                                             float) and math.isnan(v) else (round(v, 4) if isinstance(v, float) else v))
                 for k, v in row.items()}
        records.append(dg.TableRecord({k: (str(v) if not isinstance(v,
                                                                    (int, float, bool,
                                                                     type(None))) else v) for k, v in clean.items()}))
    return {
        "preview": dg.MetadataValue.table(records=records, schema=schema),
        "dagster/column_schema": schema,
        "dagster/row_count": dg.MetadataValue.int(len(frame)),
        **({"table": dg.MetadataValue.text(description)} if description else {}),
    }


def number(value: float) -> dg.MetadataValue:
    """A plottable float (NaN becomes null rather than breaking the plot)."""
    value = float(value)
    return dg.MetadataValue.float(value) if math.isfinite(value) else dg.MetadataValue.null()


WORDS = {"ndvi": "NDVI", "ndre": "NDRE", "gndvi": "GNDVI", "savi": "SAVI", "et0": "ET0", "p50": "median reflectance",
         "tmin": "min air temperature", "tmax": "max air temperature", "u2": "wind speed at 2 m", "7day": "7-day",
         "solar": "solar radiation", "val": "validation", "blue": "blue", "green": "green", "red": "red",
         "rededge": "red edge", "nir": "NIR"}
UNITS = {  # name suffix: (unit shown in the label, decimals, scale)
    "fraction": ("%", 1, 100.0), "mm": ("mm", 1, 1.0), "m3": ("m³", 0, 1.0), "m2": ("ha", 2, 1e-4),
    "c": ("°C", 1, 1.0), "mj_m2": ("MJ/m²", 1, 1.0), "ms": ("m/s", 1, 1.0), "px": ("px", 2, 1.0),
    "t_ha": ("t/ha", 1, 1.0),
}
DECIMALS_UNITLESS = 2
DECIMALS_REFLECTANCE = 3


def label(key: str) -> tuple[str, int, float]:
    """The UI label of a figure (unit in brackets), its decimals and the scale to its unit.

    Args:
        key: the figure's name with its unit suffix, e.g. `ndvi_mean`, `total_volume_m3`, `valid_fraction`.
    """
    unit, decimals, scale = None, DECIMALS_UNITLESS, 1.0
    words = key.split("_")
    for suffix in sorted(UNITS, key=len, reverse=True):
        parts = suffix.split("_")
        if len(words) > len(parts) and words[-len(parts):] == parts:
            unit, decimals, scale = UNITS[suffix]
            words = words[:-len(parts)]
            break
    if words[-1] == "p50":
        decimals = DECIMALS_REFLECTANCE
    if words[0] == "val":
        decimals = DECIMALS_REFLECTANCE
    text = " ".join(WORDS.get(w, w) for w in words)
    text = text[:1].upper() + text[1:]
    return (f"{text} ({unit})" if unit else text), decimals, scale


def shown(metadata: Mapping[str, object]) -> dict[str, object]:
    """`metadata` with every float from `number()` relabelled and rounded by `label()`; the rest unchanged."""
    out = {}
    for key, value in metadata.items():
        if isinstance(value, (dg.FloatMetadataValue, dg.NullMetadataValue)) and "/" not in key:
            text, decimals, scale = label(key)
            raw = value.value if isinstance(value, dg.FloatMetadataValue) else None
            out[text] = dg.MetadataValue.null() if raw is None else dg.MetadataValue.float(round(raw * scale, decimals))
        else:
            out[key] = value
    return out
