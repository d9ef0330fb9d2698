"""What the reflectance checks and metadata read: percentiles, out-of-range and saturation
fractions per band (previews: `pipelines.imagery.preview`).

Reflectance is a unitless fraction 0–1 (values up to ~1.2 occur over specular targets); the
checks flag values outside [0, 1.5] and saturated sensor pixels (DN at the dtype maximum).
Statistics stream: a `ReflectanceTally` takes one block at a time, so a 10 000² mosaic never has
to sit in memory; percentiles come from a histogram centred on multiples of 1e-4 (exact to ±0.00005).
"""
from __future__ import annotations

import numpy as np

VALID_RANGE = (0.0, 1.5)
HIST_LOW, HIST_HIGH, HIST_BIN = -0.5, 2.0, 1e-4
PERCENTILES = (2, 25, 50, 75, 98)


class ReflectanceTally:
    """Streaming per-band statistics of reflectance blocks shaped (band, y, x), NaN = no data."""

    def __init__(self, bands: list[str]):
        self.bands = list(bands)
        n_bins = int(round((HIST_HIGH - HIST_LOW) / HIST_BIN)) + 2  # + under/overflow bins
        self.histogram = np.zeros((len(bands), n_bins), dtype=np.int64)
        self.pixels = 0
        self.valid = np.zeros(len(bands), dtype=np.int64)
        self.outside = np.zeros(len(bands), dtype=np.int64)
        self.saturated = np.zeros(len(bands), dtype=np.int64)
        self.total = np.zeros(len(bands), dtype=np.float64)

    def add(self, block: np.ndarray, saturated: np.ndarray | None = None) -> None:
        """Count one block; `saturated` (same shape, bool) marks pixels whose source DN clipped."""
        self.pixels += block[0].size
        n_bins = self.histogram.shape[1]
        for i, band in enumerate(block):
            values = band[np.isfinite(band)]
            self.valid[i] += values.size
            self.total[i] += float(values.sum(dtype=np.float64))
            self.outside[i] += int(np.count_nonzero((values < VALID_RANGE[0]) | (values > VALID_RANGE[1])))
            index = np.clip(np.rint((values - HIST_LOW) / HIST_BIN).astype(np.int64) + 1, 0, n_bins - 1)
            self.histogram[i] += np.bincount(index, minlength=n_bins)
            if saturated is not None:
                self.saturated[i] += int(np.count_nonzero(saturated[i]))

    def percentile(self, band_index: int, q: float) -> float | None:
        """The band's q-th percentile (q 0-100) of reflectance from the histogram (1e-4 bins,
        clamped to -0.5..2.0), None when the band has no valid pixel."""
        counts = self.histogram[band_index]
        total = int(counts.sum())
        if total == 0:
            return None
        rank = q / 100.0 * (total - 1)
        bin_index = int(np.searchsorted(np.cumsum(counts), rank, side="right"))
        centre = HIST_LOW + (bin_index - 1) * HIST_BIN
        return round(float(np.clip(centre, HIST_LOW, HIST_HIGH)), 4)

    def summary(self) -> dict[str, dict]:
        """Per band: percentiles p2…p98, mean, valid fraction, fraction outside [0, 1.5], saturation."""
        result = {}
        for i, band in enumerate(self.bands):
            valid = int(self.valid[i])
            result[band] = {
                **{f"p{q}": self.percentile(i, q) for q in PERCENTILES},
                "mean": round(self.total[i] / valid, 5) if valid else None,
                "valid_fraction": round(valid / self.pixels, 6) if self.pixels else 0.0,
                "outside_0_1p5_fraction": round(int(self.outside[i]) / valid, 6) if valid else 0.0,
                "saturation_fraction": round(int(self.saturated[i]) / valid, 6) if valid else 0.0,
            }
        return result


def reflectance_summary(reflectance: np.ndarray, bands: list[str], saturated: np.ndarray | None = None) -> dict:
    """`ReflectanceTally.summary()` of one in-memory (band, y, x) array."""
    tally = ReflectanceTally(bands)
    tally.add(np.asarray(reflectance, dtype=np.float32), saturated)
    return tally.summary()
