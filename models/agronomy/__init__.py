"""Agronomic readings of parcel statistics (crop stages, vigour)."""
