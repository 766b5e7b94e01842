"""Accounts for admins: /redaktion/konten (list, create with an initial password, change
role, sources and name, set a password, disable and enable). Every change is recorded
in the audit log; the domain rules (roles, sources, the last admin) are
core.accounts.service's, said here in German."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from core.accounts import ROLES, audit, current_account
from core.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from core.accounts.service import (
    AccountError,
    AccountRecord,
    create_account,
    disable_account,
    enable_account,
    find_account,
    list_accounts,
    set_password,
    update_account,
)
from core.accounts.sessions import end_all_sessions
from core.content import queries
from core.web.base import Req
from core.web.redaktion import editor_page, first, form_fields, see_other

ADMIN: dict[str, Any] = {"roles": ("admin",)}
MAX_ACCOUNT_ID = 2**31 - 1

MESSAGES = {
    "email_invalid": "Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@example.org.",
    "email_taken": "Für diese E-Mail-Adresse gibt es schon ein Konto.",
    "password_blank": "Bitte geben Sie ein Passwort ein.",
    "password_short": f"Das Passwort braucht mindestens {MIN_LENGTH} Zeichen.",
    "password_long": f"Das Passwort darf höchstens {MAX_LENGTH} Zeichen haben.",
    "role_unknown": "Bitte wählen Sie eine der angebotenen Rollen.",
    "source_unknown": "Bitte wählen Sie nur angebotene Quellen.",
    "name_long": "Der Name darf höchstens 120 Zeichen haben.",
    "not_found": "Dieses Konto gibt es nicht.",
    "last_admin": "Das ist das letzte aktive Administrationskonto. Legen Sie zuerst ein "
    "weiteres an, bevor Sie diesem die Rolle nehmen oder es sperren.",
    "password_mismatch": "Die beiden Passwörter stimmen nicht überein.",
}


async def _sources() -> dict[str, str]:
    """The content packs of the last sync: name -> label."""
    return (await queries.taxonomy_labels()).get("source", {})


def _account_id(raw: int) -> int | None:
    return raw if 0 < raw <= MAX_ACCOUNT_ID else None


@get("/redaktion/konten", opt=ADMIN, include_in_schema=False)
async def accounts_list(request: Req) -> Response[str]:
    return editor_page(
        request,
        "redaktion/konten.html",
        title="Konten",
        accounts=await list_accounts(),
        saved=request.query_params.get("gespeichert"),
    )


async def _new_form(
    request: Req,
    *,
    status: int = 200,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Response[str]:
    return editor_page(
        request,
        "redaktion/konto_neu.html",
        status=status,
        title="Neues Konto",
        roles=ROLES,
        sources=await _sources(),
        values=values or {"role": "redaktion", "sources": []},
        errors=errors or {},
        min_length=MIN_LENGTH,
    )


@get("/redaktion/konten/neu", opt=ADMIN, include_in_schema=False)
async def account_new(request: Req) -> Response[str]:
    return await _new_form(request)


@post("/redaktion/konten/neu", opt=ADMIN, include_in_schema=False, status_code=200)
async def account_create(request: Req) -> Response[str]:
    fields = await form_fields(request)
    values: dict[str, Any] = {
        "email": first(fields, "email").strip(),
        "display_name": first(fields, "display_name"),
        "role": first(fields, "role"),
        "sources": fields.get("sources", []),
    }
    password, repeated = first(fields, "password"), first(fields, "password_repeat")
    if password != repeated:
        errors = {"password": MESSAGES["password_mismatch"]}
        return await _new_form(request, status=422, values=values, errors=errors)
    try:
        account = await create_account(
            values["email"], password, values["role"], sources=values["sources"],
            display_name=values["display_name"], known_sources=set(await _sources()),
        )  # fmt: skip
    except AccountError as exc:
        errors = {exc.field: MESSAGES.get(exc.code, str(exc))}
        return await _new_form(request, status=422, values=values, errors=errors)
    await audit.record(
        "account.create", account=current_account(request), object_type="account",
        object_id=account.email, detail={"role": account.role, "sources": account.sources},
        request=request,
    )  # fmt: skip
    return see_other(f"/redaktion/konten/{account.id}?gespeichert=angelegt")


async def _edit_page(
    request: Req,
    account: AccountRecord,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response[str]:
    saved = {
        "angelegt": "Das Konto ist angelegt.",
        "geaendert": "Die Änderungen sind gespeichert.",
        "passwort": "Das neue Passwort ist gesetzt; alle Sitzungen des Kontos sind beendet.",
        "gesperrt": "Das Konto ist gesperrt; seine Sitzungen sind beendet.",
        "entsperrt": "Das Konto ist wieder aktiv.",
        "abgemeldet": "Das Konto ist auf allen Geräten abgemeldet.",
    }.get(request.query_params.get("gespeichert") or "")
    return editor_page(
        request,
        "redaktion/konto.html",
        status=status,
        title=f"Konto {account.email}",
        subject=account,
        roles=ROLES,
        sources=await _sources(),
        values=values
        or {"role": account.role, "sources": account.sources, "display_name": account.display_name},
        errors=errors or {},
        saved=saved,
        min_length=MIN_LENGTH,
    )


def _no_account(request: Req) -> Response[str]:
    return editor_page(
        request, "redaktion/verweigert.html", status=404, title="Nicht gefunden",
        message="Dieses Konto gibt es nicht (mehr).",
    )  # fmt: skip


async def _subject(account_id: int) -> AccountRecord | None:
    found = _account_id(account_id)
    return await find_account(found) if found is not None else None


@get("/redaktion/konten/{account_id:int}", opt=ADMIN, include_in_schema=False)
async def account_edit(request: Req, account_id: FromPath[int]) -> Response[str]:
    account = await _subject(account_id)
    return await _edit_page(request, account) if account else _no_account(request)


@post("/redaktion/konten/{account_id:int}", opt=ADMIN, include_in_schema=False, status_code=200)
async def account_update(request: Req, account_id: FromPath[int]) -> Response[str]:
    account = await _subject(account_id)
    if account is None:
        return _no_account(request)
    fields = await form_fields(request)
    values: dict[str, Any] = {
        "role": first(fields, "role"),
        "sources": fields.get("sources", []),
        "display_name": first(fields, "display_name"),
    }
    try:
        updated, changed = await update_account(
            account.id, role=values["role"], sources=values["sources"],
            display_name=values["display_name"], known_sources=set(await _sources()),
        )  # fmt: skip
    except AccountError as exc:
        errors = {exc.field: MESSAGES.get(exc.code, str(exc))}
        return await _edit_page(request, account, status=422, errors=errors, values=values)
    if changed:
        await audit.record(
            "account.update", account=current_account(request), object_type="account",
            object_id=updated.email, detail=dict(changed), request=request,
        )  # fmt: skip
    return see_other(f"/redaktion/konten/{account.id}?gespeichert=geaendert")


@post(
    "/redaktion/konten/{account_id:int}/passwort",
    opt=ADMIN,
    include_in_schema=False,
    status_code=200,
)
async def account_password(request: Req, account_id: FromPath[int]) -> Response[str]:
    account = await _subject(account_id)
    if account is None:
        return _no_account(request)
    fields = await form_fields(request)
    password, repeated = first(fields, "password"), first(fields, "password_repeat")
    try:
        if password != repeated:
            raise AccountError("password_mismatch", "password", "the passwords differ")
        await set_password(account.id, password)
    except AccountError as exc:
        errors = {"password": MESSAGES.get(exc.code, str(exc))}
        return await _edit_page(request, account, status=422, errors=errors)
    await audit.record(
        "account.password", account=current_account(request), object_type="account",
        object_id=account.email, request=request,
    )  # fmt: skip
    return see_other(f"/redaktion/konten/{account.id}?gespeichert=passwort")


async def _state_change(request: Req, account_id: int, action: str) -> Response[str]:
    account = await _subject(account_id)
    if account is None:
        return _no_account(request)
    try:
        if action == "account.disable":
            await disable_account(account.id)
        elif action == "account.enable":
            await enable_account(account.id)
        else:
            await end_all_sessions(account.id)
    except AccountError as exc:
        errors = {"state": MESSAGES.get(exc.code, str(exc))}
        return await _edit_page(request, account, status=422, errors=errors)
    await audit.record(
        action, account=current_account(request), object_type="account",
        object_id=account.email, request=request,
    )  # fmt: skip
    done = {"account.disable": "gesperrt", "account.enable": "entsperrt"}.get(action, "abgemeldet")
    return see_other(f"/redaktion/konten/{account.id}?gespeichert={done}")


@post("/redaktion/konten/{account_id:int}/sperren", opt=ADMIN, include_in_schema=False)
async def account_disable(request: Req, account_id: FromPath[int]) -> Response[str]:
    return await _state_change(request, account_id, "account.disable")


@post("/redaktion/konten/{account_id:int}/entsperren", opt=ADMIN, include_in_schema=False)
async def account_enable(request: Req, account_id: FromPath[int]) -> Response[str]:
    return await _state_change(request, account_id, "account.enable")


@post("/redaktion/konten/{account_id:int}/abmelden", opt=ADMIN, include_in_schema=False)
async def account_sign_out(request: Req, account_id: FromPath[int]) -> Response[str]:
    return await _state_change(request, account_id, "account.sessions_ended")


ROUTES: list[Any] = [
    accounts_list,
    account_new,
    account_create,
    account_edit,
    account_update,
    account_password,
    account_disable,
    account_enable,
    account_sign_out,
]
