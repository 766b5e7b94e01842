"""Privacy of runs (issue 16), as properties over the computations themselves (Hypothesis):
answers that are not part of a whole block of ``k`` change nothing anyone can see — not
the company view, not the dashboard under any filter, not its CSV export — so neither a
small group nor the difference between two views (filters, or the same view before and
after one more answer) reveals an answer. The same rules through the API and both
databases: tests/test_runs_api.py (test_small_groups_stay_hidden_everywhere)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.quickcheck.engine import asked_items, options_of, score
from core.quickcheck.model import UNKNOWN_CODE, Questionnaire
from core.runs.dashboard import DashboardFilter, compute_dashboard, dashboard_csv
from core.runs.model import REGIONS, SECTORS, SIZE_CLASSES, RunInfo
from core.runs.service import GroupRow
from core.runs.view import company_view
from tests.test_quickcheck_property import SHIPPED_CONTENT, load

QC = load(SHIPPED_CONTENT / "questionnaires" / "quickcheck-reverse-mentoring.yaml")
FB = load(SHIPPED_CONTENT / "questionnaires" / "feedback-durchlauf.yaml")
STABLE = settings(
    derandomize=True,
    database=None,
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def likert_answers(d: Questionnaire, perspective: str) -> st.SearchStrategy[dict[str, Any]]:
    """Answers to every Likert item of the perspective (any option or "keine Angabe")."""
    items = [i for i in asked_items(d, perspective) if i.type == "likert"]
    return st.fixed_dictionaries(
        {
            i.id: st.sampled_from(
                [o.code for o in options_of(d, i)] + ([UNKNOWN_CODE] if i.allow_unknown else [])
            )
            for i in items
        }
    )


def row(
    d: Questionnaire, run: int, phase: str, perspective: str, answers: dict[str, Any]
) -> GroupRow:
    result = msgspec.to_builtins(score(d, perspective, answers))
    return GroupRow(run=run, phase=phase, perspective=perspective, answers=answers, result=result)


def feedback_answers() -> st.SearchStrategy[dict[str, Any]]:
    barriers = [o.code for i in FB.items if i.id == "barrieren-rangfolge" for o in i.options]
    return st.fixed_dictionaries(
        {
            i.id: st.sampled_from([o.code for o in options_of(FB, i)])
            for i in FB.items
            if i.type == "likert"
        }
    ).flatmap(
        lambda base: st.lists(st.sampled_from(barriers), min_size=0, max_size=3, unique=True).map(
            lambda ranking: base | ({"barrieren-rangfolge": ranking} if ranking else {})
        )
    )


@st.composite
def a_run(draw: st.DrawFn, run_id: int) -> list[GroupRow]:
    """One run's responses: 1–2 management, 0–8 employee answers per measurement, 0–7
    feedback answers, in some order of arrival."""
    rows = []
    for phase in ("start", "ende"):
        for answers in draw(st.lists(likert_answers(QC, "unternehmen"), min_size=1, max_size=2)):
            rows.append(row(QC, run_id, phase, "unternehmen", answers))
        for answers in draw(st.lists(likert_answers(QC, "mitarbeitende"), max_size=8)):
            rows.append(row(QC, run_id, phase, "mitarbeitende", answers))
    for answers in draw(st.lists(feedback_answers(), max_size=7)):
        rows.append(
            row(FB, run_id, "feedback", draw(st.sampled_from(["mentor", "mentee"])), answers)
        )
    return rows


def outside_blocks(rows: list[GroupRow], k: int) -> set[int]:
    """Indexes of the rows that are not in a whole block of k of their group."""
    groups: dict[tuple[int, str, str], list[int]] = {}
    for index, r in enumerate(rows):
        if r.perspective == "unternehmen":
            continue
        key = (r.run, r.phase, "feedback" if r.phase == "feedback" else r.perspective)
        groups.setdefault(key, []).append(index)
    return {i for members in groups.values() for i in members[(len(members) // k) * k :]}


@st.composite
def replaced(draw: st.DrawFn, rows: list[GroupRow], k: int) -> list[GroupRow]:
    """The same rows with every answer outside a whole block replaced by other answers."""
    out = list(rows)
    for i in outside_blocks(rows, k):
        r = rows[i]
        d = FB if r.phase == "feedback" else QC
        new = draw(
            feedback_answers() if r.phase == "feedback" else likert_answers(QC, r.perspective)
        )
        out[i] = row(d, r.run, r.phase, r.perspective, new)
    return out


def run_info(run_id: int, region: str, sector: str, size: str, day: int) -> RunInfo:
    return msgspec.convert(
        {
            "id": run_id, "owner_account": None, "company": f"Betrieb {run_id}",
            "site": "werkzeugkasten", "region": region, "sector": sector, "size_class": size,
            "starts_on": dt.date(2026, 1, 1) + dt.timedelta(days=day),
            "ends_on": dt.date(2027, 1, 1), "state": "laeuft",
            "created_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "closed_at": None,
        },
        RunInfo,
    )  # fmt: skip


@STABLE
@given(data=st.data(), k=st.integers(2, 5))
def test_answers_outside_whole_blocks_change_nothing_in_the_company_view(
    data: st.DataObject, k: int
) -> None:
    rows = data.draw(a_run(1))
    other = data.draw(replaced(rows, k))
    assert company_view(QC, FB, rows, k) == company_view(QC, FB, other, k)


@STABLE
@given(data=st.data(), k=st.integers(2, 5))
def test_one_more_answer_changes_the_view_only_when_a_block_completes(
    data: st.DataObject, k: int
) -> None:
    """Two views of the same run at two times differ by a whole block of k or not at all."""
    employees = data.draw(st.lists(likert_answers(QC, "mitarbeitende"), min_size=1, max_size=9))
    rows = [row(QC, 1, "start", "unternehmen", data.draw(likert_answers(QC, "unternehmen")))]
    rows += [row(QC, 1, "start", "mitarbeitende", a) for a in employees]
    before = company_view(QC, FB, rows[:-1], k)
    after = company_view(QC, FB, rows, k)
    n = len(employees)
    if n % k != 0:
        assert before.start.dimensions == after.start.dimensions
        assert before.start.items == after.start.items
    groups = {g.perspective: g for g in after.start.groups}
    assert groups["mitarbeitende"].shown == (n // k) * k
    if n < k:
        assert all("mitarbeitende" not in d.scores for d in after.start.dimensions)
        assert not [i for i in after.start.items if i.perspective == "mitarbeitende"]


FILTERS = st.builds(
    DashboardFilter,
    region=st.none() | st.sampled_from(["niedersachsen", "bayern"]),
    sector=st.none() | st.sampled_from(["handwerk", "handel"]),
    size_class=st.none() | st.sampled_from(["kleinst", "mittel"]),
    started_from=st.none() | st.dates(dt.date(2026, 1, 1), dt.date(2026, 3, 1)),
)


@STABLE
@given(data=st.data(), k=st.integers(2, 4), flt=FILTERS)
def test_the_dashboard_under_any_filter_is_blind_to_answers_outside_whole_blocks(
    data: st.DataObject, k: int, flt: DashboardFilter
) -> None:
    """Any two filtered views are each unchanged by those answers, so their difference
    cannot reveal them either: subtraction only ever yields whole groups of k or more."""
    runs, rows = [], []
    for run_id in range(1, data.draw(st.integers(1, 3)) + 1):
        runs.append(
            run_info(
                run_id,
                data.draw(st.sampled_from(["niedersachsen", "bayern"])),
                data.draw(st.sampled_from(["handwerk", "handel"])),
                data.draw(st.sampled_from(["kleinst", "mittel"])),
                data.draw(st.integers(0, 80)),
            )
        )
        rows += data.draw(a_run(run_id))
    other = data.draw(replaced(rows, k))
    chosen = [r for r in runs if flt.matches(r)]
    ids = {r.id for r in chosen}
    board = compute_dashboard(QC, FB, chosen, [r for r in rows if r.run in ids], k, flt)
    again = compute_dashboard(QC, FB, chosen, [r for r in other if r.run in ids], k, flt)
    assert board == again
    assert dashboard_csv(board) == dashboard_csv(again)


def test_the_fixed_lists_are_coarse() -> None:
    """Few, broad classes: a sector or size class must not single out one company."""
    assert len(SECTORS) <= 8
    assert len(SIZE_CLASSES) == 4
    assert len(REGIONS) == 16
