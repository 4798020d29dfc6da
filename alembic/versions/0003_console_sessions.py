"""console sessions and one-time sign-in links

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 11:00:00.000000

* ``console_sessions``: a coordinator signed in to the web console: the session id's SHA-256, the
  site, the CSRF token of its forms, when it was made and when it expires.
* ``console_login_tokens``: one-time sign-in links (``rota admin demo``), hashed, used up on first use.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_console_sessions_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
        sa.UniqueConstraint("session_hash", name=op.f("uq_console_sessions_session_hash")),
    )
    op.create_index(op.f("ix_console_sessions_site_id"), "console_sessions", ["site_id"])
    op.create_index(op.f("ix_console_sessions_expires_at"), "console_sessions", ["expires_at"])
    op.create_table(
        "console_login_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_console_login_tokens_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_login_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_login_tokens_token_hash")),
    )
    op.create_index(op.f("ix_console_login_tokens_site_id"), "console_login_tokens", ["site_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_console_login_tokens_site_id"), table_name="console_login_tokens")
    op.drop_table("console_login_tokens")
    op.drop_index(op.f("ix_console_sessions_expires_at"), table_name="console_sessions")
    op.drop_index(op.f("ix_console_sessions_site_id"), table_name="console_sessions")
    op.drop_table("console_sessions")
