"""Accounts for tests: create an account with a role and sign a TestClient in as it.

    from tests.accounts_support import sign_in, signed_in

    with app_client(settings) as client:
        editor = signed_in(client, "redaktion", sources=["nrw"])
        client.post("/redaktion/…", data={**editor.form, "field": "value"})
        client.post("/api/v1/redaktion/…", json={...}, headers=editor.headers)

The account is created through the app's own database connection (the client's event
loop), then signed in with a real POST to /anmelden; the client keeps the session cookie.
``editor.csrf`` is the session's CSRF token, read from a signed-in page as a browser
would; ``editor.form`` and ``editor.headers`` carry it for form posts and JSON calls.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from litestar.testing import TestClient

from core.accounts import passwords
from core.accounts.service import AccountRecord, create_account
from core.app import create_app
from core.db.engine import engine_from_url, migrate, use_engine
from core.plugins import PluginRegistry, build_registry
from core.settings import Settings

PASSWORD = "richtig-langes-Passwort-2026"
# Real argon2id, with its cheapest parameters: the default ones cost about a second per
# sign-in on a busy test machine. tests/test_accounts.py checks the app's defaults.
passwords.use_hasher(PasswordHasher.from_parameters(CHEAPEST))
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


@dataclass
class SignedIn:
    client: TestClient[Any]
    account: AccountRecord
    password: str
    csrf: str
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def form(self) -> dict[str, str]:
        """Form fields every state-changing form of a signed-in page carries."""
        return {"csrf_token": self.csrf}

    @property
    def headers(self) -> dict[str, str]:
        """Headers for a JSON call with the session (and the CSRF token)."""
        return {"X-CSRF-Token": self.csrf}


def migrated(settings: Settings) -> None:
    """Apply the migrations to the settings' database (the app does not at startup)."""
    use_engine(engine_from_url(settings.database_url))
    asyncio.run(migrate())


@contextmanager
def editor_client(
    settings: Settings, registry: PluginRegistry | None = None
) -> Iterator[TestClient[Any]]:
    """The app on a migrated database, without installed plugins unless ``registry``."""
    migrated(settings)
    registry = registry or build_registry(settings, load_installed=False)
    with TestClient(create_app(settings, registry)) as client:
        yield client


def make_account(
    client: TestClient[Any],
    role: str,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    sources: Iterable[str] = (),
    display_name: str = "",
) -> AccountRecord:
    """Create an account through the running app's database connection."""
    email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.org"

    async def create() -> AccountRecord:
        return await create_account(
            email, password, role, sources=list(sources), display_name=display_name
        )

    found: AccountRecord = client.blocking_portal.call(create)
    return found


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def sign_in(client: TestClient[Any], email: str, password: str = PASSWORD) -> str:
    """Sign ``client`` in (a real form post) and return the session's CSRF token."""
    client.cookies.clear()
    answer = client.post(
        "/anmelden",
        data={"email": email, "password": password, "next": "/redaktion"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, (answer.status_code, answer.text[:500])
    home = client.get("/redaktion")
    assert home.status_code == 200, home.text[:500]
    return csrf_of(home.text)


def signed_in(
    client: TestClient[Any],
    role: str,
    *,
    email: str | None = None,
    sources: Iterable[str] = (),
    display_name: str = "",
) -> SignedIn:
    """A new account with ``role``, and ``client`` signed in as it."""
    account = make_account(client, role, email=email, sources=sources, display_name=display_name)
    csrf = sign_in(client, account.email)
    return SignedIn(
        client=client,
        account=account,
        password=PASSWORD,
        csrf=csrf,
        cookies=dict(client.cookies.items()),
    )


def use(session: SignedIn) -> SignedIn:
    """Switch the session's client back to this identity (one client, several accounts)."""
    session.client.cookies.clear()
    for name, value in session.cookies.items():
        session.client.cookies.set(name, value)
    return session
