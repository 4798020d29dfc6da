"""The HTTP API's models for coordinator tokens: request bodies and responses (never a token's hash)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from scheduler.domain import scenario as sc
from scheduler.store import access

__all__ = ["TokenCreated", "TokenOut", "TokenRequest", "token_out"]


class TokenRequest(sc.Model):
    name: str = Field(min_length=1, max_length=200, description="What the token is for, e.g. who holds it")
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="Default: the server's ROTA_TOKEN_LIFETIME_DAYS"
    )
    admin: bool = Field(default=False, description="May create sites and delete this one (admin tokens only)")


class TokenOut(BaseModel):
    id: int
    name: str
    admin: bool
    created_at: dt.datetime
    expires_at: dt.datetime | None = Field(description="After it the token opens nothing; null: never")
    last_used_at: dt.datetime | None = Field(description="Last request it opened (to the minute)")
    revoked_at: dt.datetime | None
    active: bool = Field(description="Opens the site now: neither revoked nor expired")


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself, shown only this once: keep it safe")


def token_out(row: access.ApiTokenRow, now: dt.datetime, cls=TokenOut, **extra) -> TokenOut:
    return cls(
        id=row.id,
        name=row.name,
        admin=row.admin,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        active=row.usable(now),
        **extra,
    )
