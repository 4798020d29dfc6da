"""coordinator token lifecycle: expiry, revocation, last use, admin role

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 11:40:00

* ``api_tokens.expires_at``: after it the token no longer opens anything (NULL: never; tokens made before
  this migration keep working until revoked).
* ``api_tokens.revoked_at``: set when a token is revoked (kept for the record, never opens anything).
* ``api_tokens.last_used_at``: the last request the token opened (written at most once a minute).
* ``api_tokens.admin``: an admin token may also create sites and delete its own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, never batch mode (see 0002: on SQLite a batch would recreate the table).


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("api_tokens", sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("api_tokens", sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("api_tokens", sa.Column("admin", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    for column in ("admin", "last_used_at", "revoked_at", "expires_at"):
        op.drop_column("api_tokens", column)
