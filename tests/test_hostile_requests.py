"""Single requests that used to be 500s, on SQLite and PostgreSQL: NUL bytes in addresses
and parameters, numbers that are not ASCII digits or are absurdly long, bodies that are
not UTF-8, and single-valued parameters given twice. Each is a 400 (a problem document
in the API, a German page in the browser) and leaves no error in the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from tests.conftest import make_settings, sync
from tests.web_support import Client, app_client, page_of, write_site

SITE = "werkzeugkasten"
HTML = {"Accept": "text/html"}
# The HTML form is posted from the app's own pages (TestClient's base URL).
FORM = {"Origin": "http://testserver.local"}


@pytest.fixture
def settings(database_url: str, content_dir: Path) -> Settings:
    write_site(content_dir, SITE, "label: Werkzeugkasten\norigins: [https://partner.example]\n")
    settings = make_settings(database_url, content_dir)
    sync(settings)
    return settings


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    with app_client(settings) as c:
        yield c


def assert_problem(response: Any, name: str) -> None:
    assert response.status_code == 400, (response.status_code, response.text[:500])
    assert response.headers["content-type"] == "application/problem+json"
    assert [p["name"] for p in response.json()["invalid_params"]] == [name]


def assert_german_400(response: Any, named: str) -> None:
    text = page_of(response, 400).text()
    assert "Ungültige Anfrage" in text
    assert f"Betroffen: „{named}“" in text


def assert_no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


# The requests of issue 12 that were 500 CharacterNotInRepertoireError on PostgreSQL.
NUL_IN_PATH = [
    "/api/v1/entries/%00",
    "/entries/%00",
    f"/embed/{SITE}/entries/%00",
    f"/embed/{SITE}/fragments/entries/%00",
    f"/embed/{SITE}/topics/a%00b",
    "/api/v1/questionnaires/probe%00",
]
NUL_IN_QUERY = [
    ("/api/v1/entries?tag=%00", "tag"),
    ("/merkliste?e=ueberblick&e=%00", "e"),
    ("/api/v1/entries?topic=barrieren%00", "topic"),
    ("/?q=%00", "q"),
]


def test_nul_bytes_in_the_address_are_a_400_on_both_databases(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    for path in NUL_IN_PATH:
        assert_problem(client.get(path), "path")
    for path, name in NUL_IN_QUERY:
        assert_problem(client.get(path), name)
    assert_german_400(client.get("/entries/%00", headers=HTML), "Adresse")
    assert_german_400(client.get("/merkliste?e=%00", headers=HTML), "e")
    # What has no NUL is still served.
    assert client.get("/entries/ueberblick").status_code == 200
    assert client.get("/api/v1/entries?tag=x").status_code == 200
    assert_no_errors_logged(caplog)


@pytest.mark.parametrize(
    "version",
    ["²", "٣", "1" * 5001, "-1", "1.0", "0"],
    ids=["superscript-two", "arabic-indic-three", "5001-digits", "negative", "decimal", "zero"],
)
def test_a_quickcheck_form_version_that_is_not_a_number_is_a_400_page(
    client: Client, version: str, caplog: pytest.LogCaptureFixture
) -> None:
    for path in ("/quickcheck/probe", f"/embed/{SITE}/quickcheck/probe"):
        response = client.post(
            path,
            data={"perspective": "mitarbeitende", "version": version, "a.geraete": "voll"},
            headers={**HTML, **FORM},
        )
        assert_german_400(response, "version")
    assert_no_errors_logged(caplog)


def test_invalid_utf8_in_a_json_body_is_a_400_problem(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    json_ = {"Content-Type": "application/json"}
    for path, body in (
        (
            "/api/v1/questionnaires/probe/responses",
            b'{"version": 1, "perspective": "\xff", "answers": {}}',
        ),
        ("/api/v1/tandem-checks", b'{"mentor": "\xc3\x28", "mentee": "x"}'),
    ):
        response = client.post(path, content=body, headers=json_)
        assert_problem(response, "body")
        assert "not valid UTF-8" in response.json()["detail"]
    assert_no_errors_logged(caplog)


REPEATED = [
    ("/api/v1/entries?page=1&page=2", "page"),
    ("/api/v1/entries?page_size=5&page_size=50", "page_size"),
    ("/api/v1/entries?sort=title&sort=-title", "sort"),
    ("/api/v1/search?q=a&q=b", "q"),
    ("/api/v1/questionnaires/probe?version=1&version=1", "version"),
    ("/api/v1/questionnaires?lang=de&lang=en", "lang"),
    ("/?page=1&page=2", "page"),
    ("/?q=a&q=b", "q"),
    (f"/embed/{SITE}/search?q=a&q=b", "q"),
    (f"/embed/{SITE}/fragments/search?page=1&page=1", "page"),
    ("/merkliste?titel=a&titel=b", "titel"),
    ("/quickcheck/probe?perspective=mitarbeitende&perspective=unternehmen", "perspective"),
]


def test_a_single_valued_parameter_given_twice_is_a_400_naming_it(client: Client) -> None:
    for path, name in REPEATED:
        assert_problem(client.get(path), name)
    assert_german_400(client.get("/?q=a&q=b", headers=HTML), "q")
    # Parameters meant to be repeated still are.
    listed = client.get("/api/v1/entries?topic=barrieren&topic=wissen-sichern")
    assert listed.status_code == 200
    links = page_of(client.get("/merkliste?e=ueberblick&e=arbeitsablauf")).links()
    assert "/merkliste?e=ueberblick&e=arbeitsablauf" in links  # both kept for sharing


PROBE_FORM = {
    "perspective": "mitarbeitende",
    "version": "1",
    "a.geraete": "voll",
    "a.chaos": "nicht",
    "a.wlan": "ja",
    "a.programm": "ja",  # shows the ranking
    "a.offenheit": "teils",
}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("r.hindernisse.zeit", "²", "Bitte nur Zahlen als Rang eintragen."),
        ("r.hindernisse.zeit", "1" * 5001, "Bitte nur Zahlen als Rang eintragen."),
        ("a.stunden", "٣", "Bitte eine Zahl eintragen"),
        ("a.stunden", "1" * 5001, "Bitte eine Zahl eintragen"),
    ],
    ids=["rank-superscript-two", "rank-5001-digits", "number-arabic-indic", "number-5001-digits"],
)
def test_numbers_in_quickcheck_answers_are_ascii_digits_or_a_german_field_error(
    client: Client, field: str, value: str, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = client.post(
        "/quickcheck/probe", data={**PROBE_FORM, field: value}, headers={**HTML, **FORM}
    )
    page = page_of(response, 422)
    assert message in page.text()
    assert_no_errors_logged(caplog)
