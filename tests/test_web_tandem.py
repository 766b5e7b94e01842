"""The tandem fit check page (/tandem-check): two result links of the shipped tandem
profile in, the fit explained per criterion out, without JavaScript; German messages for
missing, mistyped, unknown and unsuitable links, with the typed values kept."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from litestar.testing import TestClient

Client = TestClient[Any]

BASE = {
    "themen": ["videokonferenzen", "cloud-ablage"],
    "zeitfenster": "vormittags",
    "treffen-form": "vor-ort",
    "ausprobieren": "voll",
    "fehler-lernchance": "voll",
    "termine-verlaesslich": "eher",
    "direkte-rueckmeldung": "eher",
    "fester-plan": "kaum",
    "berichtslinie": "nein",
}


def profile(client: Client, perspective: str, **answers: Any) -> str:
    response = client.post(
        "/api/v1/questionnaires/tandem-profil/responses",
        json={"version": 1, "perspective": perspective, "answers": {**BASE, **answers}},
    )
    assert response.status_code == 201, response.text
    token: str = response.json()["data"]["token"]
    return token


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_two_result_links_give_the_explained_fit(shipped_client: Client) -> None:
    mentor = profile(shipped_client, "mentor", themen=["videokonferenzen", "teamchat"])
    mentee = profile(shipped_client, "mentee", zeitfenster="flexibel")
    # The mentor's full result link as copied from the address bar, the mentee's bare token.
    link = f"http://127.0.0.1:8000/results/{mentor}?x=1"
    page = shipped_client.get("/tandem-check", params={"mentor": link, "mentee": mentee})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    text = text_of(page.text)
    assert "Was passt, was nicht" in text
    # Themes: the mentee wants 2, the mentor shows 1 of them.
    assert "Themen (50 von 100): Themen passen teilweise: Videokonferenzen." in text
    assert "Zeitfenster vereinbar: vormittags geht für beide" in text
    api = shipped_client.post("/api/v1/tandem-checks", json={"mentor": mentor, "mentee": mentee})
    fit = api.json()["data"]
    # The page says what the API says, criterion by criterion.
    for criterion in fit["criteria"]:
        assert criterion["explanation"] in text
    assert f"{fit['ampel_label']}" in text
    # The values stay in the form, so the Lotse can swap one link and check again.
    assert f'value="{link}"'.replace("&", "&amp;") in page.text
    assert "<script" not in page.text.split("<main", 1)[1].split("</main>", 1)[0]

    # A direct reporting line blocks the pair whatever the score.
    mentor = profile(shipped_client, "mentor")
    mentee = profile(shipped_client, "mentee", berichtslinie="ja")
    page = shipped_client.get("/tandem-check", params={"mentor": mentor, "mentee": mentee})
    text = text_of(page.text)
    assert page.status_code == 200
    assert "Passung: Rot" in text
    assert "Punkten Passung" not in text  # no score shown for a blocked pair
    assert "Vorgesetzten" in text


def test_wrong_links_are_explained_per_field_and_kept(shipped_client: Client) -> None:
    """Also: the empty form, the link from the list, and the embeds that offer it."""
    mentor = profile(shipped_client, "mentor")
    quickcheck_result = shipped_client.post(
        "/api/v1/tandem-checks", json={"mentor": mentor, "mentee": mentor}
    )
    assert quickcheck_result.status_code == 422
    cases = [
        ({"mentor": mentor, "mentee": ""}, "Bitte fügen Sie den Ergebnis-Link des Mentees ein."),
        ({"mentor": mentor, "mentee": "hallo"}, "Das ist kein Ergebnis-Link."),
        (
            {"mentor": mentor, "mentee": "https://example.org/irgendwas/abc"},
            "Das ist kein Ergebnis-Link.",
        ),
        ({"mentor": mentor, "mentee": "A" * 32}, "Zu diesem Link gibt es kein Ergebnis."),
        ({"mentor": mentor, "mentee": mentor}, "für die andere Rolle ausgefüllt"),
    ]
    for params, message in cases:
        page = shipped_client.get("/tandem-check", params=params)
        assert page.status_code == 400, params
        text = text_of(page.text)
        assert "Der Vergleich ist so nicht möglich." in text
        assert message in text, (params, text)
        assert 'aria-invalid="true"' in page.text
        assert f'value="{params["mentor"]}"' in page.text

    page = shipped_client.get("/tandem-check")
    assert page.status_code == 200
    assert 'name="mentor"' in page.text
    assert 'name="mentee"' in page.text
    assert "Der Vergleich ist so nicht möglich." not in page.text
    listing = shipped_client.get("/quickcheck")
    assert 'href="/tandem-check"' in listing.text

    # The shipped "werkzeugkasten" site names no questionnaires: it offers every one.
    page = shipped_client.get("/embed/werkzeugkasten/tandem-check")
    assert page.status_code == 200
    assert 'action="/embed/werkzeugkasten/tandem-check"' in page.text
    # "musterverband" offers only the Quickcheck, so no fit check either.
    refused = shipped_client.get("/embed/musterverband/tandem-check")
    assert refused.status_code == 404
    assert "bietet den Passungs-Check nicht an" in text_of(refused.text)
    assert shipped_client.get("/embed/gibt-es-nicht/tandem-check").status_code == 404


V2: dict[str, Any] = {
    "themen": ["videokonferenzen", "cloud-ablage"],
    "erfahrung": ["kundenkontakt", "ablaeufe"],
    "arbeitszeit": "tagsueber",
    "abwesenheit": "feste-tage",
    "abwesenheitstage": ["montag", "donnerstag"],
    "treffen-form": "vor-ort",
    "bereich": "verwaltung",
    "ausprobieren": "voll",
    "fehler-lernchance": "voll",
    "termine-verlaesslich": "eher",
    "direkte-rueckmeldung": "eher",
    "fester-plan": "kaum",
}


def profile_v2(client: Client, perspective: str, **answers: Any) -> str:
    given = {**V2, **answers}
    if given["abwesenheit"] != "feste-tage":
        del given["abwesenheitstage"]  # asked only for fixed days away
    response = client.post(
        "/api/v1/questionnaires/tandem-profil/responses",
        json={"version": 2, "perspective": perspective, "answers": given},
    )
    assert response.status_code == 201, response.text
    token: str = response.json()["data"]["token"]
    return token


def test_version_2_profiles_explain_shift_school_days_and_experience(
    shipped_client: Client,
) -> None:
    # An apprentice at school on Monday and Thursday; a mentee on late shifts who can pass
    # on how to deal with customers.
    mentor = profile_v2(shipped_client, "mentor")
    mentee = profile_v2(
        shipped_client,
        "mentee",
        arbeitszeit="spaetschicht",
        abwesenheit="nein",
        erfahrung=["kundenkontakt", "fachwissen"],
        bereich="produktion",
    )
    page = shipped_client.get("/tandem-check", params={"mentor": mentor, "mentee": mentee})
    assert page.status_code == 200, page.text
    text = text_of(page.text)
    assert (
        "Gemeinsame Zeit im Betrieb (50 von 100): Nur begrenzt gemeinsame Zeit im Betrieb: "
        "nachmittags (14 bis 17 Uhr); dienstags, mittwochs, freitags" in text
    )
    assert (
        "Erfahrung aus dem Betrieb (50 von 100): Der Mentee kann einen Teil dessen "
        "weitergeben, was die Mentorin oder der Mentor lernen möchte: Umgang mit Kundinnen "
        "und Kunden." in text
    )
    api = shipped_client.post("/api/v1/tandem-checks", json={"mentor": mentor, "mentee": mentee})
    fit = api.json()["data"]
    assert fit["version"] == 2
    for criterion in fit["criteria"]:
        assert criterion["explanation"] in text


def test_a_version_1_and_a_version_2_profile_are_refused_with_the_versions_named(
    shipped_client: Client,
) -> None:
    old = profile(shipped_client, "mentor")
    new = profile_v2(shipped_client, "mentee", abwesenheit="nein")
    page = shipped_client.get("/tandem-check", params={"mentor": old, "mentee": new})
    assert page.status_code == 400
    text = text_of(page.text)
    assert "Der Vergleich ist so nicht möglich." in text
    assert (
        "Die beiden Profile stammen aus verschiedenen Fassungen des Tandem-Profils "
        "(Mentorin/Mentor: Fassung 1, Mentee: Fassung 2)." in text
    )
    assert "das Tandem-Profil in Fassung 2 neu ausfüllen" in text
    assert 'aria-invalid="true"' in page.text
    # Both links stay in the form.
    assert f'value="{old}"' in page.text
    assert f'value="{new}"' in page.text


def form_profile(client: Client, perspective: str, **answers: str | list[str]) -> str:
    """The version 2 profile filled in through the form page, without JavaScript (every
    question shows; an answer to one that the earlier answers hide is dropped)."""
    fields: dict[str, list[str]] = {"perspective": [perspective], "version": ["2"]}
    for key, value in {**V2, **answers}.items():
        fields[f"a.{key}"] = value if isinstance(value, list) else [value]
    response = client.post("/quickcheck/tandem-profil", data=fields, follow_redirects=False)
    assert response.status_code == 303, response.text[:3000]
    return str(response.headers["location"])


def test_profiles_from_the_form_go_straight_into_the_fit_check(shipped_client: Client) -> None:
    form = shipped_client.get("/quickcheck/tandem-profil?perspective=mentee")
    text = text_of(form.text)
    assert "Um welche Erfahrung aus Beruf und Betrieb" not in text  # worded for the mentee
    assert "Was können Sie weitergeben?" in text
    assert "Spätschicht (etwa 14 bis 22 Uhr)" in text
    assert "An welchen Tagen sind Sie regelmäßig nicht im Betrieb?" in text
    mentor = form_profile(shipped_client, "mentor")
    # Ticks days away but says there are none: the days are dropped with the hidden question.
    mentee = form_profile(shipped_client, "mentee", arbeitszeit="fruehschicht", abwesenheit="nein")
    token = mentee.rsplit("/", 1)[1]
    stored = shipped_client.get(f"/api/v1/results/{token}").json()["data"]
    assert "abwesenheitstage" not in stored["answers"]
    page = shipped_client.get("/tandem-check", params={"mentor": mentor, "mentee": mentee})
    assert page.status_code == 200, page.text
    text = text_of(page.text)
    assert (
        "Beide sind zur selben Zeit im Betrieb: vormittags (8 bis 12 Uhr), mittags "
        "(12 bis 14 Uhr); dienstags, mittwochs, freitags." in text
    )
