"""Plain-language advice derived from a parcel's numbers: irrigate today (with the drip's run time
and litres per plant, and the leaching share of saline water), quota cuts, water stress, weeds
above an alert level, NDVI falling or rising between the last two flights.

Each advice is an English message (translated when shown) with typed values that the report's
`Formatter` writes in the reader's locale and digits.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.reports.i18n import N_, Formatter
from pipelines.reports.model import ParcelReport

SEVERITIES = ("action", "warning", "info")


@dataclass(frozen=True)
class AdviceThresholds:
    """Alert levels. Weeds: share of vegetated pixels classed as weed (0–1); NDVI change: absolute
    change between the last two flights; stress: FAO-56 Ks (eq. 84) below which the crop transpires
    less than it could (Ks < 1 once root-zone depletion exceeds RAW)."""

    weed_pressure_fraction: float = 0.10
    ndvi_change: float = 0.05
    stress_coefficient: float = 0.99


@dataclass(frozen=True)
class Advice:
    """One sentence of advice: `message` (English, %(name)s placeholders) and its typed values."""

    severity: str
    message: str
    values: dict[str, tuple[str, object]] = field(default_factory=dict)

    def text(self, fmt: Formatter) -> str:
        """The advice translated and with its values formatted for the reader."""
        return fmt.gettext(self.message) % {name: _format(fmt, kind, value) for name, (kind,
                                                                                       value) in self.values.items()}


def _format(fmt: Formatter, kind: str, value) -> str:
    if kind == "date":
        return fmt.date(value)
    if kind == "percent":
        return fmt.percent(value)
    decimals = {"mm": 0, "m3": 0, "ndvi": 2, "ks": 2, "hours": 1, "litres": 1, "count": 0}[kind]
    return fmt.number(value, decimals)


def _irrigation(report: ParcelReport, limits: AdviceThresholds) -> list[Advice]:
    plan = report.plan
    if plan is None:
        return []
    items = []
    if plan.stress_coefficient < limits.stress_coefficient:
        items.append(Advice("warning",
                            N_("The crop is short of water (stress coefficient Ks = %(ks)s): irrigate without delay."),
                            {"ks": ("ks", plan.stress_coefficient)}))
    items.extend(_quota(plan))
    if plan.irrigate_today and plan.depth_mm > 0:
        items.insert(0,
                     Advice("action", N_("Irrigate %(depth)s mm today, that is %(volume)s m³ on this parcel."),
                            {"depth": ("mm", plan.depth_mm), "volume": ("m3", plan.volume_m3)}))
        items[1:1] = _how_to_apply(plan)
        return items
    upcoming = next((day for day in plan.outlook if day.date == plan.next_date and day.depth_mm > 0), None)
    if upcoming is not None:
        items.append(Advice("info",
                            N_("No irrigation needed today. Next irrigation on %(date)s: "
                               "about %(depth)s mm (%(volume)s m³)."),
                            {"date": ("date", upcoming.date), "depth": ("mm", upcoming.depth_mm),
                             "volume": ("m3", upcoming.volume_m3)}))
    elif plan.next_date is not None:
        items.append(Advice("info", N_("No irrigation needed today. Next irrigation expected on %(date)s."),
                            {"date": ("date", plan.next_date)}))
    else:
        items.append(Advice("info", N_("No irrigation needed in the coming days.")))
    return items


def _how_to_apply(plan) -> list[Advice]:
    """Drip run time and litres per plant (with a layout), and the leaching share of saline water."""
    items = []
    if plan.run_time_h and plan.litres_per_plant:
        values = {"hours": ("hours", plan.run_time_h), "pulses": ("count", plan.pulses or 1),
                  "litres": ("litres", plan.litres_per_plant)}
        items.append(Advice("action", N_("Run the drip %(hours)s h in %(pulses)s pulses: %(litres)s litres per plant.")
                            if (plan.pulses or 1) > 1 else
                            N_("Run the drip for %(hours)s h: %(litres)s litres per plant."), values))
    if plan.leaching_fraction and plan.leaching_fraction > 0:
        items.append(Advice("info", N_("%(share)s of this water is a leaching fraction that washes the salt brought "
                                       "by the irrigation water out of the root zone (FAO-29)."),
                            {"share": ("percent", plan.leaching_fraction)}))
    return items


def _quota(plan) -> list[Advice]:
    """How much the farm's water quota cuts from today's demand, and why here."""
    if not plan.quota_cut_m3 > 0:
        return []
    values = {"volume": ("m3", plan.quota_cut_m3), "depth": ("mm", plan.quota_cut_mm)}
    return [Advice("warning", N_("Water quota: %(volume)s m³ (%(depth)s mm) less than today's demand, taken here first "
                                 "because this stage of the crop tolerates a regulated deficit.")
                   if plan.quota_deficit_stage else
                   N_("Water quota: %(volume)s m³ (%(depth)s mm) less than today's demand, because the farm's "
                      "allocation is short and this crop has a lower priority."), values)]


def _vegetation(report: ParcelReport, limits: AdviceThresholds) -> list[Advice]:
    points = sorted(report.trend, key=lambda point: point.date)
    if not points:
        return []
    items = []
    latest = points[-1]
    if latest.weed_pressure_fraction > limits.weed_pressure_fraction:
        items.append(Advice("warning",
                            N_("Weeds make up %(weeds)s of the vegetation, above the %(limit)s alert level: "
                               "plan weeding."),
                            {"weeds": ("percent", latest.weed_pressure_fraction),
                             "limit": ("percent", limits.weed_pressure_fraction)}))
    if len(points) >= 2 and report.vigour_index == "ndvi":  # the change thresholds are NDVI units
        before = points[-2]
        change = latest.ndvi_mean - before.ndvi_mean
        values = {"before": ("ndvi", before.ndvi_mean), "after": ("ndvi", latest.ndvi_mean),
                  "date": ("date", before.date)}
        if change <= -limits.ndvi_change:
            items.append(Advice("warning",
                                N_("NDVI fell from %(before)s to %(after)s since %(date)s: "
                                   "check irrigation, pests and diseases."), values))
        elif change >= limits.ndvi_change:
            items.append(Advice("info",
                                N_("NDVI rose from %(before)s to %(after)s since %(date)s: the crop is growing well."),
                                values))
    return items


def parcel_advice(report: ParcelReport, limits: AdviceThresholds = AdviceThresholds()) -> list[Advice]:
    """Advice for one parcel, actions first, then warnings, then information."""
    items = _irrigation(report, limits) + _vegetation(report, limits)
    return sorted(items, key=lambda item: SEVERITIES.index(item.severity))

