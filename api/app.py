"""The HTTP service: ``create_app()`` builds the FastAPI application (``rota serve`` runs it).

Start-up upgrades the database schema (``ROTA_AUTO_MIGRATE``, on by default) and marks failed the jobs
left *running* by a worker that is gone, so a restart never leaves a job running forever.
Solving happens in worker processes (``rota worker``), never here.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text

from api import console, errors
from api.deps import DB
from api.routes import ROUTERS
from api.routes.calendar import SubscribedFeeds
from scheduler.settings import Settings, get_settings
from scheduler.store import jobs
from scheduler.store.db import make_engine, make_sessions, unit_of_work, upgrade, utcnow

log = logging.getLogger("rota.api")

DESCRIPTION = """\
Burnout-aware volunteer shift scheduling for sites staffed by volunteers for weeks (closed residential
compounds, shelters, food banks, hotlines).

**Access**: every `/sites/{site_id}/...` route wants a coordinator token of that site
(`Authorization: Bearer <token>`, made with `rota admin create-token --site ID` or
`POST /sites/{id}/tokens`; tokens expire and can be revoked). Creating and deleting sites needs an admin
token. A token of another site gets 404. Volunteers only subscribe to their own calendar feed
(`/calendar/{token}.ics`).

**Errors** are `application/problem+json` (RFC 9457); `errors` names each offending field.

**Concurrency**: reads send an `ETag`; send it back as `If-Match` with a change and it is refused (409)
if the resource changed meanwhile.

**Typical flow**: `POST /sites/{id}/schedules` (202) -> poll the `Location` until `done` ->
`POST /sites/{id}/schedules/{job}/publish` -> volunteers' feeds show their shifts.

**When someone falls ill**: `POST /sites/{id}/volunteers/{v}/health?resolve=true` (or
`POST /sites/{id}/disruptions` for withdrawals, more demand, new posts or volunteers) records it and
queues a re-solve of the published schedule from a cut-off (default now) -> poll the job until `done`:
its `changes` say whom to call -> publish it like any job. A site's webhook (`PUT /sites/{id}/webhook`)
receives each published change set as signed JSON.
"""


class RedactFeedTokens(logging.Filter):
    """Keeps feed tokens, console sign-in tokens and ``token=`` parameters out of the logs
    (:func:`api.errors.redact`): in the message and in every string argument."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = errors.redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(errors.redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: errors.redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


#: The loggers that print request URLs: uvicorn's access log, and httpx (webhook URLs in the workers).
REDACTED_LOGGERS = ("uvicorn.access", "uvicorn.error", "httpx")


def install_log_redaction() -> None:
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactFeedTokens) for f in logger.filters):
            logger.addFilter(RedactFeedTokens())


class Service(FastAPI):
    """The application: FastAPI, except that a calendar app's feed poll is answered before any of
    FastAPI's layers by :class:`api.routes.calendar.SubscribedFeeds` (which hands everything else to
    FastAPI as it is). ``feeds = None`` turns that off (every request through FastAPI)."""

    def __init__(self, *args, settings: Settings, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.feeds: SubscribedFeeds | None = SubscribedFeeds(super().__call__, settings, self.state)

    async def __call__(self, scope, receive, send) -> None:
        if self.feeds is not None and scope["type"] == "http":
            await self.feeds(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.base_url()  # ConfigurationError: no public URL outside development (links never use Host)
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        install_log_redaction()
        if settings.auto_migrate:
            upgrade(engine)
        with unit_of_work(app.state.sessions) as session:
            reaped = jobs.reap_stale(session, utcnow(), settings.job_stale_after)
        if reaped:
            log.warning("marked %d job(s) failed that were left running by a stopped worker", reaped)
        yield
        engine.dispose()

    app = Service(
        settings=settings,
        title="rota",
        version="0.1.0",
        summary="Burnout-aware volunteer shift scheduler",
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=errors.problem_responses(),
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_sessions(engine)
    errors.install(app)
    app.add_middleware(errors.BodyGuard, max_bytes=settings.max_body_bytes)

    @app.get("/health", tags=["service"], summary="Liveness: the service and its database answer")
    def service_health(session: DB) -> dict[str, str]:
        session.execute(text("SELECT 1"))
        return {"status": "ok"}

    for router in ROUTERS:
        app.include_router(router)
    console.install(app)
    return app
