"""``rota`` commands for the service: ``serve``, ``worker``, ``db upgrade``, ``admin ...``.

They read the same settings as the server (``ROTA_DATABASE_URL``, ``ROTA_PUBLIC_URL``, ...; see
:mod:`scheduler.settings`).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from scheduler.cli.app import app, command_group, fail, input_error
from scheduler.domain.errors import InputError, load_model
from scheduler.store.db import unit_of_work

db_app = command_group("db", "The database schema.")
admin_app = command_group("admin", "Sites, tokens and the demo.")
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")

#: The demo site's scenario: in the source tree, or where ROTA_DEMO_FIXTURE says (an installed wheel, the
#: Docker image: /opt/rota/share/rota/fixtures/lockdown-community.json).
DEMO_FIXTURE = Path(
    os.environ.get("ROTA_DEMO_FIXTURE")
    or Path(__file__).resolve().parents[2] / "fixtures" / "lockdown-community.json"
)
DEMO_CREDENTIALS = Path("var") / "demo-credentials.json"
DEMO_VOLUNTEER = "v002"


def _settings():
    from scheduler.settings import Settings

    return Settings()


def _sessions(settings=None, *, migrate: bool = False):
    from scheduler.store.db import make_engine, make_sessions, upgrade

    settings = settings or _settings()
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    return make_sessions(engine)


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _logging(name: str | None = None) -> None:
    """INFO and up to stderr: everything's (the worker), or only ``name``'s and its children's (the
    server: uvicorn configures its own loggers and leaves the root one alone)."""
    if name is None:
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
        return
    logger = logging.getLogger(name)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


# ------------------------------------------------------------------------------------ processes


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: ROTA_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="Default: ROTA_PORT or 8000")] = None,
    reuse_port: Annotated[
        bool,
        typer.Option(
            "--reuse-port",
            help="Listen on a socket of this process's own that other 'rota serve --reuse-port' processes "
            "may share the port with (SO_REUSEPORT, Linux): run one per core, the kernel spreads the "
            "connections across them",
        ),
    ] = False,
) -> None:
    """Run the HTTP service (start workers with 'rota worker')."""
    import uvicorn

    from scheduler.settings import ConfigurationError

    settings = _settings()
    try:
        settings.base_url()
    except ConfigurationError as exc:
        raise fail(str(exc)) from None
    _logging("rota")  # rota's own messages beside uvicorn's (the migration at start-up, stale jobs)
    where = {"host": host or settings.host, "port": port or settings.port}
    if reuse_port:
        listener = shared_port_socket(where["host"], where["port"])  # open while uvicorn runs
        where = {"fd": listener.fileno()}
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        **where,
    )


def shared_port_socket(host: str, port: int):
    """A listening TCP socket on host:port that other processes may bind too (SO_REUSEPORT: the kernel
    gives each new connection to one of them). One process per core, each on a socket of its own, keeps
    every core busy; uvicorn's ``--workers`` share one socket, and a burst of keep-alive connections (a
    reverse proxy's pool) lands on whichever process accepts first, whose GIL holds it to one core
    (``docs/BENCHMARKS.md``, "Load test")."""
    import socket

    if not hasattr(socket, "SO_REUSEPORT"):  # pragma: no cover - Windows
        raise fail("--reuse-port needs SO_REUSEPORT (Linux, BSD, macOS)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    # inherited by the connections it accepts: uvicorn takes a socket given by file descriptor for a
    # Unix one and leaves Nagle's algorithm on, which holds small answers back 40 ms (delayed ACKs)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    listener.listen(2048)  # uvicorn's backlog
    listener.set_inheritable(True)
    return listener


@app.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Run at most one queued job and the webhooks due, then exit")
    ] = False,
) -> None:
    """Run solve and re-solve jobs from the database's queue and deliver webhooks (start as many as you
    like)."""
    from scheduler.worker.loop import Worker

    _logging()
    settings = _settings()
    runner = Worker(_sessions(settings), settings)
    if once:
        from scheduler.services.webhook_delivery import make_client

        runner.reap()
        runner.run_once()
        with make_client(allow_private=settings.webhook_allow_private) as client:
            runner.deliver_webhooks(client)
        return
    runner.install_signal_handlers()
    runner.run_forever()


# ------------------------------------------------------------------------------------------ db


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    from scheduler.store.db import current_revision, make_engine, upgrade

    engine = make_engine(_settings().database_url)
    upgrade(engine)
    typer.echo(f"database at revision {current_revision(engine)}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's schema revision and the newest one."""
    from scheduler.store.db import current_revision, head_revision, make_engine

    engine = make_engine(_settings().database_url)
    typer.echo(f"current {current_revision(engine) or '(empty)'}, newest {head_revision()}")


# --------------------------------------------------------------------------------------- admin


@admin_app.command("create-token")
def create_token(
    site: Annotated[int, typer.Option("--site", help="Site id")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. who holds it")] = "coordinator",
    admin: Annotated[bool, typer.Option("--admin", help="May also create sites and delete this one")] = False,
    expires_in_days: Annotated[
        int | None,
        typer.Option(min=0, max=3650, help="Days until it expires (0: never); ROTA_TOKEN_LIFETIME_DAYS"),
    ] = None,
) -> None:
    """Make a coordinator API token for one site and print it (it is stored only as a hash)."""
    from scheduler.domain.errors import NotFoundError
    from scheduler.settings import token_expiry
    from scheduler.store import access, sites
    from scheduler.store.db import utcnow

    settings = _settings()
    with unit_of_work(_sessions(settings)) as session:
        try:
            sites.get_site(session, site)
        except NotFoundError:
            raise fail(f"there is no site {site}") from None
        now = utcnow()
        token = access.create_api_token(
            session, site, name, now, expires_at=token_expiry(settings, now, expires_in_days), admin=admin
        )
    typer.echo(token)


@admin_app.command("list-tokens")
def list_tokens(site: Annotated[int, typer.Option("--site", help="Site id")]) -> None:
    """List a site's coordinator tokens: id, role, state, expiry and last use (never the secrets)."""
    from scheduler.store import access
    from scheduler.store.db import utcnow

    now = utcnow()
    with _sessions()() as session:
        rows = access.list_api_tokens(session, site)
        lines = []
        for row in rows:
            state = "revoked" if row.revoked_at else ("active" if row.usable(now) else "expired")
            expires = row.expires_at.isoformat(timespec="minutes") if row.expires_at else "never"
            used = row.last_used_at.isoformat(timespec="minutes") if row.last_used_at else "never"
            role = "admin" if row.admin else "coordinator"
            lines.append(f"{row.id}\t{role}\t{state}\texpires {expires}\tlast used {used}\t{row.name}")
    if not lines:
        raise fail(f"site {site} has no tokens (or there is no site {site})", code=1)
    typer.echo("\n".join(lines))


@admin_app.command("revoke-token")
def revoke_token(
    site: Annotated[int, typer.Option("--site", help="Site id")],
    token_id: Annotated[int, typer.Option("--id", help="The token's id (rota admin list-tokens)")],
) -> None:
    """Revoke a coordinator token: it stops working at once."""
    from scheduler.domain.errors import NotFoundError
    from scheduler.store import access
    from scheduler.store.db import utcnow

    with unit_of_work(_sessions()) as session:
        try:
            access.revoke_api_token(session, site, token_id, utcnow())
        except NotFoundError:
            raise fail(f"site {site} has no token {token_id}") from None
    typer.echo(f"token {token_id} of site {site} revoked")


@admin_app.command("purge")
def purge(
    days: Annotated[
        int | None,
        typer.Option(min=0, help="Retention in days (default: ROTA_HEALTH_RETENTION_DAYS; 0 keeps all)"),
    ] = None,
    audit_days: Annotated[
        int | None,
        typer.Option(min=0, help="Audit log retention in days (default: ROTA_HEALTH_AUDIT_RETENTION_DAYS)"),
    ] = None,
) -> None:
    """Purge health records that ended longer ago than the retention period (and their copies), old
    finished jobs with their scenario snapshots, and old audit entries. The workers do it hourly too."""
    from scheduler.services.retention import purge as run_purge
    from scheduler.store.db import utcnow

    settings = _settings()
    days = settings.health_retention_days if days is None else days
    audit_days = settings.health_audit_retention_days if audit_days is None else audit_days
    with unit_of_work(_sessions(settings)) as session:
        purged = run_purge(session, utcnow(), days, audit_days)
    typer.echo(f"purged {purged}")


def _import(path: Path, session) -> int:
    from scheduler.domain.limits import SizeLimits
    from scheduler.domain.scenario import OLD_DATA, Scenario
    from scheduler.services import health_data
    from scheduler.store import sites
    from scheduler.store.db import utcnow
    from scheduler.store.health_audit import SYSTEM

    try:
        scenario = load_model(Scenario, path, OLD_DATA)
    except InputError as exc:
        raise input_error(exc) from None
    now = utcnow()
    row = sites.import_scenario(session, scenario, now, SizeLimits.of(_settings()))
    health_data.audit_import(session, row.id, SYSTEM, scenario, "CLI", now)
    return row.id


@admin_app.command("import")
def import_site(scenario_file: Annotated[Path, typer.Argument(help="Scenario JSON file")]) -> None:
    """Import a scenario file as a new site; print its id and a coordinator token."""
    from scheduler.settings import token_expiry
    from scheduler.store import access
    from scheduler.store.db import utcnow

    settings = _settings()
    with unit_of_work(_sessions(settings)) as session:
        site_id = _import(scenario_file, session)
        now = utcnow()
        token = access.create_api_token(
            session, site_id, "created with the site", now, expires_at=token_expiry(settings, now), admin=True
        )
    typer.echo(f"site {site_id}\ncoordinator token {token}")


@admin_app.command("export")
def export_site(
    site: Annotated[int, typer.Option("--site", help="Site id")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of stdout")] = None,
) -> None:
    """Export a site as a scenario file."""
    from scheduler.domain.errors import NotFoundError
    from scheduler.store import sites

    with _sessions()() as session:
        try:
            scenario = sites.export_scenario(session, sites.get_site(session, site))
        except NotFoundError:
            raise fail(f"there is no site {site}") from None
    text = scenario.model_dump_json(indent=2, by_alias=True, exclude_defaults=True) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@admin_app.command("load-demo")
def load_demo(
    scenario_file: Annotated[Path, typer.Option("--file", help="Scenario to load")] = DEMO_FIXTURE,
) -> None:
    """Load the demo site if the database has no site yet; print the demo site's id."""
    from scheduler.store import sites

    with unit_of_work(_sessions()) as session:
        first = sites.first_site(session)
        if first is not None:
            typer.echo(f"the database already has sites; the first is site {first.id} ({first.name})")
            return
        site_id = _import(scenario_file, session)
    typer.echo(f"loaded {scenario_file.name} as site {site_id}")


@admin_app.command("feed-url")
def feed_url(
    site: Annotated[int, typer.Option("--site", help="Site id")],
    volunteer: Annotated[str, typer.Option("--volunteer", help="Volunteer id, e.g. v002")],
) -> None:
    """Make a new calendar feed URL for a volunteer (the previous one stops working) and print it."""
    from scheduler.domain.errors import NotFoundError
    from scheduler.store import access, volunteers
    from scheduler.store.db import utcnow

    settings = _settings()
    base = _base_url(settings)  # before the old URL is revoked
    with unit_of_work(_sessions(settings)) as session:
        try:
            row = volunteers.get_volunteer(session, site, volunteer)
        except NotFoundError:
            raise fail(f"site {site} has no volunteer {volunteer!r}") from None
        token = access.rotate_feed_token(session, access.Feed(site, volunteer_id=row.id), utcnow())
    typer.echo(_feed(base, token))


def _base_url(settings) -> str:
    from scheduler.settings import ConfigurationError

    try:
        return settings.base_url()
    except ConfigurationError as exc:
        raise fail(str(exc)) from None


def _feed(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/calendar/{token}.ics"


@admin_app.command("demo")
def demo(
    credentials: Annotated[Path, typer.Option(help="Where the demo's tokens are kept")] = DEMO_CREDENTIALS,
) -> None:
    """Prepare the demo (migrate, load the demo site if the database is empty) and print what a newcomer
    needs: the console with a one-time sign-in link, the API docs, a coordinator token and a volunteer's
    calendar feed. The tokens are kept in
    var/demo-credentials.json (readable by you only) so every run prints the same working ones."""
    from scheduler.domain.errors import NotFoundError
    from scheduler.settings import token_expiry
    from scheduler.store import access, console_sessions, sites, volunteers
    from scheduler.store.db import utcnow

    settings = _settings()
    base = _base_url(settings)
    sessions = _sessions(settings, migrate=True)
    saved = _read_json(credentials)
    with unit_of_work(sessions) as session:
        site = sites.first_site(session)
        if site is None:
            site = sites.get_site(session, _import(DEMO_FIXTURE, session))
        now = utcnow()
        token = saved.get("coordinator_token") if saved.get("site") == site.id else None
        if not token or access.site_of_api_token(session, token) != site.id:
            token = access.create_api_token(
                session, site.id, "demo (make run)", now, expires_at=token_expiry(settings, now)
            )
        try:
            volunteer = volunteers.get_volunteer(session, site.id, saved.get("volunteer") or DEMO_VOLUNTEER)
        except NotFoundError:
            volunteer = volunteers.list_volunteers(session, site.id)[0]
        feed = access.Feed(site.id, volunteer_id=volunteer.id)
        feed_token = saved.get("feed_token") if saved.get("site") == site.id else None
        try:
            if not feed_token or access.resolve_feed_token(session, feed_token) != feed:
                raise NotFoundError("feed")
        except NotFoundError:
            feed_token = access.rotate_feed_token(session, feed, now)
        login_token = console_sessions.create_login_token(session, site.id, now)
        site_id, site_name, volunteer_key, volunteer_name = site.id, site.name, volunteer.key, volunteer.name
    _write_secret(
        credentials,
        {"site": site_id, "coordinator_token": token, "volunteer": volunteer_key, "feed_token": feed_token},
    )
    feed_link = _feed(base, feed_token)
    typer.echo(
        f"""
rota is starting on {base}  (Ctrl-C stops the server and the worker)

  Coordinator console   {base}/console
  One-time sign-in link {base}/console/link/{login_token}
                        (works once, for 7 days; or sign in with the coordinator token)
  API docs (OpenAPI)    {base}/docs
  Demo site             {site_id}: {site_name}
  Coordinator token     {token}
  Calendar feed of {volunteer_name} ({volunteer_key}), to subscribe to in a calendar app:
                        {feed_link}

Try it from another terminal:
  T='{token}'; S={base}/sites/{site_id}
  curl -H "Authorization: Bearer $T" $S
  curl -i -H "Authorization: Bearer $T" -H 'Content-Type: application/json' \\
       -d '{{"time_limit": 30}}' $S/schedules
  curl -H "Authorization: Bearer $T" $S/schedules/JOB            # JOB: the id in the Location header
  curl -X POST -H "Authorization: Bearer $T" $S/schedules/JOB/publish
  curl '{feed_link}'
"""
    )


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_secret(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
