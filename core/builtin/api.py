"""The core's API-key scopes, declared on the same ``api_scopes`` hook plugins use."""

from __future__ import annotations

from core.auth import RUNS_SITE_SCOPE, SCOPES
from core.hookspecs import hookimpl
from core.settings import Settings


@hookimpl(trylast=True)
def api_scopes(settings: Settings) -> dict[str, str]:
    scopes = dict(SCOPES)
    # One scope per partner site of the content folder, for its own runs (core.api.runs).
    for path in sorted((settings.content_dir / "sites").glob("*.yaml")):
        scopes[f"{RUNS_SITE_SCOPE}{path.stem}"] = (
            f"the runs (Durchläufe) of the site {path.stem!r} only: list, create, close, "
            "company views, report and that site's dashboard"
        )
    return scopes
