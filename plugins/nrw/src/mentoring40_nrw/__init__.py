"""Mentoring 4.0 Phase 2 – Qualifizierung für den digitalen Wandel in NRW.

The reference region plugin: every hook it implements is one a region really uses.
Contributes the regional toolbox entries as a content pack named ``nrw`` (with its
search vocabulary), the theme ``nrw`` and the partner site ``nrw`` (with the region's
overrides), the region's own Quickcheck figures as a protected API route, search
enrichment, and a startup check. The hooks need nothing of mentoring40's core; only the
route, built when the app asks for it, uses mentoring40's Quickcheck domain.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("mentoring40")

# The mentoring40 versions this plugin works with; outside them it is refused at startup.
MENTORING40_VERSIONS = ">=0.1,<0.2"

CONTENT_DIR = Path(__file__).parent / "content"
THEME_DIR = Path(__file__).parent / "theme"
SITES_DIR = Path(__file__).parent / "sites"
SOURCE = "nrw"
# How people write the region's name; added to the NRW entries' search text.
REGION_WORDS = ["NRW", "Nordrhein-Westfalen"]

log = logging.getLogger("mentoring40.nrw")


@hookimpl
def content_packs() -> list[dict[str, Any]]:
    return [
        {
            "name": SOURCE,
            "path": CONTENT_DIR,
            "label": "Phase 2: Qualifizierung für den digitalen Wandel in NRW",
        }
    ]


@hookimpl
def themes() -> list[Path]:
    return [THEME_DIR]


@hookimpl
def sites() -> list[Path]:
    return [SITES_DIR]


@hookimpl
def api_scopes() -> dict[str, str]:
    from mentoring40_nrw.figures import SCOPES

    return SCOPES


@hookimpl
def register_routes() -> list[Any]:
    # Imported here: the route needs Litestar and mentoring40's Quickcheck domain, which
    # exist whenever the app asks for routes.
    from mentoring40_nrw.figures import nrw_stats

    return [nrw_stats]


@hookimpl
def search_document(entry: dict[str, Any], doc: dict[str, Any]) -> None:
    # The regional entries rarely name the region in their text; a search for "NRW" or
    # "Nordrhein-Westfalen" should still find them.
    if entry["source"] == SOURCE:
        doc["text_terms"] = " ".join([doc.get("text_terms") or "", *REGION_WORDS]).strip()


@hookimpl
def search_settings(index_settings: dict[str, Any]) -> None:
    # A one-way synonym, which the vocabulary files (two-way groups) cannot say: a search
    # for the short name also finds texts that spell the region out, not the reverse.
    synonyms = index_settings.setdefault("synonyms", {})
    synonyms.setdefault("nrw", [])
    if "nordrhein-westfalen" not in synonyms["nrw"]:
        synonyms["nrw"].append("nordrhein-westfalen")


@hookimpl
def startup(app: Any) -> None:
    # Without origins no partner website can embed the NRW site: say so where the operator
    # looks, once per start.
    site = app.state.web.sites.get(SOURCE)
    if site is not None and not site.origins:
        log.warning(
            "The NRW site lists no origins yet, so no partner website can embed it; add "
            "them to %s.",
            site.file,
        )
