"""Rendered PDFs: pages exist, maps are drawn, Arabic extracts in logical order, names are escaped,
numbers and digits follow the locale, qx/ha = 10 × t/ha."""
from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from dataclasses import replace

import numpy as np
import pytest

from pipelines.reports.i18n import Formatter, translations
from pipelines.reports.render import (
    render_cooperative_report,
    render_irrigation_bulletin,
    render_parcel_report,
)

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext") or not shutil.which("pdftoppm"),
                                reason="poppler-utils (pdftotext, pdftoppm) not installed: make debs")
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def squeeze(text: str) -> str:
    """Without whitespace: pdftotext moves spaces next to numbers inside right-to-left lines."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def pdf_text(path, layout=False) -> str:
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else []) + [str(path), "-"]
    text = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text.translate(BIDI_CONTROLS)))


@pytest.fixture(scope="module")
def rendered(parcel_report, cooperative_report, bulletin, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    result = {}
    for language in ("fr", "ar", "en"):
        result["parcel", language] = render_parcel_report(parcel_report, language, out)
        result["cooperative", language] = render_cooperative_report(cooperative_report, language, out)
        result["bulletin", language] = render_irrigation_bulletin(bulletin, language, out)
    result["parcel", "ar-indic"] = render_parcel_report(parcel_report, "ar", out / "indic", digits="arabic-indic")
    return result


def test_every_report_has_pages_with_the_maps_drawn(rendered, tmp_path):
    for (kind, language), report in rendered.items():
        assert report.pdf_path.stat().st_size > 10_000, (kind, language)
        subprocess.run(["pdftoppm", "-r", "30", "-png", str(report.pdf_path), str(tmp_path / f"{kind}-{language}")],
                       check=True)
        assert sorted(tmp_path.glob(f"{kind}-{language}-*.png")), f"{kind} {language}: no page rendered"
    for language in ("fr", "ar", "en"):
        listing = subprocess.run(["pdfimages", "-list", str(rendered["parcel", language].pdf_path)], check=True,
                                 capture_output=True, text=True).stdout
        sizes = [tuple(map(int, line.split()[3:5])) for line in listing.splitlines()[2:]]
        assert sorted(set(sizes)) == [(400, 360)], f"{language}: expected the three 400×360 px maps, got {sizes}"
        assert len(sizes) >= 3


def test_map_area_of_the_first_page_is_not_blank(rendered, tmp_path):
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-png", str(rendered["parcel", "fr"].pdf_path),
                    str(tmp_path / "page")], check=True)
    page = np.asarray(Image.open(next(tmp_path.glob("page-*.png"))).convert("RGB")).astype(int)
    green = (page[..., 1] > page[..., 0] + 40) & (page[..., 1] > page[..., 2] + 40)
    red = (page[..., 0] > page[..., 1] + 60) & (page[..., 0] > page[..., 2] + 60)
    assert green.mean() > 0.02, "NDVI and class maps should paint green vegetation on the page"
    assert red.sum() > 50, "red tones of low NDVI / weeds missing"


@pytest.mark.parametrize("message",
                         ["Parcel report", "Irrigation plan", "Expected yield", "What to do", "Season so far",
                          "Management zones"])
def test_arabic_text_extracts_in_logical_order(rendered, message):
    expected = translations("ar").gettext(message)
    assert expected != message and re.search("[\u0600-\u06ff]", expected)
    assert unicodedata.normalize("NFKC", expected) in pdf_text(rendered["parcel", "ar"].pdf_path)


def test_arabic_advice_sentence_extracts_whole(rendered, parcel_report):
    """Letters and numbers come out in reading order; pdftotext only shifts spaces around numbers."""
    fmt = Formatter("ar")
    message = fmt.gettext("Irrigate %(depth)s mm today, that is %(volume)s m³ on this parcel.")
    sentence = message % {"depth": "25", "volume": fmt.number(parcel_report.plan.volume_m3, 0)}
    assert sentence.startswith("يجب سقي 25 ملم اليوم")
    assert squeeze(sentence) in squeeze(pdf_text(rendered["parcel", "ar"].pdf_path))


def test_arabic_report_is_right_to_left(rendered):
    html = rendered["parcel", "ar"].html_path.read_text(encoding="utf-8")
    assert '<html lang="ar" dir="rtl">' in html
    assert '<html lang="fr" dir="ltr">' in rendered["parcel", "fr"].html_path.read_text(encoding="utf-8")


def test_yield_in_quintals_is_ten_times_tonnes(rendered):
    fr = pdf_text(rendered["parcel", "fr"].pdf_path)
    assert "3,2 t/ha (32 qx/ha)" in fr
    assert "2,6 – 3,9 t/ha (26 – 39 qx/ha)" in fr
    en = pdf_text(rendered["parcel", "en"].pdf_path)
    assert "3.2 t/ha (32 qx/ha)" in en


def test_numbers_and_dates_follow_the_locale(rendered, parcel_report):
    fr = pdf_text(rendered["parcel", "fr"].pdf_path)
    assert "NDVI moyen 0,59" in fr and "14 mars 2026" in fr
    assert f"{parcel_report.parcel.area_ha:.2f}".replace(".", ",") + " ha" in fr
    en = pdf_text(rendered["parcel", "en"].pdf_path)
    assert "Mean NDVI 0.59" in en and "14 March 2026" in en


def test_arabic_indic_digits_option(rendered):
    western = pdf_text(rendered["parcel", "ar"].pdf_path)
    indic = pdf_text(rendered["parcel", "ar-indic"].pdf_path)
    assert "0,59" in western and "٠٫٥٩" not in western
    assert "٠٫٥٩" in indic and "١٤مارس٢٠٢٦" in squeeze(indic) and "٪١٤" in squeeze(indic)
    assert "P01" in indic, "identifiers keep their own characters"


def test_member_name_cannot_inject_markup(parcel_report, tmp_path):
    evil = replace(parcel_report,
                   parcel=replace(parcel_report.parcel, id="P<script>alert(1)</script>",
                                  member='<b onload="x()">Ali</b>'))
    report = render_parcel_report(evil, "fr", tmp_path)
    html = report.html_path.read_text(encoding="utf-8")
    assert "<script>" not in html and "<b onload" not in html
    assert "P&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" in pdf_text(report.pdf_path), "the name is shown as text"
    assert "/" not in report.pdf_path.name.replace(".pdf", "") and report.pdf_path.parent == tmp_path


def test_cooperative_summary_and_bulletin_totals(rendered, cooperative_report, bulletin):
    fmt = Formatter("fr")
    text = pdf_text(rendered["cooperative", "fr"].pdf_path)
    watering = [row for row in cooperative_report.rows if row.plan.irrigate_today]
    assert squeeze(f"{fmt.number(sum(r.plan.volume_m3 for r in watering), 0)} m³ d'eau aujourd'hui") in squeeze(text)
    assert all(row.parcel.member in text for row in cooperative_report.rows)
    bulletin_text = pdf_text(rendered["bulletin", "fr"].pdf_path)
    total = sum(row.total_volume_m3 for row in bulletin.rows)
    assert squeeze(fmt.number(total,
                              0)) in squeeze(bulletin_text) and "Bulletin hebdomadaire d'irrigation" in bulletin_text


def test_report_may_not_fetch_from_the_network(tmp_path):
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    from pipelines.reports.render import _fetcher

    html = '<html><body><img src="http://127.0.0.1:9/x.png"></body></html>'
    with pytest.raises(FatalURLFetchingError, match="embed the resource"):
        weasyprint.HTML(string=html, url_fetcher=_fetcher()).write_pdf(tmp_path / "x.pdf")
