"""Accounts and sessions of the editor (issue 15, item 1), on SQLite and PostgreSQL:
signing in and out, wrong passwords, rotation, expiry, CSRF, the role guard, the CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from core.accounts.sessions import COOKIE
from core.db.tables import AccountSession, AuditEvent
from core.settings import Settings
from tests.accounts_support import (
    PASSWORD,
    csrf_of,
    editor_client,
    make_account,
    reset_schema,
    sign_in,
    signed_in,
    use,
)
from tests.conftest import FIXTURE_CONTENT, make_settings, run
from tests.web_support import Client, page_of, run_cli


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One database per module and engine: the tests use accounts of their own."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('accounts') / 'accounts.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_database")
        run(reset_schema(url))
    return make_settings(url, FIXTURE_CONTENT)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[Client]:
    with editor_client(settings) as client:
        yield client


@pytest.fixture(autouse=True)
def signed_out(request: pytest.FixtureRequest) -> None:
    """Each test starts without the previous test's cookies."""
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies.clear()


def audit_actions(client: Client) -> list[tuple[str, str]]:
    async def read() -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await AuditEvent.select(
            AuditEvent.action, AuditEvent.email
        ).order_by(AuditEvent.id)
        return rows

    return [(r["action"], r["email"]) for r in client.blocking_portal.call(read)]


def test_sign_in_sets_a_safe_cookie_and_shows_who_is_signed_in(client: Client) -> None:
    account = make_account(client, "freigabe", display_name="Frau Beispiel")
    form = page_of(client.get("/anmelden"))
    assert form.find("input", name="email").attrs["autocomplete"] == "username"
    answer = client.post(
        "/anmelden",
        data={"email": account.email.upper(), "password": PASSWORD, "next": "/redaktion"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/redaktion"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # MENTORING40_SECURE_COOKIES is off by default
    home = page_of(client.get("/redaktion"))
    assert "Frau Beispiel" in home.find("div", class_="signed-in").text()
    assert "Freigabe" in home.find("div", class_="signed-in").text()
    assert ("login", account.email) in audit_actions(client)


def test_the_cookie_is_secure_when_the_setting_says_so(database_url: str) -> None:
    settings = make_settings(database_url, FIXTURE_CONTENT, secure_cookies=True)
    with editor_client(settings) as client:
        account = make_account(client, "admin")
        answer = client.post(
            "/anmelden", data={"email": account.email, "password": PASSWORD},
            follow_redirects=False,
        )  # fmt: skip
        assert "Secure" in answer.headers["set-cookie"]


def test_a_wrong_password_and_an_unknown_address_get_the_same_german_message(
    client: Client,
) -> None:
    account = make_account(client, "redaktion")
    wrong = client.post("/anmelden", data={"email": account.email, "password": "falsch-falsch"})
    unknown = client.post(
        "/anmelden", data={"email": "niemand@example.org", "password": "falsch-falsch"}
    )
    for answer in (wrong, unknown):
        page = page_of(answer, 422)
        assert "E-Mail-Adresse oder Passwort stimmen nicht" in page.find(role="alert").text()
        assert COOKIE not in answer.headers.get("set-cookie", "")
    # The address typed is kept, the password is not.
    assert page_of(wrong, 422).find("input", name="email").attrs["value"] == account.email
    assert page_of(wrong, 422).find("input", name="password").attrs.get("value") is None
    actions = audit_actions(client)
    assert ("login.failed", account.email) in actions
    assert ("login.failed", "niemand@example.org") in actions


def test_characters_no_database_stores_are_a_wrong_password_not_an_error(client: Client) -> None:
    account = make_account(client, "redaktion")
    for email, password in (
        ("a%00b@example.org", "x"),
        (account.email, "pass%00wort-lang-genug"),
        ("%ED%A0%80@example.org", "%ED%A0%80"),
        ("%FF%FE@example.org", "%FF"),
    ):
        answer = client.post(
            "/anmelden",
            content=f"email={email}&password={password}".encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 422, (email, answer.text[:300])


def test_too_many_failures_pause_the_account_without_telling_whether_it_exists(
    database_url: str,
) -> None:
    settings = make_settings(
        database_url, FIXTURE_CONTENT, login_failures_per_account=3, login_lock_minutes=10
    )
    with editor_client(settings) as client:
        account = make_account(client, "redaktion")
        answers = {}
        for email in (account.email, "gibt-es-nicht@example.org"):
            for _ in range(3):
                last = client.post("/anmelden", data={"email": email, "password": "falsch-1234"})
            answers[email] = last
            # Even the right password is refused while the pause lasts.
            answers[email + "+right"] = client.post(
                "/anmelden", data={"email": email, "password": PASSWORD}
            )
        texts = set()
        for answer in answers.values():
            page = page_of(answer, 429)
            assert answer.headers["retry-after"].isdigit()
            texts.add(page.find(role="alert").text().split(" Minute")[0])
        assert texts == {"Zu viele fehlgeschlagene Anmeldeversuche. Die Anmeldung ist für 10"}


def test_failures_from_one_address_pause_every_account_from_it(database_url: str) -> None:
    settings = make_settings(database_url, FIXTURE_CONTENT, login_failures_per_address=4)
    with editor_client(settings) as client:
        account = make_account(client, "admin")
        for i in range(4):
            client.post("/anmelden", data={"email": f"x{i}@example.org", "password": "falsch"})
        answer = client.post("/anmelden", data={"email": account.email, "password": PASSWORD})
        assert answer.status_code == 429


def test_sign_in_rotates_the_session_and_sign_out_ends_it(client: Client) -> None:
    account = make_account(client, "redaktion")
    sign_in(client, account.email)
    first = client.cookies[COOKIE]
    answer = client.post(
        "/anmelden", data={"email": account.email, "password": PASSWORD},
        follow_redirects=False,
    )  # fmt: skip
    second = answer.cookies[COOKIE]
    assert second != first
    # The old session is over: its cookie leads to the sign-in page.
    client.cookies.clear()
    client.cookies.set(COOKIE, first)
    old = client.get("/redaktion", follow_redirects=False)
    assert (old.status_code, old.headers["location"]) == (303, "/anmelden")
    client.cookies.set(COOKIE, second)
    csrf = csrf_of(client.get("/redaktion").text)
    sign_in_again = client.post("/abmelden", data={"csrf_token": csrf}, follow_redirects=False)
    assert sign_in_again.status_code == 303
    assert sign_in_again.headers["location"] == "/anmelden?abgemeldet=1"
    assert "Max-Age=0" in sign_in_again.headers["set-cookie"]
    client.cookies.set(COOKIE, second)
    assert client.get("/redaktion", follow_redirects=False).status_code == 303
    assert "Sie sind abgemeldet." in client.get("/anmelden?abgemeldet=1").text
    assert ("logout", account.email) in audit_actions(client)


def test_sign_out_everywhere_ends_every_session_of_the_account(client: Client) -> None:
    account = make_account(client, "lotse")
    sign_in(client, account.email)
    laptop = client.cookies[COOKIE]
    csrf = sign_in(client, account.email)
    tablet = client.cookies[COOKIE]
    answer = client.post("/abmelden/ueberall", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.headers["location"] == "/anmelden?abgemeldet=alle"
    for cookie in (laptop, tablet):
        client.cookies.clear()
        client.cookies.set(COOKIE, cookie)
        assert client.get("/redaktion", follow_redirects=False).status_code == 303


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(client: Client) -> None:
    editor = signed_in(client, "redaktion")
    for data in ({}, {"csrf_token": "falsch"}, {"csrf_token": editor.csrf + "x"}):
        answer = client.post(
            "/abmelden", data=data, headers={"Accept": "text/html"}, follow_redirects=False
        )
        page = page_of(answer, 403)
        assert "Formular abgelaufen" in page.find("h1").text()
    assert client.get("/redaktion").status_code == 200  # still signed in
    # The token as a header works too (JSON calls from the editor's scripts).
    answer = client.post("/abmelden", headers=editor.headers, follow_redirects=False)
    assert answer.status_code == 303


def test_an_expired_or_idle_session_leads_back_to_sign_in(client: Client) -> None:
    signed_in(client, "redaktion")

    async def age(**changes: dt.datetime) -> None:
        columns = {getattr(AccountSession, name): value for name, value in changes.items()}
        await AccountSession.update(columns, force=True)  # type: ignore[arg-type]

    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=121)
    client.blocking_portal.call(lambda: age(last_seen_at=past))
    answer = client.get("/redaktion/", follow_redirects=False)
    answer = client.get("/redaktion?x=1", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/anmelden?next=/redaktion%3Fx%3D1"


def test_sign_in_returns_to_the_page_asked_for_but_never_to_another_host(
    client: Client,
) -> None:
    account = make_account(client, "admin")
    for target, expected in (
        ("/redaktion?x=1", "/redaktion?x=1"),
        ("https://evil.example/", "/redaktion"),
        ("//evil.example/", "/redaktion"),
        ("/\\evil.example", "/redaktion"),
    ):
        client.cookies.clear()
        answer = client.post(
            "/anmelden", data={"email": account.email, "password": PASSWORD, "next": target},
            follow_redirects=False,
        )  # fmt: skip
        assert answer.headers["location"] == expected


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(
    client: Client, settings: Settings
) -> None:
    other_admin = make_account(client, "admin")
    editor = signed_in(client, "redaktion")
    result = run_cli(settings, "users", "disable", editor.account.email)
    assert result.exit_code == 0, result.output
    use(editor)
    assert client.get("/redaktion", follow_redirects=False).status_code == 303
    answer = client.post("/anmelden", data={"email": editor.account.email, "password": PASSWORD})
    assert answer.status_code == 422
    assert other_admin.role == "admin"


def test_the_app_hashes_passwords_with_argon2id_and_the_library_defaults() -> None:
    """In a fresh interpreter: the test suite's cheap parameters are not the app's."""
    import subprocess
    import sys

    code = (
        "import asyncio; from core.accounts import passwords; "
        "print(asyncio.run(passwords.hash_password('richtig-langes-Passwort')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_the_first_password_check_makes_the_dummy_hash_for_any_address() -> None:
    """In a fresh interpreter: importing the app hashes nothing (argon2's 64 MiB would be
    every worker's peak); the first check of a password makes the dummy hash with the app's
    parameters, for an existing account as for an unknown address, so even the first
    attempt's time tells nothing about which accounts exist."""
    import subprocess
    import sys

    code = (
        "import asyncio, core.app; from core.accounts import passwords as p;"
        "print(p._DUMMY_HASH);"
        "real = asyncio.run(p.hash_password('richtig-langes-Passwort'));"
        "print(p._DUMMY_HASH);"
        "print(asyncio.run(p.verify_password(real, 'richtig-langes-Passwort')));"
        "print(p._DUMMY_HASH.split('$')[3]);"
        "p._DUMMY_HASH = None;"
        "print(asyncio.run(p.verify_password(None, 'richtig-langes-Passwort')));"
        "print(p._DUMMY_HASH.split('$')[3])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [
        "None", "None", "True", "m=65536,t=3,p=4", "False", "m=65536,t=3,p=4"
    ]  # fmt: skip


def test_the_cli_creates_lists_and_changes_accounts(database_url: str) -> None:
    from click.testing import CliRunner

    from core.cli import main

    settings = make_settings(database_url, FIXTURE_CONTENT)
    env = {
        "DATABASE_URL": settings.database_url,
        "MENTORING40_CONTENT_DIR": str(settings.content_dir),
        "MENTORING40_LOAD_PLUGINS": "",
    }
    runner = CliRunner()
    made = runner.invoke(
        main, ["users", "create", "Chefin@Example.org", "--role", "admin", "--name", "Chefin"],
        input=PASSWORD + "\n", env=env,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert PASSWORD not in made.output
    short = runner.invoke(
        main, ["users", "create", "b@example.org", "--role", "redaktion"], input="kurz\n", env=env
    )
    assert short.exit_code != 0
    assert "password must have 12" in short.output
    unknown = runner.invoke(
        main, ["users", "create", "c@example.org", "--role", "redaktion", "--sources", "mars"],
        input=PASSWORD + "\n", env=env,
    )  # fmt: skip
    assert unknown.exit_code != 0
    assert "unknown source 'mars'" in unknown.output
    ok = runner.invoke(
        main, ["users", "create", "c@example.org", "--role", "redaktion", "--sources", "core"],
        input=PASSWORD + "\n", env=env,
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    again = runner.invoke(
        main, ["users", "create", "c@example.org", "--role", "admin"], input=PASSWORD + "\n",
        env=env,
    )  # fmt: skip
    assert "exists" in again.output
    role = runner.invoke(main, ["users", "set-role", "c@example.org", "freigabe"], env=env)
    assert role.exit_code == 0, role.output
    listed = runner.invoke(main, ["users", "list"], env=env).output
    assert "chefin@example.org  admin  sources=-  active" in listed
    assert "c@example.org  freigabe  sources=core  active" in listed
    last = runner.invoke(main, ["users", "disable", "chefin@example.org"], env=env)
    assert last.exit_code != 0
    assert "last active admin" in last.output
    # The CLI's password is the one the sign-in page takes.
    with editor_client(settings) as client:
        sign_in(client, "chefin@example.org")
        assert "Chefin" in client.get("/redaktion").text
