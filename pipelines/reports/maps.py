"""Small PNG maps for reports: NDVI, crop/weed classes and management zones, north-up, with a
scale bar in metres and a north arrow; legends are returned beside the image so the report
renders them as text in the reader's language.

Images are 8-bit palette PNGs (a colour table of at most 256 entries): a 400 × 400 px parcel map
weighs a few tens of kB. Colour maps come from matplotlib; drawing is done with Pillow.
"""
from __future__ import annotations

import io
import math
from functools import lru_cache

import numpy as np
from affine import Affine
from rasterio.features import rasterize

from pipelines.imagery.preview import block_factor, reduce_mean
from pipelines.reports.i18n import N_
from pipelines.reports.model import LegendEntry, MapImage

NO_DATA = 255
_BLACK, _WHITE = 253, 254
NDVI_STEP = 0.05
NDVI_RANGE = (0.0, 1.0)
NDVI_COLOURMAP = "RdYlGn"
NDVI_TICKS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
CLASS_LEGEND = (
    LegendEntry("#c8a27a", N_("Bare soil")),
    LegendEntry("#2e9d3a", N_("Crop")),
    LegendEntry("#d7301f", N_("Weeds")),
    LegendEntry("#4d4d4d", N_("Shadow")),
)
ZONE_LABELS = (N_("Low vigour"), N_("Medium-low vigour"), N_("Medium vigour"), N_("Medium-high vigour"),
               N_("High vigour"))
ZONE_COLOURMAP = "YlGn"
DEFAULT_MAX_SIDE_PX = 480


def _hex(rgb: np.ndarray) -> str:
    return "#" + "".join(f"{int(round(float(c) * 255)):02x}" for c in rgb[:3])


@lru_cache(maxsize=8)
def _colours(name: str, count: int) -> np.ndarray:
    """`count` colours (RGB 0–1) sampled evenly along a matplotlib colour map."""
    from matplotlib import colormaps

    return colormaps[name](np.linspace(0.0, 1.0, count))[:, :3]


def _palette(colours: np.ndarray) -> list[int]:
    table = np.zeros((256, 3), dtype=np.uint8)
    table[: len(colours)] = np.round(np.asarray(colours) * 255).astype(np.uint8)
    table[_BLACK], table[_WHITE], table[NO_DATA] = (0, 0, 0), (255, 255, 255), (255, 255, 255)
    return table.ravel().tolist()


def _check(array: np.ndarray, pixel_size_m: float, what: str) -> None:
    if array.ndim != 2 or min(array.shape) == 0:
        raise ValueError(f"{what} map: expected a non-empty 2-D array (y, x), got shape {array.shape}")
    if not pixel_size_m > 0:
        raise ValueError(f"{what} map: pixel size must be positive metres, got {pixel_size_m}")


def scale_bar_length_m(width_m: float) -> float:
    """The longest 1-2-5 × 10^k metre length not exceeding a quarter of the map width."""
    target = width_m / 4.0
    exponent = math.floor(math.log10(target))
    return max(step * 10.0**exponent for step in (1, 2, 5) if step * 10.0**exponent <= target)


def _label(metres: float) -> str:
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


def _decorate(image, pixel_size_m: float) -> None:
    """Draw a two-segment scale bar (bottom left) and a north arrow (top right) onto a P-mode image."""
    from matplotlib import font_manager
    from PIL import ImageDraw, ImageFont

    draw = ImageDraw.Draw(image)
    width, height = image.size
    font_px = max(12, min(22, width // 20))
    font = ImageFont.truetype(font_manager.findfont("DejaVu Sans"), font_px)
    length_m = scale_bar_length_m(width * pixel_size_m)
    bar_px = max(2, round(length_m / pixel_size_m))
    label = _label(length_m)
    text_w = draw.textlength(label, font=font)
    pad, bar_h = 4, max(3, font_px // 3)
    box = (2, height - 2 - (pad * 3 + font_px + bar_h), 2 + pad * 2 + max(bar_px, text_w), height - 2)
    draw.rectangle(box, fill=_WHITE)
    x0, y0 = box[0] + pad, box[3] - pad - bar_h
    half = bar_px // 2
    draw.rectangle((x0, y0, x0 + half, y0 + bar_h), fill=_BLACK)
    draw.rectangle((x0 + half, y0, x0 + bar_px, y0 + bar_h), fill=_WHITE, outline=_BLACK)
    draw.text((x0, box[1] + pad), label, font=font, fill=_BLACK)
    arrow_h = font_px * 2
    ax, ay = width - pad - font_px, pad + font_px + 2
    draw.rectangle((ax - font_px, 2, ax + font_px, ay + arrow_h + 2), fill=_WHITE)
    draw.polygon([(ax, ay), (ax - font_px // 2, ay + arrow_h), (ax, ay + arrow_h * 2 // 3),
                  (ax + font_px // 2, ay + arrow_h)], fill=_BLACK)
    draw.text((ax, ay - 1), "N", font=font, fill=_BLACK, anchor="mb")


def _png(indices: np.ndarray, colours: np.ndarray, pixel_size_m: float, decorated: bool = True) -> bytes:
    from PIL import Image

    indices = np.ascontiguousarray(indices, dtype=np.uint8)
    palette, transparent = _palette(colours), NO_DATA
    if not decorated:
        # A thumbnail: keep only the colours used (a 256-entry table alone is 768 bytes of PNG).
        used = np.unique(indices)
        compact = np.zeros(256, dtype=np.uint8)
        compact[used] = np.arange(len(used), dtype=np.uint8)
        indices = compact[indices]
        palette = np.asarray(palette, dtype=np.uint8).reshape(256, 3)[used].ravel().tolist()
        transparent = int(compact[NO_DATA]) if NO_DATA in used else None
    image = Image.fromarray(indices, mode="P")
    image.putpalette(palette)
    if decorated:
        _decorate(image, pixel_size_m)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True, **({} if transparent is None else {"transparency": transparent}))
    return buffer.getvalue()


VIGOUR_SCALES = {
    # index: (range, step, ticks, title)
    "ndvi": (NDVI_RANGE, NDVI_STEP, NDVI_TICKS, N_("NDVI (vegetation vigour)")),
    # ExG on chromatic coordinates: bare soil ~0, green canopy ~0.3-0.6 (Woebbecke et al. 1995)
    "exg": ((0.0, 0.8), 0.04, (0.0, 0.2, 0.4, 0.6, 0.8), N_("ExG (vegetation vigour, RGB camera)")),
}


def ndvi_map(ndvi: np.ndarray, pixel_size_m: float, *, max_side_px: int = DEFAULT_MAX_SIDE_PX,
             decorated: bool = True, index: str = "ndvi") -> MapImage:
    """A vigour index (NDVI, or ExG of an RGB flight; –, NaN = no data or outside the parcel) in
    classes on a red-yellow-green ramp: NDVI in 0.05 steps over 0–1, ExG in 0.04 steps over 0–0.8.

    `decorated=False` leaves out the scale bar and north arrow (a thumbnail too small to read them).

    Steps keep the map readable as classes and the PNG small (sensor noise does not spread over
    hundreds of colours)."""
    (low, high), step, ticks, title = VIGOUR_SCALES[index]
    ndvi = np.asarray(ndvi, dtype=np.float32)
    _check(ndvi, pixel_size_m, index.upper())
    factor = block_factor(ndvi.shape, max_side_px)
    reduced = reduce_mean(ndvi, factor)
    levels = round((high - low) / step)
    steps = np.clip(np.floor((np.nan_to_num(reduced) - low) / step), 0, levels - 1)
    indices = np.where(np.isfinite(reduced), steps, NO_DATA)
    colours = _colours(NDVI_COLOURMAP, 2 * levels + 1)[1::2]
    ramp_stops = _colours(NDVI_COLOURMAP, 11)
    ramp = "linear-gradient(to right, " + ", ".join(_hex(c) for c in ramp_stops) + ")"
    return MapImage(_png(indices, colours, pixel_size_m * factor, decorated), title, ramp=ramp, ramp_ticks=ticks)


def parcel_vigour_raster(stats, frame, grid, vigour: str = "ndvi", step: int = 1) -> np.ndarray:
    """(y, x) float32: each parcel of `frame` (columns id, geometry) filled with the mean vigour index
    (NDVI, else ExG) of its crop pixels from the flight's parcel table `stats`, NaN elsewhere: the
    flight's vigour ranking at a glance, on the farm grid coarsened `step` times (a preview needs
    no 5 cm map). Drawn with `ndvi_map`."""
    values = stats.set_index("parcel")[f"{vigour}_mean"].astype("float64")
    shapes = [(geometry, values[pid]) for pid, geometry in zip(frame["id"], frame.geometry)
              if pid in values.index and np.isfinite(values[pid])]
    shape = (-(-grid.height // step), -(-grid.width // step))
    transform = grid.transform * Affine.scale(step)
    return (rasterize(shapes, out_shape=shape, transform=transform, fill=np.nan, dtype="float32")
            if shapes else np.full(shape, np.nan, dtype=np.float32))


def class_map(classes: np.ndarray, pixel_size_m: float, *, max_side_px: int = DEFAULT_MAX_SIDE_PX,
              decorated: bool = True) -> MapImage:
    """Class codes 0 soil, 1 crop, 2 weed, 3 shadow, 255 no data; reduced by nearest-pixel sampling."""
    classes = np.asarray(classes)
    _check(classes, pixel_size_m, "class")
    unknown = np.setdiff1d(np.unique(classes), [0, 1, 2, 3, NO_DATA])
    if unknown.size:
        raise ValueError(f"class map: unknown class codes {unknown.tolist()}; "
                         "expected 0 soil, 1 crop, 2 weed, 3 shadow, 255 no data")
    factor = block_factor(classes.shape, max_side_px)
    indices = classes[::factor, ::factor]
    colours = np.array([[int(e.colour[i : i + 2], 16) / 255 for i in (1, 3, 5)] for e in CLASS_LEGEND])
    return MapImage(_png(indices, colours, pixel_size_m * factor, decorated), N_("Crop, weeds and soil"),
                    legend=CLASS_LEGEND)


def zones_map(zones: np.ndarray, pixel_size_m: float, *, max_side_px: int = DEFAULT_MAX_SIDE_PX) -> MapImage:
    """Management zones numbered 1…n (n ≤ 5) from low to high vigour; 0 or 255 = outside/no data."""
    zones = np.asarray(zones)
    _check(zones, pixel_size_m, "zones")
    present = np.setdiff1d(np.unique(zones), [0, NO_DATA])
    if present.size and (present.min() < 1 or present.max() > len(ZONE_LABELS)):
        raise ValueError(f"zones map: zone numbers must be 1…{len(ZONE_LABELS)}, got {present.tolist()}")
    count = int(present.max()) if present.size else 1
    factor = block_factor(zones.shape, max_side_px)
    sampled = zones[::factor, ::factor].astype(np.int16)
    indices = np.where((sampled >= 1) & (sampled <= count), sampled - 1, NO_DATA)
    colours = _colours(ZONE_COLOURMAP, count + 1)[1:]
    labels = ZONE_LABELS if count == len(ZONE_LABELS) else _zone_labels(count)
    legend = tuple(LegendEntry(_hex(colour), label) for colour, label in zip(colours, labels))
    return MapImage(_png(indices, colours, pixel_size_m * factor), N_("Management zones"), legend=legend)


def _zone_labels(count: int) -> tuple[str, ...]:
    """Spread `count` zone names across the five vigour words, always from low to high."""
    if count == 1:
        return (ZONE_LABELS[2],)
    return tuple(ZONE_LABELS[round(i * (len(ZONE_LABELS) - 1) / (count - 1))] for i in range(count))
