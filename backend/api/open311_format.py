"""Open311 answers in JSON or XML, and its error format (`[{code, description}]`)."""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree import ElementTree as ET

from flask import Response

from backend.errors import DomainError

FORMATS = ("json", "xml")
# The element name of a list item in the XML form, by the list's element name.
ITEM_NAMES = {
    "services": "service", "service_requests": "request", "attributes": "attribute",
    "values": "value", "errors": "error", "endpoints": "endpoint", "formats": "format",
    "media_urls": "media_url", "service_request_updates": "request_update",
}


# Characters XML 1.0 cannot carry at all, not even escaped. ElementTree writes them as they are,
# so one report holding one (JSON allows "\u0001") would make every list that shows it
# unreadable for XML clients.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """`value` with every character XML cannot carry replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", value)


def _xml_value(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _xml_value(element, key, item)
    elif isinstance(value, list):
        child = ITEM_NAMES.get(name, "item")
        for item in value:
            _xml_value(element, child, item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = xml_text(str(value))


def to_xml(root: str, data: Any) -> bytes:
    """Open311's XML: a root element holding the list items (or the object's fields)."""
    tree = ET.Element(root)
    if isinstance(data, list):
        for item in data:
            _xml_value(tree, ITEM_NAMES.get(root, "item"), item)
    else:
        for key, value in data.items():
            _xml_value(tree, key, value)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(tree, encoding="utf-8")


def answer(fmt: str, root: str, data: Any, status: int = 200) -> Response:
    """The answer in the asked format."""
    if fmt == "xml":
        return Response(to_xml(root, data), status=status, mimetype="text/xml")
    return Response(json.dumps(data, ensure_ascii=False, default=str), status=status,
                    mimetype="application/json")


def error_answer(fmt: str, exc: DomainError) -> Response:
    """Open311's error list; our 422 validation errors are Open311's 400."""
    status = exc.status if exc.status in (400, 403, 404, 413, 415) else 400
    fields = "; ".join(f"{name}: {', '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                       for name, msgs in exc.fields.items())
    description = exc.message + (f" ({fields})" if fields else "")
    return answer(fmt, "errors", [{"code": status, "description": description}], status)
