"""The Quickcheck API: definitions, responses, results, statistics, export, tandem check."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from core.api.caching import NOT_MODIFIED, cached_json
from core.api.params import NUMBER, TEXT, optional_query
from core.api.runs import code_problem
from core.auth import API_KEY
from core.http.metrics import QUICKCHECK_SUBMISSIONS
from core.http.problems import InvalidParam, ProblemError, bad_request, problem_responses
from core.quickcheck import service, store
from core.quickcheck.export import export_csv
from core.quickcheck.model import DEFAULT_LANGUAGE, Questionnaire, text_in
from core.quickcheck.present import (
    PerspectiveDoc,
    QuestionnaireDoc,
    ResultDoc,
    VersionRef,
    definition_doc,
    perspectives_doc,
    result_doc,
)
from core.quickcheck.service import (
    AnswersInvalid,
    PerspectiveInvalid,
    QuestionnaireNotFound,
    QuickcheckError,
    TandemDoc,
    TandemInvalid,
    VersionClosed,
)
from core.quickcheck.stats import StatsDoc, compute_stats
from core.runs import service as runs
from core.runs.pool import PoolError
from core.settings import Settings

NO_STORE = {"Cache-Control": "no-store"}
NO_QUESTIONNAIRE = (404, "There is no such questionnaire, or not this version of it.")
_LANG_RE = re.compile(r"^[a-z]{2}$")
Lang = Annotated[
    str | None,
    optional_query(
        "Language of the texts (e.g. de, en); missing texts are German.",
        TEXT,
        pattern=_LANG_RE.pattern,
    ),
]


class QuestionnaireSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    description: str | None
    purpose: str
    perspectives: list[PerspectiveDoc]
    latest_version: int
    versions: list[VersionRef]
    url: str


class QuestionnaireList(msgspec.Struct, frozen=True):
    data: list[QuestionnaireSummary]
    meta: dict[str, Any] = {}


class QuestionnaireOne(msgspec.Struct, frozen=True):
    data: QuestionnaireDoc
    meta: dict[str, Any] = {}


# More answers than any questionnaire has items: refused while decoding (400). The HTML
# forms read only the fields of the items they ask, so they need no such limit.
MAX_ANSWERS = 200


class ResponseIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A filled-in questionnaire. ``answers`` maps item ids to an option code, a list of
    codes (multiple choice; in order for a ranking), a number or a text."""

    version: int
    perspective: str | None = None
    mode: Literal["real", "test"] = "real"
    answers: Annotated[dict[str, Any], msgspec.Meta(max_length=MAX_ANSWERS)]
    # The code of a run's invitation link: the response then counts for that run (and the
    # code decides the perspective). Without it, the anonymous Quickcheck as before.
    run: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    # A tandem profile through a run's profile link joins the run's matching pool under
    # this pseudonym (core.runs.pool: 2-30 characters, nothing like an e-mail or phone).
    pseudonym: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class ResultOne(msgspec.Struct, frozen=True):
    data: ResultDoc
    meta: dict[str, Any] = {}


class StatsOne(msgspec.Struct, frozen=True):
    data: StatsDoc
    meta: dict[str, Any] = {}


class TandemIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The result tokens of the mentor's and the mentee's tandem profile."""

    mentor: str
    mentee: str


class TandemOne(msgspec.Struct, frozen=True):
    data: TandemDoc
    meta: dict[str, Any] = {}


def language(lang: str | None) -> str:
    if lang is None:
        return DEFAULT_LANGUAGE
    if not _LANG_RE.match(lang):
        raise bad_request("lang", f"{lang!r} is not a two-letter language code such as de or en")
    return lang


def problem(exc: QuickcheckError) -> ProblemError:
    """The problem document (422, or 404 for a missing questionnaire) for a refusal of the
    Quickcheck service; every refused part is named in ``invalid_params``."""
    if isinstance(exc, QuestionnaireNotFound):
        qid, version = exc.questionnaire_id, exc.version
        if not exc.versions:
            return ProblemError(
                404,
                f"There is no questionnaire {qid!r}; GET /api/v1/questionnaires lists "
                "the published ones.",
            )
        listed = ", ".join(f"{v} ({s})" for v, s in exc.versions)
        return ProblemError(
            404,
            f"Questionnaire {qid!r} has no version {version}"
            if version is not None
            else f"Questionnaire {qid!r} has no published version",
            invalid_params=[InvalidParam("version", f"available: {listed}")],
        )
    if isinstance(exc, VersionClosed):
        hint = f"; answer version {exc.latest}" if exc.latest is not None else ""
        return ProblemError(
            422,
            f"Version {exc.version} of {exc.questionnaire_id!r} is {exc.status} and takes no "
            f"new responses{hint}.",
            invalid_params=[InvalidParam("version", f"is {exc.status}")],
        )
    if isinstance(exc, PerspectiveInvalid):
        ids = ", ".join(exc.choices)
        if exc.perspective is None:
            return ProblemError(
                422,
                f"Say from which perspective the questionnaire is answered: one of {ids}.",
                invalid_params=[InvalidParam("perspective", f"required; one of: {ids}")],
            )
        return ProblemError(
            422,
            f"{exc.questionnaire_id!r} has no perspective {exc.perspective!r}; it has: {ids}.",
            invalid_params=[InvalidParam("perspective", f"unknown; one of: {ids}")],
        )
    if isinstance(exc, AnswersInvalid):
        listed = "; ".join(f"{p.item}: {p.reason}" for p in exc.problems)
        return ProblemError(
            422,
            f"The answers have {len(exc.problems)} problem(s); nothing was stored: {listed}.",
            invalid_params=[InvalidParam(f"answers.{p.item}", p.reason) for p in exc.problems],
        )
    if isinstance(exc, TandemInvalid):
        return ProblemError(
            422,
            exc.message,
            invalid_params=[InvalidParam(p.role, p.reason) for p in exc.problems],
        )
    raise TypeError(f"no problem document for {exc!r}")  # a new error needs its mapping here


async def find_version(questionnaire_id: str, version: int | None) -> store.StoredVersion:
    """``service.find_version``; a 404 problem if there is no such version."""
    try:
        return await service.find_version(questionnaire_id, version)
    except QuickcheckError as exc:
        raise problem(exc) from exc


def check_perspective_param(d: Questionnaire, perspective: str | None) -> None:
    """The ``perspective`` query parameter names one of the questionnaire's (400 if not)."""
    if perspective is not None and perspective not in {p.id for p in d.perspectives}:
        raise bad_request(
            "perspective",
            f"{d.id!r} has no perspective {perspective!r}; it has: "
            + ", ".join(p.id for p in d.perspectives),
        )


class QuestionnaireController(Controller):
    path = "/api/v1/questionnaires"
    tags = ("Quickcheck",)

    @get(
        "/",
        summary="Published questionnaires with their perspectives and versions",
        responses={**NOT_MODIFIED, **problem_responses(400)},
    )
    async def list_questionnaires(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        lang: Lang = None,
    ) -> Response[QuestionnaireList]:
        lang_ = language(lang)
        data = []
        for qid, versions in (await store.version_overview()).items():
            latest = await store.latest_published(qid)
            if latest is None:
                continue
            d = latest.definition
            data.append(
                QuestionnaireSummary(
                    id=qid,
                    title=text_in(d.title, lang_),
                    description=text_in(d.description, lang_) if d.description else None,
                    purpose=d.purpose,
                    perspectives=perspectives_doc(d, lang_),
                    latest_version=d.version,
                    versions=[VersionRef(v, s) for v, s in versions],
                    url=f"/api/v1/questionnaires/{qid}",
                )
            )
        return cached_json(request, QuestionnaireList(data=data), settings)

    @get(
        "/{questionnaire_id:str}",
        summary="One questionnaire definition",
        description="The latest published version, or `version`; with `perspective` the "
        "items and wording of that perspective only.",
        responses={**NOT_MODIFIED, **problem_responses(400, NO_QUESTIONNAIRE)},
    )
    async def get_questionnaire(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        questionnaire_id: FromPath[str],
        version: Annotated[int | None, optional_query("A version number.", NUMBER)] = None,
        perspective: Annotated[str | None, optional_query("A perspective id.", TEXT)] = None,
        lang: Lang = None,
    ) -> Response[QuestionnaireOne]:
        lang_ = language(lang)
        found = await find_version(questionnaire_id, version)
        d = found.definition
        check_perspective_param(d, perspective)
        versions = (await store.version_overview())[questionnaire_id]
        doc = definition_doc(d, found.hash, found.status, versions, lang_, perspective)
        return cached_json(request, QuestionnaireOne(data=doc), settings)

    @post(
        "/{questionnaire_id:str}/responses",
        summary="Submit answers; returns the scored result and its token",
        description="Validation is done here, whatever the client checked: unknown items or "
        "codes, missing required visible items, answers to hidden items and wrong types are "
        "each listed in a 422 problem (`invalid_params`, name `answers.<item id>`). Nothing "
        "identifying is stored (no IP address, no user agent, only the day). Responses with "
        'mode "test" never enter the statistics. With `run` (the code of a run\'s invitation '
        "link) the response counts for that run; an unknown, closed or mistyped code is a 422 "
        "naming `run`, and nothing is stored. Submissions per client are limited "
        "(MENTORING40_RATE_LIMIT_SUBMIT); over the limit the answer is 429 with `Retry-After`.",
        status_code=201,
        opt={"rate_limit": "submit"},
        responses=problem_responses(400, NO_QUESTIONNAIRE, 413, 415, 422, 429),
    )
    async def submit(
        self, questionnaire_id: FromPath[str], data: JSONBody[ResponseIn], lang: Lang = None
    ) -> Response[ResultOne]:
        lang_ = language(lang)
        try:
            if data.run is None:
                doc = await service.submit_answers(
                    questionnaire_id,
                    version=data.version,
                    perspective=data.perspective,
                    mode=data.mode,
                    answers=data.answers,
                    lang=lang_,
                )
            else:
                doc = await runs.submit_for_run(
                    data.run,
                    questionnaire_id,
                    version=data.version,
                    perspective=data.perspective,
                    mode=data.mode,
                    answers=data.answers,
                    lang=lang_,
                    pseudonym=data.pseudonym,
                )
        except QuickcheckError as exc:
            raise problem(exc) from exc
        except runs.CodeRefused as exc:
            raise code_problem(exc) from exc
        except PoolError as exc:
            raise ProblemError(
                exc.status,
                f"{exc.field}: {exc.reason}. Nothing was stored.",
                invalid_params=[InvalidParam(exc.field, exc.reason)],
            ) from exc
        QUICKCHECK_SUBMISSIONS.labels(doc.questionnaire.id, data.mode).inc()
        return Response(
            ResultOne(data=doc),
            status_code=201,
            headers={**NO_STORE, "Location": doc.url},
        )

    @get(
        "/{questionnaire_id:str}/stats",
        summary="Anonymous aggregates (API key with scope stats:read)",
        description="Real responses of one version (default: the latest published), "
        "optionally of one perspective. Groups smaller than MENTORING40_STATS_MIN_GROUP "
        "(default 5) are withheld, including groups that could be derived by subtraction. "
        "Ranking items are ranked by Borda count.",
        opt={"scope": "stats:read"},
        security=API_KEY,
        responses=problem_responses(400, 401, 403, NO_QUESTIONNAIRE),
    )
    async def stats(
        self,
        settings: NamedDependency[Settings],
        questionnaire_id: FromPath[str],
        version: Annotated[int | None, optional_query("A version number.", NUMBER)] = None,
        perspective: Annotated[str | None, optional_query("A perspective id.", TEXT)] = None,
        lang: Lang = None,
    ) -> Response[StatsOne]:
        lang_ = language(lang)
        found = await find_version(questionnaire_id, version)
        d = found.definition
        check_perspective_param(d, perspective)
        rows = await store.responses(questionnaire_id, d.version)
        doc = compute_stats(d, rows, perspective, settings.stats_min_group, lang_)
        return Response(StatsOne(data=doc), headers=NO_STORE)

    @get(
        "/{questionnaire_id:str}/export",
        summary="Raw anonymous responses as CSV (API key with scope responses:export)",
        media_type="text/csv",
        opt={"scope": "responses:export"},
        security=API_KEY,
        responses=problem_responses(400, 401, 403, NO_QUESTIONNAIRE),
    )
    async def export(
        self,
        questionnaire_id: FromPath[str],
        version: Annotated[int | None, optional_query("A version number.", NUMBER)] = None,
    ) -> Response[str]:
        found = await find_version(questionnaire_id, version)
        d = found.definition
        rows = await store.responses(questionnaire_id, d.version)
        return Response(
            export_csv(d, rows),
            media_type="text/csv; charset=utf-8",
            headers={
                **NO_STORE,
                "Content-Disposition": f'attachment; filename="{d.id}-v{d.version}.csv"',
            },
        )


@get(
    "/api/v1/results/{token:str}",
    tags=["Quickcheck"],
    summary="A result again, by its token",
    responses=problem_responses(
        400, (404, "There is no result with this token (or its questionnaire version).")
    ),
)
async def get_result(
    request: Request[Any, Any, Any], token: FromPath[str], lang: Lang = None
) -> Response[ResultOne]:
    lang_ = language(lang)
    row = await store.get_response(token)
    if row is None:
        raise ProblemError(404, "There is no result with this token.")
    found = await store.get_version(row["questionnaire_id"], row["version"])
    if found is None:  # versions with responses are never deleted; a restore could lack one
        raise ProblemError(
            404, "The questionnaire version of this result is not in this installation."
        )
    # A response submitted on a region's site shows that region's recommendations too.
    overlay = request.app.state.overlays.get(row["site"])
    doc = await result_doc(found.definition, row, token, lang_, overlay)
    return Response(ResultOne(data=doc), headers=NO_STORE)


@post(
    "/api/v1/tandem-checks",
    tags=["Quickcheck"],
    summary="Tandem fit check of two profile results",
    description="Takes the result tokens of the mentor's and the mentee's tandem profile and "
    "returns a fit score 0–100 with a self-explaining breakdown per criterion; exclusions "
    "(e.g. a direct reporting line) rule the pair out whatever the score. Nothing is stored. "
    "Limited per client like submissions (429 with `Retry-After`).",
    status_code=200,
    opt={"rate_limit": "submit"},
    responses=problem_responses(400, 413, 415, 422, 429),
)
async def tandem_check(data: JSONBody[TandemIn], lang: Lang = None) -> Response[TandemOne]:
    lang_ = language(lang)
    try:
        doc = await service.check_tandem(data.mentor, data.mentee, lang_)
    except QuickcheckError as exc:
        raise problem(exc) from exc
    return Response(TandemOne(data=doc), headers=NO_STORE)


ROUTES: list[Any] = [QuestionnaireController, get_result, tandem_check]
