"""unwell reports from the volunteers' own pages; shift reminders

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 14:00:00

* ``unwell_reports``: a volunteer said "I'm unwell" on their own page: the health record it added, the
  re-solve job it queued (none while the site holds re-solves for the coordinator), the published version
  it was made against and the volunteer's shifts still to come in it (issue 11).
* ``sites.reminder_hours``: the site's reminders before each shift, in hours (VALARMs in the volunteers'
  feeds, ``shift.reminder`` webhook events); ``[]`` is none.
* ``shift_reminders``: the reminders sent, one per (site, event UID, start, offset), so each goes out once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unwell_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("health_record_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("shifts_before", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_unwell_reports_site_id_sites"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"], ["volunteers.id"], name=op.f("fk_unwell_reports_volunteer_id_volunteers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["health_record_id"], ["health_records.id"],
            name=op.f("fk_unwell_reports_health_record_id_health_records"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_unwell_reports_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unwell_reports")),
    )
    op.create_index(op.f("ix_unwell_reports_site_id"), "unwell_reports", ["site_id"])
    op.create_index(op.f("ix_unwell_reports_volunteer_id"), "unwell_reports", ["volunteer_id"])
    op.add_column("sites", sa.Column("reminder_hours", sa.JSON(), server_default="[]", nullable=False))
    op.create_table(
        "shift_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=120), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("minutes_before", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_shift_reminders_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift_reminders")),
        sa.UniqueConstraint(
            "site_id", "uid", "start", "minutes_before",
            name=op.f("uq_shift_reminders_site_id_uid_start_minutes_before"),
        ),
    )
    op.create_index(op.f("ix_shift_reminders_site_id"), "shift_reminders", ["site_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_shift_reminders_site_id"), table_name="shift_reminders")
    op.drop_table("shift_reminders")
    op.drop_column("sites", "reminder_hours")
    op.drop_index(op.f("ix_unwell_reports_volunteer_id"), table_name="unwell_reports")
    op.drop_index(op.f("ix_unwell_reports_site_id"), table_name="unwell_reports")
    op.drop_table("unwell_reports")
