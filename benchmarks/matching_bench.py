"""Pool matching of 200 mentors × 200 mentees: the fit matrix and the optimal assignment.

Builds 200 mentor and 200 mentee profiles with seeded random but valid answers to the
shipped tandem profile (content/questionnaires/tandem-profil.yaml), computes every fit
with the tandem fit check (what the fit matrix page does), then times the best-total and
the most balanced assignment with capacity 1 and with capacity 2. Prints wall and CPU
times of the median of five runs and the load average; the issue's goal is that
matching a 200 × 200 pool takes under one second.

    .venv/bin/python benchmarks/matching_bench.py [--people 200]
"""

from __future__ import annotations

import argparse
import os
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


def _median_ms(run: Any, repeat: int = 5) -> tuple[float, float]:
    """Median wall and median CPU milliseconds (CPU time is less distorted by a shared
    machine)."""
    times, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        run()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return statistics.median(times), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200, help="mentors and mentees each")
    parser.add_argument("--version", type=int, default=2, help="tandem profile version")
    args = parser.parse_args()
    people, version = args.people, args.version

    from core.quickcheck.loader import load_questionnaires
    from core.quickcheck.matching import assign
    from core.quickcheck.tandem import Comparer, PairMarking, marks_by_pair

    slugs = {path.stem for path in (ROOT / "content" / "entries").glob("*.md")}
    loaded, problems = load_questionnaires(
        [("core", ROOT / "content" / "questionnaires")], entry_slugs=slugs
    )
    if problems:
        sys.exit(f"the shipped questionnaires do not load: {problems}")
    profile = next(
        q.definition
        for q in loaded
        if (q.definition.id, q.definition.version) == ("tandem-profil", version)
    )
    rng = random.Random(40)
    mentors = [_answers(profile, "mentor", rng) for _ in range(people)]
    mentees = [_answers(profile, "mentee", rng) for _ in range(people)]
    # The Lotse's pair markings, as a pool passes them to the comparer: 1 % of the pairs.
    markings = [
        PairMarking(
            mentor=f"m{rng.randrange(people)}",
            mentee=f"e{rng.randrange(people)}",
            kind=rng.choice(["gleiches-team", "berichtslinie", "nicht-mit"]),
        )
        for _ in range(people * people // 100)
    ]
    named_mentors = [(f"m{j}", a) for j, a in enumerate(mentors)]
    named_mentees = [(f"e{i}", a) for i, a in enumerate(mentees)]
    by_pair = marks_by_pair(markings)

    matrix: list[list[float | None]] = []

    def build() -> None:  # what the proposal needs: the scores only (Comparer.matrix)
        matrix.clear()
        matrix.extend(Comparer(profile).matrix(named_mentors, named_mentees, markings))

    def explained() -> None:  # what the run's matrix page and API add: the explanations
        comparer = Comparer(profile)
        for e, mentee in named_mentees:
            for m, mentor in named_mentors:
                comparer.fit(mentor, mentee, by_pair.get((m, e), frozenset()))

    build_ms, build_cpu = _median_ms(build, repeat=1)
    blocked = sum(value is None for row in matrix for value in row)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"tandem profile version {version}; pool: {people} mentors × {people} mentees, "
        f"{len(markings)} pair markings, {blocked} blocked pairs"
    )
    print(
        f"fit matrix ({people * people} scores)            {build_ms:8.1f} ms wall "
        f"{build_cpu:8.1f} ms CPU"
    )
    ms, cpu = _median_ms(explained, repeat=1)
    print(f"fit matrix with explanations           {ms:8.1f} ms wall {cpu:8.1f} ms CPU")
    for capacity in (1, 2):
        for objective in ("total", "balanced"):
            result = assign(matrix, [capacity] * people, threshold=40, objective=objective)
            ms, cpu = _median_ms(
                lambda c=capacity, o=objective: assign(
                    matrix,
                    [c] * people,
                    threshold=40,
                    objective=o,
                )
            )
            print(
                f"assign {objective:<8} capacity {capacity}   {ms:8.1f} ms wall {cpu:8.1f} ms CPU  "
                f"{len(result.pairs)} tandems, total {result.total:.1f}, weakest {result.minimum}"
            )


if __name__ == "__main__":
    main()
