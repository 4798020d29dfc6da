"""re-solve jobs, auto re-solve, webhooks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 02:10:50.553703

* ``jobs``: a ``kind`` (``schedule``, the existing jobs, or ``resolve``) and, for re-solves, the
  disruptions (JSON), the cut-off, the published version re-planned and the change set found.
* ``sites.auto_resolve``: re-solve the published schedule on every health update.
* ``webhooks`` (one per site) and ``webhook_deliveries`` (one per publication while a webhook is set).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


# Columns are added and dropped with plain ALTER TABLE, never in batch mode: on SQLite a batch that
# recreates ``sites`` (or ``jobs``) drops the old table, and with foreign keys on that cascades to every
# row that references it. Hence also the literal server defaults (a SQL expression would make Alembic
# recreate the table). Dropping a column needs SQLite 3.35 or later.


def upgrade() -> None:
    op.add_column("jobs", sa.Column("kind", sa.String(length=16), server_default="schedule", nullable=False))
    op.add_column("jobs", sa.Column("disruptions", sa.JSON(none_as_null=True), nullable=True))
    op.add_column("jobs", sa.Column("cutoff", sa.DateTime(timezone=True), nullable=True))
    op.add_column("jobs", sa.Column("base_version", sa.Integer(), nullable=True))
    op.add_column("jobs", sa.Column("changes", sa.JSON(none_as_null=True), nullable=True))
    op.add_column("sites", sa.Column("auto_resolve", sa.Boolean(), server_default="0", nullable=False))

    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_webhooks_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
        sa.UniqueConstraint("site_id", name=op.f("uq_webhooks_site_id")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_webhook_deliveries_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_webhook_deliveries_delivery_id")),
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["state", "next_attempt_at"])
    op.create_index(op.f("ix_webhook_deliveries_site_id"), "webhook_deliveries", ["site_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_deliveries_site_id"), table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_column("sites", "auto_resolve")
    for column in ("changes", "base_version", "cutoff", "disruptions", "kind"):
        op.drop_column("jobs", column)
