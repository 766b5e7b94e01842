"""Every page route of the browser side, in one list for the app (core.app)."""

from __future__ import annotations

from typing import Any

from core.web import (
    assets,
    editor,
    embed,
    entries,
    konten,
    login,
    partnerseiten,
    protokoll,
    quickcheck,
    redaktion,
    runs,
    search,
    shortlist,
    tandem,
)

ROUTES: list[Any] = [
    search.workspace_search,
    entries.workspace_entry,
    shortlist.workspace_shortlist,
    shortlist.shortlist_qr,
    quickcheck.workspace_quickchecks,
    quickcheck.workspace_quickcheck,
    quickcheck.workspace_quickcheck_submit,
    quickcheck.workspace_result,
    tandem.workspace_tandem_check,
    tandem.embed_tandem_check,
    entries.workspace_easy_language,
    embed.site_list,
    embed.site_snippets,
    search.embed_search,
    entries.embed_entry,
    entries.embed_topic,
    quickcheck.embed_quickchecks,
    quickcheck.embed_quickcheck,
    quickcheck.embed_quickcheck_submit,
    quickcheck.embed_result,
    embed.fragment_entry,
    embed.fragment_topic,
    embed.fragment_search,
    assets.static_file,
    assets.tokens_css,
    assets.embed_js,
    *login.ROUTES,
    *redaktion.ROUTES,
    *editor.ROUTES,
    *konten.ROUTES,
    *partnerseiten.ROUTES,
    *protokoll.ROUTES,
    *runs.ROUTES,
]
