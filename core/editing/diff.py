"""A readable per-field difference between two versions of an entry; the body as a line
diff (difflib), so that a reviewer sees what changed without reading YAML."""

from __future__ import annotations

import difflib
from typing import Any

from core.editing.model import FIELDS


def field_diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """One item per changed field: ``{"field", "before", "after"}``; for ``body`` also
    ``lines``: ``{"op": " " | "-" | "+", "text"}`` with unchanged lines kept for context."""
    changes: list[dict[str, Any]] = []
    for name in FIELDS:
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        item: dict[str, Any] = {"field": name, "before": old, "after": new}
        if name == "body":
            item["lines"] = body_lines(str(old or ""), str(new or ""))
        changes.append(item)
    return changes


def body_lines(old: str, new: str) -> list[dict[str, str]]:
    lines = []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        op, text = line[:1], line[2:]
        if op in {" ", "-", "+"}:
            lines.append({"op": op, "text": text})
    return lines
