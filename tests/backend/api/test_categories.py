"""GET /api/v1/categories: the Munich demo catalogue of PRODUCT.md, in German and English."""

from __future__ import annotations

from typing import Any

from tests.backend.api.helpers import CATEGORIES_URL, check_table

# PRODUCT.md: group -> [(code, priority)]
CATALOGUE = {
    "ampel": [("ampel-ausfall", "urgent"), ("ampel-lampe", "high"), ("ampel-taster", "high"),
              ("ampel-schaltung", "normal")],
    "schild": [("schild-beschaedigt", "normal"), ("schild-verdreht", "high"),
               ("schild-fehlt", "high"), ("schild-unleserlich", "normal")],
    "sonstiges": [("sonstiges", "normal")],
}

GERMAN = {
    "groups": {"ampel": "Ampel", "schild": "Verkehrszeichen", "sonstiges": "Sonstiges"},
    "categories": {
        "ampel-ausfall": "Ampel ganz ausgefallen",
        "ampel-lampe": "Einzelnes Licht defekt",
        "ampel-taster": "Taster oder Blindensignal defekt",
        "ampel-schaltung": "Schaltung fehlerhaft",
        "schild-beschaedigt": "Verkehrszeichen beschädigt",
        "schild-verdreht": "Verkehrszeichen verdreht oder umgefallen",
        "schild-fehlt": "Verkehrszeichen fehlt",
        "schild-unleserlich": "Verkehrszeichen verschmutzt, zugewachsen oder unleserlich",
        "sonstiges": "Sonstiger Mangel an der Straße",
    },
}

ENGLISH = {
    "groups": {"ampel": "Traffic light", "schild": "Street sign", "sonstiges": "Other"},
    "categories": {
        "ampel-ausfall": "Traffic light completely out",
        "ampel-lampe": "Single light broken",
        "ampel-taster": "Push button or accessible signal broken",
        "ampel-schaltung": "Wrong signal timing",
        "schild-beschaedigt": "Street sign damaged",
        "schild-verdreht": "Street sign turned or knocked over",
        "schild-fehlt": "Street sign missing",
        "schild-unleserlich": "Street sign dirty, overgrown or illegible",
        "sonstiges": "Other defect on the street",
    },
}


def _categories(client: Any, accept_language: str | None = None) -> Any:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    response = client.get(CATEGORIES_URL, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response


def test_groups_come_in_configured_order(client: Any) -> None:
    body = _categories(client).get_json()
    assert [g["code"] for g in body["groups"]] == ["ampel", "schild", "sonstiges"]


def test_exactly_the_nine_categories_with_their_priorities_in_order(client: Any) -> None:
    body = _categories(client).get_json()

    listed = {g["code"]: [(c["code"], c["priority"]) for c in g["categories"]]
              for g in body["groups"]}
    assert listed == CATALOGUE
    codes = [c["code"] for g in body["groups"] for c in g["categories"]]
    assert len(codes) == len(set(codes)) == 9


def test_german_is_the_default(client: Any) -> None:
    response = _categories(client)
    body = response.get_json()

    assert body["locale"] == "de"
    assert response.headers["Content-Language"] == "de"
    assert {g["code"]: g["name"] for g in body["groups"]} == GERMAN["groups"]
    assert {c["code"]: c["name"] for g in body["groups"] for c in g["categories"]} \
        == GERMAN["categories"]
    assert body["groups"][0]["description"] == "Ampeln, Fußgängerampeln und ihre Taster"


def test_english_with_accept_language(client: Any) -> None:
    response = _categories(client, "en")
    body = response.get_json()

    assert body["locale"] == "en"
    assert response.headers["Content-Language"] == "en"
    assert {g["code"]: g["name"] for g in body["groups"]} == ENGLISH["groups"]
    assert {c["code"]: c["name"] for g in body["groups"] for c in g["categories"]} \
        == ENGLISH["categories"]
    ausfall = body["groups"][0]["categories"][0]
    assert ausfall["description"] == "The traffic light shows no light at all."


LANGUAGES = [
    # (Accept-Language, the locale served)
    ("en-US", "en"), ("en-GB,en;q=0.9,de;q=0.5", "en"), ("de;q=0.3, en;q=0.9", "en"),
    ("de", "de"), ("de-AT", "de"), ("fr", "de"), ("fr,it;q=0.5", "de"), ("*", "de"),
]


def test_language_negotiation_falls_back_to_german(client: Any) -> None:
    def check(accept_language: str, locale: str) -> None:
        response = _categories(client, accept_language)
        assert response.get_json()["locale"] == locale
        assert response.headers["Content-Language"] == locale

    check_table([(al, al, loc) for al, loc in LANGUAGES], check)


def test_response_varies_on_accept_language(client: Any) -> None:
    for accept_language in (None, "en"):
        response = _categories(client, accept_language)
        vary = [v.strip().lower() for v in response.headers.get("Vary", "").split(",")]
        assert "accept-language" in vary, accept_language


def test_every_entry_has_text_and_icons_of_the_configuration(client: Any) -> None:
    body = _categories(client).get_json()

    assert {g["code"]: g["icon"] for g in body["groups"]} == {
        "ampel": "traffic-light", "schild": "sign", "sonstiges": "other"}
    for group in body["groups"]:
        assert set(group) == {"code", "name", "description", "icon", "categories"}
        assert group["description"]
        for category in group["categories"]:
            assert set(category) == {"code", "name", "description", "priority", "icon"}
            assert category["name"] and category["description"]
            assert category["code"].startswith(group["code"])


def test_departments_are_listed_by_code_in_the_asked_language(client) -> None:  # noqa: ANN001
    german = client.get("/api/v1/departments").get_json()["departments"]
    english = client.get("/api/v1/departments", headers={"Accept-Language": "en"}
                         ).get_json()["departments"]
    assert [d["code"] for d in german] == sorted(d["code"] for d in german)
    assert len(german) == 7
    names = {d["code"]: d["name"] for d in english}
    assert names["anliegenmanagement"] == "Central triage"
