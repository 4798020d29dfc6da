"""The change set of a re-solve: whom to call, what moved, what stays short, who shared a shift with an
infectious case; and its text for people."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import Field

from scheduler.domain.clock import utc
from scheduler.domain.compile import Compiled, Slot, compile_scenario
from scheduler.domain.disruptions import (
    _DAY,
    AnyDisruption,
    DemandChange,
    MarkIsolating,
    Model,
    NewPost,
    NewVolunteer,
    SickCall,
    Withdrawal,
    describe,
)
from scheduler.domain.residents import ResidentChange, changed_residents
from scheduler.domain.scenario import (
    HealthStatus,
    Pin,
    Scenario,
    Volunteer,
)
from scheduler.domain.schedule import Schedule, Uncovered
from solver.problem import Solution

# --------------------------------------------------------------------------------------------------
# The change set


class ShiftRef(Model):
    post: str
    shift: str = Field(description="Shift template id")
    date: dt.date
    start: dt.datetime
    end: dt.datetime
    reason: str | None = Field(
        default=None, description="For a removal the person may no longer work: why (e.g. 'sick')"
    )


class VolunteerChange(Model):
    """What changed for one volunteer after the cut-off."""

    volunteer: str
    name: str
    phone: str | None = None
    email: str | None = None
    subject: str | None = Field(
        default=None,
        description="Why this volunteer is concerned themselves: 'sick', 'withdrawn', 'isolating (contact)', "
        "'new volunteer'; None for everyone else",
    )
    removed: list[ShiftRef] = Field(default_factory=list)
    added: list[ShiftRef] = Field(default_factory=list)
    first_change: dt.datetime = Field(description="Start of the soonest changed shift")

    @property
    def forced_only(self) -> bool:
        """Only shifts they may no longer work were removed: nothing asked of them."""
        return not self.added and all(r.reason for r in self.removed)


class UnderWay(Model):
    """A shift under way at the cut-off of someone who may no longer work it: frozen, so it stays in
    the schedule; relief has to be arranged by hand."""

    volunteer: str
    name: str
    phone: str | None = None
    shift: ShiftRef


class UncoveredSlot(Model):
    post: str
    shift: str
    date: dt.date
    start: dt.datetime
    end: dt.datetime
    required: int
    assigned: int
    missing: int
    missing_skills: dict[str, int] = Field(default_factory=dict)
    reason: str = ""
    detail: str = ""
    new: bool = Field(description="Not short (or less short) in the previous schedule")
    missing_before: int = Field(description="People missing in the previous schedule (0 = it was staffed)")


class ContactPerson(Model):
    """Someone who shared a shift at the same post with an infectious volunteer before the cut-off."""

    volunteer: str
    name: str
    phone: str | None = None
    email: str | None = None
    of: str = Field(description="The infectious volunteer")
    shared: list[ShiftRef] = Field(description="Their shifts that overlapped, at the same post")
    last_shared: dt.datetime = Field(description="End of the latest shared shift")
    isolating: bool = Field(description="Marked isolating in this re-solve")


class ChangeSet(Model):
    site: str
    timezone: str
    cutoff: dt.datetime = Field(description="Nothing starting before this changed")
    disruptions: list[str]
    volunteers: list[VolunteerChange] = Field(description="Every volunteer with a change, soonest first")
    changed_others: int = Field(
        description="Assignments changed (added or removed) after the cut-off that the person could still "
        "work: the disruption to everyone else (the people a disruption concerns only lose what they can "
        "no longer work)"
    )
    changed_own: int = Field(description="Assignments removed because the person may no longer work them")
    restaffed: int = Field(
        description="Places after the cut-off vacated by people who may no longer work them"
    )
    new_places: int = Field(
        default=0, description="Places added after the cut-off (raised headcount, new post)"
    )
    under_way: list[UnderWay] = Field(default_factory=list)
    uncovered: list[UncoveredSlot] = Field(default_factory=list, description="Short slots after the cut-off")
    covered_again: int = Field(default=0, description="Slots after the cut-off short before, staffed now")
    contacts: list[ContactPerson] = Field(default_factory=list)
    contact_days: int | None = None
    released_pins: list[Pin] = Field(default_factory=list)
    method: str = Field(
        default="solver",
        description="'repair': people added to the short places, or short chains of changes (CP-SAT is "
        "only run while a place could still be filled, or on request, and had nothing better); "
        "'solver': CP-SAT found a better schedule (the exact local model of the chains around the short "
        "places, or with polish the whole-window search); 'previous': the previous schedule minus "
        "what may no longer be worked was best",
    )
    searched: bool = Field(default=False, description="Whether CP-SAT ran (the local model or the search)")
    residents: list[ResidentChange] = Field(
        default_factory=list,
        description="Vulnerable residents whose primary or backup changed, and whom to tell (the new "
        "guardian, the resident's kin)",
    )
    seconds: float = Field(description="Wall time of the whole re-solve")





# --------------------------------------------------------------------------------------------------
# building the change set


def _ref(slot: Slot, reason: str | None = None) -> ShiftRef:
    return ShiftRef(
        post=slot.post, shift=slot.template, date=slot.date, start=slot.start, end=slot.end, reason=reason
    )


def _subjects(disruptions: Sequence[AnyDisruption]) -> dict[str, str]:
    out: dict[str, str] = {}
    for d in disruptions:
        if isinstance(d, SickCall):
            out.setdefault(d.volunteer, d.status.value)
        elif isinstance(d, Withdrawal):
            out.setdefault(d.volunteer, "withdrawn")
        elif isinstance(d, MarkIsolating):
            for vid in d.volunteers:
                out.setdefault(vid, "isolating (contact)")
        elif isinstance(d, NewVolunteer):
            out.setdefault(d.volunteer.id, "new volunteer")
    return out


def change_set(
    old_scenario: Scenario,
    scenario: Scenario,
    compiled: Compiled,
    previous: Schedule,
    schedule: Schedule,
    solution: Solution,
    disruptions: Sequence[AnyDisruption],
    cut_at: dt.datetime,
    contact_days: int,
    released: list[Pin],
) -> ChangeSet:
    problem = compiled.problem
    cut = problem.freeze_before
    assert cut is not None
    slots = compiled.slots
    before = set(problem.reference)
    after = set(solution.assignments)
    volunteers = {v.id: v for v in scenario.volunteers}
    subjects = _subjects(disruptions)

    removed: dict[str, list[ShiftRef]] = {}
    added: dict[str, list[ShiftRef]] = {}
    changed_own = changed_others = 0
    for pid, sid in sorted(before - after):
        if problem.shift(sid).start < cut:
            continue
        reason = problem.person(pid).unavailable.get(sid)
        removed.setdefault(pid, []).append(_ref(slots[sid], reason))
        if reason is None:
            changed_others += 1
        else:
            changed_own += 1
    for pid, sid in sorted(after - before):
        if problem.shift(sid).start < cut:
            continue
        added.setdefault(pid, []).append(_ref(slots[sid]))
        changed_others += 1

    people = []
    for pid in sorted(set(removed) | set(added)):
        v = volunteers[pid]
        rem = sorted(removed.get(pid, []), key=lambda r: utc(r.start))
        add = sorted(added.get(pid, []), key=lambda r: utc(r.start))
        first = min((r.start for r in rem + add), key=utc)
        people.append(VolunteerChange(
            volunteer=pid, name=v.name, phone=v.contact.phone, email=v.contact.email,
            subject=subjects.get(pid), removed=rem, added=add, first_change=first,
        ))
    people.sort(key=lambda c: (utc(c.first_change), c.name, c.volunteer))

    under_way = []
    for pid, sid in sorted(before & after):
        shift = problem.shift(sid)
        reason = problem.person(pid).unavailable.get(sid)
        if reason is not None and shift.start < cut < shift.end:
            v = volunteers[pid]
            under_way.append(UnderWay(volunteer=pid, name=v.name, phone=v.contact.phone,
                                      shift=_ref(slots[sid], reason)))

    uncovered, covered_again = _uncovered(previous, schedule, cut_at)
    new_places = _new_places(old_scenario, compiled, cut, disruptions)
    contacts = _contacts_of(previous, disruptions, volunteers, cut_at, contact_days)
    return ChangeSet(
        site=scenario.site.name,
        timezone=scenario.site.timezone,
        cutoff=cut_at,
        disruptions=[describe(d) for d in disruptions],
        volunteers=people,
        changed_others=changed_others,
        changed_own=changed_own,
        restaffed=changed_own,
        new_places=new_places,
        under_way=under_way,
        uncovered=uncovered,
        covered_again=covered_again,
        contacts=contacts,
        contact_days=contact_days if any(_infectious(d) for d in disruptions) else None,
        released_pins=released,
        residents=changed_residents(old_scenario, scenario, cut_at),
        seconds=0.0,
    )


def _uncovered(
    previous: Schedule, schedule: Schedule, cut_at: dt.datetime
) -> tuple[list[UncoveredSlot], int]:
    cut = utc(cut_at)
    old = {(u.post, u.shift, u.date): u for u in previous.uncovered if utc(u.start) >= cut}
    out = []
    seen = set()
    for u in schedule.uncovered:
        if utc(u.start) < cut:
            continue
        key = (u.post, u.shift, u.date)
        seen.add(key)
        was: Uncovered | None = old.get(key)
        missing_before = 0 if was is None else was.missing
        worse = was is None or u.missing > was.missing or any(
            n > was.missing_skills.get(k, 0) for k, n in u.missing_skills.items()
        )
        out.append(UncoveredSlot(
            post=u.post, shift=u.shift, date=u.date, start=u.start, end=u.end, required=u.required,
            assigned=u.assigned, missing=u.missing, missing_skills=dict(u.missing_skills), reason=u.reason,
            detail=u.detail, new=worse, missing_before=missing_before,
        ))
    return out, sum(1 for key in old if key not in seen)


def _new_places(old: Scenario, compiled: Compiled, cut: int, disruptions: Sequence[AnyDisruption]) -> int:
    if not any(isinstance(d, DemandChange | NewPost) for d in disruptions):
        return 0
    before = compile_scenario(old).slots
    return sum(s.required for s in compiled.problem.shifts if s.id not in before and s.start >= cut)


def _infectious(d: AnyDisruption) -> bool:
    hard = (HealthStatus.sick, HealthStatus.isolating)
    return isinstance(d, SickCall) and d.infectious and d.status in hard


def _contacts_of(
    previous: Schedule,
    disruptions: Sequence[AnyDisruption],
    volunteers: dict[str, Volunteer],
    cut_at: dt.datetime,
    days: int,
) -> list[ContactPerson]:
    isolating = {vid for d in disruptions if isinstance(d, MarkIsolating) for vid in d.volunteers}
    out: list[ContactPerson] = []
    seen: set[str] = set()
    for d in disruptions:
        if not _infectious(d):
            continue
        for c in contacts(previous, d.volunteer, cut_at, days, volunteers=volunteers):
            if c.volunteer in seen:
                continue
            seen.add(c.volunteer)
            out.append(c.model_copy(update={"isolating": c.volunteer in isolating}))
    return out


def contacts(
    previous: Schedule,
    volunteer: str,
    cutoff: dt.datetime,
    days: int,
    *,
    volunteers: dict[str, Volunteer] | Scenario | None = None,
) -> list[ContactPerson]:
    """The people who shared a shift at the same post with ``volunteer`` (overlapping in time) in the
    ``days`` days before ``cutoff`` (aware), by the previous schedule; latest contact first. Pass the
    scenario (or its volunteers by id) for names and contacts."""
    if isinstance(volunteers, Scenario):
        volunteers = {v.id: v for v in volunteers.volunteers}
    volunteers = volunteers or {}
    cut = utc(cutoff)
    since = cut - days * _DAY
    mine = [
        a for a in previous.assignments
        if a.volunteer == volunteer and utc(a.start) < cut and utc(a.end) > since
    ]
    shared: dict[str, list[ShiftRef]] = {}
    for a in mine:
        a_start, a_end = utc(a.start), utc(a.end)
        for b in previous.assignments:
            if b.volunteer == volunteer or b.post != a.post:
                continue
            if utc(b.start) < a_end and utc(b.end) > a_start and utc(b.start) < cut:
                ref = ShiftRef(post=b.post, shift=b.shift, date=b.date, start=b.start, end=b.end)
                if ref not in shared.setdefault(b.volunteer, []):
                    shared[b.volunteer].append(ref)
    out = []
    for vid, refs in shared.items():
        refs.sort(key=lambda r: utc(r.start))
        v = volunteers.get(vid)
        out.append(ContactPerson(
            volunteer=vid,
            name=v.name if v is not None else vid,
            phone=v.contact.phone if v is not None else None,
            email=v.contact.email if v is not None else None,
            of=volunteer,
            shared=refs,
            last_shared=max((r.end for r in refs), key=utc),
            isolating=False,
        ))
    out.sort(key=lambda c: (-utc(c.last_shared).timestamp(), c.volunteer))
    return out



# --------------------------------------------------------------------------------------------------
# text


def _when(r: ShiftRef, zone) -> str:
    start, end = r.start.astimezone(zone), r.end.astimezone(zone)
    return f"{start:%a %m-%d %H:%M}-{end:%H:%M}"


def changeset_text(changes: ChangeSet) -> str:
    """The change set for the coordinator: whom to call first (soonest change first), their phone,
    what changed; then what stays uncovered and, for an infectious illness, the contacts."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(changes.timezone)
    cut = changes.cutoff.astimezone(zone)
    lines = [f"{changes.site}: re-solved from {cut:%Y-%m-%d %H:%M} ({changes.timezone})"]
    lines.extend(f"  {d}" for d in changes.disruptions)
    summary = (
        f"{changes.restaffed} place(s) to re-staff, {changes.new_places} new; "
        f"{changes.changed_others} change(s) for other volunteers; {changes.seconds:.1f} s"
    )
    if changes.method == "previous":
        summary += " (no better schedule found in time: the previous one, minus what cannot be worked)"
    lines.append(summary)

    calls = [c for c in changes.volunteers if not (c.forced_only and c.subject in ("sick", "limited",
                                                                                  "withdrawn", "fit"))]
    told = [c for c in changes.volunteers if c not in calls]
    lines.append("")
    if calls:
        lines.append("Call, soonest change first:")
        width = len(str(len(calls)))
        for n, c in enumerate(calls, 1):
            reach = "  ".join(x for x in (c.phone, c.email) if x) or "no contact on file"
            role = f" [{c.subject}]" if c.subject else ""
            lines.append(f"  {n:>{width}}. {c.name} ({c.volunteer}){role}  {reach}")
            for r in sorted(c.added + c.removed, key=lambda r: utc(r.start)):
                sign = "+" if r in c.added else "-"
                why = f"  ({r.reason})" if r.reason else ""
                lines.append(f"  {'':>{width}}    {sign} {_when(r, zone)}  {r.post}/{r.shift}{why}")
    else:
        lines.append("Nobody else's shifts changed.")
    if told:
        lines.append("")
        lines.append("Taken off (they reported it; nothing to ask of them):")
        for c in told:
            lines.append(f"  {c.name} ({c.volunteer}): {len(c.removed)} shift(s) removed")
            for r in c.removed:
                lines.append(f"      - {_when(r, zone)}  {r.post}/{r.shift}  ({r.reason})")
    if changes.under_way:
        lines.append("")
        lines.append("Under way at the cut-off (left as they are; arrange relief by hand):")
        for u in changes.under_way:
            lines.append(
                f"  {u.name} ({u.volunteer}) {u.phone or ''}  {_when(u.shift, zone)}  "
                f"{u.shift.post}/{u.shift.shift}  ({u.shift.reason})"
            )
    if changes.released_pins:
        lines.append("")
        lines.append("Pins released:")
        for p in changes.released_pins:
            lines.append(f"  {p.volunteer} on {p.post}/{p.shift} {p.date}")
    lines.append("")
    if changes.uncovered:
        new = sum(1 for u in changes.uncovered if u.new)
        lines.append(f"Uncovered after the cut-off: {len(changes.uncovered)} slot(s), {new} new:")
        for u in changes.uncovered:
            skills = ", ".join(f"{k} {v}" for k, v in sorted(u.missing_skills.items()))
            what = f"missing {u.missing}" + (f" (skills: {skills})" if skills else "")
            flag = "NEW " if u.new else "    "
            ref = ShiftRef(post=u.post, shift=u.shift, date=u.date, start=u.start, end=u.end)
            lines.append(f"  {flag}{_when(ref, zone)}  {u.post}/{u.shift}  {what}: {u.reason}")
    else:
        lines.append("Every slot after the cut-off is staffed.")
    if changes.covered_again:
        lines.append(f"({changes.covered_again} slot(s) short before are staffed now.)")
    if changes.contact_days is not None:
        lines.append("")
        if changes.contacts:
            lines.append(
                f"Contacts (shared a shift at the same post in the {changes.contact_days} days before the "
                f"cut-off), latest first:"
            )
            for c in changes.contacts:
                reach = "  ".join(x for x in (c.phone, c.email) if x) or "no contact on file"
                mark = "  marked isolating" if c.isolating else ""
                last = c.shared[-1]
                lines.append(
                    f"  {c.name} ({c.volunteer})  {reach}  {len(c.shared)} shared shift(s), last "
                    f"{_when(last, zone)} {last.post}/{last.shift}{mark}"
                )
        else:
            lines.append(
                f"No contacts: nobody shared a shift with them in the last {changes.contact_days} days."
            )
    return "\n".join(lines) + "\n"

