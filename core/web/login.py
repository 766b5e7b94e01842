"""Signing in and out of the editor: /anmelden, /abmelden, /abmelden/ueberall; and the
answers of the role guard (sign in first, not your role, form expired).

Sign-in starts a new session every time (the session of a cookie sent along ends), so a
session id planted before sign-in is worth nothing. The answer to a wrong address, a
wrong password and a disabled account is the same, in the same time; throttling counts
the address entered, whether or not it has an account.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, urlsplit

from litestar import Response, get, post
from litestar.datastructures import Cookie

from core.accounts import audit, current_account
from core.accounts.guard import CsrfRefused, RoleRefused, SignInRequired
from core.accounts.service import Limits, SignInRefused, authenticate
from core.accounts.sessions import COOKIE, end_all_sessions, end_session, start_session
from core.http.input_checks import SINGLE_PARAMS
from core.http.problems import problem_response
from core.web.base import Req, render, workspace
from core.web.forms import posted_from_elsewhere
from core.web.redaktion import editor_page

log = logging.getLogger("mentoring40.web")

HOME = "/redaktion"
WRONG = "E-Mail-Adresse oder Passwort stimmen nicht. Bitte prüfen Sie beide Angaben."
MAX_FIELD = 1000


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a path on this server only (never another host)."""
    if not target or len(target) > 2000 or not target.startswith("/"):
        return HOME
    if target.startswith(("//", "/\\")) or any(c in target for c in "\r\n\t\\"):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return HOME
    return target


def _cookie(request: Req, token: str, *, max_age: int) -> Cookie:
    settings = request.app.state.settings
    return Cookie(
        key=COOKIE,
        value=token,
        path="/",
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def _login_form(
    request: Req,
    *,
    status: int = 200,
    email: str = "",
    message: str | None = None,
    next_path: str = HOME,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    notice = None
    if request.query_params.get("abgemeldet") == "1":
        notice = "Sie sind abgemeldet."
    elif request.query_params.get("abgemeldet") == "alle":
        notice = "Sie sind auf allen Geräten abgemeldet."
    return editor_page(
        request,
        "redaktion/anmelden.html",
        status=status,
        headers=headers,
        title="Anmelden",
        email=email,
        message=message,
        notice=notice,
        next_path=next_path,
    )


@get(
    "/anmelden",
    opt={"account": True, SINGLE_PARAMS: ("next", "abgemeldet")},
    include_in_schema=False,
)
async def sign_in_form(request: Req) -> Response[str]:
    return _login_form(request, next_path=safe_next(request.query_params.get("next")))


@post("/anmelden", opt={"account": True}, include_in_schema=False, status_code=200)
async def sign_in(request: Req) -> Response[str]:
    if (elsewhere := posted_from_elsewhere(request, workspace(request))) is not None:
        log.info("Sign-in post from another origin refused: %r", elsewhere[:200])
        return _login_form(
            request, status=403,
            message="Die Anmeldung ist nur auf dieser Seite möglich. Bitte laden Sie sie neu.",
        )  # fmt: skip
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    form: Any = await request.form() if content_type == "application/x-www-form-urlencoded" else {}
    email = str(form.get("email") or "")[:MAX_FIELD]
    password = str(form.get("password") or "")[:MAX_FIELD]
    next_path = safe_next(str(form.get("next") or ""))
    if not email.strip() or not password:
        return _login_form(
            request, status=422, email=email, next_path=next_path,
            message="Bitte geben Sie E-Mail-Adresse und Passwort ein.",
        )  # fmt: skip
    settings = request.app.state.settings
    limits = Limits(
        per_account=settings.login_failures_per_account,
        per_address=settings.login_failures_per_address,
        lock_minutes=settings.login_lock_minutes,
    )
    address = request.client.host if request.client else ""
    try:
        account = await authenticate(email, password, address, limits)
    except SignInRefused as refused:
        if refused.retry_after:
            await audit.record("login.throttled", email=email, request=request)
            minutes = max(1, (refused.retry_after + 59) // 60)
            return _login_form(
                request, status=429, email=email, next_path=next_path,
                headers={"Retry-After": str(refused.retry_after)},
                message="Zu viele fehlgeschlagene Anmeldeversuche. Die Anmeldung ist für "
                f"{minutes} Minute{'n' if minutes != 1 else ''} gesperrt; bitte versuchen "
                "Sie es danach erneut.",
            )  # fmt: skip
        await audit.record("login.failed", email=email, request=request)
        return _login_form(request, status=422, email=email, next_path=next_path, message=WRONG)
    if old := request.cookies.get(COOKIE):
        await end_session(old)  # rotation: never keep a session that existed before
    token, _csrf = await start_session(account.id, settings.session_hours)
    await audit.record("login", account=account, request=request)
    response: Response[str] = Response(
        "", status_code=303, headers={"Location": next_path, "Cache-Control": "no-store"}
    )
    response.set_cookie(_cookie(request, token, max_age=settings.session_hours * 3600))
    return response


def _signed_out(request: Req, where: str) -> Response[str]:
    response: Response[str] = Response(
        "", status_code=303, headers={"Location": where, "Cache-Control": "no-store"}
    )
    response.set_cookie(_cookie(request, "", max_age=0))
    return response


@post("/abmelden", opt={"roles": "any"}, include_in_schema=False, status_code=303)
async def sign_out(request: Req) -> Response[str]:
    await end_session(request.cookies.get(COOKIE, ""))
    await audit.record("logout", account=current_account(request), request=request)
    return _signed_out(request, "/anmelden?abgemeldet=1")


@post("/abmelden/ueberall", opt={"roles": "any"}, include_in_schema=False, status_code=303)
async def sign_out_everywhere(request: Req) -> Response[str]:
    account = current_account(request)
    assert account is not None  # the guard let only a signed-in account through
    ended = await end_all_sessions(account.id)
    await audit.record(
        "logout.everywhere", account=account, detail={"sessions": ended}, request=request
    )
    return _signed_out(request, "/anmelden?abgemeldet=alle")


# -- the guard's answers (registered by the app factory) ----------------------------------


def _is_api(request: Req) -> bool:
    return request.url.path.startswith("/api/")


def on_sign_in_required(request: Req, exc: SignInRequired) -> Response[Any]:
    if _is_api(request):
        return problem_response(
            request, 401, "This route needs a signed-in editor session (or an API key).",
            headers={"WWW-Authenticate": 'Bearer realm="mentoring40"'},
        )  # fmt: skip
    target = request.url.path
    if request.url.query:
        target = f"{target}?{request.url.query}"
    where = "/anmelden" if target == HOME else f"/anmelden?next={quote(target, safe='/')}"
    if request.method not in {"GET", "HEAD"}:
        where = "/anmelden"  # a form post cannot be repeated by a redirect
    return Response("", status_code=303, headers={"Location": where, "Cache-Control": "no-store"})


def on_role_refused(request: Req, exc: RoleRefused) -> Response[Any]:
    if _is_api(request):
        return problem_response(request, 403, f"The role {exc.account.role!r} may not do this.")
    return editor_page(
        request,
        "redaktion/verweigert.html",
        status=403,
        title="Nicht erlaubt",
        message=f"Ihre Rolle „{exc.account.role_label}“ erlaubt diese Seite nicht. "
        "Wenn Sie sie brauchen, wenden Sie sich an die Administration.",
    )


def on_csrf_refused(request: Req, exc: CsrfRefused) -> Response[Any]:
    if _is_api(request):
        return problem_response(
            request, 403, "Missing or wrong CSRF token: send the header X-CSRF-Token."
        )
    return render(
        workspace(request),
        "error.html",
        status=403,
        cache="no-store",
        title="Formular abgelaufen",
        message="Dieses Formular ist abgelaufen oder wurde nicht von dieser Seite "
        "abgeschickt. Bitte laden Sie die Seite neu und senden Sie es erneut ab.",
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    SignInRequired: on_sign_in_required,
    RoleRefused: on_role_refused,
    CsrfRefused: on_csrf_refused,
}
ROUTES: list[Any] = [sign_in_form, sign_in, sign_out, sign_out_everywhere]
