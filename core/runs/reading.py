"""What both front ends read about a run: the company view, the report, the dashboard,
computed with the published Quickcheck and feedback definitions."""

from __future__ import annotations

from core.quickcheck import store as quickcheck_store
from core.quickcheck.model import Questionnaire
from core.quickcheck.present import entry_refs
from core.quickcheck.store import StoredVersion
from core.runs import service
from core.runs.dashboard import Dashboard, DashboardFilter, load_dashboard
from core.runs.model import FEEDBACK_ID, QUICKCHECK_ID, RunInfo
from core.runs.pdf import report_pdf
from core.runs.service import RunError
from core.runs.view import CompanyView, PhaseView, company_view


class QuickcheckMissing(RunError):
    """The Quickcheck questionnaire is not in the database (content never synced)."""


async def _stored() -> tuple[StoredVersion, StoredVersion | None]:
    d = await quickcheck_store.latest_published(QUICKCHECK_ID)
    fd = await quickcheck_store.latest_published(FEEDBACK_ID)
    if d is None:
        raise QuickcheckMissing(f"questionnaire {QUICKCHECK_ID!r} is not installed")
    return d, fd


async def definitions() -> tuple[Questionnaire, Questionnaire | None]:
    d, fd = await _stored()
    return d.definition, fd.definition if fd else None


async def view_of(run: RunInfo, k: int) -> CompanyView:
    """The company view of ``run`` with the minimum group ``k`` (empty while the
    Quickcheck is not installed: a fresh installation before its first content sync)."""
    try:
        d, fd = await definitions()
    except QuickcheckMissing:
        empty = PhaseView(phase="start", groups=[], dimensions=[], items=[], recommendations=[])
        return CompanyView(min_group=k, start=empty, end=None, progress=[], feedback=None)
    return company_view(d, fd, await service.run_responses([run.id]), k)


async def recommended_titles(view: CompanyView) -> dict[str, str]:
    """Slug -> title of the published entries the view recommends, in its order."""
    refs = await entry_refs({r.slug for r in view.start.recommendations})
    return {r.slug: refs[r.slug].title for r in view.start.recommendations if r.slug in refs}


async def report_bytes(run: RunInfo, k: int, site_label: str) -> bytes:
    """The run report as a PDF."""
    view = await view_of(run, k)
    return report_pdf(run, view, await recommended_titles(view), site_label)


async def dashboard(
    flt: DashboardFilter,
    k: int,
    *,
    only_site: str | None = None,
    site_labels: dict[str, str] | None = None,
) -> Dashboard:
    try:
        d, fd = await _stored()
    except QuickcheckMissing:  # no Quickcheck yet: the run counts only
        return await load_dashboard(
            None, None, flt, k, only_site=only_site, site_labels=site_labels
        )
    return await load_dashboard(
        d.definition,
        fd.definition if fd else None,
        flt,
        k,
        only_site=only_site,
        site_labels=site_labels,
        definition_hash=d.hash + (fd.hash if fd else ""),
    )
