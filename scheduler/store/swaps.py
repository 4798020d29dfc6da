"""Shift changes, as stored: swaps and give-aways offered by volunteers, claims of open shifts, each
site's swap policy, and the audit trail of every step (who, what, when).

A **change** (:class:`ShiftChangeRow`) is one of

* ``give``: the offerer gives one of their published shifts away, to a named volunteer or to anyone
  who could take it;
* ``swap``: the offerer gives one shift and takes one of the named taker's shifts (``back_*``) in
  exchange;
* ``claim``: a volunteer picks up an uncovered slot.

Its ``state``: ``open`` (an offer waiting for a taker; the shift is still the offerer's), ``pending``
(taken or claimed, waiting for the coordinator), ``approved`` (published as ``published_version``),
``refused``, ``withdrawn`` (by the offerer or claimer), ``expired`` (its deadline passed) or ``failed``
(no longer possible when it came to be published: someone else's change came first, or it would now
break a rule). The rules and the publishing are :mod:`scheduler.services.swaps`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.domain.errors import NotFoundError
from scheduler.store.db import Base, UTCDateTime


class Kind(StrEnum):
    give = "give"
    swap = "swap"
    claim = "claim"


class State(StrEnum):
    open = "open"
    pending = "pending"
    #: approved, checked on its slice, waiting for the worker to check the whole site and publish it (a
    #: site too large to compile in the request: scheduler.services.swaps.publish_next_approved)
    approving = "approving"
    approved = "approved"
    refused = "refused"
    withdrawn = "withdrawn"
    expired = "expired"
    failed = "failed"


#: The states in which a change can still happen.
LIVE = (State.open, State.pending)
#: ... and those in which it may still come into the rota (the shift is not free to offer or claim again).
IN_FLIGHT = (*LIVE, State.approving)


class Approval(StrEnum):
    coordinator = "coordinator"  # every accepted swap and every claim waits for a coordinator
    auto = "auto"  # a change the checker finds rule-clean is approved and published at once


DEFAULT_APPROVAL = Approval.coordinator
DEFAULT_DEADLINE_HOURS = 12


class SwapPolicyRow(Base):
    """A site's swap policy (a site without a row has the defaults)."""

    __tablename__ = "swap_policies"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    approval: Mapped[str] = mapped_column(String(16))
    #: offers, acceptances, claims and approvals close this many hours before the shift starts
    deadline_hours: Mapped[int]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ShiftChangeRow(Base):
    __tablename__ = "shift_changes"
    __table_args__ = (Index("ix_shift_changes_site_state", "site_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(12))
    #: who gives the shift (None for a claim)
    offerer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    #: who takes it: the volunteer an offer is made to, whoever accepted it, or the claimer
    taker_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    post: Mapped[str] = mapped_column(String(64))
    shift: Mapped[str] = mapped_column(String(64))
    date: Mapped[dt.date] = mapped_column(Date)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: a swap: the taker's shift the offerer takes in exchange
    back_post: Mapped[str | None] = mapped_column(String(64))
    back_shift: Mapped[str | None] = mapped_column(String(64))
    back_date: Mapped[dt.date | None] = mapped_column(Date)
    deadline: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    published_version: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    taken_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(200))
    #: why it was refused, or failed
    reason: Mapped[str | None] = mapped_column(String(500))


class ShiftChangeEventRow(Base):
    """The audit trail: one row per step of a change."""

    __tablename__ = "shift_change_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("shift_changes.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: "volunteer:<id>", "coordinator:<token name>" or "rota" (an automatic step)
    actor: Mapped[str] = mapped_column(String(200))
    #: offered, accepted, claimed, approved, refused, withdrawn, expired, failed, published
    action: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(String(500))


# ------------------------------------------------------------------------------------------ policy


def policy_row(session: Session, site_id: int) -> SwapPolicyRow | None:
    return session.get(SwapPolicyRow, site_id)


def set_policy(
    session: Session, site_id: int, approval: Approval, deadline_hours: int, now: dt.datetime
) -> SwapPolicyRow:
    row = policy_row(session, site_id)
    if row is None:
        row = SwapPolicyRow(
            site_id=site_id, approval=approval.value, deadline_hours=deadline_hours, updated_at=now
        )
        session.add(row)
    else:
        row.approval, row.deadline_hours, row.updated_at = approval.value, deadline_hours, now
    session.flush()
    return row


# ----------------------------------------------------------------------------------------- changes


def add_change(session: Session, row: ShiftChangeRow, actor: str, action: str, detail: str | None = None):
    session.add(row)
    session.flush()
    record(session, row, actor, action, row.created_at, detail)
    return row


def record(
    session: Session, row: ShiftChangeRow, actor: str, action: str, at: dt.datetime, detail: str | None = None
) -> ShiftChangeEventRow:
    event = ShiftChangeEventRow(
        site_id=row.site_id,
        change_id=row.id,
        at=at,
        actor=actor,
        action=action,
        detail=None if detail is None else detail[:500],
    )
    session.add(event)
    session.flush()
    return event


def get_change(session: Session, site_id: int, change_id: int, *, lock: bool = False) -> ShiftChangeRow:
    """The site's change, read afresh (another request may just have changed it); NotFoundError for
    another site's or an unknown id."""
    query = select(ShiftChangeRow).where(ShiftChangeRow.id == change_id, ShiftChangeRow.site_id == site_id)
    query = query.execution_options(populate_existing=True)
    if lock:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise NotFoundError(f"shift change {change_id}")
    return row


def list_changes(
    session: Session,
    site_id: int,
    *,
    states: tuple[State, ...] | None = None,
    volunteer_id: int | None = None,
    limit: int = 200,
) -> list[ShiftChangeRow]:
    """The site's changes, newest first; ``volunteer_id``: those they give or take."""
    query = select(ShiftChangeRow).where(ShiftChangeRow.site_id == site_id)
    if states is not None:
        query = query.where(ShiftChangeRow.state.in_([s.value for s in states]))
    if volunteer_id is not None:
        query = query.where(
            (ShiftChangeRow.offerer_id == volunteer_id) | (ShiftChangeRow.taker_id == volunteer_id)
        )
    return list(session.scalars(query.order_by(ShiftChangeRow.id.desc()).limit(limit)))


def open_offers(session: Session, site_id: int) -> list[ShiftChangeRow]:
    """Offers waiting for a taker, soonest shift first."""
    query = select(ShiftChangeRow).where(
        ShiftChangeRow.site_id == site_id, ShiftChangeRow.state == State.open.value
    )
    return list(session.scalars(query.order_by(ShiftChangeRow.starts_at, ShiftChangeRow.id)))


def next_approving(session: Session) -> tuple[int, int] | None:
    """(site id, change id) of the change that has waited longest for the worker to publish it, of any
    site; None when none waits."""
    query = (
        select(ShiftChangeRow.site_id, ShiftChangeRow.id)
        .where(ShiftChangeRow.state == State.approving.value)
        .order_by(ShiftChangeRow.decided_at, ShiftChangeRow.id)
        .limit(1)
    )
    found = session.execute(query).first()
    return None if found is None else (found[0], found[1])


def events_of(
    session: Session, site_id: int, change_ids: list[int] | None = None
) -> list[ShiftChangeEventRow]:
    """The audit trail, oldest first (of some changes, or the site's last 500 steps)."""
    query = select(ShiftChangeEventRow).where(ShiftChangeEventRow.site_id == site_id)
    if change_ids is not None:
        query = query.where(ShiftChangeEventRow.change_id.in_(change_ids))
        return list(session.scalars(query.order_by(ShiftChangeEventRow.id)))
    rows = list(session.scalars(query.order_by(ShiftChangeEventRow.id.desc()).limit(500)))
    return rows[::-1]
