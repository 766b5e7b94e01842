"""HTML pages: the Lotse workspace at ``/``, the partner embeds under ``/embed/{site}/``,
HTML fragments for server-side includes, and the theme assets.

Every page works without JavaScript (links and plain form posts); the theme's scripts
add search-as-you-type, the shortlist and iframe resizing on top.
"""

from __future__ import annotations

import json
import logging
import math
import mimetypes
import time
from collections import Counter
from html import escape
from typing import Any
from urllib.parse import urlencode, urlsplit

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import File

from core.api.entries import MAX_PAGE
from core.api.input_checks import SINGLE_PARAMS
from core.api.metrics import QUICKCHECK_SUBMISSIONS, timed_search
from core.api.params import whole_number
from core.api.security import request_id
from core.content import queries
from core.quickcheck import engine, store
from core.quickcheck.model import text_in
from core.quickcheck.present import definition_doc, result_doc
from core.quickcheck.service import (
    AnswersInvalid,
    QuestionnaireNotFound,
    QuickcheckError,
    find_version,
    submit_answers,
)
from core.web import Web
from core.web.quickcheck import FormState, german_reason, parse_form
from core.web.render import (
    Page,
    Renderer,
    html_response,
    linked_questionnaires,
    unlink_entries,
    unlink_questionnaires,
)
from core.web.sites import Site
from search.query import search_entries

log = logging.getLogger("mentoring40.web")

PAGE_SIZE = 20
FACETS = ("topic", "phase", "audience", "kind", "source")
FACET_LABELS = {
    "topic": "Thema",
    "phase": "Phase",
    "audience": "Zielgruppe",
    "kind": "Art",
    "source": "Quelle",
}
MAX_QUERY = 200
# The largest questionnaire version the database's integer column holds.
MAX_VERSION = 2**31 - 1
Req = Request[Any, Any, Any]


# -- plumbing -----------------------------------------------------------------------------


def _web(request: Req) -> tuple[Web, Renderer]:
    return request.app.state.web, request.app.state.renderer


def _workspace(request: Req) -> Page:
    web, renderer = _web(request)
    return Page(renderer=renderer, theme=web.themes[web.workspace_theme])


def _site_page(request: Req, site_id: str, *, fragment: bool = False) -> Page | None:
    web, renderer = _web(request)
    site = web.sites.get(site_id)
    if site is None:
        return None
    origin = str(request.base_url).rstrip("/") if fragment else ""
    return Page(
        renderer=renderer,
        theme=web.themes[site.theme],
        site=site,
        lang=site.language,
        origin=origin,
    )


def _ancestors(page: Page) -> list[str] | None:
    return list(page.site.origins) if page.site else None


def _render(
    page: Page,
    template: str,
    *,
    status: int = 200,
    cache: str = "no-cache",
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response[str]:
    body = page.renderer.render(page, template, **context)
    return html_response(
        body, status=status, frame_ancestors=_ancestors(page), cache=cache, headers=headers
    )


def _not_found(page: Page, message: str) -> Response[str]:
    return _render(page, "error.html", status=404, title="Nicht gefunden", message=message)


# What a browser shows for an error outside the handlers' own pages (unknown address,
# database outage, limits, unexpected failures). No database access: it may be down.
ERROR_TEXTS: dict[int, tuple[str, str]] = {
    400: ("Ungültige Anfrage", "Die Anfrage enthält Angaben, die wir nicht verarbeiten können."),
    403: ("Nicht erlaubt", "Diese Anfrage ist von dieser Seite aus nicht erlaubt."),
    404: ("Nicht gefunden", "Unter dieser Adresse gibt es keine Seite."),
    405: ("Nicht möglich", "Diese Adresse kann so nicht aufgerufen werden."),
    413: ("Zu große Anfrage", "Die gesendeten Daten sind zu groß."),
    429: (
        "Zu viele Anfragen",
        "Von Ihrer Adresse kamen in kurzer Zeit sehr viele Anfragen. "
        "Bitte versuchen Sie es in {retry} Sekunden erneut.",
    ),
    503: (
        "Vorübergehend nicht erreichbar",
        "Der Werkzeugkasten ist gerade nicht vollständig erreichbar. "
        "Bitte versuchen Sie es in einer Minute erneut.",
    ),
}
# Parts of a request that are not query parameters, as a reader knows them.
PARAM_NAMES = {"path": "Adresse", "body": "gesendete Daten"}
UNEXPECTED = (
    "Unerwarteter Fehler",
    "Etwas ist schiefgegangen; der Fehler wurde protokolliert. "
    "Wenn Sie ihn melden, nennen Sie bitte die Anfragenummer {request_id}.",
)


def error_page(
    request: Req,
    status: int,
    headers: dict[str, str] | None = None,
    *,
    params: list[str] | None = None,
) -> Response[str]:
    """A themed HTML page for an error status (used by core.api.errors for browsers);
    ``params`` names the parts of the request that were wrong."""
    title, message = ERROR_TEXTS.get(status, UNEXPECTED)
    retry = (headers or {}).get("Retry-After", "60")
    message = message.format(retry=retry, request_id=request_id.get())
    if params:
        named = ", ".join(f"„{PARAM_NAMES.get(name, name)}“" for name in params)
        message = f"{message} Betroffen: {named}."
    return _render(
        _workspace(request),
        "error.html",
        status=status,
        headers=headers,
        title=title,
        message=message,
    )


def _unknown_site(request: Req, site_id: str) -> Response[str]:
    return _render(
        _workspace(request),
        "error.html",
        status=404,
        title="Unbekannte Partnerseite",
        message=f"Es gibt keine Partnerseite „{site_id}“.",
    )


# -- search -------------------------------------------------------------------------------

# Taxonomy labels change only when content is synced, possibly by another process (the
# CLI): each app re-reads them at most this often. A sync shows on pages within it.
LABELS_TTL_SECONDS = 30.0


async def _labels(page: Page) -> dict[str, dict[str, str]]:
    cache = page.renderer.cache
    now = time.monotonic()
    if (hit := cache.get("labels")) and hit[0] > now:
        labels: dict[str, dict[str, str]] = hit[1]
        return labels
    labels = await queries.taxonomy_labels()
    cache["labels"] = (now + LABELS_TTL_SECONDS, labels)
    return labels


async def _search_context(request: Req, page: Page) -> dict[str, Any]:
    """Hits, facets and notices for the search page, the site scope applied."""
    params = request.query_params
    labels = await _labels(page)
    known = {name: set(values) for name, values in labels.items()}
    filters: dict[str, list[str]] = {}
    for name in FACETS:
        values = [v.strip() for raw in params.getall(name, []) for v in raw.split(",")]
        kept = list(dict.fromkeys(v for v in values if v in known.get(name, set())))
        if kept:
            filters[name] = kept
    q = (params.get("q") or "").strip()[:MAX_QUERY]
    # Like the API's: a page number that is not one is a 400 naming it (German page).
    raw_page = params.get("page") or ""
    number = whole_number(raw_page, "page", maximum=MAX_PAGE) if raw_page.strip() else 1
    site = page.site
    scoped = site.scope(filters) if site else filters
    hits: list[dict[str, Any]] = []
    total = 0
    counts: dict[str, dict[str, int]] = {}
    notice = None
    service = getattr(request.app.state, "search", None)
    searched = False
    if scoped is not None and service is not None:
        try:
            async with timed_search("page"):
                result = await search_entries(
                    service.searcher, service.uid, q=q, filters=scoped, page=number,
                    page_size=PAGE_SIZE, facets=list(FACETS),
                )  # fmt: skip
            hits, total, counts = result["hits"], result["pagination"]["total"], result["facets"]
            searched = True
        except Exception as exc:  # search down: fall back to the database list
            log.warning("Search engine unavailable for a page: %s", exc)
            notice = (
                "Die Volltextsuche ist gerade nicht erreichbar. Angezeigt wird die Liste aller "
                "passenden Einträge; die Filter wirken weiterhin."
            )
    elif service is None and q:
        notice = "Die Volltextsuche ist auf diesem Server nicht eingerichtet; die Filter wirken."
    if scoped is not None and not searched:
        rows, total = await queries.list_entries(
            queries.EntryQuery(filters=scoped, page=number, page_size=PAGE_SIZE)
        )
        hits = [
            {**row, "title_html": escape(row["title"]), "summary_html": escape(row["summary"])}
            for row in rows
        ]
        counts = await _fallback_counts(site, filters)
    facets = []
    for name in FACETS:
        allowed = _allowed(site, name)
        values = [
            {
                "slug": slug,
                "label": label,
                "count": counts.get(name, {}).get(slug, 0),
                "selected": slug in filters.get(name, []),
            }
            for slug, label in labels.get(name, {}).items()
            if allowed is None or slug in allowed
        ]
        if len(values) > 1:
            facets.append({"name": name, "label": FACET_LABELS[name], "values": values})
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return {
        "q": q,
        "filters": filters,
        "hits": hits,
        "total": total,
        "facets": facets,
        "labels": labels,
        "notice": notice,
        "page_number": min(number, pages),
        "pages": pages,
        # Beyond the last page (a stale link), "back" leads to the last page.
        "prev_url": page.search(q=q, **filters, page=min(number - 1, pages))
        if number > 1
        else None,
        "next_url": page.search(q=q, **filters, page=number + 1) if number < pages else None,
    }


_ROW_FIELD = {
    "topic": "topics",
    "phase": "phases",
    "audience": "audiences",
    "kind": "kind",
    "source": "source",
}


async def _fallback_counts(
    site: Site | None, filters: dict[str, list[str]]
) -> dict[str, dict[str, int]]:
    """Facet counts from the database, counted like the search engine does: per dimension
    over the entries that match every other filter and the site's scope."""
    counts: dict[str, dict[str, int]] = {}
    for name in FACETS:
        others = {k: v for k, v in filters.items() if k != name}
        scoped = site.scope(others) if site else others
        tally: Counter[str] = Counter()
        if scoped is not None:
            rows, _ = await queries.list_entries(
                queries.EntryQuery(filters=scoped, page=1, page_size=10_000)
            )
            for row in rows:
                value = row[_ROW_FIELD[name]]
                tally.update(value if isinstance(value, list) else [value])
        counts[name] = dict(tally)
    return counts


def _allowed(site: Site | None, name: str) -> tuple[str, ...] | None:
    if site is None:
        return None
    return {"topic": site.topics, "source": site.sources}.get(name)


async def _search_page(request: Req, page: Page) -> Response[str]:
    context = await _search_context(request, page)
    partial = request.query_params.get("partial") == "1"
    template = "_results.html" if partial else "search.html"
    return _render(page, template, **context)


# -- entries ------------------------------------------------------------------------------


async def _entry_context(page: Page, slug: str) -> dict[str, Any] | None:
    entry = await queries.get_entry(slug)
    if entry is None or (page.site is not None and not page.site.shows(entry)):
        return None
    # Links to entries this page cannot show would lead to "not found": keep their text.
    # One read for the entries the text links to and the related ones.
    linked = await queries.entry_summaries(list({*entry["links"], *entry["related"]}))
    site = page.site
    hidden = {s for s in entry["links"] if s not in linked or (site and not site.shows(linked[s]))}
    entry["body_html"] = unlink_entries(entry["body_html"], hidden)
    # Likewise links to questionnaires this page does not offer (a site may name its own).
    if questionnaires := linked_questionnaires(entry["body_html"]):
        offered = {q["id"] for q in await _offered(page)}
        entry["body_html"] = unlink_questionnaires(entry["body_html"], questionnaires - offered)
    related = [linked[s] for s in entry["related"] if s in linked]
    if page.site is not None:
        related = [r for r in related if page.site.shows(r)]
    return {"entry": entry, "related": related, "labels": await _labels(page)}


async def _entry_page(page: Page, slug: str) -> Response[str]:
    context = await _entry_context(page, slug)
    if context is None:
        return _not_found(page, f"Es gibt keinen Eintrag „{slug}“.")
    return _render(page, "entry.html", **context)


async def _topic_context(page: Page, topic: str) -> dict[str, Any] | None:
    taxonomy = await queries.taxonomy_with_counts()
    term = next((t for t in taxonomy["topics"] if t["slug"] == topic), None)
    if term is None or (page.site and page.site.topics and topic not in page.site.topics):
        return None
    filters: dict[str, list[str]] = {"topic": [topic]}
    if page.site and page.site.sources is not None:
        filters["source"] = list(page.site.sources)
    rows, total = await queries.list_entries(
        queries.EntryQuery(filters=filters, page=1, page_size=100)
    )
    return {"term": term, "entries": rows, "total": total}


# -- quickcheck ---------------------------------------------------------------------------


async def _offered(page: Page) -> list[dict[str, Any]]:
    """The published questionnaires this page offers (a site may name them)."""
    offered = []
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
        offered.append(
            {
                "id": qid,
                "title": text_in(d.title, page.lang),
                "description": text_in(d.description, page.lang) if d.description else "",
                "perspectives": [(p.id, text_in(p.label, page.lang)) for p in d.perspectives],
            }
        )
    return offered


async def _quickcheck_list(page: Page) -> Response[str]:
    return _render(page, "quickcheck_list.html", questionnaires=await _offered(page))


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
) -> Response[str]:
    """The form; ``trial`` (or ``?probelauf=1``): a Lotse's demonstration run, stored with
    mode "test" so it never enters the statistics."""
    if trial is None:
        trial = request.query_params.get("probelauf") == "1"
    if questionnaire_id not in {q["id"] for q in await _offered(page)}:
        return _not_found(page, f"Es gibt keinen Fragebogen „{questionnaire_id}“.")
    try:
        found = await find_version(questionnaire_id, None)
    except QuestionnaireNotFound:  # withdrawn since the list above was read
        return _not_found(page, f"Es gibt keinen Fragebogen „{questionnaire_id}“.")
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
    return _render(
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
        print_versions=print_versions,
    )


def _condition_json(condition: dict[str, Any] | None) -> str:
    return json.dumps(condition, ensure_ascii=False, separators=(",", ":")) if condition else ""


def _posted_from_elsewhere(request: Req, page: Page) -> str | None:
    """The origin a form post came from, if it is neither this app nor (for an embed) one
    of the site's origins; None if the post may be taken.

    Browsers send ``Origin`` with every form post (``null`` from sandboxed or opaque
    pages, which is refused); ``Referer`` is the fallback for old ones. A post with
    neither header does not come from a current browser but from a program, which can
    send the same answers through the JSON API anyway, within the same rate limit: it is
    taken. What this stops is another web page submitting through its visitors'
    browsers."""
    sent = request.headers.get("origin") or request.headers.get("referer")
    if sent is None:
        return None
    allowed = {_origin_key(str(request.base_url))}
    allowed.update(_origin_key(o) for o in (page.site.origins if page.site else ()))
    key = _origin_key(sent)
    return None if key is not None and key in allowed else sent


def _origin_key(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a URL or origin, the default port filled in; None if it
    has none (``null``) or cannot be read."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:  # a malformed port or IPv6 address
        return None
    if not parts.hostname or port is None:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


async def _quickcheck_submit(request: Req, page: Page, questionnaire_id: str) -> Response[str]:
    if (elsewhere := _posted_from_elsewhere(request, page)) is not None:
        log.info("Quickcheck form post from another origin refused: %r", elsewhere[:200])
        return _render(
            page, "error.html", status=403, title="Nicht erlaubt",
            message="Dieses Formular kann nur auf den Seiten des Werkzeugkastens abgeschickt "
            "werden. Bitte öffnen Sie den Fragebogen dort und senden Sie ihn erneut ab.",
        )  # fmt: skip
    if questionnaire_id not in {q["id"] for q in await _offered(page)}:
        return _not_found(page, f"Es gibt keinen Fragebogen „{questionnaire_id}“.")
    # Our forms send urlencoded fields. Multipart (file uploads) is refused unread: the
    # toolbox takes no uploads anywhere.
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return _render(
            page, "error.html", status=415, title="Nicht unterstützt",
            message="Dieses Formular nimmt nur ausgefüllte Felder an, keine Dateien.",
        )  # fmt: skip
    form = await request.form()
    fields: dict[str, list[str]] = {key: form.getall(key) for key in form}
    perspective = (fields.get("perspective") or [""])[0] or None
    raw_version = (fields.get("version") or [""])[0]
    trial = (fields.get("mode") or [""])[0] == "test"
    try:
        found = await find_version(questionnaire_id, None)
    except QuestionnaireNotFound:  # withdrawn since the list above was read
        return _not_found(page, f"Es gibt keinen Fragebogen „{questionnaire_id}“.")
    d = found.definition
    if perspective not in {p.id for p in d.perspectives}:
        return await _quickcheck_form(
            request, page, questionnaire_id, status=422, trial=trial,
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
            trial=trial,
            message="Einige Antworten fehlen oder passen nicht; bitte sehen Sie sie sich an.",
        )  # fmt: skip
    try:
        doc = await submit_answers(
            questionnaire_id, version=version, perspective=perspective,
            mode="test" if trial else "real",
            answers=answers, lang=page.lang,
        )  # fmt: skip
    except QuickcheckError as exc:
        message = "Einige Antworten fehlen oder passen nicht; bitte sehen Sie sie sich an."
        if isinstance(exc, AnswersInvalid) and exc.problems:
            for problem in exc.problems:
                state.errors.setdefault(problem.item, german_reason(problem.reason))
        else:  # the version asked for is gone or closed: the form on screen is outdated
            message = (
                "Der Fragebogen wurde inzwischen geändert; bitte füllen Sie die neue Fassung aus."
            )
        return await _quickcheck_form(
            request, page, questionnaire_id, state=state, perspective=perspective, status=422,
            trial=trial,
            message=message,
        )  # fmt: skip
    QUICKCHECK_SUBMISSIONS.labels(doc.questionnaire.id, doc.mode).inc()
    return Response(
        "",
        status_code=303,
        headers={"Location": page.result(doc.token), "Cache-Control": "no-store"},
    )


async def _result_page(page: Page, token: str) -> Response[str]:
    row = await store.get_response(token)
    found = await store.get_version(row["questionnaire_id"], row["version"]) if row else None
    if row is None or found is None:
        return _not_found(page, "Zu diesem Link gibt es kein Ergebnis.")
    doc = await result_doc(found.definition, row, token, page.lang)
    return _render(
        page,
        "result.html",
        cache="no-store",
        result=doc,
        headers={"Referrer-Policy": "no-referrer"},
    )


# -- workspace routes ---------------------------------------------------------------------


# Search pages and Quickcheck submissions count towards the same per-client limits as
# the API (core.api.ratelimit).
# Pages read their query parameters themselves: each names those it reads once, so that a
# repeated one is a 400 naming it (core.api.input_checks).
SEARCH = {"rate_limit": "search", SINGLE_PARAMS: ("q", "page", "partial")}
SUBMIT = {"rate_limit": "submit"}
QUICKCHECK = {SINGLE_PARAMS: ("perspective", "probelauf")}
ASSET = {SINGLE_PARAMS: ("v",)}


@get("/", include_in_schema=False, opt=SEARCH)
async def workspace_search(request: Req) -> Response[str]:
    return await _search_page(request, _workspace(request))


@get("/entries/{slug:str}", include_in_schema=False)
async def workspace_entry(request: Req, slug: FromPath[str]) -> Response[str]:
    return await _entry_page(_workspace(request), slug)


@get("/merkliste", include_in_schema=False, opt={SINGLE_PARAMS: ("titel",)})
async def workspace_shortlist(request: Req) -> Response[str]:
    """The shortlist is its URL: ``?titel=...&e=slug&e=slug``. Nothing is stored."""
    page = _workspace(request)
    title = (request.query_params.get("titel") or "").strip()[:120]
    slugs = list(dict.fromkeys(request.query_params.getall("e", [])))[:50]
    entries = []
    missing = []
    for slug in slugs:
        entry = await queries.get_entry(slug)
        if entry is None:
            missing.append(slug)
        else:
            entries.append(entry)
    share = "/merkliste?" + urlencode(
        [("titel", title)] * bool(title) + [("e", e["slug"]) for e in entries]
    )
    return _render(
        page,
        "shortlist.html",
        list_title=title,
        entries=entries,
        missing=missing,
        share_url=share,
        headers={"Referrer-Policy": "no-referrer"},
    )


@get("/quickcheck", include_in_schema=False)
async def workspace_quickchecks(request: Req) -> Response[str]:
    return await _quickcheck_list(_workspace(request))


@get("/quickcheck/{questionnaire_id:str}", include_in_schema=False, opt=QUICKCHECK)
async def workspace_quickcheck(request: Req, questionnaire_id: FromPath[str]) -> Response[str]:
    return await _quickcheck_form(request, _workspace(request), questionnaire_id)


@post("/quickcheck/{questionnaire_id:str}", include_in_schema=False, status_code=303, opt=SUBMIT)
async def workspace_quickcheck_submit(
    request: Req, questionnaire_id: FromPath[str]
) -> Response[str]:
    return await _quickcheck_submit(request, _workspace(request), questionnaire_id)


@get("/results/{token:str}", include_in_schema=False)
async def workspace_result(request: Req, token: FromPath[str]) -> Response[str]:
    return await _result_page(_workspace(request), token)


@get("/leichte-sprache", include_in_schema=False)
async def workspace_easy_language(request: Req) -> Response[str]:
    """What the toolbox is and how to use it, in Leichte Sprache (BITV 2.0, § 4)."""
    return _render(_workspace(request), "leichte_sprache.html")


@get("/sites", include_in_schema=False)
async def site_list(request: Req) -> Response[str]:
    web, _ = _web(request)
    return _render(
        _workspace(request), "sites.html", sites=sorted(web.sites.values(), key=lambda s: s.id)
    )


@get("/sites/{site_id:str}", include_in_schema=False)
async def site_snippets(request: Req, site_id: FromPath[str]) -> Response[str]:
    web, _ = _web(request)
    site = web.sites.get(site_id)
    if site is None:
        return _unknown_site(request, site_id)
    page = _workspace(request)
    embed_page = _site_page(request, site_id)
    assert embed_page is not None
    taxonomy = await queries.taxonomy_with_counts()
    topics = [t for t in taxonomy["topics"] if site.topics is None or t["slug"] in site.topics]
    # The example of a single entry must be one this site shows.
    scoped = site.scope({})
    rows, _ = (
        await queries.list_entries(queries.EntryQuery(filters=scoped, page_size=1))
        if scoped is not None
        else ([], 0)
    )
    return _render(
        page,
        "site.html",
        site=site,
        host=str(request.base_url).rstrip("/"),
        topics=topics,
        questionnaires=await _offered(embed_page),
        example_entry=rows[0]["slug"] if rows else "slug",
    )


# -- embed routes -------------------------------------------------------------------------


@get(["/embed/{site_id:str}", "/embed/{site_id:str}/search"], include_in_schema=False, opt=SEARCH)
async def embed_search(request: Req, site_id: FromPath[str]) -> Response[str]:
    page = _site_page(request, site_id)
    return await _search_page(request, page) if page else _unknown_site(request, site_id)


@get("/embed/{site_id:str}/entries/{slug:str}", include_in_schema=False)
async def embed_entry(request: Req, site_id: FromPath[str], slug: FromPath[str]) -> Response[str]:
    page = _site_page(request, site_id)
    return await _entry_page(page, slug) if page else _unknown_site(request, site_id)


@get("/embed/{site_id:str}/topics/{topic:str}", include_in_schema=False)
async def embed_topic(request: Req, site_id: FromPath[str], topic: FromPath[str]) -> Response[str]:
    page = _site_page(request, site_id)
    if page is None:
        return _unknown_site(request, site_id)
    context = await _topic_context(page, topic)
    if context is None:
        return _not_found(page, f"Es gibt kein Thema „{topic}“.")
    return _render(page, "topic.html", **context)


@get("/embed/{site_id:str}/quickcheck", include_in_schema=False)
async def embed_quickchecks(request: Req, site_id: FromPath[str]) -> Response[str]:
    page = _site_page(request, site_id)
    return await _quickcheck_list(page) if page else _unknown_site(request, site_id)


@get(
    "/embed/{site_id:str}/quickcheck/{questionnaire_id:str}",
    include_in_schema=False,
    opt=QUICKCHECK,
)
async def embed_quickcheck(
    request: Req, site_id: FromPath[str], questionnaire_id: FromPath[str]
) -> Response[str]:
    page = _site_page(request, site_id)
    if page is None:
        return _unknown_site(request, site_id)
    return await _quickcheck_form(request, page, questionnaire_id)


@post(
    "/embed/{site_id:str}/quickcheck/{questionnaire_id:str}",
    include_in_schema=False,
    status_code=303,
    opt=SUBMIT,
)
async def embed_quickcheck_submit(
    request: Req, site_id: FromPath[str], questionnaire_id: FromPath[str]
) -> Response[str]:
    page = _site_page(request, site_id)
    if page is None:
        return _unknown_site(request, site_id)
    return await _quickcheck_submit(request, page, questionnaire_id)


@get("/embed/{site_id:str}/results/{token:str}", include_in_schema=False)
async def embed_result(request: Req, site_id: FromPath[str], token: FromPath[str]) -> Response[str]:
    page = _site_page(request, site_id)
    return await _result_page(page, token) if page else _unknown_site(request, site_id)


# -- fragments (server-side includes) -------------------------------------------------------


def _fragment(page: Page, template: str, status: int = 200, **context: Any) -> Response[str]:
    body = page.renderer.render(page, template, **context)
    # Browsers may fetch fragments only from the site's origins (the app's CORS settings);
    # a partner's server includes them without asking.
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=300"}
    return Response(body, status_code=status, media_type="text/html", headers=headers)


@get("/embed/{site_id:str}/fragments/entries/{slug:str}", include_in_schema=False)
async def fragment_entry(
    request: Req, site_id: FromPath[str], slug: FromPath[str]
) -> Response[str]:
    page = _site_page(request, site_id, fragment=True)
    if page is None:
        return _unknown_site(request, site_id)
    context = await _entry_context(page, slug)
    if context is None:
        return _fragment(
            page, "fragments/missing.html", status=404, message=f"Kein Eintrag „{slug}“."
        )
    return _fragment(page, "fragments/entry.html", **context)


@get("/embed/{site_id:str}/fragments/topics/{topic:str}", include_in_schema=False)
async def fragment_topic(
    request: Req, site_id: FromPath[str], topic: FromPath[str]
) -> Response[str]:
    page = _site_page(request, site_id, fragment=True)
    if page is None:
        return _unknown_site(request, site_id)
    context = await _topic_context(page, topic)
    if context is None:
        return _fragment(
            page, "fragments/missing.html", status=404, message=f"Kein Thema „{topic}“."
        )
    return _fragment(page, "fragments/topic.html", **context)


@get("/embed/{site_id:str}/fragments/search", include_in_schema=False, opt=SEARCH)
async def fragment_search(request: Req, site_id: FromPath[str]) -> Response[str]:
    page = _site_page(request, site_id, fragment=True)
    if page is None:
        return _unknown_site(request, site_id)
    context = await _search_context(request, page)
    return _fragment(page, "fragments/search.html", **context)


# -- assets -------------------------------------------------------------------------------

IMMUTABLE = "public, max-age=31536000, immutable"
# Stated rather than guessed: with nosniff a browser refuses a stylesheet or script
# served under another type, and the system's MIME table differs between machines.
# Litestar appends "; charset=utf-8" to text/* types itself.
MEDIA_TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".woff2": "font/woff2",
    ".json": "application/json",
}


@get("/static/{theme_name:str}/{path:path}", include_in_schema=False, opt=ASSET)
async def static_file(
    request: Req, theme_name: FromPath[str], path: FromPath[str]
) -> Response[Any]:
    web, _ = _web(request)
    theme = web.themes.get(theme_name)
    found = theme.static_file(path.lstrip("/")) if theme else None
    if found is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    cache = IMMUTABLE if request.query_params.get("v") else "public, max-age=300"
    media_type = MEDIA_TYPES.get(found.suffix.lower()) or (
        mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    )
    return File(
        path=found,
        filename=found.name,
        media_type=media_type,
        content_disposition_type="inline",
        headers={
            "Cache-Control": cache,
            "X-Content-Type-Options": "nosniff",
            "Access-Control-Allow-Origin": "*",
        },
    )


@get("/themes/{theme_name:str}/tokens.css", include_in_schema=False, opt=ASSET)
async def tokens_css(request: Req, theme_name: FromPath[str]) -> Response[str]:
    web, _ = _web(request)
    theme = web.themes.get(theme_name)
    if theme is None:
        return Response("/* unknown theme */", status_code=404, media_type="text/css")
    cache = IMMUTABLE if request.query_params.get("v") else "public, max-age=300"
    return Response(
        theme.tokens_css(),
        media_type="text/css",
        headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"},
    )


@get("/embed.js", include_in_schema=False)
async def embed_js(request: Req) -> Response[Any]:
    """The loader partners put on their page: mounts the iframe and resizes it."""
    web, _ = _web(request)
    found = web.themes["default"].static_file("embed.js")
    assert found is not None, "the default theme ships static/embed.js"
    return File(
        path=found,
        filename="embed.js",
        content_disposition_type="inline",
        media_type="text/javascript",
        headers={
            "Cache-Control": "public, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Access-Control-Allow-Origin": "*",
        },
    )


ROUTES: list[Any] = [
    workspace_search,
    workspace_entry,
    workspace_shortlist,
    workspace_quickchecks,
    workspace_quickcheck,
    workspace_quickcheck_submit,
    workspace_result,
    workspace_easy_language,
    site_list,
    site_snippets,
    embed_search,
    embed_entry,
    embed_topic,
    embed_quickchecks,
    embed_quickcheck,
    embed_quickcheck_submit,
    embed_result,
    fragment_entry,
    fragment_topic,
    fragment_search,
    static_file,
    tokens_css,
    embed_js,
]
