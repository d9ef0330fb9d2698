"""Run stages of the asset graph in-process against an instance (wiring module: imports dagster).

Used by `saqi demo` and `saqi run`; the UI, schedules and backfills launch the same assets
through Dagster's own run launcher instead.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import dagster as dg

from pipelines.core.keys import FlightKey

FLIGHT_INGEST = ("flight_manifest", "reflectance", "vegetation_indices")
FLIGHT_ANALYSIS = ("crop_segmentation", "parcel_stats", "management_zones", "flight_geotiffs")
MODEL = ("segmentation_model",)
FARM_SEASON = ("parcel_timeseries",)
DAILY = ("weather", "reference_et", "irrigation_plan", "zone_irrigation_plan")
FARM_OUTPUTS = ("yield_estimate", "parcel_reports")


QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class StageOutcome:
    """Which partitions of a stage succeeded and why the others failed."""

    stage: str
    succeeded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _failure(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data:
            error = event.step_failure_data.error
            if error is None:
                return "failed"
            cause = error.cause or error  # the user code's exception, not Dagster's wrapper
            return f"{event.step_key}: {cause.message.strip().splitlines()[-1]}"
    return "failed"


def _quiet(items, description, total=None, unit="it"):
    return items


def materialize_stage(defs: dg.Definitions, stage: str, selection: Sequence[str], partition_keys: Iterable[str | None],
                      instance: dg.DagsterInstance, config: dict | None = None, progress=_quiet) -> StageOutcome:
    """Materialise `selection` once per partition key; a failed partition never stops the others.
    `progress(items, description, total, unit)` wraps the loop (the CLI's `progress.track`)."""
    assets = list(defs.assets or [])
    resources = dict(defs.resources or {})
    outcome = StageOutcome(stage)
    partition_keys = list(partition_keys)
    for key in progress(partition_keys, stage, total=len(partition_keys), unit="partitions"):
        label = key or "-"
        result = dg.materialize(assets, instance=instance, resources=resources, partition_key=key,
                                run_config={**QUIET, **({"ops": config} if config else {})},
                                selection=list(selection), raise_on_error=False, tags={"saqi/stage": stage})
        if result.success:
            outcome.succeeded.append(label)
        else:
            outcome.failed[label] = _failure(result)
    return outcome


RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
CODE_LOCATION = "pipelines.orchestration.definitions"  # the module workspace.yaml names


def _farm_range(defs: dg.Definitions, stage: str, selection: Sequence[str], farm_keys: list[dg.MultiPartitionKey],
                instance: dg.DagsterInstance) -> StageOutcome:
    """One farm's consecutive days as one run; if it fails, day by day so the bad day is named."""
    outcome = StageOutcome(stage)
    farm_keys = sorted(farm_keys, key=lambda k: k.keys_by_dimension["date"])
    days = [dt.date.fromisoformat(k.keys_by_dimension["date"]) for k in farm_keys]
    if len(farm_keys) > 1 and (days[-1] - days[0]).days + 1 == len(days):
        result = dg.materialize(list(defs.assets or []), instance=instance, resources=dict(defs.resources or {}),
                                run_config=QUIET, selection=list(selection), raise_on_error=False,
                                tags={"saqi/stage": stage, RANGE_START: str(farm_keys[0]),
                                      RANGE_END: str(farm_keys[-1])})
        if result.success:
            outcome.succeeded.extend(str(k) for k in farm_keys)
            return outcome
    single = materialize_stage(defs, stage, selection, farm_keys, instance)
    outcome.succeeded.extend(single.succeeded)
    outcome.failed.update(single.failed)
    return outcome


def _farm_range_worker(instance_ref, resources: dict, stage: str, selection: Sequence[str], farm: str,
                       days: list[str]) -> StageOutcome:
    """`_farm_range` in a worker process: the code location's assets (loaded by its module name, as
    Dagster's own run workers load it), the caller's resources (given as class and set fields:
    Dagster resources do not pickle) and instance."""
    import importlib

    defs = importlib.import_module(CODE_LOCATION).defs
    worker_defs = dg.Definitions(assets=list(defs.assets or []),
                                 resources={name: kind(**fields) for name, (kind, fields) in resources.items()})
    with dg.DagsterInstance.from_ref(instance_ref) as instance:
        return _farm_range(worker_defs, stage, selection, [day_key(farm, dt.date.fromisoformat(d)) for d in days],
                           instance)


def materialize_ranges(defs: dg.Definitions, stage: str, selection: Sequence[str], keys: Sequence[dg.MultiPartitionKey],
                       instance: dg.DagsterInstance, progress=_quiet, workers: int = 1) -> StageOutcome:
    """Materialise daily (date × farm) partitions as one run per farm over its consecutive days,
    as the daemon runs a backfill of single-run assets; a farm whose range run fails is re-run
    day by day (`materialize_stage`), so a bad day fails alone and is named.

    `workers` > 1 runs that many farms at once, each in its own process (spawned: it loads the code
    location's assets, with `defs`' resources and the same persistent instance), as the daemon runs
    a backfill's per-farm runs side by side; an ephemeral instance always runs here, one farm after
    the other."""
    outcome = StageOutcome(stage)
    by_farm: dict[str, list[dg.MultiPartitionKey]] = {}
    for key in keys:
        by_farm.setdefault(key.keys_by_dimension["farm"], []).append(key)
    if workers > 1 and len(by_farm) > 1 and instance.is_persistent:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        resources = {name: (type(r), r.model_dump(exclude_unset=True)) for name, r in (defs.resources or {}).items()}
        with ProcessPoolExecutor(min(workers, len(by_farm)), mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(_farm_range_worker, instance.get_ref(), resources, stage, list(selection), farm,
                                   sorted(k.keys_by_dimension["date"] for k in farm_keys))
                       for farm, farm_keys in by_farm.items()]
            for future in progress(as_completed(futures), stage, total=len(futures), unit="farm ranges"):
                done = future.result()
                outcome.succeeded.extend(done.succeeded)
                outcome.failed.update(done.failed)
        return outcome
    for _farm, farm_keys in progress(list(by_farm.items()), stage, total=len(by_farm), unit="farm ranges"):
        done = _farm_range(defs, stage, selection, farm_keys, instance)
        outcome.succeeded.extend(done.succeeded)
        outcome.failed.update(done.failed)
    return outcome


def day_key(farm: str, day: dt.date) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"date": day.isoformat(), "farm": farm})


def run_farm(defs: dg.Definitions, instance: dg.DagsterInstance, farm: str, flights: Sequence[FlightKey],
             days: Sequence[dt.date], training: dict | None = None, progress=_quiet) -> list[StageOutcome]:
    """Materialise the whole graph for one farm: its flights, the model, the season, the plan, the reports."""
    keys = [str(f) for f in flights]
    instance.add_dynamic_partitions("flights", [k for k in keys if not instance.has_dynamic_partition("flights", k)])
    outcomes = [materialize_stage(defs, "flight ingest", FLIGHT_INGEST, keys, instance, progress=progress)]
    usable = outcomes[0].succeeded
    outcomes.append(materialize_stage(defs, "segmentation model", MODEL, [None], instance,
                                      {"segmentation_model": {"config": training}} if training else None,
                                      progress=progress))
    outcomes.append(materialize_stage(defs, "flight analysis", FLIGHT_ANALYSIS, usable, instance, progress=progress))
    outcomes.append(materialize_stage(defs, "season", FARM_SEASON, [farm], instance, progress=progress))
    days = sorted(days)  # the season up to yesterday as one range (a backfill), the last day as the schedule runs it
    history = materialize_ranges(defs, "daily irrigation", DAILY, [day_key(farm, d) for d in days[:-1]], instance,
                                 progress=progress)
    today = materialize_stage(defs, "daily irrigation", DAILY, [day_key(farm, d) for d in days[-1:]], instance)
    outcomes.append(StageOutcome("daily irrigation", history.succeeded + today.succeeded,
                                 {**history.failed, **today.failed}))
    outcomes.append(materialize_stage(defs, "yield and reports", FARM_OUTPUTS, [farm], instance, progress=progress))
    return outcomes


BACKFILL_ASSETS = {"daily": DAILY, "flights": FLIGHT_INGEST + FLIGHT_ANALYSIS}


def check_date_range(start, end) -> None:
    """Refuse a backfill range whose end (`--to`) is before its start (`--from`)."""
    from pipelines.core.errors import SaqiError

    if end < start:
        raise SaqiError(f"--to {end} is before --from {start}: swap the dates")


def backfill_keys(kind: str, farms: Sequence[str], start: dt.date, end: dt.date,
                  instance: dg.DagsterInstance) -> list[str | dg.MultiPartitionKey]:
    """Partition keys of a backfill: each (day, farm) for `daily`; each registered flight of the
    farms flown between `start` and `end` (inclusive) for `flights`. Farm ids are validated."""
    from pipelines.core.errors import SaqiError
    from pipelines.core.keys import farm_id
    from pipelines.orchestration.partitions import farms as farm_partitions

    if kind not in BACKFILL_ASSETS:
        raise SaqiError(f"assets must be one of {sorted(BACKFILL_ASSETS)}, not {kind!r}")
    check_date_range(start, end)
    known = set(farm_partitions.get_partition_keys())
    for farm in farms:
        if farm_id(farm) not in known:
            raise SaqiError(f"farm '{farm}' has no configs/farms/{farm}/farm.yaml (known: {', '.join(sorted(known))})")
    if kind == "daily":
        days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        return [day_key(farm, day) for farm in farms for day in days]
    keys = []
    for text in instance.get_dynamic_partitions("flights"):
        try:
            flight = FlightKey.parse(text)
        except SaqiError:
            continue
        if flight.farm in farms and start <= flight.date <= end:
            keys.append(str(flight))
    return sorted(keys)


def submit_backfill(defs: dg.Definitions, instance: dg.DagsterInstance, kind: str,
                    keys: Sequence[str | dg.MultiPartitionKey], title: str) -> str:
    """Record an asset backfill in the instance for the daemon to run (the same object the UI's
    "Materialize → backfill" creates); returns its id, shown at /overview/backfills/<id>."""
    import time

    from dagster._core.execution.backfill import PartitionBackfill
    from dagster._core.utils import make_new_backfill_id

    graph = defs.resolve_asset_graph()
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=make_new_backfill_id(), asset_graph=graph, partition_names=[str(k) for k in keys],
        asset_selection=[dg.AssetKey(name) for name in BACKFILL_ASSETS[kind]], backfill_timestamp=time.time(),
        tags={"saqi/backfill": kind}, dynamic_partitions_store=instance, all_partitions=False, title=title,
        description=None, run_config=None)
    instance.add_backfill(backfill)
    return backfill.backfill_id
