"""Reports for the cooperative, after each flight: one PDF + HTML per parcel, one per cooperative,
and the weekly irrigation bulletin, in French (default), Arabic (right to left) and English.

Each parcel report shows the parcel's NDVI and crop/weed/soil maps with legends and scale bar,
the index trend across the season's flights, crop cover and weed pressure, today's irrigation
plan in mm and m³ with the next date, the yield estimate in t/ha and qx/ha with its interval,
and plain-language advice. Files: `<data_root>/reports/<farm>/<flight date>/`; delivered to the
cooperative's outbox (`<data_root>/outbox/<cooperative>/`) and by e-mail when SMTP is configured in the
environment (SAQI_SMTP_HOST…). One per farm, for its latest flight.
"""

import dagster as dg
import pandas as pd

from assets._metadata import OWNERS, card, preview, shown, table
from pipelines.orchestration.partitions import farm_of_day, farms
from pipelines.orchestration.resources import SaqiStorage
from pipelines.reports.assemble import farm_reports
from pipelines.reports.delivery import deliver_all
from pipelines.reports.render import (
    render_cooperative_report,
    render_irrigation_bulletin,
    render_parcel_report,
)

LANGUAGES = ("fr", "ar", "en")


@dg.asset(partitions_def=farms, group_name="reports", owners=OWNERS["reports"], kinds={"pdf", "html"}, code_version="1",
          deps=["parcel_timeseries", "yield_estimate", dg.AssetDep("irrigation_plan", partition_mapping=farm_of_day),
                dg.AssetDep("crop_segmentation", partition_mapping=dg.AllPartitionMapping()),
                dg.AssetDep("management_zones", partition_mapping=dg.AllPartitionMapping())],
          description=card(__doc__))
def parcel_reports(context: dg.AssetExecutionContext, storage: SaqiStorage) -> dg.MaterializeResult:
    farm = storage.farm(context.partition_key)
    contents = farm_reports(farm, storage.stores_root)
    out = storage.folder("reports", farm.id, contents.cooperative.flight_date.isoformat())
    rendered = []
    for language in LANGUAGES:
        rendered += [render_parcel_report(report, language, out) for report in contents.parcels]
        rendered.append(render_cooperative_report(contents.cooperative, language, out))
        if contents.bulletin is not None:
            rendered.append(render_irrigation_bulletin(contents.bulletin, language, out))
    records = deliver_all([(r, contents.cooperative.cooperative) for r in rendered], storage.folder("outbox"))
    files = pd.DataFrame({"language": [r.language for r in rendered], "pdf": [r.pdf_path.name for r in rendered],
                          "delivery": [rec.status for rec in records]})
    first = contents.parcels[0]
    return dg.MaterializeResult(metadata=shown({
        "reports": len(rendered), "folder": dg.MetadataValue.path(str(out)),
        "cooperative_report": dg.MetadataValue.path(str(next(r.pdf_path for r in rendered
                                                             if "cooperative" in r.pdf_path.name))),
        "flight_date": contents.cooperative.flight_date.isoformat(), "vigour_index": first.vigour_index,
        f"ndvi_map_{first.parcel.id}": preview(first.ndvi_map.png, f"{first.vigour_index.upper()} {first.parcel.id}"),
        f"class_map_{first.parcel.id}": preview(first.class_map.png, f"classes {first.parcel.id}"),
        **table(files, "rendered reports and their delivery"),
    }))
