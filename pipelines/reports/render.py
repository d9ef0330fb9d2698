"""Render reports to HTML and PDF: Jinja2 templates (autoescaped, gettext-translated) and WeasyPrint.

Three documents: one per parcel and flight, one per cooperative and flight, and the weekly
irrigation bulletin. The HTML is self-contained (maps embedded as data: URIs) and the PDF is laid
out by WeasyPrint with fonts from Debian packages (Noto Sans, Noto Naskh Arabic, DejaVu Sans);
Pango shapes Arabic and orders it right to left. Nothing is fetched from the network: only data:
URLs and files inside the template folder may be loaded.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from pipelines.reports.advice import AdviceThresholds, parcel_advice
from pipelines.reports.i18n import DEFAULT_LANGUAGE, N_, Formatter
from pipelines.reports.model import CooperativeReport, IrrigationBulletin, ParcelReport

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
IRRIGATION_METHODS = {
    "drip": N_("Drip"),
    "sprinkler": N_("Sprinkler"),
    "surface": N_("Surface (furrows, basins)"),
    "pivot": N_("Centre pivot"),
}
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class RenderedReport:
    """The files of one rendered report and the subject line to send it under."""

    html_path: Path
    pdf_path: Path
    subject: str
    language: str


def file_stem(*parts: str) -> str:
    """A file-name-safe stem; a hash is appended when unsafe characters had to be replaced."""
    raw = "_".join(parts)
    safe = "_".join(_UNSAFE.sub("-", part).strip("-") or "x" for part in parts)
    return safe if safe == raw else f"{safe}_{hashlib.sha256(raw.encode()).hexdigest()[:8]}"


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _css_string(text: str):
    """A CSS string literal for `content:` in @page margin boxes, safe inside a <style> element."""
    from markupsafe import Markup

    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ").replace("<", "\\3C ")
    return Markup('"' + escaped + '"')


def _fetcher():
    """A WeasyPrint URL fetcher that loads data: URLs and template files only, never the network."""
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:") or (url.startswith("file://")
                                           and Path(url[7:]).resolve().is_relative_to(TEMPLATES_DIR)):
                return super().fetch(url, headers)
            raise FatalURLFetchingError(f"report templates may only load data: URLs or files in {TEMPLATES_DIR}, "
                                        f"not {url!r}; embed the resource instead")

    return LocalOnlyFetcher()


def environment(fmt: Formatter):
    """The Jinja2 environment of one report: autoescaped HTML, gettext of `fmt.language`, locale filters."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=StrictUndefined,
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_callables(fmt.gettext, fmt.ngettext, newstyle=True)
    env.filters.update(
        number=fmt.number,
        percent=fmt.percent,
        date=fmt.date,
        weekday=fmt.weekday,
        digits=fmt.digits_of,
        data_uri=_data_uri,
        css_string=_css_string,
    )
    env.globals.update(fmt=fmt, irrigation_methods=IRRIGATION_METHODS)
    return env


def _write(template: str, context: dict, fmt: Formatter, out_dir: Path, stem: str, subject: str) -> RenderedReport:
    import weasyprint

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    html = environment(fmt).get_template(template).render(lang=fmt.language, direction=fmt.direction, subject=subject,
                                                          **context)
    html_path, pdf_path = out_dir / f"{stem}.html", out_dir / f"{stem}.pdf"
    html_path.write_text(html, encoding="utf-8")
    weasyprint.HTML(string=html, base_url=str(TEMPLATES_DIR) + "/", url_fetcher=_fetcher()).write_pdf(pdf_path)
    return RenderedReport(html_path, pdf_path, subject, fmt.language)


def render_parcel_report(report: ParcelReport, language: str = DEFAULT_LANGUAGE, out_dir: Path = Path("reports"),
                         digits: str = "western", *, thresholds: AdviceThresholds = AdviceThresholds(),
                         generated_on: dt.date | None = None) -> RenderedReport:
    """Render one parcel's report for one flight to `<out_dir>/<farm>_<parcel>_<yyyymmdd>_<lang>.{html,pdf}`."""
    fmt = Formatter(language, digits)
    subject = fmt.gettext("Parcel %(parcel)s — report of %(date)s") % {"parcel": report.parcel.id,
                                                                       "date": fmt.date(report.flight_date)}
    advice = [(item.severity, item.text(fmt)) for item in parcel_advice(report, thresholds)]
    context = {"report": report, "advice": advice, "generated_on": generated_on or dt.date.today(),
               "thresholds": thresholds}
    stem = file_stem(report.farm_id, report.parcel.id, report.flight_date.strftime("%Y%m%d"), language)
    return _write("parcel.html", context, fmt, out_dir, stem, subject)


def render_cooperative_report(report: CooperativeReport, language: str = DEFAULT_LANGUAGE,
                              out_dir: Path = Path("reports"), digits: str = "western", *,
                              thresholds: AdviceThresholds = AdviceThresholds(),
                              generated_on: dt.date | None = None) -> RenderedReport:
    """Render the cooperative's summary of one flight to `<out_dir>/<farm>_cooperative_<yyyymmdd>_<lang>.{html,pdf}`."""
    fmt = Formatter(language, digits)
    subject = fmt.gettext("%(cooperative)s — parcels on %(date)s") % {"cooperative": report.cooperative.name,
                                                                      "date": fmt.date(report.flight_date)}
    context = {"report": report, "generated_on": generated_on or dt.date.today(), "thresholds": thresholds}
    stem = file_stem(report.farm_id, "cooperative", report.flight_date.strftime("%Y%m%d"), language)
    return _write("cooperative.html", context, fmt, out_dir, stem, subject)


def render_irrigation_bulletin(bulletin: IrrigationBulletin, language: str = DEFAULT_LANGUAGE,
                               out_dir: Path = Path("reports"), digits: str = "western", *,
                               generated_on: dt.date | None = None) -> RenderedReport:
    """Render the weekly irrigation bulletin to `<out_dir>/<farm>_bulletin_<yyyymmdd>_<lang>.{html,pdf}`."""
    fmt = Formatter(language, digits)
    subject = fmt.gettext("Irrigation bulletin, week of %(date)s") % {"date": fmt.date(bulletin.week_start)}
    context = {"bulletin": bulletin, "generated_on": generated_on or dt.date.today()}
    stem = file_stem(bulletin.farm_id, "bulletin", bulletin.week_start.strftime("%Y%m%d"), language)
    return _write("bulletin.html", context, fmt, out_dir, stem, subject)
