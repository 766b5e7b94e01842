"""The editor's pages (/redaktion): what they share, and the landing page.

Every editor page is rendered with ``editor_page``: the workspace theme, never cached,
never framed, with the signed-in account, the CSRF field for its forms and the editor's
navigation (``NAV``: each item names the roles that see it; other branches add theirs).
Who may open a page is said once, in the route's ``opt={"roles": ...}``; the app-wide
guard (core.accounts.guard) enforces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Response, get

from core.accounts import ROLE_LABELS, AccountInfo, current_account
from core.accounts.guard import csrf_field
from core.http.input_checks import UNSTORABLE
from core.web.base import Req, render, workspace


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str
    roles: tuple[str, ...]  # who sees it (admin always)
    description: str = ""


# The editor's navigation, in order; the landing page lists the same with descriptions.
NAV: list[NavItem] = [
    NavItem("/redaktion", "Übersicht", ("freigabe", "redaktion", "lotse", "auswertung")),
    NavItem(
        "/redaktion/eintraege",
        "Einträge",
        ("freigabe", "redaktion"),
        "Einträge anlegen und bearbeiten, zur Prüfung einreichen, veröffentlichen; Verlauf, "
        "Vergleich und Konflikte mit den Dateien.",
    ),
    NavItem(
        "/redaktion/konten",
        "Konten",
        ("admin",),
        "Konten anlegen, Rollen und Quellen ändern, Passwörter setzen, Konten sperren.",
    ),
    NavItem(
        "/redaktion/partnerseiten",
        "Partnerseiten",
        ("admin",),
        "Partnerseiten mit erlaubten Herkünften, Erscheinungsbild und Auswahl pflegen.",
    ),
    NavItem(
        "/redaktion/regionen",
        "Regionen",
        ("admin",),
        "Eine neue Region anlegen: Quelle, Farben, Logo und Partnerseite, ohne Entwicklung.",
    ),
    NavItem(
        "/redaktion/protokoll",
        "Protokoll",
        ("admin",),
        "Nachvollziehen, wer wann was getan hat; als CSV exportieren.",
    ),
]


def nav_for(account: AccountInfo | None) -> list[NavItem]:
    return [item for item in NAV if account is not None and account.has_role(*item.roles)]


def editor_page(
    request: Req,
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response[str]:
    """An editor page: workspace theme, ``no-store``, with ``account``, ``csrf_field``,
    ``nav``, ``current_path`` and ``role_labels`` in the template context."""
    account = current_account(request)
    return render(
        workspace(request),
        template,
        status=status,
        cache="no-store",
        headers=headers,
        account=account,
        csrf_field=csrf_field(request),
        nav=nav_for(account),
        current_path=request.url.path,
        role_labels=ROLE_LABELS,
        **context,
    )


# UNSTORABLE (NUL, lone surrogates): argon2 cannot hash them and no PostgreSQL text column
# stores them; browsers never send them from a form.
async def form_fields(request: Req, limit: int = 1000) -> dict[str, list[str]]:
    """The fields of a urlencoded form post, each value cut at ``limit`` characters and
    without characters no database stores (anything else, e.g. multipart, reads as an
    empty form: the editor takes no uploads)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return {}
    form = await request.form()
    return {
        UNSTORABLE.sub("", str(key)): [UNSTORABLE.sub("", str(v)[:limit]) for v in form.getall(key)]
        for key in form
    }


def first(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0]


def see_other(where: str) -> Response[str]:
    """303 to ``where`` after a successful post (so a reload does not post again)."""
    return Response("", status_code=303, headers={"Location": where, "Cache-Control": "no-store"})


@get("/redaktion", opt={"roles": "any"}, include_in_schema=False)
async def editor_home(request: Req) -> Response[str]:
    """The landing page: who is signed in, and what the role may do here."""
    account = current_account(request)
    tasks = [item for item in nav_for(account) if item.description]
    return editor_page(request, "redaktion/start.html", title="Redaktion", tasks=tasks)


ROUTES: list[Any] = [editor_home]
