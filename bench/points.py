"""Random test points for lookup benchmarks."""

from __future__ import annotations

import numpy as np


def random_points_in_bbox(
    bounds: tuple[float, float, float, float], n: int, seed: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Return n reproducible uniform random (lons, lats) inside bounds (minx, miny, maxx, maxy)."""
    minx, miny, maxx, maxy = bounds
    rng = np.random.default_rng(seed)
    return rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
