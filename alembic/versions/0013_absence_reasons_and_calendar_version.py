"""absences: a reason from a fixed list instead of free text; the sites' calendar version

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-01 17:00:00

A volunteer's dated absence (``unavailable[i].reason``) held free text, where a diagnosis could be
written ("medical appointment", "child is ill"). It now holds one of
:class:`scheduler.domain.scenario.AbsenceReason` (issue 14). Every stored copy of such a text goes: a
reason off the list becomes ``other`` in

* ``volunteers.unavailable``;
* the job snapshots (``jobs.scenario``: volunteers' ``unavailable``) and the re-solves' new volunteers
  (``jobs.disruptions``: ``new_volunteer``'s ``volunteer.unavailable``);
* and wherever the scheduler wrote it into a text (``unavailable: <reason>``, ``unavailable from ...
  until ...: <reason>`` in the reasons and details of job results, change sets, advice, summaries and
  progress, published schedule versions and webhook payloads): each text found above is replaced there
  by ``other``.

``sites.calendar_version`` (new, 0): raised with every change of the site's calendar events, so a feed
read can tell with one query whether the feed it rendered before still holds
(:func:`scheduler.store.calendars.subscribed_volunteer_feed`).

The downgrade drops the column and keeps the scrubbed data (the texts are gone for good).
"""

from __future__ import annotations

import json
import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None

#: AbsenceReason's values as of this migration (a migration does not import the code it migrates).
ABSENCE_REASONS = {
    "travel", "work", "study", "family", "caring_for_someone", "appointment", "unwell", "injury",
    "quarantine_order", "personal", "other",
}

#: (table, id column, JSON columns) where the scheduler may have copied an absence's text.
_TEXT_COPIES = [
    ("jobs", "id", ("result", "changes", "advice", "summary", "progress")),
    ("schedule_versions", "id", ("schedule",)),
    ("webhook_deliveries", "id", ("payload",)),
]


def _load(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def scrub_periods(periods: Any, texts: set[str]) -> bool:
    """Absences with a reason off the list get ``other`` (the text is added to ``texts``)."""
    changed = False
    for period in periods if isinstance(periods, list) else []:
        if not isinstance(period, dict):
            continue
        reason = period.get("reason")
        if reason is None or reason in ABSENCE_REASONS:
            continue
        if isinstance(reason, str) and reason.strip():
            texts.add(reason)
            period["reason"] = "other"
        else:
            period["reason"] = None
        changed = True
    return changed


def scrub_volunteers(volunteers: Any, texts: set[str]) -> bool:
    hits = [scrub_periods(v.get("unavailable"), texts) for v in volunteers or [] if isinstance(v, dict)]
    return any(hits)


def scrub_text(value: Any, texts: set[str]) -> tuple[Any, bool]:
    """``value`` (any JSON) with every ``unavailable...: <text>`` of ``texts`` in its strings made
    ``unavailable...: other``."""
    if isinstance(value, str):
        new = value
        for text in texts:
            new = re.sub(rf"(unavailable\b[^\n]*?): {re.escape(text)}(?!\w)", r"\1: other", new)
        return new, new != value
    if isinstance(value, list):
        pairs = [scrub_text(v, texts) for v in value]
        return [v for v, _ in pairs], any(c for _, c in pairs)
    if isinstance(value, dict):
        out, changed = {}, False
        for k, v in value.items():
            new_k, ck = scrub_text(k, texts)
            new_v, cv = scrub_text(v, texts)
            out[new_k] = new_v
            changed = changed or ck or cv
        return out, changed
    return value, False


def upgrade() -> None:
    # a plain ALTER TABLE (a batch would recreate ``sites`` on SQLite, and its cascades empty the site)
    op.add_column("sites", sa.Column("calendar_version", sa.Integer(), nullable=False, server_default="0"))
    connection = op.get_bind()
    texts: set[str] = set()

    volunteers = sa.table("volunteers", sa.column("id", sa.Integer), sa.column("unavailable", sa.JSON))
    for vid, unavailable in connection.execute(sa.select(volunteers.c.id, volunteers.c.unavailable)).all():
        unavailable = _load(unavailable)
        if scrub_periods(unavailable, texts):
            connection.execute(
                sa.update(volunteers).where(volunteers.c.id == vid).values(unavailable=unavailable)
            )

    jobs = sa.table("jobs", sa.column("id", sa.Integer), sa.column("scenario", sa.JSON),
                    sa.column("disruptions", sa.JSON))
    for job_id, scenario, disruptions in connection.execute(
        sa.select(jobs.c.id, jobs.c.scenario, jobs.c.disruptions)
    ).all():
        scenario, disruptions = _load(scenario), _load(disruptions)
        changed = {}
        if isinstance(scenario, dict) and scrub_volunteers(scenario.get("volunteers"), texts):
            changed["scenario"] = scenario
        if isinstance(disruptions, list):
            hit = [scrub_periods((d.get("volunteer") or {}).get("unavailable"), texts)
                   for d in disruptions if isinstance(d, dict) and d.get("kind") == "new_volunteer"
                   and isinstance(d.get("volunteer"), dict)]
            if any(hit):
                changed["disruptions"] = disruptions
        if changed:
            connection.execute(sa.update(jobs).where(jobs.c.id == job_id).values(**changed))

    if not texts:
        return
    for table_name, key, columns in _TEXT_COPIES:
        table = sa.table(table_name, sa.column(key, sa.Integer), *(sa.column(c, sa.JSON) for c in columns))
        for row in connection.execute(sa.select(table.c[key], *(table.c[c] for c in columns))).all():
            changed = {}
            for name, value in zip(columns, row[1:], strict=True):
                if value is None:
                    continue
                new, hit = scrub_text(_load(value), texts)
                if hit:
                    changed[name] = new
            if changed:
                connection.execute(sa.update(table).where(table.c[key] == row[0]).values(**changed))


def downgrade() -> None:
    op.drop_column("sites", "calendar_version")
