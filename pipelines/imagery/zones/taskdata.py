"""ISO 11783-10 (ISOXML) TASKDATA for a zone prescription: one planned task per parcel.

Structure (ISO 11783-10:2015, version 4 elements and attribute letters):
ISO11783_TaskData ─ CTR customer, FRM farm, PDT product, VPN value presentation,
PFD partfield per parcel ─ PLN PolygonType 1 (partfield boundary) ─ LSG (1 exterior, 2 interior) ─ PNT,
TSK per parcel ─ TZN per zone ─ PLN PolygonType 2 (treatment zone; 10 would be a headland) + PDV (DDI, rate).
TZN 0 (rate 0) is the out-of-field and position-lost zone of every task.

Rates as process data (ISO 11783-11 data dictionary):
- DDI 0001 Setpoint Volume Per Area Application Rate, mm³/m²: 1 mm of water = 1 L/m² = 10⁶ mm³/m²;
- DDI 0006 Setpoint Mass Per Area Application Rate, mg/m²: 1 kg/ha = 10⁶ mg / 10⁴ m² = 100 mg/m².
Coordinates are WGS84 decimal degrees (PNT C = north/latitude, D = east/longitude).
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import shapely

from pipelines.core.config import PrescriptionRule
from pipelines.core.errors import InputDataError, refuse_control

PROCESS_DATA = {"mm": (1, 1e6, "0.000001"), "kg/ha": (6, 100.0, "0.01")}
"""rule unit -> (DDI, factor from the unit to the DDI unit, VPN scale back to the unit)."""
POLYGON_BOUNDARY, POLYGON_TREATMENT_ZONE = "1", "2"
OUTSIDE_ZONE = "0"


def _points(ring: shapely.LinearRing, ring_type: str) -> ET.Element:
    segment = ET.Element("LSG", A=ring_type)
    for lon, lat in shapely.get_coordinates(ring):
        ET.SubElement(segment, "PNT", A="2", C=f"{lat:.9f}", D=f"{lon:.9f}")
    return segment


def _polygons(geometry: shapely.Geometry, polygon_type: str, name: str) -> list[ET.Element]:
    elements = []
    for k, polygon in enumerate(shapely.get_parts(shapely.orient_polygons(geometry)), start=1):
        pln = ET.Element("PLN", A=polygon_type, B=f"{name} {k}" if k > 1 else name)
        pln.append(_points(polygon.exterior, "1"))
        for hole in polygon.interiors:
            pln.append(_points(hole, "2"))
        elements.append(pln)
    return elements


_XML_CHAR = re.compile("[\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""A character XML 1.0 allows (Char production, section 2.2)."""


def _text(value: object, field: str) -> str:
    """Text for an XML attribute: ElementTree escapes & < > " but writes control characters as they are,
    which makes the document not well-formed; refuse them here (they are refused at the edge too)."""
    text = str(value)
    refuse_control(text, "TASKDATA.XML", field)
    outside = sorted({f"U+{ord(c):04X}" for c in text if not _XML_CHAR.fullmatch(c)})
    if outside:
        raise InputDataError("TASKDATA.XML",
                             f"{field} {text!r} holds character(s) {', '.join(outside)} that XML 1.0 forbids",
                             "remove them from the source name", field=field)
    return text


def taskdata_tree(zones: gpd.GeoDataFrame, outlines: gpd.GeoDataFrame, rule: PrescriptionRule,
                  customer: str, farm_name: str) -> ET.ElementTree:
    """The TASKDATA tree for `zones` (grid CRS, with `rule.rate_field`) and parcel `outlines` (grid CRS, `id`)."""
    ddi, factor, scale = PROCESS_DATA[rule.unit]
    area_m2 = outlines.set_index("id").geometry.area
    zones_ll = zones.to_crs("EPSG:4326")
    outlines_ll = outlines.to_crs("EPSG:4326").set_index("id").geometry
    root = ET.Element("ISO11783_TaskData", VersionMajor="4", VersionMinor="2", ManagementSoftwareManufacturer="Saqi",
                      ManagementSoftwareVersion="1.0", DataTransferOrigin="1")
    ET.SubElement(root, "CTR", A="CTR1", B=_text(customer, "customer"))
    ET.SubElement(root, "FRM", A="FRM1", B=_text(farm_name, "farm name"), I="CTR1")
    ET.SubElement(root, "PDT", A="PDT1", B=_text(rule.product, "product"))
    ET.SubElement(root, "VPN", A="VPN1", B="0", C=scale, D="2", E=rule.unit)
    for k, (pid, own) in enumerate(zones_ll.groupby("parcel_id", sort=False), start=1):
        field = ET.SubElement(root, "PFD", A=f"PFD{k}", C=_text(pid, "parcel id"), D=str(int(round(area_m2[pid]))),
                              E="CTR1", F="FRM1")
        field.extend(_polygons(outlines_ll[pid], POLYGON_BOUNDARY, f"{pid} boundary"))
        task = ET.SubElement(root, "TSK", A=f"TSK{k}", B=f"{pid} {rule.product}", C="CTR1", D="FRM1", E=f"PFD{k}",
                             G="1", I=OUTSIDE_ZONE, J=OUTSIDE_ZONE)
        outside = ET.SubElement(task, "TZN", A=OUTSIDE_ZONE, B="out of field / position lost")
        ET.SubElement(outside, "PDV", A=f"{ddi:04X}", B="0", C="PDT1", E="VPN1")
        for zone, rate, geometry in zip(own["zone"], own[rule.rate_field], own.geometry):
            tzn = ET.SubElement(task, "TZN", A=str(int(zone)), B=f"zone {int(zone)}: {rate:g} {rule.unit}")
            tzn.extend(_polygons(geometry, POLYGON_TREATMENT_ZONE, f"{pid} zone {int(zone)}"))
            ET.SubElement(tzn, "PDV", A=f"{ddi:04X}", B=str(int(round(rate * factor))), C="PDT1", E="VPN1")
    ET.indent(root)
    return ET.ElementTree(root)


def write_taskdata(zones: gpd.GeoDataFrame, outlines: gpd.GeoDataFrame, rule: PrescriptionRule, folder: Path,
                   customer: str, farm_name: str) -> Path:
    """Write `folder/TASKDATA.XML` (UTF-8, with XML declaration); return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "TASKDATA.XML"
    taskdata_tree(zones, outlines, rule, customer, farm_name).write(path, encoding="UTF-8", xml_declaration=True)
    return path
