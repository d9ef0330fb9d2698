"""FAO-56 irrigation: weather ingestion, reference ET, Kcb from drone NDVI, soil-water balance, plan.

Pure Python (no Dagster): `read_weather` -> `reference_et_mm` -> `season_balance` -> `recommend`.
"""
