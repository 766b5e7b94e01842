"""The Merkliste (shortlist) of a consultation and the QR code of its share link.

A Merkliste is its URL; nothing is stored on the server:

    /merkliste?liste=<id>&titel=...&e=slug&e=slug&schritte=...&notiz-<slug>=...&kontakt=...

``liste`` is the id of the list in the Lotse's browser (localStorage, static/app.js): with
it the page is the Lotse's editable list; without it the page is a shared list, shown
read-only and clean for the recipient, with "übernehmen" for a Lotse who wants to keep it.
``schritte`` are the agreed next steps, ``notiz-<slug>`` a free note per method,
``kontakt`` the Lotse's optional contact line; all of them print on the handout's first
page, next to the share link and its QR code (``/merkliste/qr.svg`` with the same query).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

from litestar import Response, get

from core.content import queries
from core.http.input_checks import SINGLE_PARAMS
from core.web.base import Req, render, workspace
from core.web.qr import qr_svg_document

MAX_ENTRIES = 50
MAX_TITLE = 120
MAX_STEPS = 1500
MAX_NOTE = 400
MAX_CONTACT = 200
NOTE_PREFIX = "notiz-"
_LIST_ID = re.compile(r"[a-z0-9]{1,32}")
_MONTHS = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]

SHORTLIST = {SINGLE_PARAMS: ("titel", "liste", "schritte", "kontakt")}


def german_date(day: dt.date) -> str:
    return f"{day.day}. {_MONTHS[day.month - 1]} {day.year}"


def _text(request: Req, name: str, limit: int) -> str:
    # Line breaks are kept (next steps are often a list); other control characters not.
    raw = request.query_params.get(name) or ""
    cleaned = "".join(c for c in raw if c in "\n" or c >= " ").replace("\r", "")
    return cleaned.strip()[:limit]


def shortlist_params(request: Req) -> dict[str, Any]:
    """The list as the URL gives it: id, title, slugs (first of each, at most 50), steps,
    a note per listed slug and the contact line."""
    params = request.query_params
    list_id = (params.get("liste") or "").strip()
    slugs = list(dict.fromkeys(s.strip() for s in params.getall("e", []) if s.strip()))
    slugs = slugs[:MAX_ENTRIES]
    notes = {}
    for slug in slugs:
        note = _text(request, NOTE_PREFIX + slug, MAX_NOTE)
        if note:
            notes[slug] = note
    return {
        "list_id": list_id if _LIST_ID.fullmatch(list_id) else "",
        "title": _text(request, "titel", MAX_TITLE).replace("\n", " "),
        "slugs": slugs,
        "steps": _text(request, "schritte", MAX_STEPS),
        "notes": notes,
        "contact": _text(request, "kontakt", MAX_CONTACT).replace("\n", " "),
    }


def share_query(
    title: str, slugs: list[str], steps: str, notes: dict[str, str], contact: str
) -> str:
    """The query of the share link (no list id: whoever opens it gets the read-only view)."""
    pairs = [("titel", title)] * bool(title) + [("e", slug) for slug in slugs]
    pairs += [("schritte", steps)] * bool(steps)
    pairs += [(NOTE_PREFIX + slug, notes[slug]) for slug in slugs if notes.get(slug)]
    pairs += [("kontakt", contact)] * bool(contact)
    return urlencode(pairs)


@get("/merkliste", include_in_schema=False, opt=SHORTLIST)
async def workspace_shortlist(request: Req) -> Response[str]:
    """The Lotse's list (``liste`` given) or a shared list, read-only (see above)."""
    page = workspace(request)
    wanted = shortlist_params(request)
    found = await queries.entry_summaries(wanted["slugs"])
    entries = []
    missing = []
    for slug in wanted["slugs"]:
        entry = await queries.get_entry(slug) if slug in found else None
        if entry is None:
            missing.append(slug)
        else:
            entries.append(entry)
    slugs = [e["slug"] for e in entries]
    notes = {s: n for s, n in wanted["notes"].items() if s in slugs}
    query = share_query(wanted["title"], slugs, wanted["steps"], notes, wanted["contact"])
    share = "/merkliste" + (f"?{query}" if query else "")
    base = str(request.base_url).rstrip("/")
    return render(
        page,
        "shortlist.html",
        list_id=wanted["list_id"],
        editable=bool(wanted["list_id"]),
        list_title=wanted["title"],
        steps=wanted["steps"],
        notes=notes,
        contact=wanted["contact"],
        entries=entries,
        missing=missing,
        share_url=share,
        share_absolute=base + share,
        site_url=base,
        qr_url="/merkliste/qr.svg" + (f"?{query}" if query else ""),
        today=german_date(dt.date.today()),
        headers={"Referrer-Policy": "no-referrer"},
    )


@get("/merkliste/qr.svg", include_in_schema=False, opt=SHORTLIST)
async def shortlist_qr(request: Req) -> Response[str]:
    """The QR code (SVG) of the share link of the list in the query; 422 with a German
    sentence if the link is too long for a QR code."""
    wanted = shortlist_params(request)
    query = share_query(
        wanted["title"], wanted["slugs"], wanted["steps"], wanted["notes"], wanted["contact"]
    )
    url = str(request.base_url).rstrip("/") + "/merkliste" + (f"?{query}" if query else "")
    svg = qr_svg_document(url)
    headers = {"Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}
    if svg is None:
        return Response(
            "Der Link ist zu lang für einen QR-Code. Kürzen Sie die Notizen oder Schritte.",
            status_code=422,
            media_type="text/plain; charset=utf-8",
            headers=headers,
        )
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={**headers, "Cache-Control": "private, max-age=3600"},
    )
