"""The runs API (issue 16) on SQLite and PostgreSQL: a run from creation to its report,
refused codes that store nothing, access by key and site, deleting a run."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from pypdf import PdfReader

from core.settings import Settings
from tests.runs_support import (
    FB,
    NEW_RUN,
    QC,
    Client,
    answer,
    answers_for,
    app_on,
    bearer,
    count_rows,
    current_version,
    link_of,
)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Client, dict[str, str], Settings]]:
    global URL
    for client, keys, settings in app_on(request, tmp_path_factory.mktemp("runs")):
        URL = settings.database_url
        yield client, keys, settings


def mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 1)


def create(client: Client, keys: dict[str, str], **fields: Any) -> dict[str, Any]:
    got = client.post("/api/v1/runs", json=NEW_RUN | fields, headers=bearer(keys["write"]))
    assert got.status_code == 201, got.text
    doc: dict[str, Any] = got.json()["data"]
    return doc


URL = ""


def stored() -> int:
    return count_rows(URL, "questionnaire_response")


def view(client: Client, keys: dict[str, str], run_id: int) -> dict[str, Any]:
    got = client.get(f"/api/v1/runs/{run_id}/view", headers=bearer(keys["read"]))
    assert got.status_code == 200, got.text
    data: dict[str, Any] = got.json()["data"]
    return data


def dimension(phase: dict[str, Any], dim_id: str | None) -> dict[str, Any]:
    row: dict[str, Any] = next(d for d in phase["dimensions"] if d["id"] == dim_id)
    return row


def test_a_run_from_invitation_to_report(app: tuple[Client, dict[str, str], Settings]) -> None:
    client, keys, _ = app
    doc = create(client, keys, company="Bäckerei Süd")
    assert {(c["phase"], c["perspective"]) for c in doc["codes"]} == {
        ("start", "unternehmen"),
        ("start", "mitarbeitende"),
    }
    management, employees = (
        link_of(doc, "start", "unternehmen"),
        link_of(doc, "start", "mitarbeitende"),
    )
    assert management["link"].endswith(f"/quickcheck/{QC}?run={management['code']}")
    scores: dict[str, list[float]] = {"unternehmen": [], "mitarbeitende": []}
    for link, level, times in ((management, "voll", 2), (employees, "kaum", 2)):
        for _ in range(times):
            got = answer(client, link, level)
            assert got.status_code == 201, got.text
            scores[link["perspective"]].append(got.json()["data"]["overall"]["score"])

    # Two employee answers: the Lotse sees the management only, "noch zu wenige".
    seen = view(client, keys, doc["id"])
    groups = {g["perspective"]: g for g in seen["start"]["groups"]}
    assert groups["mitarbeitende"]["withheld"] is True
    assert groups["unternehmen"]["shown"] == 2
    overall = dimension(seen["start"], None)
    assert overall["scores"]["unternehmen"]["score"] == mean(scores["unternehmen"])
    assert "mitarbeitende" not in overall["scores"]
    assert overall["gap"] is None

    for _ in range(2):
        got = answer(client, employees, "kaum")
        scores["mitarbeitende"].append(got.json()["data"]["overall"]["score"])
    seen = view(client, keys, doc["id"])
    groups = {g["perspective"]: g for g in seen["start"]["groups"]}
    # Four answers, blocks of three: three shown, one waits (never how many).
    assert (groups["mitarbeitende"]["shown"], groups["mitarbeitende"]["waiting"]) == (3, True)
    overall = dimension(seen["start"], None)
    start_employees = mean(scores["mitarbeitende"][:3])
    assert overall["scores"]["mitarbeitende"]["score"] == start_employees
    gap = round(mean(scores["unternehmen"]) - start_employees, 1)
    assert overall["gap"] == gap >= 20
    assert overall["gap_level"] == "deutlich"
    assert (
        "die Geschäftsführung die Lage deutlich besser ein als die Beschäftigten"
        in (overall["gap_sentence"])
    )
    assert seen["start"]["items"], "item distributions for a group of three"
    assert seen["start"]["recommendations"][0]["points"] >= 3

    # The repeat measurement: new links, the start links close.
    opened = client.post(
        f"/api/v1/runs/{doc['id']}/phases", json={"phase": "ende"}, headers=bearer(keys["write"])
    )
    assert opened.status_code == 200, opened.text
    late = answer(client, employees, "voll")
    assert late.status_code == 422
    assert late.json()["invalid_params"] == [{"name": "run", "reason": "closed"}]
    end_doc = opened.json()["data"]
    assert answer(client, link_of(end_doc, "ende", "unternehmen"), "voll").status_code == 201
    end_scores = []
    for _ in range(3):
        got = answer(client, link_of(end_doc, "ende", "mitarbeitende"), "voll")
        end_scores.append(got.json()["data"]["overall"]["score"])
    seen = view(client, keys, doc["id"])
    progress = {(p["id"], p["perspective"]): p for p in seen["progress"]}
    row = progress[(None, "mitarbeitende")]
    assert (row["start"], row["end"]) == (start_employees, mean(end_scores))
    assert row["change"] == round(mean(end_scores) - start_employees, 1) > 0

    # Feedback of three tandem members, with the barriers they ranked.
    fb = client.post(
        f"/api/v1/runs/{doc['id']}/phases", json={"phase": "feedback"},
        headers=bearer(keys["write"]),
    ).json()["data"]  # fmt: skip
    for perspective, ranking in (
        ("mentor", ["zeitmangel", "technik"]),
        ("mentee", ["zeitmangel"]),
        ("mentee", ["technik", "zeitmangel"]),
    ):
        link = link_of(fb, "feedback", perspective)
        got = answer(
            client, link, "eher", **{"hindernisse-ja-nein": "ja", "barrieren-rangfolge": ranking}
        )
        assert got.status_code == 201, got.text
    seen = view(client, keys, doc["id"])
    barriers = seen["feedback"]["barriers"]["options"]
    assert [o["code"] for o in barriers[:2]] == ["zeitmangel", "technik"]
    assert seen["feedback"]["dimensions"][0]["scores"]["feedback"]["score"] is not None

    # The report as PDF carries the scores.
    pdf = client.get(f"/api/v1/runs/{doc['id']}/report.pdf", headers=bearer(keys["read"]))
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Bericht zum Durchlauf: Bäckerei Süd" in text
    assert f"{round(mean(scores['unternehmen']))} (" in text
    assert f"{round(start_employees)} (" in text
    assert f"+{round(gap)}" in text
    assert "Zeitmangel im Arbeitsalltag" in text

    # The dashboard counts it; closing the run closes every link.
    board = client.get("/api/v1/runs/dashboard?region=niedersachsen", headers=bearer(keys["read"]))
    assert board.status_code == 200, board.text
    assert board.json()["data"]["runs"] >= 1
    closed = client.post(f"/api/v1/runs/{doc['id']}/close", headers=bearer(keys["write"]))
    assert closed.json()["data"]["state"] == "abgeschlossen"
    assert not any(c["open"] for c in closed.json()["data"]["codes"])


def test_refused_codes_say_what_to_do_and_store_nothing(
    app: tuple[Client, dict[str, str], Settings],
) -> None:
    client, keys, _ = app
    doc = create(client, keys)
    employees = link_of(doc, "start", "mitarbeitende")
    good = answers_for(client, QC, "mitarbeitende", "eher")
    closed = create(client, keys)
    closed_code = link_of(closed, "start", "mitarbeitende")["code"]
    client.post(f"/api/v1/runs/{closed['id']}/close", headers=bearer(keys["write"]))
    before = stored()
    cases = [
        ({"run": "abc"}, QC, "malformed"),
        (
            {"run": employees["code"][:-1] + ("A" if employees["code"][-1] != "A" else "B")},
            QC,
            "unknown",
        ),
        ({"run": closed_code}, QC, "closed"),
        ({"run": employees["code"], "perspective": "unternehmen"}, QC, "perspective"),
        ({"run": employees["code"], "mode": "test"}, QC, "test"),
    ]
    for extra, questionnaire, reason in cases:
        got = client.post(
            f"/api/v1/questionnaires/{questionnaire}/responses",
            json={"version": current_version(client, QC), "answers": good, **extra},
        )
        assert got.status_code == 422, (reason, got.text)
        assert got.json()["invalid_params"] == [{"name": "run", "reason": reason}]
        assert "Nothing was stored" in got.json()["detail"]
    wrong = client.post(
        f"/api/v1/questionnaires/{FB}/responses",
        json={"version": current_version(client, QC), "run": employees["code"], "answers": {}},
    )
    assert wrong.json()["invalid_params"] == [{"name": "run", "reason": "questionnaire"}]
    assert stored() == before
    # Without a run the anonymous Quickcheck works as before and is linked to nothing.
    links = count_rows(URL, "run_response")
    plain = client.post(
        f"/api/v1/questionnaires/{QC}/responses",
        json={
            "version": current_version(client, QC),
            "perspective": "mitarbeitende",
            "answers": good,
        },
    )
    assert plain.status_code == 201
    assert (stored(), count_rows(URL, "run_response")) == (before + 1, links)


def test_keys_and_sites_decide_what_is_seen(app: tuple[Client, dict[str, str], Settings]) -> None:
    client, keys, _ = app
    theirs = create(client, keys)
    assert client.get("/api/v1/runs").status_code == 401
    assert client.get("/api/v1/runs", headers=bearer(keys["stats"])).status_code == 403
    assert (
        client.post("/api/v1/runs", json=NEW_RUN, headers=bearer(keys["read"])).status_code == 403
    )
    muster = bearer(keys["muster"])
    assert client.post("/api/v1/runs", json=NEW_RUN, headers=muster).status_code == 403
    own = client.post("/api/v1/runs", json=NEW_RUN | {"site": "musterverband"}, headers=muster)
    assert own.status_code == 201, own.text
    listed = {r["id"] for r in client.get("/api/v1/runs", headers=muster).json()["data"]}
    assert own.json()["data"]["id"] in listed
    assert theirs["id"] not in listed
    assert client.get(f"/api/v1/runs/{theirs['id']}", headers=muster).status_code == 404
    board = client.get("/api/v1/runs/dashboard", headers=muster).json()["data"]
    assert [c["key"] for c in board["by_site"]] == ["musterverband"]
    assert (
        client.get("/api/v1/runs/dashboard?site=werkzeugkasten", headers=muster).status_code == 403
    )
    assert (
        client.delete(f"/api/v1/runs/{own.json()['data']['id']}", headers=muster).status_code == 403
    )


def test_bad_run_fields_and_filters_are_named(app: tuple[Client, dict[str, str], Settings]) -> None:
    client, keys, _ = app
    got = client.post(
        "/api/v1/runs",
        json=NEW_RUN | {"company": " ", "region": "mars", "ends_on": "2026-01-01"},
        headers=bearer(keys["write"]),
    )
    assert got.status_code == 422
    assert {p["name"] for p in got.json()["invalid_params"]} == {"company", "region", "ends_on"}
    bad = client.get(
        "/api/v1/runs/dashboard?sector=x&started_from=gestern", headers=bearer(keys["read"])
    )
    assert bad.status_code == 400
    assert client.get("/api/v1/runs/999999", headers=bearer(keys["read"])).status_code == 404


def test_deleting_a_run_deletes_its_responses(app: tuple[Client, dict[str, str], Settings]) -> None:
    client, keys, _ = app
    doc = create(client, keys)
    assert answer(client, link_of(doc, "start", "unternehmen"), "voll").status_code == 201
    before = stored()
    got = client.delete(f"/api/v1/runs/{doc['id']}", headers=bearer(keys["write"]))
    assert got.status_code == 204
    assert stored() == before - 1
    assert client.get(f"/api/v1/runs/{doc['id']}", headers=bearer(keys["read"])).status_code == 404


def test_dashboard_csv_has_every_section(app: tuple[Client, dict[str, str], Settings]) -> None:
    client, keys, _ = app
    create(client, keys)
    got = client.get("/api/v1/runs/dashboard.csv", headers=bearer(keys["read"]))
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    sections = {line.split(",")[0] for line in got.text.splitlines()[1:]}
    assert {"gesamt", "region", "standort", "status", "zeitraum", "ampel", "abstand"} <= sections


def test_openapi_documents_the_runs_api(app: tuple[Client, dict[str, str], Settings]) -> None:
    client, _, _ = app
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert "/api/v1/runs/{run_id}/view" in paths
    assert paths["/api/v1/runs"]["post"]["security"] == [{"apiKey": []}]
    body = paths["/api/v1/questionnaires/{questionnaire_id}/responses"]["post"]
    assert "run" in str(body)


# -- privacy through the API (the properties: tests/test_runs_privacy.py) ----------------


def everything_shown(client: Client, keys: dict[str, str], run_id: int) -> list[Any]:
    """Every view, export and API answer about the run (its id and codes left out)."""
    read = bearer(keys["read"])
    doc = client.get(f"/api/v1/runs/{run_id}", headers=read).json()["data"]
    return [
        client.get(f"/api/v1/runs/{run_id}/view", headers=read).json(),
        {k: v for k, v in doc.items() if k not in {"id", "url", "codes"}},
        client.get("/api/v1/runs/dashboard?sector=handel", headers=read).json(),
        client.get("/api/v1/runs/dashboard.csv?sector=handel", headers=read).text,
        client.get("/api/v1/runs/dashboard?sector=handel&region=bayern", headers=read).json(),
    ]


def test_small_groups_stay_hidden_everywhere(app: tuple[Client, dict[str, str], Settings]) -> None:
    """Two runs alike but for what their two employees answered: every view, export and
    filter shows exactly the same about them (only the answers' existence differs)."""
    client, keys, _ = app
    shown = []
    for level in ("voll", "nicht"):
        doc = client.post(
            "/api/v1/runs",
            json=NEW_RUN | {"sector": "handel", "region": "bayern"},
            headers=bearer(keys["write"]),
        ).json()["data"]
        assert answer(client, link_of(doc, "start", "unternehmen"), "teils").status_code == 201
        for _ in range(2):
            got = answer(client, link_of(doc, "start", "mitarbeitende"), level)
            assert got.status_code == 201
        shown.append(everything_shown(client, keys, doc["id"]))
        view = client.get(f"/api/v1/runs/{doc['id']}/view", headers=bearer(keys["read"])).json()
        assert all("mitarbeitende" not in d["scores"] for d in view["data"]["start"]["dimensions"])
        # Delete it again: the next run's dashboard then holds the same set of runs.
        assert (
            client.delete(f"/api/v1/runs/{doc['id']}", headers=bearer(keys["write"])).status_code
            == 204
        )
    assert shown[0] == shown[1]


# -- the questionnaire pages through an invitation link -----------------------------------


def test_the_invitation_link_opens_the_form_for_its_perspective(
    app: tuple[Client, dict[str, str], Settings],
) -> None:
    client, keys, _ = app
    doc = create(client, keys)
    employees = link_of(doc, "start", "mitarbeitende")
    page = client.get(f"/quickcheck/{QC}?run={employees['code']}")
    assert page.status_code == 200
    assert f'name="run" value="{employees["code"]}"' in page.text
    assert 'name="perspective" value="mitarbeitende"' in page.text
    assert "Einladung zu einem Durchlauf" in page.text
    assert "andere Sicht wählen" not in page.text
    fields = [
        ("perspective", "mitarbeitende"),
        ("version", str(current_version(client, QC))),
        ("run", employees["code"]),
    ]
    fields += [
        (f"a.{item}", code)
        for item, code in answers_for(client, QC, "mitarbeitende", "eher").items()
    ]
    before = count_rows(URL, "run_response")
    sent = client.post(f"/quickcheck/{QC}", data=dict(fields), follow_redirects=False)
    assert sent.status_code == 303, sent.text[:2000]
    assert count_rows(URL, "run_response") == before + 1


@pytest.mark.parametrize(
    ("code", "status", "words"),
    [
        ("kaputt", 422, "unvollständig oder verändert"),
        ("A" * 22, 404, "keinen Durchlauf"),
    ],
)
def test_a_bad_invitation_link_is_a_german_page_that_says_what_to_do(
    app: tuple[Client, dict[str, str], Settings], code: str, status: int, words: str
) -> None:
    client, _, _ = app
    page = client.get(f"/quickcheck/{QC}?run={code}", headers={"Accept": "text/html"})
    assert page.status_code == status
    assert words in page.text


def test_a_closed_link_refuses_the_form_and_stores_nothing(
    app: tuple[Client, dict[str, str], Settings],
) -> None:
    client, keys, _ = app
    doc = create(client, keys)
    employees = link_of(doc, "start", "mitarbeitende")
    client.post(
        f"/api/v1/runs/{doc['id']}/codes/{employees['code']}/close", headers=bearer(keys["write"])
    )
    assert client.get(f"/quickcheck/{QC}?run={employees['code']}").status_code == 410
    fields = {
        "perspective": "mitarbeitende",
        "version": str(current_version(client, QC)),
        "run": employees["code"],
    }
    fields |= {
        f"a.{item}": code for item, code in answers_for(client, QC, "mitarbeitende", "eher").items()
    }
    before = stored()
    sent = client.post(f"/quickcheck/{QC}", data=fields, follow_redirects=False)
    assert sent.status_code == 410
    assert "geschlossen" in sent.text
    assert stored() == before
