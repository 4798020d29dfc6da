"""Plumbing shared by the console's pages: who is signed in, CSRF, forms, rendering, and errors as pages.

* :func:`signed_in` (``Coordinator``): the console session the ``rota_console`` cookie names, with its
  site; without one, GET pages redirect to the sign-in page.
* Every POST carries the session's CSRF token in a hidden ``csrf`` field (:func:`checked`, ``Checked``):
  missing or wrong is refused with 403.
* :func:`install_error_pages` turns the errors of the service and store functions into pages: NotFoundError is
  a 404 page (another site's ids are exactly as unknown as ids that do not exist), ConflictError a 409
  page saying why, a refused CSRF token 403. Bad form values never get here: each page re-renders its
  form with the message beside the field (:class:`FormErrors`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.console import i18n
from api.deps import DB
from scheduler.domain.errors import ConflictError, FieldProblem, InputError, NotFoundError
from scheduler.store import console_sessions
from scheduler.store import sites as site_store
from scheduler.store.db import utcnow
from scheduler.store.health_audit import Actor

SESSION_COOKIE = "rota_console"
#: Before sign-in there is no session: the sign-in forms' CSRF token is a cookie of its own
#: (double submit), checked against the hidden field.
PRESESSION_COOKIE = "rota_console_csrf"
PREFIX = "/console"
#: Form values longer than this are refused beside their field.
MAX_FIELD = 2000


class SignInRequired(Exception):
    pass


class CsrfRefused(Exception):
    pass


def locale_of(request: Request) -> str:
    return i18n.pick_locale(request.cookies.get(i18n.LANG_COOKIE), request.headers.get("accept-language"))


def gettext_of(request: Request) -> Callable[[str], str]:
    return i18n.translator(locale_of(request)).gettext


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=PREFIX, httponly=True, samesite="strict", secure=secure(request)
    )


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    *,
    who: Coordinator | None = None,
    locale: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page in the request's language (or ``locale``). ``who``: the signed-in coordinator (the header
    shows their site and the sign-out form)."""
    locale = locale or locale_of(request)
    env = i18n.environment(locale)
    html = env.get_template(template).render(
        request_path=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        who=who,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    )
    return response


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None, default: str = f"{PREFIX}/today") -> str:
    """Only a path of the console itself (never another host: no open redirect)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


# ---------------------------------------------------------------------------------- who is signed in


@dataclass
class Coordinator:
    """The signed-in coordinator: their site and the CSRF token of their session."""

    site: site_store.SiteRow
    csrf: str
    session_id: int | None = None  # the console session's row id (the health audit's actor)

    @property
    def site_id(self) -> int:
        return self.site.id

    @property
    def actor(self) -> Actor:
        return Actor("console", self.session_id)


def signed_in(request: Request, session: DB) -> Coordinator:
    row = console_sessions.find_session(session, request.cookies.get(SESSION_COOKIE), utcnow())
    if row is None:
        raise SignInRequired()
    return Coordinator(site=site_store.get_site(session, row.site_id), csrf=row.csrf_token, session_id=row.id)


Signed = Annotated[Coordinator, Depends(signed_in)]


async def form_data(request: Request) -> dict[str, str]:
    """The posted form's fields (text only; the last value of a repeated field)."""
    if request.method != "POST":
        return {}
    try:
        form = await request.form()
    except Exception:  # a body that is not a form at all: treated as an empty one (CSRF refuses it)
        return {}
    return {key: value for key, value in form.items() if isinstance(value, str)}


Form = Annotated[dict[str, str], Depends(form_data)]


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and secrets.compare_digest(str(a), str(b))


def checked(who: Signed, form: Form) -> Coordinator:
    """A POST of the signed-in coordinator with their session's CSRF token (else 403)."""
    if not _same(form.get("csrf"), who.csrf):
        raise CsrfRefused()
    return who


Checked = Annotated[Coordinator, Depends(checked)]


def presession_checked(request: Request, form: Form) -> None:
    """A sign-in form: its hidden CSRF token matches the pre-session cookie (else 403)."""
    if not _same(form.get("csrf"), request.cookies.get(PRESESSION_COOKIE)):
        raise CsrfRefused()


def presession_token(request: Request) -> str:
    return request.cookies.get(PRESESSION_COOKIE) or secrets.token_urlsafe(32)


# ------------------------------------------------------------------------------------ form errors


@dataclass
class FormErrors:
    """Messages beside the fields of a form, and those that belong to no field."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)

    def of(self, name: str) -> list[str]:
        return self.fields.get(name, [])

    def absorb(self, problems: Iterable[FieldProblem], names: dict[str, str]) -> None:
        """Service problems beside the form field they name: ``names`` maps a problem's field (its
        dotted path, the longest of its leading parts that is known, or its last part) to the form field;
        the rest are general."""
        for p in problems:
            target = None
            path = p.field
            while path and target is None:
                target = names.get(path)
                cut = max(path.rfind("."), path.rfind("["))
                path = path[:cut] if cut > 0 else ""
            target = target or names.get(p.field.rsplit(".", 1)[-1])
            if target:
                self.add(target, p.message)
            else:
                self.general.append(str(p))


def clean(form: dict[str, str], name: str, errors: FormErrors, _: Callable[[str], str]) -> str:
    """A form value, stripped; too long or holding a NUL character is refused beside the field."""
    value = form.get(name, "").strip()
    if "\x00" in value:
        errors.add(name, _("must not contain a NUL character"))
        return ""
    if len(value) > MAX_FIELD:
        errors.add(name, _("is too long"))
        return ""
    return value


def parse_date(value: str, name: str, errors: FormErrors, _: Callable[[str], str]) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors.add(name, _("expected a date (YYYY-MM-DD)"))
        return None


def rollback(session: Session) -> None:
    """Undo what a refused change wrote before rendering its form again (the unit of work then commits
    nothing)."""
    session.rollback()


def refused(session: Session, who, exc: InputError | ConflictError, errors, names) -> int:
    """After a service refused a form's change: roll the request's work back, read the site again, put each
    problem beside its field (a conflict's own message on top); the status to answer with."""
    rollback(session)
    who.site = site_store.get_site(session, who.site_id)
    errors.absorb(exc.problems, names)
    if isinstance(exc, ConflictError):
        errors.general.insert(0, exc.message)
    return 409 if isinstance(exc, ConflictError) else 422


# ---------------------------------------------------------------------------------- errors as pages


def _page_for(status: int, kind: str, context: Callable[[Exception], dict[str, Any]] | None = None):
    def page(request: Request, exc: Exception) -> Response:
        return error_page(request, status, kind, **(context(exc) if context else {}))

    return page


def _signed_out(request: Request, exc: Exception) -> Response:
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"{PREFIX}/sign-in?next={quote(target, safe='')}")
    return error_page(request, 403, "signed-out")


def install_error_pages(app: FastAPI) -> None:
    """Errors under /console as pages in the request's language (elsewhere the API's problem+json).
    They are application exception handlers, so the request's unit of work has seen the error and rolled
    back before the page is rendered."""
    pages: dict[type[Exception], Callable[[Request, Exception], Response]] = {
        SignInRequired: _signed_out,
        CsrfRefused: _page_for(403, "csrf"),
        NotFoundError: _page_for(404, "not-found"),
        ConflictError: _page_for(
            409, "conflict", lambda e: {"message": e.message, "problems": [str(p) for p in e.problems]}
        ),
        InputError: _page_for(422, "invalid", lambda e: {"problems": [str(p) for p in e.problems]}),
    }
    for cls, page in pages.items():
        api_handler = app.exception_handlers.get(cls)

        async def handle(request: Request, exc: Exception, page=page, api_handler=api_handler):
            if request.url.path.startswith(PREFIX + "/") or api_handler is None:
                return page(request, exc)
            return await api_handler(request, exc)

        app.add_exception_handler(cls, handle)


def error_page(request: Request, status: int, kind: str, **context: Any) -> HTMLResponse:
    return render(request, "error.html", status, status=status, kind=kind, **context)
