"""Server-rendered pages until the PWA arrives: a home page that says what runs here."""

from __future__ import annotations

from flask import Blueprint, render_template

from backend.api.context import snapshot
from backend.services.catalogue import category_catalogue

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> str:
    """What this server is, the categories it accepts, and where the API is documented."""
    snap = snapshot()
    return render_template(
        "home.html",
        catalogue=category_catalogue(snap, "de"),
        districts=len(snap.districts),
    )
