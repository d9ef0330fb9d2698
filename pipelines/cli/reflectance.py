"""`saqi reflectance CAPTURE_FILES... [--panel PANEL_FILES...] -o OUT.tif`: calibrate and align one capture."""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers) -> None:
    cmd = subparsers.add_parser("reflectance",
                                help="raw capture band files → co-registered float32 reflectance GeoTIFF")
    cmd.add_argument("files", nargs="+", type=Path, help="the band TIFFs of one capture")
    cmd.add_argument("--panel", nargs="+", type=Path, default=None, help="band TIFFs of a calibration-panel capture")
    cmd.add_argument("--panel-reflectance", type=_reflectances, default=None,
                     help="panel reflectance 0-1 when the panel files carry no albedo: one value, one per band in "
                          "wavelength order (0.49,0.50,...), or band=value pairs (blue=0.49,nir=0.51,...)")
    cmd.add_argument("-o", "--output", type=Path, required=True, help="output GeoTIFF")
    cmd.set_defaults(handler=run)


def _reflectances(text: str) -> float | list[float] | dict[str, float]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        if all("=" in p for p in parts):
            return {k.strip(): float(v) for k, v in (p.split("=", 1) for p in parts)}
        values = [float(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a reflectance list "
                                         "(e.g. 0.5 or 0.49,0.5 or nir=0.51)") from None
    return values[0] if len(values) == 1 else values


def run(args: argparse.Namespace) -> int:
    import warnings

    import numpy as np
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning

    from pipelines.core.errors import InputDataError
    from pipelines.imagery.ingest.alignment import co_register, optical_centre_priors
    from pipelines.imagery.ingest.captures import group_captures
    from pipelines.imagery.ingest.radiometry import calibrate_capture

    captures = group_captures(args.files)
    if len(captures) != 1:
        raise InputDataError(args.files[0].parent, f"files hold {len(captures)} captures "
                             f"({[c.capture_id for c in captures]})", "pass the band files of one capture")
    panel = group_captures(args.panel)[0] if args.panel else None
    result = calibrate_capture(captures[0], panel, args.panel_reflectance)
    priors = optical_centre_priors(captures[0].images)
    aligned, transforms, residuals = co_register(result.reflectance, result.bands, "nir" if priors else None, priors)
    profile = dict(driver="GTiff", width=aligned.shape[2], height=aligned.shape[1], count=len(result.bands),
                   dtype="float32", nodata=float("nan"), compress="deflate", predictor=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(args.output, "w", **profile) as dst:
            dst.write(aligned)
            for i, band in enumerate(result.bands):
                dst.set_band_description(i + 1, band)
            dst.update_tags(sensor=captures[0].sensor.id, method=result.method, relative=str(result.relative))
    temperature = None if result.temperature_c is None else round(float(np.median(result.temperature_c)), 2)
    summary = {"sensor": captures[0].sensor.id, "capture": captures[0].capture_id, "bands": result.bands,
               "method": result.method, "relative": result.relative,
               "irradiance_sensor": {"values": result.irradiance, "method": result.irradiance_method},
               "panel_irradiance": {"values": result.panel_irradiance,
                                    "method": ("π · mean panel radiance / panel reflectance"
                                               if result.panel_irradiance else None)},
               "irradiance": result.irradiance,
               "alignment": transforms, "alignment_residual_px": residuals,
               "saturation_fraction": result.saturation_fraction, "temperature_c_median": temperature,
               "warnings": result.warnings, "output": str(args.output)}
    print(json.dumps(summary, indent=1))
    return 0
