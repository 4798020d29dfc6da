"""vulnerable residents and their guardians

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 14:00:00

* ``residents``: the register of vulnerable residents (issue 12), with their current primary and backup;
* ``resident_pair_changes``: the history of every change of a resident's pair;
* ``volunteers.languages``, ``.building``, ``.zone``, ``.risk_group``: what the matching reads.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("volunteers", sa.Column("languages", sa.JSON(), server_default="[]", nullable=False))
    op.add_column("volunteers", sa.Column("building", sa.String(length=100), nullable=True))
    op.add_column("volunteers", sa.Column("zone", sa.String(length=100), nullable=True))
    op.add_column("volunteers", sa.Column("risk_group", sa.Boolean(), server_default="0", nullable=False))
    op.create_table(
        "residents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("building", sa.String(length=100), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("zone", sa.String(length=100), nullable=True),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column("visits", sa.JSON(), nullable=False),
        sa.Column("kin", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("close_contact", sa.Boolean(), nullable=True),
        sa.Column("primary", sa.String(length=64), nullable=True),
        sa.Column("backup", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_residents_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents")),
        sa.UniqueConstraint("site_id", "key", name=op.f("uq_residents_site_id_key")),
    )
    op.create_index(op.f("ix_residents_site_id"), "residents", ["site_id"])
    op.create_table(
        "resident_pair_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("resident", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old_primary", sa.String(length=64), nullable=True),
        sa.Column("old_backup", sa.String(length=64), nullable=True),
        sa.Column("primary", sa.String(length=64), nullable=True),
        sa.Column("backup", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_resident_pair_changes_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_pair_changes")),
    )
    op.create_index(op.f("ix_resident_pair_changes_site_id"), "resident_pair_changes", ["site_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_resident_pair_changes_site_id"), table_name="resident_pair_changes")
    op.drop_table("resident_pair_changes")
    op.drop_index(op.f("ix_residents_site_id"), table_name="residents")
    op.drop_table("residents")
    op.drop_column("volunteers", "risk_group")
    op.drop_column("volunteers", "zone")
    op.drop_column("volunteers", "building")
    op.drop_column("volunteers", "languages")
