"""staffing advice stored with a finished job

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-01 14:00:00

* ``jobs.advice``: the staffing advice the worker computed after a solve that left slots short
  (issue 13: the advice belongs in the schedule's summary, and is computed by the worker, not in a
  request).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("advice", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    op.drop_column("jobs", "advice")
