"""The reliability probe: bad inputs tried at every entry point, as a careless or hostile user would.

Each case builds one bad input in a temporary folder and feeds it to one entry point. Its answer
is classified as:
- `refused`: the command exits 2 (or the library raises a `SaqiError`) with one line naming the input;
- `warning`: the run goes on and a named warning says what was repaired or left out;
and the case states which answer is right. Anything else (a traceback, another exception type, a
silent success) fails the probe. docs/errors.md holds the same table.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Answer:
    kind: str  # refused | warning | silent
    text: str


@dataclass(frozen=True)
class Case:
    id: str
    entry: str
    what: str
    expect: str  # refused | warning
    names: str  # what the answer must name (file name, field, argument)
    run: Callable[[Path], Answer]


def cli(*argv: str) -> Answer:
    """Run `saqi ARGV` in-process; refused = exit 2, warning = exit 0 with a named line on stderr."""
    from pipelines.cli import main

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
    text = err.getvalue()
    assert "Traceback" not in text, text
    if code == 2:
        return Answer("refused", text)
    assert code == 0, f"exit {code}: {text}"
    return Answer("warning" if text.strip() else "silent", text)


def call(function: Callable, *args, **kwargs) -> Answer:
    """Call a library entry point: a SaqiError is a refusal, returned warnings/problems are warnings."""
    from pipelines.core.errors import SaqiError

    try:
        result = function(*args, **kwargs)
    except SaqiError as exc:
        return Answer("refused", str(exc))
    notes = result if isinstance(result, list) else []
    return Answer("warning" if notes else "silent", "\n".join(map(str, notes)))



def all_cases() -> list[Case]:
    """Every case of the probe, from the modules of each entry point (ids unique)."""
    from tests.reliability.probe_commands import _command_cases
    from tests.reliability.probe_delivery import _delivery_cases, _store_cases
    from tests.reliability.probe_inputs import _capture_cases, _config_cases, _flight_cases, _key_cases
    from tests.reliability.probe_rasters import _parcel_cases, _raster_cases
    from tests.reliability.probe_weather import _weather_cases

    cases = (
        _raster_cases()
        + _parcel_cases()
        + _weather_cases()
        + _key_cases()
        + _flight_cases()
        + _config_cases()
        + _capture_cases()
        + _delivery_cases()
        + _store_cases()
        + _command_cases()
    )
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case id"
    return cases


def frame_of(cases: list[Case]) -> pd.DataFrame:
    return pd.DataFrame([{"id": c.id, "entry": c.entry, "input": c.what, "answer": c.expect} for c in cases])
