"""The shipped toolbox (the ``content/`` folder, or MENTORING40_CONTENT_DIR) as a content pack,
and its ``questionnaires/`` folder."""

from __future__ import annotations

from pathlib import Path

from core.content.model import CORE_SOURCE, ContentPack
from core.hookspecs import hookimpl
from core.settings import Settings


@hookimpl(trylast=True)
def content_packs(settings: Settings) -> list[ContentPack]:
    return [
        ContentPack(
            name=CORE_SOURCE, path=settings.content_dir, label="Werkzeugkasten Mentoring 4.0"
        )
    ]


@hookimpl(trylast=True)
def questionnaires(settings: Settings) -> list[Path]:
    folder = settings.content_dir / "questionnaires"
    return [folder] if folder.is_dir() else []
