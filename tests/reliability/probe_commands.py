"""Probe cases of the commands the other probe modules do not reach: `saqi reflectance`,
`parcels zones`, `segment cross-validate|evaluate`, `farm generate`, `backfill` and the forecast
file of `irrigation plan`."""
from __future__ import annotations

from pathlib import Path

from tests.reliability.probe import Answer, Case, cli

EMPTY_LAYER = '{"type": "FeatureCollection", "features": []}'


def _text_file(name: str, content: str):
    def build(tmp: Path) -> Path:
        (tmp / name).write_text(content, encoding="utf-8")
        return tmp / name

    return build


def _reflectance_not_tiff(tmp: Path) -> Answer:
    band = _text_file("IMG_0001_1.tif", "not a tiff")(tmp)
    return cli("reflectance", str(band), "-o", str(tmp / "refl.tif"))


def _reflectance_missing(tmp: Path) -> Answer:
    return cli("reflectance", str(tmp / "IMG_0002_1.tif"), "-o", str(tmp / "refl.tif"))


def _zones_not_raster(tmp: Path) -> Answer:
    raster = _text_file("field.tif", "not a raster")(tmp)
    layer = _text_file("plots.geojson", EMPTY_LAYER)(tmp)
    return cli("parcels", "zones", str(raster), str(layer), "-o", str(tmp / "zones.geojson"))


def _no_dev_root(command: str):
    def run(tmp: Path) -> Answer:
        extra = ["--images", str(tmp), "--labels", str(tmp)] if command == "evaluate" else []
        return cli("segment", command, "--dev-root", str(tmp / "weedmap"), "--channels", "nir,green,red", *extra)

    return run


def _generate_unknown_farm(tmp: Path) -> Answer:
    return cli("farm", "generate", "--farm", "nosuchfarm", "--landing", str(tmp), "--truth", str(tmp / "truth"))


def _backfill_reversed(tmp: Path) -> Answer:
    return cli("backfill", "--farm", "chtouka", "--from", "2025-10-05", "--to", "2025-10-01", "--here")


def _forecast_text_et0(tmp: Path) -> Answer:
    forecast = _text_file("forecast.csv", "date,et0_mm,rain_mm\n2026-01-16,abc,0\n")(tmp)
    return cli("irrigation", "plan", "--farm", "chtouka", "--date", "2026-01-15", "--data-root", str(tmp / "data"),
               "--forecast", str(forecast))


def _command_cases() -> list[Case]:
    return [
        Case("reflectance-not-tiff", "saqi reflectance", "a band file that is text", "refused", "IMG_0001_1.tif",
             _reflectance_not_tiff),
        Case("reflectance-band-missing", "saqi reflectance", "a band file that does not exist", "refused",
             "IMG_0002_1.tif", _reflectance_missing),
        Case("zones-not-raster", "saqi parcels zones", "raster file that is text", "refused", "field.tif",
             _zones_not_raster),
        Case("cv-no-dev-root", "saqi segment cross-validate", "--dev-root without train/ and valid/", "refused",
             "weedmap", _no_dev_root("cross-validate")),
        Case("evaluate-no-dev-root", "saqi segment evaluate", "--dev-root without train/ and valid/", "refused",
             "weedmap", _no_dev_root("evaluate")),
        Case("generate-unknown-farm", "saqi farm generate", "--farm with no configs/farms/<farm>", "refused",
             "nosuchfarm", _generate_unknown_farm),
        Case("backfill-reversed-dates", "saqi backfill", "--to before --from", "refused", "--from",
             _backfill_reversed),
        Case("forecast-no-temperatures", "saqi irrigation plan", "forecast.csv with et0_mm (text) and rain only",
             "refused", "tmin_c", _forecast_text_et0),
    ]
