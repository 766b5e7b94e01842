"""The Lotse's tandem pages of a run: the pool, the fit matrix, the proposed and agreed
assignment (/durchlaeufe/{id}/tandems) and the hand-out (page and PDF).

Every change is one form post to /durchlaeufe/{id}/tandems naming its ``aktion`` (CSRF
checked by the app-wide guard); a refused change shows the page again with the German
reason and changes nothing. Only the run's Lotse (and admin) sees these pages; another
Lotse gets "not found", as on the run's other pages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from core.accounts.guard import csrf_field
from core.quickcheck.model import AMPEL_LABEL
from core.runs import pool, tandems
from core.runs.model import PERSPECTIVE_LABEL, PHASE_LABEL, RunInfo
from core.runs.pdf import handout_pdf
from core.runs.pool import MARK_LABEL, PoolError
from core.web.base import Req, render, workspace
from core.web.qr import qr_svg
from core.web.runs import LOTSE, _audit, _link, _missing, _own_run

OK = {
    "profil": "Die Profil-Links sind geöffnet. Geben Sie jeder Gruppe ihren Link oder QR-Code.",
    "hinzu": "Die Person ist im Pool.",
    "entfernt": "Die Person und ihr Profil sind aus dem Pool entfernt.",
    "kapazitaet": "Die Kapazität ist gespeichert.",
    "einstellungen": "Die Einstellungen sind gespeichert.",
    "markierung": "Die Markierung ist gespeichert.",
    "markierung-weg": "Die Markierung ist aufgehoben.",
    "vorschlag": "Ein neuer Vorschlag ist berechnet.",
    "vereinbart": "Die Tandems sind vereinbart und für die Ausgabe gespeichert.",
}


def _number(raw: str, field: str, german: str, *, empty: int | None = None) -> int | None:
    text = raw.strip()
    if not text and empty is not None:
        return empty
    if not text:
        return None
    if not text.isdigit() or len(text) > 3:
        raise PoolError(field, "a whole number", german)
    return int(text)


async def _page(
    request: Req, run: RunInfo, *, status: int = 200, error: str | None = None,
    values: dict[str, str] | None = None,
) -> Response[str]:  # fmt: skip
    links = [
        {
            "code": c,
            "url": _link(request, c.questionnaire_id, c.code),
            "qr": qr_svg(_link(request, c.questionnaire_id, c.code), svgclass="qr"),
        }
        for c in run.codes
        if c.phase == "profil" and c.is_open
    ]
    message = OK.get(request.query_params.get("ok") or "")
    return render(
        workspace(request), "run_tandems.html", status=status, cache="no-store", run=run,
        links=links, members=await pool.members(run.id, answers=False),
        marks=await pool.marks(run.id), settings=await pool.settings(run.id),
        matrix=await tandems.matrix(run.id), current=await tandems.state(run.id),
        message=message, error=error, values=values or {}, mark_label=MARK_LABEL,
        role_label=pool.ROLE_LABEL, objective_label=tandems.OBJECTIVE_LABEL,
        perspective_label=PERSPECTIVE_LABEL, phase_label=PHASE_LABEL, ampel_label=AMPEL_LABEL,
        profil_open=any(c.phase == "profil" for c in run.codes),
        csrf_input=csrf_field(request),
    )  # fmt: skip


@get("/durchlaeufe/{run_id:int}/tandems", include_in_schema=False, opt=LOTSE)
async def tandems_page(request: Req, run_id: FromPath[int]) -> Response[str]:
    run = await _own_run(request, run_id)
    if run is None:
        return _missing(workspace(request))
    return await _page(request, run)


async def _act(run: RunInfo, action: str, form: dict[str, str]) -> str:
    """Carry out one form action; return the ``ok`` key of the message."""
    mentor, mentee = form.get("mentor", ""), form.get("mentee", "")
    if action == "hinzufuegen":
        await pool.add_member(run.id, form.get("role", ""), form.get("pseudonym", ""))
        return "hinzu"
    if action == "entfernen":
        await pool.remove_member(run.id, form.get("pseudonym", ""))
        return "entfernt"
    if action == "kapazitaet":
        capacity = _number(
            form.get("capacity", ""), "capacity",
            f"Bitte eine Zahl von 0 bis {pool.MAX_CAPACITY} angeben (leer: wie eingestellt).",
        )  # fmt: skip
        await pool.set_capacity(run.id, form.get("pseudonym", ""), capacity)
        return "kapazitaet"
    if action == "einstellungen":
        capacity = _number(
            form.get("capacity", ""), "capacity",
            f"Bitte eine Zahl von 0 bis {pool.MAX_CAPACITY} angeben.", empty=pool.DEFAULT_CAPACITY,
        )  # fmt: skip
        threshold = _number(
            form.get("threshold", ""), "threshold",
            "Die Mindestpassung ist eine Zahl von 0 bis 100.", empty=pool.DEFAULT_THRESHOLD,
        )  # fmt: skip
        assert capacity is not None
        assert threshold is not None
        await pool.save_settings(run.id, capacity, threshold)
        return "einstellungen"
    if action == "markieren":
        await pool.set_mark(run.id, mentor, mentee, form.get("kind", ""))
        return "markierung"
    if action == "aufheben":
        await pool.clear_mark(run.id, mentor, mentee, form.get("kind", ""))
        return "markierung-weg"
    if action in {"vorschlagen", "ausgewogen"}:
        await tandems.propose(run.id, "total" if action == "vorschlagen" else "balanced")
        return "vorschlag"
    if action == "vereinbaren":
        await tandems.agree(run.id)
        return "vereinbart"
    raise PoolError("aktion", "unknown action", "Unbekannte Aktion; bitte die Seite neu laden.")


@post("/durchlaeufe/{run_id:int}/tandems", include_in_schema=False, opt=LOTSE, status_code=303)
async def tandems_post(request: Req, run_id: FromPath[int]) -> Response[str]:
    run = await _own_run(request, run_id)
    if run is None:
        return _missing(workspace(request))
    raw = await request.form()
    form = {key: str(raw.get(key) or "")[:200] for key in raw}
    action = form.get("aktion", "")
    try:
        ok = await _act(run, action, form)
    except PoolError as exc:
        status = 409 if exc.status == 409 else 404 if exc.status == 404 else 422
        return await _page(request, run, status=status, error=exc.german, values=form)
    await _audit(request, f"run.tandems.{action}", run.id, {})
    return Response(
        "", status_code=303, headers={"Location": f"/durchlaeufe/{run.id}/tandems?ok={ok}#{ok}"}
    )


@get("/durchlaeufe/{run_id:int}/tandems/ausgabe", include_in_schema=False, opt=LOTSE)
async def handout_page(request: Req, run_id: FromPath[int]) -> Response[str]:
    run = await _own_run(request, run_id)
    if run is None:
        return _missing(workspace(request))
    try:
        sheet = await tandems.handout(run.id)
    except PoolError as exc:
        return render(workspace(request), "error.html", status=409, title="Keine Ausgabe möglich",
                      message=exc.german)  # fmt: skip
    return render(
        workspace(request), "run_handout.html", cache="no-store", run=run, sheet=sheet,
        today=dt.date.today(),
    )  # fmt: skip


@get("/durchlaeufe/{run_id:int}/tandems/ausgabe.pdf", include_in_schema=False, opt=LOTSE)
async def handout_pdf_page(request: Req, run_id: FromPath[int]) -> Response[bytes]:
    run = await _own_run(request, run_id)
    if run is None:
        response = _missing(workspace(request))
        return Response(response.content.encode(), status_code=404, media_type="text/html")
    try:
        sheet = await tandems.handout(run.id)
    except PoolError as exc:
        return Response(exc.german.encode(), status_code=409, media_type="text/plain")
    return Response(
        handout_pdf(run, sheet.pairs, sheet.entries),
        media_type="application/pdf",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="tandems-{run.id}.pdf"',
        },
    )


ROUTES: list[Any] = [tandems_page, tandems_post, handout_page, handout_pdf_page]
