"""The container stack for these tests: the one `scripts/deploy-test --stack` started
(MM_DEPLOY_STACK), or one started here with `scripts/deploy-test --up` and removed afterwards.
Without podman (or root to install it) the tests skip locally and fail in CI."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.deploy.containers.stack import ROOT, Stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="package")  # removed when this package's tests are done
def stack() -> Iterator[Stack]:
    given = os.environ.get("MM_DEPLOY_STACK")
    if given:
        yield Stack.load(Path(given))
        return
    if shutil.which("podman") is None and os.geteuid() != 0:
        unavailable("podman is not installed and installing it needs root")
    script = ROOT / "scripts" / "deploy-test"
    started = subprocess.run([str(script), "--up"], capture_output=True, text=True)
    if started.returncode != 0:
        subprocess.run([str(script), "--down"], capture_output=True)
        pytest.fail(f"scripts/deploy-test --up failed:\n{started.stdout[-3000:]}"
                    f"\n{started.stderr[-3000:]}")
    print("\n" + started.stdout)  # the image sizes and the time to ready
    try:
        yield Stack.load(ROOT / "var" / "deploy" / "stack")
    finally:
        subprocess.run([str(script), "--down"], capture_output=True)
