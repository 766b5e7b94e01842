"""The Lotse's run pages with signed-in accounts (issue 16): a Lotse sees only her own
runs, the form names what is wrong in German and stores nothing, the dashboard exports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.settings import Settings
from tests.accounts_support import signed_in, use
from tests.runs_support import Client, answer, app_on, bearer, count_rows, link_of

FORM = {
    "company": "Gärtnerei Ost",
    "site": "werkzeugkasten",
    "region": "sachsen",
    "sector": "handwerk",
    "size_class": "kleinst",
    "starts_on": "2026-10-01",
    "ends_on": "2027-03-31",
}


@pytest.fixture(scope="module", params=["sqlite"])
def app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Client, dict[str, str], Settings]]:
    yield from app_on(request, tmp_path_factory.mktemp("pages"))


def test_a_lotse_sees_only_her_own_runs(app: tuple[Client, dict[str, str], Settings]) -> None:
    client, _, _ = app
    anna = signed_in(client, "lotse")
    made = client.post("/durchlaeufe/neu", data=FORM | anna.form, follow_redirects=False)
    assert made.status_code == 303, made.text[:500]
    run_path = made.headers["location"]
    page = client.get(run_path)
    assert "Durchlauf: Gärtnerei Ost" in page.text
    assert page.text.count('<svg role="img"') >= 2  # a QR code per open link
    assert "Gärtnerei Ost" in client.get("/durchlaeufe").text

    bert = signed_in(client, "lotse")
    assert client.get(run_path).status_code == 404
    assert "Gärtnerei Ost" not in client.get("/durchlaeufe").text
    closed = client.post(f"{run_path}/abschliessen", data=bert.form, follow_redirects=False)
    assert closed.status_code == 404
    signed_in(client, "admin")
    assert client.get(run_path).status_code == 200
    use(anna)
    assert client.get(f"{run_path}/bericht").status_code == 200
    pdf = client.get(f"{run_path}/bericht.pdf")
    assert pdf.headers["content-type"] == "application/pdf"


def test_the_form_names_each_problem_in_german_and_stores_nothing(
    app: tuple[Client, dict[str, str], Settings],
) -> None:
    client, _, settings = app
    lotse = signed_in(client, "lotse")
    before = count_rows(settings.database_url, "run")
    bad = FORM | {"company": "", "region": "mond", "ends_on": "2026-01-01"} | lotse.form
    got = client.post("/durchlaeufe/neu", data=bad, follow_redirects=False)
    assert got.status_code == 422
    assert "Bitte geben Sie ein Pseudonym" in got.text
    assert "Bitte wählen Sie einen Eintrag der Liste." in got.text
    assert "Das Ende darf nicht vor dem Beginn liegen" in got.text
    assert count_rows(settings.database_url, "run") == before


def test_the_dashboard_pages_export_csv_and_json(
    app: tuple[Client, dict[str, str], Settings],
) -> None:
    client, _, _ = app
    signed_in(client, "auswertung")
    page = client.get("/auswertung?region=mond")
    assert page.status_code == 200
    assert "Unbekannter Wert; der Filter wurde nicht angewandt." in page.text
    data: dict[str, Any] = client.get("/auswertung.json").json()["data"]
    assert data["runs"] >= 1
    assert client.get("/auswertung.csv").text.startswith("bereich,schluessel")
    assert client.get("/durchlaeufe").status_code == 403


def test_an_admin_deletes_a_run_after_confirming_and_it_is_recorded(
    app: tuple[Client, dict[str, str], Settings],
) -> None:
    client, keys, settings = app
    url = settings.database_url
    lotse = signed_in(client, "lotse")
    made = client.post("/durchlaeufe/neu", data=FORM | {"company": "Schlosserei Nord"}
                       | lotse.form, follow_redirects=False)  # fmt: skip
    run_path = made.headers["location"]
    run_id = run_path.rsplit("/", 1)[1]
    doc = client.get(f"/api/v1/runs/{run_id}", headers=bearer(keys["read"])).json()["data"]
    assert answer(client, link_of(doc, "start", "unternehmen"), "voll").status_code == 201
    responses = count_rows(url, "questionnaire_response")

    # A Lotse neither sees the button nor may delete, not even her own run.
    assert "Durchlauf löschen" not in client.get(run_path).text
    assert client.get(f"{run_path}/loeschen").status_code == 403
    refused = client.post(f"{run_path}/loeschen", data={"bestaetigt": "ja"} | lotse.form)
    assert refused.status_code == 403

    admin = signed_in(client, "admin")
    assert f'href="{run_path}/loeschen"' in client.get(run_path).text
    confirm = client.get(f"{run_path}/loeschen")
    assert "Durchlauf „Schlosserei Nord“ löschen?" in confirm.text
    assert "(1 Antwort)" in confirm.text
    unconfirmed = client.post(f"{run_path}/loeschen", data=admin.form, follow_redirects=False)
    assert unconfirmed.status_code == 400
    assert "Bitte bestätigen Sie" in unconfirmed.text
    no_csrf = client.post(f"{run_path}/loeschen", data={"bestaetigt": "ja"}, follow_redirects=False)
    assert no_csrf.status_code == 403
    assert count_rows(url, "questionnaire_response") == responses

    deleted = client.post(
        f"{run_path}/loeschen", data={"bestaetigt": "ja"} | admin.form, follow_redirects=False
    )
    assert deleted.status_code == 303
    listing = client.get(deleted.headers["location"])
    assert "Der Durchlauf „Schlosserei Nord“ ist gelöscht, mit allen seinen Antworten." in (
        listing.text
    )
    assert client.get(run_path).status_code == 404
    assert client.post(f"{run_path}/loeschen", data={"bestaetigt": "ja"} | admin.form,
                       follow_redirects=False).status_code == 404  # fmt: skip
    assert count_rows(url, "questionnaire_response") == responses - 1
    assert count_rows(url, "run_group_summary WHERE run = " + str(int(run_id))) == 0
    assert count_rows(url, "audit_event WHERE action = 'run.delete'") == 1
