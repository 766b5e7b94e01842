"""The programme dashboard: aggregates over many runs, for the evaluation team and,
limited to their own runs, for partner sites.

Every figure is built from whole groups (core.runs.view.evaluated): a run's employee
answers enter only as its oldest whole blocks of ``k``, its feedback likewise, and a
ranking needs at least ``k`` people who ranked. All filters (region, site, period of the
run's start, sector, size class, state) select whole runs, never single answers, so the
difference between any two filtered views is again made of whole groups of at least
``k``: subtraction reveals no single answer. docs/RUNS.md has the reasoning.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import Counter
from typing import Any

import msgspec

from core.quickcheck.engine import band_index, options_of
from core.quickcheck.model import AMPEL_LABEL, Questionnaire, text_in
from core.quickcheck.stats import RankingStats, _ranking
from core.runs import service
from core.runs.model import (
    BARRIER_ITEM,
    EMPLOYEES,
    MANAGEMENT,
    PERSPECTIVE_LABEL,
    REGIONS,
    SECTORS,
    SIZE_CLASSES,
    STATES,
    RunInfo,
)
from core.runs.service import GroupRow
from core.runs.view import QUICKCHECK_PERSPECTIVES, evaluated, group_means


class DashboardFilter(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    region: str | None = None
    site: str | None = None
    sector: str | None = None
    size_class: str | None = None
    state: str | None = None
    started_from: dt.date | None = None  # runs that start on or after this day
    started_to: dt.date | None = None  # ... and on or before this one

    def problems(self, sites: list[str]) -> list[tuple[str, str]]:
        out = []
        for name, allowed in (
            ("region", list(REGIONS)),
            ("site", sites),
            ("sector", list(SECTORS)),
            ("size_class", list(SIZE_CLASSES)),
            ("state", list(STATES)),
        ):
            value = getattr(self, name)
            if value is not None and value not in allowed:
                out.append((name, f"one of: {', '.join(allowed)}"))
        if self.started_from and self.started_to and self.started_to < self.started_from:
            out.append(("started_to", "must not be before started_from"))
        return out

    def matches(self, run: RunInfo) -> bool:
        return (
            (self.region is None or run.region == self.region)
            and (self.site is None or run.site == self.site)
            and (self.sector is None or run.sector == self.sector)
            and (self.size_class is None or run.size_class == self.size_class)
            and (self.state is None or run.state == self.state)
            and (self.started_from is None or run.starts_on >= self.started_from)
            and (self.started_to is None or run.starts_on <= self.started_to)
        )


class Count(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    label: str
    runs: int


class AmpelRow(msgspec.Struct, frozen=True, kw_only=True):
    """How many runs' groups fall into each colour, for one dimension and perspective."""

    dimension: str | None
    title: str
    perspective: str
    rot: int
    gelb: int
    gruen: int
    runs: int


class GapRow(msgspec.Struct, frozen=True, kw_only=True):
    dimension: str | None
    title: str
    runs: int  # runs with both groups shown
    mean_gap: float | None  # management minus employees, mean over those runs


class ChangeRow(msgspec.Struct, frozen=True, kw_only=True):
    dimension: str | None
    title: str
    perspective: str
    runs: int  # runs with the group shown at start and end
    mean_start: float | None
    mean_end: float | None
    mean_change: float | None


class Dashboard(msgspec.Struct, frozen=True, kw_only=True):
    filter: DashboardFilter
    min_group: int
    runs: int
    runs_with_employee_figures: int
    by_region: list[Count]
    by_site: list[Count]
    by_state: list[Count]
    by_period: list[Count]
    by_sector: list[Count]
    by_size_class: list[Count]
    ampel: list[AmpelRow]  # start measurement
    gaps: list[GapRow]
    change: list[ChangeRow]
    barriers: RankingStats | None
    barriers_withheld: bool


def period_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def period_label(key: str) -> str:
    year, quarter = key.split("-Q")
    return f"{quarter}. Quartal {year}"


def _counts(values: list[str], labels: dict[str, str]) -> list[Count]:
    tally = Counter(values)
    keys = [k for k in labels if k in tally] + sorted(k for k in tally if k not in labels)
    return [Count(key=k, label=labels.get(k, k), runs=tally[k]) for k in keys]


Means = dict[str | None, float | None]
GroupKey = tuple[int, str, str]  # run, phase, perspective ("feedback" for all feedback)


class Summaries(msgspec.Struct, kw_only=True):
    """What the dashboard needs of each run's groups, already reduced to whole blocks:
    the group means of every shown Quickcheck group and the rankings of every shown
    feedback block."""

    means: dict[GroupKey, Means] = {}
    rankings: dict[int, list[list[str]]] = {}


def summarise(
    d: Questionnaire | None, rows: list[GroupRow], k: int, summaries: Summaries | None = None
) -> Summaries:
    """Reduce ``rows`` (oldest first, whole groups) to what may enter the dashboard."""
    out = summaries or Summaries(means={}, rankings={})
    by_group: dict[GroupKey, list[GroupRow]] = {}
    for r in rows:
        key = (r.run, r.phase, "feedback" if r.phase == "feedback" else r.perspective)
        by_group.setdefault(key, []).append(r)
    for (run_id, phase, perspective), group in by_group.items():
        if phase == "feedback":
            shown = group[: (len(group) // k) * k]
            out.rankings[run_id] = [
                list(r.answers[BARRIER_ITEM]) for r in shown if r.answers.get(BARRIER_ITEM)
            ]
            continue
        shown = evaluated(group, perspective, k)
        if shown and d is not None:
            out.means[(run_id, phase, perspective)] = group_means(d, shown)
    return out


def compute_dashboard(
    d: Questionnaire,
    fd: Questionnaire | None,
    runs: list[RunInfo],
    rows: list[GroupRow],
    k: int,
    flt: DashboardFilter,
    site_labels: dict[str, str] | None = None,
    lang: str = "de",
) -> Dashboard:
    """The dashboard over ``runs`` (already filtered) and their ``rows`` (oldest first)."""
    return aggregate(d, fd, runs, summarise(d, rows, k), k, flt, site_labels, lang)


def aggregate(
    d: Questionnaire | None,
    fd: Questionnaire | None,
    runs: list[RunInfo],
    summaries: Summaries,
    k: int,
    flt: DashboardFilter,
    site_labels: dict[str, str] | None = None,
    lang: str = "de",
) -> Dashboard:
    """The dashboard over ``runs`` from their groups' ``summaries``."""
    means = summaries.means
    parts: list[tuple[str | None, str, Any]] = []
    if d is not None:
        parts = [(x.id, text_in(x.title, lang), x.bands) for x in d.dimensions]
        parts.append((None, "Gesamtergebnis", d.bands))
    run_ids = [r.id for r in runs]
    # One pass over the runs collects, per part, what the rows below are made of (the
    # dashboard of 1,000 runs spent most of its time looking the same means up again for
    # every part and perspective).
    colours = {(i, p): Counter[str]() for i in range(len(parts)) for p in QUICKCHECK_PERSPECTIVES}
    diffs: dict[int, list[float]] = {i: [] for i in range(len(parts))}
    pairs: dict[tuple[int, str], list[tuple[float, float]]] = {key: [] for key in colours}
    for run_id in run_ids:
        empty: Means = {}
        start = {p: means.get((run_id, "start", p)) or empty for p in QUICKCHECK_PERSPECTIVES}
        end = {p: means.get((run_id, "ende", p)) or empty for p in QUICKCHECK_PERSPECTIVES}
        if not any(start.values()) and not any(end.values()):
            continue
        for i, (dim_id, _, bands) in enumerate(parts):
            for p in QUICKCHECK_PERSPECTIVES:
                s = start[p].get(dim_id)
                index = band_index(bands, s)
                if index is not None:
                    colours[(i, p)][bands[index].ampel] += 1
                e = end[p].get(dim_id)
                if s is not None and e is not None:
                    pairs[(i, p)].append((s, e))
            a = start[MANAGEMENT].get(dim_id)
            b = start[EMPLOYEES].get(dim_id)
            if a is not None and b is not None:
                diffs[i].append(a - b)
    ampel, gaps, change = [], [], []
    for i, (dim_id, title, _) in enumerate(parts):
        for p in QUICKCHECK_PERSPECTIVES:
            counted = colours[(i, p)]
            ampel.append(
                AmpelRow(
                    dimension=dim_id,
                    title=title,
                    perspective=p,
                    rot=counted["rot"],
                    gelb=counted["gelb"],
                    gruen=counted["gruen"],
                    runs=sum(counted.values()),
                )
            )
        gaps.append(
            GapRow(
                dimension=dim_id,
                title=title,
                runs=len(diffs[i]),
                mean_gap=_mean(diffs[i]),
            )
        )
        for p in QUICKCHECK_PERSPECTIVES:
            both = pairs[(i, p)]
            change.append(
                ChangeRow(
                    dimension=dim_id,
                    title=title,
                    perspective=p,
                    runs=len(both),
                    mean_start=_mean([a for a, _ in both]),
                    mean_end=_mean([b for _, b in both]),
                    mean_change=_mean([b - a for a, b in both]),
                )
            )

    barriers, barriers_withheld = None, False
    item = next((i for i in fd.items if i.id == BARRIER_ITEM), None) if fd else None
    if fd is not None and item is not None:
        given = [ranking for run_id in run_ids for ranking in summaries.rankings.get(run_id, [])]
        if len(given) >= k:
            options = [(o.code, text_in(o.label, lang)) for o in options_of(fd, item)]
            barriers = _ranking(item.id, text_in(item.text, lang), options, given, k)
        else:
            barriers_withheld = bool(given)

    shown_employees = {run for (run, phase, p) in means if p == EMPLOYEES and phase == "start"}
    return Dashboard(
        filter=flt,
        min_group=k,
        runs=len(runs),
        runs_with_employee_figures=len(shown_employees),
        by_region=_counts([r.region for r in runs], REGIONS),
        by_site=_counts([r.site for r in runs], site_labels or {}),
        by_state=_counts([r.state for r in runs], STATES),
        by_period=[
            Count(key=c.key, label=period_label(c.key), runs=c.runs)
            for c in sorted(_counts([period_of(r.starts_on) for r in runs], {}), key=_key)
        ],
        by_sector=_counts([r.sector for r in runs], SECTORS),
        by_size_class=_counts([r.size_class for r in runs], SIZE_CLASSES),
        ampel=ampel,
        gaps=gaps,
        change=change,
        barriers=barriers,
        barriers_withheld=barriers_withheld,
    )


async def load_dashboard(
    d: Questionnaire | None,
    fd: Questionnaire | None,
    flt: DashboardFilter,
    k: int,
    *,
    only_site: str | None = None,
    site_labels: dict[str, str] | None = None,
    definition_hash: str = "",
) -> Dashboard:
    """Read the runs that match ``flt`` (of ``only_site`` if given; filtered in the
    database) and their groups' stored summaries (core.db.tables.RunGroupSummary), and
    aggregate them. Summaries that are stale (a submission since, another definition or
    another ``k``) are recomputed from their runs' responses first and written back."""
    equal = {
        name: value
        for name in ("region", "site", "sector", "size_class", "state")
        if (value := getattr(flt, name)) is not None
    }
    runs = await service.list_runs(
        site=only_site, equal=equal, started_from=flt.started_from, started_to=flt.started_to
    )
    stored = await service.stored_summaries([r.id for r in runs])
    current = definition_hash if d is not None else ""
    stale = sorted(
        {s.run for s in stored if not s.definition_hash or s.definition_hash != current}
        | {s.run for s in stored if s.min_group != k}
    )
    if stale and d is not None:
        fresh = summarise(d, await service.run_responses(stale, answers=False), k)
        rewritten = []
        for i, s in enumerate(stored):
            if s.run not in stale:
                continue
            means = fresh.means.get((s.run, s.phase, s.perspective))
            stored[i] = msgspec.structs.replace(
                s,
                definition_hash=current,
                min_group=k,
                means=list(means.items()) if means is not None else None,
                rankings=fresh.rankings.get(s.run, []) if s.phase == "feedback" else None,
            )
            rewritten.append(stored[i])
        await service.store_summaries(rewritten)
    summaries = Summaries(means={}, rankings={})
    for s in stored:
        if s.means is not None and s.definition_hash == current and s.min_group == k:
            summaries.means[(s.run, s.phase, s.perspective)] = dict(s.means)
        if s.rankings is not None and s.min_group == k:
            summaries.rankings[s.run] = s.rankings
    return aggregate(d, fd, runs, summaries, k, flt, site_labels)


def dashboard_csv(board: Dashboard) -> str:
    """Every figure of the dashboard as one CSV table: section, key, perspective, value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["bereich", "schluessel", "bezeichnung", "sicht", "kennzahl", "wert"])
    writer.writerow(["gesamt", "", "Durchläufe", "", "anzahl", board.runs])
    for section, counts in (
        ("region", board.by_region),
        ("standort", board.by_site),
        ("status", board.by_state),
        ("zeitraum", board.by_period),
        ("branche", board.by_sector),
        ("groesse", board.by_size_class),
    ):
        for c in counts:
            writer.writerow([section, c.key, c.label, "", "durchlaeufe", c.runs])
    for a in board.ampel:
        for colour in ("rot", "gelb", "gruen"):
            writer.writerow(
                ["ampel", a.dimension or "gesamt", a.title, a.perspective, colour,
                 getattr(a, colour)]
            )  # fmt: skip
    for g in board.gaps:
        writer.writerow(["abstand", g.dimension or "gesamt", g.title, "", "durchlaeufe", g.runs])
        gap = _num(g.mean_gap)
        writer.writerow(["abstand", g.dimension or "gesamt", g.title, "", "mittel", gap])
    for ch in board.change:
        for name in ("runs", "mean_start", "mean_end", "mean_change"):
            writer.writerow(
                ["veraenderung", ch.dimension or "gesamt", ch.title, ch.perspective, name,
                 _num(getattr(ch, name))]
            )  # fmt: skip
    if board.barriers is not None:
        for o in board.barriers.options:
            writer.writerow(["hindernisse", o.code, o.label, "", "borda_punkte", o.points])
    return out.getvalue()


def _mean(values: list[float]) -> float | None:
    """The mean rounded to one place, None for no values (as shown in every view)."""
    return round(statistics.fmean(values), 1) if values else None


def _key(count: Count) -> str:
    return count.key


def _num(value: float | int | None) -> str:
    return "" if value is None else str(value)


def perspective_label(p: str) -> str:
    return PERSPECTIVE_LABEL.get(p, p)


def ampel_label(colour: str) -> str:
    return AMPEL_LABEL.get(colour, colour)
