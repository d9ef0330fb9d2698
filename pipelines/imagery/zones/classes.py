"""Raster steps of management zoning: class breaks of an index, majority smoothing, fragment merging.

Class breaks are thresholds on the index (n classes -> n-1 breaks), computed on the parcel's
coverage-weighted pixel values:

- k-means (Lloyd; scikit-learn `KMeans`) in one dimension: a pixel belongs to its nearest centre,
  so the breaks are the midpoints between consecutive sorted centres;
- natural breaks (Jenks 1967; Fisher 1958, J. Am. Stat. Assoc. 53:789, the exact optimal
  partition of ordered data by dynamic programming) minimising the within-class sum of squared
  deviations, on a weighted histogram of `HISTOGRAM_BINS` bins (exact up to the bin width,
  O(n_classes · bins²) whatever the pixel count).
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

HISTOGRAM_BINS = 256
KMEANS_SAMPLE = 20_000
"""Pixels drawn (with their weights) to fit the 1-D k-means centres; all pixels are then classified."""
MERGE_PASSES = 25


def kmeans_breaks(values: np.ndarray, weights: np.ndarray, n_classes: int, seed: int = 0) -> np.ndarray:
    """Breaks between the sorted 1-D k-means centres of coverage-weighted `values`."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    pick = rng.choice(values.size, KMEANS_SAMPLE, replace=False) if values.size > KMEANS_SAMPLE else slice(None)
    model = KMeans(n_clusters=n_classes, n_init=4, random_state=seed)
    with threadpool_limits(1):  # 20 000 1-D points: OpenMP threads only add contention (10x on a loaded machine)
        model.fit(values[pick, None].astype(np.float64), sample_weight=weights[pick])
    centres = np.sort(model.cluster_centers_.ravel())
    return (centres[1:] + centres[:-1]) / 2


def natural_breaks(values: np.ndarray, weights: np.ndarray, n_classes: int, bins: int = HISTOGRAM_BINS) -> np.ndarray:
    """Fisher-Jenks optimal breaks of coverage-weighted `values` on a `bins`-bin histogram."""
    edges = np.linspace(float(values.min()), float(values.max()), bins + 1)
    which = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, bins - 1)
    w = np.bincount(which, weights, bins)
    s = np.bincount(which, weights * values, bins)
    q = np.bincount(which, weights * values * values, bins)
    full = np.flatnonzero(w > 0)
    cw, cs, cq = (np.concatenate([[0.0], np.cumsum(a[full])]) for a in (w, s, q))
    m = full.size
    i, j = np.meshgrid(np.arange(m + 1), np.arange(m + 1), indexing="ij")
    with np.errstate(divide="ignore", invalid="ignore"):
        sse = (cq[j] - cq[i]) - (cs[j] - cs[i]) ** 2 / (cw[j] - cw[i])
    sse[i >= j] = np.inf
    cost, choice = sse[0].copy(), []
    for _ in range(1, n_classes):
        total = cost[:, None] + sse
        choice.append(np.argmin(total, axis=0))
        cost = total[choice[-1], np.arange(m + 1)]
    starts, end = [], m
    for pick in reversed(choice):
        end = int(pick[end])
        starts.append(end)
    return np.array([edges[full[k]] for k in sorted(starts)])


def smoothed(labels: np.ndarray, inside: np.ndarray, radius_px: int) -> np.ndarray:
    """Majority filter (disk of `radius_px`) over the parcel's pixels; 0 stays outside."""
    from skimage.filters.rank import majority
    from skimage.morphology import disk

    if radius_px < 1:
        return labels
    out = majority(labels, disk(radius_px), mask=inside)
    out[~inside] = 0
    return out


def filled(labels: np.ndarray, valid: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Give parcel pixels without a valid index (NaN) the class of the nearest valid pixel."""
    if valid[inside].all():
        return labels
    _, (rows, cols) = ndimage.distance_transform_edt(~valid, return_indices=True)
    out = labels[rows, cols]
    out[~inside] = 0
    return out


def _ring_counts(parts: np.ndarray, count: int, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ring of each `wanted` fragment (the pixels 4-adjacent to it, outside it) by owning fragment:
    entries start[k]..start[k + 1] of (neighbour fragment, ring pixels in it) for fragment k (0 = background)."""
    flat = parts.ravel()
    pixel = np.arange(flat.size, dtype=np.int64).reshape(parts.shape)
    head, tail, none = slice(1, None), slice(None, -1), slice(None)
    owners, rings = [], []
    for own_at, other_at in (((none, head), (none, tail)), ((none, tail), (none, head)),
                             ((head, none), (tail, none)), ((tail, none), (head, none))):
        own, other = parts[own_at], parts[other_at]
        border = (own != other) & wanted[own]
        owners.append(own[border].astype(np.int64))
        rings.append(pixel[other_at][border])
    pairs = np.unique(np.concatenate(owners) * flat.size + np.concatenate(rings))
    owner, ring = np.divmod(pairs, flat.size)
    key, pixels = np.unique(owner * (count + 1) + flat[ring], return_counts=True)
    owner, neighbour = np.divmod(key, count + 1)
    return np.searchsorted(owner, np.arange(count + 2)), neighbour, pixels


def merge_fragments(labels: np.ndarray, area: np.ndarray, min_area: float) -> np.ndarray:
    """Merge 4-connected single-class fragments with `area` sum below `min_area` into a neighbour.

    Smallest fragments go first; each joins the class it shares the longest border with (its
    ring pixels of that class, counted after the merges made before it in the pass; ties to the
    lower class). A fragment without neighbours (a whole parcel or an isolated part of one) is
    kept. Rings are counted for all small fragments at once (`_ring_counts`), so a pass costs a
    few array operations plus a loop over fragments, not one dilation per fragment.
    """
    from skimage.measure import label

    labels = labels.copy()
    for _ in range(MERGE_PASSES):
        parts, count = label(labels, background=0, connectivity=1, return_num=True)
        if count <= 1:
            break
        sizes = np.bincount(parts.ravel(), area.ravel(), count + 1)[1:]
        small = [int(k) + 1 for k in np.argsort(sizes, kind="stable") if sizes[k] < min_area]
        if not small:
            break
        flat = parts.ravel()
        first = np.zeros(count + 1, np.int64)
        pixels = np.flatnonzero(flat)[::-1]
        first[flat[pixels]] = pixels
        fragment_class = labels.ravel()[first].astype(np.int64)
        fragment_class[0] = 0
        wanted = np.zeros(count + 1, bool)
        wanted[small] = True
        start, neighbour, ring = (a.tolist() for a in _ring_counts(parts, count, wanted))
        classes = fragment_class.tolist()
        changed = False
        for k in small:
            own, tally = classes[k], {}
            for e in range(start[k], start[k + 1]):
                c = classes[neighbour[e]]
                if c > 0 and c != own:
                    tally[c] = tally.get(c, 0) + ring[e]
            if tally:
                most = max(tally.values())
                classes[k] = min(c for c, n in tally.items() if n == most)
                changed = True
        if not changed:
            break
        labels = np.asarray(classes, dtype=labels.dtype)[parts]
    return labels
