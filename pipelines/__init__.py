"""Saqi: drone multispectral flights to per-parcel irrigation and yield, on each farm's grid."""
