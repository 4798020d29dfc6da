"""Swaps, give-aways and open shifts: offered, taken, approved and published as one step each (the
caller's unit of work commits it).

* **Offer** (:func:`offer`): a volunteer offers one of their published shifts that starts after the
  site's deadline (``deadline_hours`` before it): to anyone who could take it, to one named volunteer,
  or as a swap for one named shift of the taker's. An offer to a named volunteer must already be
  rule-clean. Until it is taken the shift stays the offerer's.
* **Accept** (:func:`accept`) and **claim** (:func:`claim`): with the site row locked, the change is
  checked again against the published schedule as it is now (:mod:`scheduler.domain.swaps`: the
  independent checker on the changed schedule), so two people cannot both take one shift and two
  claims of one open place cannot both win. Under the site's policy it then waits for a coordinator
  (``coordinator``) or, being rule-clean, is approved at once (``auto``). These checks compile only the
  slice of the site they need (:func:`published` with ``people``): the people involved and everyone on
  the slots touched, not every volunteer.
* **Approve** (:func:`decide`): checked once more, then the changed schedule is checked in full by
  :func:`scheduler.domain.check.validate` (nothing it did not find before may appear) and published as
  a new version (:func:`scheduler.services.publishing.publish_schedule`): both feeds update, the one
  who gave the shift up sees it CANCELLED. A change that is no longer possible then *fails*, with the
  reason. On a site of more than ``ROTA_INLINE_COMPILE_PAIRS`` volunteers x slots the whole-site part
  is not done in the request: the change, checked on its slice, is *approving* and the worker
  publishes or fails it (:func:`publish_next_approved`).
* **Who could take my shift** (:func:`candidates`): everyone is asked, in two steps that never compile
  the whole site (:func:`scheduler.domain.swaps.takers_in_two_steps`).

Every step is in the audit trail (who, what, when) and the site's webhook hears ``swap.offered``,
``swap.accepted``, ``shift.claimed``, ``swap.approved`` / ``shift.claim_approved``, ``swap.refused``,
``swap.failed`` (names and contacts of the two people and the shifts; never anything about health).

Volunteers are known by their calendar feed token (:func:`me`): only a volunteer's own feed opens
their pages; any other token is a 404 that reveals nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field
from sqlalchemy.orm import Session

from scheduler.domain import check as full_check
from scheduler.domain import scenario as sc
from scheduler.domain import swaps as domain
from scheduler.domain.clock import utc
from scheduler.domain.compile import Compiled, ScenarioError, compile_scenario, shift_id
from scheduler.domain.errors import ConflictError, FieldProblem, InputError, NotFoundError
from scheduler.domain.schedule import Assignment, Schedule
from scheduler.services import publishing
from scheduler.store import access, sites, webhooks
from scheduler.store import schedules as schedule_store
from scheduler.store import swaps as store
from scheduler.store.jobs import job_scenario
from scheduler.store.swaps import Approval, Kind, ShiftChangeRow, State
from scheduler.store.volunteers import VolunteerRow, list_volunteers

ROTA = "rota"


def volunteer_actor(row: VolunteerRow) -> str:
    return f"volunteer:{row.key}"


def coordinator_actor(name: str) -> str:
    return f"coordinator:{name}"


# --------------------------------------------------------------------------------------------------
# requests


class ShiftKey(sc.Model):
    """One shift: the post, the shift template and the local date it starts."""

    post: sc.Id
    shift: sc.Id
    date: dt.date


class OfferRequest(ShiftKey):
    """Offer one of my shifts: given away (to anyone who could take it, or to ``to``), or swapped for
    ``back``, one of ``to``'s shifts."""

    kind: Literal["give", "swap"] = "give"
    to: sc.Id | None = Field(default=None, description="The volunteer it is offered to (required for a swap)")
    back: ShiftKey | None = Field(default=None, description="A swap: the shift of `to` I take in exchange")


class Policy(sc.Model):
    approval: Approval = Field(
        default=store.DEFAULT_APPROVAL,
        description="coordinator: a coordinator approves every accepted swap and claim; auto: a rule-clean "
        "one is approved and published at once",
    )
    deadline_hours: int = Field(
        default=store.DEFAULT_DEADLINE_HOURS,
        ge=0,
        le=168,
        description="Offers, acceptances, claims and approvals close this many hours before the shift",
    )


class Decision(sc.Model):
    approve: bool
    reason: str | None = Field(default=None, max_length=500, description="Why (shown to the volunteers)")


# --------------------------------------------------------------------------------------------------
# who is asking, what is published


@dataclass(frozen=True)
class Me:
    site: sites.SiteRow
    volunteer: VolunteerRow


def me(session: Session, token: str) -> Me:
    """The volunteer whose own calendar feed ``token`` opens; NotFoundError (revealing nothing) for any
    other token: unknown, revoked, a post's or a site's feed."""
    try:
        feed = access.resolve_feed_token(session, token)
    except NotFoundError:
        raise NotFoundError("page") from None
    volunteer = session.get(VolunteerRow, feed.volunteer_id) if feed.volunteer_id is not None else None
    if volunteer is None or volunteer.site_id != feed.site_id:
        raise NotFoundError("page")
    return Me(site=sites.get_site(session, feed.site_id), volunteer=volunteer)


@dataclass(frozen=True)
class Published:
    """The published schedule and the site compiled over its horizon: the whole site, or (``people`` not
    None) a slice of it: only those volunteers, with their own published shifts (``schedule`` then holds
    only theirs; its uncovered list is the whole one) and every slot of every post."""

    version: int
    schedule: Schedule
    compiled: Compiled
    people: frozenset[str] | None = None

    @property
    def scenario(self) -> sc.Scenario:
        return self.compiled.scenario


Crew = tuple[str, str, dt.date]  # (post, shift template, date): one slot


def published(
    session: Session,
    site: sites.SiteRow,
    people: Iterable[str] | None = None,
    crews: Iterable[Crew] = (),
    *,
    open_crews: bool = False,
    access_limits: bool = True,
    of: Published | None = None,
) -> Published:
    """The published schedule and the site as it is now over its horizon (ConflictError without one).

    With ``people`` only what the rules of a change among them need is compiled
    (:func:`scheduler.domain.swaps.slice_of`, read by :func:`scheduler.store.sites.export_slice`): those
    volunteers and everyone the published schedule has
    on the ``crews`` (the slots the change touches: their headcount cap, pairs and skills; with
    ``open_crews`` also every uncovered slot), instead of every volunteer of the site. The checker's
    verdict on such a change is the same on the slice as on the whole site
    (tests/scheduler/domain/test_swap_slice.py).

    Without ``access_limits`` the site is compiled without anyone's availability, absences, health or
    preferences (:func:`scheduler.domain.swaps.without_access_limits`): every person and slot, for a
    pass over the people instead of people x slots; only good for the first step of
    :func:`scheduler.domain.swaps.takers_in_two_steps`.

    ``of``: the published schedule as an earlier call (on the whole site) read it, not read and parsed
    again: the same version for both steps of one answer."""
    if of is not None and of.people is None:
        number, schedule, horizon = of.version, of.schedule, of.scenario.horizon
    else:
        try:
            version = schedule_store.published(session, site)
        except NotFoundError:
            raise ConflictError("there is no published schedule yet") from None
        number, schedule = version.number, version.model
        horizon = sc.Horizon(start=version.horizon_start, days=version.horizon_days)
    included: frozenset[str] | None = None
    if people is None:
        site_scenario = sites.export_scenario(session, site)
    else:
        crews = list(crews)
        if open_crews:
            crews += [(u.post, u.shift, u.date) for u in schedule.uncovered]
        included = domain.involved(schedule, people, crews)
        schedule = domain.schedule_slice(schedule, included)
        site_scenario = sites.export_slice(session, site, included)  # only their rows are read
    if schedule.timezone != site_scenario.site.timezone:
        raise ConflictError("the published schedule is in another time zone than the site: publish a new one")
    scenario = job_scenario(site_scenario, horizon)
    if not access_limits:
        scenario = domain.without_access_limits(scenario)
    try:
        compiled = compile_scenario(scenario)
    except ScenarioError as exc:
        raise ConflictError("the site cannot be planned as it is: " + "; ".join(exc.problems)) from None
    return Published(version=number, schedule=schedule, compiled=compiled, people=included)


def policy(session: Session, site_id: int) -> Policy:
    row = store.policy_row(session, site_id)
    if row is None:
        return Policy()
    return Policy(approval=Approval(row.approval), deadline_hours=row.deadline_hours)


def set_policy(session: Session, site_id: int, value: Policy, now: dt.datetime) -> Policy:
    store.set_policy(session, site_id, value.approval, value.deadline_hours, now)
    return value


def _people(session: Session, site_id: int) -> dict[int, VolunteerRow]:
    return {v.id: v for v in list_volunteers(session, site_id)}


def _sid(key: ShiftKey | tuple[str, str, dt.date]) -> str:
    if isinstance(key, ShiftKey):
        return shift_id(key.post, key.shift, key.date)
    return shift_id(*key)


def my_shifts(pub: Published, volunteer: str, after: dt.datetime) -> list[Assignment]:
    """The volunteer's published shifts that start after ``after``, soonest first."""
    mine = [a for a in pub.schedule.assignments if a.volunteer == volunteer and utc(a.start) > utc(after)]
    return sorted(mine, key=lambda a: utc(a.start))


def _deadline(pub: Published, sid: str, hours: int) -> dt.datetime:
    return utc(pub.compiled.slots[sid].start) - dt.timedelta(hours=hours)


# --------------------------------------------------------------------------------------------------
# a change as pairs


def pairs_of(row: ShiftChangeRow, people: dict[int, VolunteerRow]) -> tuple[list, list]:
    """(remove, add): the (volunteer id, shift id) pairs the change takes out of and puts into the
    schedule."""
    sid = shift_id(row.post, row.shift, row.date)
    taker = people[row.taker_id].key if row.taker_id is not None else None
    if row.kind == Kind.claim:
        return [], [(taker, sid)]
    offerer = people[row.offerer_id].key
    remove, add = [(offerer, sid)], [(taker, sid)]
    if row.kind == Kind.swap:
        back = shift_id(row.back_post, row.back_shift, row.back_date)
        remove.append((taker, back))
        add.append((offerer, back))
    return remove, add


def _crews(row: ShiftChangeRow) -> list[Crew]:
    """The slots a change touches."""
    out = [(row.post, row.shift, row.date)]
    if row.back_post is not None:
        out.append((row.back_post, row.back_shift, row.back_date))
    return out


def _change_people(row: ShiftChangeRow, people: dict[int, VolunteerRow]) -> list[str]:
    return [people[i].key for i in (row.offerer_id, row.taker_id) if i is not None and i in people]


def _breaches_text(breaches: list[domain.Breach]) -> str:
    return "; ".join(b.message for b in breaches[:3])


def expire_due(session: Session, site_id: int, now: dt.datetime) -> None:
    """Mark the site's live changes whose deadline has passed as expired (with an audit entry)."""
    for row in store.list_changes(session, site_id, states=store.LIVE, limit=1000):
        if row.deadline <= now:
            row.state = State.expired.value
            store.record(session, row, ROTA, "expired", now, "the deadline before the shift passed")
    session.flush()


# --------------------------------------------------------------------------------------------------
# asking


def candidates(
    session: Session, who: Me, key: ShiftKey, *, swap: bool, now: dt.datetime
) -> list[domain.Taker]:
    """Who could take my shift ``key`` (or swap it, for which of their shifts), least loaded first.

    Everyone is asked, without compiling the whole site (:func:`scheduler.domain.swaps.takers_in_two_steps`):
    every take is checked on the site compiled without availability and health, then the few left on
    the slice of the people they move, compiled in full. The list is the one the whole site gives."""
    return _candidates(session, who, key, (swap,), now)[0]


def offer_candidates(
    session: Session, who: Me, key: ShiftKey, now: dt.datetime
) -> tuple[list[domain.Taker], list[domain.Taker]]:
    """(who could take my shift ``key``, who could swap it): :func:`candidates` both ways, the site read
    and compiled once (the offer page shows both)."""
    give, trade = _candidates(session, who, key, (False, True), now)
    return give, trade


def _candidates(
    session: Session, who: Me, key: ShiftKey, ways: tuple[bool, ...], now: dt.datetime
) -> list[list[domain.Taker]]:
    pub = published(session, who.site, access_limits=False)
    sid = _sid(key)
    after = now + dt.timedelta(hours=policy(session, who.site.id).deadline_hours)

    def exact(people: set[str]):
        part = published(session, who.site, people, of=pub)
        return part.compiled, part.schedule

    return [
        domain.takers_in_two_steps(
            pub.compiled, pub.schedule, exact, who.volunteer.key, sid, swap=swap, after=after
        )
        for swap in ways
    ]


def open_shifts(session: Session, who: Me, now: dt.datetime) -> list[domain.OpenShift]:
    pub = published(session, who.site, [who.volunteer.key], open_crews=True)
    after = now + dt.timedelta(hours=policy(session, who.site.id).deadline_hours)
    return domain.open_shifts(pub.compiled, pub.schedule, who.volunteer.key, after=after)


def offers_for(session: Session, who: Me, now: dt.datetime) -> list[ShiftChangeRow]:
    """Open offers I could accept: made to me or to anyone, and rule-clean for me now."""
    people = _people(session, who.site.id)
    rows = [
        row for row in store.open_offers(session, who.site.id)
        if row.deadline > now and row.offerer_id != who.volunteer.id
        and (row.taker_id is None or row.taker_id == who.volunteer.id) and row.offerer_id in people
    ]
    if not rows:
        return []
    keys = {who.volunteer.key} | {people[r.offerer_id].key for r in rows}
    pub = published(session, who.site, keys, [c for r in rows for c in _crews(r)])
    out = []
    for row in rows:
        probe = _with_taker(row, who.volunteer.id)
        remove, add = pairs_of(probe, people)
        if not domain.change_problems(pub.compiled, pub.schedule, remove, add):
            out.append(row)
    return out


def _with_taker(row: ShiftChangeRow, taker_id: int) -> ShiftChangeRow:
    columns = [col.key for col in ShiftChangeRow.__table__.columns]
    probe = ShiftChangeRow(**{c: getattr(row, c) for c in columns})
    probe.taker_id = taker_id
    return probe


# --------------------------------------------------------------------------------------------------
# offering, taking, claiming, withdrawing


def offer(session: Session, who: Me, request: OfferRequest, now: dt.datetime) -> ShiftChangeRow:
    """Offer one of my shifts (see the module's description); InputError naming the field."""
    site = sites.lock_site(session, who.site.id)
    named = None
    if request.to is not None:
        named = next((v for v in list_volunteers(session, site.id) if v.key == request.to), None)
    crews: list[Crew] = [(request.post, request.shift, request.date)]
    if request.back is not None:
        crews.append((request.back.post, request.back.shift, request.back.date))
    involved = [who.volunteer.key] + ([named.key] if named is not None else [])
    pub = published(session, site, involved, crews)
    me_key = who.volunteer.key
    sid = _sid(request)
    pairs = set(domain.pairs_of(pub.compiled, pub.schedule))
    if (me_key, sid) not in pairs:
        raise InputError("offer", [FieldProblem("shift", "is not one of your published shifts")])
    hours = policy(session, site.id).deadline_hours
    deadline = _deadline(pub, sid, hours)
    if now >= deadline:
        raise InputError("offer", [FieldProblem("date", f"offers close {hours} h before the shift starts")])
    live = store.list_changes(session, site.id, states=store.IN_FLIGHT, volunteer_id=who.volunteer.id)
    if any(r.offerer_id == who.volunteer.id and _sid((r.post, r.shift, r.date)) == sid for r in live):
        raise ConflictError("this shift is already offered: withdraw that offer first")
    taker: VolunteerRow | None = None
    if request.to is not None:
        taker = named
        if taker is None or taker.id == who.volunteer.id:
            raise InputError("offer", [FieldProblem("to", "is not another volunteer of this site")])
    if request.kind == "swap" and (taker is None or request.back is None):
        missing = [
            FieldProblem(f, "is required for a swap") for f in ("to", "back") if getattr(request, f) is None
        ]
        raise InputError("offer", missing)
    if request.kind == "give" and request.back is not None:
        raise InputError("offer", [FieldProblem("back", "only for a swap")])
    row = ShiftChangeRow(
        site_id=site.id,
        kind=request.kind,
        state=State.open.value,
        offerer_id=who.volunteer.id,
        taker_id=taker.id if taker is not None else None,
        post=request.post,
        shift=request.shift,
        date=request.date,
        starts_at=utc(pub.compiled.slots[sid].start),
        deadline=deadline,
        created_at=now,
    )
    if request.back is not None:
        assert taker is not None
        back = _sid(request.back)
        if (taker.key, back) not in pairs:
            raise InputError(
                "offer", [FieldProblem("back", f"is not one of {taker.name}'s published shifts")]
            )
        if now >= _deadline(pub, back, hours):
            raise InputError(
                "offer", [FieldProblem("back", f"swaps close {hours} h before the shift starts")]
            )
        row.back_post, row.back_shift, row.back_date = (
            request.back.post,
            request.back.shift,
            request.back.date,
        )
        row.deadline = min(deadline, _deadline(pub, back, hours))
    if taker is not None:
        people = {who.volunteer.id: who.volunteer, taker.id: taker}
        breaches = domain.change_problems(pub.compiled, pub.schedule, *pairs_of(row, people))
        if breaches:
            raise InputError("offer", [FieldProblem("to", "would break a rule: " + _breaches_text(breaches))])
    store.add_change(
        session, row, volunteer_actor(who.volunteer), "offered", _describe(row, _people(session, site.id))
    )
    _notify(session, site, row, "swap.offered", now)
    return row


def accept(
    session: Session, who: Me, change_id: int, now: dt.datetime, keep_cancelled: dt.timedelta,
    *, inline_pairs: int | None = None,
) -> ShiftChangeRow:
    """Take an open offer (made to me, or to anyone): checked again now, with the site locked; then
    pending, or approved and published at once under the ``auto`` policy (on a large site, approved
    and left to the worker to publish: see :func:`decide`)."""
    site = sites.lock_site(session, who.site.id)
    row = store.get_change(session, site.id, change_id, lock=True)
    if (
        row.kind == Kind.claim
        or row.offerer_id == who.volunteer.id
        or (row.taker_id is not None and row.taker_id != who.volunteer.id)
    ):
        raise NotFoundError(f"offer {change_id}")
    _live(row, State.open, now)
    people = _people(session, site.id)
    probe = _with_taker(row, who.volunteer.id)
    pub = published(session, site, _change_people(probe, people), _crews(row))
    breaches = domain.change_problems(pub.compiled, pub.schedule, *pairs_of(probe, people))
    if breaches:
        raise ConflictError("you cannot take this shift: " + _breaches_text(breaches))
    row.taker_id, row.state, row.taken_at = who.volunteer.id, State.pending.value, now
    store.record(session, row, volunteer_actor(who.volunteer), "accepted", now)
    _notify(session, site, row, "swap.accepted", now)
    if policy(session, site.id).approval == Approval.auto:
        _approve(session, site, row, ROTA, now, keep_cancelled, inline_pairs)
    return row


def claim(
    session: Session, who: Me, key: ShiftKey, now: dt.datetime, keep_cancelled: dt.timedelta,
    *, inline_pairs: int | None = None,
) -> ShiftChangeRow:
    """Claim an open shift: first come. With the site row locked, the published schedule is read again
    and the claim checked against it, so of two simultaneous claims of the last open place exactly one
    wins (the other is a ConflictError, or on SQLite a database-busy error, and nothing is written)."""
    site = sites.lock_site(session, who.site.id)
    pub = published(session, site, [who.volunteer.key], [(key.post, key.shift, key.date)])
    sid = _sid(key)
    hours = policy(session, site.id).deadline_hours
    open_now = _open_to(pub, who.volunteer.key, sid)
    if sid not in open_now:
        if sid in pub.compiled.slots and not _short(pub, sid):
            raise ConflictError("this shift is no longer open: someone else took it")
        breaches = domain.change_problems(pub.compiled, pub.schedule, [], [(who.volunteer.key, sid)])
        why = (
            _breaches_text(breaches) if sid in pub.compiled.slots and breaches else "it is not an open shift"
        )
        raise ConflictError("you cannot take this shift: " + why)
    deadline = _deadline(pub, sid, hours)
    if now >= deadline:
        raise ConflictError(f"claims close {hours} h before the shift starts")
    mine = store.list_changes(session, site.id, states=store.IN_FLIGHT, volunteer_id=who.volunteer.id)
    if any(r.kind == Kind.claim and _sid((r.post, r.shift, r.date)) == sid for r in mine):
        raise ConflictError("you have already claimed this shift")
    row = ShiftChangeRow(
        site_id=site.id,
        kind=Kind.claim.value,
        state=State.pending.value,
        taker_id=who.volunteer.id,
        post=key.post,
        shift=key.shift,
        date=key.date,
        starts_at=utc(pub.compiled.slots[sid].start),
        deadline=deadline,
        created_at=now,
        taken_at=now,
    )
    store.add_change(session, row, volunteer_actor(who.volunteer), "claimed")
    _notify(session, site, row, "shift.claimed", now)
    if policy(session, site.id).approval == Approval.auto:
        _approve(session, site, row, ROTA, now, keep_cancelled, inline_pairs)
        if row.state not in (State.approved, State.approving):
            raise ConflictError(f"this shift could not be given to you: {row.reason}")
    return row


def _open_to(pub: Published, volunteer: str, sid: str) -> set[str]:
    """{sid} if it is an open shift ``volunteer`` could take, else empty (asked of that slot alone: a
    slice of the site knows the crew of that slot only)."""
    only = [u for u in pub.schedule.uncovered if _sid((u.post, u.shift, u.date)) == sid]
    schedule = pub.schedule.model_copy(update={"uncovered": only})
    return {o.shift for o in domain.open_shifts(pub.compiled, schedule, volunteer)}


def _short(pub: Published, sid: str) -> bool:
    return any(_sid((u.post, u.shift, u.date)) == sid for u in pub.schedule.uncovered)


def withdraw(session: Session, who: Me, change_id: int, now: dt.datetime) -> ShiftChangeRow:
    """Withdraw my offer or my claim while it is still open or pending."""
    site = sites.lock_site(session, who.site.id)
    row = store.get_change(session, site.id, change_id, lock=True)
    mine = row.offerer_id == who.volunteer.id if row.kind != Kind.claim else row.taker_id == who.volunteer.id
    if not mine:
        raise NotFoundError(f"shift change {change_id}")
    if row.state not in store.LIVE:
        raise ConflictError(f"it is already {row.state}")
    row.state, row.decided_at, row.decided_by = State.withdrawn.value, now, volunteer_actor(who.volunteer)
    store.record(session, row, volunteer_actor(who.volunteer), "withdrawn", now)
    return row


# --------------------------------------------------------------------------------------------------
# the coordinator


def decide(
    session: Session,
    site_id: int,
    change_id: int,
    decision: Decision,
    actor: str,
    now: dt.datetime,
    keep_cancelled: dt.timedelta,
    *,
    inline_pairs: int | None = None,
) -> ShiftChangeRow:
    """Approve a pending change (checked again and published, or failed with the reason) or refuse a
    pending or open one.

    Publishing checks the whole site (:func:`_approve`). On a site of more than ``inline_pairs``
    volunteers x slots (``ROTA_INLINE_COMPILE_PAIRS``; None: no limit) that is not done in the request:
    the change, checked on its slice, is ``approving`` and the worker publishes it, or fails it with
    the reason (:func:`publish_next_approved`)."""
    site = sites.lock_site(session, site_id)
    row = store.get_change(session, site.id, change_id, lock=True)
    if decision.approve:
        if row.state == State.open:
            raise ConflictError("nobody has taken this offer yet: there is nothing to approve")
        _live(row, State.pending, now)
        _approve(session, site, row, actor, now, keep_cancelled, inline_pairs)
        return row
    if row.state not in store.LIVE:
        raise ConflictError(f"it is already {row.state}")
    row.state, row.decided_at, row.decided_by = State.refused.value, now, actor
    row.reason = decision.reason
    store.record(session, row, actor, "refused", now, decision.reason)
    _notify(session, site, row, "swap.refused", now)
    return row


def _live(row: ShiftChangeRow, state: State, now: dt.datetime) -> None:
    if row.state != state:
        raise ConflictError(f"it is {row.state}, not {state.value}")
    if row.deadline <= now:
        raise ConflictError("its deadline before the shift has passed")


def _approve(
    session: Session,
    site: sites.SiteRow,
    row: ShiftChangeRow,
    actor: str,
    now: dt.datetime,
    keep_cancelled: dt.timedelta,
    inline_pairs: int | None = None,
) -> None:
    """Check the change once more against the published schedule (on the slice of the site it needs),
    then publish it; or mark it failed.

    Publishing needs the whole site once: the changed schedule's objective (its fairness and load terms
    are over all volunteers) and the full check of the version to be published
    (:func:`scheduler.domain.check.validate`, nothing new may appear) are whole-site properties. On a
    site of more than ``inline_pairs`` volunteers x slots the change is left ``approving`` for the
    worker (:func:`publish_next_approved`) instead."""
    people = _people(session, site.id)
    remove, add = pairs_of(row, people)
    pub = published(session, site, _change_people(row, people), _crews(row))
    breaches = domain.change_problems(pub.compiled, pub.schedule, remove, add)
    if row.kind == Kind.claim and add[0][1] not in _open_to(pub, add[0][0], add[0][1]):
        not_open = domain.Breach("not_open", None, add[0][1], "the shift is no longer open")
        breaches = [not_open] if not _short(pub, add[0][1]) else breaches or [not_open]
    if breaches:
        _failed(session, site, row, actor, now, _breaches_text(breaches))
        return
    if inline_pairs is not None and len(people) * len(pub.compiled.slots) > inline_pairs:
        row.state, row.decided_at, row.decided_by = State.approving.value, now, actor
        detail = "the worker checks the whole site and publishes it"
        store.record(session, row, actor, "approving", now, detail)
        session.flush()
        return
    pub = published(session, site)
    reason = "given up in a swap" if row.kind != Kind.claim else ""
    changed = domain.changed_schedule(pub.compiled, pub.schedule, remove, add, reason=reason)
    breaches = _new_findings(pub, changed)
    if breaches:
        _failed(session, site, row, actor, now, _breaches_text(breaches))
        return
    version = publishing.publish_schedule(session, site, changed, row.kind, now, keep_cancelled)
    row.state, row.decided_at, row.decided_by = State.approved.value, now, actor
    row.published_version = version.number
    store.record(session, row, actor, "approved", now, f"published as version {version.number}")
    _notify(session, site, row, "shift.claim_approved" if row.kind == Kind.claim else "swap.approved", now)


def _failed(
    session: Session, site: sites.SiteRow, row: ShiftChangeRow, actor: str, now: dt.datetime, reason: str
) -> None:
    row.state, row.decided_at, row.decided_by = State.failed.value, now, actor
    row.reason = reason[:500]
    store.record(session, row, actor, "failed", now, row.reason)
    _notify(session, site, row, "swap.failed", now)


def next_approved(session: Session) -> tuple[int, int] | None:
    """(site id, change id) of the change that has waited longest in ``approving``, or None."""
    return store.next_approving(session)


def publish_next_approved(session: Session, now: dt.datetime, keep_cancelled: dt.timedelta) -> int | None:
    """:func:`publish_approved` of the change that has waited longest in ``approving``: its id, or None
    when none waits."""
    found = next_approved(session)
    if found is None:
        return None
    publish_approved(session, *found, now, keep_cancelled)
    return found[1]


def publish_approved(
    session: Session, site_id: int, change_id: int, now: dt.datetime, keep_cancelled: dt.timedelta
) -> None:
    """The worker's part of an approval on a large site (:func:`decide`): with the change's site locked,
    check it again against the published schedule as it is now (on its slice, then the whole site) and
    publish it, or fail it with the reason; webhooks and the audit trail as for an approval in the
    request. A change whose shift started meanwhile fails; one no longer ``approving`` (another worker
    was first) is left as it is. Nothing is lost if the worker dies on the way: the change stays
    ``approving`` until a worker's unit of work publishes or fails it."""
    site = sites.lock_site(session, site_id)
    row = store.get_change(session, site_id, change_id, lock=True)
    if row.state != State.approving:
        return
    actor = row.decided_by or ROTA
    if utc(row.starts_at) <= utc(now):
        _failed(session, site, row, actor, now, "the shift started before the change could be published")
        return
    try:
        _approve(session, site, row, actor, now, keep_cancelled)
    except (ConflictError, InputError) as exc:  # e.g. the site cannot be planned as it is now
        _failed(session, site, row, actor, now, str(exc))


def fail_approved(session: Session, site_id: int, change_id: int, now: dt.datetime, reason: str) -> None:
    """Fail, with ``reason``, the change :func:`publish_approved` raised on, if it is still
    ``approving`` (not another one: another worker may have published that one meanwhile)."""
    site = sites.lock_site(session, site_id)
    row = store.get_change(session, site_id, change_id, lock=True)
    if row.state == State.approving:
        _failed(session, site, row, row.decided_by or ROTA, now, reason)


def _new_findings(pub: Published, changed: Schedule) -> list[domain.Breach]:
    """What the full checker finds in the changed schedule that it did not find in the published one."""

    def key(v: full_check.Violation) -> tuple:
        return (v.rule, v.volunteer, v.post, v.date)

    before = {key(v) for v in full_check.validate(pub.scenario, pub.schedule, compiled=pub.compiled)}
    return [
        domain.Breach(v.rule, v.volunteer, None, v.message)
        for v in full_check.validate(pub.scenario, changed, compiled=pub.compiled)
        if key(v) not in before
    ]


# --------------------------------------------------------------------------------------------------
# describing


def _shift_text(post: str, shift: str, date: dt.date) -> str:
    return f"{post}/{shift} {date.isoformat()}"


def _describe(row: ShiftChangeRow, people: dict[int, VolunteerRow]) -> str:
    what = _shift_text(row.post, row.shift, row.date)
    to = people[row.taker_id].key if row.taker_id in people else "anyone"
    if row.kind == Kind.swap:
        return f"{what} for {_shift_text(row.back_post, row.back_shift, row.back_date)} of {to}"
    return f"{what} to {to}"


def _person(row: VolunteerRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    contact = row.contact or {}
    return {
        "volunteer": row.key,
        "name": row.name,
        "phone": contact.get("phone"),
        "email": contact.get("email"),
    }


def _notify(session: Session, site: sites.SiteRow, row: ShiftChangeRow, event: str, now: dt.datetime) -> None:
    people = _people(session, site.id)
    body: dict[str, Any] = {
        "site": {"id": site.id, "name": site.name},
        "change": {
            "id": row.id,
            "kind": row.kind,
            "state": row.state,
            "shift": {
                "post": row.post,
                "shift": row.shift,
                "date": row.date.isoformat(),
                "start": row.starts_at.isoformat(),
            },
            "back": None
            if row.back_post is None
            else {"post": row.back_post, "shift": row.back_shift, "date": row.back_date.isoformat()},
            "from": _person(people.get(row.offerer_id)),
            "to": _person(people.get(row.taker_id)),
            "reason": row.reason,
        },
        "version": row.published_version,
        "at": now.isoformat(),
    }
    webhooks.enqueue_event(session, site.id, event, body, now)


# --------------------------------------------------------------------------------------------------
# reading


@dataclass(frozen=True)
class ChangeView:
    """A change with the people it names and its audit trail."""

    row: ShiftChangeRow
    offerer: VolunteerRow | None
    taker: VolunteerRow | None
    events: list[store.ShiftChangeEventRow]


def views(session: Session, site_id: int, rows: list[ShiftChangeRow]) -> list[ChangeView]:
    people = _people(session, site_id)
    trail: dict[int, list[store.ShiftChangeEventRow]] = {}
    for event in store.events_of(session, site_id, [r.id for r in rows]) if rows else []:
        trail.setdefault(event.change_id, []).append(event)
    return [
        ChangeView(r, people.get(r.offerer_id), people.get(r.taker_id), trail.get(r.id, [])) for r in rows
    ]


def listing(
    session: Session,
    site_id: int,
    now: dt.datetime,
    *,
    states: tuple[State, ...] | None = None,
    volunteer_id: int | None = None,
) -> list[ChangeView]:
    """The site's changes (newest first), those past their deadline marked expired first."""
    expire_due(session, site_id, now)
    return views(
        session, site_id, store.list_changes(session, site_id, states=states, volunteer_id=volunteer_id)
    )


def view(session: Session, site_id: int, change_id: int, now: dt.datetime) -> ChangeView:
    expire_due(session, site_id, now)
    return views(session, site_id, [store.get_change(session, site_id, change_id)])[0]
