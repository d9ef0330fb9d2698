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


def test_figures_carry_their_unit_and_a_meaningful_precision():
    import dagster as dg

    from assets._metadata import label, number, shown

    assert label("ndvi_mean") == ("NDVI mean", 2, 1.0)
    assert label("zone_area_mean_m2") == ("Zone area mean (ha)", 2, 1e-4)
    assert label("tmax_c")[0] == "Max air temperature (°C)" and label("total_volume_m3")[:2] == ("Total volume (m³)", 0)
    out = shown({"ndvi_mean": number(0.40374600887298584), "valid_fraction": number(0.98765), "method": "otsu",
                 "zone_area_mean_m2": number(12_345.0), "weed_pressure": number(float("nan"))})
    assert out["NDVI mean"].value == 0.4 and out["Valid (%)"].value == 98.8 and out["method"] == "otsu"
    assert out["Zone area mean (ha)"].value == 1.23 and isinstance(out["Weed pressure"], dg.NullMetadataValue)


def test_every_table_column_shown_in_the_ui_is_described_with_its_unit():
    from assets._metadata import COLUMNS, column_description, table
    from assets.irrigation import PLAN_COLUMNS
    from assets.parcels import SHOWN as PARCEL_COLUMNS
    from assets.yields import SHOWN as YIELD_COLUMNS
    from assets.zone_irrigation import SHOWN as ZONE_PLAN_COLUMNS
    from pipelines.imagery.zones.delineation import COLUMNS as ZONE_COLUMNS

    for column in [*PLAN_COLUMNS, *PARCEL_COLUMNS, *YIELD_COLUMNS, *ZONE_PLAN_COLUMNS, *ZONE_COLUMNS]:
        assert COLUMNS.get(column), column
    assert "(mm)" in COLUMNS["depth_mm"] and "(t/ha)" in COLUMNS["yield_t_ha"] and "(m³)" in COLUMNS["volume_m3"]
    assert column_description("2026-03-25", dates="mean crop NDVI") == "mean crop NDVI on 2026-03-25"
    with pytest.raises(KeyError, match="COLUMNS"):
        column_description("mystery")
    import pandas as pd

    schema = table(pd.DataFrame({"parcel": ["p1"], "depth_mm": [12.34567]}))["dagster/column_schema"]
    assert [c.description for c in schema.columns] == [COLUMNS["parcel"], COLUMNS["depth_mm"]]


def test_thumbnail_fits_dagsters_inline_markdown_limit():
    import numpy as np

    from assets._metadata import INLINE_MD_CHARS, thumbnail
    from pipelines.reports.maps import ndvi_map

    parcels = np.full((1200, 1600), np.nan, np.float32)
    parcels[100:500, 200:900], parcels[600:1100, 300:1400] = 0.82, 0.41
    md = thumbnail(lambda px: ndvi_map(parcels, 0.25, max_side_px=px, decorated=False).png, "NDVI").value
    assert md.startswith("![NDVI](data:image/png;base64,") and len(md) < INLINE_MD_CHARS
