"""Partner sites for admins: /redaktion/partnerseiten. A new site or a change to a
file-defined one is stored in the database (core.web.site_store) and takes effect for
embeds, CSP frame-ancestors and CORS without a restart (in this worker at once, in the
others within MENTORING40_SITES_REFRESH_SECONDS)."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from core.accounts import audit, current_account
from core.content import queries
from core.db.tables import QuestionnaireVersion
from core.web.base import Req, live_sites, web_of
from core.web.redaktion import editor_page, first, form_fields, see_other
from core.web.site_store import (
    SiteProblem,
    SiteValues,
    check_values,
    delete_site,
    save_site,
    values_of,
)
from core.web.sites import SITE_ID_RE

ADMIN: dict[str, Any] = {"roles": ("admin",)}

PROBLEMS = {
    "id_invalid": "Die Kennung besteht aus 1 bis 40 Kleinbuchstaben, Ziffern und Bindestrichen "
    "und beginnt mit einem Buchstaben oder einer Ziffer.",
    "id_taken": "Eine Partnerseite mit dieser Kennung gibt es schon; bearbeiten Sie sie dort.",
    "label_invalid": "Bitte geben Sie einen Namen mit höchstens 200 Zeichen ein.",
    "theme_unknown": "Bitte wählen Sie eines der angebotenen Erscheinungsbilder.",
    "origin_invalid": "Diese Herkunft wird nicht angenommen",
    "too_many": "Höchstens 50 Herkünfte je Partnerseite.",
    "unknown": "Bitte wählen Sie nur angebotene Werte.",
    "language_invalid": "Die Sprache ist ein Kürzel aus zwei Kleinbuchstaben, z. B. de.",
    "description_long": "Die Beschreibung darf höchstens 2000 Zeichen haben.",
}


def _message(problem: SiteProblem) -> str:
    text = PROBLEMS.get(problem.code, problem.code)
    if problem.code == "origin_invalid":
        # parse_origin's reason names the fix (in English, as in `content check`).
        return f"{text}: „{problem.value}“ ({problem.detail})."
    return text


async def _choices() -> dict[str, dict[str, str]]:
    labels = await queries.taxonomy_labels()
    rows = await QuestionnaireVersion.select(QuestionnaireVersion.questionnaire_id).where(
        QuestionnaireVersion.status == "published"
    )
    questionnaires = {r["questionnaire_id"]: r["questionnaire_id"] for r in rows}
    return {
        "sources": labels.get("source", {}),
        "topics": labels.get("topic", {}),
        "questionnaires": dict(sorted(questionnaires.items())),
    }


@get("/redaktion/partnerseiten", opt=ADMIN, include_in_schema=False)
async def sites_list(request: Req) -> Response[str]:
    live = live_sites(request)
    await live.refresh(force=True)
    rows = []
    for site_id in sorted(set(live.file_sites) | set(live.stored)):
        site = live.get(site_id)
        stored = live.stored.get(site_id)
        in_file = site_id in live.file_sites
        if stored is None:
            origin = "Datei"
        elif in_file:
            origin = "Datei, in der Redaktion geändert"
        else:
            origin = "Redaktion"
        rows.append(
            {
                "id": site_id,
                "label": site.label if site else (stored.label if stored else site_id),
                "theme": site.theme if site else "–",
                "origins": site.origins if site else (),
                "origin": origin,
                "active": site is not None,
                "stored": stored,
            }
        )
    return editor_page(
        request,
        "redaktion/partnerseiten.html",
        title="Partnerseiten",
        rows=rows,
        saved=request.query_params.get("gespeichert"),
    )


async def _form_page(
    request: Req,
    values: SiteValues,
    *,
    new: bool,
    status: int = 200,
    problems: list[SiteProblem] | None = None,
    origins_text: str | None = None,
) -> Response[str]:
    web, _ = web_of(request)
    live = live_sites(request)
    errors: dict[str, str] = {}
    for problem in problems or []:
        errors[problem.field] = " ".join(
            filter(None, [errors.get(problem.field), _message(problem)])
        )
    saved = {"angelegt": "Die Partnerseite ist angelegt.", "geaendert": "Gespeichert."}.get(
        request.query_params.get("gespeichert") or ""
    )
    return editor_page(
        request,
        "redaktion/partnerseite.html",
        status=status,
        title="Neue Partnerseite" if new else f"Partnerseite {values.site_id}",
        new=new,
        values=values,
        origins_text="\n".join(values.origins) if origins_text is None else origins_text,
        errors=errors,
        themes={name: theme.label for name, theme in sorted(web.themes.items())},
        choices=await _choices(),
        in_file=values.site_id in live.file_sites,
        stored=live.stored.get(values.site_id),
        saved=saved,
    )


@get("/redaktion/partnerseiten/neu", opt=ADMIN, include_in_schema=False)
async def site_new(request: Req) -> Response[str]:
    return await _form_page(request, SiteValues(site_id="", label=""), new=True)


def _values(fields: dict[str, list[str]], site_id: str) -> tuple[SiteValues, str]:
    origins_text = first(fields, "origins")[:20_000]
    values = SiteValues(
        site_id=site_id,
        label=first(fields, "label"),
        theme=first(fields, "theme") or "default",
        description=first(fields, "description"),
        origins=[line.strip() for line in origins_text.splitlines() if line.strip()],
        sources=fields.get("sources") or None,
        topics=fields.get("topics") or None,
        questionnaires=fields.get("questionnaires") or None,
        language=first(fields, "language").strip() or "de",
        active=first(fields, "active") == "1",
    )
    return values, origins_text


async def _store(
    request: Req, values: SiteValues, origins_text: str, *, new: bool
) -> Response[str]:
    web, _ = web_of(request)
    live = live_sites(request)
    choices = await _choices()
    cleaned, problems = check_values(
        values,
        themes=web.themes,
        sources_known=set(choices["sources"]),
        topics_known=set(choices["topics"]),
        questionnaires_known=set(choices["questionnaires"]),
    )
    if (
        new
        and SITE_ID_RE.match(values.site_id)
        and (values.site_id in live.file_sites or values.site_id in live.stored)
    ):
        problems.insert(0, SiteProblem("site_id", "id_taken", values.site_id))
    if problems:
        return await _form_page(
            request, values, new=new, status=422, problems=problems, origins_text=origins_text
        )
    account = current_account(request)
    before = live.stored.get(cleaned.site_id)
    await save_site(cleaned, by=account.email if account else "")
    await live.refresh(force=True)
    await audit.record(
        "site.create" if new else "site.update", account=account, object_type="site",
        object_id=cleaned.site_id,
        detail={"origins": cleaned.origins, "theme": cleaned.theme, "active": cleaned.active,
                "before": {"origins": before.origins, "theme": before.theme} if before else None},
        request=request,
    )  # fmt: skip
    done = "angelegt" if new else "geaendert"
    return see_other(f"/redaktion/partnerseiten/{cleaned.site_id}?gespeichert={done}")


@post("/redaktion/partnerseiten/neu", opt=ADMIN, include_in_schema=False, status_code=200)
async def site_create(request: Req) -> Response[str]:
    fields = await form_fields(request)
    values, origins_text = _values(fields, first(fields, "site_id").strip())
    return await _store(request, values, origins_text, new=True)


def _unknown(request: Req, site_id: str) -> Response[str]:
    return editor_page(
        request, "redaktion/verweigert.html", status=404, title="Nicht gefunden",
        message=f"Es gibt keine Partnerseite „{site_id[:40]}“.",
    )  # fmt: skip


@get("/redaktion/partnerseiten/{site_id:str}", opt=ADMIN, include_in_schema=False)
async def site_edit(request: Req, site_id: FromPath[str]) -> Response[str]:
    live = live_sites(request)
    await live.refresh(force=True)
    stored = live.stored.get(site_id)
    if stored is not None:
        values: SiteValues = stored
    elif site_id in live.file_sites:
        values = values_of(live.file_sites[site_id])
    else:
        return _unknown(request, site_id)
    return await _form_page(request, values, new=False)


@post("/redaktion/partnerseiten/{site_id:str}", opt=ADMIN, include_in_schema=False, status_code=200)
async def site_update(request: Req, site_id: FromPath[str]) -> Response[str]:
    live = live_sites(request)
    if site_id not in live.file_sites and site_id not in live.stored:
        return _unknown(request, site_id)
    values, origins_text = _values(await form_fields(request), site_id)
    return await _store(request, values, origins_text, new=False)


@post(
    "/redaktion/partnerseiten/{site_id:str}/entfernen",
    opt=ADMIN,
    include_in_schema=False,
    status_code=200,
)
async def site_remove(request: Req, site_id: FromPath[str]) -> Response[str]:
    """Drop the database's version: a file site gets its file's settings back, a site made
    in the editor is gone."""
    live = live_sites(request)
    if not await delete_site(site_id):
        return _unknown(request, site_id)
    await live.refresh(force=True)
    await audit.record(
        "site.delete", account=current_account(request), object_type="site", object_id=site_id,
        detail={"file_site_remains": site_id in live.file_sites}, request=request,
    )  # fmt: skip
    return see_other("/redaktion/partnerseiten?gespeichert=entfernt")


ROUTES: list[Any] = [sites_list, site_new, site_create, site_edit, site_update, site_remove]
