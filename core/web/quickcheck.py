"""The Quickcheck pages: the list, the form (a plain form post; JavaScript shows and
hides conditional items), its submission and the result, in the workspace and embeds.

Validation, scoring and storage are the Quickcheck service's (core.quickcheck.service),
as for the JSON API; its refusals become German messages on the form.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath
from markupsafe import Markup

from core.content import queries
from core.http.input_checks import SINGLE_PARAMS
from core.http.metrics import QUICKCHECK_SUBMISSIONS
from core.http.numbers import whole_number
from core.quickcheck import engine, store
from core.quickcheck.model import text_in
from core.quickcheck.present import ItemDoc, Recommendation, definition_doc, result_doc
from core.quickcheck.service import (
    AnswersInvalid,
    QuestionnaireNotFound,
    QuickcheckError,
    find_version,
    submit_answers,
)
from core.runs.pool import PSEUDONYM_RULE, PoolError, checked_pseudonym
from core.runs.service import CodeRefused, resolve_code, submit_for_run
from core.web.base import Req, log, not_found, on_site, render, workspace
from core.web.forms import FormState, german_reason, parse_form, posted_from_elsewhere
from core.web.qr import qr_svg
from core.web.render import Page

# The largest questionnaire version the database's integer column holds.
MAX_VERSION = 2**31 - 1
# Submissions count towards the same per-client limit as the API's (core.http.ratelimit).
SUBMIT = {"rate_limit": "submit"}
QUICKCHECK = {SINGLE_PARAMS: ("perspective", "probelauf", "run")}
PURPOSE_ORDER = {"assessment": 0, "profile": 1, "feedback": 2}
# Below the next steps, each area lists at most this many further recommendations.
MORE_PER_AREA = 2
# What a person with a refused invitation link reads, and what to do (nothing was stored).
RUN_CODE_MESSAGES = {
    "malformed": (
        "Dieser Einladungslink ist unvollständig oder verändert. Bitte öffnen Sie den Link "
        "noch einmal genau so, wie Sie ihn bekommen haben, oder scannen Sie den QR-Code."
    ),
    "unknown": (
        "Zu diesem Einladungslink gibt es keinen Durchlauf. Bitte prüfen Sie den Link oder "
        "fragen Sie die Lotsin oder den Lotsen nach dem richtigen."
    ),
    "closed": (
        "Dieser Einladungslink ist geschlossen und nimmt keine Antworten mehr an. Fragen Sie "
        "die Lotsin oder den Lotsen, ob es einen neuen Link gibt."
    ),
    "questionnaire": "Dieser Einladungslink gehört zu einem anderen Fragebogen.",
    "perspective": "Dieser Einladungslink gilt für eine andere Sicht.",
    "test": "Ein Probelauf kann nicht für einen Durchlauf zählen.",
}


def _refused_link(page: Page, exc: CodeRefused) -> Response[str]:
    status = 410 if exc.reason == "closed" else 404 if exc.reason == "unknown" else 422
    return render(
        page, "error.html", status=status, title="Einladungslink nicht gültig",
        message=RUN_CODE_MESSAGES[exc.reason] + " Es wurde nichts gespeichert.",
    )  # fmt: skip


CHECK_ANSWERS = "Einige Antworten fehlen oder passen nicht; bitte sehen Sie sie sich an."


async def offered(page: Page) -> list[dict[str, Any]]:
    """The published questionnaires this page offers (a site may name them)."""
    found: list[dict[str, Any]] = []
    wanted = page.site.questionnaires if page.site else None
    for qid in await store.version_overview():
        latest = await store.latest_published(qid)
        if latest is None:
            continue
        d = latest.definition
        if wanted is not None and qid not in wanted:
            continue
        if wanted is None and page.site is not None and d.purpose != "assessment":
            continue
        found.append(
            {
                "id": qid,
                "purpose": d.purpose,
                "title": text_in(d.title, page.lang),
                "description": text_in(d.description, page.lang) if d.description else "",
                "perspectives": [(p.id, text_in(p.label, page.lang)) for p in d.perspectives],
            }
        )
    # The Quickcheck (where a consultation starts) before the feedback after a run.
    found.sort(key=lambda q: PURPOSE_ORDER.get(q["purpose"], len(PURPOSE_ORDER)))
    return found


def _no_questionnaire(page: Page, questionnaire_id: str) -> Response[str]:
    return not_found(page, f"Es gibt keinen Fragebogen „{questionnaire_id}“.")


async def _quickcheck_list(page: Page) -> Response[str]:
    return render(page, "quickcheck_list.html", questionnaires=await offered(page))


async def _quickcheck_form(
    request: Req,
    page: Page,
    questionnaire_id: str,
    *,
    state: FormState | None = None,
    perspective: str | None = None,
    status: int = 200,
    message: str | None = None,
    trial: bool | None = None,
    run_code: str | None = None,
    pseudonym: str = "",
    pseudonym_error: str | None = None,
) -> Response[str]:
    """The form; ``trial`` (or ``?probelauf=1``): a Lotse's demonstration run, stored with
    mode "test" so it never enters the statistics."""
    if trial is None:
        trial = request.query_params.get("probelauf") == "1"
    run_code = run_code or request.query_params.get("run")
    pool_link = False  # a run's profile link: the answer joins its pool under a pseudonym
    if run_code is not None:
        try:
            info = await resolve_code(run_code)
        except CodeRefused as exc:
            return _refused_link(page, exc)
        if info.questionnaire_id != questionnaire_id:
            return _refused_link(page, CodeRefused("questionnaire"))
        perspective, trial = info.perspective, False
        pool_link = info.phase == "profil"
    if questionnaire_id not in {q["id"] for q in await offered(page)}:
        return _no_questionnaire(page, questionnaire_id)
    try:
        found = await find_version(questionnaire_id, None)
    except QuestionnaireNotFound:  # withdrawn since the list above was read
        return _no_questionnaire(page, questionnaire_id)
    d = found.definition
    ids = [p.id for p in d.perspectives]
    chosen = perspective or request.query_params.get("perspective")
    if chosen not in ids:
        chosen = ids[0] if len(ids) == 1 else None
    versions = (await store.version_overview())[questionnaire_id]
    doc = definition_doc(d, found.hash, found.status, versions, page.lang, chosen)
    dimensions = {dim.id: dim for dim in doc.dimensions}
    # Entries that link to this questionnaire, e.g. its paper version to print.
    print_versions = [
        e
        for e in await queries.entries_linking_questionnaire(questionnaire_id)
        if page.site is None or page.site.shows(e)
    ]
    return render(
        page,
        "quickcheck.html",
        status=status,
        cache="no-store",
        q=doc,
        perspective=chosen,
        dimensions=dimensions,
        state=state or FormState(),
        message=message,
        trial=trial,
        condition_json=_condition_json,
        sections=form_sections(doc.items),
        print_versions=print_versions,
        run_code=run_code,
        run_min_group=request.app.state.settings.run_min_group,
        pool_link=pool_link,
        pseudonym=pseudonym,
        pseudonym_error=pseudonym_error,
        pseudonym_rule=PSEUDONYM_RULE,
    )


def form_sections(items: list[ItemDoc]) -> list[dict[str, Any]]:
    """The form's parts: a new one where the dimension changes; items without a dimension
    stay in the part before them (a follow-up question, a closing remark)."""
    sections: list[dict[str, Any]] = []
    for item in items:
        if not sections or (item.dimension and item.dimension != sections[-1]["dimension"]):
            sections.append({"dimension": item.dimension, "items": []})
        sections[-1]["items"].append(item)
    return sections


def _condition_json(condition: dict[str, Any] | None) -> str:
    return json.dumps(condition, ensure_ascii=False, separators=(",", ":")) if condition else ""


async def _quickcheck_submit(request: Req, page: Page, questionnaire_id: str) -> Response[str]:
    if (elsewhere := posted_from_elsewhere(request, page)) is not None:
        log.info("Quickcheck form post from another origin refused: %r", elsewhere[:200])
        return render(
            page, "error.html", status=403, title="Nicht erlaubt",
            message="Dieses Formular kann nur auf den Seiten des Werkzeugkastens abgeschickt "
            "werden. Bitte öffnen Sie den Fragebogen dort und senden Sie ihn erneut ab.",
        )  # fmt: skip
    if questionnaire_id not in {q["id"] for q in await offered(page)}:
        return _no_questionnaire(page, questionnaire_id)
    # Our forms send urlencoded fields. Multipart (file uploads) is refused unread: the
    # toolbox takes no uploads anywhere.
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return render(
            page, "error.html", status=415, title="Nicht unterstützt",
            message="Dieses Formular nimmt nur ausgefüllte Felder an, keine Dateien.",
        )  # fmt: skip
    form = await request.form()
    fields: dict[str, list[str]] = {key: form.getall(key) for key in form}
    perspective = (fields.get("perspective") or [""])[0] or None
    raw_version = (fields.get("version") or [""])[0]
    trial = (fields.get("mode") or [""])[0] == "test"
    run_code = (fields.get("run") or [""])[0] or None
    pseudonym = (fields.get("pseudonym") or [""])[0][:200]
    pseudonym_error = None
    if run_code is not None:
        try:
            info = await resolve_code(run_code)
        except CodeRefused as exc:
            return _refused_link(page, exc)
        perspective = info.perspective
        if info.phase == "profil":  # checked with the answers: every problem at once
            try:
                checked_pseudonym(pseudonym)
            except PoolError as exc:
                pseudonym_error = exc.german
    try:
        found = await find_version(questionnaire_id, None)
    except QuestionnaireNotFound:  # withdrawn since the list above was read
        return _no_questionnaire(page, questionnaire_id)
    d = found.definition
    if perspective not in {p.id for p in d.perspectives}:
        return await _quickcheck_form(
            request, page, questionnaire_id, status=422, trial=trial, run_code=run_code,
            message="Bitte wählen Sie zuerst, aus welcher Sicht Sie antworten.",
        )  # fmt: skip
    # A version that is not a number is a 400 naming it (a German page), not a guess.
    version = (
        whole_number(raw_version, "version", maximum=MAX_VERSION)
        if raw_version.strip()
        else d.version
    )
    answers, state = parse_form(d, perspective, fields)
    if state.errors:
        # List every problem at once, not the unreadable fields first and the rest later.
        for problem in engine.validate_answers(d, perspective, answers)[1]:
            state.errors.setdefault(problem.item, german_reason(problem.reason))
        order = [item.id for item in engine.asked_items(d, perspective)]
        state.errors = {i: state.errors[i] for i in order if i in state.errors}
        return await _quickcheck_form(
            request, page, questionnaire_id, state=state, perspective=perspective, status=422,
            trial=trial, run_code=run_code, message=CHECK_ANSWERS, pseudonym=pseudonym,
            pseudonym_error=pseudonym_error,
        )  # fmt: skip
    if pseudonym_error is not None:
        return await _quickcheck_form(
            request, page, questionnaire_id, state=state, perspective=perspective, status=422,
            trial=trial, run_code=run_code, message=pseudonym_error, pseudonym=pseudonym,
            pseudonym_error=pseudonym_error,
        )  # fmt: skip
    mode = "test" if trial else "real"
    try:
        site = page.site.id if page.site else None
        overlay = page.site.overlay if page.site else None
        if run_code is None:
            doc = await submit_answers(
                questionnaire_id, version=version, perspective=perspective, mode=mode,
                answers=answers, lang=page.lang, site=site, overlay=overlay,
            )  # fmt: skip
        else:
            doc = await submit_for_run(
                run_code, questionnaire_id, version=version, perspective=perspective,
                mode=mode, answers=answers, lang=page.lang, site=site, overlay=overlay,
                pseudonym=pseudonym,
            )  # fmt: skip
    except CodeRefused as exc:
        return _refused_link(page, exc)
    except PoolError as exc:
        return await _quickcheck_form(
            request, page, questionnaire_id, state=state, perspective=perspective, status=422,
            trial=trial, run_code=run_code, message=exc.german, pseudonym=pseudonym,
            pseudonym_error=exc.german,
        )  # fmt: skip
    except QuickcheckError as exc:
        message = CHECK_ANSWERS
        if isinstance(exc, AnswersInvalid) and exc.problems:
            for problem in exc.problems:
                state.errors.setdefault(problem.item, german_reason(problem.reason))
        else:  # the version on the form is gone or closed: the form is outdated
            message = (
                "Der Fragebogen wurde inzwischen geändert; bitte füllen Sie die neue Fassung aus."
            )
        return await _quickcheck_form(
            request, page, questionnaire_id, state=state, perspective=perspective, status=422,
            trial=trial, run_code=run_code, message=message, pseudonym=pseudonym,
        )  # fmt: skip
    QUICKCHECK_SUBMISSIONS.labels(d.id, mode).inc()
    return Response(
        "",
        status_code=303,
        headers={"Location": page.result(doc.token), "Cache-Control": "no-store"},
    )


async def _result_page(request: Req, page: Page, token: str) -> Response[str]:
    row = await store.get_response(token)
    found = await store.get_version(row["questionnaire_id"], row["version"]) if row else None
    if row is None or found is None:
        return not_found(page, "Zu diesem Link gibt es kein Ergebnis.")
    # The region's recommendations of the site it was submitted on, wherever it is opened.
    submitted_on = page.renderer.web.sites.get(row["site"]) if row["site"] else None
    overlay = submitted_on.overlay if submitted_on else None
    doc = await result_doc(found.definition, row, token, page.lang, overlay)
    # The address to come back to, printed with its QR code: this page's own (in an embed
    # the frame's, which also opens on its own), never the partner page around it.
    address = str(request.base_url).rstrip("/") + page.result(token)
    # Each recommendation once on the page: the next steps first, then per area the ones
    # not shown above it.
    shown = {step.slug for step in doc.next_steps}
    more: dict[str | None, list[Recommendation]] = {}
    for part in doc.dimensions:
        more[part.id] = [r for r in part.recommendations if r.slug not in shown][:MORE_PER_AREA]
        shown.update(r.slug for r in more[part.id])
    return render(
        page,
        "result.html",
        cache="no-store",
        result=doc,
        address=address,
        address_qr=Markup(qr_svg(address)),
        more=more,
        headers={"Referrer-Policy": "no-referrer"},
    )


# -- routes: the workspace's, then each site's embed ------------------------------------------


@get("/quickcheck", include_in_schema=False)
async def workspace_quickchecks(request: Req) -> Response[str]:
    return await _quickcheck_list(workspace(request))


@get("/quickcheck/{questionnaire_id:str}", include_in_schema=False, opt=QUICKCHECK)
async def workspace_quickcheck(request: Req, questionnaire_id: FromPath[str]) -> Response[str]:
    return await _quickcheck_form(request, workspace(request), questionnaire_id)


@post("/quickcheck/{questionnaire_id:str}", include_in_schema=False, status_code=303, opt=SUBMIT)
async def workspace_quickcheck_submit(
    request: Req, questionnaire_id: FromPath[str]
) -> Response[str]:
    return await _quickcheck_submit(request, workspace(request), questionnaire_id)


@get("/results/{token:str}", include_in_schema=False)
async def workspace_result(request: Req, token: FromPath[str]) -> Response[str]:
    return await _result_page(request, workspace(request), token)


@get("/embed/{site_id:str}/quickcheck", include_in_schema=False)
async def embed_quickchecks(request: Req, site_id: FromPath[str]) -> Response[str]:
    return await on_site(request, site_id, _quickcheck_list)


@get(
    "/embed/{site_id:str}/quickcheck/{questionnaire_id:str}",
    include_in_schema=False,
    opt=QUICKCHECK,
)
async def embed_quickcheck(
    request: Req, site_id: FromPath[str], questionnaire_id: FromPath[str]
) -> Response[str]:
    return await on_site(
        request, site_id, lambda page: _quickcheck_form(request, page, questionnaire_id)
    )


@post(
    "/embed/{site_id:str}/quickcheck/{questionnaire_id:str}",
    include_in_schema=False,
    status_code=303,
    opt=SUBMIT,
)
async def embed_quickcheck_submit(
    request: Req, site_id: FromPath[str], questionnaire_id: FromPath[str]
) -> Response[str]:
    return await on_site(
        request, site_id, lambda page: _quickcheck_submit(request, page, questionnaire_id)
    )


@get("/embed/{site_id:str}/results/{token:str}", include_in_schema=False)
async def embed_result(request: Req, site_id: FromPath[str], token: FromPath[str]) -> Response[str]:
    return await on_site(request, site_id, lambda page: _result_page(request, page, token))
