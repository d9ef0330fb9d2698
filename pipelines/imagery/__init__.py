"""Pure raster processing (no Dagster): sensors, radiometry, grid, indices, cube IO, zonal, zones."""
