"""Probe cases of e-mail delivery, the store and documents."""
from __future__ import annotations

import io
import json
import logging

import numpy as np

from tests.reliability import inputs as make
from tests.reliability.probe import Answer, Case, call

# --- delivery ------------------------------------------------------------------------------------


def _delivery_cases() -> list[Case]:
    from pipelines.reports.delivery import RetryPolicy, SmtpSettings, deliver_all, delivery_log
    from pipelines.reports.model import Cooperative
    from pipelines.reports.render import RenderedReport

    env = {"SAQI_SMTP_HOST": "127.0.0.1", "SAQI_SMTP_TLS": "starttls", "SAQI_SMTP_FROM": "rapports@saqi.example"}

    def settings(**changes):
        return lambda tmp: call(SmtpSettings.from_env, {**env, **changes})

    def report(tmp, subject="Bulletin", email="bureau@coop.example"):
        pdf, html = tmp / "r.pdf", tmp / "r.html"
        pdf.write_bytes(b"%PDF-1.4\n")
        html.write_text("<p>r</p>")
        rendered = RenderedReport(html, pdf, subject, "fr")
        records = deliver_all(
            [(rendered, Cooperative("Coop", "Souss-Massa", "Chtouka", email))],
            tmp / "outbox",
            smtp=SmtpSettings("127.0.0.1", 9, "none", "rapports@saqi.example", timeout_s=1),
            retry=RetryPolicy(attempts=1),
            sleep=lambda s: None,
        )
        raise AssertionError(f"sent or queued: {records}")

    def refused_report(**kw):
        def run(tmp):
            answer = call(report, tmp, **kw)
            assert not (tmp / "outbox").exists() or not any((tmp / "outbox").rglob("*.jsonl")), "logged before refusal"
            return answer

        return run

    def damaged_log(tmp):
        folder = tmp / "outbox" / "Coop"
        folder.mkdir(parents=True)
        good = {
            "report": "r.pdf",
            "cooperative": "Coop",
            "outbox_dir": str(folder),
            "files": [],
            "subject": "s",
            "language": "fr",
            "recipient": None,
            "status": "failed",
        }
        (folder / "deliveries.jsonl").write_text(json.dumps(good) + "\n" + '{"report": "cut sh')
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        logging.getLogger("pipelines.reports.delivery").addHandler(handler)
        try:
            records = delivery_log(tmp / "outbox")
        finally:
            logging.getLogger("pipelines.reports.delivery").removeHandler(handler)
        assert [r.report for r in records] == ["r.pdf"]
        return Answer("warning", stream.getvalue())

    table = [
        (
            "smtp-password-in-clear",
            "SAQI_SMTP_TLS=none with user and password",
            "refused",
            "SAQI_SMTP_TLS",
            settings(SAQI_SMTP_TLS="none", SAQI_SMTP_USER="coop", SAQI_SMTP_PASSWORD="s3cret"),
        ),
        ("smtp-tls-typo", "SAQI_SMTP_TLS=tls1.0", "refused", "SAQI_SMTP_TLS", settings(SAQI_SMTP_TLS="tls1.0")),
        ("smtp-port-text", "SAQI_SMTP_PORT=smtp", "refused", "SAQI_SMTP_PORT", settings(SAQI_SMTP_PORT="smtp")),
        ("smtp-port-0", "SAQI_SMTP_PORT=0", "refused", "SAQI_SMTP_PORT", settings(SAQI_SMTP_PORT="0")),
        ("smtp-from-bad", "SAQI_SMTP_FROM=rapports", "refused", "SAQI_SMTP_FROM", settings(SAQI_SMTP_FROM="rapports")),
        (
            "smtp-from-injection",
            "SAQI_SMTP_FROM with CR LF",
            "refused",
            "SAQI_SMTP_FROM",
            settings(SAQI_SMTP_FROM="a@saqi.example\r\nBcc: x@y.ma"),
        ),
        (
            "smtp-cafile-missing",
            "SAQI_SMTP_CAFILE pointing at no file",
            "refused",
            "SAQI_SMTP_CAFILE",
            settings(SAQI_SMTP_CAFILE="/nonexistent/ca.pem"),
        ),
        (
            "mail-subject-crlf",
            "report subject with CR LF Bcc:",
            "refused",
            "subject",
            refused_report(subject="Bulletin\r\nBcc: everyone@x.ma"),
        ),
        (
            "mail-recipient-crlf",
            "recipient with CR LF",
            "refused",
            "email",
            refused_report(email="a@coop.ma\r\nBcc: x@y.ma"),
        ),
        ("mail-recipient-no-domain", "recipient 'bureau@'", "refused", "email", refused_report(email="bureau@")),
        (
            "mail-recipient-display",
            "recipient 'Bureau <b@coop.ma>'",
            "refused",
            "email",
            refused_report(email="Bureau <b@coop.ma>"),
        ),
        (
            "mail-recipient-list",
            "two recipients in one field",
            "refused",
            "email",
            refused_report(email="a@coop.ma,b@coop.ma"),
        ),
        (
            "delivery-log-damaged",
            "deliveries.jsonl with a cut-short last line",
            "warning",
            "deliveries.jsonl",
            damaged_log,
        ),
    ]
    return [Case(cid, "delivery", what, expect, names, run) for cid, what, expect, names, run in table]


# --- store and documents -------------------------------------------------------------------------


def _store_cases() -> list[Case]:
    from pipelines.core.grid import FarmGrid
    from pipelines.imagery.ingest.orthomosaic import ingest_orthomosaic, inspect_orthomosaic
    from pipelines.store import cube

    def grid():
        import rasterio.crs
        from rasterio.transform import from_origin

        return FarmGrid(rasterio.crs.CRS.from_epsg(32629), from_origin(*make.ORIGIN, 1.0, 1.0), 20, 20)

    def scale(value):
        def run(tmp):
            values = np.round(np.stack([np.full((20, 20), v) for v in make.REFLECTANCE]) * 10_000).astype("uint16")
            return call(inspect_orthomosaic, make.raster(tmp / "ortho.tif", values), None, grid(), value)

        return run

    def empty_mosaic(tmp):
        values = np.full((5, 20, 20), -9999, dtype="float32")
        path = make.raster(tmp / "ortho.tif", values, nodata=-9999)
        answer = call(ingest_orthomosaic, path, grid(), tmp / "farm.zarr", "flights/chtouka-20260115/reflectance")
        assert not cube.has_product(tmp / "farm.zarr", "flights/chtouka-20260115/reflectance"), "empty mosaic published"
        return answer

    def disk_full(tmp):
        import errno
        from unittest import mock

        product = cube.raster(np.ones((20, 20), "float32"), grid(), "ndvi")
        with mock.patch("xarray.Dataset.to_zarr", side_effect=OSError(errno.ENOSPC, "No space left on device")):
            answer = call(cube.write_product, tmp / "farm.zarr", "flights/chtouka-20260115/ndvi", product)
        assert list((tmp / "farm.zarr" / cube.STAGING).iterdir()) == [], "staging debris left"
        return answer

    def taskdata(pid):
        def run(tmp):
            import geopandas as gpd
            import shapely

            from pipelines.core.config import PrescriptionRule
            from pipelines.imagery.zones.taskdata import write_taskdata

            box = shapely.box(make.ORIGIN[0] + 2, make.ORIGIN[1] - 10, make.ORIGIN[0] + 10, make.ORIGIN[1] - 2)
            zones = gpd.GeoDataFrame(
                {"parcel_id": [pid], "zone": [1], "rate": [10.0]}, geometry=[box], crs="EPSG:32629"
            )
            outlines = gpd.GeoDataFrame({"id": [pid]}, geometry=[box], crs="EPSG:32629")
            rule = PrescriptionRule(
                product="water",
                rate_field="rate",
                unit="mm",
                base_rate=10,
                response=0,
                min_rate=0,
                max_rate=20,
                reference="test",
            )
            return call(write_taskdata, zones, outlines, rule, tmp / "out", "Coop", "Farm")

        return run

    return [
        Case("scale-zero", "inspect_orthomosaic", "reflectance_scale 0", "refused", "reflectance_scale", scale(0.0)),
        Case(
            "scale-nan",
            "inspect_orthomosaic",
            "reflectance_scale NaN",
            "refused",
            "reflectance_scale",
            scale(float("nan")),
        ),
        Case("scale-ten", "inspect_orthomosaic", "reflectance_scale 10", "refused", "reflectance_scale", scale(10.0)),
        Case(
            "mosaic-no-valid-pixel",
            "ingest_orthomosaic",
            "every pixel nodata",
            "refused",
            "no valid pixel",
            empty_mosaic,
        ),
        Case("disk-full", "write_product", "ENOSPC during the write", "refused", "no space left", disk_full),
        Case(
            "taskdata-control",
            "write_taskdata",
            "parcel id with a vertical tab",
            "refused",
            "parcel id",
            taskdata("P\x0b1"),
        ),
    ]
