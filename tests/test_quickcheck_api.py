"""The Quickcheck API on SQLite and PostgreSQL: definitions, responses, results, keys,
statistics with small groups withheld, export and the tandem check."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from core.app import create_app
from core.cli import main
from core.plugins import build_registry
from core.quickcheck import engine, store
from core.quickcheck.export import export_csv
from core.settings import Settings
from tests.conftest import run, sync
from tests.runs_support import count_rows, sql_value
from tests.test_api import assert_problem
from tests.test_quickcheck_engine import load_fixture

Client = TestClient[Any]

# Valid answers to the probe questionnaire from the employees' perspective. By hand:
# technik = (geraete 1 + chaos reversed 1 + wlan 1×2) / 4 = 100; kultur = offenheit 0.5 = 50.
ANSWERS = {
    "geraete": "voll",
    "chaos": "nicht",
    "wlan": "ja",
    "programm": "nein",
    "offenheit": "teils",
}


def submit(client: Client, answers: dict[str, Any] | None = None, **body: Any) -> Any:
    payload = {"version": 1, "perspective": "mitarbeitende", "answers": answers or ANSWERS, **body}
    return client.post("/api/v1/questionnaires/probe/responses", json=payload)


def cli(settings: Settings, *args: str) -> Any:
    env = {
        "DATABASE_URL": settings.database_url,
        "MENTORING40_CONTENT_DIR": str(settings.content_dir),
        "MENTORING40_LOAD_PLUGINS": "",
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def keys(fixture_settings: Settings) -> dict[str, str]:
    """Content synced and three keys made with the CLI, before any app starts."""
    sync(fixture_settings)
    tokens = {}
    for name, scopes in (
        ("stats", ["--scope", "stats:read"]),
        ("export", ["--scope", "responses:export"]),
        ("revoked", ["--scope", "stats:read"]),
    ):
        result = cli(fixture_settings, "keys", "create", "--name", name, *scopes)
        assert result.exit_code == 0, result.output
        tokens[name] = result.stdout.splitlines()[0]
    assert cli(fixture_settings, "keys", "revoke", "revoked").exit_code == 0
    return tokens


@pytest.fixture
def client(fixture_settings: Settings, keys: dict[str, str]) -> Iterator[Client]:
    registry = build_registry(fixture_settings, load_installed=False)
    with TestClient(create_app(fixture_settings, registry)) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- definitions --------------------------------------------------------------------------


def test_list_shows_published_questionnaires_with_perspectives_and_versions(
    client: Client,
) -> None:
    response = client.get("/api/v1/questionnaires")
    assert response.status_code == 200
    by_id = {q["id"]: q for q in response.json()["data"]}
    assert set(by_id) == {"probe", "probe-profil"}
    probe = by_id["probe"]
    assert [p["id"] for p in probe["perspectives"]] == ["mitarbeitende", "unternehmen"]
    assert probe["latest_version"] == 1
    assert probe["versions"] == [{"version": 1, "status": "published"}]
    assert response.headers["etag"]


def test_definition_in_one_perspective_uses_its_wording_and_items(client: Client) -> None:
    company = client.get("/api/v1/questionnaires/probe?perspective=unternehmen").json()["data"]
    staff = client.get("/api/v1/questionnaires/probe?perspective=mitarbeitende").json()["data"]
    geraete = {i["id"]: i for i in company["items"]}["geraete"]
    assert geraete["text"] == "Wir stellen passende Geräte bereit."
    assert {i["id"]: i for i in staff["items"]}["geraete"]["text"] == "Alle haben passende Geräte."
    # "keine Angabe" is offered as an option with its own code, never with a score.
    assert geraete["options"][-1] == {"code": "keine-angabe", "label": "keine Angabe / weiß nicht"}
    assert "score" not in geraete["options"][0]
    assert "nur-unternehmen" in [i["id"] for i in company["items"]]
    assert "nur-unternehmen" not in [i["id"] for i in staff["items"]]
    # The condition tree is part of the definition, for clients that hide items.
    erfahrung = {i["id"]: i for i in staff["items"]}["programm-erfahrung"]
    assert erfahrung["visible_if"] == {"item": "programm", "op": "eq", "value": "ja"}


def test_definition_language_falls_back_to_german(client: Client) -> None:
    english = client.get("/api/v1/questionnaires/probe?lang=en").json()["data"]
    assert english["title"] == "Probe check"
    assert english["items"][0]["text"] == "Alle haben passende Geräte."  # no English text
    assert_problem(client.get("/api/v1/questionnaires/probe?lang=deutsch"), 400, "lang")


def test_unknown_questionnaire_version_or_perspective(client: Client) -> None:
    assert_problem(client.get("/api/v1/questionnaires/gibtsnicht"), 404, "gibtsnicht")
    body = assert_problem(client.get("/api/v1/questionnaires/probe?version=7"), 404, "version 7")
    assert body["invalid_params"] == [{"name": "version", "reason": "available: 1 (published)"}]
    assert_problem(client.get("/api/v1/questionnaires/probe?perspective=chef"), 400, "chef")


# -- responses ----------------------------------------------------------------------------


def test_submit_scores_and_returns_a_token_that_shows_the_result_again(client: Client) -> None:
    response = submit(client)
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    result = response.json()["data"]
    technik, kultur = result["dimensions"]
    assert (technik["id"], technik["score"], technik["ampel"]) == ("technik", 100.0, "gruen")
    assert (technik["counted"], technik["asked"]) == (3, 4)  # werkzeuge left open
    assert technik["band_title"] == "Viel"
    assert technik["recommendations"] == [
        {
            "slug": "arbeitsablauf",
            "title": "Arbeitsablauf festhalten",
            "summary": "Einen Ablauf so aufschreiben, dass andere ihn nutzen können.",
            "url": "/api/v1/entries/arbeitsablauf",
        }
    ]
    assert (kultur["score"], kultur["ampel"], kultur["counted"]) == (50.0, "gruen", 1)
    assert result["overall"]["score"] == 75.0
    assert result["overall"]["ampel"] == "gruen"
    assert len(result["token"]) >= 32
    assert response.headers["location"] == f"/api/v1/results/{result['token']}"

    again = client.get(result["url"])
    assert again.status_code == 200
    assert again.headers["cache-control"] == "no-store"
    assert again.json()["data"] == result


def test_keine_angabe_is_not_counted_as_zero(client: Client) -> None:
    answers = {**ANSWERS, "geraete": "keine-angabe", "chaos": "keine-angabe"}
    technik = submit(client, answers).json()["data"]["dimensions"][0]
    # Only wlan counts: 100, not (0 + 0 + 2) / 4 = 50.
    assert (technik["score"], technik["counted"], technik["unknown"]) == (100.0, 1, 2)


def test_result_token_is_unknown_or_malformed(client: Client) -> None:
    assert_problem(client.get("/api/v1/results/nichtdaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 404, "token")


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({**ANSWERS, "gibtsnicht": "ja"}, {"answers.gibtsnicht": "unknown item"}),
        ({**ANSWERS, "geraete": "super"}, {"answers.geraete": "unknown option code 'super'"}),
        ({k: v for k, v in ANSWERS.items() if k != "wlan"}, {"answers.wlan": "is required"}),
        (
            {**ANSWERS, "programm-erfahrung": "gut"},
            {"answers.programm-erfahrung": "hidden by its condition"},
        ),
        ({**ANSWERS, "stunden": "drei"}, {"answers.stunden": "expected a number, got a text"}),
        ({**ANSWERS, "stunden": 11}, {"answers.stunden": "at most 10"}),
        ({**ANSWERS, "werkzeuge": "chat"}, {"answers.werkzeuge": "expected a list"}),
        (
            {**ANSWERS, "nur-unternehmen": "klein"},
            {"answers.nur-unternehmen": "not asked in the perspective 'mitarbeitende'"},
        ),
    ],
)
def test_each_invalid_answer_is_a_422_naming_the_item(
    client: Client, answers: dict[str, Any], expected: dict[str, str]
) -> None:
    body = assert_problem(submit(client, answers), 422, "nothing was stored")
    reasons = {p["name"]: p["reason"] for p in body["invalid_params"]}
    assert set(reasons) == set(expected)
    for name, words in expected.items():
        assert words in reasons[name]


def test_all_answer_problems_are_listed_at_once_and_nothing_is_stored(
    client: Client, keys: dict[str, str]
) -> None:
    answers = {"geraete": 3, "gibtsnicht": 1, "stunden": True, "programm": "nein"}
    body = assert_problem(submit(client, answers), 422, "problem(s)")
    names = {p["name"] for p in body["invalid_params"]}
    assert names == {
        "answers.geraete",
        "answers.gibtsnicht",
        "answers.stunden",
        "answers.chaos",
        "answers.wlan",
        "answers.offenheit",
    }
    export = client.get("/api/v1/questionnaires/probe/export", headers=bearer(keys["export"]))
    assert export.text.count("\n") == 1  # the header only


def test_malformed_bodies_and_wrong_perspectives(client: Client) -> None:
    url = "/api/v1/questionnaires/probe/responses"
    assert (
        client.post(
            url, content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    assert_problem(client.post(url, json={"answers": ANSWERS}), 400)  # no version
    assert_problem(client.post(url, json={"version": "eins", "answers": {}}), 400)
    assert_problem(submit(client, mode="echt"), 400)
    assert_problem(submit(client, perspective=None), 422, "perspective")
    assert_problem(submit(client, perspective="chef"), 422, "chef")
    assert_problem(submit(client, version=3), 404, "version 3")


def test_stored_response_holds_no_identifying_data(
    client: Client, fixture_settings: Settings
) -> None:
    from core.db.tables import QuestionnaireResponse

    token = submit(client).json()["data"]["token"]
    columns = {c._meta.name for c in QuestionnaireResponse._meta.columns}
    assert columns == {
        "id",
        "token_hash",
        "questionnaire_id",
        "version",
        "definition_hash",
        "engine_version",
        "perspective",
        "mode",
        "answers",
        "result",
        "submitted_on",
        # The partner site it was answered on: a site's id, the same for everyone there.
        "site",
    }
    export = cli(fixture_settings, "responses", "export", "probe")
    assert token not in export.stdout  # only the token's hash is stored


# -- keys and statistics ------------------------------------------------------------------


STATS = "/api/v1/questionnaires/probe/stats"


def test_stats_need_a_valid_key_with_the_scope(client: Client, keys: dict[str, str]) -> None:
    for headers in (
        {},
        bearer("m40_falsch"),
        bearer(keys["revoked"]),
        {"Authorization": keys["stats"]},  # without "Bearer"
    ):
        response = client.get(STATS, headers=headers)
        body = assert_problem(response, 401, "valid API key")
        assert response.headers["www-authenticate"].startswith("Bearer")
        # The same answer whatever was wrong: nothing tells which keys exist.
        assert body["detail"] == assert_problem(client.get(STATS), 401)["detail"]
    assert_problem(client.get(STATS, headers=bearer(keys["export"])), 403, "stats:read")
    assert client.get(STATS, headers=bearer(keys["stats"])).status_code == 200


def test_small_groups_are_withheld_and_test_runs_never_count(
    client: Client, keys: dict[str, str]
) -> None:
    auth = bearer(keys["stats"])
    for _ in range(4):
        assert submit(client).status_code == 201
    for _ in range(3):
        assert submit(client, mode="test").status_code == 201
    stats = client.get(STATS, headers=auth).json()["data"]
    assert stats["withheld"] is True
    assert stats["responses"] is None  # 4 real responses: fewer than 5, test runs not counted
    assert stats["dimensions"] == []
    assert "fewer than 5" in stats["withheld_reason"]

    assert submit(client).status_code == 201
    stats = client.get(STATS, headers=auth).json()["data"]
    assert (stats["withheld"], stats["responses"], stats["min_group_size"]) == (False, 5, 5)
    technik = stats["dimensions"][0]
    assert (technik["mean"], technik["responses"]) == (100.0, 5)
    assert technik["ampel"] == {"rot": 0, "gelb": 0, "gruen": 5, "ohne_wert": 0}
    wlan = {i["id"]: i for i in stats["items"]}["wlan"]
    assert {o["code"]: o["count"] for o in wlan["options"]} == {"ja": 5, "nein": 0}


def test_a_small_perspective_cannot_be_derived_by_subtraction(
    client: Client, keys: dict[str, str]
) -> None:
    auth = bearer(keys["stats"])
    for _ in range(5):
        submit(client)
    company = {**ANSWERS, "wlan": "nein"}
    for _ in range(2):
        assert submit(client, company, perspective="unternehmen").status_code == 201
    overall = client.get(STATS, headers=auth).json()["data"]
    assert overall["responses"] == 7
    wlan = {i["id"]: i for i in overall["items"]}["wlan"]
    # "nein" has 2 answers: withheld; "ja" (5) too, or 7 - 5 would give it away.
    assert {o["code"]: o["count"] for o in wlan["options"]} == {"ja": None, "nein": None}
    assert overall["perspective_gap"] == []  # needs both perspectives at 5 or more
    staff = client.get(STATS, params={"perspective": "mitarbeitende"}, headers=auth).json()["data"]
    assert staff["withheld"] is True
    assert "subtracting" in staff["withheld_reason"]
    assert_problem(client.get(STATS, params={"perspective": "chef"}, headers=auth), 400, "chef")


def test_perspective_gap_and_ranking(client: Client, keys: dict[str, str]) -> None:
    ranked = {**ANSWERS, "programm": "ja", "programm-erfahrung": "gut"}
    for order in (["zeit", "scheu"], ["zeit"], ["scheu", "zeit", "ziele"], ["zeit"], ["ziele"]):
        assert submit(client, {**ranked, "hindernisse": order}).status_code == 201
    company = {**ANSWERS, "wlan": "nein"}
    for _ in range(5):
        submit(client, company, perspective="unternehmen")
    stats = client.get(STATS, headers=bearer(keys["stats"])).json()["data"]
    gap = {g["dimension"]: g for g in stats["perspective_gap"]}
    # Employees: technik 100. Company without WLAN: (1 + 1 + 0×2) / 4 = 50.
    assert gap["technik"]["means"] == {"mitarbeitende": 100.0, "unternehmen": 50.0}
    assert gap["technik"]["gap"] == 50.0
    (ranking,) = stats["rankings"]
    assert ranking["method"] == "borda"
    # Borda with 4 options: 1st = 3 points, 2nd = 2, 3rd = 1.
    # zeit 3+3+2+3 = 11, scheu 2+3 = 5, ziele 1+3 = 4, technik 0.
    assert [(o["code"], o["points"]) for o in ranking["options"]] == [
        ("zeit", 11),
        ("scheu", 5),
        ("ziele", 4),
        ("technik", 0),
    ]
    assert "Borda" in stats["ranking_method"]


def test_minimum_group_size_is_configurable(
    fixture_settings: Settings, keys: dict[str, str]
) -> None:
    import msgspec

    settings = msgspec.structs.replace(fixture_settings, stats_min_group=2)
    registry = build_registry(settings, load_installed=False)
    with TestClient(create_app(settings, registry)) as c:
        submit(c)
        submit(c)
        stats = c.get(STATS, headers=bearer(keys["stats"])).json()["data"]
    assert (stats["responses"], stats["min_group_size"]) == (2, 2)


def test_export_is_csv_of_real_responses(
    client: Client, keys: dict[str, str], fixture_settings: Settings
) -> None:
    submit(client, {**ANSWERS, "anmerkung": "=SUMME(A1)", "werkzeuge": ["chat", "cloud"]})
    submit(client, mode="test")
    assert_problem(client.get("/api/v1/questionnaires/probe/export"), 401)
    response = client.get("/api/v1/questionnaires/probe/export", headers=bearer(keys["export"]))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    row = rows[0]
    assert (row["questionnaire"], row["version"], row["perspective"]) == (
        "probe",
        "1",
        "mitarbeitende",
    )
    assert row["item:werkzeuge"] == "chat | cloud"
    assert row["item:anmerkung"] == "'=SUMME(A1)"  # no formula in a spreadsheet
    assert (row["score:technik"], row["score:overall"], row["ampel:overall"]) == (
        "100.0",
        "75.0",
        "gruen",
    )
    # The CLI writes the same file for the programme's evaluation, test runs on request.
    out = fixture_settings.content_dir.parent / "export.csv"
    result = cli(fixture_settings, "responses", "export", "probe", "-o", str(out), "--include-test")
    assert result.exit_code == 0
    assert "Exported 2 response(s)." in result.stderr
    assert len(list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))) == 2


def test_export_hides_the_order_of_submissions_and_fullwidth_formulas(
    client: Client, keys: dict[str, str]
) -> None:
    # Submitted in this order on one day; the file must not tell which came first.
    notes = ["Zweitens", "Erstens", "Drittens", '＝HYPERLINK("x")', "＋1", "－1", "＠SUMME(A1)"]
    for note in notes:
        assert submit(client, {**ANSWERS, "anmerkung": note}).status_code == 201
    response = client.get("/api/v1/questionnaires/probe/export", headers=bearer(keys["export"]))
    rows = list(csv.DictReader(io.StringIO(response.text)))
    exported = [row["item:anmerkung"] for row in rows]
    assert [n for n in exported if n[:1] != "'"] == ["Drittens", "Erstens", "Zweitens"]
    assert sorted(n for n in exported if n[:1] == "'") == sorted(f"'{n}" for n in notes[3:])
    assert {row["submitted_on"] for row in rows} == {rows[0]["submitted_on"]}  # a day, no time
    assert len(rows[0]["submitted_on"]) == len("2026-11-30")


@pytest.mark.parametrize(
    "note",
    ["\x00=1+1", "\x01=1+1", "\t=1+1", "\r=1+1", "\n=1+1", "\u200b=1+1", "\u202e@SUMME(A1)",
     "\u00a0=1+1", " ＝1+1", "\x00"],
)  # fmt: skip
def test_export_neutralises_formulas_hidden_behind_control_characters(note: str) -> None:
    """Straight from stored rows to the file: a spreadsheet may drop leading control and
    invisible characters, so what follows them must not become a formula."""
    exported = export_one(note)
    assert exported["item:anmerkung"] == f"'{note}"
    assert exported["score:technik"] == "100.0"  # numbers stay numbers


def test_export_keeps_line_breaks_inside_their_cell() -> None:
    # A bare CR used to be written unquoted: spreadsheets began a new row (and formula).
    assert export_one("Gut.\r=1+1")["item:anmerkung"] == "Gut.\r=1+1"
    assert export_one("Gut.\n@SUMME(A1)")["item:anmerkung"] == "Gut.\n@SUMME(A1)"


def export_one(note: str) -> dict[str, str]:
    """The one CSV row that export_csv writes for a stored response with this note."""
    loaded = load_fixture("probe")
    d = loaded.definition
    answers = {**ANSWERS, "anmerkung": note}
    row = {
        "definition_hash": loaded.hash,
        "engine_version": engine.ENGINE_VERSION,
        "perspective": "mitarbeitende",
        "mode": "real",
        "submitted_on": dt.date(2026, 11, 30),
        "answers": answers,
        "result": msgspec.to_builtins(engine.score(d, "mitarbeitende", answers)),
    }
    (exported,) = csv.DictReader(io.StringIO(export_csv(d, [row]), newline=""))
    return exported


def test_verify_recomputes_stored_results(client: Client, fixture_settings: Settings) -> None:
    submit(client)
    submit(client, {**ANSWERS, "geraete": "keine-angabe"}, mode="test")
    result = cli(fixture_settings, "responses", "verify")
    assert result.exit_code == 0, result.output
    assert "Recomputed 2 result(s): 0 differ." in result.output


def test_verify_names_a_stored_result_the_engine_does_not_compute_again(
    client: Client, fixture_settings: Settings
) -> None:
    from core.db.engine import engine_from_url, use_engine
    from core.db.tables import QuestionnaireResponse

    submit(client)
    tampered = submit(client, {**ANSWERS, "geraete": "keine-angabe"})
    assert tampered.status_code == 201, tampered.text
    # A stored result that no longer follows from its answers (as after an engine change).
    use_engine(engine_from_url(fixture_settings.database_url))
    last = run(
        QuestionnaireResponse.select(QuestionnaireResponse.id)
        .order_by(QuestionnaireResponse.id, ascending=False)
        .first()
        .run()
    )
    assert last is not None
    run(
        QuestionnaireResponse.update({QuestionnaireResponse.result: {"overall": 1}})
        .where(QuestionnaireResponse.id == last["id"])
        .run()
    )
    result = cli(fixture_settings, "responses", "verify")
    assert result.exit_code == 1, result.output
    assert "Recomputed 2 result(s): 1 differ." in result.output
    assert f"  probe v1 response {last['id']} (engine 1 → 1)" in result.output


def test_keys_list_shows_state_but_never_tokens(
    fixture_settings: Settings, keys: dict[str, str]
) -> None:
    result = cli(fixture_settings, "keys", "list")
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert "active" in lines["stats"]
    assert "revoked" in lines["revoked"]
    for token in keys.values():
        assert token not in result.output
    duplicate = cli(fixture_settings, "keys", "create", "--name", "stats", "--scope", "stats:read")
    assert duplicate.exit_code != 0
    assert "exists" in duplicate.output
    unknown = cli(fixture_settings, "keys", "create", "--name", "x", "--scope", "alles")
    assert unknown.exit_code != 0
    assert "unknown scope" in unknown.output


# -- the tandem check ---------------------------------------------------------------------


def profile(client: Client, perspective: str, **answers: Any) -> str:
    base = {
        "themen": ["video", "cloud"],
        "treffen": "vor-ort",
        "ausprobieren": "voll",
        "puenktlich": "voll",
        "berichtslinie": "nein",
    }
    response = client.post(
        "/api/v1/questionnaires/probe-profil/responses",
        json={"version": 1, "perspective": perspective, "answers": {**base, **answers}},
    )
    assert response.status_code == 201, response.text
    token: str = response.json()["data"]["token"]
    return token


def test_tandem_check_explains_the_fit(client: Client) -> None:
    mentor = profile(client, "mentor", themen=["video", "cloud", "chat"])
    mentee = profile(client, "mentee", treffen="beides")
    response = client.post("/api/v1/tandem-checks", json={"mentor": mentor, "mentee": mentee})
    assert response.status_code == 200
    fit = response.json()["data"]
    criteria = {c["id"]: c for c in fit["criteria"]}
    assert criteria["themen"]["explanation"] == "Themen passen: Videokonferenzen, Cloud-Ablage"
    assert criteria["themen"]["score"] == 100.0
    assert criteria["treffen"]["score"] == 50.0  # vor Ort and "beides" are compatible
    assert criteria["treffen"]["explanation"] == "Vereinbar: vor Ort"
    assert criteria["haltung"]["score"] == 100.0
    # (2×100 + 1×50 + 1×100) / 4
    assert fit["score"] == 87.5
    assert (fit["excluded"], fit["ampel"], fit["title"]) == (False, "gruen", "Gut")
    assert [r["slug"] for r in fit["recommendations"]] == ["arbeitsablauf"]


def test_a_reporting_line_rules_the_pair_out_whatever_the_score(client: Client) -> None:
    mentor = profile(client, "mentor")
    mentee = profile(client, "mentee", berichtslinie="ja")
    fit = client.post("/api/v1/tandem-checks", json={"mentor": mentor, "mentee": mentee}).json()
    assert fit["data"]["score"] == 100.0
    assert fit["data"]["excluded"] is True
    assert fit["data"]["ampel"] == "rot"
    assert [x["id"] for x in fit["data"]["exclusions"]] == ["berichtslinie"]


def test_tandem_check_refuses_wrong_tokens(client: Client) -> None:
    mentor = profile(client, "mentor")
    quickcheck = submit(client).json()["data"]["token"]
    url = "/api/v1/tandem-checks"
    body = assert_problem(client.post(url, json={"mentor": mentor, "mentee": "x" * 32}), 422)
    assert body["invalid_params"] == [{"name": "mentee", "reason": "no result has this token"}]
    assert_problem(
        client.post(url, json={"mentor": mentor, "mentee": quickcheck}), 422, "different"
    )
    body = assert_problem(client.post(url, json={"mentor": mentor, "mentee": mentor}), 422)
    assert body["invalid_params"][0]["name"] == "mentee"
    assert_problem(client.post(url, json={"mentor": mentor}), 400)


# -- versions -----------------------------------------------------------------------------


def test_published_version_is_immutable_and_old_versions_stay_servable(
    fixture_settings: Settings,
) -> None:
    sync(fixture_settings)
    path = fixture_settings.content_dir / "questionnaires" / "probe.yaml"
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace("Fragen ist bei uns willkommen.", "Fragen ist erwünscht."))

    check = cli(fixture_settings, "content", "check")
    assert check.exit_code == 1
    assert "'probe' version 1 is published and its content changed" in check.stderr
    assert "set version: 2" in check.stderr
    refused = cli(fixture_settings, "content", "sync")
    assert refused.exit_code == 1
    assert "probe.yaml: version:" in refused.stderr

    # The change as version 2 is accepted; version 1 stays in the database, servable.
    path.write_text(
        original.replace("Fragen ist bei uns willkommen.", "Fragen ist erwünscht.").replace(
            "version: 1", "version: 2"
        )
    )
    synced = cli(fixture_settings, "content", "sync")
    assert synced.exit_code == 0, synced.output
    assert "added: probe@2" in synced.output
    registry = build_registry(fixture_settings, load_installed=False)
    with TestClient(create_app(fixture_settings, registry)) as c:
        latest = c.get("/api/v1/questionnaires/probe").json()["data"]
        assert latest["version"] == 2
        assert latest["versions"] == [
            {"version": 1, "status": "published"},
            {"version": 2, "status": "published"},
        ]
        old = c.get("/api/v1/questionnaires/probe?version=1").json()["data"]
        offenheit = {i["id"]: i for i in old["items"]}["offenheit"]
        assert offenheit["text"] == "Fragen ist bei uns willkommen."
        assert submit(c, version=1).status_code == 201

    # Retiring version 1 keeps it readable but closes it for new responses.
    retired = path.parent / "probe-v1.yaml"
    retired.write_text(original.replace("status: published", "status: retired"))
    assert cli(fixture_settings, "content", "sync").exit_code == 0
    with TestClient(create_app(fixture_settings, registry)) as c:
        assert c.get("/api/v1/questionnaires/probe?version=1").json()["data"]["status"] == "retired"
        assert_problem(submit(c, version=1), 422, "retired")
        assert submit(c, version=2).status_code == 201


def test_a_worker_that_read_the_version_stores_in_one_round_trip_and_answers_the_same(
    client: Client, fixture_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: once a worker has read a version, on PostgreSQL a submission to it is one
    statement (store if still published, read the recommended entries) without reading
    the version again; its answer is byte for byte the first one's, token aside. A version
    retired meanwhile elsewhere (another instance's sync) is still refused, nothing stored."""
    reads = []
    get_version = store.get_version

    async def counted(questionnaire_id: str, version: int) -> Any:
        reads.append((questionnaire_id, version))
        return await get_version(questionnaire_id, version)

    monkeypatch.setattr(store, "get_version", counted)
    monkeypatch.setattr(store, "_SEEN", {})
    first, second = submit(client), submit(client)
    assert first.status_code == second.status_code == 201
    postgres = not fixture_settings.database_url.startswith("sqlite")
    assert reads == [("probe", 1)] * (1 if postgres else 2)
    tokens = [r.json()["data"]["token"] for r in (first, second)]
    assert tokens[0] != tokens[1]
    bodies = [
        r.content.replace(t.encode(), b"TOKEN")
        for r, t in zip((first, second), tokens, strict=True)
    ]
    assert bodies[0] == bodies[1]
    assert client.get(second.json()["data"]["url"]).json()["data"] == second.json()["data"]

    url = fixture_settings.database_url
    stored = count_rows(url, "questionnaire_response")
    sql_value(url, "UPDATE questionnaire_version SET status = 'retired' WHERE key = 'probe@1'")
    assert_problem(submit(client), 422, "retired")
    assert count_rows(url, "questionnaire_response") == stored


# -- bodies: JSON only ----------------------------------------------------------------------

# Bodies a browser sends to any origin without a CORS preflight (and multipart's cousin).
NOT_JSON = [
    "text/plain",
    "text/plain;charset=UTF-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin-1",
    "application/jsonx",
]


def test_every_api_post_route_refuses_bodies_that_are_not_json(client: Client) -> None:
    # From the route table, so a POST route added later is covered too.
    posts = [
        re.sub(
            r"\{run_id:int\}", "1", route.path.replace("{questionnaire_id:str}", "probe")
        ).replace("{code:str}", "x")
        for route in client.app.routes
        if route.path.startswith("/api/")
        and "POST" in getattr(route, "methods", ())
        # Editorial routes ask who is calling first (401/403 before 415, also for keys):
        # tests/test_roles.py walks those; a signed-in non-JSON post is refused there too.
        and not any("roles" in handler.opt for handler in route.route_handlers)
    ]
    assert "/api/v1/questionnaires/probe/responses" in posts
    assert "/api/v1/tandem-checks" in posts
    body = json.dumps({"version": 1, "perspective": "mitarbeitende", "answers": ANSWERS})
    for path in posts:
        for content_type in NOT_JSON:
            response = client.post(path, content=body, headers={"Content-Type": content_type})
            problem = assert_problem(response, 415, "Content-Type: application/json")
            assert repr(content_type) in problem["detail"], problem
            assert response.headers["accept-post"] == "application/json"
    # Declared as JSON (with or without charset=utf-8), the same body is taken.
    for content_type in ("application/json", "application/json; charset=UTF-8"):
        response = client.post(
            "/api/v1/questionnaires/probe/responses",
            content=body,
            headers={"Content-Type": content_type},
        )
        assert response.status_code == 201, response.text


def test_the_schema_documents_415_for_api_bodies(client: Client) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    for path in ("/api/v1/questionnaires/{questionnaire_id}/responses", "/api/v1/tandem-checks"):
        assert "415" in paths[path]["post"]["responses"], path
