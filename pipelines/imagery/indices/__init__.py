"""Vegetation indices: the catalogue (`configs/indices.yaml`), the kernel, the windowed product, the Dask path."""
