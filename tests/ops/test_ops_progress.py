"""Progress lines: plain text, one per finished step with done/total and elapsed seconds, when the
output is not a terminal (logs, CI); every item passes through unchanged."""
from __future__ import annotations

import io
import re

from pipelines.core.progress import track


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    assert list(track(["a", "b", "c"], "backfill daily chtouka", stream=out, unit="partitions")) == ["a", "b", "c"]
    lines = out.getvalue().splitlines()
    assert [re.sub(r"\(\d+\.\d s\)", "(t)", line) for line in lines] == [
        f"backfill daily chtouka: {k}/3 partitions (t)" for k in (1, 2, 3)]
    assert "\r" not in out.getvalue()


def test_generator_with_total():
    out = io.StringIO()
    assert sum(track((i for i in range(4)), "tiles", total=4, stream=out)) == 6
    assert out.getvalue().splitlines()[-1].startswith("tiles: 4/4 it (")


def test_long_loop_writes_few_lines_to_a_log():
    out = io.StringIO()
    assert list(track(range(500), "ingest windows", total=500, stream=out, unit="windows", every_s=3600)) == list(
        range(500))
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ingest windows: 500/500 windows (")



def test_stage_runner_drives_the_cli_progress():
    """`saqi demo` and `saqi backfill --here` pass `track` as the stage progress: it must accept the
    stage runner's call (no partition here, so no Dagster run starts; a unit passed as the stream
    raised AttributeError in the demo)."""
    import dagster as dg

    from pipelines.core.progress import track
    from pipelines.orchestration.runs import materialize_stage

    with dg.DagsterInstance.ephemeral() as instance:
        outcome = materialize_stage(dg.Definitions(), "flight ingest", [], [], instance, progress=track)
    assert not outcome.failed and not outcome.succeeded
