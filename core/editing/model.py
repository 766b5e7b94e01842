"""What the editorial workflow works with: who acts, the editable fields of an entry,
and the domain errors each front end maps (to a problem document or a German message)."""

from __future__ import annotations

from typing import Any

import msgspec

from core.content.model import Problem
from core.content.sync import EDITABLE_FIELDS

# The states of an entry under editing (EditorialEntry.state).
DRAFT = "draft"
REVIEW = "review"
PUBLISHED = "published"
UNPUBLISHED = "unpublished"
STATES = (DRAFT, REVIEW, PUBLISHED, UNPUBLISHED)
# What a revision became (EditorialRevision.state): the above, plus these.
RETURNED = "returned"  # sent back by the Freigabe with a comment
SUPERSEDED = "superseded"  # was published, a later revision is live now

# The editable fields of an entry, in the order of the shipped files; ``body`` is the
# Markdown body. A revision stores exactly these.
FIELDS = EDITABLE_FIELDS
LIST_FIELDS = ("topics", "phases", "audiences", "tags", "search_terms", "materials", "related")


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """Who acts: a signed-in account or an API key.

    ``packs`` None means every pack; ``may_publish`` is the Freigabe's right to publish,
    send back, unpublish and resolve sync conflicts."""

    name: str
    account_id: int | None = None
    packs: frozenset[str] | None = None
    may_publish: bool = False

    def may_edit(self, source: str) -> bool:
        return self.packs is None or source in self.packs


def actor_for_account(account: Any) -> Actor:
    """The actor of a signed-in account (core.accounts.AccountInfo): Redaktion edits the
    packs listed in its sources; Freigabe publishes, in its sources if it has any, else
    everywhere; Admin may do everything."""
    sources = frozenset(account.sources)
    if account.role == "admin":
        packs: frozenset[str] | None = None
    elif account.role == "freigabe":
        packs = sources or None
    else:
        packs = sources
    return Actor(
        name=account.name,
        account_id=account.id,
        packs=packs,
        may_publish=account.role in ("admin", "freigabe"),
    )


# German names of the states, for the pages.
STATE_LABELS = {
    "file": "Datei (nicht bearbeitet)",
    DRAFT: "Entwurf",
    REVIEW: "In Prüfung",
    PUBLISHED: "Veröffentlicht",
    UNPUBLISHED: "Zurückgezogen",
    RETURNED: "Zurückgegeben",
    SUPERSEDED: "Abgelöst",
}


class EditingError(Exception):
    """An editorial operation cannot be carried out. ``code`` names the reason for the
    front ends; the message is for logs and the CLI."""

    code = "editing"


class NotFound(EditingError):
    code = "not_found"


class Forbidden(EditingError):
    code = "forbidden"


class WrongState(EditingError):
    code = "wrong_state"

    def __init__(self, message: str, state: str) -> None:
        super().__init__(message)
        self.state = state


class SlugTaken(EditingError):
    code = "slug_taken"


class Invalid(EditingError):
    """The entry breaks the rules of ``content check``; ``problems`` are its very messages."""

    code = "invalid"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class Conflict(EditingError):
    """A save based on an older revision: ``head`` is the newest one, ``diff`` what
    changed between it and what was sent (nothing is stored)."""

    code = "conflict"

    def __init__(self, based_on: int, head: int, diff: list[dict[str, Any]]) -> None:
        super().__init__(
            f"revision {head} was saved after revision {based_on}, on which this edit is based"
        )
        self.based_on = based_on
        self.head = head
        self.diff = diff


def field_of(problem: Problem) -> str:
    """The form field a problem belongs to: ``topics[1]`` → ``topics``; none → ``body``
    for a problem of the whole entry (empty body, too large)."""
    if not problem.field:
        return "entry"
    return problem.field.split("[", 1)[0].split(".", 1)[0]
