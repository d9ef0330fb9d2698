"""Backfills against a real SQLite instance: three days of the daily irrigation assets with the
last day's weather missing; that day fails, the others succeed; after the station file is fixed
the failed day alone is retried and succeeds. The daemon path records a real asset backfill."""
from __future__ import annotations

import datetime as dt
import shutil

import dagster as dg
import pytest

from pipelines.cli import main
from pipelines.core.config import configs_dir
from pipelines.orchestration.definitions import defs
from pipelines.orchestration.resources import SaqiStorage
from pipelines.orchestration.runs import (
    BACKFILL_ASSETS,
    backfill_keys,
    day_key,
    materialize_stage,
    submit_backfill,
)

FROM, TO = dt.date(2025, 10, 1), dt.date(2025, 10, 3)


@pytest.fixture
def configs(tmp_path):
    """A copy of the configs whose station file stops on 2025-10-02."""
    copy = tmp_path / "configs"
    shutil.copytree(configs_dir(), copy)
    weather = copy / "farms" / "chtouka" / "weather.csv"
    lines = weather.read_text().splitlines(keepends=True)
    weather.write_text("".join(line for line in lines if not line[:1].isdigit() or line[:10] <= "2025-10-02"))
    return copy, lines


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    path.mkdir()
    return str(path)


def _materialised_days(instance, asset: str) -> list[str]:
    records = instance.fetch_materializations(dg.AssetKey(asset), limit=100).records
    return sorted(r.asset_materialization.partition for r in records)


def test_failed_day_does_not_stop_the_others_and_is_retried_alone(tmp_path, configs, home):
    copy, full_weather = configs
    storage = SaqiStorage(data_root=str(tmp_path / "data"), landing_dir=str(tmp_path / "landing"), configs=str(copy))
    test_defs = dg.Definitions(assets=list(defs.assets), resources={"storage": storage})
    with dg.DagsterInstance.local_temp(home) as instance:
        keys = backfill_keys("daily", ["chtouka"], FROM, TO, instance)
        assert [str(k) for k in keys] == ["2025-10-01|chtouka", "2025-10-02|chtouka", "2025-10-03|chtouka"]
        outcome = materialize_stage(test_defs, "backfill", BACKFILL_ASSETS["daily"], keys, instance)
        assert outcome.succeeded == ["2025-10-01|chtouka", "2025-10-02|chtouka"]
        assert list(outcome.failed) == ["2025-10-03|chtouka"]
        assert "no weather record for 2025-10-03" in outcome.failed["2025-10-03|chtouka"]
        assert _materialised_days(instance, "irrigation_plan") == ["2025-10-01|chtouka", "2025-10-02|chtouka"]
        (copy / "farms" / "chtouka" / "weather.csv").write_text("".join(full_weather))
        retry = materialize_stage(test_defs, "retry", BACKFILL_ASSETS["daily"], [day_key("chtouka", TO)], instance)
        assert retry.succeeded == ["2025-10-03|chtouka"] and not retry.failed
        assert _materialised_days(instance, "weather") == ["2025-10-01|chtouka", "2025-10-02|chtouka",
                                                           "2025-10-03|chtouka"]
        failed_runs = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
        assert [r.tags["dagster/partition"] for r in failed_runs] == ["2025-10-03|chtouka"]


def test_daemon_backfill_is_recorded_with_every_partition(home):
    with dg.DagsterInstance.local_temp(home) as instance:
        keys = backfill_keys("daily", ["chtouka"], FROM, TO, instance)
        backfill_id = submit_backfill(defs, instance, "daily", keys, "test")
        backfill = instance.get_backfill(backfill_id)
        target = backfill.asset_backfill_data.target_subset
        assert backfill.status.value == "REQUESTED"
        assert {k.to_user_string() for k in target.asset_keys} == set(BACKFILL_ASSETS["daily"])
        assert len(list(target.iterate_asset_partitions())) == 3 * len(BACKFILL_ASSETS["daily"])


def test_cli_refuses_unsafe_farm_and_reversed_dates(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert main(["backfill", "--farm", "../../etc", "--from", "2025-10-01", "--to", "2025-10-02"]) == 2
    assert "not a farm id" in capsys.readouterr().err
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    assert main(["backfill", "--farm", "chtouka", "--from", "2025-10-05", "--to", "2025-10-01"]) == 2
    assert "before --from" in capsys.readouterr().err
    assert main(["backfill", "--farm", "chtouka", "--from", "2025-10-01", "--to", "2025-10-02"]) == 0
    assert f"2 partitions of {', '.join(BACKFILL_ASSETS['daily'])} queued" in capsys.readouterr().out
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert len(instance.get_backfills()) == 1
