"""Raw responses as CSV for the programme's evaluation (one row per response).

Columns: questionnaire, version, definition hash, engine version, perspective, mode,
day, then one column per item (codes; lists joined by " | ", rankings in their order)
and one per dimension score plus the overall score and Ampel. No ids that could link
a row to anything outside the file, and no order: rows are sorted by day, then by content
(the day is the finest time stored, see ``QuestionnaireResponse.submitted_on``).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from typing import Any

import msgspec

from core.quickcheck.engine import Scores
from core.quickcheck.model import Questionnaire

# Spreadsheets run a cell starting with one of these as a formula (CSV injection); some
# also take the fullwidth forms, which Unicode normalisation (NFKC) turns into the ASCII ones.
FORMULA_SIGNS = frozenset("=+-@＝＋－＠")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # a number, not a formula: "-2" stays a number for the spreadsheet
    text = " | ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return "'" + text if _may_run(text) else text


def _may_run(text: str) -> bool:
    """True if a spreadsheet could read ``text`` as a formula: it starts with a formula sign,
    or with a control character (NUL, tab, CR, ...), space or invisible formatting character
    that an importer may strip before the sign it hides."""
    if text[:1] and unicodedata.category(text[0]) == "Cc":
        return True  # tab and CR start formulas themselves in some spreadsheets (OWASP)
    for char in text:
        if char in FORMULA_SIGNS:
            return True
        if not (char.isspace() or unicodedata.category(char) in {"Cc", "Cf", "Zs"}):
            return False
    return False


DAY = 6  # the column submitted_on: a date, never a time


def export_rows(d: Questionnaire, rows: list[dict[str, Any]]) -> list[list[str]]:
    """The header and one line per response, sorted so that no order of submission shows."""
    header = [
        "questionnaire",
        "version",
        "definition_hash",
        "engine_version",
        "perspective",
        "mode",
        "submitted_on",
        *(f"item:{item.id}" for item in d.items),
        *(f"score:{dim.id}" for dim in d.dimensions),
        *(["score:overall", "ampel:overall"] if d.dimensions else []),
    ]
    lines = []
    for row in rows:
        scores = msgspec.convert(row["result"], Scores)
        line = [
            d.id,
            str(d.version),
            row["definition_hash"],
            row["engine_version"],
            row["perspective"],
            row["mode"],
            str(row["submitted_on"]),
            *(_cell(row["answers"].get(item.id)) for item in d.items),
            *(_cell(s.score) for s in scores.dimensions),
        ]
        if d.dimensions:
            overall = scores.overall
            band = overall.band if overall else None
            line += [
                _cell(overall.score if overall else None),
                d.bands[band].ampel if band is not None else "",
            ]
        lines.append(line)
    # The database gives rows in the order they were submitted; within a day that order
    # would link a row to whoever answered at a known time. Sorted by day, then by the
    # row's own content, the order says nothing but the day (and the file is the same
    # for the same responses).
    lines.sort(key=lambda line: (line[DAY], line))
    return [header, *lines]


def export_csv(d: Questionnaire, rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    # CRLF, as RFC 4180 says: with "\n" alone the writer left a bare CR inside an answer
    # unquoted, and spreadsheets start a new row there (a row, or a formula, of the
    # answerer's making). With CRLF every cell holding CR or LF is quoted.
    csv.writer(buffer, lineterminator="\r\n").writerows(export_rows(d, rows))
    return buffer.getvalue()
