"""Builders of good inputs for the reliability probe; each bad input is one of these, spoiled once."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
import tifffile
from rasterio.transform import from_origin

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = (400_000.0, 3_300_020.0)  # UTM 29N, 20 m x 20 m at 1 m
BANDS = ["blue", "green", "red", "rededge", "nir"]
REFLECTANCE = [0.05, 0.08, 0.06, 0.25, 0.45]


def raster(
    path: Path,
    values: np.ndarray | None = None,
    *,
    crs: str | None = "EPSG:32629",
    descriptions: list[str] | None = BANDS,
    driver: str = "GTiff",
    nodata=None,
) -> Path:
    """A 5-band reflectance GeoTIFF (float32, 20 x 20 px of 1 m), or `values` (band, y, x) as given."""
    if values is None:
        values = np.stack([np.full((20, 20), v, dtype="float32") for v in REFLECTANCE])
        values[4, :10] = 0.6  # a denser half: NDVI varies
    profile = dict(
        driver=driver,
        width=values.shape[2],
        height=values.shape[1],
        count=values.shape[0],
        dtype=str(values.dtype),
        transform=from_origin(*ORIGIN, 1.0, 1.0),
    )
    if crs:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values)
        for i, name in enumerate(descriptions or []):
            dst.set_band_description(i + 1, name)
    return path


def parcel_feature(pid, x0: float = 2, y0: float = 2, size: float = 8, **properties) -> dict:
    x, y = ORIGIN[0] + x0, ORIGIN[1] - y0
    ring = [[x, y], [x + size, y], [x + size, y - size], [x, y - size], [x, y]]
    props = {
        "id": pid,
        "member": "Ahmed",
        "crop": "durum_wheat",
        "sowing_date": "2025-11-20",
        "irrigation_method": "drip",
        "soil_texture": "loam",
        **properties,
    }
    return {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def parcels(path: Path, features: list[dict] | None = None) -> Path:
    """A GeoJSON FeatureCollection in EPSG:32629 (two good parcels unless `features` is given)."""
    features = features if features is not None else [parcel_feature("P01"), parcel_feature("P02", x0=11)]
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": features,
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32629"}},
            }
        )
    )
    return path


def weather_frame(days: int = 30) -> pd.DataFrame:
    """A plausible Souss January: date, tmin_c, tmax_c, rh_max_pct, rh_min_pct, wind_ms, wind_height_m, solar, rain."""
    dates = pd.date_range("2026-01-01", periods=days, freq="D")
    wave = np.sin(np.arange(days) / 5.0)
    return pd.DataFrame(
        {
            "date": dates.strftime("%Y-%m-%d"),
            "tmin_c": (7 + wave).round(1),
            "tmax_c": (21 + 2 * wave).round(1),
            "rh_max_pct": 85.0,
            "rh_min_pct": 40.0,
            "wind_ms": 2.5,
            "wind_height_m": 2.0,
            "solar_mj_m2": (12 + wave).round(2),
            "rain_mm": 0.0,
        }
    )


def weather(path: Path, frame: pd.DataFrame | None = None) -> Path:
    (weather_frame() if frame is None else frame).to_csv(path, index=False)
    return path


def xmp_packet(band: str = "NIR", capture: str = "cap1", irradiance: object = 1.2, extra: str = "") -> bytes:
    """A MicaSense-layout XMP packet (the vendor's tag names), with `extra` attributes added."""
    seq = lambda v: "<rdf:Seq>" + "".join(f"<rdf:li>{x}</rdf:li>" for x in v) + "</rdf:Seq>"  # noqa: E731
    return (
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description xmlns:Camera="http://pix4d.com/camera/1.0/" xmlns:MicaSense="http://micasense.com/MicaSense/1.0/"'
        f' xmlns:DLS="http://micasense.com/DLS/1.0/" Camera:BandName="{band}" MicaSense:CaptureId="{capture}"'
        f' DLS:Irradiance="{irradiance}" {extra}>'
        f"<MicaSense:RadiometricCalibration>{seq([0.02, 1.5e-7, 1.4e-6])}</MicaSense:RadiometricCalibration>"
        f"<Camera:VignettingCenter>{seq([16, 12])}</Camera:VignettingCenter>"
        f"<Camera:VignettingPolynomial>{seq([1e-4, -2e-7, 1e-9, 0, 0, 0])}</Camera:VignettingPolynomial>"
        f"</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def band_file(
    path: Path,
    *,
    xmp: bytes | None = None,
    stamp: str = "2026:01:15 11:02:03",
    exposure: tuple[int, int] = (4000, 1_000_000),
    iso: int = 100,
    dn: np.ndarray | None = None,
) -> Path:
    """One MicaSense RedEdge-MX band TIFF (EXIF Make/Model/time/exposure/ISO, BlackLevel 4800, XMP)."""
    dn = np.full((24, 32), 20_000, dtype=np.uint16) if dn is None else dn
    tifffile.imwrite(
        path,
        dn,
        extratags=[
            (271, "s", 0, "MicaSense", True),
            (272, "s", 0, "RedEdge-MX", True),
            (306, "s", 0, stamp, True),
            (700, "B", 0, xmp if xmp is not None else xmp_packet(), True),
            (50714, "H", 1, 4800, True),
            (33434, "2I", 1, exposure, True),
            (34855, "H", 1, iso, True),
        ],
    )
    return path


def farm_yaml(root: Path, farm_id: str = "chtouka", **changes) -> Path:
    """A copy of the sample farm's farm.yaml under `root/farms/<farm_id>/`, with top-level `changes`
    (a value None deletes the key; dotted keys reach one level down)."""
    import yaml

    data = yaml.safe_load((ROOT / "configs" / "farms" / "chtouka" / "farm.yaml").read_text(encoding="utf-8"))
    data["id"] = farm_id
    for key, value in changes.items():
        target, name = (data[key.split(".")[0]], key.split(".")[1]) if "." in key else (data, key)
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
    folder = root / "farms" / farm_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "farm.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path
