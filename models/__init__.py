"""Models without Dagster: segmentation, irrigation (FAO-56), yields."""
