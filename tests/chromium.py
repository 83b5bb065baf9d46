"""Debian's Chromium for the browser tests (Playwright's own browser download is never used:
this machine reaches no CDN), launched once per test run and shared by every test directory
that drives a browser (tests/pwa, tests/system): two Playwright instances cannot live in one
process."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import servers

CHROMIUM = os.environ.get("MM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def launch_chromium() -> Iterator[object]:
    """Headless Chromium for the whole run (the body of the session fixture `browser`)."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        reason = f"{CHROMIUM} not found (apt-get install chromium)"
        if servers.servers_required():
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                      args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
