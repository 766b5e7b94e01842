"""Accounts of the editor (/redaktion): who may sign in, with which role, for which packs.

The public face of the package (docs/ACCOUNTS.md and the interface other branches build on):

- ``ROLES`` and ``ROLE_LABELS``: the fixed roles, with German labels; admin may do everything.
- ``AccountInfo``: what a handler or template knows about the signed-in account.
- ``current_account(request)``: that account, or None (set by the app-wide ``role_guard``).
- ``core.accounts.audit.record(...)``: the audit log every editorial action goes through.
- ``core.accounts.guard``: the guard behind ``opt={"roles": (...)}`` and the CSRF check.
- ``core.accounts.service``: creating, changing and disabling accounts; signing in.

Layering: like ``core/auth.py``, this package serves the front ends; it imports storage,
settings and the problem documents of ``core.http``, never ``core.api`` or ``core.web``.
"""

from __future__ import annotations

from typing import Any

import msgspec

# The fixed roles, in order of what they may do (German labels for the pages).
ROLE_LABELS: dict[str, str] = {
    "admin": "Administration",
    "freigabe": "Freigabe",
    "redaktion": "Redaktion",
    "lotse": "Lotse/Lotsin",
    "auswertung": "Auswertung",
}
ROLES: tuple[str, ...] = tuple(ROLE_LABELS)
# opt={"roles": ANY_ROLE}: any signed-in account.
ANY_ROLE = "any"
ROLES_OPT = "roles"
# Where request.state keeps the signed-in account (None: nobody).
STATE_KEY = "account"


class AccountInfo(msgspec.Struct, frozen=True, kw_only=True):
    """The signed-in account, as handlers and templates see it."""

    id: int
    email: str
    role: str
    sources: list[str]
    display_name: str

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def name(self) -> str:
        """How pages name the account: the display name, else the e-mail address."""
        return self.display_name or self.email

    def has_role(self, *roles: str) -> bool:
        """Whether the account has one of ``roles``; admin has every role."""
        return self.role == "admin" or self.role in roles

    def may_edit_source(self, source: str) -> bool:
        """Whether the account may edit entries of the content pack ``source``."""
        return self.role == "admin" or source in self.sources


def current_account(request: Any) -> AccountInfo | None:
    """The account signed in on this request, or None.

    The app-wide guard (``core.accounts.guard.role_guard``) reads the session cookie on
    every route that has ``roles`` (or ``account``) in its opt; on other routes this is
    None."""
    found = request.state.get(STATE_KEY) if hasattr(request, "state") else None
    return found if isinstance(found, AccountInfo) else None


__all__ = [
    "ANY_ROLE",
    "ROLES",
    "ROLES_OPT",
    "ROLE_LABELS",
    "AccountInfo",
    "current_account",
]
