"""What the front ends do with the Quickcheck: find a version, submit answers, check a
tandem. The JSON API (core.api.questionnaires) and the pages (core.web.quickcheck) both
call these; each maps a ``QuickcheckError`` to what its reader understands: a problem
document (English, ``invalid_params``) or a German form message.

Nothing here knows about HTTP: the errors carry data (which item, which role, which
versions exist), not status codes or parameter names of one front end.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from core.quickcheck import engine, store
from core.quickcheck.engine import AnswerProblem, Scores
from core.quickcheck.model import AMPEL_LABEL, Questionnaire, text_in
from core.quickcheck.overlay import Overlay
from core.quickcheck.present import (
    Recommendation,
    ResultDoc,
    entry_refs,
    recommendations,
    recommended_slugs,
    result_doc,
)
from core.quickcheck.tandem import (
    CriterionResult,
    ExclusionResult,
    ProfileMismatch,
    fit,
    require_comparable,
)

Role = Literal["mentor", "mentee"]


class QuickcheckError(Exception):
    """A request the Quickcheck refuses; nothing was stored."""


class QuestionnaireNotFound(QuickcheckError):
    """No such questionnaire (``versions`` empty), or not the asked version of it (or, with
    ``version`` None, no published one); ``versions`` lists (number, status) there are."""

    def __init__(
        self, questionnaire_id: str, version: int | None, versions: list[tuple[int, str]]
    ) -> None:
        self.questionnaire_id = questionnaire_id
        self.version = version
        self.versions = versions
        super().__init__(f"{questionnaire_id!r} version {version}: not found")


class VersionClosed(QuickcheckError):
    """The version exists but takes no new responses (``status`` draft or retired);
    ``latest`` is the published version to answer instead, if there is one."""

    def __init__(
        self, questionnaire_id: str, version: int, status: str, latest: int | None
    ) -> None:
        self.questionnaire_id = questionnaire_id
        self.version = version
        self.status = status
        self.latest = latest
        super().__init__(f"{questionnaire_id!r} version {version} is {status}")


class PerspectiveInvalid(QuickcheckError):
    """The perspective is missing (``perspective`` None) where the questionnaire has
    several, or is not one of ``choices``."""

    def __init__(self, questionnaire_id: str, perspective: str | None, choices: list[str]) -> None:
        self.questionnaire_id = questionnaire_id
        self.perspective = perspective
        self.choices = choices
        super().__init__(f"{questionnaire_id!r}: perspective {perspective!r}")


class AnswersInvalid(QuickcheckError):
    """The answers have problems, each naming its item (``answers`` for all of them)."""

    def __init__(self, problems: list[AnswerProblem]) -> None:
        self.problems = problems
        listed = "; ".join(f"{p.item}: {p.reason}" for p in problems)
        super().__init__(f"The answers have {len(problems)} problem(s): {listed}")


class RoleProblem(msgspec.Struct, frozen=True):
    role: Role
    reason: str


class TandemInvalid(QuickcheckError):
    """The two results cannot be compared; ``message`` says why, ``problems`` which
    result (mentor's or mentee's) is at fault."""

    def __init__(
        self, message: str, problems: list[RoleProblem], german: str | None = None
    ) -> None:
        self.message = message
        self.problems = problems
        # For the pages: the whole explanation in German, when there is one (e.g. which
        # versions of the tandem profile met).
        self.german = german
        super().__init__(message)


async def find_version(questionnaire_id: str, version: int | None) -> store.StoredVersion:
    """The requested version (any non-draft) or the latest published one."""
    found = (
        await store.latest_published(questionnaire_id)
        if version is None
        else await store.get_version(questionnaire_id, version)
    )
    if found is None:
        # Only a miss pays for the list of versions the problem names.
        versions = (await store.version_overview()).get(questionnaire_id) or []
        raise QuestionnaireNotFound(questionnaire_id, version, list(versions))
    return found


def choose_perspective(d: Questionnaire, perspective: str | None) -> str:
    """The perspective answered from: the one named, or the only one there is."""
    ids = [p.id for p in d.perspectives]
    if perspective is None and len(ids) == 1:
        return ids[0]
    if perspective is None or perspective not in ids:
        raise PerspectiveInvalid(d.id, perspective, ids)
    return perspective


async def submit_answers(
    questionnaire_id: str,
    *,
    version: int,
    perspective: str | None,
    mode: str,
    answers: dict[str, Any],
    lang: str,
    site: str | None = None,
    overlay: Overlay | None = None,
) -> ResultDoc:
    """Validate, score and store one response and return its result; raise a
    ``QuickcheckError`` (``AnswersInvalid`` with every problem by item) when anything is
    wrong, and then store nothing. ``site``: the partner site it was submitted on (stored);
    ``overlay``: that site's recommendations of its own entries."""
    seen = store.seen_version(questionnaire_id, version)
    if seen is not None and seen.status == "published":
        doc = await _submit_in_one_trip(seen, perspective, mode, answers, lang, site, overlay)
        if doc is not None:
            return doc
    found = await find_version(questionnaire_id, version)
    d = found.definition
    if found.status != "published":
        latest = await store.latest_published(questionnaire_id)
        raise VersionClosed(
            questionnaire_id, version, found.status, latest.definition.version if latest else None
        )
    chosen = choose_perspective(d, perspective)
    new = _scored(found, chosen, mode, answers, site)
    await store.save_response(new)
    return await result_doc(d, new.row, new.token, lang, overlay)


def _scored(
    found: store.StoredVersion, chosen: str, mode: str, answers: dict[str, Any], site: str | None
) -> store.NewResponse:
    """The response of valid ``answers``, scored; raise ``AnswersInvalid`` otherwise."""
    d = found.definition
    clean, problems = engine.validate_answers(d, chosen, answers)
    if problems:
        raise AnswersInvalid(problems)
    return store.new_response(
        questionnaire_id=d.id,
        version=d.version,
        definition_hash=found.hash,
        engine_version=engine.ENGINE_VERSION,
        perspective=chosen,
        mode=mode,
        answers=clean,
        result=msgspec.to_builtins(engine.score(d, chosen, clean)),
        site=site,
    )


async def _submit_in_one_trip(
    seen: store.StoredVersion,
    perspective: str | None,
    mode: str,
    answers: dict[str, Any],
    lang: str,
    site: str | None,
    overlay: Overlay | None,
) -> ResultDoc | None:
    """``submit_answers`` in one database round trip for a version this worker has read
    before: the statement stores the response only if the version is still published,
    and reads the recommended entries beside. None if anything is amiss (the version
    closed meanwhile, bad input): then nothing was stored, and the full path of
    ``submit_answers`` finds out again what to tell."""
    d = seen.definition
    try:
        chosen = choose_perspective(d, perspective)
        new = _scored(seen, chosen, mode, answers, site)
    except QuickcheckError:
        return None
    scores = msgspec.convert(new.row["result"], Scores)
    found = await store.submit_response(new, recommended_slugs(d, scores, chosen, overlay))
    if found is None:
        return None
    return await result_doc(d, new.row, new.token, lang, overlay, refs=recommendations(found))


# -- tandem check ---------------------------------------------------------------------------


class TandemDoc(msgspec.Struct, frozen=True, kw_only=True):
    questionnaire: str
    version: int
    score: float | None
    excluded: bool
    ampel: str | None
    ampel_label: str | None
    title: str | None
    text: str
    recommendations: list[Recommendation]
    criteria: list[CriterionResult]
    exclusions: list[ExclusionResult]


async def check_tandem(mentor_token: str, mentee_token: str, lang: str) -> TandemDoc:
    """How well the mentor's and the mentee's tandem profile results fit; nothing is
    stored. Raise ``TandemInvalid`` if the two cannot be compared."""
    rows: dict[Role, dict[str, Any]] = {}
    missing: list[RoleProblem] = []
    tokens: dict[Role, str] = {"mentor": mentor_token, "mentee": mentee_token}
    for role, token in tokens.items():
        row = await store.get_response(token)
        if row is None:
            missing.append(RoleProblem(role, "no result has this token"))
        else:
            rows[role] = row
    if missing:
        raise TandemInvalid("Both tokens must be results of a tandem profile.", missing)
    mentor, mentee = rows["mentor"], rows["mentee"]
    try:
        require_comparable(
            (mentor["questionnaire_id"], mentor["version"]),
            (mentee["questionnaire_id"], mentee["version"]),
        )
    except ProfileMismatch as exc:
        raise TandemInvalid(
            "The two results come from different questionnaires or versions "
            f"({mentor['questionnaire_id']} v{mentor['version']}, "
            f"{mentee['questionnaire_id']} v{mentee['version']}); both must answer the same "
            "tandem profile version.",
            [RoleProblem("mentee", "different questionnaire or version")],
            german=exc.message,
        ) from exc
    found = await store.get_version(mentor["questionnaire_id"], mentor["version"])
    if found is None or found.definition.matching is None:
        raise TandemInvalid(
            f"{mentor['questionnaire_id']!r} is not a tandem profile; the tandem check compares "
            "two results of a questionnaire with a matching section.",
            [RoleProblem("mentor", "not a tandem profile result")],
        )
    d = found.definition
    matching = d.matching
    assert matching is not None
    roles: list[tuple[Role, str]] = [("mentor", matching.mentor), ("mentee", matching.mentee)]
    wrong = [
        RoleProblem(role, f"was answered as {rows[role]['perspective']!r}, not {wanted!r}")
        for role, wanted in roles
        if rows[role]["perspective"] != wanted
    ]
    if wrong:
        raise TandemInvalid("Each token must be a profile of its role (mentor, mentee).", wrong)
    result = fit(d, mentor["answers"], mentee["answers"], lang)
    bands = matching.bands
    if result.excluded:
        band = bands[0]
        title = result.exclusions[0].title
        text = " ".join(x.text for x in result.exclusions)
    elif result.band is not None:
        band = bands[result.band]
        title, text = text_in(band.title, lang), text_in(band.text, lang)
    else:
        band, title = None, None
        text = text_in(
            {
                "de": "Zu wenige beantwortete Kriterien für eine Einschätzung.",
                "en": "Too few answered criteria for an assessment.",
            },
            lang,
        )
    refs = await entry_refs(set(band.recommendations) if band else set())
    ampel = "rot" if result.excluded else (band.ampel if band else None)
    return TandemDoc(
        questionnaire=d.id,
        version=d.version,
        score=result.score,
        excluded=result.excluded,
        ampel=ampel,
        ampel_label=AMPEL_LABEL[ampel] if ampel else None,
        title=title,
        text=text,
        recommendations=[refs[s] for s in (band.recommendations if band else []) if s in refs],
        criteria=result.criteria,
        exclusions=result.exclusions,
    )
