"""Console sessions: a coordinator signed in to the web console (``api.console``), kept server-side.

* Signing in exchanges a coordinator token (checked once, :func:`scheduler.store.access.site_of_api_token`)
  or a one-time sign-in link for a session. The browser holds only the session id in a cookie; the
  database holds its SHA-256, the site, a CSRF token and when the session expires.
* A **sign-in link** (``rota admin demo`` prints one) carries a one-time login token, stored hashed,
  that opens a session on its first use and never again.

Nothing here commits: the request's unit of work does.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.domain.calendar import hash_token
from scheduler.store.access import TOKEN_SHAPE
from scheduler.store.db import Base, UTCDateTime

#: How long a console session lasts (a shift and a half: a coordinator signs in once a day or so).
SESSION_LIFETIME = dt.timedelta(hours=12)
#: How long a one-time sign-in link stays usable.
LOGIN_LINK_LIFETIME = dt.timedelta(days=7)


class ConsoleSessionRow(Base):
    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class LoginTokenRow(Base):
    """A one-time sign-in link's token (hashed): exchanged for a console session on first use."""

    __tablename__ = "console_login_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


def create_session(session: Session, site_id: int, now: dt.datetime) -> tuple[str, ConsoleSessionRow]:
    """A new console session for the site: the secret session id (for the cookie; not stored) and the
    row. Expired sessions are cleared on the way."""
    session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at <= now))
    secret = secrets.token_urlsafe(32)
    row = ConsoleSessionRow(
        session_hash=hash_token(secret),
        site_id=site_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(row)
    session.flush()
    return secret, row


def find_session(session: Session, secret: str | None, now: dt.datetime) -> ConsoleSessionRow | None:
    """The live session a cookie names, or None (unknown, malformed or expired)."""
    if not secret or not TOKEN_SHAPE.match(secret):
        return None
    query = select(ConsoleSessionRow).where(ConsoleSessionRow.session_hash == hash_token(secret))
    row = session.scalar(query)
    if row is None or row.expires_at <= now:
        return None
    return row


def end_session(session: Session, secret: str | None) -> bool:
    if not secret or not TOKEN_SHAPE.match(secret):
        return False
    result = session.execute(
        delete(ConsoleSessionRow).where(ConsoleSessionRow.session_hash == hash_token(secret))
    )
    session.flush()
    return bool(result.rowcount)


def create_login_token(
    session: Session, site_id: int, now: dt.datetime, lifetime: dt.timedelta = LOGIN_LINK_LIFETIME
) -> str:
    """A one-time sign-in token for the site; the returned secret is not stored anywhere."""
    token = secrets.token_urlsafe(32)
    session.add(
        LoginTokenRow(
            token_hash=hash_token(token), site_id=site_id, created_at=now, expires_at=now + lifetime
        )
    )
    session.flush()
    return token


def redeem_login_token(session: Session, token: str, now: dt.datetime) -> int | None:
    """The site a one-time sign-in token opens, used up at once; None for an unknown, used, expired or
    malformed one."""
    if not TOKEN_SHAPE.match(token):
        return None
    row = session.scalar(select(LoginTokenRow).where(LoginTokenRow.token_hash == hash_token(token)))
    if row is None:
        return None
    site_id, expired = row.site_id, row.expires_at <= now
    session.delete(row)
    session.flush()
    return None if expired else site_id
