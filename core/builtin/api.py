"""The core's API-key scopes, declared on the same ``api_scopes`` hook plugins use."""

from __future__ import annotations

from core.auth import SCOPES
from core.hookspecs import hookimpl
from core.settings import Settings


@hookimpl(trylast=True)
def api_scopes(settings: Settings) -> dict[str, str]:
    return dict(SCOPES)
