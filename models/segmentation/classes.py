"""Class codes of every class map (`flights/<flight>/classes`), with CF flag attributes."""
from __future__ import annotations

SOIL, CROP, WEED, SHADOW, NO_DATA = 0, 1, 2, 3, 255
NAMES = ("soil", "crop", "weed", "shadow")


def flag_attributes() -> dict:
    """CF `flag_values` / `flag_meanings` for a class map; no data is the flag 255 (no `_FillValue`,
    so readers get the uint8 codes back rather than floats with NaN)."""
    return {"flag_values": [SOIL, CROP, WEED, SHADOW, NO_DATA], "flag_meanings": " ".join((*NAMES, "no_data")),
            "long_name": "crop / weed / soil / shadow classes"}
