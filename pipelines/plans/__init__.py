"""The models' callers without Dagster: read a farm's inputs through `store/` and the config, run the
FAO-56 models on them (the assets, the CLI and the benchmarks plan through here)."""
