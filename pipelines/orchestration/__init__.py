"""The Dagster wiring: definitions, resources, partitions, jobs, sensors, schedules, runs, landing.

With `assets/` and the CLI, the only code that imports dagster."""
