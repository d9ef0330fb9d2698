"""Yield estimates per parcel: light-use efficiency (always) and per-crop regression (with harvest records)."""
