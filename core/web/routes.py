"""Every page route of the browser side, in one list for the app (core.app)."""

from __future__ import annotations

from typing import Any

from core.web import assets, embed, entries, quickcheck, search, shortlist

ROUTES: list[Any] = [
    search.workspace_search,
    entries.workspace_entry,
    shortlist.workspace_shortlist,
    shortlist.shortlist_qr,
    quickcheck.workspace_quickchecks,
    quickcheck.workspace_quickcheck,
    quickcheck.workspace_quickcheck_submit,
    quickcheck.workspace_result,
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
]
