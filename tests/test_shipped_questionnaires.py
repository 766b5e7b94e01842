"""The questionnaires we ship: complete, consistent with the toolbox, and usable end to end."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient

from core.content.collect import load_all
from core.plugins import build_registry
from core.quickcheck.engine import asked_items, evaluate, options_of
from core.quickcheck.model import SCORED_TYPES, LoadedQuestionnaire, Questionnaire, text_in
from core.settings import Settings
from tests.conftest import SHIPPED_CONTENT

Client = TestClient[Any]


@pytest.fixture(scope="module")
def shipped() -> dict[str, Questionnaire]:
    settings = Settings(content_dir=SHIPPED_CONTENT)
    loaded, problems = load_all(build_registry(settings), settings)
    assert problems == [], "\n".join(map(str, problems))
    latest: dict[str, Questionnaire] = {}
    for q in loaded.questionnaires:
        if q.definition.id not in latest or q.definition.version > latest[q.definition.id].version:
            latest[q.definition.id] = q.definition
    return latest


@pytest.fixture(scope="module")
def versions() -> dict[tuple[str, int], LoadedQuestionnaire]:
    settings = Settings(content_dir=SHIPPED_CONTENT)
    loaded, problems = load_all(build_registry(settings), settings)
    assert problems == [], "\n".join(map(str, problems))
    return {(q.definition.id, q.definition.version): q for q in loaded.questionnaires}


def extreme_answers(d: Questionnaire, perspective: str, *, best: bool) -> dict[str, Any]:
    """Every visible item answered at the best (or worst) end of its scored range."""
    answers: dict[str, Any] = {}
    for item in asked_items(d, perspective):
        if item.visible_if is not None and not evaluate(item.visible_if, answers):
            continue
        options = options_of(d, item)
        if item.type in {"single_choice", "likert", "yes_no"}:
            if item.dimension is None:
                answers[item.id] = options[0].code
                continue
            up = best != item.reverse
            pick = (max if up else min)(options, key=lambda o: o.score or 0)
            answers[item.id] = pick.code
        elif item.type == "multiple_choice":
            good = [o.code for o in options if (o.score or 0) > 0]
            chosen = good if best or item.dimension is None else []
            answers[item.id] = chosen or [options[0].code]
            if item.max_choices is not None:
                answers[item.id] = answers[item.id][: item.max_choices]
        elif item.type == "ranking":
            answers[item.id] = [o.code for o in options][: item.max_choices or len(options)]
        elif item.type == "number":
            assert item.min is not None
            assert item.max is not None
            answers[item.id] = item.max if best != item.reverse else item.min
        elif item.required:
            answers[item.id] = "Eine kurze Anmerkung."
    return answers


def submit(client: Client, qid: str, perspective: str, answers: dict[str, Any]) -> Any:
    version = client.get(f"/api/v1/questionnaires/{qid}").json()["data"]["version"]
    response = client.post(
        f"/api/v1/questionnaires/{qid}/responses",
        json={"version": version, "perspective": perspective, "mode": "test", "answers": answers},
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


# -- the definitions ------------------------------------------------------------------------


def test_the_quickcheck_covers_both_perspectives_in_at_least_four_dimensions(
    shipped: dict[str, Questionnaire],
) -> None:
    q = shipped["quickcheck-reverse-mentoring"]
    assert q.status == "published"
    assert q.purpose == "assessment"
    assert {p.id for p in q.perspectives} == {"mitarbeitende", "unternehmen"}
    assert len(q.dimensions) >= 4
    for perspective in ("mitarbeitende", "unternehmen"):
        scored = [i for i in asked_items(q, perspective) if i.dimension and i.type in SCORED_TYPES]
        assert len(scored) >= 16, perspective
        per_dimension = {d.id: [i for i in scored if i.dimension == d.id] for d in q.dimensions}
        assert all(len(items) >= 3 for items in per_dimension.values()), per_dimension.keys()
    worded = [i for i in q.items if "unternehmen" in i.wording]
    assert len(worded) >= 8, "the company perspective needs its own wording"


def test_every_red_and_yellow_band_recommends_toolbox_entries(
    shipped: dict[str, Questionnaire],
) -> None:
    q = shipped["quickcheck-reverse-mentoring"]
    for owner, bands in [(d.id, d.bands) for d in q.dimensions] + [("overall", q.bands)]:
        assert (bands[0].ampel, bands[-1].ampel) == ("rot", "gruen"), owner
        for band in bands:
            if band.ampel != "gruen":
                assert band.recommendations, f"{owner}: {text_in(band.title)}"


def test_the_feedback_asks_mentors_and_mentees_and_ranks_barriers(
    shipped: dict[str, Questionnaire],
) -> None:
    q = shipped["feedback-durchlauf"]
    assert q.purpose == "feedback"
    assert {p.id for p in q.perspectives} == {"mentor", "mentee"}
    ranking = next(i for i in q.items if i.id == "barrieren-rangfolge")
    assert ranking.type == "ranking"
    assert len(ranking.options) >= 5
    assert len(q.items) >= 12


def test_the_tandem_profile_never_asks_for_gender_age_or_origin(
    shipped: dict[str, Questionnaire],
) -> None:
    q = shipped["tandem-profil"]
    assert q.version == 2
    assert q.purpose == "profile"
    assert q.matching is not None
    assert {c.rule for c in q.matching.criteria} == {
        "overlap",
        "reverse_overlap",
        "windows",
        "same",
        "different",
        "similarity",
    }
    # Pool-safe: no question about "the intended tandem person" (the Lotse marks pairs
    # instead), no names; the department is a coarse choice.
    assert q.matching.exclusions == []
    assert "berichtslinie" not in {i.id for i in q.items}
    for item in q.items:
        assert "vorgesehenen Tandem-Person" not in text_in(item.text), item.id
    bereich = next(i for i in q.items if i.id == "bereich")
    assert bereich.type == "single_choice"
    assert "keine Abteilungs- oder Teamnamen" in text_in(bereich.help)
    forbidden = re.compile(r"geschlecht|alter\b|lebensalter|jahrgang|herkunft|nationalit", re.I)
    for item in q.items:
        texts = [text_in(item.text), *(text_in(t) for t in item.wording.values())]
        texts += [text_in(o.label) for o in options_of(q, item)]
        assert not any(forbidden.search(t) for t in texts), item.id


# -- end to end through the API (SQLite and PostgreSQL) ------------------------------------


@pytest.mark.parametrize("perspective", ["mitarbeitende", "unternehmen"])
def test_a_quickcheck_at_either_end_gets_green_or_red_with_methods_that_open(
    shipped_client: Client, shipped: dict[str, Questionnaire], perspective: str
) -> None:
    q = shipped["quickcheck-reverse-mentoring"]
    best = submit(shipped_client, q.id, perspective, extreme_answers(q, perspective, best=True))
    assert best["overall"]["score"] == 100.0
    assert best["overall"]["ampel"] == "gruen"
    assert {d["ampel"] for d in best["dimensions"]} == {"gruen"}

    worst = submit(shipped_client, q.id, perspective, extreme_answers(q, perspective, best=False))
    assert worst["overall"]["score"] == 0.0
    assert worst["overall"]["ampel"] == "rot"
    for dimension in worst["dimensions"]:
        assert dimension["ampel"] == "rot"
        assert dimension["counted"] >= 3
        assert dimension["recommendations"], dimension["id"]
        for method in dimension["recommendations"]:
            assert method["title"]
            assert method["summary"]
            opened = shipped_client.get(f"/api/v1/entries/{method['slug']}")
            assert opened.status_code == 200, method["slug"]

    again = shipped_client.get(f"/api/v1/results/{worst['token']}")
    assert again.status_code == 200
    assert again.json()["data"]["overall"] == worst["overall"]


def test_the_company_perspective_is_served_in_its_own_wording(
    shipped_client: Client, shipped: dict[str, Questionnaire]
) -> None:
    q = shipped["quickcheck-reverse-mentoring"]
    item = next(i for i in q.items if "unternehmen" in i.wording)
    response = shipped_client.get(f"/api/v1/questionnaires/{q.id}?perspective=unternehmen")
    assert response.status_code == 200
    served = {i["id"]: i["text"] for i in response.json()["data"]["items"]}
    assert served[item.id] == text_in(item.wording["unternehmen"])
    assert served[item.id] != text_in(item.text)


def test_feedback_with_a_barrier_ranking_is_accepted(
    shipped_client: Client, shipped: dict[str, Questionnaire]
) -> None:
    q = shipped["feedback-durchlauf"]
    for perspective in ("mentor", "mentee"):
        answers = extreme_answers(q, perspective, best=True)
        assert "barrieren-rangfolge" in answers
        result = submit(shipped_client, q.id, perspective, answers)
        assert result["overall"]["ampel"] == "gruen"


def test_a_tandem_check_on_shipped_profiles_explains_itself(
    shipped_client: Client, shipped: dict[str, Questionnaire]
) -> None:
    q = shipped["tandem-profil"]
    mentor_answers = extreme_answers(q, "mentor", best=True)
    mentee_answers = extreme_answers(q, "mentee", best=True)
    # Alike in everything but the department: another part of the company counts fully.
    assert mentor_answers["bereich"] == "leitung"
    mentee_answers["bereich"] = "produktion"
    mentor = submit(shipped_client, q.id, "mentor", mentor_answers)["token"]
    mentee = submit(shipped_client, q.id, "mentee", mentee_answers)["token"]

    fit = shipped_client.post("/api/v1/tandem-checks", json={"mentor": mentor, "mentee": mentee})
    assert fit.status_code == 200, fit.text
    doc = fit.json()["data"]
    assert doc["version"] == 2
    assert doc["score"] == 100.0
    assert doc["excluded"] is False
    assert doc["ampel"] == "gruen"
    criteria = {c["id"]: c for c in doc["criteria"]}
    first_topic = text_in(next(i for i in q.items if i.id == "themen").options[0].label)
    assert first_topic in criteria["themen"]["explanation"]
    first_experience = text_in(next(i for i in q.items if i.id == "erfahrung").options[0].label)
    assert criteria["erfahrung"]["explanation"] == (
        "Der Mentee kann weitergeben, was die Mentorin oder der Mentor lernen möchte: "
        f"{first_experience}."
    )
    assert criteria["zeitfenster"]["explanation"].startswith(
        "Beide sind zur selben Zeit im Betrieb: vormittags (8 bis 12 Uhr)"
    )


def v1_profile(client: Client, perspective: str, **answers: Any) -> str:
    """A profile of version 1, which stays published next to version 2."""
    base = {
        "themen": ["videokonferenzen"],
        "zeitfenster": "vormittags",
        "treffen-form": "vor-ort",
        "ausprobieren": "voll",
        "fehler-lernchance": "voll",
        "termine-verlaesslich": "eher",
        "direkte-rueckmeldung": "eher",
        "fester-plan": "kaum",
        "berichtslinie": "nein",
    }
    response = client.post(
        "/api/v1/questionnaires/tandem-profil/responses",
        json={"version": 1, "perspective": perspective, "answers": {**base, **answers}},
    )
    assert response.status_code == 201, response.text
    token: str = response.json()["data"]["token"]
    return token


def test_version_1_stays_as_published_and_its_profiles_compare_with_version_1(
    shipped_client: Client,
    shipped: dict[str, Questionnaire],
    versions: dict[tuple[str, int], LoadedQuestionnaire],
) -> None:
    # The same definition as before version 2 (its stored hash), still published.
    v1 = versions[("tandem-profil", 1)]
    assert v1.hash == "5bd63b8e9d9ff338b96afcd522d016d9801e0e37047cf0eac90fa16017c0c7cb"
    assert v1.definition.status == "published"
    served = shipped_client.get("/api/v1/questionnaires/tandem-profil").json()["data"]
    assert served["version"] == 2  # new forms get version 2

    mentor = v1_profile(shipped_client, "mentor")
    mentee = v1_profile(shipped_client, "mentee")
    boss = v1_profile(shipped_client, "mentee", berichtslinie="ja")
    fit = shipped_client.post("/api/v1/tandem-checks", json={"mentor": mentor, "mentee": mentee})
    assert fit.status_code == 200, fit.text
    doc = fit.json()["data"]
    assert (doc["version"], doc["score"], doc["excluded"]) == (1, 100.0, False)
    assert [c["id"] for c in doc["criteria"]] == [
        "themen",
        "zeitfenster",
        "treffen-form",
        "haltung",
    ]
    ruled_out = shipped_client.post(
        "/api/v1/tandem-checks", json={"mentor": mentor, "mentee": boss}
    ).json()["data"]
    assert ruled_out["score"] == 100.0  # the score alone would say "fits"
    assert ruled_out["excluded"] is True
    assert ruled_out["ampel"] == "rot"
    assert [x["id"] for x in ruled_out["exclusions"]] == ["berichtslinie"]

    # A version 1 and a version 2 profile: refused, saying which versions met.
    q = shipped["tandem-profil"]
    new = submit(shipped_client, q.id, "mentee", extreme_answers(q, "mentee", best=True))
    refused = shipped_client.post(
        "/api/v1/tandem-checks", json={"mentor": mentor, "mentee": new["token"]}
    )
    assert refused.status_code == 422
    problem = refused.json()
    assert "(tandem-profil v1, tandem-profil v2)" in problem["detail"]
    assert problem["invalid_params"] == [
        {"name": "mentee", "reason": "different questionnaire or version"}
    ]
