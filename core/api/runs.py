"""The runs (Durchläufe) API: runs and their invitation links, the company view, the
report as PDF, and the programme dashboard with its CSV export.

Access is by API key (``Authorization: Bearer``): ``runs:read`` reads every run and the
whole dashboard, ``runs:write`` also creates, changes and deletes runs, and a partner
site's key ``runs:site:<site>`` reads and manages that site's runs only (other sites'
runs are 404 to it, its dashboard is its own). One check, ``run_access``, decides this
for every route here; the routes say what they need in ``opt={"runs_access": ...}``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from core.api.params import TEXT, optional_query
from core.auth import API_KEY, RUNS_SITE_SCOPE, key_for_token
from core.http.problems import InvalidParam, ProblemError, bad_request, problem_responses
from core.runs import model, reading, service
from core.runs.dashboard import Dashboard, DashboardFilter, dashboard_csv
from core.runs.model import PHASES, RunIn, RunInfo
from core.runs.service import CodeRefused, RunClosed, RunError, RunInvalid, RunNotFound
from core.runs.view import CompanyView
from core.settings import Settings

NO_STORE = {"Cache-Control": "no-store"}
ACCESS_OPT = "runs_access"  # "read", "write" or "delete"
RUN_404 = (404, "There is no run with this id (or not one this key may see).")


class Access(msgspec.Struct, frozen=True, kw_only=True):
    """Which sites' runs a key reads and manages (None: every site's)."""

    sites: frozenset[str] | None
    write_sites: frozenset[str] | None
    delete: bool

    def sees(self, run: RunInfo) -> bool:
        return self.sites is None or run.site in self.sites

    def manages(self, site: str) -> bool:
        return self.write_sites is None or site in self.write_sites


_UNAUTHORIZED = ProblemError(
    401,
    "The runs API needs a valid API key: send 'Authorization: Bearer <token>' with a key "
    "that has the scope runs:read, runs:write or runs:site:<site>.",
    headers={"WWW-Authenticate": 'Bearer realm="mentoring40"'},
)


async def run_access(request: Request[Any, Any, Any], need: str) -> Access:
    """What the request's key may do with runs; 401 without a valid key, 403 when the
    key has no runs scope that allows ``need`` ("read", "write" or "delete")."""
    kind, _sep, token = request.headers.get("authorization", "").partition(" ")
    key = await key_for_token(token.strip()) if kind.lower() == "bearer" else None
    if key is None:
        raise _UNAUTHORIZED
    scopes = set(key.scopes)
    own = frozenset(s[len(RUNS_SITE_SCOPE) :] for s in scopes if s.startswith(RUNS_SITE_SCOPE))
    if "runs:write" in scopes:
        access = Access(sites=None, write_sites=None, delete=True)
    elif own or "runs:read" in scopes:
        access = Access(sites=None if "runs:read" in scopes else own, write_sites=own, delete=False)
    else:
        raise ProblemError(
            403, "This API key has no runs scope (runs:read, runs:write, runs:site:<site>)."
        )
    if need == "delete" and not access.delete:
        raise ProblemError(403, "Deleting runs needs the scope runs:write.")
    if need == "write" and access.write_sites is not None and not access.write_sites:
        raise ProblemError(403, "Changing runs needs the scope runs:write or runs:site:<site>.")
    return access


def _sites(request: Request[Any, Any, Any]) -> dict[str, str]:
    """Site id -> label of the sites this installation serves."""
    # Files and the database's partner sites (core.web.site_store keeps them current).
    live = getattr(request.app.state, "live_sites", None)
    sites = live.sites if live is not None else request.app.state.web.sites
    return {sid: site.label for sid, site in sites.items()}


def problem(exc: RunError) -> ProblemError:
    """The problem document for a refusal of the runs service."""
    if isinstance(exc, RunInvalid):
        return ProblemError(
            422,
            "The run has problems; nothing was stored: "
            + "; ".join(f"{f}: {r}" for f, r in exc.problems),
            invalid_params=[InvalidParam(f, r) for f, r in exc.problems],
        )
    if isinstance(exc, RunNotFound):
        return ProblemError(*RUN_404)
    if isinstance(exc, RunClosed):
        return ProblemError(409, "The run is closed; nothing can be opened in it any more.")
    if isinstance(exc, CodeRefused):
        return code_problem(exc)
    if isinstance(exc, reading.QuickcheckMissing):
        return ProblemError(503, "The Quickcheck questionnaire is not installed; run content sync.")
    raise TypeError(f"no problem document for {exc!r}")


def code_problem(exc: CodeRefused) -> ProblemError:
    """422 naming ``run``: what is wrong with the code and what to do; nothing stored."""
    detail = {
        "malformed": "The run code is not a code this programme hands out (22 letters, "
        "digits, - and _); check the invitation link, or answer without 'run'.",
        "unknown": "There is no run with this code; check the invitation link, or answer "
        "without 'run'.",
        "closed": "This run code is closed and takes no more answers; ask the Lotse for "
        "the current link.",
        "questionnaire": f"This run code is for the questionnaire "
        f"{exc.expected_questionnaire!r}, not this one.",
        "perspective": f"This run code is for the perspective {exc.expected_perspective!r}; "
        "leave 'perspective' out or send that one.",
        "test": "A trial response (mode 'test') cannot count for a run; send mode 'real' "
        "or leave 'run' out.",
    }[exc.reason]
    return ProblemError(
        422,
        detail + " Nothing was stored.",
        invalid_params=[InvalidParam("run", exc.reason)],
    )


async def _run_for(access: Access, run_id: int, *, manage: bool = False) -> RunInfo:
    try:
        run = await service.get_run(run_id)
    except RunNotFound as exc:
        raise problem(exc) from exc
    if not access.sees(run):
        raise ProblemError(*RUN_404)
    if manage and not access.manages(run.site):
        raise ProblemError(403, "This key may read this run but not change it.")
    return run


class CodeDoc(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    phase: str
    perspective: str
    questionnaire: str
    open: bool
    link: str  # the invitation link (the questionnaire page with ?run=)


class RunDoc(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    company: str
    site: str
    region: str
    sector: str
    size_class: str
    starts_on: dt.date
    ends_on: dt.date
    state: str
    codes: list[CodeDoc]
    url: str


def invitation_link(request: Request[Any, Any, Any], questionnaire_id: str, code: str) -> str:
    base = str(request.base_url).rstrip("/")
    return f"{base}/quickcheck/{questionnaire_id}?run={code}"


def run_doc(request: Request[Any, Any, Any], run: RunInfo) -> RunDoc:
    return RunDoc(
        id=run.id,
        company=run.company,
        site=run.site,
        region=run.region,
        sector=run.sector,
        size_class=run.size_class,
        starts_on=run.starts_on,
        ends_on=run.ends_on,
        state=run.state,
        codes=[
            CodeDoc(
                code=c.code,
                phase=c.phase,
                perspective=c.perspective,
                questionnaire=c.questionnaire_id,
                open=c.is_open,
                link=invitation_link(request, c.questionnaire_id, c.code),
            )
            for c in run.codes
        ],
        url=f"/api/v1/runs/{run.id}",
    )


class RunOne(msgspec.Struct, frozen=True):
    data: RunDoc
    meta: dict[str, Any] = {}


class RunList(msgspec.Struct, frozen=True):
    data: list[RunDoc]
    meta: dict[str, Any] = {}


class ViewOne(msgspec.Struct, frozen=True):
    data: CompanyView
    meta: dict[str, Any] = {}


class DashboardOne(msgspec.Struct, frozen=True):
    data: Dashboard
    meta: dict[str, Any] = {}


class OptionsOne(msgspec.Struct, frozen=True):
    data: dict[str, dict[str, str]]
    meta: dict[str, Any] = {}


class PhaseIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    phase: Literal["ende", "feedback", "profil"]


def _date(name: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise bad_request(name, f"{value[:40]!r} is not a date like 2026-01-31") from None


Filter = Annotated[str | None, optional_query("Filter value (see /api/v1/runs/options).", TEXT)]
StateParam = Annotated[
    str | None,
    QueryParameter(
        name="state",
        description="Run state: laeuft or abgeschlossen.",
        schema_extra={"one_of": None, "type": TEXT},
    ),
]
DateParam = Annotated[str | None, optional_query("A day, YYYY-MM-DD.", TEXT, format="date")]
READ = {ACCESS_OPT: "read"}
WRITE = {ACCESS_OPT: "write"}
KEYED = problem_responses(401, 403)


@get(
    "/api/v1/runs/options",
    tags=["Runs"],
    summary="The fixed lists a run is described with (regions, sectors, size classes, ...)",
)
async def run_options(request: Request[Any, Any, Any]) -> Response[OptionsOne]:
    return Response(OptionsOne(data={**model.labels(), "sites": _sites(request)}))


@get(
    "/api/v1/runs",
    tags=["Runs"],
    summary="Runs this key may see, newest start first",
    opt=READ,
    security=API_KEY,
    responses=problem_responses(401, 403),
)
async def list_runs(request: Request[Any, Any, Any]) -> Response[RunList]:
    access = await run_access(request, "read")
    runs = [r for r in await service.list_runs() if access.sees(r)]
    full = [await service.get_run(r.id) for r in runs]
    return Response(RunList(data=[run_doc(request, r) for r in full]), headers=NO_STORE)


@post(
    "/api/v1/runs",
    tags=["Runs"],
    summary="Create a run; returns it with the invitation links of the start measurement",
    description="`company` is a pseudonym (no legal name needed); `site`, `region`, `sector` "
    "and `size_class` come from GET /api/v1/runs/options. A site key may create runs of "
    "its own site only.",
    status_code=201,
    opt=WRITE,
    security=API_KEY,
    responses=problem_responses(400, 401, 403, 413, 415, 422),
)
async def create_run(request: Request[Any, Any, Any], data: JSONBody[RunIn]) -> Response[RunOne]:
    access = await run_access(request, "write")
    if not access.manages(data.site):
        raise ProblemError(
            403, f"This key manages the runs of {', '.join(sorted(access.write_sites or []))} only."
        )
    try:
        run = await service.create_run(data, owner_account=None, sites=list(_sites(request)))
    except RunError as exc:
        raise problem(exc) from exc
    doc = run_doc(request, run)
    return Response(RunOne(data=doc), status_code=201, headers={**NO_STORE, "Location": doc.url})


@get(
    "/api/v1/runs/dashboard",
    tags=["Runs"],
    summary="The programme dashboard (a site key: its own runs only)",
    description="Runs by region, site, period, state, sector and size class; the Ampel "
    "distribution per dimension (start measurement, per perspective, counted in runs); "
    "perspective gaps; start-vs-end change; the barrier ranking of the feedback (Borda). "
    "Employee and feedback answers enter only in whole blocks of MENTORING40_RUN_MIN_GROUP "
    "per run, and every filter selects whole runs, so no view or difference of views "
    "reveals fewer answers than that.",
    opt=READ,
    security=API_KEY,
    responses=problem_responses(400, 401, 403, 503),
)
async def dashboard(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    region: Filter = None,
    site: Filter = None,
    sector: Filter = None,
    size_class: Filter = None,
    run_state: StateParam = None,
    started_from: DateParam = None,
    started_to: DateParam = None,
) -> Response[DashboardOne]:
    board = await _dashboard(
        request, settings, region, site, sector, size_class, run_state, started_from, started_to
    )
    return Response(DashboardOne(data=board), headers=NO_STORE)


@get(
    "/api/v1/runs/dashboard.csv",
    tags=["Runs"],
    summary="The programme dashboard as CSV (the same filters and figures)",
    media_type="text/csv",
    opt=READ,
    security=API_KEY,
    responses=problem_responses(400, 401, 403, 503),
)
async def dashboard_export(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    region: Filter = None,
    site: Filter = None,
    sector: Filter = None,
    size_class: Filter = None,
    run_state: StateParam = None,
    started_from: DateParam = None,
    started_to: DateParam = None,
) -> Response[str]:
    board = await _dashboard(
        request, settings, region, site, sector, size_class, run_state, started_from, started_to
    )
    return Response(
        dashboard_csv(board),
        media_type="text/csv; charset=utf-8",
        headers={**NO_STORE, "Content-Disposition": 'attachment; filename="auswertung.csv"'},
    )


async def _dashboard(
    request: Request[Any, Any, Any],
    settings: Settings,
    region: str | None,
    site: str | None,
    sector: str | None,
    size_class: str | None,
    state: str | None,
    started_from: str | None,
    started_to: str | None,
) -> Dashboard:
    access = await run_access(request, "read")
    flt = DashboardFilter(
        region=region,
        site=site,
        sector=sector,
        size_class=size_class,
        state=state,
        started_from=_date("started_from", started_from),
        started_to=_date("started_to", started_to),
    )
    sites = _sites(request)
    if problems := flt.problems(list(sites)):
        raise ProblemError(
            400,
            "; ".join(f"{f}: {r}" for f, r in problems),
            invalid_params=[InvalidParam(f, r) for f, r in problems],
        )
    only_site = None
    if access.sites is not None:
        if site is not None and site not in access.sites:
            raise ProblemError(403, "This key sees the dashboard of its own site only.")
        only_site = site or sorted(access.sites)[0]
    try:
        return await reading.dashboard(
            flt, settings.run_min_group, only_site=only_site, site_labels=sites
        )
    except RunError as exc:
        raise problem(exc) from exc


@get(
    "/api/v1/runs/{run_id:int}",
    tags=["Runs"],
    summary="One run with its invitation links",
    opt=READ,
    security=API_KEY,
    responses=problem_responses(401, 403, RUN_404),
)
async def get_run(request: Request[Any, Any, Any], run_id: FromPath[int]) -> Response[RunOne]:
    access = await run_access(request, "read")
    return Response(RunOne(data=run_doc(request, await _run_for(access, run_id))), headers=NO_STORE)


@get(
    "/api/v1/runs/{run_id:int}/view",
    tags=["Runs"],
    summary="The company view: perspectives side by side, gaps, start vs end, feedback",
    description="Employee and feedback answers count only in whole blocks of "
    "MENTORING40_RUN_MIN_GROUP (default 3), oldest first; below that a group is "
    "`withheld`. Management answers are shown as they are.",
    opt=READ,
    security=API_KEY,
    responses=problem_responses(401, 403, RUN_404, 503),
)
async def get_view(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings], run_id: FromPath[int]
) -> Response[ViewOne]:
    access = await run_access(request, "read")
    run = await _run_for(access, run_id)
    try:
        view = await reading.view_of(run, settings.run_min_group)
    except RunError as exc:
        raise problem(exc) from exc
    return Response(ViewOne(data=view), headers=NO_STORE)


@get(
    "/api/v1/runs/{run_id:int}/report.pdf",
    tags=["Runs"],
    summary="The run report as an A4 PDF",
    media_type="application/pdf",
    opt=READ,
    security=API_KEY,
    responses=problem_responses(401, 403, RUN_404, 503),
)
async def get_report_pdf(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings], run_id: FromPath[int]
) -> Response[bytes]:
    access = await run_access(request, "read")
    run = await _run_for(access, run_id)
    try:
        pdf = await reading.report_bytes(
            run, settings.run_min_group, _sites(request).get(run.site, run.site)
        )
    except RunError as exc:
        raise problem(exc) from exc
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **NO_STORE,
            "Content-Disposition": f'attachment; filename="durchlauf-{run.id}.pdf"',
        },
    )


@post(
    "/api/v1/runs/{run_id:int}/phases",
    tags=["Runs"],
    summary="Open the repeat measurement ('ende'), the feedback ('feedback') or the tandem "
    "profile links of the matching pool ('profil')",
    description="Opening 'ende' closes the start links and creates new ones; opening an "
    "open phase again changes nothing.",
    status_code=200,
    opt=WRITE,
    security=API_KEY,
    responses=problem_responses(400, 401, 403, RUN_404, (409, "The run is closed."), 415),
)
async def open_phase(
    request: Request[Any, Any, Any], run_id: FromPath[int], data: JSONBody[PhaseIn]
) -> Response[RunOne]:
    access = await run_access(request, "write")
    await _run_for(access, run_id, manage=True)
    try:
        run = await service.open_phase(run_id, data.phase)
    except RunError as exc:
        raise problem(exc) from exc
    return Response(RunOne(data=run_doc(request, run)), headers=NO_STORE)


@post(
    "/api/v1/runs/{run_id:int}/codes/{code:str}/close",
    tags=["Runs"],
    summary="Close one invitation link: later answers through it are refused",
    status_code=200,
    opt=WRITE,
    security=API_KEY,
    responses=problem_responses(401, 403, RUN_404, 422),
)
async def close_code(
    request: Request[Any, Any, Any], run_id: FromPath[int], code: FromPath[str]
) -> Response[RunOne]:
    access = await run_access(request, "write")
    await _run_for(access, run_id, manage=True)
    try:
        run = await service.close_code(run_id, code)
    except RunError as exc:
        raise problem(exc) from exc
    return Response(RunOne(data=run_doc(request, run)), headers=NO_STORE)


@post(
    "/api/v1/runs/{run_id:int}/close",
    tags=["Runs"],
    summary="Finish the run: every link closes",
    status_code=200,
    opt=WRITE,
    security=API_KEY,
    responses=problem_responses(401, 403, RUN_404),
)
async def close_run(request: Request[Any, Any, Any], run_id: FromPath[int]) -> Response[RunOne]:
    access = await run_access(request, "write")
    await _run_for(access, run_id, manage=True)
    run = await service.close_run(run_id)
    return Response(RunOne(data=run_doc(request, run)), headers=NO_STORE)


@delete(
    "/api/v1/runs/{run_id:int}",
    tags=["Runs"],
    summary="Delete a run with its links and every response given through them",
    status_code=204,
    opt={ACCESS_OPT: "delete"},
    security=API_KEY,
    responses=problem_responses(401, 403, RUN_404),
)
async def delete_run(request: Request[Any, Any, Any], run_id: FromPath[int]) -> None:
    access = await run_access(request, "delete")
    await _run_for(access, run_id)
    await service.delete_run(run_id)


ROUTES: list[Any] = [
    run_options,
    list_runs,
    create_run,
    dashboard,
    dashboard_export,
    get_run,
    get_view,
    get_report_pdf,
    open_phase,
    close_code,
    close_run,
    delete_run,
]
__all__ = ["PHASES", "ROUTES", "code_problem", "run_access"]
