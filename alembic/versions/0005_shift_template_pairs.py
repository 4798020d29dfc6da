"""shift templates worked in pairs

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:00:00

* ``shift_templates.pairs``: the shift is worked by two people together or not at all (issue 13).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


# Plain ALTER TABLE with a literal server default, as in 0002 (no batch mode on SQLite).


def upgrade() -> None:
    op.add_column("shift_templates", sa.Column("pairs", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    op.drop_column("shift_templates", "pairs")
