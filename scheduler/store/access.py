"""Who may do what: coordinator API tokens and calendar feed tokens, both stored only as hashes.

* A **coordinator token** is scoped to one site: it reads and writes that site and nothing else.
  ``rota admin create-token --site ID`` (or ``POST /sites/{id}/tokens``) makes one; it is shown once.
  It expires (``expires_at``, by default ``ROTA_TOKEN_LIFETIME_DAYS`` after it is made), can be revoked
  at once (``revoked_at``; API, CLI), and records when it was last used (``last_used_at``, at most once
  a minute). An **admin** token may also create sites and delete its own site.
* A **feed token** opens one calendar feed and nothing else: a volunteer's own shifts, one post's or a
  whole site's. Rotating it (making a new one) ends the old URL.

Tokens are 256-bit random strings (:func:`secrets.token_urlsafe`); the database holds their SHA-256
(:func:`scheduler.domain.calendar.hash_token`), so a leaked database does not leak working tokens.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.domain.calendar import hash_token, new_feed_token
from scheduler.domain.errors import NotFoundError
from scheduler.store.db import Base, UTCDateTime

API_TOKEN_PREFIX = "rota_"
#: What a token looks like: anything else is refused before the database is asked.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,128}$")


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    def usable(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


#: last_used_at is written at most this often per token (a read should not be a write every time)
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class FeedTokenRow(Base):
    __tablename__ = "feed_tokens"
    __table_args__ = (UniqueConstraint("site_id", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    #: "site", "post:<post id>" or "volunteer:<volunteer id>": one live token per feed
    scope: Mapped[str] = mapped_column(String(80))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int | None] = mapped_column(
        ForeignKey("volunteers.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


def create_api_token(
    session: Session,
    site_id: int,
    name: str,
    now: dt.datetime,
    *,
    expires_at: dt.datetime | None = None,
    admin: bool = False,
) -> str:
    """A new coordinator token for the site; the returned secret is not stored anywhere."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiTokenRow(
            site_id=site_id,
            token_hash=hash_token(token),
            name=name,
            created_at=now,
            expires_at=expires_at,
            admin=admin,
        )
    )
    session.flush()
    return token


def token_row(session: Session, token: str) -> ApiTokenRow | None:
    """The row of a token, whatever its state (no use recorded); None for an unknown or malformed one."""
    if not TOKEN_SHAPE.match(token):
        return None
    return session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == hash_token(token)))


def api_token(session: Session, token: str, now: dt.datetime | None = None) -> ApiTokenRow | None:
    """The token's row if it opens anything now (known, not revoked, not expired), its last use
    recorded; None otherwise (also for a malformed token, before the database is asked)."""
    row = token_row(session, token)
    now = now or dt.datetime.now(dt.UTC)
    if row is None or not row.usable(now):
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now  # written with the request's unit of work
    return row


def site_of_api_token(session: Session, token: str, now: dt.datetime | None = None) -> int | None:
    """The site a coordinator token opens, or None for an unknown, revoked, expired or malformed one."""
    row = api_token(session, token, now)
    return None if row is None else row.site_id


def list_api_tokens(session: Session, site_id: int) -> list[ApiTokenRow]:
    query = select(ApiTokenRow).where(ApiTokenRow.site_id == site_id).order_by(ApiTokenRow.id)
    return list(session.scalars(query))


def revoke_api_token(session: Session, site_id: int, token_id: int, now: dt.datetime) -> ApiTokenRow:
    """Revoke one of the site's tokens (it stops working at once); NotFoundError for another site's or
    an unknown id. Revoking a revoked token changes nothing."""
    row = session.get(ApiTokenRow, token_id)
    if row is None or row.site_id != site_id:
        raise NotFoundError(f"token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
    return row


@dataclass(frozen=True)
class Feed:
    """What a feed token opens: a site's feed, or one post's, or one volunteer's."""

    site_id: int
    post_id: int | None = None
    volunteer_id: int | None = None

    @property
    def scope(self) -> str:
        if self.volunteer_id is not None:
            return f"volunteer:{self.volunteer_id}"
        if self.post_id is not None:
            return f"post:{self.post_id}"
        return "site"


def rotate_feed_token(session: Session, feed: Feed, now: dt.datetime) -> str:
    """A new token for the feed; the previous one (if any) stops working at once."""
    revoke_feed_token(session, feed)
    token = new_feed_token()
    session.add(
        FeedTokenRow(
            site_id=feed.site_id,
            scope=feed.scope,
            post_id=feed.post_id,
            volunteer_id=feed.volunteer_id,
            token_hash=hash_token(token),
            created_at=now,
        )
    )
    session.flush()
    return token


def revoke_feed_token(session: Session, feed: Feed) -> bool:
    result = session.execute(
        delete(FeedTokenRow).where(FeedTokenRow.site_id == feed.site_id, FeedTokenRow.scope == feed.scope)
    )
    session.flush()
    return bool(result.rowcount)


def resolve_feed_token(session: Session, token: str) -> Feed:
    """The feed a token opens; NotFoundError for an unknown, revoked or malformed one."""
    if not TOKEN_SHAPE.match(token):
        raise NotFoundError("calendar")
    row = session.scalar(select(FeedTokenRow).where(FeedTokenRow.token_hash == hash_token(token)))
    if row is None:
        raise NotFoundError("calendar")
    return Feed(site_id=row.site_id, post_id=row.post_id, volunteer_id=row.volunteer_id)
