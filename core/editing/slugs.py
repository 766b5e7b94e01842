"""Slugs proposed from a German title: ä→ae, ö→oe, ü→ue, ß→ss, other accents dropped,
everything else a hyphen; the rules of a file name (core.content.model.SLUG_PATTERN)."""

from __future__ import annotations

import re
import unicodedata

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})
MAX_SLUG = 120


def slugify(title: str) -> str:
    text = title.casefold().translate(_GERMAN)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(slug) > MAX_SLUG - 4:  # room for a "-2" suffix
        slug = slug[: MAX_SLUG - 4].rsplit("-", 1)[0] or slug[: MAX_SLUG - 4]
    return slug.strip("-")


def unique(slug: str, taken: set[str]) -> str:
    """``slug``, or ``slug-2``, ``slug-3``, … whichever is not ``taken``."""
    if slug not in taken:
        return slug
    number = 2
    while f"{slug}-{number}" in taken:
        number += 1
    return f"{slug}-{number}"
