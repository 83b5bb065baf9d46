"""The service worker's shell precache lists every module the citizen app loads, only files
that exist, and nothing of the staff app.

A module missing from `SHELL` in pwa/sw.js loads online but breaks the installed citizen app
offline (its import fails), which no online test notices. The staff app is not precached (a
citizen's first visit would pay for it): it is kept on first use and when someone logs in
(tests/pwa/test_first_visit.py and the offline crew tests in test_staff_app.py). No browser
needed here: the imports are read from the sources.
"""

from __future__ import annotations

import re
from pathlib import Path

PWA = Path(__file__).resolve().parents[2] / "pwa"
IMPORT = re.compile(r"""(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}/[^'"]+\.js)['"]""")


def _precached() -> set[str]:
    """The URLs of the SHELL list in sw.js."""
    source = (PWA / "sw.js").read_text(encoding="utf-8")
    shell = source[source.index("const SHELL = ["):]
    shell = shell[:shell.index("\n];")]
    assert "..." not in shell and "${" not in shell, "SHELL changed shape; update this test"
    return set(re.findall(r"'(/[^']*)'", shell))


def _loaded_modules(*entry_points: str) -> set[str]:
    """Every module reachable by static or dynamic imports from the entry points."""
    seen: set[Path] = set()
    todo = [PWA / entry for entry in entry_points]
    while todo:
        path = todo.pop().resolve()
        if path in seen:
            continue
        seen.add(path)
        for target in IMPORT.findall(path.read_text(encoding="utf-8")):
            todo.append(path.parent / target)
    return {"/" + p.relative_to(PWA).as_posix() for p in seen if p.name != "sw.js"}


def test_every_module_the_citizen_app_loads_is_precached() -> None:
    missing = _loaded_modules("app/main.js") - _precached()
    assert not missing, f"add to SHELL in pwa/sw.js (and bump VERSION): {sorted(missing)}"


def test_the_staff_app_other_languages_and_the_heat_plugin_are_not_precached() -> None:
    precached = _precached()
    staff = {url for url in precached if url.startswith(("/app/staff", "/app/i18n/"))
             or url in ("/login", "/vendor/heat/leaflet-heat.js")}
    staff.discard("/app/i18n/languages.json")  # the list of languages (0.6 KB), not their texts
    assert not staff, f"a citizen's first visit would download these: {sorted(staff)}"
    staff_only = _loaded_modules("app/staff/main.js") - _loaded_modules("app/main.js")
    assert staff_only and not staff_only & precached


def test_every_precached_app_file_exists() -> None:
    absent = {url for url in _precached() if url.startswith("/app/")
              and not (PWA / url.lstrip("/")).is_file()}
    assert not absent, f"listed in SHELL but not in pwa/: {sorted(absent)}"


def test_the_report_form_modules_are_reached_and_precached() -> None:
    # Guards the test itself: if the import scan stopped following imports, the first test
    # would pass vacuously.
    parts = {"/app/report.js", "/app/reportlocation.js", "/app/nearby.js", "/app/reportphotos.js",
             "/app/formerrors.js", "/app/assetpicker.js"}
    assert parts <= _loaded_modules("app/main.js")
    assert parts <= _precached()
