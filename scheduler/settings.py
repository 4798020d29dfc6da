"""Service settings, read from the environment (prefix ``ROTA_``) or a ``.env`` file.

``ROTA_DATABASE_URL`` picks the database: SQLite under ``./var/`` by default, PostgreSQL with e.g.
``postgresql://user:password@host:5432/rota`` (the psycopg 3 driver is used).

``ROTA_PUBLIC_URL`` is the only source of the absolute URLs the service hands out (feed links): never the
request's ``Host`` header, which a client chooses. It is required unless ``ROTA_ENV=development`` (what
``make run`` and the tests use), where it defaults to ``http://{ROTA_HOST}:{ROTA_PORT}``; without it the
server refuses to start (:meth:`Settings.base_url`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROTA_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/rota.db", description="SQLAlchemy URL; sqlite:///... or postgresql://..."
    )
    env: Literal["development", "production"] = Field(
        default="production",
        description="'development' (make run, the tests) lets ROTA_PUBLIC_URL default to the local address",
    )
    public_url: str | None = Field(
        default=None,
        description="Base of every link the service hands out (feed URLs), e.g. https://rota.example.org, "
        "required unless ROTA_ENV=development; never taken from the request's Host header",
    )
    host: str = "127.0.0.1"
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies whose X-Forwarded-For/-Proto headers are believed (comma-separated IPs or "
        "CIDRs); they never change a link (those come from public_url only)",
    )
    port: int = Field(default=8000, ge=1, le=65535)
    auto_migrate: bool = Field(default=True, description="Upgrade the database schema when the server starts")

    # solve jobs
    solver_workers: int = Field(default=2, ge=1, le=64, description="CP-SAT threads per solve")
    default_time_limit: float = Field(default=30.0, gt=0)
    max_time_limit: float = Field(default=600.0, gt=0)
    worker_poll_interval: float = Field(default=1.0, gt=0, description="Seconds between polls for jobs")
    heartbeat_interval: float = Field(
        default=1.0, gt=0, description="Seconds between progress writes / cancel checks of a running job"
    )
    job_stale_after: float = Field(
        default=30.0, gt=0, description="A running job without a heartbeat for this long is marked failed"
    )

    # a fair queue: what one site may have queued or running at once (more is refused with 429)
    site_max_active_jobs: int = Field(
        default=5, ge=1, le=1000, description="Queued + running jobs (solves and re-solves) per site"
    )
    site_max_active_seconds: float = Field(
        default=1800.0, gt=0, description="Sum of the time limits of a site's queued + running jobs"
    )

    # re-solves (a sick call, a withdrawal, ...): they must answer in seconds
    resolve_default_time_limit: float = Field(default=10.0, gt=0, description="Seconds, unless asked")
    resolve_max_time_limit: float = Field(default=120.0, gt=0)

    # webhooks (deliveries are made by the workers, never by the web process)
    webhook_timeout: float = Field(default=5.0, gt=0, le=60, description="Seconds per delivery attempt")
    webhook_retry_delays: list[Annotated[float, Field(ge=0)]] = Field(
        default=[10, 30, 120, 600, 3600],
        description="Seconds before each retry of a failed delivery; after the last one it is 'failed'",
    )
    webhook_poll_interval: float = Field(default=1.0, gt=0, description="Seconds between delivery polls")
    webhook_allow_private: bool = Field(
        default=False,
        description="Allow webhook URLs on loopback, private or link-local addresses (off: no requests "
        "to the service's own network on a coordinator's behalf)",
    )

    # calendars
    calendar_refresh_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60)
    calendar_keep_cancelled_days: int = Field(default=14, ge=0, le=366)

    # coordinator tokens
    token_lifetime_days: int = Field(
        default=90, ge=0, le=3650, description="A new coordinator token expires after so many days (0: never)"
    )

    # health data (issue 14)
    health_retention_days: int = Field(
        default=180,
        ge=0,
        le=3650,
        description="Health records that ended more than so many days ago and finished jobs (with their "
        "scenario snapshots) older than that are purged by `rota admin purge` and by the workers once an "
        "hour (0: keep everything)",
    )
    health_audit_retention_days: int = Field(
        default=730, ge=0, le=3650, description="Health audit log entries are kept so many days (0: for ever)"
    )

    # size caps on a site, checked before anything is compiled (413 beyond them; issue 14)
    max_volunteers: int = Field(default=2000, ge=1, le=100_000, description="Volunteers per site")
    max_posts: int = Field(default=300, ge=1, le=10_000, description="Posts per site")
    max_templates: int = Field(default=1500, ge=1, le=100_000, description="Shift templates per site")
    max_days: int = Field(default=366, ge=1, le=366, description="Days in a site's horizon or a job")
    max_volunteer_days: int = Field(
        default=200_000, ge=1, le=10_000_000, description="Volunteers x days planned, per site or job"
    )
    inline_compile_pairs: int = Field(
        default=2_000_000, ge=0, le=1_000_000_000,
        description="Volunteers x slots up to which queueing a solve or a re-solve compiles it in the "
        "request (problems are a 422 at once); a larger job is checked by the worker (problems fail the job, "
        "naming the field)",
    )

    # requests
    max_body_bytes: int = Field(default=5_000_000, ge=1024, description="Larger request bodies get 413")


    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host, e.g. https://rota.example.org")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("must be a plain base URL: no user, query or fragment")
        return value

    def base_url(self) -> str:
        """The public base URL (no trailing slash); ConfigurationError outside development without
        ROTA_PUBLIC_URL."""
        if self.public_url is not None:
            return self.public_url
        if self.env == "development":
            host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
            return f"http://{host}:{self.port}"
        raise ConfigurationError(
            "ROTA_PUBLIC_URL is not set: it is the base of every link the service hands out (calendar "
            "feed URLs), e.g. ROTA_PUBLIC_URL=https://rota.example.org. Set it, or set ROTA_ENV=development "
            "for a local run (links then point at http://ROTA_HOST:ROTA_PORT)"
        )


def token_expiry(settings: Settings, now, days: int | None = None):
    """When a token made ``now`` expires: after ``days`` (default ROTA_TOKEN_LIFETIME_DAYS); None for 0."""
    import datetime as dt

    days = settings.token_lifetime_days if days is None else days
    return None if days == 0 else now + dt.timedelta(days=days)


class ConfigurationError(RuntimeError):
    """A setting the service cannot run without is missing or wrong."""


@lru_cache
def get_settings() -> Settings:
    return Settings()
