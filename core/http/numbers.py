"""The one strict parser for whole numbers in query parameters and form fields, in the
API and on the pages."""

from __future__ import annotations

import re

from core.http.problems import bad_request

# Long enough for any bound we use; short enough that int() never meets Python's
# conversion limit (4,300 digits) or spends time on a hostile number.
_WHOLE_NUMBER = re.compile(r"[0-9]{1,20}")


def whole_number(raw: str, name: str, *, maximum: int, minimum: int = 1) -> int:
    """``raw`` as a whole number from ``minimum`` to ``maximum``; otherwise a 400 that names
    ``name``. Only ASCII digits count: ``str.isdigit`` accepts ``²`` and ``٣``, which
    ``int()`` refuses or reads as another number. The one parser for numbers in query
    parameters and form fields, in the API and on the pages."""
    text = raw.strip()
    if not _WHOLE_NUMBER.fullmatch(text) or int(text) < minimum:
        raise bad_request(
            name,
            f"{name} must be a whole number (digits 0-9) of at least {minimum} and at most "
            f"{maximum}; got {_shown(raw)}.",
        )
    if int(text) > maximum:
        raise bad_request(
            name, f"{name} may be at most {maximum} (the documented maximum); got {text}."
        )
    return int(text)


def _shown(raw: str) -> str:
    # A hostile value may be thousands of characters long: quote only its beginning.
    return repr(raw) if len(raw) <= 40 else f"{raw[:40]!r}... ({len(raw)} characters)"


__all__ = ["whole_number"]
