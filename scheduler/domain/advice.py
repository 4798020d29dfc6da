"""Staffing advice for a scenario: who to recruit so that the short slots are staffed.

The short slots of the best coverage the hard rules allow give the *archetypes* of people to look
for: for each time of day (a template's start and end) and each skill still missing there, someone
with that skill available at that time on weekdays, on weekends, or every day; and, broader, someone
available at any time. A few volunteers of every archetype are added to the scenario as ordinary
volunteers (same site rules, no history), and :func:`solver.advice.advise` keeps as few of them as
closes every gap they can close. The kept ones are the advice: a readable line per archetype, a
short recruiting text, and the scenario entries themselves (added as real volunteers, they close the
gaps the advice says they close: the same compile, the same rules).

Pure: no DB, no HTTP.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel, Field

from scheduler.domain.compile import Compiled, compile_scenario
from scheduler.domain.scenario import ALL_WEEKDAYS, AvailabilityWindow, Scenario, Volunteer, Weekday
from scheduler.domain.visits import all_posts
from solver import advice as solver_advice

WEEKDAYS = (Weekday.mon, Weekday.tue, Weekday.wed, Weekday.thu, Weekday.fri)
WEEKENDS = (Weekday.sat, Weekday.sun)
MAX_PER_ARCHETYPE = 8  # virtual volunteers of one archetype in the model (bounds the model's size)
PREFIX = "recruit"


@dataclass(frozen=True)
class _Archetype:
    id: str
    skill: str | None
    start: dt.time | None  # None: any time
    end: dt.time | None
    days: str  # "weekdays", "weekends", "every day"
    night: bool
    rank: int  # 0 narrow .. 2 any time: a tie-break when counts are equal

    def window(self) -> list[AvailabilityWindow] | None:
        if self.start is None:
            return None
        weekdays = {"weekdays": WEEKDAYS, "weekends": WEEKENDS}.get(self.days, ALL_WEEKDAYS)
        return [AvailabilityWindow(weekdays=list(weekdays), start=self.start, end=self.end)]

    def describe(self, count: int) -> str:
        who = "person" if count == 1 else "people"
        skill = f" with the skill '{self.skill}'" if self.skill else ""
        if self.start is None:
            return f"{count} {who}{skill} available at any time"
        when = f"{self.start:%H:%M}-{self.end:%H:%M}"
        kind = f"nights ({when})" if self.night else f"{when} shifts"
        days = "every day" if self.days == "every day" else f"on {self.days}"
        return f"{count} {who}{skill} who can do {kind} {days}"


class AdviceItem(BaseModel):
    archetype: str
    count: int
    skills: list[str]
    availability: list[AvailabilityWindow] | None = Field(description="None: any time")
    text: str


class StaffingAdvice(BaseModel):
    status: str = Field(description="optimal: every phase proven; feasible: the best found in the time limit")
    short_slots: int = Field(description="Slots short with the current volunteers")
    missing_people: int = Field(description="People missing over the short slots")
    missing_skilled: int = Field(default=0, description="Skilled people missing over the short slots")
    closed_slots: list[str] = Field(description="Slot ids the advised volunteers would fully staff")
    still_short: list[str] = Field(description="Slot ids still short with them (no archetype closes them)")
    items: list[AdviceItem]
    recruiting_text: str
    volunteers: list[Volunteer] = Field(description="The advised volunteers as scenario entries")

    @property
    def count(self) -> int:
        return sum(item.count for item in self.items)


def _archetypes(compiled: Compiled, short) -> dict[str, tuple[_Archetype, int]]:
    """Archetype id -> (archetype, how many of it the model gets: about twice the fewest that could
    take its places, at most MAX_PER_ARCHETYPE)."""
    templates = {(post.id, t.id): t for post in all_posts(compiled.scenario) for t in post.shifts}
    need: dict[str, int] = {}
    days: dict[str, set[dt.date]] = {}
    kinds: dict[str, _Archetype] = {}
    groups: dict[str, set[str]] = {}

    def add(arch: _Archetype, n: int, date: dt.date) -> None:
        kinds.setdefault(arch.id, arch)
        need[arch.id] = need.get(arch.id, 0) + n
        days.setdefault(arch.id, set()).add(date)

    for sf in short:
        slot = compiled.slots[sf.shift]
        template = templates[(slot.post, slot.template)]
        group = "weekends" if slot.date.weekday() >= 5 else "weekdays"
        wants = [(skill, n) for skill, n in sorted(sf.missing_skills.items()) if n > 0]
        if sf.missing > 0:
            wants.append((None, sf.missing))
        for skill, n in wants:
            tag = f"{skill}-" if skill else ""
            times = f"{template.start:%H%M}-{template.end:%H%M}"
            every = _Archetype(f"{PREFIX}-{tag}{times}-everyday", skill, template.start, template.end,
                               "every day", slot.night, 1)
            groups.setdefault(every.id, set()).add(group)
            add(_Archetype(f"{PREFIX}-{tag}{times}-{group}", skill, template.start, template.end, group,
                           slot.night, 0), n, slot.date)
            add(every, n, slot.date)
            add(_Archetype(f"{PREFIX}-{tag}anytime", skill, None, None, "every day", False, 2), n, slot.date)
    per_week = 5  # shifts one volunteer takes at most in a week, about (the site's rules decide)
    weeks = max(1, compiled.scenario.horizon.days / 7)
    out = {}
    for key, n in need.items():
        if kinds[key].days == "every day" and kinds[key].start is not None and len(groups[key]) < 2:
            continue  # the same as the weekday or weekend archetype
        per_person = max(1, min(len(days[key]), round(per_week * weeks)))
        out[key] = (kinds[key], min(MAX_PER_ARCHETYPE, n, 2 * -(-n // per_person)))
    return out


def _volunteer(arch: _Archetype, i: int) -> Volunteer:
    return Volunteer(
        id=f"{arch.id}-{i}",
        name=f"To recruit: {arch.describe(1).removeprefix('1 ')} #{i}",
        skills=[arch.skill] if arch.skill else [],
        availability=arch.window(),
    )


def advise(
    scenario: Scenario, *, time_limit: float = 10.0, seed: int = 0, workers: int = 1
) -> StaffingAdvice:
    """Advise whom to recruit for ``scenario``; ``time_limit`` bounds all solving (seconds)."""
    compiled = compile_scenario(scenario)
    _, start, short = solver_advice.coverage_solve(
        compiled.problem, time_limit=time_limit / 4, seed=seed, workers=workers
    )
    if not short:
        return StaffingAdvice(
            status="optimal", short_slots=0, missing_people=0, closed_slots=[], still_short=[], items=[],
            recruiting_text="", volunteers=[],
        )
    kinds = _archetypes(compiled, short)
    extra: list[Volunteer] = []
    virtual: dict[str, str] = {}
    for key, (arch, n) in kinds.items():
        for i in range(1, n + 1):
            v = _volunteer(arch, i)
            extra.append(v)
            virtual[v.id] = key
    taken = {v.id for v in scenario.volunteers}
    extra = [v for v in extra if v.id not in taken]
    virtual = {k: a for k, a in virtual.items() if k not in taken}
    widened = scenario.model_copy(update={"volunteers": [*scenario.volunteers, *extra]})
    result = solver_advice.advise(
        compile_scenario(widened).problem,
        virtual,
        extra={k: arch.rank for k, (arch, _) in kinds.items()},
        time_limit=time_limit * 3 / 4,
        seed=seed,
        workers=workers,
        start=start,
    )
    by_id = {v.id: v for v in extra}
    items = [
        AdviceItem(
            archetype=key,
            count=n,
            skills=[kinds[key][0].skill] if kinds[key][0].skill else [],
            availability=kinds[key][0].window(),
            text=kinds[key][0].describe(n),
        )
        for key, n in result.counts.items()
    ]
    still = [sf.shift for sf in result.after]
    closed = list(result.closed)
    return StaffingAdvice(
        status=result.status.value,
        short_slots=len(result.before),
        missing_people=sum(sf.missing for sf in result.before),
        missing_skilled=sum(sum(sf.missing_skills.values()) for sf in result.before),
        closed_slots=closed,
        still_short=still,
        items=items,
        recruiting_text=recruiting_text(scenario, items, len(closed)),
        volunteers=[by_id[i] for i in result.used],
    )


def recruiting_text(scenario: Scenario, items: list[AdviceItem], closed: int) -> str:
    """A short call for volunteers the coordinator can post."""
    if not items:
        return ""
    total = sum(item.count for item in items)
    last = scenario.horizon.end - dt.timedelta(days=1)
    lines = [
        f"{scenario.site.name} needs {total} more volunteer{'s' if total != 1 else ''} "
        f"between {scenario.horizon.start:%d %b} and {last:%d %b %Y}:"
    ]
    lines += [f"- {item.text}" for item in items]
    lines.append(
        f"With them, {closed} shift{'s' if closed != 1 else ''} that are short now would be staffed. "
        "Shifts follow the site's rest rules; tell the coordinator when you can help."
    )
    return "\n".join(lines)


def advice_text(advice: StaffingAdvice) -> str:
    """The advice as a few readable lines (the CLI's output)."""
    if advice.short_slots == 0:
        return "Every slot is staffed: no one more is needed."
    out = [
        f"{advice.short_slots} slots are short ({advice.missing_people} people missing, "
        f"{advice.missing_skilled} of the skills asked)."
    ]
    if not advice.items:
        if advice.status in ("optimal", "feasible"):
            out.append("No archetype of volunteer closes any of them (look at the rules and skills asked).")
        else:
            out.append(f"No advice found in the time given (search: {advice.status}); give it more time.")
        return "\n".join(out)
    out.append(f"Recruit {advice.count} (search: {advice.status}):")
    out += [f"  - {item.text}" for item in advice.items]
    out.append(f"They would staff {len(advice.closed_slots)} of the {advice.short_slots} short slots.")
    if advice.still_short:
        more = " ..." if len(advice.still_short) > 10 else ""
        out.append("Still short: " + ", ".join(advice.still_short[:10]) + more)
    out += ["", "Recruiting text:", advice.recruiting_text]
    return "\n".join(out)
