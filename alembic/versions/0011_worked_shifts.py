"""worked shifts

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-01 17:00:00

* ``worked_shifts``: what each volunteer actually worked (check-in and check-out on their page, or a
  coordinator's record): a published shift's actual times or a no-show, and extra shifts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worked_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("post", sa.String(length=64), nullable=False),
        sa.Column("shift", sa.String(length=64), nullable=True),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("planned_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_worked_shifts_site_id_sites"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_worked_shifts_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worked_shifts")),
        sa.UniqueConstraint(
            "volunteer_id", "post", "shift", "date",
            name=op.f("uq_worked_shifts_volunteer_id_post_shift_date"),
        ),
    )
    op.create_index(op.f("ix_worked_shifts_site_id"), "worked_shifts", ["site_id"])
    op.create_index(op.f("ix_worked_shifts_volunteer_id"), "worked_shifts", ["volunteer_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_worked_shifts_volunteer_id"), table_name="worked_shifts")
    op.drop_index(op.f("ix_worked_shifts_site_id"), table_name="worked_shifts")
    op.drop_table("worked_shifts")
