"""Filling in the citizen's report form the way a user does: locate, category, description."""

from __future__ import annotations

from typing import Any


def fill_report_form(page: Any, group: str, category: str, description: str) -> None:
    """Locate me, pick the group and the category, type the description (no photo)."""
    page.click("#locate-me")
    page.wait_for_function(
        "document.querySelector('#location-summary').classList.contains('is-set')")
    page.check(f"input[name='group'][value='{group}']", force=True)
    page.wait_for_selector(f"input[name='category'][value='{category}']", state="attached")
    page.check(f"input[name='category'][value='{category}']", force=True)
    page.fill("#description", description)
