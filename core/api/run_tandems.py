"""The tandem matching of a run as JSON: pool, pair markings, fit matrix, assignment.

For the run's Lotse only: a signed-in session of the account that owns the run (or an
admin); unsafe methods send the session's CSRF token as ``X-CSRF-Token`` (the app-wide
role guard checks both, see docs/ACCOUNTS.md). Another Lotse's run is a 404, as on the
run pages; no API key reaches these routes (the pool is the Lotse's working material, not
programme data).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.params import FromPath, JSONBody

from core.accounts import current_account
from core.api.params import TEXT, optional_query
from core.http.problems import InvalidParam, ProblemError, problem_responses
from core.runs import pool, service, tandems
from core.runs.model import RunInfo
from core.runs.pool import Mark, Member, PoolError, Settings
from core.runs.service import RunNotFound
from core.runs.tandems import Change, Matrix, Proposal, State

LOTSE = {"roles": ("lotse", "admin")}
NO_STORE = {"Cache-Control": "no-store"}
RUN_404 = (404, "There is no run with this id, or it is not yours.")
SIGNED_IN = problem_responses(401, 403, RUN_404)
CHANGES = problem_responses(
    400, 401, 403, RUN_404, (409, "The pseudonym is taken in this pool."), 415, 422
)
SESSION = (
    " For the run's Lotse (or an admin) signed in with a session; POST and DELETE send "
    "the session's CSRF token as X-CSRF-Token."
)
Pseudonym = Annotated[str, msgspec.Meta(max_length=100)]


async def own_run(request: Request[Any, Any, Any], run_id: int) -> RunInfo:
    """The run if the signed-in account owns it (or is admin); else a 404 problem."""
    account = current_account(request)
    try:
        run = await service.get_run(run_id)
    except RunNotFound:
        raise ProblemError(*RUN_404) from None
    if account is None or (account.role != "admin" and run.owner_account != account.id):
        raise ProblemError(*RUN_404)
    return run


def refused(exc: PoolError) -> ProblemError:
    return ProblemError(
        exc.status,
        f"{exc.german} ({exc.field}: {exc.reason}; nothing was changed)",
        invalid_params=[InvalidParam(exc.field, exc.reason)],
    )


class MemberDoc(msgspec.Struct, frozen=True, kw_only=True):
    pseudonym: str
    role: str
    capacity: int | None
    profile_version: int | None  # None: no profile yet


class PoolDoc(msgspec.Struct, frozen=True, kw_only=True):
    members: list[MemberDoc]
    settings: Settings


class PoolOne(msgspec.Struct, frozen=True):
    data: PoolDoc
    meta: dict[str, Any] = {}


class MemberIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    role: Literal["mentor", "mentee"]
    pseudonym: Pseudonym
    capacity: int | None = None


class MarkIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    mentor: Pseudonym
    mentee: Pseudonym
    kind: Literal["same_team", "reports_to", "not_with", "pin", "forbid"]


class MarkList(msgspec.Struct, frozen=True):
    data: list[Mark]
    meta: dict[str, Any] = {}


class MatrixOne(msgspec.Struct, frozen=True):
    data: Matrix
    meta: dict[str, Any] = {}


class AssignmentIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    objective: Literal["total", "balanced"] = "total"
    capacity: int | None = None  # mentees per mentor (saved as the run's setting)
    threshold: int | None = None  # 0..100 (saved as the run's setting)


class Proposed(msgspec.Struct, frozen=True, kw_only=True):
    proposal: Proposal
    change: Change


class ProposedOne(msgspec.Struct, frozen=True):
    data: Proposed
    meta: dict[str, Any] = {}


class StateOne(msgspec.Struct, frozen=True):
    data: State
    meta: dict[str, Any] = {}


def _doc(m: Member) -> MemberDoc:
    return MemberDoc(
        pseudonym=m.pseudonym, role=m.role, capacity=m.capacity, profile_version=m.version
    )


async def _pool(run_id: int) -> PoolOne:
    members = await pool.members(run_id, answers=False)
    return PoolOne(
        data=PoolDoc(members=[_doc(m) for m in members], settings=await pool.settings(run_id))
    )


@get(
    "/api/v1/runs/{run_id:int}/pool",
    tags=["Runs: tandems"],
    summary="The run's matching pool: pseudonyms, roles, capacities, profile versions",
    description="Only pseudonyms are stored; profiles come in through the run's profile "
    "links (phase `profil`)." + SESSION,
    opt=LOTSE,
    responses=SIGNED_IN,
)
async def get_pool(request: Request[Any, Any, Any], run_id: FromPath[int]) -> Response[PoolOne]:
    run = await own_run(request, run_id)
    return Response(await _pool(run.id), headers=NO_STORE)


@post(
    "/api/v1/runs/{run_id:int}/pool",
    tags=["Runs: tandems"],
    summary="Add a pseudonym to the pool (its profile may follow through the profile link)",
    description="A pseudonym has 2-30 letters, digits (at most 3), spaces, '.', '-' or an "
    "apostrophe: nothing like an e-mail address or a phone number (422), unique in the run "
    "(409). `capacity` (mentors, 0-10): how many mentees; without it the run's setting." + SESSION,
    status_code=201,
    opt=LOTSE,
    responses=CHANGES,
)
async def add_member(
    request: Request[Any, Any, Any], run_id: FromPath[int], data: JSONBody[MemberIn]
) -> Response[PoolOne]:
    run = await own_run(request, run_id)
    try:
        await pool.add_member(run.id, data.role, data.pseudonym, data.capacity)
    except PoolError as exc:
        raise refused(exc) from exc
    return Response(await _pool(run.id), status_code=201, headers=NO_STORE)


@delete(
    "/api/v1/runs/{run_id:int}/pool/{pseudonym:str}",
    tags=["Runs: tandems"],
    summary="Remove a pool member with its profile answers and its pair markings",
    description=SESSION.strip(),
    status_code=204,
    opt=LOTSE,
    responses=problem_responses(401, 403, RUN_404),
)
async def remove_member(
    request: Request[Any, Any, Any], run_id: FromPath[int], pseudonym: FromPath[str]
) -> None:
    run = await own_run(request, run_id)
    try:
        await pool.remove_member(run.id, pseudonym)
    except PoolError as exc:
        raise refused(exc) from exc


@get(
    "/api/v1/runs/{run_id:int}/pair-marks",
    tags=["Runs: tandems"],
    summary="The Lotse's pair markings and decisions of the run",
    description="`same_team` (the fit check scores the department criterion 0), "
    "`reports_to`, `not_with` (the fit check rules the pair out), `pin` (in every "
    "proposal) and `forbid` (never)." + SESSION,
    opt=LOTSE,
    responses=SIGNED_IN,
)
async def get_marks(request: Request[Any, Any, Any], run_id: FromPath[int]) -> Response[MarkList]:
    run = await own_run(request, run_id)
    return Response(MarkList(data=await pool.marks(run.id)), headers=NO_STORE)


@post(
    "/api/v1/runs/{run_id:int}/pair-marks",
    tags=["Runs: tandems"],
    summary="Mark a mentor-mentee pair (replaces the pair's marking or decision)",
    description="Both must be in the pool in these roles (422 otherwise)." + SESSION,
    status_code=201,
    opt=LOTSE,
    responses=CHANGES,
)
async def add_mark(
    request: Request[Any, Any, Any], run_id: FromPath[int], data: JSONBody[MarkIn]
) -> Response[MarkList]:
    run = await own_run(request, run_id)
    try:
        await pool.set_mark(run.id, data.mentor, data.mentee, data.kind)
    except PoolError as exc:
        raise refused(exc) from exc
    return Response(MarkList(data=await pool.marks(run.id)), status_code=201, headers=NO_STORE)


MarkQuery = Annotated[str | None, optional_query("A pseudonym of the pool.", TEXT)]
KindQuery = Annotated[str | None, optional_query("The marking: same_team, reports_to, ...", TEXT)]


@delete(
    "/api/v1/runs/{run_id:int}/pair-marks",
    tags=["Runs: tandems"],
    summary="Remove one marking (query: mentor, mentee, kind)",
    description=SESSION.strip(),
    status_code=204,
    opt=LOTSE,
    responses=problem_responses(401, 403, RUN_404, 422),
)
async def remove_mark(
    request: Request[Any, Any, Any],
    run_id: FromPath[int],
    mentor: MarkQuery = None,
    mentee: MarkQuery = None,
    kind: KindQuery = None,
) -> None:
    run = await own_run(request, run_id)
    try:
        found = await pool.clear_mark(run.id, mentor or "", mentee or "", kind or "")
    except PoolError as exc:
        raise refused(exc) from exc
    if not found:
        raise ProblemError(404, "This pair has no such marking.")


@get(
    "/api/v1/runs/{run_id:int}/matrix",
    tags=["Runs: tandems"],
    summary="Every mentor x mentee fit 0-100 with Ampel, blocked cells and explanations",
    description="`cells[i][j]`: mentee i, mentor j. Only profiles of one questionnaire "
    "version are compared (the one most of the pool used); `left_out` names the others "
    "and those without a profile, `notes` says in German what keeps the pool from being "
    "matched (only one role, every pair excluded, too little capacity)." + SESSION,
    opt=LOTSE,
    responses=problem_responses(401, 403, RUN_404, 422),
)
async def get_matrix(request: Request[Any, Any, Any], run_id: FromPath[int]) -> Response[MatrixOne]:
    run = await own_run(request, run_id)
    try:
        found = await tandems.matrix(run.id)
    except PoolError as exc:
        raise refused(exc) from exc
    return Response(MatrixOne(data=found), headers=NO_STORE)


@get(
    "/api/v1/runs/{run_id:int}/assignment",
    tags=["Runs: tandems"],
    summary="The current proposal (with what changed against the one before) and the agreed "
    "tandems",
    description=SESSION.strip(),
    opt=LOTSE,
    responses=SIGNED_IN,
)
async def get_assignment(
    request: Request[Any, Any, Any], run_id: FromPath[int]
) -> Response[StateOne]:
    run = await own_run(request, run_id)
    return Response(StateOne(data=await tandems.state(run.id)), headers=NO_STORE)


@post(
    "/api/v1/runs/{run_id:int}/assignment",
    tags=["Runs: tandems"],
    summary="Propose the optimal assignment ('total') or the most balanced one ('balanced')",
    description="Exact (SciPy): the largest sum of fits (or the strongest weakest pair) "
    "subject to exclusions, pair markings, forbidden and pinned pairs, each mentor's "
    "capacity and the threshold; people may stay unmatched. `capacity` and `threshold` "
    "given here are saved as the run's settings first. A pool that cannot be matched is a "
    "422 whose detail says why in German." + SESSION,
    status_code=200,
    opt=LOTSE,
    responses=CHANGES,
)
async def propose(
    request: Request[Any, Any, Any], run_id: FromPath[int], data: JSONBody[AssignmentIn]
) -> Response[ProposedOne]:
    run = await own_run(request, run_id)
    try:
        if data.capacity is not None or data.threshold is not None:
            now = await pool.settings(run.id)
            await pool.save_settings(
                run.id,
                now.capacity if data.capacity is None else data.capacity,
                now.threshold if data.threshold is None else data.threshold,
            )
        proposal, change = await tandems.propose(run.id, data.objective)
    except PoolError as exc:
        raise refused(exc) from exc
    return Response(ProposedOne(data=Proposed(proposal=proposal, change=change)), headers=NO_STORE)


@post(
    "/api/v1/runs/{run_id:int}/assignment/agree",
    tags=["Runs: tandems"],
    summary="Agree on the current proposal: it becomes the run's tandems for the hand-out",
    description=SESSION.strip(),
    status_code=200,
    opt=LOTSE,
    responses=problem_responses(401, 403, RUN_404, 422),
)
async def agree(request: Request[Any, Any, Any], run_id: FromPath[int]) -> Response[StateOne]:
    run = await own_run(request, run_id)
    try:
        await tandems.agree(run.id)
    except PoolError as exc:
        raise refused(exc) from exc
    return Response(StateOne(data=await tandems.state(run.id)), headers=NO_STORE)


ROUTES: list[Any] = [
    get_pool,
    add_member,
    remove_member,
    get_marks,
    add_mark,
    remove_mark,
    get_matrix,
    get_assignment,
    propose,
    agree,
]
