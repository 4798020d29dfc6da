"""What can happen to a published schedule, and recording it in a scenario.

A disruption is data: a sick call, a withdrawal, more demand, a new post or volunteer, contacts marked
isolating. :func:`apply` records disruptions in a new scenario (health records appended, never
overwritten; dated absences; raised headcounts as *extra* templates, see :mod:`scheduler.domain.replan`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scheduler.domain.clock import aware, utc
from scheduler.domain.compile import compile_scenario, shift_id
from scheduler.domain.errors import FieldProblem, InputError, parse_model
from scheduler.domain.residents import rematch
from scheduler.domain.scenario import (
    HealthReason,
    HealthRecord,
    HealthStatus,
    Id,
    Period,
    Pin,
    Post,
    Scenario,
    ShiftTemplate,
    Volunteer,
    When,
    WithdrawalReason,
    check_order,
    drop_free_text,
)

DEFAULT_CHANGE_WEIGHT = 1000

_EXTRA = re.compile(r"^(?P<base>.+)\.extra(?P<n>[1-9][0-9]*)$")
_DAY = dt.timedelta(days=1)

# --------------------------------------------------------------------------------------------------
# Disruptions


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SickCall(Model):
    """A health change of one volunteer: ``sick``/``isolating`` (never scheduled), ``limited`` (light day
    posts only) or back to ``fit``, from ``from`` until ``until`` (a date is the whole local day and
    inclusive, a date-time exclusive; no ``until`` is open-ended). Appended to the health history."""

    kind: Literal["sick_call"] = "sick_call"
    volunteer: Id
    status: HealthStatus = HealthStatus.sick
    start: When = Field(alias="from")
    until: When | None = None
    infectious: bool = Field(default=False, description="List the people who shared a shift with them")
    reason: HealthReason | None = Field(default=None, description="Why, from a fixed list (no diagnosis)")

    @model_validator(mode="before")
    @classmethod
    def _legacy_note(cls, data: Any) -> Any:
        return drop_free_text(data, "note", what="sick call")

    @model_validator(mode="after")
    def _ordered(self) -> SickCall:
        check_order(self.start, self.until)
        return self


class Withdrawal(Model):
    """A volunteer withdrawing for some dates: a dated absence."""

    kind: Literal["withdrawal"] = "withdrawal"
    volunteer: Id
    start: When = Field(alias="from")
    until: When | None = None
    reason: WithdrawalReason | None = Field(
        default=None, description="Why, from a fixed list (no free text: it could hold a diagnosis)"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Withdrawal:
        check_order(self.start, self.until)
        return self


class DemandChange(Model):
    """More people wanted on shift template ``shift`` of ``post`` on some dates: ``required`` is the new
    headcount on each of them (at least the current one)."""

    kind: Literal["demand_change"] = "demand_change"
    post: Id
    shift: Id = Field(description="Shift template id")
    dates: list[dt.date] = Field(min_length=1, description="Local dates on which the shift starts")
    required: int = Field(ge=0, le=1000)


class NewPost(Model):
    """A post added (give its templates ``dates`` to run it on some days only)."""

    kind: Literal["new_post"] = "new_post"
    post: Post


class NewVolunteer(Model):
    """A volunteer joining."""

    kind: Literal["new_volunteer"] = "new_volunteer"
    volunteer: Volunteer


class MarkIsolating(Model):
    """Contacts marked isolating in the same step as the sick call (one re-solve, not a chain)."""

    kind: Literal["mark_isolating"] = "mark_isolating"
    volunteers: list[Id] = Field(min_length=1)
    start: When = Field(alias="from")
    until: When | None = None
    reason: HealthReason | None = Field(default=HealthReason.contact_of_a_case)

    @model_validator(mode="before")
    @classmethod
    def _legacy_note(cls, data: Any) -> Any:
        return drop_free_text(data, "note", what="contacts marked isolating")

    @model_validator(mode="after")
    def _ordered(self) -> MarkIsolating:
        check_order(self.start, self.until)
        return self


Disruption = Annotated[
    SickCall | Withdrawal | DemandChange | NewPost | NewVolunteer | MarkIsolating,
    Field(discriminator="kind"),
]
AnyDisruption = SickCall | Withdrawal | DemandChange | NewPost | NewVolunteer | MarkIsolating


def describe(d: AnyDisruption) -> str:
    """One line for people, e.g. 'v017 sick from 2026-12-09T06:40 until 2026-12-12 (infectious)'."""
    if isinstance(d, SickCall):
        text = f"{d.volunteer} {d.status.value}{_span(d.start, d.until)}"
        return text + (" (infectious)" if d.infectious else "")
    if isinstance(d, Withdrawal):
        why = f": {d.reason.value}" if d.reason else ""
        return f"{d.volunteer} withdraws{_span(d.start, d.until)}{why}"
    if isinstance(d, MarkIsolating):
        return f"{', '.join(d.volunteers)} isolating{_span(d.start, d.until)}"
    if isinstance(d, DemandChange):
        dates = ", ".join(x.isoformat() for x in d.dates)
        return f"{d.post}/{d.shift} needs {d.required} on {dates}"
    if isinstance(d, NewPost):
        return f"new post {d.post.id} ({d.post.name})"
    return f"new volunteer {d.volunteer.id} ({d.volunteer.name})"


def _span(start: dt.date | dt.datetime | None, until: dt.date | dt.datetime | None) -> str:
    text = f" from {start.isoformat()}" if start is not None else ""
    return text + (f" until {until.isoformat()}" if until is not None else "")


# --------------------------------------------------------------------------------------------------
# apply


def apply(scenario: Scenario, disruptions: Iterable[AnyDisruption]) -> Scenario:
    """A new scenario with the disruptions recorded (``scenario`` is not changed).

    Health records are appended (the history is never overwritten; the later ``from`` wins), a
    withdrawal becomes a dated absence, a raised headcount extra templates (see the module docstring).
    Pins of the volunteers concerned that they may no longer work are released. Raises
    :class:`~scheduler.domain.errors.InputError` naming the field (``disruptions[i]....``) for what does not
    fit the scenario."""
    return apply_with_released_pins(scenario, list(disruptions))[0]


def apply_with_released_pins(
    scenario: Scenario, disruptions: Sequence[AnyDisruption]
) -> tuple[Scenario, list[Pin]]:
    """:func:`apply`, and the pins it released (pins of what the disruptions took away)."""
    new = scenario.model_copy(deep=True)
    problems: list[FieldProblem] = []
    volunteers = {v.id: v for v in new.volunteers}
    touched: set[str] = set()

    def volunteer(vid: str, where: str) -> Volunteer | None:
        found = volunteers.get(vid)
        if found is None:
            problems.append(FieldProblem(where, f"no volunteer {vid!r} in the scenario"))
        return found

    for i, d in enumerate(disruptions):
        where = f"disruptions[{i}]"
        if isinstance(d, SickCall):
            v = volunteer(d.volunteer, f"{where}.volunteer")
            if v is not None:
                v.health.append(HealthRecord(
                    status=d.status, start=d.start, until=d.until, infectious=d.infectious, reason=d.reason
                ))
                touched.add(v.id)
        elif isinstance(d, Withdrawal):
            v = volunteer(d.volunteer, f"{where}.volunteer")
            if v is not None:
                why = d.reason.value if d.reason else None
                v.unavailable.append(Period(start=d.start, until=d.until, reason=why))
                touched.add(v.id)
        elif isinstance(d, MarkIsolating):
            for j, vid in enumerate(d.volunteers):
                v = volunteer(vid, f"{where}.volunteers[{j}]")
                if v is not None:
                    v.health.append(HealthRecord(
                        status=HealthStatus.isolating, start=d.start, until=d.until, reason=d.reason
                    ))
                    touched.add(v.id)
        elif isinstance(d, NewVolunteer):
            if d.volunteer.id in volunteers:
                problems.append(FieldProblem(f"{where}.volunteer.id", f"volunteer {d.volunteer.id!r} exists"))
            else:
                v = d.volunteer.model_copy(deep=True)
                new.volunteers.append(v)
                volunteers[v.id] = v
        elif isinstance(d, NewPost):
            if any(p.id == d.post.id for p in new.posts):
                problems.append(FieldProblem(f"{where}.post.id", f"post {d.post.id!r} exists"))
            else:
                new.posts.append(d.post.model_copy(deep=True))
        elif isinstance(d, DemandChange):
            _raise_headcount(new, d, where, problems)
        else:  # pragma: no cover - the union is closed
            raise TypeError(f"unknown disruption {d!r}")
    if problems:
        raise InputError("disruptions", problems)
    _mirror_extras(new)
    new = parse_model(Scenario, new.model_dump(by_alias=True), "the scenario with the disruptions")
    new = rematch(new, touched, _since(disruptions, new.site.zone))
    return _release_pins(new, touched)


def _since(disruptions: Sequence[AnyDisruption], zone: ZoneInfo) -> dt.datetime | None:
    """The earliest start of the health changes, for the residents' re-match: someone whose sickness ended
    before it may answer for a resident again."""
    starts = []
    for d in disruptions:
        if isinstance(d, SickCall | MarkIsolating) and d.start is not None:
            start = d.start if isinstance(d.start, dt.datetime) else dt.datetime.combine(d.start, dt.time())
            starts.append(utc(aware(start, zone)))
    return min(starts, default=None)


def _raise_headcount(scenario: Scenario, d: DemandChange, where: str, problems: list[FieldProblem]) -> None:
    post = next((p for p in scenario.posts if p.id == d.post), None)
    if post is None:
        problems.append(FieldProblem(f"{where}.post", f"no post {d.post!r}"))
        return
    templates = {t.id: t for t in post.shifts}
    base = templates.get(d.shift)
    if base is None or _EXTRA.match(d.shift):
        problems.append(FieldProblem(f"{where}.shift", f"post {d.post!r} has no shift {d.shift!r}"))
        return
    extras: dict[int, ShiftTemplate] = {}
    for t in post.shifts:
        m = _EXTRA.match(t.id)
        if m and m["base"] == base.id:
            extras[int(m["n"])] = t
    horizon = scenario.horizon
    want = d.required - base.required
    for k, date in enumerate(d.dates):
        field = f"{where}.dates[{k}]"
        if not horizon.start <= date < horizon.end:
            problems.append(
                FieldProblem(field, f"{date} is outside the horizon {horizon.start}..{horizon.end}")
            )
            continue
        runs = date.weekday() in {w.index for w in base.weekdays} and (
            base.dates is None or date in base.dates
        )
        if not runs:
            problems.append(
                FieldProblem(field, f"shift {base.id!r} at post {post.id!r} does not run on {date}")
            )
            continue
        now = base.required + sum(1 for t in extras.values() if t.dates and date in t.dates)
        if d.required < now:
            problems.append(FieldProblem(
                f"{where}.required",
                f"{post.id}/{base.id} needs {now} on {date}; a re-solve can raise a headcount, not lower it",
            ))
            continue
        for n in range(1, want + 1):
            extra = extras.get(n)
            if extra is None:
                extra = base.model_copy(
                    deep=True, update={"id": f"{base.id}.extra{n}", "required": 1, "skills": {}, "dates": []}
                )
                extras[n] = extra
                post.shifts.append(extra)
            if date not in extra.dates:
                extra.dates.append(date)
                extra.dates.sort()


def _mirror_extras(scenario: Scenario) -> None:
    """Extend forbidden successions and shift preferences naming a template to its extra templates."""
    family: dict[str, set[str]] = {}
    for post in scenario.posts:
        for t in post.shifts:
            m = _EXTRA.match(t.id)
            if m:
                family.setdefault(m["base"], set()).add(t.id)
    if not family:
        return

    def members(tid: str) -> list[str]:
        return [tid, *sorted(family.get(tid, ()))]

    rules = scenario.rules
    pairs: list[tuple[str, str]] = []
    for a, b in rules.forbidden_successions:
        for pair in ((x, y) for x in members(a) for y in members(b)):
            if pair not in pairs:
                pairs.append(pair)
    rules.forbidden_successions = pairs
    for v in scenario.volunteers:
        prefs = v.preferences
        for name in ("preferred_shifts", "unwanted_shifts"):
            ids = getattr(prefs, name)
            setattr(prefs, name, list(dict.fromkeys(x for tid in ids for x in members(tid))))


def _release_pins(scenario: Scenario, touched: set[str]) -> tuple[Scenario, list[Pin]]:
    """Drop the pins of ``touched`` volunteers that they may no longer work."""
    candidates = [i for i, pin in enumerate(scenario.pinned) if pin.volunteer in touched]
    if not candidates:
        return scenario, []
    probe = compile_scenario(scenario.model_copy(update={"pinned": []}))
    released = []
    for i in candidates:
        pin = scenario.pinned[i]
        sid = shift_id(pin.post, pin.shift, pin.date)
        if sid in probe.slots and not probe.problem.person(pin.volunteer).may_work(sid):
            released.append(i)
    if not released:
        return scenario, []
    kept = [pin for i, pin in enumerate(scenario.pinned) if i not in released]
    return scenario.model_copy(update={"pinned": kept}), [scenario.pinned[i] for i in released]


