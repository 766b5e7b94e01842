"""Raw responses as CSV for the programme's evaluation (one row per response).

Columns: questionnaire, version, definition hash, engine version, perspective, mode,
day, then one column per item (codes; lists joined by " | ", rankings in their order)
and one per dimension score plus the overall score and Ampel. No ids that could link
a row to anything outside the file.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import msgspec

from core.quickcheck.engine import Scores
from core.quickcheck.model import Questionnaire


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " | ".join(str(v) for v in value)
    text = str(value)
    # Spreadsheets run cells starting with these as formulas (CSV injection).
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def export_rows(d: Questionnaire, rows: list[dict[str, Any]]) -> list[list[str]]:
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
    out = [header]
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
        out.append(line)
    return out


def export_csv(d: Questionnaire, rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(export_rows(d, rows))
    return buffer.getvalue()
