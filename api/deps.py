"""Request plumbing shared by the route modules: the database session, the coordinator's site, ids in
paths, ETags and links.

FastAPI runs a plain ``def`` dependency in its thread pool, one hand-over to a thread and back per
dependency and request (about as much CPU as a cached feed's query); the dependencies that only compute
(no database, no file) are ``async def`` and run on the event loop instead. Those that read the
database stay ``def``.

Access control: every ``/sites/{site_id}/...`` route depends on :func:`coordinator_site`, which wants a
coordinator token (``Authorization: Bearer ...``) *of that site*. Without a valid token the answer is
401; a valid token of another site gets 404, exactly as for a site that does not exist, so ids do not
leak.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api.errors import Forbidden, PreconditionRequired, Unauthorized
from scheduler.domain import scenario as sc
from scheduler.domain.errors import ConflictError, NotFoundError
from scheduler.settings import Settings
from scheduler.store import access, sites
from scheduler.store.db import unit_of_work
from scheduler.store.health_audit import Actor

#: Largest integer id in a path: beyond it nothing can exist (and PostgreSQL's integer would overflow).
MAX_ID = 2**31 - 1
_KEY = TypeAdapter(sc.Id)

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="coordinator token",
    description="A coordinator token of the site (`rota admin create-token --site ID`)",
)


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: one transaction, committed when the route returns (before the response
    is sent, so a failed commit is the client's error, not a lost write) and rolled back if it raises."""
    with unit_of_work(request.app.state.sessions) as session:
        yield session


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


# scope='function': the commit runs when the route returns, before the response goes out
DB = Annotated[Session, Depends(get_session, scope="function")]
Config = Annotated[Settings, Depends(get_settings)]


def api_token(
    session: DB, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> access.ApiTokenRow:
    """The request's coordinator token (401 without one that is valid now: unknown, revoked and expired
    tokens get the same answer). Its last use is recorded."""
    if credentials is None:
        raise Unauthorized("a coordinator token is required: Authorization: Bearer <token>")
    row = access.api_token(session, credentials.credentials)
    if row is None:
        raise Unauthorized("the token is not valid (unknown, revoked or expired)")
    return row


Token = Annotated[access.ApiTokenRow, Depends(api_token)]


async def token_site_id(token: Token) -> int:
    """The site the request's coordinator token opens (401 without a valid one)."""
    return token.site_id


TokenSite = Annotated[int, Depends(token_site_id)]


async def admin_token(token: Token) -> access.ApiTokenRow:
    """An admin token (403 for a coordinator token without the admin role)."""
    if not token.admin:
        raise Forbidden(
            "this needs an admin token (rota admin create-token --site ID --admin, or the token returned "
            "when a site is created)"
        )
    return token


AdminToken = Annotated[access.ApiTokenRow, Depends(admin_token)]


def actor_of(token: access.ApiTokenRow) -> Actor:
    """Who a request with ``token`` acts as, for the health audit log: the coordinator token's row id."""
    return Actor("token", token.id)


async def token_actor(token: Token) -> Actor:
    return actor_of(token)


Who = Annotated[Actor, Depends(token_actor)]


def check_id(value: int, what: str) -> int:
    if not 0 < value <= MAX_ID:
        raise NotFoundError(f"{what} {value}")
    return value


def check_key(value: str, what: str) -> str:
    """A post or volunteer id from a path: one that cannot be an id cannot exist (404)."""
    try:
        return _KEY.validate_python(value)
    except ValidationError:
        raise NotFoundError(what) from None


def coordinator_site(site_id: int, token_site: TokenSite, session: DB) -> sites.SiteRow:
    """The site in the path, if the request's coordinator token is one of its tokens."""
    check_id(site_id, "site")
    if token_site != site_id:
        raise NotFoundError(f"site {site_id}")
    return sites.get_site(session, site_id)


Site = Annotated[sites.SiteRow, Depends(coordinator_site)]

T = TypeVar("T")


class CoordinatorUnit:
    """The request's unit of work with its coordinator checks done: ``session``, ``site`` and ``who``
    as ``DB``, ``Site`` and ``Who`` give them (see :func:`coordinator_unit`)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._unit = unit_of_work(sessions)
        self._open = False
        self.session: Session
        self.site: sites.SiteRow
        self.who: Actor

    def open(self, credentials: HTTPAuthorizationCredentials | None, site_id: int) -> None:
        self.session = self._unit.__enter__()
        self._open = True
        token = api_token(self.session, credentials)
        self.site = coordinator_site(site_id, token.site_id, self.session)
        self.who = actor_of(token)

    async def run(self, work: Callable[[Session, sites.SiteRow, Actor], T]) -> T:
        """``work(session, site, who)``, then the commit (rolled back if either raises), in one hand-over
        to the thread pool."""
        return await run_in_threadpool(self._run, work)

    def _run(self, work):
        try:
            result = work(self.session, self.site, self.who)
        except BaseException as error:
            self.close(error)
            raise
        self._open = False
        self._unit.__exit__(None, None, None)  # commit (and close)
        return result

    def close(self, error: BaseException | None = None) -> None:
        """Roll back and close a unit that did not commit (nothing if it did, or never opened)."""
        if self._open:
            self._open = False
            error = error or RuntimeError("the request ended before its unit of work committed")
            try:
                self._unit.__exit__(type(error), error, error.__traceback__)
            except BaseException as raised:  # noqa: BLE001 - unit_of_work re-raises what it was given
                if raised is not error:
                    raise


async def coordinator_unit(
    request: Request,
    site_id: int,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> AsyncIterator[CoordinatorUnit]:
    """What ``DB``, ``Site`` and ``Who`` give a route, in one hand-over to the thread pool instead of five
    (the session's opening and closing, the token, the site; a ``def`` route adds two more: itself and
    the validation of its response). For a hot write (a health update: ``docs/BENCHMARKS.md``, "Load
    test") those hand-overs are most of its CPU. The checks and answers are those of :func:`api_token`
    and :func:`coordinator_site` (401 before anything else, 404 for another site's token); the route
    does its work with :meth:`CoordinatorUnit.run`, which commits before the response goes out. A
    request that fails before (an invalid body) or in it is rolled back."""
    unit = CoordinatorUnit(request.app.state.sessions)
    try:
        await run_in_threadpool(unit.open, credentials, site_id)
        yield unit
    finally:
        if unit._open:
            await run_in_threadpool(unit.close)


Unit = Annotated[CoordinatorUnit, Depends(coordinator_unit)]
IfMatch = Annotated[
    str | None,
    Header(description="ETag from a previous read: the change is refused (409) if it has changed since"),
]


def etag(row) -> str:
    """A resource's ETag: its row id and version (a re-created resource gets a new one)."""
    return f'"{row.id}.{row.version}"'


def check_if_match(if_match: str | None, row) -> None:
    """Optimistic concurrency: when the client sends ``If-Match``, it must name the current version."""
    if if_match is None:
        return
    current = etag(row)
    tags = [t.strip() for t in if_match.split(",")]
    if "*" in tags or current in tags:
        return
    raise ConflictError(
        f"it was changed meanwhile (your If-Match is {if_match[:80]!r}, the current ETag is {current}): "
        "read it again and retry"
    )


def require_if_match(if_match: str | None, row) -> None:
    """``If-Match`` is required (428 without it) and must name the current version (409)."""
    if if_match is None:
        raise PreconditionRequired(
            f"this change needs If-Match with the current ETag ({etag(row)}, from a GET): it cannot be undone"
        )
    check_if_match(if_match, row)


def keep_cancelled(settings: Settings) -> dt.timedelta:
    """How long a removed shift stays in the feeds as CANCELLED."""
    return dt.timedelta(days=settings.calendar_keep_cancelled_days)


def refresh(settings: Settings) -> dt.timedelta:
    return dt.timedelta(minutes=settings.calendar_refresh_minutes)


def site_path(site_id: int) -> str:
    return f"/sites/{site_id}"
