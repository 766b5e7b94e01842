"""The Quickcheck's HTML form posts: where they may come from, and their fields read into
answers. The pages are in core.web.quickcheck.

The form is built from the same definition document the JSON API serves; answers are
parsed from form fields into the API's answer values and go through the same
validation, scoring and storage (``core.quickcheck.service.submit_answers``). Without
JavaScript every item is shown; answers to items whose condition is not met are dropped
before validation, so a visitor is never blamed for answering a question that did not
apply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from core.http.numbers import whole_number
from core.http.problems import ProblemError
from core.quickcheck import engine
from core.quickcheck.model import Questionnaire
from core.web.base import Req
from core.web.render import Page

# ASCII digits only (``\d`` also matches other scripts' digits), and no more of them than a
# float holds exactly.
_NUMBER_RE = re.compile(r"^-?[0-9]{1,15}(?:[.,][0-9]{1,15})?$")
# Far more places than any ranking has options; bounds the number a visitor may type.
MAX_RANK = 1000


@dataclass
class FormState:
    """What the visitor entered (to fill the form again) and what is wrong, by item id."""

    values: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def value(self, item_id: str) -> str:
        return (self.values.get(item_id) or [""])[0]

    def has(self, item_id: str, code: str) -> bool:
        return code in (self.values.get(item_id) or [])

    def rank(self, item_id: str, code: str) -> str:
        return self.value(f"{item_id}.{code}")

    def has_values(self) -> bool:
        """Whether the server fills the form again (then the browser's saved answers wait)."""
        return any(self.values.values())


def parse_form(
    d: Questionnaire, perspective: str, form: dict[str, list[str]]
) -> tuple[dict[str, Any], FormState]:
    """Form fields (``a.<item>``, ``r.<item>.<code>`` for ranks) into answers."""
    state = FormState()
    answers: dict[str, Any] = {}
    for item in engine.asked_items(d, perspective):
        key = f"a.{item.id}"
        raw = [v for v in form.get(key, []) if v != ""]
        state.values[item.id] = raw
        if item.type == "ranking":
            ranked: list[tuple[int, str]] = []
            for code in engine.codes_of(d, item):
                rank = (form.get(f"r.{item.id}.{code}") or [""])[0].strip()
                state.values[f"{item.id}.{code}"] = [rank]
                if rank:
                    try:
                        ranked.append((whole_number(rank, item.id, maximum=MAX_RANK), code))
                    except ProblemError:
                        state.errors[item.id] = "Bitte nur Zahlen als Rang eintragen."
            ranks = [r for r, _ in ranked]
            if len(set(ranks)) != len(ranks):
                state.errors[item.id] = "Jeder Rang darf nur einmal vorkommen."
            elif ranked:
                answers[item.id] = [code for _, code in sorted(ranked)]
        elif item.type == "multiple_choice":
            if raw:
                answers[item.id] = raw
        elif item.type == "number":
            if raw:
                text = raw[0].strip()
                if _NUMBER_RE.match(text):
                    number = float(text.replace(",", "."))
                    answers[item.id] = int(number) if number.is_integer() else number
                else:
                    state.errors[item.id] = "Bitte eine Zahl eintragen, zum Beispiel 4 oder 2,5."
        elif raw:
            answers[item.id] = raw[0]
    return drop_hidden(d, perspective, answers), state


def drop_hidden(d: Questionnaire, perspective: str, answers: dict[str, Any]) -> dict[str, Any]:
    """Leave out answers to items whose condition is not met by the earlier answers."""
    kept: dict[str, Any] = {}
    for item in engine.asked_items(d, perspective):
        shown = item.visible_if is None or engine.evaluate(item.visible_if, kept)
        if shown and item.id in answers:
            kept[item.id] = answers[item.id]
    return kept


# The engine's reasons are English API texts; a visitor reads German.
_REASONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^is required$"), "Bitte beantworten Sie diese Frage."),
    (re.compile(r"^choose between (\d+) and (\d+) options"), r"Bitte \1 bis \2 Antworten wählen."),
    (re.compile(r"^must be at least (.+)$"), r"Bitte mindestens \1 eintragen."),
    (re.compile(r"^must be at most (.+)$"), r"Bitte höchstens \1 eintragen."),
    (
        re.compile(r"^is (\d+) characters long; at most (\d+)"),
        r"Bitte höchstens \2 Zeichen (jetzt \1).",
    ),
    (
        re.compile(r"cannot be combined"),
        "„Keine Angabe“ lässt sich nicht mit anderen Antworten kombinieren.",
    ),
]


def german_reason(reason: str) -> str:
    for pattern, text in _REASONS:
        if match := pattern.search(reason):
            return match.expand(text)
    return f"Diese Antwort passt nicht: {reason}"


def posted_from_elsewhere(request: Req, page: Page) -> str | None:
    """The origin a form post came from, if it is neither this app nor (for an embed) one
    of the site's origins; None if the post may be taken.

    Browsers send ``Origin`` with every form post (``null`` from sandboxed or opaque
    pages, which is refused); ``Referer`` is the fallback for old ones. A post with
    neither header does not come from a current browser but from a program, which can
    send the same answers through the JSON API anyway, within the same rate limit: it is
    taken. What this stops is another web page submitting through its visitors'
    browsers."""
    sent = request.headers.get("origin") or request.headers.get("referer")
    if sent is None:
        return None
    allowed = {_origin_key(str(request.base_url))}
    allowed.update(_origin_key(o) for o in (page.site.origins if page.site else ()))
    key = _origin_key(sent)
    return None if key is not None and key in allowed else sent


def _origin_key(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a URL or origin, the default port filled in; None if it
    has none (``null``) or cannot be read."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:  # a malformed port or IPv6 address
        return None
    if not parts.hostname or port is None:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port
