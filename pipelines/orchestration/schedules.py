"""Schedules (Morocco time): every morning each farm's irrigation plan for the day just ended,
every Monday morning each farm's season cube, yield estimate, reports and weekly bulletin."""
from __future__ import annotations

import datetime as dt

import dagster as dg

from pipelines.orchestration.jobs import daily_job, weekly_job
from pipelines.orchestration.partitions import SEASON_START, farms

TIMEZONE = "Africa/Casablanca"
DAILY_CRON = "0 5 * * *"
WEEKLY_CRON = "0 6 * * 1"


def plan_day(scheduled: dt.datetime) -> dt.date:
    """The last complete day at the tick: daily partitions exist once their day has ended, and the
    station's record for it is in."""
    return scheduled.date() - dt.timedelta(days=1)


@dg.schedule(job=daily_job, cron_schedule=DAILY_CRON, execution_timezone=TIMEZONE,
             description="05:00 Morocco time: weather → ET0 → irrigation plan of every farm for the day just ended.")
def daily_irrigation_schedule(context: dg.ScheduleEvaluationContext):
    day = plan_day(context.scheduled_execution_time)
    if day < dt.date.fromisoformat(SEASON_START):
        return dg.SkipReason(f"{day} is before the season start {SEASON_START}")
    return [dg.RunRequest(run_key=f"{farm}|{day}",
                          partition_key=dg.MultiPartitionKey({"date": day.isoformat(), "farm": farm}),
                          tags={"saqi/farm": farm}) for farm in farms.get_partition_keys()]


@dg.schedule(job=weekly_job, cron_schedule=WEEKLY_CRON, execution_timezone=TIMEZONE,
             description="Monday 06:00 Morocco time: season cube, yield estimate, reports and weekly bulletin "
                         "per farm.")
def weekly_reports_schedule(context: dg.ScheduleEvaluationContext):
    week = context.scheduled_execution_time.date().isoformat()
    return [dg.RunRequest(run_key=f"{farm}|week-{week}", partition_key=farm, tags={"saqi/farm": farm})
            for farm in farms.get_partition_keys()]


SCHEDULES = [daily_irrigation_schedule, weekly_reports_schedule]
