"""Signing in to the console and out again, and the language switch.

* ``GET/POST /console/sign-in``: a coordinator token, checked once; the answer sets the session cookie
  (HttpOnly, SameSite=Strict, Secure over https, path /console) of a server-side console session.
* ``GET/POST /console/link/{token}``: a one-time sign-in link (``rota admin demo`` prints one). The GET
  only shows a button, so a link preview that fetches the URL does not use it up; the POST exchanges it.
* ``POST /console/sign-out`` ends the session.
* ``GET /console/lang/{locale}`` sets the language cookie and goes back.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.console import i18n
from api.console.web import (
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    Checked,
    Form,
    FormErrors,
    clean,
    gettext_of,
    presession_checked,
    presession_token,
    redirect,
    render,
    safe_next,
    set_cookie,
)
from api.deps import DB
from scheduler.store import access, console_sessions
from scheduler.store.db import utcnow

router = APIRouter(prefix="/console", include_in_schema=False)

SESSION_MAX_AGE = int(console_sessions.SESSION_LIFETIME.total_seconds())


def _sign_in_page(request: Request, status: int = 200, **context) -> Response:
    token = presession_token(request)
    response = render(request, "sign_in.html", status, csrf=token, **context)
    set_cookie(response, request, PRESESSION_COOKIE, token, max_age=3600)
    return response


def _open_session(request: Request, session, site_id: int, target: str) -> Response:
    secret, _ = console_sessions.create_session(session, site_id, utcnow())
    # a page, not a redirect: after a cross-site navigation (a link in a chat or an e-mail) a SameSite=Strict
    # cookie is only sent on the next same-site navigation
    response = render(request, "signed_in.html", target=target)
    set_cookie(response, request, SESSION_COOKIE, secret, max_age=SESSION_MAX_AGE)
    response.delete_cookie(PRESESSION_COOKIE, path="/console")
    return response


@router.get("/")
@router.get("")
def home() -> Response:
    return redirect("/console/today")


@router.get("/sign-in")
def sign_in_form(request: Request, next: str | None = None) -> Response:
    return _sign_in_page(request, target=safe_next(next), errors=FormErrors(), token_value="")


@router.post("/sign-in")
def sign_in(request: Request, session: DB, form: Form) -> Response:
    presession_checked(request, form)
    _ = gettext_of(request)
    errors = FormErrors()
    target = safe_next(form.get("next"))
    token = clean(form, "token", errors, _)
    if not errors and not token:
        errors.add("token", _("enter the coordinator token"))
    site_id = None
    if not errors:
        site_id = access.site_of_api_token(session, token)
        if site_id is None:
            errors.add("token", _("this token is not valid"))
    if errors or site_id is None:
        return _sign_in_page(request, 422, target=target, errors=errors, token_value="")
    return _open_session(request, session, site_id, target)


@router.get("/link/{token}")
def link_form(request: Request, token: str) -> Response:
    csrf = presession_token(request)
    response = render(request, "link.html", csrf=csrf, token=token, used=False)
    set_cookie(response, request, PRESESSION_COOKIE, csrf, max_age=3600)
    return response


@router.post("/link/{token}")
def link_sign_in(request: Request, token: str, session: DB, form: Form) -> Response:
    presession_checked(request, form)
    site_id = console_sessions.redeem_login_token(session, token, utcnow())
    if site_id is None:
        return render(request, "link.html", 410, token=None, used=True, csrf="")
    return _open_session(request, session, site_id, "/console/today")


@router.post("/sign-out")
def sign_out(request: Request, who: Checked, session: DB) -> Response:
    console_sessions.end_session(session, request.cookies.get(SESSION_COOKIE))
    response = redirect("/console/sign-in")
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


@router.get("/lang/{locale}")
def switch_language(request: Request, locale: str, next: str | None = None) -> Response:
    response = redirect(safe_next(next))
    if locale in i18n.LOCALES:
        response.set_cookie(
            i18n.LANG_COOKIE, locale, max_age=365 * 24 * 3600, path="/console", samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response
