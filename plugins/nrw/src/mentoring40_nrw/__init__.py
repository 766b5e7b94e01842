"""Mentoring 4.0 Phase 2 – Qualifizierung für den digitalen Wandel in NRW.

Contributes the regional toolbox entries as a content pack named ``nrw``, the
theme ``nrw`` and the partner site ``nrw``.
"""

from pathlib import Path
from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("mentoring40")

CONTENT_DIR = Path(__file__).parent / "content"
THEME_DIR = Path(__file__).parent / "theme"
SITES_DIR = Path(__file__).parent / "sites"


@hookimpl
def content_packs() -> list[dict[str, Any]]:
    return [
        {
            "name": "nrw",
            "path": CONTENT_DIR,
            "label": "Phase 2: Qualifizierung für den digitalen Wandel in NRW",
        }
    ]


@hookimpl
def themes() -> list[Path]:
    return [THEME_DIR]


@hookimpl
def sites() -> list[Path]:
    return [SITES_DIR]
