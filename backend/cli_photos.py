"""`maengelmelder photos …`: work on the photos already published."""

from __future__ import annotations

import time

import click
from sqlalchemy.orm import Session

from backend.db.engine import make_engine


@click.group()
def photos() -> None:
    """Published photos."""


@photos.command("redact")
@click.option("--limit", type=int, default=None, help="Stop after this many photos.")
def photos_redact(limit: int | None) -> None:
    """Hide faces and plates again in published photos whose redaction is older than the
    current detectors (after a model or setting change), from their private originals.
    Each photo's public copies are swapped at once, never unredacted in between; stopping
    and running it again continues where it stopped."""
    from backend.cli import _settings
    from backend.media.storage import storage_from_settings
    from backend.services.redaction.rerun import redo_all
    from workers.photo_jobs import redaction_options

    settings = _settings()
    if not settings.photo_redaction:
        raise click.ClickException("MM_PHOTO_REDACTION is off: there is nothing to redo")
    engine = make_engine(settings.database_url)
    started = time.monotonic()

    def say(progress: object) -> None:
        rate = (progress.redacted + progress.withheld) / max(time.monotonic() - started, 1e-6)
        click.echo(f"{progress.line()} ({rate:.1f} photos/s)")

    with Session(engine) as session:
        done = redo_all(session, storage_from_settings(settings), redaction_options(settings),
                        limit=limit, report=say)
    click.echo(f"done: {done.line()}")
    engine.dispose()
