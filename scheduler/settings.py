"""Service settings, read from the environment (prefix ``ROTA_``) or a ``.env`` file.

``ROTA_DATABASE_URL`` picks the database: SQLite under ``./var/`` by default, PostgreSQL with e.g.
``postgresql://user:password@host:5432/rota`` (the psycopg 3 driver is used).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROTA_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/rota.db", description="SQLAlchemy URL; sqlite:///... or postgresql://..."
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="Base URL printed in feed links (no trailing slash)"
    )
    host: str = "127.0.0.1"
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

    # requests
    max_body_bytes: int = Field(default=5_000_000, ge=1024, description="Larger request bodies get 413")


@lru_cache
def get_settings() -> Settings:
    return Settings()
