"""health records: a reason from a fixed list instead of a free-text note; the health audit log

Revision ID: 0009
Revises: 0010
Create Date: 2026-12-01 14:00:00

* ``health_records.note`` (free text, where a diagnosis could be written) is dropped; a record that had
  a note gets ``reason = 'other'`` (issue 14). ``health_records.reason`` holds one of
  :class:`scheduler.domain.scenario.HealthReason`.
* The copies of the notes in the job snapshots (``jobs.scenario``: volunteers' ``health``) and in the
  re-solves' disruptions (``jobs.disruptions``: ``note``, a withdrawal's free-text ``reason``) go too.
* ``health_audit``: who read or changed health data (:mod:`scheduler.store.health_audit`).
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0010"
branch_labels = None
depends_on = None

_WITHDRAWAL_REASONS = {"unwell", "injury", "caring_for_someone", "quarantine_order", "personal", "other"}
_HEALTH_REASONS = {"unwell", "injury", "caring_for_someone", "quarantine_order", "contact_of_a_case", "other"}


def _scrub_record(record: dict) -> bool:
    if "note" not in record:
        return False
    note = record.pop("note")
    if record.get("reason") is None:
        record["reason"] = note if note in _HEALTH_REASONS else ("other" if note else None)
    return True


def _scrub_disruption(d: dict) -> bool:
    if d.get("kind") == "withdrawal":
        reason = d.get("reason")
        if reason is not None and reason not in _WITHDRAWAL_REASONS:
            d["reason"] = "other"
            return True
        return False
    return _scrub_record(d)


def _load(value):
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    op.add_column("health_records", sa.Column("reason", sa.String(length=32), nullable=True))
    op.execute("UPDATE health_records SET reason = 'other' WHERE note IS NOT NULL AND note <> ''")
    op.drop_column("health_records", "note")

    connection = op.get_bind()
    jobs = sa.table("jobs", sa.column("id", sa.Integer), sa.column("scenario", sa.JSON),
                    sa.column("disruptions", sa.JSON))
    for job_id, scenario, disruptions in connection.execute(sa.select(jobs.c.id, jobs.c.scenario,
                                                                     jobs.c.disruptions)).all():
        scenario, disruptions = _load(scenario), _load(disruptions)
        changed = {}
        if isinstance(scenario, dict):
            hit = [_scrub_record(r) for v in scenario.get("volunteers", []) for r in v.get("health", [])]
            if any(hit):
                changed["scenario"] = scenario
        if isinstance(disruptions, list) and any([_scrub_disruption(d) for d in disruptions]):
            changed["disruptions"] = disruptions
        if changed:
            connection.execute(sa.update(jobs).where(jobs.c.id == job_id).values(**changed))

    op.create_table(
        "health_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("volunteer", sa.String(length=64), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("what", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_health_audit_site_id_sites"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_audit")),
    )
    op.create_index("ix_health_audit_site_at", "health_audit", ["site_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_health_audit_site_at", table_name="health_audit")
    op.drop_table("health_audit")
    op.add_column("health_records", sa.Column("note", sa.String(length=200), nullable=True))
    op.drop_column("health_records", "reason")
