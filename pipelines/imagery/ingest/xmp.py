"""Safe reading of the XMP packet (TIFF tag 700) that multispectral cameras write their radiometry in.

Parsed with defusedxml: entity declarations (billion laughs, external entities) are refused, never
expanded. The packet is flattened to {local name: value}; namespaces differ between vendors
(Camera: pix4d, MicaSense:, DLS:, drone-dji:) but local names do not collide in practice.
An rdf:Seq/rdf:Bag becomes a list of strings.
"""
from __future__ import annotations

from pathlib import Path

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from pipelines.core.errors import InputDataError

RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def parse_xmp(packet: bytes | str, path: str | Path = "<xmp>") -> dict[str, str | list[str]]:
    """Flatten an XMP packet to {local name: text or list of texts}."""
    text = packet.decode("utf-8", errors="replace") if isinstance(packet, bytes) else packet
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise InputDataError(path, "XMP metadata declares entities or a DTD, refused",
                             "re-export the image from the camera; the file may have been tampered with")
    start, end = text.find("<x:xmpmeta"), text.rfind("</x:xmpmeta>")
    if start < 0 or end < 0:
        start, end = text.find("<rdf:RDF"), text.rfind("</rdf:RDF>") - 2
    if start < 0:
        return {}
    body = text[start:end + len("</x:xmpmeta>")]
    try:
        root = ElementTree.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InputDataError(path, f"XMP metadata declares entities or a DTD ({type(exc).__name__}), refused",
                             "re-export the image from the camera; the file may have been tampered with") from None
    except ElementTree.ParseError as exc:
        raise InputDataError(path, f"XMP metadata is not well-formed XML ({exc})",
                             "copy the file again from the SD card") from None
    values: dict[str, str | list[str]] = {}
    for description in root.iter(f"{RDF}Description"):
        for key, value in description.attrib.items():
            if not key.startswith(RDF):
                values[_local(key)] = value
        for child in description.iter():
            if child is description or child.tag.startswith(RDF):
                continue
            items = [li.text or "" for li in child.iter(f"{RDF}li")]
            if items:
                values[_local(child.tag)] = items
            elif child.text and child.text.strip():
                values[_local(child.tag)] = child.text.strip()
    return values


def numbers(value: str | list[str] | None) -> list[float]:
    """'1,2,3', '1 2 3' or ['1', '2'] → [1.0, 2.0, 3.0]."""
    if value is None:
        return []
    texts = value if isinstance(value, list) else [value]
    return [float(p) for text in texts for p in str(text).replace(",", " ").split()]
