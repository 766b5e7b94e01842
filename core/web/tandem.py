"""The tandem fit check as a page: two result links of the tandem profile in, the fit
with its German explanation per criterion out — the ``POST /api/v1/tandem-checks`` of the
JSON API made usable without the API, and without JavaScript (a plain GET form, so the
result page is a link the Lotse can keep; nothing is stored).

The workspace offers it at ``/tandem-check``; a partner site's embed offers it at
``/embed/{site}/tandem-check`` when the site offers the tandem profile (a site that lists
its questionnaires and leaves the profile out does not get the check either).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from litestar import Response, get
from litestar.params import FromPath

from core.http.input_checks import SINGLE_PARAMS
from core.quickcheck import service, store
from core.quickcheck.service import TandemInvalid
from core.web.base import Req, not_found, on_site, render, workspace
from core.web.render import Page

ROLES = ("mentor", "mentee")
CHECK = {SINGLE_PARAMS: ROLES}
ROLE_LABEL = {"mentor": "Mentorin oder Mentor", "mentee": "Mentee"}
MISSING = {"mentor": "der Mentorin oder des Mentors", "mentee": "des Mentees"}
# Result tokens are URL-safe base64 (core.quickcheck.store.new_token).
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,100}")
LONGEST_INPUT = 2000


def token_from(text: str) -> str | None:
    """The result token in what was pasted: the token itself, or a result link
    (``…/results/TOKEN``, in the workspace or an embed, with or without query)."""
    text = text.strip()
    if len(text) > LONGEST_INPUT:
        return None
    if "/" in text:
        parts = urlsplit(text).path.rstrip("/").split("/")
        if len(parts) < 2 or parts[-2] != "results":
            return None
        text = parts[-1]
    return text if TOKEN.fullmatch(text) else None


def _german(reason: str) -> str:
    """The service's reason for one result, in the words of the page."""
    if reason == "no result has this token":
        return "Zu diesem Link gibt es kein Ergebnis. Bitte prüfen Sie, ob er vollständig ist."
    if reason == "different questionnaire or version":
        return (
            "Die beiden Ergebnisse stammen aus verschiedenen Fassungen des Tandem-Profils; "
            "bitte lassen Sie beide Personen dieselbe Fassung ausfüllen."
        )
    if reason == "not a tandem profile result":
        return "Dieses Ergebnis stammt nicht aus dem Tandem-Profil."
    if reason.startswith("was answered as"):
        return "Dieses Profil wurde für die andere Rolle ausgefüllt."
    return "Dieses Ergebnis lässt sich nicht vergleichen."


async def _offers_profile(page: Page) -> bool:
    """The workspace offers the check; a site that lists its questionnaires only if one of
    them is a tandem profile (a questionnaire with a matching section)."""
    wanted = page.site.questionnaires if page.site else None
    if wanted is None:
        return True
    for qid in wanted:
        found = await store.latest_published(qid)
        if found is not None and found.definition.matching is not None:
            return True
    return False


async def _check_page(request: Req, page: Page) -> Response[str]:
    if not await _offers_profile(page):
        return not_found(page, "Diese Partnerseite bietet den Passungs-Check nicht an.")
    values = {role: request.query_params.get(role, "") for role in ROLES}
    errors: dict[str, str] = {}
    result: Any = None
    if any(values.values()):
        tokens: dict[str, str] = {}
        for role in ROLES:
            if not values[role].strip():
                errors[role] = f"Bitte fügen Sie den Ergebnis-Link {MISSING[role]} ein."
                continue
            token = token_from(values[role])
            if token is None:
                errors[role] = (
                    "Das ist kein Ergebnis-Link. Er endet auf /results/ und einer langen "
                    "Zeichenfolge; Sie finden ihn auf der Ergebnisseite des Tandem-Profils."
                )
            else:
                tokens[role] = token
        if not errors:
            try:
                result = await service.check_tandem(tokens["mentor"], tokens["mentee"], page.lang)
            except TandemInvalid as exc:
                for problem in exc.problems:
                    errors[problem.role] = exc.german or _german(problem.reason)
    status = 400 if errors else 200
    return render(
        page,
        "tandem_check.html",
        status=status,
        cache="no-store",
        headers={"Referrer-Policy": "no-referrer"},
        values=values,
        errors=errors,
        result=result,
        role_label=ROLE_LABEL,
    )


@get("/tandem-check", include_in_schema=False, opt=CHECK)
async def workspace_tandem_check(request: Req) -> Response[str]:
    return await _check_page(request, workspace(request))


@get("/embed/{site_id:str}/tandem-check", include_in_schema=False, opt=CHECK)
async def embed_tandem_check(request: Req, site_id: FromPath[str]) -> Response[str]:
    return await on_site(request, site_id, lambda page: _check_page(request, page))
