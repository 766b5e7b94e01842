"""Tandem matching in a run (issue 18) on SQLite and PostgreSQL: profiles through the run's
profile links join the pool under a pseudonym, the matrix explains every pair, the
proposal is optimal and respects exclusions, markings, pins and capacities, the agreed
tandems come out as a page and a PDF; bad input is refused in German and stores nothing;
another Lotse gets 404."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from pypdf import PdfReader

from core.settings import Settings
from tests.accounts_support import SignedIn, signed_in, use
from tests.runs_support import NEW_RUN, Client, app_on, bearer, count_rows, current_version

PROFILE = "tandem-profil"
LIKERT = ("ausprobieren", "fehler-lernchance", "termine-verlaesslich", "direkte-rueckmeldung")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Client, dict[str, str], Settings]]:
    yield from app_on(request, tmp_path_factory.mktemp("tandems"))


ZEIT = {"flexibel": "gleitzeit", "vormittags": "teilzeit-vormittags"}


def profile(themen: list[str], zeit: str = "flexibel", form: str = "beides", **more: str) -> Any:
    """Answers to the tandem profile's current version (2)."""
    answers: dict[str, Any] = {
        "themen": themen,
        "erfahrung": ["kundenkontakt", "ablaeufe"],
        "arbeitszeit": ZEIT.get(zeit, zeit),
        "abwesenheit": "nein",
        "treffen-form": form,
        "bereich": more.get("bereich", "verwaltung"),
        "fester-plan": "eher",
    }
    answers.update({item: more.get(item.replace("-", "_"), "voll") for item in LIKERT})
    return answers


def profile_v1(themen: list[str]) -> Any:
    """Answers to version 1 (kept published: pools that began with it still match)."""
    answers: dict[str, Any] = {
        "themen": themen,
        "zeitfenster": "flexibel",
        "treffen-form": "beides",
        "berichtslinie": "nein",
        "fester-plan": "eher",
    }
    answers.update(dict.fromkeys(LIKERT, "voll"))
    return answers


def new_run(client: Client, lotse: SignedIn, keys: dict[str, str]) -> tuple[int, dict[str, str]]:
    """A run of ``lotse`` with open profile links; returns its id and the codes by role."""
    use(lotse)
    made = client.post("/durchlaeufe/neu", data={**NEW_RUN, **lotse.form}, follow_redirects=False)
    assert made.status_code == 303, made.text[:300]
    run_id = int(made.headers["location"].rsplit("/", 1)[1])
    opened = client.post(
        f"/durchlaeufe/{run_id}/messung", data={"phase": "profil", **lotse.form},
        follow_redirects=False,
    )  # fmt: skip
    assert opened.status_code == 303
    doc = client.get(f"/api/v1/runs/{run_id}", headers=bearer(keys["read"])).json()["data"]
    codes = {c["perspective"]: c["code"] for c in doc["codes"] if c["phase"] == "profil"}
    assert set(codes) == {"mentor", "mentee"}
    return run_id, codes


def give_profile(
    client: Client, code: str, pseudonym: str, answers: Any, version: int | None = None
) -> Any:
    body = {
        "version": version or current_version(client, PROFILE),
        "run": code,
        "pseudonym": pseudonym,
        "answers": answers,
    }
    return client.post(f"/api/v1/questionnaires/{PROFILE}/responses", json=body)


def brute_force_total(cells: list[list[dict[str, Any]]], threshold: float, cap: int) -> float:
    """The best sum of fits by trying every assignment (small pools only)."""
    mentees, mentors = len(cells), len(cells[0])
    best = 0.0
    choices = [None, *range(mentors)]
    for combo in itertools.product(choices, repeat=mentees):
        used = [combo.count(j) for j in range(mentors)]
        if any(u > cap for u in used):
            continue
        total = 0.0
        for i, j in enumerate(combo):
            if j is None:
                continue
            c = cells[i][j]
            if c["blocked"] or c["score"] < threshold:
                break
            total += c["score"]
        else:
            best = max(best, total)
    return round(best, 1)


def test_profiles_matrix_proposal_pins_and_handout(
    app: tuple[Client, dict[str, str], Settings],
) -> None:
    client, keys, settings = app
    lotse = signed_in(client, "lotse")
    run_id, codes = new_run(client, lotse, keys)
    people = {
        ("mentor", "Lernfuchs"): profile(["videokonferenzen", "cloud-ablage"]),
        ("mentor", "Team Blau 2"): profile(["tabellenkalkulation", "teamchat"], "vormittags"),
        ("mentee", "Eule"): profile(["videokonferenzen"], form="vor-ort"),
        ("mentee", "Dachs"): profile(["tabellenkalkulation"], "vormittags"),
        ("mentee", "Igel"): profile(["cloud-ablage", "teamchat"], ausprobieren="nicht"),
    }
    for (role, name), answers in people.items():
        got = give_profile(client, codes[role], name, answers)
        assert got.status_code == 201, got.text
    # Profiles do not enter the run's views: the pool holds them.
    assert count_rows(settings.database_url, "run_response") == 0
    use(lotse)
    pool = client.get(f"/api/v1/runs/{run_id}/pool").json()["data"]
    assert {(m["role"], m["pseudonym"]) for m in pool["members"]} == set(people)

    # Mark "Team Blau 2" as the direct supervisor of "Dachs": that cell is blocked.
    marked = client.post(
        f"/api/v1/runs/{run_id}/pair-marks",
        json={"mentor": "Team Blau 2", "mentee": "Dachs", "kind": "reports_to"},
        headers=lotse.headers,
    )
    assert marked.status_code == 201, marked.text
    matrix = client.get(f"/api/v1/runs/{run_id}/matrix").json()["data"]
    assert matrix["mentors"] == ["Lernfuchs", "Team Blau 2"]
    assert matrix["mentees"] == ["Eule", "Dachs", "Igel"]
    cell = matrix["cells"][1][1]
    assert cell["blocked"]
    assert cell["score"] is None
    # The comparer's own German sentence explains the Lotse's marking.
    assert "Direkte Vorgesetzten-Beziehung: Die Lotsin oder der Lotse hat vermerkt" in " ".join(
        cell["blocked_because"]
    )
    first = matrix["cells"][0][0]
    assert first["score"] > 0
    assert first["ampel"] in {"rot", "gelb", "gruen"}
    themen = next(c for c in first["criteria"] if c["id"] == "themen")
    assert themen["explanation"] == "Digitale Themen passen: Videokonferenzen."

    # Capacity 2 for everybody, threshold 0: the proposal equals the brute-force optimum.
    proposed = client.post(
        f"/api/v1/runs/{run_id}/assignment",
        json={"capacity": 2, "threshold": 0},
        headers=lotse.headers,
    )
    assert proposed.status_code == 200, proposed.text
    proposal = proposed.json()["data"]["proposal"]
    assert proposal["total"] == brute_force_total(matrix["cells"], 0, 2)
    pairs = {(p["mentor"], p["mentee"]) for p in proposal["pairs"]}
    assert ("Team Blau 2", "Dachs") not in pairs
    assert proposed.json()["data"]["change"]["total_before"] is None

    # Pin a pair the optimum did not choose, re-run: it is kept, the page says what changed.
    other = next(
        (matrix["mentors"][j], matrix["mentees"][i])
        for i, row in enumerate(matrix["cells"])
        for j, c in enumerate(row)
        if not c["blocked"] and (matrix["mentors"][j], matrix["mentees"][i]) not in pairs
    )
    page_pin = client.post(
        f"/durchlaeufe/{run_id}/tandems",
        data={"aktion": "markieren", "mentor": other[0], "mentee": other[1], "kind": "pin",
              **lotse.form},
        follow_redirects=False,
    )  # fmt: skip
    assert page_pin.status_code == 303
    rerun = client.post(
        f"/durchlaeufe/{run_id}/tandems", data={"aktion": "vorschlagen", **lotse.form}
    )
    assert rerun.status_code == 200
    after = client.get(f"/api/v1/runs/{run_id}/assignment").json()["data"]
    assert other in {(p["mentor"], p["mentee"]) for p in after["proposal"]["pairs"]}
    assert after["change"]["total_before"] == proposal["total"]
    assert after["proposal"]["total"] <= proposal["total"]
    assert f"{other[0]} – {other[1]}" in rerun.text
    assert "Neu:" in rerun.text
    assert "Vorher: Summe" in rerun.text

    # The most balanced alternative: as many tandems, weakest pair at least as strong.
    balanced = client.post(
        f"/api/v1/runs/{run_id}/assignment", json={"objective": "balanced"}, headers=lotse.headers
    ).json()["data"]["proposal"]
    assert len(balanced["pairs"]) == len(after["proposal"]["pairs"])
    assert balanced["minimum"] >= after["proposal"]["minimum"]

    agreed = client.post(
        f"/durchlaeufe/{run_id}/tandems", data={"aktion": "vereinbaren", **lotse.form}
    )
    assert "Die Tandems sind vereinbart" in agreed.text
    sheet = client.get(f"/durchlaeufe/{run_id}/tandems/ausgabe")
    assert sheet.status_code == 200
    assert "Tandem-Steckbrief" in sheet.text
    assert "Ziele im Tandem vereinbaren" in sheet.text
    pdf = client.get(f"/durchlaeufe/{run_id}/tandems/ausgabe.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) == len(balanced["pairs"])
    for p in balanced["pairs"]:
        assert f"Tandem: {p['mentor']} und {p['mentee']}" in text
    assert "Themen" in text
    assert "Ablauf eines Tandem-Treffens" in text

    # Another Lotse: 404 on the pages and the API, nothing of the pool leaks.
    bert = signed_in(client, "lotse")
    assert client.get(f"/durchlaeufe/{run_id}/tandems").status_code == 404
    assert client.get(f"/api/v1/runs/{run_id}/matrix").status_code == 404
    refused = client.post(
        f"/api/v1/runs/{run_id}/pool", json={"role": "mentee", "pseudonym": "Spion"},
        headers=bert.headers,
    )  # fmt: skip
    assert refused.status_code == 404
    assert client.get(f"/durchlaeufe/{run_id}/tandems/ausgabe.pdf").status_code == 404
    # An API key is no Lotse: the tandem routes need the session.
    client.cookies.clear()
    assert client.get(f"/api/v1/runs/{run_id}/pool", headers=bearer(keys["write"])).status_code in {
        401,
        403,
    }


def test_bad_pseudonyms_and_duplicates_store_nothing(
    app: tuple[Client, dict[str, str], Settings],
) -> None:
    client, keys, settings = app
    lotse = signed_in(client, "lotse")
    run_id, codes = new_run(client, lotse, keys)
    before = count_rows(settings.database_url, "questionnaire_response")
    for bad in ("", "x", "anna@example.org", "0171 2345678", "https://example.org", "A" * 31):
        got = give_profile(client, codes["mentor"], bad, profile(["videokonferenzen"]))
        assert got.status_code == 422, (bad, got.text)
        assert got.json()["invalid_params"][0]["name"] == "pseudonym"
    assert (
        give_profile(client, codes["mentor"], "Lernfuchs", profile(["teamchat"])).status_code == 201
    )
    again = give_profile(client, codes["mentee"], "lernfuchs", profile(["teamchat"]))
    assert again.status_code == 409
    assert count_rows(settings.database_url, "questionnaire_response") == before + 1

    # The form says it in German and keeps the answers.
    form = client.get(f"/quickcheck/{PROFILE}?run={codes['mentee']}")
    assert "Ihr Pseudonym für die Tandembildung" in form.text
    fields = {
        "themen": "teamchat",
        "erfahrung": "kundenkontakt",
        "arbeitszeit": "gleitzeit",
        "abwesenheit": "nein",
        "treffen-form": "beides",
        "bereich": "verwaltung",
        **dict.fromkeys((*LIKERT, "fester-plan"), "voll"),
    }
    sent = client.post(
        f"/quickcheck/{PROFILE}",
        data={"run": codes["mentee"], "version": "2", "pseudonym": "ich@firma.de",
              **{f"a.{k}": v for k, v in fields.items()}},
        follow_redirects=False,
    )  # fmt: skip
    assert sent.status_code == 422
    assert "Dieses Pseudonym geht nicht." in sent.text
    assert 'value="ich@firma.de"' in sent.text  # kept for correcting, like the answers
    assert count_rows(settings.database_url, "questionnaire_response") == before + 1
    # With a good pseudonym the same form goes through to the result.
    sent = client.post(
        f"/quickcheck/{PROFILE}",
        data={"run": codes["mentee"], "version": "2", "pseudonym": "Azubi 3",
              **{f"a.{k}": v for k, v in fields.items()}},
        follow_redirects=False,
    )  # fmt: skip
    assert sent.status_code == 303, sent.text[:2000]
    assert count_rows(settings.database_url, "questionnaire_response") == before + 2

    # The Lotse adds a pseudonym; the person's profile under it joins that member.
    use(lotse)
    added = client.post(
        f"/durchlaeufe/{run_id}/tandems",
        data={"aktion": "hinzufuegen", "role": "mentee", "pseudonym": "Eule", **lotse.form},
        follow_redirects=False,
    )
    assert added.status_code == 303
    bad = client.post(
        f"/durchlaeufe/{run_id}/tandems",
        data={"aktion": "hinzufuegen", "role": "mentee", "pseudonym": "max.mustermann@web.de",
              **lotse.form},
    )  # fmt: skip
    assert bad.status_code == 422
    assert "Dieses Pseudonym geht nicht." in bad.text
    assert give_profile(client, codes["mentee"], "Eule", profile(["teamchat"])).status_code == 201
    use(lotse)
    members = client.get(f"/api/v1/runs/{run_id}/pool").json()["data"]["members"]
    assert [(m["pseudonym"], m["profile_version"] is not None) for m in members] == [
        ("Lernfuchs", True),
        ("Azubi 3", True),
        ("Eule", True),
    ]
    # Removing a member deletes its profile answers too.
    gone = client.delete(f"/api/v1/runs/{run_id}/pool/Eule", headers=lotse.headers)
    assert gone.status_code == 204
    assert count_rows(settings.database_url, "questionnaire_response") == before + 2
    missing = client.delete(f"/api/v1/runs/{run_id}/pool/Niemand", headers=lotse.headers)
    assert missing.status_code == 404


def test_pools_that_cannot_be_matched_say_why_in_german(
    app: tuple[Client, dict[str, str], Settings],
) -> None:
    client, keys, _ = app
    lotse = signed_in(client, "lotse")
    run_id, codes = new_run(client, lotse, keys)
    use(lotse)
    empty = client.post(f"/api/v1/runs/{run_id}/assignment", json={}, headers=lotse.headers)
    assert empty.status_code == 422
    assert "Der Pool ist noch leer" in empty.json()["detail"]

    give_profile(client, codes["mentor"], "Lernfuchs", profile(["teamchat"]))
    use(lotse)
    only = client.post(
        f"/durchlaeufe/{run_id}/tandems", data={"aktion": "vorschlagen", **lotse.form}
    )
    assert only.status_code == 422
    assert "nur Mentorinnen und Mentoren und keine Mentees" in only.text

    give_profile(client, codes["mentee"], "Eule", profile(["teamchat"]))
    use(lotse)
    client.post(
        f"/api/v1/runs/{run_id}/pair-marks",
        json={"mentor": "Lernfuchs", "mentee": "Eule", "kind": "not_with"},
        headers=lotse.headers,
    )
    blocked = client.post(f"/api/v1/runs/{run_id}/assignment", json={}, headers=lotse.headers)
    assert blocked.status_code == 422
    assert "Jedes mögliche Tandem ist ausgeschlossen" in blocked.json()["detail"]
    client.delete(
        f"/api/v1/runs/{run_id}/pair-marks?mentor=Lernfuchs&mentee=Eule&kind=not_with",
        headers=lotse.headers,
    )
    no_room = client.post(
        f"/api/v1/runs/{run_id}/assignment", json={"capacity": 0}, headers=lotse.headers
    )
    assert no_room.status_code == 422
    assert "Kapazität 0" in no_room.json()["detail"]
    client.post(f"/api/v1/runs/{run_id}/assignment", json={"capacity": 1}, headers=lotse.headers)
    give_profile(client, codes["mentee"], "Dachs", profile(["teamchat"]))
    use(lotse)
    page = client.get(f"/durchlaeufe/{run_id}/tandems")
    assert "können zusammen höchstens 1 Mentees begleiten" in page.text
    # A pin beyond the capacity is refused with the reason.
    for mentee in ("Eule", "Dachs"):
        client.post(
            f"/api/v1/runs/{run_id}/pair-marks",
            json={"mentor": "Lernfuchs", "mentee": mentee, "kind": "pin"},
            headers=lotse.headers,
        )
    over = client.post(f"/api/v1/runs/{run_id}/assignment", json={}, headers=lotse.headers)
    assert over.status_code == 422
    assert "mehr Tandems festgelegt" in over.json()["detail"]
    bad_kind = client.post(
        f"/api/v1/runs/{run_id}/pair-marks",
        json={"mentor": "Lernfuchs", "mentee": "Niemand", "kind": "pin"},
        headers=lotse.headers,
    )
    assert bad_kind.status_code == 422
    no_csrf = client.post(f"/api/v1/runs/{run_id}/assignment", json={})
    assert no_csrf.status_code == 403


def test_mixed_profile_versions_are_not_compared(
    app: tuple[Client, dict[str, str], Settings],
) -> None:
    """A profile of version 1 in a pool of version 2 profiles is left out and named; a
    pool that began with version 1 is still matched (with version 1's rules)."""
    client, keys, _settings = app
    lotse = signed_in(client, "lotse")
    run_id, codes = new_run(client, lotse, keys)
    give_profile(client, codes["mentor"], "Lernfuchs", profile(["teamchat"]))
    give_profile(client, codes["mentee"], "Eule", profile(["teamchat"]))
    old = give_profile(client, codes["mentee"], "Dachs", profile_v1(["teamchat"]), version=1)
    assert old.status_code == 201, old.text
    use(lotse)
    matrix = client.get(f"/api/v1/runs/{run_id}/matrix").json()["data"]
    assert matrix["version"] == 2
    assert matrix["mentees"] == ["Eule"]
    assert "Fassung 1" in matrix["left_out"]["Dachs"]
    assert any("Nicht verglichen: „Dachs“ (Fassung 1)" in n for n in matrix["notes"])
    page = client.get(f"/durchlaeufe/{run_id}/tandems")
    assert "Nicht verglichen: „Dachs“ (Fassung 1)" in page.text

    # A pool of version 1 profiles: matched, "same team" is noted as not weighed there.
    run_v1, codes_v1 = new_run(client, lotse, keys)
    for role, name in (("mentor", "Uhu"), ("mentee", "Luchs")):
        got = give_profile(client, codes_v1[role], name, profile_v1(["teamchat"]), version=1)
        assert got.status_code == 201, got.text
    use(lotse)
    client.post(
        f"/api/v1/runs/{run_v1}/pair-marks",
        json={"mentor": "Uhu", "mentee": "Luchs", "kind": "same_team"},
        headers=lotse.headers,
    )
    old_matrix = client.get(f"/api/v1/runs/{run_v1}/matrix").json()["data"]
    assert old_matrix["version"] == 1
    (cell,) = old_matrix["cells"][0]
    assert not cell["blocked"]
    assert "bezieht das nicht in die Passung ein" in cell["notes"][0]
    proposed = client.post(
        f"/api/v1/runs/{run_v1}/assignment", json={"threshold": 0}, headers=lotse.headers
    )
    assert proposed.status_code == 200, proposed.text
    assert [(p["mentor"], p["mentee"]) for p in proposed.json()["data"]["proposal"]["pairs"]] == [
        ("Uhu", "Luchs")
    ]


def test_same_team_lowers_the_fit_through_the_department_criterion(
    app: tuple[Client, dict[str, str], Settings],
) -> None:
    """The Lotse's "same team" marking reaches the comparer: the department criterion
    (different departments widen the view) scores 0 and the cell's fit drops; removing
    the marking restores it."""
    client, keys, _settings = app
    lotse = signed_in(client, "lotse")
    run_id, codes = new_run(client, lotse, keys)
    give_profile(client, codes["mentor"], "Lernfuchs", profile(["teamchat"], bereich="technik"))
    give_profile(client, codes["mentee"], "Eule", profile(["teamchat"], bereich="vertrieb"))
    use(lotse)

    def cell() -> dict[str, Any]:
        return client.get(f"/api/v1/runs/{run_id}/matrix").json()["data"]["cells"][0][0]

    before = cell()
    bereich = next(c for c in before["criteria"] if c["id"] == "bereich")
    assert bereich["score"] == 100
    marked = client.post(
        f"/api/v1/runs/{run_id}/pair-marks",
        json={"mentor": "Lernfuchs", "mentee": "Eule", "kind": "same_team"},
        headers=lotse.headers,
    )
    assert marked.status_code == 201, marked.text
    after = cell()
    assert not after["blocked"]
    assert after["marks"] == ["same_team"]
    bereich = next(c for c in after["criteria"] if c["id"] == "bereich")
    assert bereich["score"] == 0
    assert "dass beide im selben Team arbeiten" in bereich["explanation"]
    assert after["score"] < before["score"]
    proposal = client.post(
        f"/api/v1/runs/{run_id}/assignment", json={"threshold": 0}, headers=lotse.headers
    ).json()["data"]["proposal"]
    assert proposal["pairs"][0]["fit"] == after["score"]
