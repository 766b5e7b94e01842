"""The shipped themes (``themes/``) and the sites of the content folder (``sites/``)."""

from __future__ import annotations

from pathlib import Path

from core.hookspecs import hookimpl
from core.settings import PROJECT_ROOT, Settings

THEMES_DIR = PROJECT_ROOT / "themes"


@hookimpl(trylast=True)
def themes(settings: Settings) -> list[Path]:
    return sorted(p for p in THEMES_DIR.iterdir() if (p / "theme.yaml").is_file())


@hookimpl(trylast=True)
def sites(settings: Settings) -> list[Path]:
    folder = settings.content_dir / "sites"
    return [folder] if folder.is_dir() else []
