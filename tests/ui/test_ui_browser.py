"""The Dagster UI as an agronomist sees it, in a real browser.

One flight of the sample farm is materialised into a temporary instance; `dagster-webserver`
serves it on 127.0.0.1 and Debian's headless Chromium (driven by Playwright) opens the asset
catalogue (`/assets`) and the latest materialisation of one flight's parcel statistics
(`/assets/parcel_stats?view=partitions&partition=<flight>`). The page must show every asset, the
per-parcel table with the numbers the instance stored (cross-checked through `/graphql` on the
same server), the NDVI preview as an embedded PNG, and asset checks worded for agronomists.
Screenshots are kept in `test-artifacts/`.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
FLIGHT_DATE = dt.date(2026, 3, 25)
FLIGHT = f"chtouka-{FLIGHT_DATE:%Y%m%d}"
READY_TIMEOUT_S = 240.0  # bounded; the code location import alone took 26 s at load 12 on this 2-core machine
PAGE_TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def instance(tmp_path_factory, farm):
    """A Dagster instance and data root holding one materialised flight (ingest + analysis stages)."""
    root = tmp_path_factory.mktemp("ui")
    home, data = root / "dagster_home", root / "data"
    home.mkdir()
    shutil.copy(ROOT / "configs" / "dagster" / "dagster.yaml", home / "dagster.yaml")
    env = {"DAGSTER_HOME": str(home), "SAQI_DATA_ROOT": str(data), "SAQI_LANDING_DIR": str(data / "landing")}
    patch = pytest.MonkeyPatch()
    for name, value in env.items():
        patch.setenv(name, value)
    import dagster as dg

    from pipelines.orchestration.definitions import ASSET_MODULES
    from pipelines.orchestration.resources import default_storage
    from pipelines.orchestration.runs import (
        FLIGHT_ANALYSIS,
        FLIGHT_INGEST,
        materialize_stage,
    )
    from pipelines.synthetic import generate_farm_flights

    generate_farm_flights(farm, data / "landing", data / "truth", dates=[FLIGHT_DATE])
    defs = dg.Definitions(assets=dg.load_assets_from_modules(ASSET_MODULES),
                          asset_checks=dg.load_asset_checks_from_modules(ASSET_MODULES),
                          resources={"storage": default_storage()})
    with dg.DagsterInstance.get() as dagster_instance:
        dagster_instance.add_dynamic_partitions("flights", [FLIGHT])
        for stage, selection in (("flight ingest", FLIGHT_INGEST), ("flight analysis", FLIGHT_ANALYSIS)):
            outcome = materialize_stage(defs, stage, selection, [FLIGHT], dagster_instance)
            assert not outcome.failed, f"{stage} failed: {outcome.failed}"
    yield env
    patch.undo()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _default_signals() -> None:
    """Undo the SIGINT/SIGTERM ignores a background parent may pass on, so the server stops when told."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def _graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(f"{base}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.load(response)
    assert "errors" not in answer, answer["errors"]
    return answer["data"]


LOCATION = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus locationOrLoadError " \
           "{ __typename ... on PythonError { message } } } } } }"


def _wait_until_loaded(base: str, server: subprocess.Popen, log: Path) -> None:
    """Bounded wait for /server_info, then for the `saqi` code location to finish loading."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        assert server.poll() is None, f"dagster-webserver exited with {server.returncode}:\n{log.read_text()[-3000:]}"
        try:
            entries = _graphql(base, LOCATION)["workspaceOrError"]["locationEntries"]
        except OSError:
            time.sleep(0.3)
            continue
        if entries and entries[0]["loadStatus"] == "LOADED":
            loaded = entries[0]["locationOrLoadError"]
            assert loaded["__typename"] == "RepositoryLocation", (
                f"code location failed to load: {loaded.get('message')}")
            return
        time.sleep(0.3)
    pytest.fail(f"dagster-webserver not ready after {READY_TIMEOUT_S:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(server: subprocess.Popen) -> None:
    """Stop the server by its own PID, then anything left in its process group (its code server)."""
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(server.pid, signal.SIGTERM if time.monotonic() < deadline - 5 else signal.SIGKILL)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    os.killpg(server.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def webserver(instance, tmp_path_factory):
    webserver_bin = Path(sys.executable).with_name("dagster-webserver")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("webserver") / "webserver.log"
    with log.open("w") as out:
        server = subprocess.Popen([str(webserver_bin), "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"],
                                  cwd=ROOT, env={**os.environ, **instance}, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, preexec_fn=_default_signals, start_new_session=True)
    try:
        _wait_until_loaded(base, server, log)
        yield base
    finally:
        _stop(server)
    with pytest.raises(ProcessLookupError):
        os.killpg(server.pid, 0)


@pytest.fixture(scope="module")
def page(webserver, tmp_path_factory):
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium (`make debs`)"
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            tab = browser.new_page(viewport={"width": 1600, "height": 1400})
            tab.set_default_timeout(PAGE_TIMEOUT_MS)
            yield tab
        finally:
            browser.close()


def _asset_nodes(base: str) -> dict[str, str]:
    nodes = _graphql(base, "{ assetNodes { assetKey { path } groupName } }")["assetNodes"]
    return {"/".join(n["assetKey"]["path"]): n["groupName"] for n in nodes}


def test_catalogue_lists_every_asset_with_its_stage(webserver, page):
    groups = _asset_nodes(webserver)
    assert {"flight_manifest", "reflectance", "vegetation_indices", "crop_segmentation", "parcel_stats",
            "irrigation_plan", "yield_estimate", "parcel_reports"} <= set(groups)
    page.goto(f"{webserver}/assets")
    page.get_by_text("parcel_stats", exact=True).first.wait_for()
    page.get_by_text("imagery", exact=True).first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "ui_asset_catalogue.png"))
    shown = page.inner_text("body")
    missing = [key for key in groups if key not in shown]
    assert not missing, f"assets not listed in the catalogue: {missing}"
    assert {"ingest", "imagery", "segmentation", "parcels"} <= {g for g in groups.values() if g in shown}


PARCEL_TABLE = """{ assetOrError(assetKey: {path: ["parcel_stats"]}) { ... on Asset {
  assetMaterializations(partitions: ["%s"], limit: 1) { partition metadataEntries { label
    ... on TableMetadataEntry { table { records } }
    ... on MarkdownMetadataEntry { mdStr } } } } } }""" % FLIGHT


def _stored_materialisation(base: str) -> tuple[list[dict], str]:
    events = _graphql(base, PARCEL_TABLE)["assetOrError"]["assetMaterializations"]
    assert [e["partition"] for e in events] == [FLIGHT]
    entries = {e["label"]: e for e in events[0]["metadataEntries"]}
    return [json.loads(r) for r in entries["preview"]["table"]["records"]], entries["parcel_ndvi_preview"]["mdStr"]


def _rendered_table(page) -> list[dict[str, str]]:
    table = page.locator("table").filter(has=page.get_by_text("ndvi_parcel_mean", exact=True)).last
    header = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    rows = [[c.strip() for c in row.locator("td").all_inner_texts()] for row in table.locator("tbody tr").all()]
    return [dict(zip(header, cells)) for cells in rows]


def test_latest_materialisation_shows_parcel_table_and_ndvi_preview(webserver, page, farm):
    records, markdown = _stored_materialisation(webserver)
    page.goto(f"{webserver}/assets/parcel_stats?view=partitions&partition={FLIGHT}")
    page.get_by_text("ndvi_parcel_mean", exact=True).first.wait_for()
    rendered = _rendered_table(page)

    from pipelines.imagery.parcels.layer import load_parcels

    assert [r["parcel"] for r in rendered] == sorted(load_parcels(farm).ids) == [r["parcel"] for r in records]
    for shown, stored in zip(rendered, records):
        assert float(shown["ndvi_mean"]) == pytest.approx(stored["ndvi_mean"], abs=1e-4), shown["parcel"]
        assert 0.3 < float(shown["ndvi_mean"]) < 0.95, (
            f"{shown['parcel']}: crop NDVI {shown['ndvi_mean']} in late March")
        assert 0.0 <= float(shown["crop_cover_fraction"]) <= 1.0, shown["parcel"]
        assert shown["status"] == "ok", shown["parcel"]

    row = page.locator("tr").filter(has=page.get_by_text("parcel_ndvi_preview", exact=True)).first
    row.get_by_text("[Show Markdown]").click()
    # the overview also shows the small inline thumbnail: the preview is the image of the opened markdown
    images = page.locator('img[src^="data:image/png;base64,"]')
    images.last.wait_for()
    page.wait_for_function("() => [...document.querySelectorAll('img[src^=\"data:image/png;base64,\"]')]"
                           ".some(e => e.complete && e.naturalWidth >= 400)", timeout=30_000)
    image = next(images.nth(i) for i in range(images.count())
                 if images.nth(i).evaluate("e => e.naturalWidth") >= 400)
    page.screenshot(path=str(ARTIFACTS / "ui_parcel_stats_preview.png"))
    width, height, complete = image.evaluate("e => [e.naturalWidth, e.naturalHeight, e.complete]")
    png = base64.b64decode(image.get_attribute("src").split(",", 1)[1])
    assert complete and (width, height) == (400, 300), "the 1600 x 1200 px farm grid previewed at 1/4 scale"
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) < 150_000
    assert base64.b64encode(png).decode() in markdown, "the browser shows the PNG the instance stored"


OVERVIEW = """{ assetOrError(assetKey: {path: ["parcel_stats"]}) { ... on Asset {
  assetMaterializations(limit: 1) { metadataEntries { label
    ... on FloatMetadataEntry { floatValue }
    ... on MarkdownMetadataEntry { mdStr }
    ... on TableSchemaMetadataEntry { schema { columns { name description } } } } } } } }"""


def test_overview_shows_the_latest_flight_without_a_click(webserver, page):
    """The asset's Overview tab (the page an agronomist lands on) shows the latest flight's figures
    with units and rounded, the parcel NDVI thumbnail as an image, and the columns described."""
    events = _graphql(webserver, OVERVIEW)["assetOrError"]["assetMaterializations"]
    entries = {e["label"]: e for e in events[0]["metadataEntries"]}
    ndvi = entries["NDVI mean"]["floatValue"]
    assert 0.3 < ndvi < 0.95 and round(ndvi, 2) == ndvi, f"crop NDVI {ndvi}: two decimals, late March"
    assert round(entries["Crop cover (%)"]["floatValue"], 1) == entries["Crop cover (%)"]["floatValue"]
    assert len(entries["parcel_ndvi_thumbnail"]["mdStr"]) < 1000, "Dagster 1.13 inlines markdown under 1 000 chars"
    columns = {c["name"]: c["description"] for c in entries["dagster/column_schema"]["schema"]["columns"]}
    assert "unitless" in columns["ndvi_mean"] and "fraction 0-1" in columns["crop_cover_fraction"]
    assert all(columns.values()), columns

    page.goto(f"{webserver}/assets/parcel_stats")
    page.get_by_text("NDVI mean", exact=True).first.wait_for()
    thumb = page.locator('img[alt="mean crop NDVI per parcel"][src^="data:image/png;base64,"]').first
    thumb.wait_for(state="visible")
    page.screenshot(path=str(ARTIFACTS / "ui_parcel_stats_overview.png"), full_page=True)
    width, height = thumb.evaluate("e => [e.naturalWidth, e.naturalHeight]")
    assert max(width, height) >= 48 and width / height == pytest.approx(4 / 3, rel=0.05), "the farm grid, 4:3"
    text = page.inner_text("body")
    assert "NDVI mean" in text and f"{ndvi:g}" in text, "the rounded figure, not 17 digits"
    assert "Crop cover (%)" in text


def test_checks_read_like_agronomy(webserver, page):
    page.goto(f"{webserver}/assets/parcel_stats?view=checks")
    page.get_by_text("parcels_have_valid_pixels", exact=True).first.wait_for()
    page.get_by_text("vigour_at_full_canopy", exact=True).first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "ui_parcel_stats_checks.png"))
    text = page.inner_text("body")
    assert "Fails when a parcel has no valid pixel in the flight" in text, "what the check means"
    assert "every parcel has valid pixels" in text, "what the latest execution found, in words"
