"""Mentoring 4.0 Phase 2 – Qualifizierung für den digitalen Wandel in NRW.

Contributes the regional toolbox entries as a content pack named ``nrw``.
"""

from pathlib import Path
from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("mentoring40")

CONTENT_DIR = Path(__file__).parent / "content"


@hookimpl
def content_packs() -> list[dict[str, Any]]:
    return [
        {
            "name": "nrw",
            "path": CONTENT_DIR,
            "label": "Phase 2: Qualifizierung für den digitalen Wandel in NRW",
        }
    ]
