"""Progress lines: plain text, one per finished step with done/total and elapsed seconds, when the
output is not a terminal (logs, CI); every item passes through unchanged."""
from __future__ import annotations

import io
import re

from pipelines.cli.progress import track


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
