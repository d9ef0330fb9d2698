"""Metadata helpers shared by the assets: previews, tables, plottable numbers."""

import base64
import math

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


def preview(png: bytes, alt: str) -> dg.MetadataValue:
    """A PNG preview embedded in markdown metadata (kept under 150 KB for the UI)."""
    if len(png) > PREVIEW_MAX_BYTES:
        raise ValueError(f"preview '{alt}' is {len(png)} bytes; render it smaller (limit {PREVIEW_MAX_BYTES})")
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})")


def _column_type(dtype) -> str:
    kind = getattr(dtype, "kind", "O")
    return {"f": "float", "i": "int", "u": "int", "b": "bool", "M": "datetime"}.get(kind, "string")


def table(frame: pd.DataFrame, description: str = "") -> dict[str, dg.MetadataValue]:
    """A table preview with its column schema and row count (`dagster/column_schema`)."""
    schema = dg.TableSchema(columns=[dg.TableColumn(str(c), _column_type(frame[c].dtype)) for c in frame.columns])
    records = []
    for row in frame.to_dict(orient="records"):
        clean = {str(k): (None if isinstance(v, float) and math.isnan(v) else (round(v, 4) if isinstance(v, float) else v))
                 for k, v in row.items()}
        records.append(dg.TableRecord({k: (str(v) if not isinstance(v, (int, float, bool, type(None))) else v) for k, v in clean.items()}))
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
