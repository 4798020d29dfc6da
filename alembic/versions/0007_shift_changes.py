"""shift swaps, give-aways and claims of open shifts

Revision ID: 0007
Revises: 0009
Create Date: 2026-12-01 14:00:00

* ``swap_policies``: per site, whether a coordinator approves each change or a rule-clean one is
  approved at once, and how many hours before a shift offers and claims close (issue 11).
* ``shift_changes``: offered swaps and give-aways, claims of open shifts, and their state.
* ``shift_change_events``: the audit trail of every step.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "swap_policies",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("approval", sa.String(16), nullable=False),
        sa.Column("deadline_hours", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name="fk_swap_policies_site_id_sites", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("site_id", name="pk_swap_policies"),
    )
    op.create_table(
        "shift_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("offerer_id", sa.Integer(), nullable=True),
        sa.Column("taker_id", sa.Integer(), nullable=True),
        sa.Column("post", sa.String(64), nullable=False),
        sa.Column("shift", sa.String(64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("back_post", sa.String(64), nullable=True),
        sa.Column("back_shift", sa.String(64), nullable=True),
        sa.Column("back_date", sa.Date(), nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name="fk_shift_changes_site_id_sites", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["offerer_id"], ["volunteers.id"], name="fk_shift_changes_offerer_id_volunteers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["taker_id"], ["volunteers.id"], name="fk_shift_changes_taker_id_volunteers", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_shift_changes"),
    )
    op.create_index("ix_shift_changes_site_id", "shift_changes", ["site_id"])
    op.create_index("ix_shift_changes_site_state", "shift_changes", ["site_id", "state"])
    op.create_table(
        "shift_change_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("detail", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name="fk_shift_change_events_site_id_sites", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["change_id"], ["shift_changes.id"], name="fk_shift_change_events_change_id_shift_changes",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_shift_change_events"),
    )
    op.create_index("ix_shift_change_events_site_id", "shift_change_events", ["site_id"])
    op.create_index("ix_shift_change_events_change_id", "shift_change_events", ["change_id"])


def downgrade() -> None:
    op.drop_table("shift_change_events")
    op.drop_index("ix_shift_changes_site_state", table_name="shift_changes")
    op.drop_index("ix_shift_changes_site_id", table_name="shift_changes")
    op.drop_table("shift_changes")
    op.drop_table("swap_policies")
