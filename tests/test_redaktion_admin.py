"""The admin pages of the editor (issue 15, items 1 and 5), on SQLite and PostgreSQL:
accounts at /redaktion/konten, partner sites at /redaktion/partnerseiten (changes reach
embeds, CSP and CORS without a restart, also in another worker), the audit log at
/redaktion/protokoll and its CSV export."""

from __future__ import annotations

import csv
import io
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar.testing import TestClient

from core.app import create_app
from core.plugins import build_registry
from core.settings import Settings
from core.web.site_store import SiteValues, save_site
from tests.accounts_support import PASSWORD, SignedIn, reset_schema, sign_in, signed_in, use
from tests.conftest import FIXTURE_CONTENT, make_settings, run, sync
from tests.web_support import Client, csp_directives, page_of, write_site

SITE = "werkzeugkasten"


@dataclass
class Admin:
    client: Client
    admin: SignedIn
    settings: Settings


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def module_admin(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Admin]:
    """One app and database per module and engine, with the only admin account; the
    tests use accounts and sites of their own (or put back what they change)."""
    tmp = tmp_path_factory.mktemp("redaktion")
    content = tmp / "content"
    shutil.copytree(FIXTURE_CONTENT, content)
    write_site(content, SITE, "label: Werkzeugkasten\norigins: [https://partner.example]\n")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'redaktion.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_database")
        run(reset_schema(url))
    settings = make_settings(url, content, sites_refresh_seconds=1)
    registry = build_registry(settings, load_installed=False)
    sync(settings, registry)
    with TestClient(create_app(settings, registry)) as client:
        yield Admin(client, signed_in(client, "admin", display_name="Ada Admin"), settings)


@pytest.fixture
def admin(module_admin: Admin) -> Admin:
    """The module's app, signed in as its admin."""
    use(module_admin.admin)
    return module_admin


def post(a: Admin, path: str, data: dict[str, Any]) -> Any:
    return a.client.post(
        path, data={**a.admin.form, **data}, headers={"Accept": "text/html"},
        follow_redirects=False,
    )  # fmt: skip


def test_an_admin_creates_changes_and_disables_an_account(admin: Admin) -> None:
    a = admin
    form = page_of(a.client.get("/redaktion/konten/neu"))
    assert form.find("label", for_="email").text() == "E-Mail-Adresse"
    new = {
        "email": "Redakteurin@Example.org", "display_name": "Rita Redakteurin",
        "role": "redaktion", "sources": ["core"], "password": PASSWORD,
        "password_repeat": PASSWORD + "x",
    }  # fmt: skip
    refused = page_of(post(a, "/redaktion/konten/neu", new), 422)
    assert "stimmen nicht überein" in refused.find("p", class_="field-error").text()
    assert refused.find("input", name="email").attrs["value"] == "Redakteurin@Example.org"
    short_password = {**new, "password": "kurz", "password_repeat": "kurz"}
    short = page_of(post(a, "/redaktion/konten/neu", short_password), 422)
    assert "mindestens 12 Zeichen" in short.text()
    made = post(a, "/redaktion/konten/neu", {**new, "password_repeat": PASSWORD})
    assert made.status_code == 303
    page = page_of(a.client.get(made.headers["location"]))
    assert "Das Konto ist angelegt." in page.find(role="status").text()
    assert page.find("input", id="sources-core").attrs.get("checked") is not None
    listed = page_of(a.client.get("/redaktion/konten")).text()
    assert "redakteurin@example.org" in listed
    assert "Rita Redakteurin" in listed
    account_path = made.headers["location"].split("?")[0]

    # She can sign in; then the admin makes her "freigabe" and sets a new password.
    client = a.client

    def as_her(password: str = PASSWORD) -> dict[str, str]:
        sign_in(client, "redakteurin@example.org", password)
        return dict(client.cookies.items())

    def signed_in_as(cookies: dict[str, str]) -> Any:
        client.cookies.clear()
        for name, value in cookies.items():
            client.cookies.set(name, value)
        return client.get("/redaktion", follow_redirects=False)

    her = as_her()
    assert "Redaktion" in page_of(signed_in_as(her)).find("div", class_="signed-in").text()
    use(a.admin)
    changed = post(a, account_path, {"role": "freigabe", "sources": ["core"],
                                      "display_name": "Rita R."})  # fmt: skip
    assert changed.status_code == 303
    # The role applies to her running session at once.
    assert "Freigabe" in page_of(signed_in_as(her)).find("div", class_="signed-in").text()
    use(a.admin)
    new_password = "ein-anderes-langes-Passwort"
    reset = post(a, f"{account_path}/passwort",
                 {"password": new_password, "password_repeat": new_password})  # fmt: skip
    assert reset.status_code == 303
    assert signed_in_as(her).status_code == 303  # her sessions ended
    her = as_her(new_password)
    use(a.admin)
    assert post(a, f"{account_path}/sperren", {}).status_code == 303
    assert signed_in_as(her).status_code == 303
    client.cookies.clear()
    denied = client.post("/anmelden", data={"email": "redakteurin@example.org",
                                            "password": new_password})  # fmt: skip
    assert denied.status_code == 422
    use(a.admin)
    listed = page_of(a.client.get("/redaktion/konten")).text()
    assert "gesperrt seit" in listed


def test_the_last_admin_cannot_lock_everybody_out(admin: Admin) -> None:
    a = admin
    me = f"/redaktion/konten/{a.admin.account.id}"
    refused = page_of(post(a, f"{me}/sperren", {}), 422)
    assert "letzte aktive Administrationskonto" in refused.find(role="alert").text()
    demoted = page_of(post(a, me, {"role": "redaktion", "display_name": ""}), 422)
    assert "letzte aktive Administrationskonto" in demoted.text()
    assert a.client.get("/redaktion/konten").status_code == 200


def test_a_new_partner_site_is_embeddable_from_its_origin_at_once(admin: Admin) -> None:
    a = admin
    origin = "https://neu-partner.example"
    assert a.client.get("/embed/neupartner/search").status_code == 404
    bad = post(a, "/redaktion/partnerseiten/neu", {
        "site_id": "neupartner", "label": "Neuer Partner", "theme": "default",
        "origins": f"{origin}\nhttps://Example.org/pfad", "language": "de", "active": "1",
    })  # fmt: skip
    page = page_of(bad, 422)
    error = page.find("p", id="origins-fehler").text()
    assert "„https://Example.org/pfad“" in error
    assert "https://Example.org/pfad" in page.find("textarea", id="origins").text()  # kept
    made = post(a, "/redaktion/partnerseiten/neu", {
        "site_id": "neupartner", "label": "Neuer Partner", "theme": "default",
        "origins": f"{origin}\n", "sources": ["core"], "language": "de", "active": "1",
    })  # fmt: skip
    assert made.status_code == 303, made.text[:500]
    embed = a.client.get("/embed/neupartner/search", headers={"Origin": origin})
    assert embed.status_code == 200
    assert origin in csp_directives(embed)["frame-ancestors"]
    api = a.client.get("/api/v1/entries", headers={"Origin": origin})
    assert api.headers["access-control-allow-origin"] == origin
    listed = page_of(a.client.get("/redaktion/partnerseiten")).text()
    assert "neupartner" in listed
    assert "Redaktion" in listed

    # Switched off: no embed, no CORS; removed: gone.
    off = post(a, "/redaktion/partnerseiten/neupartner", {
        "label": "Neuer Partner", "theme": "default", "origins": origin, "language": "de",
    })  # fmt: skip
    assert off.status_code == 303
    assert a.client.get("/embed/neupartner/search").status_code == 404
    api = a.client.get("/api/v1/entries", headers={"Origin": origin})
    assert "access-control-allow-origin" not in api.headers
    assert post(a, "/redaktion/partnerseiten/neupartner/entfernen", {}).status_code == 303
    assert a.client.get("/redaktion/partnerseiten/neupartner").status_code == 404


def test_an_overlay_changes_a_file_site_and_removing_it_restores_the_file(admin: Admin) -> None:
    a = admin
    form = page_of(a.client.get(f"/redaktion/partnerseiten/{SITE}"))
    assert form.find("textarea", id="origins").text() == "https://partner.example"
    changed = post(a, f"/redaktion/partnerseiten/{SITE}", {
        "label": "Werkzeugkasten", "theme": "default", "origins": "https://anderer.example",
        "language": "de", "active": "1",
    })  # fmt: skip
    assert changed.status_code == 303
    embed = a.client.get(f"/embed/{SITE}/search")
    assert csp_directives(embed)["frame-ancestors"] == ["'self'", "https://anderer.example"]
    old = a.client.get("/api/v1/entries", headers={"Origin": "https://partner.example"})
    assert "access-control-allow-origin" not in old.headers
    assert post(a, f"/redaktion/partnerseiten/{SITE}/entfernen", {}).status_code == 303
    embed = a.client.get(f"/embed/{SITE}/search")
    assert csp_directives(embed)["frame-ancestors"] == ["'self'", "https://partner.example"]


def test_a_change_made_by_another_worker_is_seen_within_the_refresh_interval(
    admin: Admin,
) -> None:
    """Another worker (or instance) writes the row; this one has not been told and must
    find it by itself, within MENTORING40_SITES_REFRESH_SECONDS (1 here)."""
    a = admin
    origin = "https://zweiter.example"
    assert a.client.get("/embed/zweiter/search").status_code == 404
    values = SiteValues(site_id="zweiter", label="Zweiter", origins=[origin])
    a.client.blocking_portal.call(lambda: save_site(values, by="anderer-worker"))
    deadline = time.monotonic() + 5
    while a.client.get("/embed/zweiter/search").status_code != 200:
        assert time.monotonic() < deadline, "the new site was never seen"
        time.sleep(0.2)
    api = a.client.get("/api/v1/entries", headers={"Origin": origin})
    assert api.headers["access-control-allow-origin"] == origin


def test_the_audit_log_lists_filters_and_exports_what_happened(admin: Admin) -> None:
    a = admin
    a.client.cookies.clear()
    a.client.post("/anmelden", data={"email": "falsch@example.org", "password": "geheim-123"})
    use(a.admin)
    post(a, "/redaktion/konten/neu", {
        "email": "neu@example.org", "role": "lotse", "password": PASSWORD,
        "password_repeat": PASSWORD,
    })  # fmt: skip
    page = page_of(a.client.get("/redaktion/protokoll"))
    rows = [row.text() for row in page.find("tbody").find_all("tr")]
    assert any("Konto angelegt" in r and "Konto neu@example.org" in r for r in rows)
    assert any("Anmeldung fehlgeschlagen" in r and "falsch@example.org" in r for r in rows)
    assert any(r.startswith(tuple("0123456789")) and "Anmeldung" in r for r in rows)
    only = page_of(a.client.get("/redaktion/protokoll?aktion=login.failed&konto=falsch@"))
    only_rows = [row.text() for row in only.find("tbody").find_all("tr")]
    assert len(only_rows) == 1
    assert "falsch@example.org" in only_rows[0]
    # What the admin types is matched literally: "_" and "%" are no wildcards.
    for query in ("konto=falsch_example", "konto=%25", "objekt=neu%25"):
        found = page_of(a.client.get(f"/redaktion/protokoll?{query}")).find("tbody").text()
        assert "Keine Ereignisse für diese Auswahl." in found, query
        assert "example.org" not in found, query
    bad_date = page_of(a.client.get("/redaktion/protokoll?von=gestern"))
    assert "kein Datum" in bad_date.find(role="alert").text()
    export = a.client.get("/redaktion/protokoll.csv?typ=account&objekt=neu@example.org")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(export.text)))
    assert table[0][:3] == ["zeit_utc", "konto", "aktion"]
    assert [r[2] for r in table[1:]] == ["account.create"]
    assert PASSWORD not in export.text
    everything = a.client.get("/redaktion/protokoll.csv").text
    assert PASSWORD not in everything
    assert "geheim-123" not in everything
    assert a.admin.csrf not in everything
