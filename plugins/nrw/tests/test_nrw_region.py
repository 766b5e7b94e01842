"""NRW as a region: its Quickcheck overlay, its protected figures and its search words,
through mentoring40's test kit (an app with the core and just this plugin)."""

from __future__ import annotations

import asyncio
from typing import Any

import mentoring40_nrw

QUICKCHECK = "quickcheck-reverse-mentoring"


def answer_on_the_nrw_site(client: Any) -> str:
    """Answer the Quickcheck on the NRW site with the best option everywhere; the token."""
    doc = client.get(
        f"/api/v1/questionnaires/{QUICKCHECK}", params={"perspective": "unternehmen"}
    ).json()["data"]
    form: dict[str, list[str]] = {"perspective": ["unternehmen"], "version": [str(doc["version"])]}
    for item in doc["items"]:
        if item["required"]:  # every required item of this Quickcheck is a Likert item
            form[f"a.{item['id']}"] = [item["options"][0]["code"]]
    posted = client.post(f"/embed/nrw/quickcheck/{QUICKCHECK}", data=form, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    return str(posted.headers["location"].rsplit("/", 1)[1])


def test_a_result_on_the_nrw_site_recommends_nrw_entries(mentoring40_client: Any) -> None:
    token = answer_on_the_nrw_site(mentoring40_client)
    result = mentoring40_client.get(f"/api/v1/results/{token}").json()["data"]
    assert result["site"] == "nrw"
    assert result["overall"]["ampel"] == "gruen"
    assert [r["slug"] for r in result["overall"]["regional"]] == [
        "nrw-lotsen-qualifizieren",
        "nrw-erfahrungsaustausch-partnerbetriebe",
    ]
    page = mentoring40_client.get(f"/embed/nrw/results/{token}")
    assert "Empfehlungen von Mentoring 4.0 – Qualifizierung" in page.text


def test_the_nrw_figures_need_the_nrw_scope_and_count_only_nrw_responses(
    mentoring40_client: Any,
) -> None:
    from core.auth import create_key

    path = f"/api/v1/nrw/questionnaires/{QUICKCHECK}/stats"
    assert mentoring40_client.get(path).status_code == 401
    allowed = {"nrw:stats:read": "NRW", "stats:read": "core"}
    nrw_token, _ = asyncio.run(create_key("nrw-auswertung", ["nrw:stats:read"], allowed=allowed))
    core_token, _ = asyncio.run(create_key("kern", ["stats:read"], allowed=allowed))
    refused = mentoring40_client.get(path, headers={"Authorization": f"Bearer {core_token}"})
    assert refused.status_code == 403
    for _ in range(5):
        answer_on_the_nrw_site(mentoring40_client)
    figures = mentoring40_client.get(path, headers={"Authorization": f"Bearer {nrw_token}"})
    assert figures.status_code == 200
    body = figures.json()
    assert body["meta"]["sites"] == ["nrw"]
    nrw_count = body["data"]["responses"]
    assert nrw_count is not None  # enough to be shown
    assert nrw_count >= 5
    # A response in the workspace is not NRW's: the NRW figures stay, the core's grow.
    doc = mentoring40_client.get(f"/api/v1/questionnaires/{QUICKCHECK}").json()["data"]
    answers = {i["id"]: i["options"][0]["code"] for i in doc["items"] if i["required"]}
    posted = mentoring40_client.post(
        f"/api/v1/questionnaires/{QUICKCHECK}/responses",
        json={"version": doc["version"], "perspective": "unternehmen", "mode": "real",
              "answers": answers},
    )  # fmt: skip
    assert posted.status_code == 201, posted.text
    again = mentoring40_client.get(path, headers={"Authorization": f"Bearer {nrw_token}"})
    assert again.json()["data"]["responses"] == nrw_count
    overall = asyncio.run(_all_real_responses())
    assert overall == nrw_count + 1
    missing = mentoring40_client.get(
        "/api/v1/nrw/questionnaires/gibt-es-nicht/stats",
        headers={"Authorization": f"Bearer {nrw_token}"},
    )
    assert missing.status_code == 404


async def _all_real_responses() -> int:
    from core.quickcheck import store

    return len(await store.responses(QUICKCHECK))


def test_nrw_entries_are_found_by_the_regions_name() -> None:
    doc: dict[str, Any] = {"text_terms": "Berufskolleg"}
    mentoring40_nrw.search_document(entry={"source": "nrw"}, doc=doc)
    assert doc["text_terms"] == "Berufskolleg NRW Nordrhein-Westfalen"
    core_doc: dict[str, Any] = {"text_terms": ""}
    mentoring40_nrw.search_document(entry={"source": "core"}, doc=core_doc)
    assert core_doc["text_terms"] == ""
    settings: dict[str, Any] = {"synonyms": {}}
    mentoring40_nrw.search_settings(index_settings=settings)
    mentoring40_nrw.search_settings(index_settings=settings)  # idempotent
    assert settings["synonyms"] == {"nrw": ["nordrhein-westfalen"]}
