"""The service worker's shell precache lists every module the apps load, and only files that exist.

A module missing from `SHELL` in pwa/sw.js loads online but breaks the installed app offline
(its import fails), which no online test notices. No browser needed: the imports are read from
the sources.
"""

from __future__ import annotations

import re
from pathlib import Path

PWA = Path(__file__).resolve().parents[2] / "pwa"
ENTRY_POINTS = ["app/main.js", "app/staff/main.js", "sw.js"]
IMPORT = re.compile(r"""(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}/[^'"]+\.js)['"]""")


def _precached() -> set[str]:
    """The URLs of the SHELL list in sw.js (plain strings and the staff module list)."""
    source = (PWA / "sw.js").read_text(encoding="utf-8")
    shell = source[source.index("const SHELL = ["):]
    shell = shell[:shell.index("\n];")]
    urls = set(re.findall(r"'(/[^'$]*)'", shell))
    staff = re.search(r"\.\.\.\[(.*?)\]\.map\(\(name\) => `/app/staff/\$\{name\}\.js`\)",
                      shell, re.S)
    assert staff, "the staff module list in sw.js changed shape; update this test"
    urls |= {f"/app/staff/{name}.js" for name in re.findall(r"'([^']+)'", staff.group(1))}
    return urls


def _loaded_modules() -> set[str]:
    """Every module reachable by static or dynamic imports from the apps and the worker."""
    seen: set[Path] = set()
    todo = [PWA / entry for entry in ENTRY_POINTS]
    while todo:
        path = todo.pop().resolve()
        if path in seen:
            continue
        seen.add(path)
        for target in IMPORT.findall(path.read_text(encoding="utf-8")):
            todo.append(path.parent / target)
    return {"/" + p.relative_to(PWA).as_posix() for p in seen if p.name != "sw.js"}


def test_every_module_the_apps_load_is_precached() -> None:
    missing = _loaded_modules() - _precached()
    assert not missing, f"add to SHELL in pwa/sw.js (and bump VERSION): {sorted(missing)}"


def test_every_precached_app_file_exists() -> None:
    absent = {url for url in _precached() if url.startswith("/app/")
              and not (PWA / url.lstrip("/")).is_file()}
    assert not absent, f"listed in SHELL but not in pwa/: {sorted(absent)}"


def test_the_report_form_modules_are_reached_and_precached() -> None:
    # Guards the test itself: if the import scan stopped following imports, the first test
    # would pass vacuously.
    parts = {"/app/report.js", "/app/reportlocation.js", "/app/nearby.js", "/app/reportphotos.js",
             "/app/formerrors.js", "/app/assetpicker.js"}
    assert parts <= _loaded_modules()
    assert parts <= _precached()
