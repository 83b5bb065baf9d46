"""The app's public static files, by URL path: what the web app serves under /app/ and
/vendor/, and what `maengelmelder collect-static` copies for a reverse proxy to serve."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterator
from pathlib import Path

from backend.settings import Settings

# Only these files of the npm packages are public, under /vendor/<name>/.
VENDOR_FILES = {
    "leaflet": ("leaflet/dist", {"leaflet.js", "leaflet.css", "images/marker-icon.png",
                                 "images/marker-icon-2x.png", "images/marker-shadow.png",
                                 "images/layers.png", "images/layers-2x.png"}),
    "markercluster": ("leaflet.markercluster/dist", {
        "leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css"}),
    "heat": ("leaflet.heat/dist", {"leaflet-heat.js"}),
}
COMPRESSIBLE = {".js", ".css", ".json", ".svg", ".webmanifest", ".html", ".txt"}


def public_files(settings: Settings) -> Iterator[tuple[str, Path]]:
    """(URL path, file) of every file under /app/ and /vendor/."""
    app_root = Path(settings.pwa_root) / "app"
    for path in sorted(app_root.rglob("*")):
        if path.is_file():
            yield f"app/{path.relative_to(app_root).as_posix()}", path
    for name, (base, files) in VENDOR_FILES.items():
        for relative in sorted(files):
            yield f"vendor/{name}/{relative}", Path(settings.vendor_root) / base / relative


def collect(settings: Settings, target: Path) -> int:
    """Copy the public files into `target` under their URL paths, with a `.gz` twin for
    text files (nginx `gzip_static`); returns how many files were copied."""
    count = 0
    for url_path, source in public_files(settings):
        destination = target / url_path
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
        if destination.suffix in COMPRESSIBLE:
            packed = gzip.compress(source.read_bytes(), compresslevel=9, mtime=0)
            gz = destination.with_name(destination.name + ".gz")
            gz.write_bytes(packed)
            shutil.copystat(source, gz)
        count += 1
    return count
