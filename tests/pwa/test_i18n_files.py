"""The text files of every language in pwa/app/i18n/languages.json (issue 20.7): each has every
key of de.json, no key de.json lacks, only the {placeholders} of the German text, and for a
plural text the plural categories of its language (Intl.PluralRules, CLDR)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

I18N = Path(__file__).resolve().parents[2] / "pwa" / "app" / "i18n"
LANGUAGES = json.loads((I18N / "languages.json").read_text())
GERMAN: dict[str, Any] = json.loads((I18N / "de.json").read_text())
# CLDR plural categories for integers; `other` always.
PLURALS = {"de": {"one", "other"}, "en": {"one", "other"}, "de-x-ls": {"one", "other"},
           "tr": {"one", "other"}, "uk": {"one", "few", "many", "other"},
           "ar": {"zero", "one", "two", "few", "many", "other"}}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _placeholders(value: Any) -> set[str]:
    texts = value.values() if isinstance(value, dict) else [value]
    return {name for text in texts for name in PLACEHOLDER.findall(text)}


def test_languages_json_is_well_formed() -> None:
    codes = [lang["code"] for lang in LANGUAGES]
    assert codes[:2] == ["de", "en"] and len(set(codes)) == len(codes)
    for lang in LANGUAGES:
        assert set(lang) <= {"code", "name", "dir", "fallback", "machine_translated"}, lang
        assert lang["dir"] in ("ltr", "rtl") and lang["name"] and len(lang["code"]) <= 8
        assert (I18N / f"{lang['code']}.json").is_file()
        assert lang.get("fallback", "en") in codes


@pytest.mark.parametrize("code", [lang["code"] for lang in LANGUAGES if lang["code"] != "de"])
def test_every_language_has_every_key_with_the_same_placeholders(code: str) -> None:
    texts = json.loads((I18N / f"{code}.json").read_text())
    missing = sorted(set(GERMAN) - set(texts))
    assert not missing, f"{code}.json lacks (shown in its fallback language): {missing}"
    assert not sorted(set(texts) - set(GERMAN)), f"{code}.json has keys de.json lacks"
    for key, value in texts.items():
        assert isinstance(value, dict) == isinstance(GERMAN[key], dict), key
        assert _placeholders(value) <= _placeholders(GERMAN[key]), (code, key)
        if isinstance(value, dict):
            assert set(value) == PLURALS[code], (code, key, sorted(value))
