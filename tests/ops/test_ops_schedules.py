"""Schedules evaluated at real tick times: the daily plan targets the day just ended for every
farm, the weekly reports every farm; both partition keys exist in the jobs' partitions."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.orchestration.partitions import farm_days, farms
from pipelines.orchestration.schedules import (
    TIMEZONE,
    daily_irrigation_schedule,
    weekly_reports_schedule,
)

MOROCCO = ZoneInfo(TIMEZONE)


def test_daily_schedule_plans_the_day_just_ended_for_every_farm():
    tick = dt.datetime(2026, 1, 16, 5, 0, tzinfo=MOROCCO)
    requests = daily_irrigation_schedule(dg.build_schedule_context(scheduled_execution_time=tick))
    assert [r.partition_key for r in requests] == [dg.MultiPartitionKey({"date": "2026-01-15", "farm": f})
                                                   for f in farms.get_partition_keys()]
    assert requests[0].run_key == "chtouka|2026-01-15"
    existing = set(farm_days.get_partition_keys(current_time=tick))
    assert all(r.partition_key in existing for r in requests)
    assert dg.MultiPartitionKey({"date": "2026-01-16",
                                 "farm": "chtouka"}) not in existing  # today is not a partition yet
    assert daily_irrigation_schedule.cron_schedule == "0 5 * * *"


def test_daily_schedule_skips_before_the_season():
    tick = dt.datetime(2025, 8, 20, 5, 0, tzinfo=MOROCCO)
    result = daily_irrigation_schedule(dg.build_schedule_context(scheduled_execution_time=tick))
    assert isinstance(result, dg.SkipReason) and "2025-08-19" in result.skip_message


def test_weekly_schedule_reports_every_farm_on_monday():
    tick = dt.datetime(2026, 1, 19, 6, 0, tzinfo=MOROCCO)
    assert tick.weekday() == 0
    requests = weekly_reports_schedule(dg.build_schedule_context(scheduled_execution_time=tick))
    assert [r.partition_key for r in requests] == farms.get_partition_keys()
    assert requests[0].run_key == "chtouka|week-2026-01-19"
    ticks = weekly_reports_schedule.cron_schedule
    assert ticks == "0 6 * * 1"


def test_jobs_resolve_with_the_partitioning_their_triggers_use():
    from pipelines.orchestration.definitions import defs
    from pipelines.orchestration.partitions import flights

    repository = defs.get_repository_def()
    assert repository.get_job("flight_job").partitions_def == flights
    assert repository.get_job("daily_job").partitions_def == farm_days
    assert repository.get_job("weekly_job").partitions_def == farms
    assert repository.get_sensor_def("landing_sensor").job_name == "flight_job"
    assert {s.name: s.job_name for s in repository.schedule_defs} == {
        "daily_irrigation_schedule": "daily_job", "weekly_reports_schedule": "weekly_job"}
