"""The Quickcheck as HTML forms: what the form shows, what a plain form post stores and
shows, the German messages, the embeds, and which site offers which questionnaire."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from core.db.engine import engine_from_url, use_engine
from core.quickcheck import store
from core.settings import Settings
from tests.conftest import make_settings, run, sync
from tests.web_support import (
    Client,
    Node,
    app_client,
    csp_directives,
    page_of,
    sqlite_settings,
    write_site,
)

SITE = "partner"
ORIGIN = "https://partner.example"
UNKNOWN = "keine-angabe"

# A complete set of answers to the probe questionnaire as form fields, and what the
# server must make of them.
COMPLETE: dict[str, list[str]] = {
    "perspective": ["mitarbeitende"],
    "version": ["1"],
    "a.geraete": ["voll"],
    "a.chaos": ["nicht"],
    "a.wlan": ["ja"],
    "a.werkzeuge": ["chat", "cloud"],
    "a.programm": ["ja"],
    "a.programm-erfahrung": ["gut"],
    "a.offenheit": ["teils"],
    "a.stunden": ["2,5"],
    "r.hindernisse.zeit": ["1"],
    "r.hindernisse.technik": [""],
    "r.hindernisse.scheu": ["2"],
    "a.anmerkung": ["Mehr <b>Zeit</b> wäre gut."],
}
STORED = {
    "geraete": "voll",
    "chaos": "nicht",
    "wlan": "ja",
    "werkzeuge": ["chat", "cloud"],
    "programm": "ja",
    "programm-erfahrung": "gut",
    "offenheit": "teils",
    "stunden": 2.5,
    "hindernisse": ["zeit", "scheu"],
    "anmerkung": "Mehr <b>Zeit</b> wäre gut.",
}


def write_sites(content_dir: Path) -> None:
    write_site(content_dir, SITE, f"label: Partner\norigins: [{ORIGIN}]\nquestionnaires: [probe]\n")
    write_site(content_dir, "standard", "label: Standard\n")


@pytest.fixture
def settings(tmp_path: Path, content_dir: Path) -> Settings:
    """SQLite, for what does not depend on the database engine."""
    write_sites(content_dir)
    return sqlite_settings(tmp_path, content_dir)


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    sync(settings)
    with app_client(settings) as c:
        yield c


@pytest.fixture
def store_settings(database_url: str, content_dir: Path) -> Settings:
    """SQLite and PostgreSQL, for what is stored."""
    write_sites(content_dir)
    settings = make_settings(database_url, content_dir)
    sync(settings)
    return settings


@contextmanager
def stored_after(settings: Settings, questionnaire_id: str) -> Iterator[list[Any]]:
    """The responses stored while the block ran, read after the app has stopped."""
    rows: list[Any] = []
    yield rows
    use_engine(engine_from_url(settings.database_url))
    rows.extend(run(store.responses(questionnaire_id, include_test=True)))


def definition(client: Client, questionnaire_id: str, perspective: str) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/questionnaires/{questionnaire_id}", params={"perspective": perspective}
    )
    assert response.status_code == 200
    data: dict[str, Any] = response.json()["data"]
    return data


def german(score: float) -> str:
    return f"{score:.1f}".rstrip("0").rstrip(".").replace(".", ",")


def errors_of(page: Node) -> dict[str, str]:
    """The error summary: question id -> the message shown there."""
    summary = page.find("div", "notice")
    return {
        li.find("a").attrs["href"].removeprefix("#frage-"): li.text()
        for li in summary.find_all("li")
    }


def checked(page: Node, item: str) -> list[str]:
    return [
        el.attrs["value"]
        for el in page.find_all("input", name=f"a.{item}")
        if "checked" in el.attrs
    ]


def selected_rank(page: Node, item: str, code: str) -> str:
    select = page.find("select", name=f"r.{item}.{code}")
    chosen = [o.attrs["value"] for o in select.find_all("option") if "selected" in o.attrs]
    return chosen[0] if chosen else ""


# -- the form ---------------------------------------------------------------------------------


def assert_form_matches_definition(client: Client, path: str, api: dict[str, Any]) -> Node:
    page = page_of(client.get(path))
    form = page.find("form", "quickcheck")
    assert form.find("input", name="perspective").attrs["value"] == api["perspective"]
    assert form.find("input", name="version").attrs["value"] == str(api["version"])
    questions = form.find_all("div", class_="question")
    assert [q.attrs["data-item"] for q in questions] == [i["id"] for i in api["items"]]
    for item, question in zip(api["items"], questions, strict=True):
        heading = question.find("legend" if question.find_all("fieldset") else "label")
        assert heading.text().startswith(item["text"]), item["id"]
        # Optional questions are marked; required ones carry no mark of their own.
        assert ("(freiwillig)" in heading.text()) != item["required"], item["id"]
        assert "Pflichtfrage" not in heading.text()
        if "visible_if" in item:
            assert json.loads(question.attrs["data-visible-if"]) == item["visible_if"]
        if item["type"] == "ranking":
            codes = [o["code"] for o in item["options"] if o["code"] != UNKNOWN]
            selects = question.find_all("select")
            assert [s.attrs["name"] for s in selects] == [f"r.{item['id']}.{c}" for c in codes]
        elif "options" in item:
            inputs = question.find_all("input")
            assert [i.attrs["value"] for i in inputs] == [o["code"] for o in item["options"]]
            kind = "checkbox" if item["type"] == "multiple_choice" else "radio"
            assert {i.attrs["type"] for i in inputs} == {kind}
            labels = [question.find("label", for_=i.attrs["id"]).text() for i in inputs]
            assert labels == [o["label"] for o in item["options"]]
        elif item["type"] == "number":
            assert question.find("input", name=f"a.{item['id']}").attrs["inputmode"] == "decimal"
        else:
            assert question.find_all("textarea", name=f"a.{item['id']}")
    return page


def test_form_shows_every_item_of_the_perspective(client: Client) -> None:
    for perspective in ("mitarbeitende", "unternehmen"):
        api = definition(client, "probe", perspective)
        page = assert_form_matches_definition(
            client, f"/quickcheck/probe?perspective={perspective}", api
        )
        # "keine Angabe" is offered exactly where the questionnaire allows it.
        for item in api["items"]:
            offered = bool(page.find_all("input", id=f"a-{item['id']}-{UNKNOWN}"))
            assert offered == (UNKNOWN in [o["code"] for o in item.get("options", [])])
        assert page.find_all("input", id=f"a-geraete-{UNKNOWN}")
        assert not page.find_all("input", id=f"a-wlan-{UNKNOWN}")
    staff = page_of(client.get("/quickcheck/probe?perspective=mitarbeitende"))
    assert not staff.find_all("div", data_item="nur-unternehmen")
    company = page_of(client.get("/quickcheck/probe?perspective=unternehmen"))
    assert (
        company.find("div", data_item="geraete")
        .find("legend")
        .text()
        .startswith("Wir stellen passende Geräte bereit.")
    )


def test_shipped_quickcheck_forms_match_their_definitions(shipped_client: Client) -> None:
    listed = shipped_client.get("/api/v1/questionnaires").json()["data"]
    assert listed
    page = page_of(shipped_client.get("/quickcheck"))
    # The Quickcheck (where a consultation starts) first, the feedback after a run last.
    order = {"assessment": 0, "profile": 1, "feedback": 2}
    listed.sort(key=lambda q: order[q["purpose"]])
    assert [h.text() for h in page.find_all("h2")] == [q["title"] for q in listed]
    assert listed[0]["purpose"] == "assessment"
    for questionnaire in listed:
        for perspective in questionnaire["perspectives"]:
            api = definition(shipped_client, questionnaire["id"], perspective["id"])
            path = f"/quickcheck/{questionnaire['id']}?perspective={perspective['id']}"
            assert_form_matches_definition(shipped_client, path, api)


def test_without_a_perspective_the_form_asks_for_one(client: Client) -> None:
    page = page_of(client.get("/quickcheck/probe"))
    assert page.find_all("form", class_="quickcheck") == []
    links = page.find("p", "perspective-links").find_all("a")
    assert [a.attrs["href"] for a in links] == [
        "/quickcheck/probe?perspective=mitarbeitende",
        "/quickcheck/probe?perspective=unternehmen",
    ]
    unknown = page_of(client.get("/quickcheck/probe?perspective=chef"))
    assert unknown.find_all("form", class_="quickcheck") == []
    page = page_of(client.post("/quickcheck/probe", data={"a.geraete": "voll"}), 422)
    assert "Bitte wählen Sie zuerst, aus welcher Sicht Sie antworten." in page.find("main").text()


# -- submitting ---------------------------------------------------------------------------------


def test_missing_answers_are_listed_in_german_and_what_was_entered_stays(
    client: Client, settings: Settings
) -> None:
    entered = {
        "perspective": ["mitarbeitende"],
        "version": ["1"],
        "a.geraete": ["eher"],
        "a.werkzeuge": ["chat", "fax"],
        "a.programm": ["ja"],
        "a.stunden": ["3,5"],
        "r.hindernisse.scheu": ["2"],
        "a.anmerkung": ["Notiz <i>kursiv</i>"],
    }
    with stored_after(settings, "probe") as rows:
        response = client.post("/quickcheck/probe", data=entered)
        page = page_of(response, 422)
        assert response.headers["cache-control"] == "no-store"
        api = definition(client, "probe", "mitarbeitende")
        answered = {k.split(".")[1] for k in entered if k.startswith(("a.", "r."))}
        required = [i for i in api["items"] if i["required"] and i["id"] not in answered]
        errors = errors_of(page)
        assert list(errors) == [i["id"] for i in required]
        for item in required:
            assert errors[item["id"]].endswith("Bitte beantworten Sie diese Frage."), errors
            question = page.find("div", data_item=item["id"])
            assert "has-error" in question.attrs["class"]
            assert question.find("p", "field-error").text() == "Bitte beantworten Sie diese Frage."
        # What was entered is still there.
        assert checked(page, "geraete") == ["eher"]
        assert checked(page, "werkzeuge") == ["chat", "fax"]
        assert checked(page, "programm") == ["ja"]
        assert checked(page, "chaos") == []
        assert page.find("input", name="a.stunden").attrs["value"] == "3,5"
        assert page.find("textarea", name="a.anmerkung").text() == "Notiz <i>kursiv</i>"
        assert selected_rank(page, "hindernisse", "scheu") == "2"
        assert selected_rank(page, "hindernisse", "zeit") == ""
        assert "<i>kursiv</i>" not in response.text
    assert rows == []


# Form fields changed from COMPLETE, the question, and what the visitor reads there.
MISFITS: list[tuple[dict[str, list[str]], str, str]] = [
    ({"r.hindernisse.scheu": ["1"]}, "hindernisse", "Jeder Rang darf nur einmal vorkommen."),
    ({"r.hindernisse.scheu": ["eins"]}, "hindernisse", "Bitte nur Zahlen als Rang eintragen."),
    ({"a.stunden": ["viel"]}, "stunden", "Bitte eine Zahl eintragen, zum Beispiel 4 oder 2,5."),
    ({"a.stunden": ["10,5"]}, "stunden", "Bitte höchstens 10 eintragen."),
    ({"a.stunden": ["-1"]}, "stunden", "Bitte mindestens 0 eintragen."),
    ({"a.werkzeuge": ["chat", UNKNOWN]}, "werkzeuge", "„Keine Angabe“ lässt sich nicht"),
    ({"a.anmerkung": ["x" * 201]}, "anmerkung", "Bitte höchstens 200 Zeichen (jetzt 201)."),
    (
        {
            "r.hindernisse.zeit": ["1"],
            "r.hindernisse.technik": ["2"],
            "r.hindernisse.scheu": ["3"],
            "r.hindernisse.ziele": ["4"],
        },
        "hindernisse",
        "Bitte 1 bis 3 Antworten wählen.",
    ),
]


def test_answers_that_do_not_fit_get_a_german_message(client: Client) -> None:
    for changes, item, message in MISFITS:
        page = page_of(client.post("/quickcheck/probe", data={**COMPLETE, **changes}), 422)
        errors = errors_of(page)
        assert list(errors) == [item], changes
        assert message in errors[item], changes
        question = page.find("div", data_item=item)
        assert message in question.find("p", "field-error").text(), changes
        # The rest of the answers are kept.
        assert checked(page, "geraete") == ["voll"]
        for key, values in changes.items():
            if key.startswith("r."):
                _, ranked, code = key.split(".")
                assert selected_rank(page, ranked, code) == (
                    values[0] if values[0].isdigit() else ""
                )


def test_a_wrong_rank_and_missing_answers_are_listed_together(client: Client) -> None:
    fields = {k: v for k, v in COMPLETE.items() if k not in {"a.chaos", "a.offenheit"}}
    page = page_of(
        client.post("/quickcheck/probe", data={**fields, "r.hindernisse.scheu": ["1"]}), 422
    )
    # In the order of the form.
    assert list(errors_of(page)) == ["chaos", "offenheit", "hindernisse"]


def assert_result_page_matches_api(client: Client, page: Node, token: str, base: str) -> None:
    api = client.get(f"/api/v1/results/{token}").json()["data"]
    # At a glance: every area's Ampel, and the overall band.
    overview = page.find("section", "result-overview")
    tiles = overview.find("ul", "ampel-overview").find_all("li")
    assert [t.find("span", "overview-title").text() for t in tiles] == [
        d["title"] for d in api["dimensions"]
    ]
    for tile, part in zip(tiles, api["dimensions"], strict=True):
        assert f"ampel-box-{part['ampel']}" in tile.attrs["class"]
        assert part["ampel_label"] in tile.text()
    if api["overall"]:
        assert api["overall"]["band_title"] in overview.text()
    # The next steps the API chose, in its order: one to three, none twice.
    steps = page.find("section", "next-steps").find("ol").find_all("li")
    expected_steps = [f"{base}/entries/{s['slug']}" for s in api["next_steps"]]
    assert [s.find("h3").find("a").attrs["href"] for s in steps] == expected_steps
    assert 1 <= len(steps) <= 3
    assert len(set(expected_steps)) == len(expected_steps)
    # Each area in detail, its score in words (no "32,4 von 100", no "Fragen gezählt").
    sections = page.find_all("section", class_="result-card")
    assert len(sections) == len(api["dimensions"])
    for section, part in zip(sections, api["dimensions"], strict=True):
        assert section.find("h3").text() == f"{part['title']}: {part['ampel_label']}"
        assert f"ampel-box-{part['ampel']}" in section.attrs["class"]
        assert part["in_words"] in section.text()
        assert part["basis"] in section.text()
        allowed = {f"{base}/entries/{r['slug']}" for r in part["recommendations"]}
        assert {a.attrs["href"] for a in section.find_all("a")} <= allowed
    text = page.text()
    assert "von 100" not in text
    assert "gezählt" not in text
    # Every method link on the page is a different entry, and each opens.
    entry_links = [
        a.attrs["href"] for a in page.find_all("a") if "/entries/" in a.attrs.get("href", "")
    ]
    assert len(entry_links) == len(set(entry_links))
    for href in entry_links:
        assert client.get(href).status_code == 200
    # The address to keep, also as a QR code for the printout.
    address = page.find("a", "result-url").attrs["href"]
    assert address.endswith(f"{base}/results/{token}")
    assert page.find("div", "result-qr").find("svg", "qr-code")


def test_a_complete_form_post_stores_once_and_shows_the_result(store_settings: Settings) -> None:
    with stored_after(store_settings, "probe") as rows, app_client(store_settings) as client:
        response = client.post("/quickcheck/probe", data=COMPLETE, follow_redirects=False)
        assert response.status_code == 303
        location = response.headers["location"]
        assert location.startswith("/results/")
        token = location.removeprefix("/results/")
        result = client.get(location)
        page = page_of(result)
        assert result.headers["cache-control"] == "no-store"
        assert result.headers["referrer-policy"] == "no-referrer"
        assert csp_directives(result)["frame-ancestors"] == ["'none'"]
        assert_result_page_matches_api(client, page, token, "")
        assert client.get("/api/v1/results/" + token).json()["data"]["answers"] == STORED
    assert len(rows) == 1
    assert rows[0]["answers"] == STORED
    assert (rows[0]["mode"], rows[0]["perspective"]) == ("real", "mitarbeitende")


def test_a_trial_run_is_stored_as_test_and_says_so(store_settings: Settings) -> None:
    """A Lotse demonstrating the Quickcheck (?probelauf=1) must not add to the statistics."""
    with stored_after(store_settings, "probe") as rows, app_client(store_settings) as client:
        listing = page_of(client.get("/quickcheck"))
        assert "/quickcheck/probe?probelauf=1" in listing.links()
        chooser = page_of(client.get("/quickcheck/probe?probelauf=1"))
        assert "Probelauf" in chooser.text()
        assert "/quickcheck/probe?perspective=mitarbeitende&probelauf=1" in chooser.links()
        form = page_of(client.get("/quickcheck/probe?perspective=mitarbeitende&probelauf=1"))
        assert [i.attrs["value"] for i in form.find_all("input", name="mode")] == ["test"]
        response = client.post(
            "/quickcheck/probe", data={**COMPLETE, "mode": ["test"]}, follow_redirects=False
        )
        assert response.status_code == 303
        result = page_of(client.get(response.headers["location"]))
        assert "Dieses Ergebnis zählt nicht in der Auswertung" in result.text()
        # Without the trial flag, the form has no mode field: a real run.
        plain = page_of(client.get("/quickcheck/probe?perspective=mitarbeitende"))
        assert plain.find_all("input", name="mode") == []
    (row,) = rows
    assert row["mode"] == "test"


def test_an_answer_to_a_hidden_question_is_dropped(store_settings: Settings) -> None:
    # programm = nein hides programm-erfahrung; stunden >= 5 (and no programm) hides the
    # ranking. A browser without JavaScript still sends what was ticked.
    fields = {**COMPLETE, "a.programm": ["nein"], "a.stunden": ["7"]}
    with stored_after(store_settings, "probe") as rows, app_client(store_settings) as client:
        response = client.post("/quickcheck/probe", data=fields, follow_redirects=False)
        assert response.status_code == 303, response.text[:3000]
    (row,) = rows
    assert "programm-erfahrung" not in row["answers"]
    assert "hindernisse" not in row["answers"]
    assert row["answers"]["stunden"] == 7
    assert row["answers"]["programm"] == "nein"


def test_the_embedded_quickcheck_stays_in_the_embed(store_settings: Settings) -> None:
    base = f"/embed/{SITE}"
    with stored_after(store_settings, "probe") as rows, app_client(store_settings) as client:
        form = page_of(client.get(f"{base}/quickcheck/probe?perspective=mitarbeitende"))
        assert form.find("form", "quickcheck").attrs["action"] == f"{base}/quickcheck/probe"
        invalid = client.post(f"{base}/quickcheck/probe", data={**COMPLETE, "a.wlan": [""]})
        assert list(errors_of(page_of(invalid, 422))) == ["wlan"]
        assert csp_directives(invalid)["frame-ancestors"] == ["'self'", ORIGIN]
        response = client.post(f"{base}/quickcheck/probe", data=COMPLETE, follow_redirects=False)
        assert response.status_code == 303
        location = response.headers["location"]
        assert location.startswith(f"{base}/results/")
        result = client.get(location)
        assert csp_directives(result)["frame-ancestors"] == ["'self'", ORIGIN]
        assert "x-frame-options" not in result.headers
        page = page_of(result)
        assert_result_page_matches_api(client, page, location.rsplit("/", 1)[1], base)
    assert len(rows) == 1


def test_a_site_offers_only_its_questionnaires(client: Client, settings: Settings) -> None:
    with stored_after(settings, "probe-profil") as rows:
        # The partner names probe; the standard site offers every assessment (probe).
        for site in (SITE, "standard"):
            listing = page_of(client.get(f"/embed/{site}/quickcheck"))
            assert [h.text() for h in listing.find_all("h2")] == ["Probe-Check"]
            assert client.get(f"/embed/{site}/quickcheck/probe").status_code == 200
            for path in (f"/embed/{site}/quickcheck/probe-profil", f"/embed/{site}/quickcheck/x"):
                page = page_of(client.get(f"{path}?perspective=mentor"), 404)
                assert "Es gibt keinen Fragebogen" in page.find("main").text()
            posted = client.post(
                f"/embed/{site}/quickcheck/probe-profil",
                data={"perspective": "mentor", "a.themen": "video", "a.treffen": "digital"},
                follow_redirects=False,
            )
            page_of(posted, 404)
        # The workspace offers everything published.
        workspace = page_of(client.get("/quickcheck"))
        assert [h.text() for h in workspace.find_all("h2")] == ["Probe-Check", "Probe-Profil"]
        assert client.get("/quickcheck/probe-profil?perspective=mentor").status_code == 200
    assert rows == []


def test_shipped_sites_offer_the_questionnaires_they_name(shipped_client: Client) -> None:
    listed = {q["id"]: q for q in shipped_client.get("/api/v1/questionnaires").json()["data"]}
    musterverband = page_of(shipped_client.get("/embed/musterverband/quickcheck"))
    assert [h.text() for h in musterverband.find_all("h2")] == [
        listed["quickcheck-reverse-mentoring"]["title"]
    ]
    werkzeugkasten = page_of(shipped_client.get("/embed/werkzeugkasten/quickcheck"))
    assessments = [q["title"] for q in listed.values() if q["purpose"] == "assessment"]
    assert [h.text() for h in werkzeugkasten.find_all("h2")] == assessments
    assert shipped_client.get("/embed/musterverband/quickcheck/tandem-profil").status_code == 404


def fill(item: dict[str, Any]) -> dict[str, list[str]]:
    """Form fields that answer ``item`` the way a visitor would, from its definition."""
    key = f"a.{item['id']}"
    codes = [o["code"] for o in item.get("options", []) if o["code"] != UNKNOWN]
    if item["type"] == "ranking":
        count = min(len(codes), item.get("max_choices") or len(codes))
        return {f"r.{item['id']}.{c}": [str(n)] for n, c in enumerate(codes[:count], 1)}
    if item["type"] == "multiple_choice":
        return {key: codes[: max(1, item.get("min_choices") or 1)]}
    if item["type"] == "number":
        low = item.get("min") or 0
        return {key: [german(low + 0.5)]}
    if item["type"] == "text":
        return {key: ["Antwort"]}
    return {key: [codes[0]]}


def test_shipped_quickcheck_answered_through_the_form(shipped_client: Client) -> None:
    qid = "quickcheck-reverse-mentoring"
    perspectives = definition(shipped_client, qid, "unternehmen")["perspectives"]
    for perspective in (p["id"] for p in perspectives):
        api = definition(shipped_client, qid, perspective)
        fields: dict[str, list[str]] = {
            "perspective": [perspective],
            "version": [str(api["version"])],
        }
        for item in api["items"]:
            fields.update(fill(item))
        response = shipped_client.post(f"/quickcheck/{qid}", data=fields, follow_redirects=False)
        assert response.status_code == 303, response.text[:3000]
        token = response.headers["location"].rsplit("/", 1)[1]
        stored = shipped_client.get(f"/api/v1/results/{token}").json()["data"]
        assert stored["perspective"]["id"] == perspective
        numbers = [i for i in api["items"] if i["type"] == "number"]
        for item in numbers:
            assert stored["answers"][item["id"]] == (item.get("min") or 0) + 0.5
        page = page_of(shipped_client.get(response.headers["location"]))
        assert_result_page_matches_api(shipped_client, page, token, "")


def test_an_unknown_result_is_a_404_page(client: Client) -> None:
    for path in (
        "/results/gibtsnicht",
        f"/embed/{SITE}/results/gibtsnicht",
        "/results/" + "x" * 300,
    ):
        page = page_of(client.get(path), 404)
        assert "Zu diesem Link gibt es kein Ergebnis." in page.find("main").text()


# -- where a form post may come from --------------------------------------------------------

OWN = "http://testserver.local"  # the test client's base URL: the app's own origin


def test_a_form_post_from_another_origin_is_refused_and_stores_nothing(
    store_settings: Settings,
) -> None:
    refused = [
        ("/quickcheck/probe", {"Origin": "https://evil.example"}),
        ("/quickcheck/probe", {"Origin": "null"}),  # sandboxed or opaque pages
        ("/quickcheck/probe", {"Origin": ORIGIN}),  # a site's origin, but not for the workspace
        ("/quickcheck/probe", {"Referer": "https://evil.example/seite"}),  # no Origin: Referer
        (f"/embed/{SITE}/quickcheck/probe", {"Origin": "https://evil.example"}),
        (f"/embed/{SITE}/quickcheck/probe", {"Origin": f"{OWN}:8080"}),
        ("/embed/standard/quickcheck/probe", {"Origin": ORIGIN}),  # the other site's origin
        ("/quickcheck/probe", {"Origin": "http://[testserver.local"}),  # unreadable
        ("/quickcheck/probe", {"Origin": "http://testserver.local:x"}),
        ("/quickcheck/probe", {"Origin": "https://testserver.local"}),  # another scheme
    ]
    with stored_after(store_settings, "probe") as rows, app_client(store_settings) as client:
        for path, headers in refused:
            response = client.post(path, data=COMPLETE, headers=headers, follow_redirects=False)
            page = page_of(response, 403)
            assert page.find("h1").text() == "Nicht erlaubt", (path, headers)
            assert "nur auf den Seiten des Werkzeugkastens" in page.find("main").text()
    assert rows == []


def test_a_form_post_from_the_app_or_the_sites_origin_is_taken(store_settings: Settings) -> None:
    taken = [
        ("/quickcheck/probe", {"Origin": OWN}),
        ("/quickcheck/probe", {"Referer": f"{OWN}/quickcheck/probe?perspective=mitarbeitende"}),
        (f"/embed/{SITE}/quickcheck/probe", {"Origin": OWN}),
        (f"/embed/{SITE}/quickcheck/probe", {"Origin": ORIGIN}),
        (f"/embed/{SITE}/quickcheck/probe", {"Origin": f"{ORIGIN}:443"}),  # the same origin
        ("/quickcheck/probe", {"Origin": f"{OWN}:80"}),
        # Neither header: not a current browser but a program, which could use the JSON API.
        ("/quickcheck/probe", {}),
    ]
    with stored_after(store_settings, "probe") as rows, app_client(store_settings) as client:
        for path, headers in taken:
            response = client.post(path, data=COMPLETE, headers=headers, follow_redirects=False)
            assert response.status_code == 303, (path, headers, response.text[:500])
    assert len(rows) == len(taken)
