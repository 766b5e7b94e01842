"""The stored responses as a whole: the CSV export of one questionnaire version, and the
re-check that every stored result still follows from its answers and definition."""

from __future__ import annotations

import msgspec

from core.quickcheck import engine, store
from core.quickcheck.export import export_csv


class ExportedResponses(msgspec.Struct, frozen=True, kw_only=True):
    csv: str
    count: int


async def export_responses(
    questionnaire_id: str, version: int | None, *, include_test: bool
) -> ExportedResponses | None:
    """The responses of one version (default: the latest published) as CSV; None when the
    database holds no such version."""
    found = (
        await store.latest_published(questionnaire_id)
        if version is None
        else await store.get_version(questionnaire_id, version)
    )
    if found is None:
        return None
    d = found.definition
    rows = await store.responses(questionnaire_id, d.version, include_test=include_test)
    return ExportedResponses(csv=export_csv(d, rows), count=len(rows))


class ResultDifference(msgspec.Struct, frozen=True, kw_only=True):
    """A stored response whose result cannot be reproduced, or whose definition is gone."""

    questionnaire_id: str
    version: int
    response_id: int | None = None  # None: the stored definition of the version is missing
    engine_version: str | None = None  # the engine version that computed the stored result


class RecomputedResults(msgspec.Struct, frozen=True, kw_only=True):
    checked: int
    differ: list[ResultDifference]


async def recompute_results() -> RecomputedResults:
    """Score every stored response (test runs too) again with its stored definition.

    A result differs when the engine now computes something else or the definition's hash
    is not the one the response was scored with: results must stay comparable over time.
    """
    checked, differ = 0, []
    for qid in await store.version_overview():
        for row in await store.responses(qid, include_test=True):
            found = await store.get_version(qid, row["version"])
            if found is None:
                differ.append(ResultDifference(questionnaire_id=qid, version=row["version"]))
                continue
            checked += 1
            again = msgspec.to_builtins(
                engine.score(found.definition, row["perspective"], row["answers"])
            )
            if again != row["result"] or found.hash != row["definition_hash"]:
                differ.append(
                    ResultDifference(
                        questionnaire_id=qid,
                        version=row["version"],
                        response_id=row["id"],
                        engine_version=row["engine_version"],
                    )
                )
    return RecomputedResults(checked=checked, differ=differ)
