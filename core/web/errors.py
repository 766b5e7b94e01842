"""The German error pages a browser sees for an error outside the pages' own answers:
unknown address, database outage, limits, unexpected failures.

The app's exception handlers call ``error_page`` for requests that want HTML. It reads
nothing from the database: the database may be what is down.
"""

from __future__ import annotations

from litestar import Response

from core.http.security import request_id
from core.web.base import Req, render, workspace

ERROR_TEXTS: dict[int, tuple[str, str]] = {
    400: ("Ungültige Anfrage", "Die Anfrage enthält Angaben, die wir nicht verarbeiten können."),
    403: ("Nicht erlaubt", "Diese Anfrage ist von dieser Seite aus nicht erlaubt."),
    404: ("Nicht gefunden", "Unter dieser Adresse gibt es keine Seite."),
    405: ("Nicht möglich", "Diese Adresse kann so nicht aufgerufen werden."),
    413: ("Zu große Anfrage", "Die gesendeten Daten sind zu groß."),
    429: (
        "Zu viele Anfragen",
        "Von Ihrer Adresse kamen in kurzer Zeit sehr viele Anfragen. "
        "Bitte versuchen Sie es in {retry} Sekunden erneut.",
    ),
    503: (
        "Vorübergehend nicht erreichbar",
        "Der Werkzeugkasten ist gerade nicht vollständig erreichbar. "
        "Bitte versuchen Sie es in einer Minute erneut.",
    ),
}
# Parts of a request that are not query parameters, as a reader knows them.
PARAM_NAMES = {"path": "Adresse", "body": "gesendete Daten"}
UNEXPECTED = (
    "Unerwarteter Fehler",
    "Etwas ist schiefgegangen; der Fehler wurde protokolliert. "
    "Wenn Sie ihn melden, nennen Sie bitte die Anfragenummer {request_id}.",
)


def error_page(
    request: Req,
    status: int,
    headers: dict[str, str] | None = None,
    *,
    params: list[str] | None = None,
) -> Response[str]:
    """A themed HTML page for an error status (used by the exception handlers for
    browsers); ``params`` names the parts of the request that were wrong."""
    title, message = ERROR_TEXTS.get(status, UNEXPECTED)
    retry = (headers or {}).get("Retry-After", "60")
    message = message.format(retry=retry, request_id=request_id.get())
    if params:
        named = ", ".join(f"„{PARAM_NAMES.get(name, name)}“" for name in params)
        message = f"{message} Betroffen: {named}."
    return render(
        workspace(request),
        "error.html",
        status=status,
        headers=headers,
        title=title,
        message=message,
    )
