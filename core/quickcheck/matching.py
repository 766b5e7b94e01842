"""Pool matching: from a mentor × mentee fit matrix to the tandems of a whole company.

The fit of each pair comes from the tandem fit check (``core.quickcheck.tandem``): a score
0..100, or ``None`` when the pair is excluded (a direct reporting line, an explicit "not
with"). This module only decides who goes with whom:

- **best total** (``objective="total"``): the assignment with the largest sum of fits,
  subject to exclusions, the pairs the Lotse forbade, the pairs she pinned, each mentor's
  capacity (how many mentees she or he takes on) and a threshold below which a pair is
  not proposed at all (people stay unmatched rather than be put in a poor tandem). Among
  assignments with the same total, the one with more tandems wins.
- **most balanced** (``objective="balanced"``): as many tandems as the best total has,
  with the weakest pair as strong as possible; among those, the largest total.

Both are solved exactly with SciPy's ``linear_sum_assignment`` (the Jonker–Volgenant
algorithm) on a matrix with one column per mentor *slot* — a mentor who takes two mentees
has two columns — and the bottleneck search for "balanced" with SciPy's
``maximum_bipartite_matching``. Nothing here is a heuristic: the property tests compare
both objectives with brute force on small pools.

Fits are compared on a 0.1 grid (the fit check rounds to one decimal), which lets the two
objectives be written as exact integer weights (total first, then the number of pairs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import msgspec

# NumPy and SciPy are imported where a pool is matched, not with the module: together
# ~45 MiB of RSS that every app worker would carry (the indexing worker too) for a
# request that only a Lotse forming tandems makes (docs/PERFORMANCE.md).
if TYPE_CHECKING:
    import numpy as np

Objective = Literal["total", "balanced"]
Matrix = Sequence[Sequence[float | None]]  # [mentee][mentor] fit 0..100, None = excluded

# The largest pool a request may ask for: 200 × 200 is matched well under a second.
MAX_PEOPLE = 500
MAX_CAPACITY = 10


class MatchingError(ValueError):
    """The request cannot be matched as asked; ``message`` is German and says why."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Pair(msgspec.Struct, frozen=True, kw_only=True):
    mentee: int
    mentor: int
    fit: float
    pinned: bool = False


class Assignment(msgspec.Struct, frozen=True, kw_only=True):
    objective: str
    pairs: list[Pair]
    total: float  # sum of the pairs' fits
    minimum: float | None  # the weakest pair's fit; None without pairs
    unmatched_mentees: list[int]
    unmatched_mentors: list[int]  # mentors with no mentee at all


def _tenths(value: float) -> int:
    return round(value * 10)


def _check(
    fits: Matrix,
    capacities: Sequence[int],
    threshold: float,
    pins: set[tuple[int, int]],
    forbidden: set[tuple[int, int]],
) -> tuple[int, int]:
    mentees = len(fits)
    mentors = len(capacities)
    if mentees == 0 and mentors == 0:
        raise MatchingError("Der Pool ist leer: Es gibt weder Mentorinnen/Mentoren noch Mentees.")
    if mentors == 0:
        raise MatchingError(
            "Im Pool gibt es nur Mentees und keine Mentorin oder keinen Mentor; "
            "es lässt sich kein Tandem bilden.",
            field="mentors",
        )
    if mentees == 0:
        raise MatchingError(
            "Im Pool gibt es nur Mentorinnen/Mentoren und keine Mentees; "
            "es lässt sich kein Tandem bilden.",
            field="mentees",
        )
    if mentees > MAX_PEOPLE or mentors > MAX_PEOPLE:
        raise MatchingError(f"Ein Pool darf höchstens {MAX_PEOPLE} Personen je Rolle haben.")
    for row in fits:
        if len(row) != mentors:
            raise MatchingError(
                "Die Passungsmatrix hat nicht für jede Mentorin/jeden Mentor eine Spalte."
            )
        for value in row:
            if value is not None and not 0 <= value <= 100:
                raise MatchingError("Eine Passung liegt nicht zwischen 0 und 100.")
    for c in capacities:
        if not 0 <= c <= MAX_CAPACITY:
            raise MatchingError(
                f"Eine Mentorin oder ein Mentor kann 0 bis {MAX_CAPACITY} Mentees begleiten.",
                field="capacity",
            )
    if not 0 <= threshold <= 100:
        raise MatchingError("Die Mindestpassung liegt zwischen 0 und 100.", field="threshold")
    seen_mentees: set[int] = set()
    per_mentor = [0] * mentors
    for i, j in sorted(pins):
        if not (0 <= i < mentees and 0 <= j < mentors):
            raise MatchingError("Ein festgelegtes Tandem nennt eine Person, die nicht im Pool ist.")
        if (i, j) in forbidden:
            raise MatchingError(
                "Ein Tandem ist zugleich festgelegt und ausgeschlossen; "
                "bitte eines davon aufheben.",
                field="pins",
            )
        if fits[i][j] is None:
            raise MatchingError(
                "Ein festgelegtes Tandem ist gesperrt (z. B. wegen einer direkten "
                "Vorgesetzten-Beziehung) und kann nicht gebildet werden.",
                field="pins",
            )
        if i in seen_mentees:
            raise MatchingError(
                "Ein Mentee ist in zwei festgelegten Tandems; "
                "jede Person hat höchstens ein Tandem.",
                field="pins",
            )
        seen_mentees.add(i)
        per_mentor[j] += 1
        if per_mentor[j] > capacities[j]:
            raise MatchingError(
                "Für eine Mentorin oder einen Mentor sind mehr Tandems festgelegt, als sie "
                "oder er Mentees begleiten kann.",
                field="capacity",
            )
    for i, j in forbidden:
        if not (0 <= i < mentees and 0 <= j < mentors):
            raise MatchingError(
                "Ein ausgeschlossenes Tandem nennt eine Person, die nicht im Pool ist."
            )
    return mentees, mentors


def assign(
    fits: Matrix,
    capacities: Sequence[int],
    *,
    threshold: float = 0.0,
    pins: set[tuple[int, int]] | None = None,
    forbidden: set[tuple[int, int]] | None = None,
    objective: Objective = "total",
) -> Assignment:
    """The optimal assignment of mentees (rows of ``fits``) to mentors (columns).

    ``capacities[j]`` is how many mentees mentor ``j`` takes; pinned pairs are kept
    whatever their fit; forbidden and excluded (``None``) pairs never appear; other pairs
    below ``threshold`` are not proposed. Raise ``MatchingError`` when the request itself
    is contradictory (empty roles, a pin on a blocked pair, more pins than capacity).
    """
    pins = set(pins or ())
    forbidden = set(forbidden or ())
    mentees, mentors = _check(fits, capacities, threshold, pins, forbidden)

    pinned_mentees = {i for i, _ in pins}
    slots_left = list(capacities)
    for _, j in pins:
        slots_left[j] -= 1
    limit = _tenths(threshold)
    import numpy as np

    allowed = np.full((mentees, mentors), -1, dtype=np.int64)  # fit in tenths, -1 = not allowed
    for i, row in enumerate(fits):
        if i in pinned_mentees:
            continue
        for j, value in enumerate(row):
            if value is None or (i, j) in forbidden or slots_left[j] == 0:
                continue
            tenths = _tenths(value)
            if tenths >= limit:
                allowed[i, j] = tenths

    if objective == "total":
        chosen = _best_total(allowed, slots_left)
    elif objective == "balanced":
        pinned_floor = min((_tenths(fits[i][j] or 0) for i, j in pins), default=None)
        chosen = _most_balanced(allowed, slots_left, pinned_floor)
    else:  # pragma: no cover - the callers pass a Literal
        raise MatchingError(f"Unbekanntes Ziel {objective!r}.")

    pairs = [Pair(mentee=i, mentor=j, fit=float(fits[i][j] or 0), pinned=True) for i, j in pins]
    pairs += [Pair(mentee=i, mentor=j, fit=float(fits[i][j] or 0)) for i, j in chosen]
    pairs.sort(key=lambda p: (p.mentor, p.mentee))
    matched_mentees = {p.mentee for p in pairs}
    matched_mentors = {p.mentor for p in pairs}
    fits_of_pairs = [p.fit for p in pairs]
    return Assignment(
        objective=objective,
        pairs=pairs,
        total=round(sum(fits_of_pairs), 1),
        minimum=min(fits_of_pairs) if fits_of_pairs else None,
        unmatched_mentees=[i for i in range(mentees) if i not in matched_mentees],
        unmatched_mentors=[j for j in range(mentors) if j not in matched_mentors],
    )


def _slot_columns(slots: Sequence[int]) -> np.ndarray:
    """For each slot column, the mentor it belongs to."""
    import numpy as np

    return np.repeat(np.arange(len(slots)), np.maximum(np.asarray(slots, dtype=np.int64), 0))


def _solve(weights: np.ndarray, owner: np.ndarray) -> list[tuple[int, int]]:
    """Maximise the sum of positive weights over a matching of rows to slot columns; a
    zero weight means "not allowed" and such a pair is dropped (same as unmatched)."""
    if weights.size == 0 or not (weights > 0).any():
        return []
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(weights, maximize=True)
    return [(int(r), int(owner[c])) for r, c in zip(rows, cols, strict=True) if weights[r, c] > 0]


def _best_total(allowed: np.ndarray, slots: Sequence[int]) -> list[tuple[int, int]]:
    owner = _slot_columns(slots)
    if owner.size == 0:
        return []
    expanded = allowed[:, owner]
    most_pairs = min(expanded.shape) + 1
    import numpy as np

    # Total fit first (in tenths), then the number of pairs: both exact in int64.
    weights = np.where(expanded >= 0, expanded * most_pairs + 1, 0)
    return _solve(weights, owner)


def _count_pairs(allowed: np.ndarray, owner: np.ndarray, floor: int) -> int:
    usable = allowed[:, owner] >= floor
    if not usable.any():
        return 0
    import numpy as np
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import maximum_bipartite_matching

    matched = maximum_bipartite_matching(csr_array(usable.astype(np.int8)), perm_type="column")
    return int((matched >= 0).sum())


def _most_balanced(
    allowed: np.ndarray, slots: Sequence[int], pinned_floor: int | None
) -> list[tuple[int, int]]:
    owner = _slot_columns(slots)
    if owner.size == 0:
        return []
    wanted = len(_best_total(allowed, slots))
    if wanted == 0:
        return []
    # The largest floor that still allows ``wanted`` pairs (a bottleneck search over the
    # distinct fits).
    import numpy as np

    levels = np.unique(allowed[allowed >= 0])
    lo, hi = 0, len(levels) - 1  # levels[lo] always feasible: every allowed pair qualifies
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _count_pairs(allowed, owner, int(levels[mid])) >= wanted:
            lo = mid
        else:
            hi = mid - 1
    floor = int(levels[lo])
    if pinned_floor is not None:
        # A pinned pair weaker than the floor is the weakest pair anyway: demanding more
        # of the others would only cost total fit.
        floor = min(floor, pinned_floor)
    return _exactly(allowed, owner, wanted, floor)


def _exactly(
    allowed: np.ndarray, owner: np.ndarray, size: int, floor: int
) -> list[tuple[int, int]]:
    """The matching of exactly ``size`` pairs, all at least ``floor``, with the largest
    total. One dummy column per row that stays unmatched; every real pair costs a
    constant more than any dummy, so the solver uses as few real pairs as it must (exactly
    ``size``), and among those the ones with the highest fit."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    expanded = allowed[:, owner]
    rows = expanded.shape[0]
    real = np.where(expanded >= floor, 1001 + 1000 - expanded, np.inf)  # fits are ≤ 1000
    dummies = np.zeros((rows, rows - size))
    cost = np.hstack([real, dummies])
    chosen_rows, chosen_cols = linear_sum_assignment(cost)
    return [
        (int(r), int(owner[c]))
        for r, c in zip(chosen_rows, chosen_cols, strict=True)
        if c < expanded.shape[1]
    ]
