"""Placeholders of response templates: which exist, checking a text, filling one in. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping

# What a template may say about its report; filled in the reporter's language.
PLACEHOLDERS = ("report_number", "category", "department", "expected_date", "district")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def text_problems(text: str) -> list[str]:
    """Why `text` cannot be a template text (unknown placeholders, stray braces); [] if fine."""
    problems = []
    unknown = [name for name in _PLACEHOLDER.findall(text) if name not in PLACEHOLDERS]
    if unknown:
        problems.append(
            "unknown placeholder(s): " + ", ".join("{" + n + "}" for n in dict.fromkeys(unknown))
            + "; known: " + ", ".join("{" + n + "}" for n in PLACEHOLDERS))
    if "{" in _PLACEHOLDER.sub("", text) or "}" in _PLACEHOLDER.sub("", text):
        problems.append("a brace '{' or '}' outside a placeholder")
    return problems


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each known placeholder replaced by its value (an unknown one is kept as
    written: texts are checked when saved, so this only guards old rows)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
