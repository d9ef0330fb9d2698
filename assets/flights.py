"""Flight manifest: the files of one landed flight, the sensor detected from their own metadata,
the capture date, and whether the flight is usable or quarantined (with the reason).

Unit: none (a JSON document per flight). Cadence: one per flight (dynamic partition
`<farm>-<yyyymmdd>[-n]`, registered by the landing sensor). Storage:
`<data_root>/manifests/<farm>/<flight>.json`; quarantined flights are also listed in
`<data_root>/quarantine/<flight>.json` with their reason, and stop there: later stages of that
flight do not run, other flights go on.
"""

from pathlib import Path

import dagster as dg
import pandas as pd

from assets._metadata import OWNERS, card, shown, table
from pipelines.core.keys import FlightKey
from pipelines.imagery.ingest.flight import read_flight_folder
from pipelines.orchestration.partitions import flights
from pipelines.orchestration.resources import SaqiStorage


@dg.asset(partitions_def=flights, group_name="ingest", owners=OWNERS["ingest"], kinds={"json"},
          code_version="1", description=card(__doc__))
def flight_manifest(context: dg.AssetExecutionContext, storage: SaqiStorage) -> dg.MaterializeResult:
    key = FlightKey.parse(context.partition_key)
    farm = storage.farm(key.farm)
    manifest = read_flight_folder(storage.flight_folder(key), farm)
    document = manifest.model_dump_json(indent=1)
    storage.manifest_path(key).write_text(document, encoding="utf-8")
    quarantine = storage.folder("quarantine") / f"{key}.json"
    if manifest.quarantined:
        quarantine.write_text(document, encoding="utf-8")
        raise dg.Failure(description=f"flight {key} quarantined: {manifest.reason}",
                         metadata={"reason": manifest.reason, "manifest": str(quarantine)}, allow_retries=False)
    quarantine.unlink(missing_ok=True)
    files = pd.DataFrame({"file": [Path(f).name for f in manifest.files], "kind": manifest.kind})
    return dg.MaterializeResult(metadata=shown({
        "sensor": manifest.sensor, "kind": manifest.kind, "captured": str(manifest.captured),
        "reflectance_scale": manifest.reflectance_scale, "warnings": "; ".join(manifest.warnings) or "none",
        "n_files": len(manifest.files), **table(files),
    }))
