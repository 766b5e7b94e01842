"""Pool matching of 200 mentors × 200 mentees: the fit matrix and the optimal assignment.

Builds 200 mentor and 200 mentee profiles with seeded random but valid answers to the
shipped tandem profile (content/questionnaires/tandem-profil.yaml), computes every fit
with the tandem fit check (what the fit matrix page does), then times the best-total and
the most balanced assignment with capacity 1 and with capacity 2. Prints wall times of
the median of five runs; the issue's goal is that matching a 200 × 200 pool takes under
one second.

    .venv/bin/python benchmarks/matching_bench.py [--people 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _answers(definition: Any, perspective: str, rng: random.Random) -> dict[str, Any]:
    from core.quickcheck.engine import asked_items, codes_of

    answers: dict[str, Any] = {}
    for item in asked_items(definition, perspective):
        codes = codes_of(definition, item)
        if item.type == "multiple_choice":
            answers[item.id] = rng.sample(codes, rng.randint(1, min(4, len(codes))))
        elif item.type in ("single_choice", "likert", "yes_no"):
            answers[item.id] = rng.choice(codes)
    return answers


def _median_ms(run: Any, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200, help="mentors and mentees each")
    people = parser.parse_args().people

    from core.quickcheck.loader import load_questionnaires
    from core.quickcheck.matching import assign
    from core.quickcheck.tandem import Comparer

    slugs = {path.stem for path in (ROOT / "content" / "entries").glob("*.md")}
    loaded, problems = load_questionnaires(
        [("core", ROOT / "content" / "questionnaires")], entry_slugs=slugs
    )
    if problems:
        sys.exit(f"the shipped questionnaires do not load: {problems}")
    profile = next(q.definition for q in loaded if q.definition.id == "tandem-profil")
    rng = random.Random(40)
    mentors = [_answers(profile, "mentor", rng) for _ in range(people)]
    mentees = [_answers(profile, "mentee", rng) for _ in range(people)]

    matrix: list[list[float | None]] = []

    def build() -> None:
        matrix.clear()
        comparer = Comparer(profile)
        for mentee in mentees:
            matrix.append([comparer.score(mentor, mentee) for mentor in mentors])

    build_ms = _median_ms(build, repeat=1)
    blocked = sum(value is None for row in matrix for value in row)
    print(f"pool: {people} mentors × {people} mentees, {blocked} blocked pairs")
    print(f"fit matrix ({people * people} fit checks)        {build_ms:8.1f} ms")
    for capacity in (1, 2):
        for objective in ("total", "balanced"):
            result = assign(matrix, [capacity] * people, threshold=40, objective=objective)
            ms = _median_ms(
                lambda c=capacity, o=objective: assign(
                    matrix,
                    [c] * people,
                    threshold=40,
                    objective=o,
                )
            )
            print(
                f"assign {objective:<8} capacity {capacity}   {ms:8.1f} ms   "
                f"{len(result.pairs)} tandems, total {result.total:.1f}, weakest {result.minimum}"
            )


if __name__ == "__main__":
    main()
