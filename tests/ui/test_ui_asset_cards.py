"""What an agronomist reads first in the catalogue: each asset's one-line summary and each check's
meaning, straight from the definitions (no server)."""
from __future__ import annotations

import pytest

from assets._metadata import PREVIEW_MAX_BYTES, preview, section

CARD = """Two products.

- `first`: the first product, in mm. Store: a.
- `second`: the second product,
  in m³. Store: b.

How to read it: more is wetter."""


def _nodes():
    from pipelines.orchestration.definitions import defs

    return defs.resolve_asset_graph().asset_nodes


def test_section_is_one_item_capitalised_with_the_reading_guide_once():
    assert section(CARD, "first") == "The first product, in mm. Store: a.\n\nHow to read it: more is wetter."
    last = section(CARD, "second")
    assert last.startswith("The second product,") and last.count("How to read") == 1


def test_catalogue_summaries_read_as_sentences():
    for node in _nodes():
        summary = node.description.strip().splitlines()[0]
        assert summary[:1].isupper(), f"{node.key.to_user_string()}: summary starts in lower case: {summary!r}"
        assert node.description.count("How to read") <= 1, node.key.to_user_string()
        assert node.group_name in {"ingest", "imagery", "segmentation", "parcels", "irrigation", "yield", "reports"}


def test_every_check_says_when_it_fails_or_warns():
    from pipelines.orchestration.definitions import defs

    specs = [spec for asset in defs.assets for spec in asset.check_specs]
    assert len(specs) >= 9
    for spec in specs:
        assert spec.description and spec.description.startswith(("Fails when", "Warns when")), spec.key


def test_preview_refuses_images_over_the_ui_budget():
    assert "data:image/png;base64," in preview(b"\x89PNG" + b"0" * 100, "ndvi").value
    with pytest.raises(ValueError, match="render it smaller"):
        preview(b"0" * (PREVIEW_MAX_BYTES + 1), "ndvi")
