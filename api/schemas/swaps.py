"""The HTTP API's models for shift changes (swaps, give-aways, claims of open shifts)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from scheduler.services.swaps import ChangeView, Decision, Policy

__all__ = ["ChangeOut", "Decision", "EventOut", "Policy", "ShiftOut", "change_out"]


class ShiftOut(BaseModel):
    post: str
    shift: str = Field(description="Shift template id")
    date: dt.date = Field(description="Local date on which the shift starts")


class EventOut(BaseModel):
    at: dt.datetime
    actor: str = Field(description="volunteer:<id>, coordinator:<token name> or rota (automatic)")
    action: str = Field(
        description="offered, accepted, claimed, approved, refused, withdrawn, expired, failed"
    )
    detail: str | None = None


class ChangeOut(BaseModel):
    id: int
    kind: str = Field(description="give (a give-away), swap, or claim (of an open shift)")
    state: str = Field(
        description="open, pending, approving (approved, the worker publishes it), approved, refused, "
        "withdrawn, expired or failed"
    )
    offerer: str | None = Field(description="Volunteer id of who gives the shift (none for a claim)")
    taker: str | None = Field(description="Volunteer id of who takes it (an offer to anyone: none yet)")
    shift: ShiftOut
    starts_at: dt.datetime
    back: ShiftOut | None = Field(description="A swap: the taker's shift the offerer takes in exchange")
    deadline: dt.datetime
    published_version: int | None = Field(description="The schedule version that carried it out")
    created_at: dt.datetime
    taken_at: dt.datetime | None
    decided_at: dt.datetime | None
    decided_by: str | None
    reason: str | None = Field(description="Why it was refused or failed")
    events: list[EventOut] = Field(description="The audit trail, oldest first")


def change_out(v: ChangeView) -> ChangeOut:
    r = v.row
    back = None
    if r.back_post is not None:
        back = ShiftOut(post=r.back_post, shift=r.back_shift or "", date=r.back_date or r.date)
    return ChangeOut(
        id=r.id,
        kind=r.kind,
        state=r.state,
        offerer=v.offerer.key if v.offerer else None,
        taker=v.taker.key if v.taker else None,
        shift=ShiftOut(post=r.post, shift=r.shift, date=r.date),
        starts_at=r.starts_at,
        back=back,
        deadline=r.deadline,
        published_version=r.published_version,
        created_at=r.created_at,
        taken_at=r.taken_at,
        decided_at=r.decided_at,
        decided_by=r.decided_by,
        reason=r.reason,
        events=[EventOut(at=e.at, actor=e.actor, action=e.action, detail=e.detail) for e in v.events],
    )
