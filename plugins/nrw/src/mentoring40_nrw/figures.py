"""The NRW route: the region's own anonymous Quickcheck figures.

Only responses submitted on the NRW partner sites (the sites this plugin contributes)
count, with the same aggregates and the same small-group rules as the core's statistics.
Imported by the ``register_routes`` hook only, when mentoring40 is running: this module
uses mentoring40's Quickcheck domain and Litestar, the rest of the plugin needs neither.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.params import FromPath

from core.http.problems import ProblemError
from core.quickcheck import store
from core.quickcheck.service import QuickcheckError, find_version
from core.quickcheck.stats import StatsDoc, compute_stats

PLUGIN = "nrw"
SCOPE = "nrw:stats:read"
SCOPES = {
    SCOPE: "anonymous Quickcheck figures of the NRW sites "
    "(GET /api/v1/nrw/questionnaires/{id}/stats)",
}


class RegionMeta(msgspec.Struct, frozen=True):
    # The NRW sites whose responses are counted.
    sites: list[str]


class RegionStats(msgspec.Struct, frozen=True):
    data: StatsDoc
    meta: RegionMeta


def region_sites(request: Request[Any, Any, Any]) -> list[str]:
    """The ids of the partner sites this plugin contributes."""
    sites = request.app.state.web.sites
    return sorted(sid for sid, site in sites.items() if site.plugin == PLUGIN)


@get(
    "/api/v1/nrw/questionnaires/{questionnaire_id:str}/stats",
    tags=["NRW"],
    summary="Anonymous Quickcheck figures of the NRW sites (API key with scope nrw:stats:read)",
    description="Real responses of the latest published version that were submitted on the "
    "NRW partner sites. Groups smaller than MENTORING40_STATS_MIN_GROUP are withheld, as in "
    "the core's statistics.",
    opt={"scope": SCOPE},
)
async def nrw_stats(
    request: Request[Any, Any, Any], questionnaire_id: FromPath[str]
) -> Response[RegionStats]:
    try:
        found = await find_version(questionnaire_id, None)
    except QuickcheckError:
        raise ProblemError(
            404,
            f"There is no published questionnaire {questionnaire_id!r}; "
            "GET /api/v1/questionnaires lists them.",
        ) from None
    d = found.definition
    sites = region_sites(request)
    rows = await store.responses(questionnaire_id, d.version, sites=sites)
    k = request.app.state.settings.stats_min_group
    doc = compute_stats(d, rows, None, k)
    return Response(
        RegionStats(data=doc, meta=RegionMeta(sites=sites)),
        headers={"Cache-Control": "no-store"},
    )
