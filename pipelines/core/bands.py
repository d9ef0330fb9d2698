"""Band roles: the lower-case names every module uses (blue, green, red, rededge, nir, …).

Vendors, photogrammetry tools and band descriptions spell them many ways ("Red edge", "REG",
"NIR", "Near-Infrared", "Band 5 (RedEdge)"); `band_role` maps each spelling to one role.
"""
from __future__ import annotations

import re

ROLES = ("coastal", "blue", "green", "red", "rededge", "nir", "panchro", "lwir", "alpha", "gray")
ALIASES = {
    "coastal": "coastal", "coastalblue": "coastal", "b": "blue", "blue": "blue", "blu": "blue",
    "g": "green", "gre": "green", "green": "green", "grn": "green",
    "r": "red", "red": "red",
    "re": "rededge", "reg": "rededge", "rededge": "rededge", "redge": "rededge", "edge": "rededge",
    "nir": "nir", "nearinfrared": "nir", "nearir": "nir", "infrared": "nir", "ir": "nir",
    "pan": "panchro", "panchro": "panchro", "panchromatic": "panchro",
    "lwir": "lwir", "thermal": "lwir", "tir": "lwir", "longwaveinfrared": "lwir",
    "alpha": "alpha", "mask": "alpha", "gray": "gray", "grey": "gray",
}


def band_role(text: str | None) -> str | None:
    """The role named by a band label, or None when the label names no known band."""
    if not text:
        return None
    key = re.sub(r"[^a-z]", "", text.lower())
    if key in ALIASES:
        return ALIASES[key]
    inner = re.search(r"\(([^)]*)\)", text)
    return band_role(inner.group(1)) if inner else None
