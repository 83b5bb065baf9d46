"""Which language a reporter is written to: the app's language list (languages.json) and the
browser's preferred tags. Pure: no Flask."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

# Report.reporter_locale and Recipient.locale hold at most this many characters.
MAX_TAG_LENGTH = 8


@lru_cache(maxsize=4)
def app_languages(pwa_root: str) -> tuple[str, ...]:
    """The language codes the citizen app offers (`app/i18n/languages.json`); () without it."""
    try:
        path = Path(pwa_root) / "app" / "i18n" / "languages.json"
        entries = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return ()
    return tuple(str(e["code"]) for e in entries if isinstance(e, dict) and e.get("code"))


def best_language(tags: Iterable[str], codes: Iterable[str]) -> str | None:
    """The first tag's match among `codes`: the tag itself (`de-x-ls`), else its primary
    language (`tr-TR` → `tr`, `ar-EG` → `ar`); None when no tag matches."""
    known = {c.lower(): c for c in codes if len(c) <= MAX_TAG_LENGTH}
    for tag in tags:
        wanted = tag.replace("_", "-").lower()
        for candidate in (wanted, wanted.split("-", 1)[0]):
            if candidate in known:
                return known[candidate]
    return None
