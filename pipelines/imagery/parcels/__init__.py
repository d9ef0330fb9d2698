"""Parcels and any polygon layer: reading and validation, exact pixel coverage, zonal statistics."""
