"""One error type per failure kind; every message names the input, the problem and the fix."""
from __future__ import annotations

from pathlib import Path


class SaqiError(Exception):
    """Base of all errors the pipeline raises on purpose."""


class ConfigError(SaqiError):
    """A configuration file (farm, sensor, crop) is missing, malformed or inconsistent."""

    def __init__(self, path: str | Path, field: str, problem: str, fix: str):
        self.path, self.field, self.problem, self.fix = str(path), field, problem, fix
        super().__init__(f"{path}: field '{field}': {problem}; {fix}")


class InputDataError(SaqiError):
    """An input file of a flight (image, parcels, weather) cannot be used as it is."""

    def __init__(self, path: str | Path, problem: str, fix: str):
        self.path, self.problem, self.fix = str(path), problem, fix
        super().__init__(f"{path}: {problem}; {fix}")
