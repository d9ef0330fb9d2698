"""Write configs/farms/chtouka/parcels.geojson: the sample farm's 10 parcels (WGS84, RFC 7946).

Run once by hand (`python scripts/make_parcels.py`); the output is committed data.
"""
import json
from pathlib import Path

from pyproj import Transformer

WEST, NORTH, WIDTH_M, HEIGHT_M = 464200.0, 3342850.0, 400.0, 300.0
MARGIN_M, TRACK_M, COLUMNS, ROWS = 6.0, 4.0, 5, 2
PARCELS = [
    ("P01", "Ahmed Oubella", "durum_wheat", "2025-11-20", "sprinkler", "sandy_loam"),
    ("P02", "Fatima Zahra Aït Lahcen", "durum_wheat", "2025-11-25", "surface", "loam"),
    ("P03", "Mohamed Id Brahim", "barley", "2025-11-15", "surface", "sandy_loam"),
    ("P04", "Lahcen Amzil", "olive", "2025-10-01", "drip", "loam"),
    ("P05", "Rachid Bouhmad", "olive", "2025-10-01", "drip", "sandy_loam"),
    ("P06", "Khadija Oumouloud", "citrus", "2025-10-01", "drip", "sandy_loam"),
    ("P07", "Hassan Aït Ouahmane", "citrus", "2025-10-01", "drip", "loamy_sand"),
    ("P08", "Aïcha Boutaleb", "tomato", "2026-01-10", "drip", "sandy_loam"),
    ("P09", "Youssef El Amrani", "tomato", "2026-01-20", "drip", "loam"),
    ("P10", "Brahim Ouhammou", "potato", "2025-12-15", "sprinkler", "sandy_loam"),
]
# Small, fixed corner offsets (m) so parcels are quadrilaterals, not perfect rectangles.
JITTER = [(0.0, 0.0), (1.5, -1.0), (-1.0, 1.2), (0.8, 0.6)]


def main() -> None:
    to_wgs84 = Transformer.from_crs("EPSG:32629", "EPSG:4326", always_xy=True)
    col_w = (WIDTH_M - 2 * MARGIN_M - (COLUMNS - 1) * TRACK_M) / COLUMNS
    row_h = (HEIGHT_M - 2 * MARGIN_M - (ROWS - 1) * TRACK_M) / ROWS
    features = []
    for i, (pid, member, crop, sowing, method, soil) in enumerate(PARCELS):
        row, col = divmod(i, COLUMNS)
        x0 = WEST + MARGIN_M + col * (col_w + TRACK_M)
        y0 = NORTH - MARGIN_M - row * (row_h + TRACK_M)
        corners = [(x0, y0), (x0 + col_w, y0), (x0 + col_w, y0 - row_h), (x0, y0 - row_h)]
        shifted = [(x + dx * (i % 3), y + dy * (i % 2)) for (x, y), (dx, dy) in zip(corners, JITTER)]
        ring = [list(map(lambda v: round(v, 8), to_wgs84.transform(x, y))) for x, y in shifted]
        ring.append(ring[0])
        features.append({
            "type": "Feature",
            "properties": {"id": pid, "member": member, "crop": crop, "sowing_date": sowing,
                           "irrigation_method": method, "soil_texture": soil},
            "geometry": {"type": "Polygon", "coordinates": [ring[::-1]]},
        })
    out = Path(__file__).resolve().parent.parent / "configs/farms/chtouka/parcels.geojson"
    out.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1) + "\n",
                   encoding="utf-8")


if __name__ == "__main__":
    main()
