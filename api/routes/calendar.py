"""Calendar feeds (RFC 5545): a volunteer's own shifts, a post's and a whole site's.

* Calendar apps subscribe to ``/calendar/{token}.ics``: the unguessable token opens that one feed and
  nothing else. Coordinators make (or rotate: the old URL stops working) a feed URL with
  ``POST .../calendar/token`` and revoke it with ``DELETE``.
* Coordinators can also download any feed of their site with their own token.
* A feed is byte-identical while nothing in it changed, so ``If-None-Match`` gets 304. Feeds show post,
  shift, times, place, instructions and who else is on the shift; never anything about health.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api import errors
from api.deps import DB, Config, Site, refresh
from api.routes.posts import Post
from api.routes.volunteers import Volunteer
from api.schemas.calendar import FeedLink
from scheduler.domain import calendar as cal
from scheduler.domain.errors import NotFoundError
from scheduler.settings import Settings
from scheduler.store import access
from scheduler.store import calendars as calendar_store
from scheduler.store.db import utcnow

router = APIRouter(tags=["calendar"])

_ICS = {"content": {"text/calendar": {"schema": {"type": "string"}}}, "description": "An iCalendar feed"}
_FEED_RESPONSES = {200: _ICS, 304: {"description": "Not modified (If-None-Match matched the ETag)"}}


def _feed_response(request: Request, body: bytes, etag: str) -> Response:
    return _answer(request.method, request.headers.get("if-none-match"), body, etag)


def _answer(method: str, if_none_match: str | None, body: bytes, etag: str) -> Response:
    status, headers, content = _raw_answer(method, if_none_match, body, etag)
    response = Response(content=content, status_code=status)
    response.raw_headers = headers  # exactly the poll's (SubscribedFeeds sends them without a Response)
    return response


def _raw_answer(method: str, if_none_match: str | None, body: bytes, etag: str):
    """(status, raw headers, body) of a feed's answer: 304 without Content-Type or Content-Length when
    ``If-None-Match`` matches; else 200 with the feed's length (and, for HEAD, no body)."""
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in cal.feed_headers(etag).items()]
    if cal.etag_matches(if_none_match, etag):
        return 304, [h for h in headers if h[0] != b"content-type"], b""
    headers.append((b"content-length", str(len(body)).encode("latin-1")))
    return 200, headers, b"" if method == "HEAD" else body


def feed_route(path: str, summary: str, name: str | None = None):
    """GET and HEAD (calendar apps probe with HEAD) on one path; only GET is in the OpenAPI document."""

    def register(endpoint):
        common = {"response_class": Response}
        router.head(path, include_in_schema=False, **common)(endpoint)
        return router.get(path, name=name, summary=summary, responses=_FEED_RESPONSES, **common)(endpoint)

    return register


def _link(settings: Settings, token: str) -> FeedLink:
    """A feed's URL, from ROTA_PUBLIC_URL only (never from the request's Host header)."""
    url = f"{settings.base_url()}/calendar/{token}.ics"
    return FeedLink(url=url, webcal="webcal://" + url.split("://", 1)[1])


# ------------------------------------------------------------------------------------ subscribed


@feed_route("/calendar/{token}.ics", "A calendar feed, opened by its secret token", name="subscribed_feed")
async def subscribed_feed(token: str, request: Request, settings: Config) -> Response:
    """The service's hot path (every subscribed calendar app polls it): the whole read, its unit of work
    included, runs in one hand-over to the thread pool, where a ``DB`` dependency and a plain ``def``
    route would take three (open the session, the route, commit and close), each costing about as much
    CPU as the cached read itself."""
    body, etag = await run_in_threadpool(_subscribed, request.app.state.sessions, token, refresh(settings))
    return _feed_response(request, body, etag)


def _subscribed(sessions: sessionmaker[Session], token: str, every: dt.timedelta) -> tuple[bytes, str]:
    found = _lookup(sessions, token, every)
    if found is None:
        raise NotFoundError("calendar")
    return found


def _lookup(sessions: sessionmaker[Session], token: str, every: dt.timedelta) -> tuple[bytes, str] | None:
    # one query while the feed is unchanged since it was last rendered (the calendar app's poll)
    return calendar_store.polled_feed(sessions, token, every)


#: The threads that read feeds for polls (one set per process, started as needed): a few, not the 40 of
#: the routes' pool, so that many polls at once do not have dozens of threads contend for the GIL and the
#: database connections (which cost CPU on every poll: ``docs/BENCHMARKS.md``, "Load test"); and
#: asyncio's hand-over to a thread costs less than anyio's.
_FEED_THREADS = ThreadPoolExecutor(4, thread_name_prefix="feed-read")
_SUBSCRIBED_PATH = re.compile(r"/calendar/([^/]+)\.ics")


class SubscribedFeeds:
    """Pure ASGI, in front of the application (``api.app.Service`` calls it first): a calendar app's
    poll of ``/calendar/{token}.ics`` (GET or HEAD) is answered here, by the same read and the same
    response as :func:`subscribed_feed`, without FastAPI's layers, route matching (over every route of
    the service) and request handling, which cost more CPU than the cached read itself
    (``docs/BENCHMARKS.md``, "Load test"). Everything else, and any poll this does not answer with a feed
    (an unknown token's 404, a database error), goes to ``app``, the general path: the route above, with
    its error handlers. A database without a free connection is answered 503 here, as the general path
    would, rather than waiting for a connection twice. The read runs in :data:`_FEED_THREADS`, with the
    sessions of ``state`` (the application's ``state``, read on every poll)."""

    def __init__(self, app: ASGIApp, settings: Settings, state) -> None:
        self.app = app
        self.every = refresh(settings)
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = None
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            match = _SUBSCRIBED_PATH.fullmatch(scope["path"])
            if match is not None:
                try:
                    found = await asyncio.get_running_loop().run_in_executor(
                        _FEED_THREADS, _lookup, self.state.sessions, match[1], self.every
                    )
                except PoolTimeout:
                    errors.log.warning("no database connection free for a feed read: overloaded")
                    await errors.busy()(scope, receive, send)
                    return
                except Exception:  # noqa: BLE001 - the general path answers it, with its error handlers
                    found = None
        if found is None:
            await self.app(scope, receive, send)
            return
        if_none_match = Headers(scope=scope).get("if-none-match")  # as the route's request.headers
        status, headers, body = _raw_answer(scope["method"], if_none_match, *found)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


# ----------------------------------------------------------------------------------- coordinators


@feed_route("/sites/{site_id}/calendar.ics", "The site's feed: every shift, naming who is on it")
def site_feed(site: Site, request: Request, session: DB, settings: Config) -> Response:
    return _feed_response(request, *calendar_store.site_feed(session, site, refresh(settings)))


@feed_route("/sites/{site_id}/posts/{post_id}/calendar.ics", "A post's feed")
def post_feed(post: Post, site: Site, request: Request, session: DB, settings: Config) -> Response:
    return _feed_response(request, *calendar_store.post_feed(session, site, post, refresh(settings)))


@feed_route(
    "/sites/{site_id}/volunteers/{volunteer_id}/calendar.ics",
    "A volunteer's feed (what their subscription shows)",
)
def volunteer_feed(
    volunteer: Volunteer, site: Site, request: Request, session: DB, settings: Config
) -> Response:
    return _feed_response(
        request, *calendar_store.volunteer_feed(session, site, volunteer, refresh(settings))
    )


# -------------------------------------------------------------------------------------- feed URLs


def _rotate(settings: Settings, session, feed: access.Feed) -> FeedLink:
    token = access.rotate_feed_token(session, feed, utcnow())
    return _link(settings, token)


def _revoke(session, feed: access.Feed) -> Response:
    if not access.revoke_feed_token(session, feed):
        raise NotFoundError("feed URL")
    return Response(status_code=204)


_ROTATE = "Makes a new secret feed URL; the previous one, if any, stops working at once."


@router.post(
    "/sites/{site_id}/calendar/token",
    status_code=201,
    summary="Make the site feed's URL",
    description=_ROTATE,
)
def rotate_site_feed(site: Site, settings: Config, session: DB) -> FeedLink:
    return _rotate(settings, session, access.Feed(site.id))


@router.delete("/sites/{site_id}/calendar/token", status_code=204, summary="Revoke the site feed's URL")
def revoke_site_feed(site: Site, session: DB) -> Response:
    return _revoke(session, access.Feed(site.id))


@router.post(
    "/sites/{site_id}/posts/{post_id}/calendar/token",
    status_code=201,
    summary="Make a post feed's URL",
    description=_ROTATE,
)
def rotate_post_feed(post: Post, site: Site, settings: Config, session: DB) -> FeedLink:
    return _rotate(settings, session, access.Feed(site.id, post_id=post.id))


@router.delete(
    "/sites/{site_id}/posts/{post_id}/calendar/token", status_code=204, summary="Revoke a post feed's URL"
)
def revoke_post_feed(post: Post, site: Site, session: DB) -> Response:
    return _revoke(session, access.Feed(site.id, post_id=post.id))


@router.post(
    "/sites/{site_id}/volunteers/{volunteer_id}/calendar/token",
    status_code=201,
    summary="Make a volunteer's feed URL (to send them)",
    description=_ROTATE,
)
def rotate_volunteer_feed(
    volunteer: Volunteer, site: Site, settings: Config, session: DB
) -> FeedLink:
    return _rotate(settings, session, access.Feed(site.id, volunteer_id=volunteer.id))


@router.delete(
    "/sites/{site_id}/volunteers/{volunteer_id}/calendar/token",
    status_code=204,
    summary="Revoke a volunteer's feed URL",
)
def revoke_volunteer_feed(volunteer: Volunteer, site: Site, session: DB) -> Response:
    return _revoke(session, access.Feed(site.id, volunteer_id=volunteer.id))
