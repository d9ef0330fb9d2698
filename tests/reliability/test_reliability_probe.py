"""The probe of issue 13: over 100 bad inputs across every entry point, each answered by name.

A refusal exits 2 (or raises a SaqiError) with one line naming the input; a warning names what was
repaired; no traceback, no silent wrong result. The same table is in docs/errors.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.probe import all_cases

CASES = all_cases()
DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


def test_the_probe_covers_over_100_inputs_and_every_entry_point():
    assert len(CASES) > 100
    entries = {c.entry for c in CASES}
    for entry in (
        "saqi indices",
        "saqi parcels stats",
        "saqi irrigation et0",
        "landing scan",
        "flight manifest",
        "farm configuration",
        "read_band_image",
        "delivery",
        "write_product",
        "FlightKey.parse",
        "saqi reflectance",
        "saqi parcels zones",
        "saqi segment cross-validate",
        "saqi segment evaluate",
        "saqi farm generate",
        "saqi backfill",
        "saqi irrigation plan",
    ):
        assert entry in entries


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_answered_by_name(case, tmp_path):
    answer = case.run(tmp_path)
    assert answer.kind == case.expect, f"{case.id}: expected {case.expect}, got {answer.kind}: {answer.text}"
    assert case.names.lower() in answer.text.lower(), f"{case.id}: answer does not name {case.names!r}: {answer.text}"
    assert "Traceback" not in answer.text
    if case.entry.startswith("saqi") and answer.kind == "refused":
        lines = [line for line in answer.text.splitlines() if "error" in line]
        assert len(lines) == 1, answer.text


def test_docs_table_lists_every_case():
    text = DOC.read_text(encoding="utf-8")
    missing = [c.id for c in CASES if f"`{c.id}`" not in text]
    assert not missing, f"docs/errors.md lacks {missing}"
