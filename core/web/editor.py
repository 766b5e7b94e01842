"""The editing pages under /redaktion/eintraege (docs/EDITING.md): the entry list per
allowed pack, the edit form with live preview, history, diff, and the sync-conflict view.

Every page works as plain forms (the theme's editor.js adds the live preview, the slug
proposal, search-as-you-type for related entries, keyboard shortcuts and keeping typed
text across a sign-in). The workflow itself is core.editing.service; its domain errors
become German messages here, the checks' own messages (those of ``content check``) are
shown next to their field. Who may open a page is said in the route's opt (roles); the
app-wide guard (core.accounts.guard) enforces it and checks the CSRF token.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

from litestar import Response, get, post
from litestar.params import FromPath

from core.accounts import current_account
from core.accounts.audit import record
from core.content import queries
from core.content.markdown import render_markdown
from core.content.model import Problem
from core.editing import service
from core.editing.model import (
    FIELDS,
    LIST_FIELDS,
    STATE_LABELS,
    Actor,
    Conflict,
    EditingError,
    Forbidden,
    Invalid,
    NotFound,
    SlugTaken,
    WrongState,
    actor_for_account,
    field_of,
)
from core.http.numbers import whole_number
from core.web.base import Req, labels, web_of, workspace
from core.web.redaktion import editor_page
from core.web.render import html_response

EDITORS = ("redaktion", "freigabe")  # admin always
OPT: dict[str, Any] = {"roles": EDITORS}
BASE = "/redaktion/eintraege"

FIELD_LABELS = {
    "title": "Titel",
    "summary": "Kurzbeschreibung",
    "kind": "Art",
    "topics": "Themen",
    "phases": "Phasen",
    "audiences": "Zielgruppen",
    "tags": "Schlagwörter",
    "search_terms": "Suchbegriffe",
    "duration": "Zeitbedarf",
    "materials": "Material",
    "related": "Passt dazu",
    "updated_at": "Stand",
    "body": "Text",
    "slug": "Kurzname",
    "comment": "Kommentar",
    "entry": "Eintrag",
}
NOTICES = {
    "gespeichert": "Der Entwurf ist gespeichert.",
    "eingereicht": "Der Eintrag ist zur Prüfung eingereicht.",
    "veroeffentlicht": "Der Eintrag ist veröffentlicht.",
    "zurueckgegeben": "Der Eintrag ist mit Ihrem Kommentar an die Redaktion zurückgegeben.",
    "zurueckgezogen": "Der Eintrag ist zurückgezogen; er wird nicht mehr angezeigt.",
    "wiederhergestellt": "Die ältere Fassung ist als neuer Entwurf gespeichert.",
    "umbenannt": "Der Kurzname ist geändert; die alte Adresse leitet weiter.",
    "geklaert": "Der Konflikt mit der Datei ist geklärt.",
    "angelegt": "Der neue Eintrag ist als Entwurf gespeichert.",
}
ACTIONS = {
    "einreichen": ("submit", "eingereicht"),
    "veroeffentlichen": ("publish", "veroeffentlicht"),
    "zurueckgeben": ("return", "zurueckgegeben"),
    "zurueckziehen": ("unpublish", "zurueckgezogen"),
}


def _actor(request: Req) -> Actor:
    account = current_account(request)
    if account is None:  # the role guard runs first on every route here
        raise Forbidden("not signed in")
    return actor_for_account(account)


async def _audit(request: Req, action: str, slug: str, **detail: Any) -> None:
    await record(
        action,
        account=current_account(request),
        object_type="entry",
        object_id=slug,
        detail=detail,
        request=request,
    )


async def _form(request: Req) -> dict[str, list[str]]:
    form = await request.form()
    return {key: [str(v) for v in form.getall(key)] for key in form}


def _one(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0]


def data_from_form(fields: dict[str, list[str]]) -> dict[str, Any]:
    """The entry's fields from the edit form (lists from checkboxes, lines or commas)."""
    lines = [line.strip() for line in _one(fields, "materials").splitlines()]
    terms = [line.strip() for line in _one(fields, "search_terms").splitlines()]
    return {
        "title": _one(fields, "title").strip(),
        "summary": _one(fields, "summary").strip(),
        "kind": _one(fields, "kind"),
        "topics": [v for v in fields.get("topics", []) if v],
        "phases": [v for v in fields.get("phases", []) if v],
        "audiences": [v for v in fields.get("audiences", []) if v],
        "tags": [t.strip() for t in _one(fields, "tags").split(",") if t.strip()],
        "search_terms": [term for term in terms if term],
        "duration": _one(fields, "duration").strip() or None,
        "materials": [line for line in lines if line],
        # Checked boxes, plus slugs typed into the search field when no script runs.
        "related": list(
            dict.fromkeys(
                v.strip()
                for v in [*fields.get("related", []), *_one(fields, "related_typed").split(",")]
                if v.strip()
            )
        ),
        "updated_at": _one(fields, "updated_at").strip(),
        "body": _one(fields, "body").replace("\r\n", "\n"),
    }


# The content check's rules that an editor meets in the form, said in German (the check
# itself, the CLI and the editorial API keep its English words). A message not listed
# here is shown as the check wrote it.
_GERMAN_RULES = [
    (re.compile(r"Expected `str` of length <= (\d+)"), "höchstens {0} Zeichen"),
    (re.compile(r"Expected `str` of length >= 1"), "darf nicht leer sein"),
    (re.compile(r"Expected `array` of length <= (\d+)"), "höchstens {0} Angaben"),
    (
        re.compile(r"^(['\"])(.*)\1 is already \w+\[(\d+)\]; list each term once"),
        "„{1}“ steht schon als {item} {2} da; jeden Begriff bitte nur einmal (Groß- und "
        "Kleinschreibung zählen nicht)",
    ),
]
# What one item of a list field is called, for "Begriff 4: …".
_ITEM_NAMES = {"search_terms": "Begriff", "tags": "Schlagwort", "materials": "Zeile"}
_INDEX = re.compile(r"^\w+\[(\d+)\]")


def german_problem(problem: Problem) -> str:
    """A content check problem as the edit form shows it at its field."""
    item = _ITEM_NAMES.get(field_of(problem), "Angabe")
    message = problem.message
    for pattern, german_text in _GERMAN_RULES:
        if match := pattern.search(message):
            groups = list(match.groups())
            if len(groups) == 3:  # a duplicate: the first one's place, counted from 1
                groups[2] = str(int(groups[2]) + 1)
            message = german_text.format(*groups, item=item)
            break
    index = _INDEX.match(problem.field or "")
    return f"{item} {int(index.group(1)) + 1}: {message}" if index else message


def field_errors(exc: Invalid) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for problem in exc.problems:
        errors.setdefault(field_of(problem), []).append(german_problem(problem))
    return errors


def german(exc: EditingError) -> tuple[int, str]:
    """A domain error as a status and a German sentence for the page."""
    if isinstance(exc, NotFound):
        return 404, "Diesen Eintrag gibt es nicht."
    if isinstance(exc, Forbidden):
        return 403, (
            "Das dürfen Sie mit Ihrem Konto nicht: Redaktionskonten bearbeiten nur die "
            "Einträge ihrer Quellen; veröffentlichen, zurückgeben und zurückziehen darf die "
            "Freigabe."
        )
    if isinstance(exc, SlugTaken):
        return 409, "Dieser Kurzname ist schon vergeben. Bitte wählen Sie einen anderen."
    if isinstance(exc, WrongState):
        return 409, f"Das geht im Zustand „{STATE_LABELS.get(exc.state, exc.state)}“ nicht ({exc})."
    if isinstance(exc, Invalid):
        return 422, "Bitte korrigieren Sie die markierten Felder; nichts wurde gespeichert."
    return 400, str(exc)


def _redirect(path: str, notice: str | None = None) -> Response[str]:
    target = f"{path}?{urlencode({'hinweis': notice})}" if notice else path
    return Response(content="", status_code=303, headers={"Location": target})


def _entry_path(slug: str, suffix: str = "") -> str:
    return f"{BASE}/{quote(slug, safe='')}{suffix}"


# -- list -------------------------------------------------------------------------------


@get(BASE, opt=OPT, include_in_schema=False)
async def entry_list(request: Req) -> Response[str]:
    actor = _actor(request)
    entries = await service.list_entries(actor.packs)
    names = await labels(workspace(request))
    packs = [p for p in names["source"] if actor.may_edit(p)]
    review = [e for e in entries if e["state"] == "review"]
    conflicts = [e for e in entries if e["conflict"]]
    return editor_page(
        request,
        "redaktion/eintraege.html",
        title="Einträge bearbeiten",
        entries=entries,
        packs=packs,
        pack_labels=names["source"],
        review=review,
        conflicts=conflicts,
        may_publish=actor.may_publish,
        state_labels=STATE_LABELS,
        notice=NOTICES.get(request.query_params.get("hinweis", "")),
    )


# -- the form ---------------------------------------------------------------------------


async def _form_page(
    request: Req,
    *,
    slug: str,
    source: str,
    data: dict[str, Any],
    view: service.EditorialView | None,
    status: int = 200,
    errors: dict[str, list[str]] | None = None,
    message: str | None = None,
    conflict: Conflict | None = None,
    based_on: int | None = None,
    comment: str = "",
) -> Response[str]:
    actor = _actor(request)
    names = await labels(workspace(request))
    related = await queries.entry_summaries(list(data.get("related") or []))
    web, _ = web_of(request)
    sites = [(s.id, s.label) for s in sorted(web.sites.values(), key=lambda s: s.label)]
    return editor_page(
        request,
        "redaktion/eintrag.html",
        status=status,
        title=f"Bearbeiten: {data.get('title') or slug}" if view else "Neuer Eintrag",
        slug=slug,
        source=source,
        data=data,
        view=view,
        labels=names,
        related_titles={s: r["title"] for s, r in related.items()},
        errors=errors or {},
        field_labels=FIELD_LABELS,
        message=message,
        conflict=conflict,
        based_on=view.head if based_on is None and view else (based_on or 0),
        comment=comment,
        may_publish=actor.may_publish,
        state_labels=STATE_LABELS,
        sites=sites,
        notice=NOTICES.get(request.query_params.get("hinweis", "")),
        is_new=view is None,
    )


@get(f"{BASE}/neu", opt=OPT, include_in_schema=False)
async def new_entry_form(request: Req) -> Response[str]:
    actor = _actor(request)
    names = await labels(workspace(request))
    pack = request.query_params.get("paket") or next(
        (p for p in names["source"] if actor.may_edit(p)), ""
    )
    if pack not in names["source"] or not actor.may_edit(pack):
        status, text = german(Forbidden(pack))
        return editor_page(
            request, "redaktion/meldung.html", status=status, title="Nicht erlaubt", message=text
        )
    data = {name: [] if name in LIST_FIELDS else "" for name in FIELDS}
    import datetime as dt

    data["updated_at"] = dt.date.today().isoformat()
    return await _form_page(request, slug="", source=pack, data=data, view=None)


@post(f"{BASE}/neu", opt=OPT, include_in_schema=False)
async def create_entry(request: Req) -> Response[str]:
    actor = _actor(request)
    fields = await _form(request)
    data = data_from_form(fields)
    pack = _one(fields, "pack")
    slug = _one(fields, "slug").strip()
    comment = _one(fields, "comment").strip()[:2000]
    try:
        number = await service.save_draft(
            actor, slug, data, based_on=0, comment=comment, new_in_pack=pack
        )
    except EditingError as exc:
        status, text = german(exc)
        errors = field_errors(exc) if isinstance(exc, Invalid) else {}
        if isinstance(exc, SlugTaken):
            errors["slug"] = [text]
        return await _form_page(
            request,
            slug=slug,
            source=pack,
            data=data,
            view=None,
            status=status,
            errors=errors,
            message=text,
            comment=comment,
        )
    await _audit(request, "entry.save", slug, revision=number, new=True, source=pack)
    return _redirect(_entry_path(slug), "angelegt")


@get(f"{BASE}/{{slug:str}}", opt=OPT, include_in_schema=False)
async def edit_form(request: Req, slug: FromPath[str]) -> Response[str]:
    try:
        view = await service.view(slug, _actor(request))
    except EditingError as exc:
        status, text = german(exc)
        return editor_page(
            request, "redaktion/meldung.html", status=status, title="Nicht möglich", message=text
        )
    return await _form_page(request, slug=slug, source=view.source, data=view.data, view=view)


@post(f"{BASE}/{{slug:str}}", opt=OPT, include_in_schema=False)
async def save_entry(request: Req, slug: FromPath[str]) -> Response[str]:
    actor = _actor(request)
    fields = await _form(request)
    data = data_from_form(fields)
    comment = _one(fields, "comment").strip()[:2000]
    try:
        based_on = whole_number(
            _one(fields, "based_on") or "0", "based_on", maximum=1_000_000, minimum=0
        )
    except Exception:
        based_on = 0
    try:
        view = await service.view(slug, actor)
    except EditingError as exc:
        status, text = german(exc)
        return editor_page(
            request, "redaktion/meldung.html", status=status, title="Nicht möglich", message=text
        )
    try:
        number = await service.save_draft(actor, slug, data, based_on=based_on, comment=comment)
    except Conflict as exc:
        return await _form_page(
            request,
            slug=slug,
            source=view.source,
            data=data,
            view=view,
            status=409,
            message="Jemand hat den Eintrag gespeichert, während Sie ihn bearbeitet haben. "
            "Ihre Fassung ist nicht gespeichert, aber unten noch vollständig da. Vergleichen Sie "
            "die Unterschiede; „Trotzdem speichern“ speichert Ihre Fassung als neuesten Stand.",
            conflict=exc,
            based_on=exc.head,
            comment=comment,
        )
    except EditingError as exc:
        status, text = german(exc)
        errors = field_errors(exc) if isinstance(exc, Invalid) else {}
        return await _form_page(
            request,
            slug=slug,
            source=view.source,
            data=data,
            view=view,
            status=status,
            errors=errors,
            message=text,
            based_on=based_on,
            comment=comment,
        )
    await _audit(request, "entry.save", slug, revision=number)
    return _redirect(_entry_path(slug), "gespeichert")


@post(f"{BASE}/{{slug:str}}/aktion", opt=OPT, include_in_schema=False)
async def workflow_action(request: Req, slug: FromPath[str]) -> Response[str]:
    actor = _actor(request)
    fields = await _form(request)
    chosen = ACTIONS.get(_one(fields, "aktion"))
    comment = _one(fields, "comment").strip()[:2000]
    try:
        if chosen is None:
            raise WrongState("unknown action", "?")
        action, notice = chosen
        if action == "submit":
            await service.submit(actor, slug)
        elif action == "publish":
            await service.publish(actor, slug)
        elif action == "return":
            await service.send_back(actor, slug, comment)
        else:
            await service.unpublish(actor, slug)
    except EditingError as exc:
        status, text = german(exc)
        if isinstance(exc, Invalid) and chosen and chosen[0] == "return":
            text = "Bitte schreiben Sie in den Kommentar, was geändert werden soll."
        try:
            view = await service.view(slug, actor)
        except EditingError:
            return editor_page(
                request,
                "redaktion/meldung.html",
                status=status,
                title="Nicht möglich",
                message=text,
            )
        errors = field_errors(exc) if isinstance(exc, Invalid) else {}
        return await _form_page(
            request,
            slug=slug,
            source=view.source,
            data=view.data,
            view=view,
            status=status,
            message=text,
            errors=errors,
        )
    await _audit(request, f"entry.{action}", slug, comment=comment or None)
    return _redirect(_entry_path(slug), notice)


@post(f"{BASE}/{{slug:str}}/umbenennen", opt=OPT, include_in_schema=False)
async def rename_entry(request: Req, slug: FromPath[str]) -> Response[str]:
    actor = _actor(request)
    fields = await _form(request)
    new_slug = _one(fields, "new_slug").strip()
    try:
        await service.rename(actor, slug, new_slug)
    except EditingError as exc:
        status, text = german(exc)
        try:
            view = await service.view(slug, actor)
        except EditingError:
            return editor_page(
                request,
                "redaktion/meldung.html",
                status=status,
                title="Nicht möglich",
                message=text,
            )
        errors = {"slug": [p.message for p in exc.problems]} if isinstance(exc, Invalid) else {}
        return await _form_page(
            request,
            slug=slug,
            source=view.source,
            data=view.data,
            view=view,
            status=status,
            message=text,
            errors=errors,
        )
    await _audit(request, "entry.rename", new_slug, old_slug=slug)
    return _redirect(_entry_path(new_slug), "umbenannt")


# -- history, diff, restore, conflict ----------------------------------------------------


@get(f"{BASE}/{{slug:str}}/verlauf", opt=OPT, include_in_schema=False)
async def history_page(request: Req, slug: FromPath[str]) -> Response[str]:
    try:
        view = await service.view(slug, _actor(request))
    except EditingError as exc:
        status, text = german(exc)
        return editor_page(
            request, "redaktion/meldung.html", status=status, title="Nicht möglich", message=text
        )
    revisions = await service.history(slug)
    return editor_page(
        request,
        "redaktion/verlauf.html",
        title=f"Verlauf: {view.data.get('title') or slug}",
        view=view,
        slug=slug,
        revisions=revisions,
        state_labels=STATE_LABELS,
        notice=NOTICES.get(request.query_params.get("hinweis", "")),
    )


@get(f"{BASE}/{{slug:str}}/vergleich", opt=OPT, include_in_schema=False)
async def diff_page(request: Req, slug: FromPath[str]) -> Response[str]:
    try:
        view = await service.view(slug, _actor(request))
        after = whole_number(
            request.query_params.get("bis") or str(view.head), "bis", maximum=1_000_000, minimum=0
        )
        before = whole_number(
            request.query_params.get("von") or str(max(after - 1, 0)),
            "von",
            maximum=1_000_000,
            minimum=0,
        )
        changes = await service.diff(slug, before, after)
    except EditingError as exc:
        status, text = german(exc)
        return editor_page(
            request, "redaktion/meldung.html", status=status, title="Nicht möglich", message=text
        )
    return editor_page(
        request,
        "redaktion/vergleich.html",
        title=f"Vergleich: {view.data.get('title') or slug}",
        view=view,
        slug=slug,
        before=before,
        after=after,
        changes=changes,
        field_labels=FIELD_LABELS,
    )


@post(f"{BASE}/{{slug:str}}/wiederherstellen", opt=OPT, include_in_schema=False)
async def restore_revision(request: Req, slug: FromPath[str]) -> Response[str]:
    actor = _actor(request)
    fields = await _form(request)
    try:
        number = whole_number(
            _one(fields, "revision") or "", "revision", maximum=1_000_000, minimum=0
        )
        created = await service.restore(actor, slug, number)
    except EditingError as exc:
        status, text = german(exc)
        return editor_page(
            request, "redaktion/meldung.html", status=status, title="Nicht möglich", message=text
        )
    await _audit(request, "entry.restore", slug, revision=created, restored=number)
    return _redirect(_entry_path(slug), "wiederhergestellt")


@get(f"{BASE}/{{slug:str}}/konflikt", opt=OPT, include_in_schema=False)
async def conflict_page(request: Req, slug: FromPath[str]) -> Response[str]:
    actor = _actor(request)
    try:
        view = await service.view(slug, actor)
    except EditingError as exc:
        status, text = german(exc)
        return editor_page(
            request, "redaktion/meldung.html", status=status, title="Nicht möglich", message=text
        )
    live = view.data
    if view.published and view.published != view.head:
        live = await service.revision_data(slug, view.published)
    file_data = view.conflict["data"] if view.conflict else None
    rows = [(name, live.get(name), file_data.get(name) if file_data else None) for name in FIELDS]
    return editor_page(
        request,
        "redaktion/konflikt.html",
        title=f"Konflikt mit der Datei: {live.get('title') or slug}",
        view=view,
        slug=slug,
        rows=rows,
        field_labels=FIELD_LABELS,
        may_publish=actor.may_publish,
    )


@post(f"{BASE}/{{slug:str}}/konflikt", opt=OPT, include_in_schema=False)
async def resolve_conflict(request: Req, slug: FromPath[str]) -> Response[str]:
    fields = await _form(request)
    keep = _one(fields, "keep")
    try:
        if keep not in ("editorial", "file"):
            raise WrongState("choose editorial or file", "?")
        await service.resolve_conflict(_actor(request), slug, keep)
    except EditingError as exc:
        status, text = german(exc)
        return editor_page(
            request, "redaktion/meldung.html", status=status, title="Nicht möglich", message=text
        )
    await _audit(request, "entry.resolve_conflict", slug, keep=keep)
    return _redirect(_entry_path(slug), "geklaert")


# -- preview ----------------------------------------------------------------------------


@post("/redaktion/vorschau", opt=OPT, include_in_schema=False)
async def preview(request: Req) -> Response[str]:
    """The entry as a reader would see it, in the theme of the chosen partner site (or
    the workspace), rendered through the same Markdown + sanitiser as every entry; shown
    in the edit page's frame."""
    fields = await _form(request)
    data = data_from_form(fields)
    web, renderer = web_of(request)
    site = web.sites.get(_one(fields, "site"))
    page = workspace(request)
    if site is not None:
        from core.web.base import site_page

        page = site_page(request, site.id) or page
    entry = {
        **data,
        "slug": _one(fields, "slug") or "vorschau",
        "source": _one(fields, "pack") or "core",
        "title": data["title"] or "(ohne Titel)",
        "body_html": render_markdown(data["body"]),
    }
    body = renderer.render(page, "entry.html", entry=entry, related=[], labels=await labels(page))
    # Framed by the edit page only (same origin).
    return html_response(body, frame_ancestors=[], cache="no-store")


ROUTES: list[Any] = [
    entry_list,
    new_entry_form,
    create_entry,
    edit_form,
    save_entry,
    workflow_action,
    rename_entry,
    history_page,
    diff_page,
    restore_revision,
    conflict_page,
    resolve_conflict,
    preview,
]
