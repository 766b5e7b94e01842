"""Published questionnaire versions are immutable: a file may not change one.

A version's identity is the canonical hash of its definition (``canonical_hash``); the
database keeps the hash of every version it published, so results stay comparable.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.content.model import Problem
from core.quickcheck.model import LoadedQuestionnaire


def check_immutable(
    loaded: Iterable[LoadedQuestionnaire], stored: dict[tuple[str, int], tuple[str, str]]
) -> list[Problem]:
    """Problems where a file would change a version that was published in the database.

    ``stored`` maps (id, version) to (hash, status) of what the database holds.
    """
    problems: list[Problem] = []
    for item in loaded:
        d = item.definition
        previous = stored.get((d.id, d.version))
        if previous is None:
            continue
        stored_hash, stored_status = previous
        if stored_status == "draft":
            continue
        if stored_hash != item.hash:
            problems.append(
                Problem(
                    file=item.source_path,
                    field="version",
                    message=f"{d.id!r} version {d.version} is {stored_status} and its content "
                    f"changed (stored {stored_hash[:12]}, file {item.hash[:12]}); published "
                    f"definitions are immutable so results stay comparable: set version: "
                    f"{d.version + 1} for the change (older versions stay in the database)",
                )
            )
        elif d.status == "draft":
            problems.append(
                Problem(
                    file=item.source_path,
                    field="status",
                    message=f"{d.id!r} version {d.version} is already {stored_status}; it "
                    "cannot become a draft again (use status: retired to withdraw it)",
                )
            )
    return problems
