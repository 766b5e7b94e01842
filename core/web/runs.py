"""The Lotse's pages for runs (/durchlaeufe) and the programme dashboard (/auswertung).

Signed-in pages only: the app-wide role guard (core.accounts) lets a route through when
the account has one of the roles in ``opt["roles"]``. A Lotse sees her own runs, an
admin every run; a run that is not hers is "not found". Data comes from the runs
domain (core.runs), never from core.api.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Response, get, post
from litestar.params import FromPath

from core.accounts import audit, current_account
from core.accounts.guard import csrf_field
from core.quickcheck.model import AMPEL_LABEL
from core.runs import model, reading, service
from core.runs.dashboard import Dashboard, DashboardFilter, dashboard_csv
from core.runs.model import PERSPECTIVE_LABEL, PHASE_LABEL, RunIn, RunInfo
from core.runs.service import RunClosed, RunError, RunInvalid, RunNotFound
from core.runs.view import CompanyView
from core.web.base import Req, live_sites, not_found, render, workspace
from core.web.charts import ampel_chart, bar_chart
from core.web.qr import qr_svg
from core.web.render import Page

LOTSE = {"roles": ("lotse", "admin")}
AUSWERTUNG = {"roles": ("auswertung", "admin")}
ADMIN = {"roles": ("admin",)}
FIELD_LABEL = {
    "company": "Pseudonym des Betriebs",
    "site": "Partnerseite",
    "region": "Bundesland",
    "sector": "Branche",
    "size_class": "Größe",
    "starts_on": "Beginn",
    "ends_on": "geplantes Ende",
}
OK_MESSAGES = {
    "ende": "Die Wiederholungsmessung ist geöffnet; die Links vom Beginn sind geschlossen.",
    "feedback": "Die Feedback-Links sind geöffnet.",
    "profil": "Die Profil-Links für die Tandembildung sind geöffnet.",
    "link": "Der Link ist geschlossen.",
    "ende-run": "Der Durchlauf ist abgeschlossen; alle Links sind geschlossen.",
}
GERMAN_REASON = {
    "company": "Bitte geben Sie ein Pseudonym für den Betrieb an (höchstens 120 Zeichen).",
    "ends_on": "Das Ende darf nicht vor dem Beginn liegen; ein Durchlauf dauert höchstens "
    "drei Jahre.",
}


def _sites(request: Req) -> dict[str, str]:
    return {sid: site.label for sid, site in live_sites(request).sites.items()}


def _k(request: Req) -> int:
    k: int = request.app.state.settings.run_min_group
    return k


async def _own_run(request: Req, run_id: int) -> RunInfo | None:
    """The run if the signed-in account may see it (its owner, or an admin)."""
    account = current_account(request)
    try:
        run = await service.get_run(run_id)
    except RunNotFound:
        return None
    if account is None:
        return None
    if account.role != "admin" and run.owner_account != account.id:
        return None
    return run


def _missing(page: Page) -> Response[str]:
    return not_found(page, "Diesen Durchlauf gibt es nicht, oder er gehört nicht zu Ihren.")


def _link(request: Req, questionnaire_id: str, code: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/quickcheck/{questionnaire_id}?run={code}"


@get("/durchlaeufe", include_in_schema=False, opt=LOTSE)
async def runs_list(request: Req) -> Response[str]:
    account = current_account(request)
    assert account is not None  # the role guard let only signed-in accounts through
    owner = None if account.role == "admin" else account.id
    runs = await service.list_runs(owner_account=owner)
    deleted = request.query_params.get("geloescht")
    message = (
        f"Der Durchlauf „{deleted}“ ist gelöscht, mit allen seinen Antworten." if deleted else None
    )
    return render(
        workspace(request), "runs_list.html", cache="no-store", runs=runs,
        labels=model.labels(), sites=_sites(request), message=message,
    )  # fmt: skip


def _form(
    request: Req, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response[str]:
    return render(
        workspace(request), "run_new.html", status=status, cache="no-store", values=values,
        errors=errors, labels=model.labels(), sites=_sites(request), field_label=FIELD_LABEL,
        csrf_input=csrf_field(request),
    )  # fmt: skip


@get("/durchlaeufe/neu", include_in_schema=False, opt=LOTSE)
async def run_new(request: Req) -> Response[str]:
    today = dt.date.today()
    values = {
        "starts_on": today.isoformat(),
        "ends_on": (today + dt.timedelta(days=182)).isoformat(),
        "site": next(iter(_sites(request)), ""),
    }
    return _form(request, values, {})


@post("/durchlaeufe/neu", include_in_schema=False, opt=LOTSE, status_code=303)
async def run_create(request: Req) -> Response[str]:
    form = await request.form()
    values = {name: str(form.get(name) or "").strip()[:200] for name in FIELD_LABEL}
    errors: dict[str, str] = {}
    dates: dict[str, dt.date] = {}
    for name in ("starts_on", "ends_on"):
        try:
            dates[name] = dt.date.fromisoformat(values[name])
        except ValueError:
            errors[name] = "Bitte geben Sie ein Datum an (TT.MM.JJJJ)."
    if errors:
        return _form(request, values, errors, 422)
    account = current_account(request)
    assert account is not None
    data = RunIn(
        company=values["company"], site=values["site"], region=values["region"],
        sector=values["sector"], size_class=values["size_class"], **dates,
    )  # fmt: skip
    try:
        run = await service.create_run(data, owner_account=account.id, sites=list(_sites(request)))
    except RunInvalid as exc:
        for name, _reason in exc.problems:
            errors[name] = GERMAN_REASON.get(name, "Bitte wählen Sie einen Eintrag der Liste.")
        return _form(request, values, errors, 422)
    await _audit(request, "run.create", run.id, {"company": run.company})
    return Response("", status_code=303, headers={"Location": f"/durchlaeufe/{run.id}"})


async def _audit(request: Req, action: str, run_id: int, detail: dict[str, Any]) -> None:
    await audit.record(
        action,
        account=current_account(request),
        object_type="run",
        object_id=str(run_id),
        detail=detail,
        request=request,
    )


def _merkliste(view: CompanyView, titles: dict[str, str], company: str) -> str:
    slugs = [r.slug for r in view.start.recommendations if r.slug in titles][:12]
    return "/merkliste?" + urlencode([("titel", company)] + [("e", s) for s in slugs])


async def _run_context(request: Req, run: RunInfo) -> dict[str, Any]:
    view = await reading.view_of(run, _k(request))
    titles = await reading.recommended_titles(view)
    links = [
        {
            "code": c,
            "url": _link(request, c.questionnaire_id, c.code),
            "qr": qr_svg(_link(request, c.questionnaire_id, c.code), svgclass="qr")
            if c.is_open
            else "",
        }
        for c in run.codes
    ]
    return {
        "run": run,
        "view": view,
        "titles": titles,
        "links": links,
        "labels": model.labels(),
        "sites": _sites(request),
        "perspective_label": PERSPECTIVE_LABEL,
        "phase_label": PHASE_LABEL,
        "ampel_label": AMPEL_LABEL,
        "merkliste": _merkliste(view, titles, run.company),
        "phases_open": {c.phase for c in run.codes},
        "csrf_input": csrf_field(request),
        "may_delete": (account := current_account(request)) is not None and account.role == "admin",
    }


@get("/durchlaeufe/{run_id:int}", include_in_schema=False, opt=LOTSE)
async def run_page(request: Req, run_id: FromPath[int]) -> Response[str]:
    page = workspace(request)
    run = await _own_run(request, run_id)
    if run is None:
        return _missing(page)
    message = OK_MESSAGES.get(request.query_params.get("ok") or "")
    return render(
        page, "run.html", cache="no-store", message=message, **await _run_context(request, run)
    )


@post("/durchlaeufe/{run_id:int}/messung", include_in_schema=False, opt=LOTSE, status_code=303)
async def run_open_phase(request: Req, run_id: FromPath[int]) -> Response[str]:
    page = workspace(request)
    run = await _own_run(request, run_id)
    if run is None:
        return _missing(page)
    phase = str((await request.form()).get("phase") or "")
    if phase not in {"ende", "feedback", "profil"}:
        return render(page, "error.html", status=400, title="Unbekannte Messung",
                      message="Wählen Sie die Wiederholungsmessung oder das Feedback.")  # fmt: skip
    try:
        await service.open_phase(run.id, phase)
    except RunClosed:
        return render(page, "error.html", status=409, title="Durchlauf abgeschlossen",
                      message="Der Durchlauf ist abgeschlossen; es lässt sich nichts mehr "
                      "öffnen.")  # fmt: skip
    await _audit(request, "run.open_phase", run.id, {"phase": phase})
    # The profile links belong to the tandem page, where the pool they fill is shown.
    where = f"/durchlaeufe/{run.id}/tandems" if phase == "profil" else f"/durchlaeufe/{run.id}"
    return Response("", status_code=303, headers={"Location": f"{where}?ok={phase}"})


@post(
    "/durchlaeufe/{run_id:int}/links/{code:str}/schliessen",
    include_in_schema=False,
    opt=LOTSE,
    status_code=303,
)
async def run_close_link(request: Req, run_id: FromPath[int], code: FromPath[str]) -> Response[str]:
    page = workspace(request)
    run = await _own_run(request, run_id)
    if run is None:
        return _missing(page)
    try:
        await service.close_code(run.id, code)
    except RunError:
        return not_found(page, "Diesen Link gibt es in diesem Durchlauf nicht.")
    await _audit(request, "run.close_link", run.id, {})
    return Response("", status_code=303, headers={"Location": f"/durchlaeufe/{run.id}?ok=link"})


@post("/durchlaeufe/{run_id:int}/abschliessen", include_in_schema=False, opt=LOTSE, status_code=303)
async def run_finish(request: Req, run_id: FromPath[int]) -> Response[str]:
    run = await _own_run(request, run_id)
    if run is None:
        return _missing(workspace(request))
    await service.close_run(run.id)
    await _audit(request, "run.close", run.id, {})
    return Response("", status_code=303, headers={"Location": f"/durchlaeufe/{run.id}?ok=ende-run"})


def _answers_of(run: RunInfo) -> int:
    return sum(run.responses.values())


@get("/durchlaeufe/{run_id:int}/loeschen", include_in_schema=False, opt=ADMIN)
async def run_delete_confirm(request: Req, run_id: FromPath[int]) -> Response[str]:
    """The confirmation step before a run is deleted (admins only)."""
    run = await _own_run(request, run_id)
    if run is None:
        return _missing(workspace(request))
    return render(
        workspace(request), "run_delete.html", cache="no-store", run=run,
        answers=_answers_of(run), csrf_input=csrf_field(request),
    )  # fmt: skip


@post("/durchlaeufe/{run_id:int}/loeschen", include_in_schema=False, opt=ADMIN, status_code=303)
async def run_delete(request: Req, run_id: FromPath[int]) -> Response[str]:
    """Delete the run with its links and every response given through them."""
    page = workspace(request)
    run = await _own_run(request, run_id)
    if run is None:
        return _missing(page)
    if (await request.form()).get("bestaetigt") != "ja":
        return render(
            page, "run_delete.html", status=400, cache="no-store", run=run,
            answers=_answers_of(run), csrf_input=csrf_field(request),
            error="Bitte bestätigen Sie, dass der Durchlauf mit allen Antworten gelöscht "
            "werden soll.",
        )  # fmt: skip
    try:
        deleted = await service.delete_run(run.id)
    except RunNotFound:  # deleted meanwhile, e.g. in a second tab
        return _missing(page)
    await _audit(request, "run.delete", run.id, {"company": run.company, "responses": deleted})
    return Response(
        "", status_code=303,
        headers={"Location": "/durchlaeufe?" + urlencode({"geloescht": run.company})},
    )  # fmt: skip


@get("/durchlaeufe/{run_id:int}/bericht", include_in_schema=False, opt=LOTSE)
async def run_report(request: Req, run_id: FromPath[int]) -> Response[str]:
    page = workspace(request)
    run = await _own_run(request, run_id)
    if run is None:
        return _missing(page)
    return render(
        page, "run_report.html", cache="no-store", today=dt.date.today(),
        **await _run_context(request, run),
    )  # fmt: skip


@get("/durchlaeufe/{run_id:int}/bericht.pdf", include_in_schema=False, opt=LOTSE)
async def run_report_pdf(request: Req, run_id: FromPath[int]) -> Response[bytes]:
    run = await _own_run(request, run_id)
    if run is None:
        response = _missing(workspace(request))
        return Response(response.content.encode(), status_code=404, media_type="text/html")
    pdf = await reading.report_bytes(run, _k(request), _sites(request).get(run.site, run.site))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="durchlauf-{run.id}.pdf"',
        },
    )


# -- the programme dashboard --------------------------------------------------------------


def _filter(request: Req, sites: dict[str, str]) -> tuple[DashboardFilter, dict[str, str]]:
    """The dashboard filter from the query; unknown values are dropped with a message."""
    q = request.query_params
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in ("region", "site", "sector", "size_class", "state"):
        value = q.get(name) or None
        values[name] = value
    for name in ("started_from", "started_to"):
        raw = q.get(name) or ""
        try:
            values[name] = dt.date.fromisoformat(raw) if raw else None
        except ValueError:
            values[name] = None
            errors[name] = "Bitte ein Datum angeben."
    flt = DashboardFilter(**values)
    for name, _reason in flt.problems(list(sites)):
        errors[name] = "Unbekannter Wert; der Filter wurde nicht angewandt."
        flt = msgspec.structs.replace(flt, **{name: None})
    return flt, errors


async def _board(request: Req) -> tuple[Dashboard, dict[str, str], dict[str, str]]:
    sites = _sites(request)
    flt, errors = _filter(request, sites)
    return await reading.dashboard(flt, _k(request), site_labels=sites), errors, sites


def _charts(board: Dashboard) -> dict[str, str]:
    charts = {}
    for p in ("unternehmen", "mitarbeitende"):
        rows = [(a.title, a.rot, a.gelb, a.gruen) for a in board.ampel if a.perspective == p]
        charts[f"ampel_{p}"] = ampel_chart(
            f"Ampel je Bereich zu Beginn, Sicht {PERSPECTIVE_LABEL[p]} (Anzahl Durchläufe)", rows
        )
    charts["regionen"] = bar_chart(
        "Durchläufe je Bundesland", [(c.label, c.runs) for c in board.by_region]
    )
    if board.barriers is not None:
        charts["hindernisse"] = bar_chart(
            "Hindernisse nach Bedeutung (Borda-Punkte)",
            [(o.label, o.points) for o in board.barriers.options],
        )
    return charts


@get("/auswertung", include_in_schema=False, opt=AUSWERTUNG)
async def dashboard_page(request: Req) -> Response[str]:
    board, errors, sites = await _board(request)
    query = urlencode([(k, v) for k, v in request.query_params.items() if v])
    return render(
        workspace(request), "dashboard.html", cache="no-store", board=board, errors=errors,
        labels=model.labels(), sites=sites, charts=_charts(board), query=query,
        perspective_label=PERSPECTIVE_LABEL,
    )  # fmt: skip


@get("/auswertung.csv", include_in_schema=False, opt=AUSWERTUNG)
async def dashboard_csv_page(request: Req) -> Response[str]:
    board = (await _board(request))[0]
    return Response(
        dashboard_csv(board),
        media_type="text/csv; charset=utf-8",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": 'attachment; filename="auswertung.csv"',
        },
    )


@get("/auswertung.json", include_in_schema=False, opt=AUSWERTUNG)
async def dashboard_json_page(request: Req) -> Response[bytes]:
    board = (await _board(request))[0]
    return Response(
        msgspec.json.encode({"data": board}),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


ROUTES: list[Any] = [
    runs_list,
    run_new,
    run_create,
    run_page,
    run_open_phase,
    run_close_link,
    run_finish,
    run_delete_confirm,
    run_delete,
    run_report,
    run_report_pdf,
    dashboard_page,
    dashboard_csv_page,
    dashboard_json_page,
]
