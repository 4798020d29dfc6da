"""Compile a :class:`~scheduler.domain.scenario.Scenario` into the solver's :class:`~solver.problem.Problem`.

This is where wall-clock time becomes exact time. The rules, in one place:

* The **epoch** is local midnight of ``horizon.start`` in the site's zone, as a UTC instant. Every
  instant becomes the number of *elapsed* minutes since the epoch, computed in UTC, so a 22:00-06:00
  shift over a DST night is 7 or 9 hours long, never 8. Aware datetimes that share a ``ZoneInfo`` are
  never subtracted or compared directly (Python would do wall-clock arithmetic): they are converted
  to UTC first.
* A local wall-clock time is attached to the site zone with ``fold=0``: an ambiguous time (the
  repeated hour in autumn) is its first occurrence, a non-existent time (the skipped hour in spring)
  is read with the offset from before the change.
* A **date** in a period (health record, absence) means the whole local day: ``from`` is local
  midnight, a date ``until`` is *inclusive* (up to the next local midnight), a date-time ``until`` is
  exclusive. Naive date-times are site-local. A missing ``from``/``until`` is open-ended.
* Blocking periods are widened to whole minutes (start floored, end ceiled); availability windows
  are exact on minutes anyway.

Who may work which shift is decided here and handed to the solver as ``Person.unavailable`` (shift id
-> human reason). Missing skills are *not* unavailability: the solver counts skills per shift.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from zoneinfo import ZoneInfo

from scheduler.domain.scenario import (
    HealthRecord,
    HealthStatus,
    NightDefinition,
    Period,
    Scenario,
    Volunteer,
)
from scheduler.domain.visits import all_posts, guardians_by_post, is_visit_post
from solver.problem import (
    WEEK,
    History,
    HistoryDay,
    Intensity,
    LoadMeasure,
    Person,
    Problem,
    Rules,
    Shift,
    Weights,
)

#: Penalty (per unit of ``weights.preference``) for each of: the shift's post is in ``unwanted_posts``,
#: its template is in ``unwanted_shifts``, its weekday is in ``unwanted_weekdays``.
UNWANTED_PENALTY = 20
#: Penalty when ``preferred_posts`` is non-empty and the shift's post is not in it; the same again when
#: ``preferred_shifts`` is non-empty and the shift's template is not in it.
NOT_PREFERRED_PENALTY = 5
#: How many local days before the horizon ``recent_shifts`` are turned into history.
HISTORY_DAYS = 28
#: Minutes put on a summary-history day that was worked but carries none of ``hours_last_7_days``;
#: the solver's history needs ``minutes > 0`` to count a day as worked.
WORKED_DAY_MARKER_MINUTES = 1

REASON_LIMITED = "limited duty: light day posts only"
REASON_OUTSIDE_AVAILABILITY = "outside availability"
REASON_UNAVAILABLE = "unavailable"
REASON_NOT_GUARDIAN = "home visit: only the resident's primary or backup volunteer"
#: Penalty (per unit of ``weights.preference``) when the backup, not the primary, makes a home visit: the
#: visit goes to the backup only when the primary cannot make it (above every load term's effect of a
#: short visit, far below an uncovered place).
BACKUP_VISIT_PENALTY = 5_000
#: A home visit up to this long is a short visit of the rota (``solver.problem.Shift.visit``): it is not the
#: day's one shift, needs no 11 h of rest around it (only a travel gap) and makes no working day on its own;
#: a longer one is a shift like any other.
SHORT_VISIT_MINUTES = 120
#: A missed home visit counts this many missed places on a post: a vulnerable resident left without their
#: visit weighs more than one person short at a gate.
VISIT_UNDER_WEIGHT = 3

_MINUTE = dt.timedelta(minutes=1)
_DAY = dt.timedelta(days=1)
_NEVER = -(10**12)  # minutes: the beginning of time (a missing ``from``)
_FOREVER = 10**12  # minutes: the end of time (a missing ``until``)
_HARD_HEALTH = (HealthStatus.sick, HealthStatus.isolating)
_LIMITED_HEALTH = (HealthStatus.limited, HealthStatus.recovering)
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class ScenarioError(ValueError):
    """The scenario is well-formed but cannot be planned; ``problems`` name the field path of each."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Slot:
    """One concrete shift at a post, in site-local time (the domain view of a solver ``Shift``)."""

    shift_id: str
    post: str
    template: str
    date: dt.date  # local date on which the shift starts
    start: dt.datetime  # aware, in the site zone
    end: dt.datetime  # aware, in the site zone
    hours: float  # exact elapsed hours (7 or 9 for a 22:00-06:00 shift over a DST night)
    night: bool
    intensity: Intensity


@dataclass(frozen=True)
class Compiled:
    """A compiled scenario: the solver problem plus what is needed to map results back."""

    problem: Problem
    scenario: Scenario
    zone: ZoneInfo
    epoch: dt.datetime  # UTC instant of local midnight of horizon.start
    slots: dict[str, Slot]
    warnings: tuple[str, ...] = ()  # things that were skipped, e.g. a shift that falls in a DST gap

    def minutes(self, instant: dt.datetime) -> int:
        """Exact elapsed minutes from the epoch to ``instant`` (naive = site-local), floored."""
        return _minutes(instant, self.epoch, self.zone)

    def instant(self, minutes: int) -> dt.datetime:
        """The instant ``minutes`` after the epoch, as an aware datetime in the site zone."""
        return (self.epoch + dt.timedelta(minutes=minutes)).astimezone(self.zone)

    def local_date(self, day: int) -> dt.date:
        """The local date of day index ``day``."""
        return self.scenario.horizon.start + dt.timedelta(days=day)

    def slot_of(self, post: str, template: str, date: dt.date) -> Slot | None:
        return self.slots.get(shift_id(post, template, date))


def shift_id(post: str, template: str, date: dt.date) -> str:
    """The solver's id of the shift ``template`` at ``post`` starting on local ``date``."""
    return f"{post}/{template}/{date.isoformat()}"


# --------------------------------------------------------------------------------------------------
# exact time


def _aware(instant: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=zone, fold=0)


def _minutes(instant: dt.datetime, epoch: dt.datetime, zone: ZoneInfo) -> int:
    return (_aware(instant, zone).astimezone(dt.UTC) - epoch) // _MINUTE


def _minutes_ceil(instant: dt.datetime, epoch: dt.datetime, zone: ZoneInfo) -> int:
    return -((epoch - _aware(instant, zone).astimezone(dt.UTC)) // _MINUTE)


class _Clock:
    """Local wall-clock -> exact minutes since the epoch, with a cache (shifts repeat their times)."""

    def __init__(self, zone: ZoneInfo, epoch: dt.datetime):
        self.zone = zone
        self.epoch = epoch
        self._cache: dict[tuple[dt.date, dt.time], int] = {}

    def at(self, date: dt.date, time: dt.time) -> int:
        key = (date, time)
        value = self._cache.get(key)
        if value is None:
            local = dt.datetime.combine(date, time.replace(tzinfo=None, fold=0), tzinfo=self.zone)
            value = (local.astimezone(dt.UTC) - self.epoch) // _MINUTE
            self._cache[key] = value
        return value

    def midnight(self, date: dt.date) -> int:
        return self.at(date, dt.time(0, 0))

    def floor(self, instant: dt.datetime) -> int:
        return _minutes(instant, self.epoch, self.zone)

    def ceil(self, instant: dt.datetime) -> int:
        return _minutes_ceil(instant, self.epoch, self.zone)

    def period_start(self, value: dt.date | dt.datetime | None) -> int:
        """``from``: missing = the beginning of time, a date = its local midnight."""
        if value is None:
            return _NEVER
        if isinstance(value, dt.datetime):
            return self.floor(value)
        return self.midnight(value)

    def period_until(self, value: dt.date | dt.datetime | None) -> int:
        """``until``: missing = open-ended, a date = inclusive (next local midnight), a date-time =
        exclusive."""
        if value is None:
            return _FOREVER
        if isinstance(value, dt.datetime):
            return self.ceil(value)
        return self.midnight(value + _DAY)

    def local_date_of(self, instant: dt.datetime) -> dt.date:
        return _aware(instant, self.zone).astimezone(self.zone).date()


class _Nights:
    """The site's night windows in exact minutes, one per local date (the window starting that date)."""

    def __init__(self, clock: _Clock, night: NightDefinition):
        self.clock = clock
        self.night = night
        self.min_minutes = night.min_hours * 60
        self._cache: dict[dt.date, tuple[int, int]] = {}

    def window(self, date: dt.date) -> tuple[int, int]:
        w = self._cache.get(date)
        if w is None:
            start = self.clock.at(date, self.night.start)
            end_date = date + _DAY if self.night.end <= self.night.start else date
            w = (start, self.clock.at(end_date, self.night.end))
            self._cache[date] = w
        return w

    def minutes_in(self, start: int, end: int, start_date: dt.date) -> int:
        """Minutes of [start, end) inside night windows; ``start_date`` is the local date of ``start``."""
        total = 0
        date = start_date - _DAY
        while True:
            ws, we = self.window(date)
            if ws >= end:
                break
            total += max(0, min(end, we) - max(start, ws))
            date += _DAY
        return total

    def is_night(self, start: int, end: int, start_date: dt.date) -> bool:
        return self.minutes_in(start, end, start_date) >= self.min_minutes


# --------------------------------------------------------------------------------------------------
# who may work what


@dataclass(frozen=True)
class _Block:
    """A span [start, end) in which a person may not work (or only light day posts)."""

    start: int
    end: int
    priority: int  # 0 sick/isolating, 1 limited duty, 2 dated absence: the lowest one names the reason
    reason: str
    what: str  # for messages, e.g. "is sick" or "is on limited duty"
    span: str  # the record as the coordinator wrote it, e.g. "sick from 2026-12-04"

    @property
    def limited(self) -> bool:
        return self.priority == 1


_When = dt.date | dt.datetime | None


def _span_text(label: str, start: _When, until: _When) -> str:
    text = label
    if start is not None:
        text += f" from {start.isoformat()}"
    if until is not None:
        text += f" until {until.isoformat()}"
    return text


def effective_health(
    records: Sequence[HealthRecord], start_of: Callable[[_When], int], until_of: Callable[[_When], int]
) -> list[tuple[int, int, HealthRecord]]:
    """The effective health timeline: disjoint ``(start, end, record)`` spans in which a record other
    than ``fit`` holds. Where records overlap, the one with the later ``from`` wins (a missing ``from``
    is the beginning of time); for equal ``from`` the later record in the list wins. ``start_of`` and
    ``until_of`` turn a record's ``from``/``until`` into minutes (open ends as very large numbers)."""
    spans = []
    for index, record in enumerate(records):
        s, u = start_of(record.start), until_of(record.until)
        if u > s:
            spans.append((s, u, index, record))
    if not spans:
        return []
    bounds = sorted({b for s, u, _, _ in spans for b in (s, u)})
    out: list[tuple[int, int, HealthRecord]] = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        covering = [(s, i, r) for s, u, i, r in spans if s <= a and u >= b]
        if not covering:
            continue
        _, _, record = max(covering, key=lambda c: (c[0], c[1]))
        if record.status == HealthStatus.fit:
            continue
        if out and out[-1][1] == a and out[-1][2] is record:
            out[-1] = (out[-1][0], b, record)
        else:
            out.append((a, b, record))
    return out


def _blocks(volunteer: Volunteer, clock: _Clock) -> list[_Block]:
    blocks: list[_Block] = []
    for s, e, record in effective_health(volunteer.health, clock.period_start, clock.period_until):
        span = _span_text(record.status.value, record.start, record.until)
        if record.status in _HARD_HEALTH:
            blocks.append(_Block(s, e, 0, record.status.value, f"is {record.status.value}", span))
        elif record.status in _LIMITED_HEALTH:
            blocks.append(_Block(s, e, 1, REASON_LIMITED, "is on limited duty", span))
    for period in volunteer.unavailable:
        s, e = clock.period_start(period.start), clock.period_until(period.until)
        if e > s:
            reason = REASON_UNAVAILABLE + (f": {period.reason.value}" if period.reason else "")
            blocks.append(_Block(s, e, 2, reason, "is unavailable", _period_text(period)))
    blocks.sort(key=lambda b: (b.start, b.end))
    return blocks


def _period_text(period: Period) -> str:
    text = _span_text("unavailable", period.start, period.until)
    return text + (f": {period.reason.value}" if period.reason else "")


class _BlockIndex:
    """Sorted blocks with a running maximum of their ends, for overlap queries by bisection."""

    def __init__(self, blocks: list[_Block]):
        self.blocks = blocks
        self.starts = [b.start for b in blocks]
        self.max_end: list[int] = []
        running = _NEVER
        for b in blocks:
            running = max(running, b.end)
            self.max_end.append(running)

    def blocking(self, start: int, end: int, light_day: bool) -> _Block | None:
        """The block that forbids [start, end), or None; ``light_day``: limited duty allows it."""
        best: _Block | None = None
        j = bisect_left(self.starts, end) - 1
        while j >= 0 and self.max_end[j] > start:
            b = self.blocks[j]
            if b.end > start and not (b.limited and light_day) and (
                best is None or (b.priority, b.start) < (best.priority, best.start)
            ):
                best = b
            j -= 1
        return best


def _availability(volunteer: Volunteer, clock: _Clock, first: dt.date, last: dt.date):
    """The person's availability as disjoint sorted spans (starts, ends), or None for 'any time'.

    Each weekly window gives one occurrence per matching local date (``end <= start`` runs into the
    next day, so 00:00-00:00 is the whole day). Occurrences that overlap or touch are merged, so a
    volunteer available all Friday and all Saturday can take the Friday night shift.
    """
    if volunteer.availability is None:
        return None
    occurrences = []
    date = first
    while date <= last:
        weekday = date.weekday()
        for window in volunteer.availability:
            if any(w.index == weekday for w in window.weekdays):
                s = clock.at(date, window.start)
                end_date = date + _DAY if window.end <= window.start else date
                e = clock.at(end_date, window.end)
                if e > s:
                    occurrences.append((s, e))
        date += _DAY
    occurrences.sort()
    merged: list[list[int]] = []
    for s, e in occurrences:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [m[0] for m in merged], [m[1] for m in merged]


def _inside(availability, start: int, end: int) -> bool:
    starts, ends = availability
    i = bisect_right(starts, start) - 1
    return i >= 0 and ends[i] >= end


# --------------------------------------------------------------------------------------------------
# history


def _history(volunteer: Volunteer, clock: _Clock, nights: _Nights, horizon_start: dt.date,
             where: str, problems: list[str], heavy_posts: dict[tuple[str, str | None], bool]) -> History:
    h = volunteer.history
    minutes: dict[int, int] = {}
    night: set[int] = set()
    night_end: dict[int, int] = {}
    heavy: set[int] = set()
    heavy_end: dict[int, int] = {}
    types: dict[int, set[str]] = {}
    visit_minutes: dict[int, int] = {}
    last_end: int | None = None
    if h.recent_shifts:
        for i, past in enumerate(h.recent_shifts):
            s, e = clock.floor(past.start), clock.ceil(past.end)
            date = clock.local_date_of(past.start)
            day = (date - horizon_start).days
            if day >= 0:
                problems.append(
                    f"{where}.history.recent_shifts[{i}]: starts on {date}, inside the horizon "
                    f"(history must end before {horizon_start})"
                )
                continue
            if past.post is not None and is_visit_post(past.post) and e - s <= SHORT_VISIT_MINUTES:
                # a short visit, as in the horizon: its minutes count, but no working day, no night, no
                # heavy day and no rest owed after it
                if day >= -HISTORY_DAYS:
                    minutes[day] = minutes.get(day, 0) + (e - s)
                    visit_minutes[day] = visit_minutes.get(day, 0) + (e - s)
                continue
            last_end = e if last_end is None else max(last_end, e)
            if day < -HISTORY_DAYS:
                continue
            minutes[day] = minutes.get(day, 0) + (e - s)
            is_night = past.night if past.night is not None else nights.is_night(s, e, date)
            if is_night:
                night.add(day)
                night_end[day] = max(e, night_end.get(day, e))
            if past.post is not None and heavy_posts.get((past.post, past.shift),
                                                         heavy_posts.get((past.post, None), False)):
                heavy.add(day)
                heavy_end[day] = max(e, heavy_end.get(day, e))
            if past.shift is not None:
                types.setdefault(day, set()).add(past.shift)
    else:
        worked = max(h.consecutive_days_worked, h.consecutive_nights, h.consecutive_heavy_days)
        for day in range(-worked, 0):
            minutes[day] = WORKED_DAY_MARKER_MINUTES
        for day in range(-h.consecutive_nights, 0):
            night.add(day)
        heavy.update(range(-h.consecutive_heavy_days, 0))
        hours = round(h.hours_last_7_days * 60)
        if hours > 0:
            # conservative: every 7-day window that could contain those hours counts them
            recent = -1 if worked >= 1 else -2
            minutes[recent] = max(hours, minutes.get(recent, 0))
    if h.last_shift_end is not None:
        explicit = clock.ceil(h.last_shift_end)
        last_end = explicit if last_end is None else max(last_end, explicit)
    span = -min(minutes, default=0)
    days = tuple(
        HistoryDay(
            minutes=minutes.get(d, 0), night=d in night, types=frozenset(types.get(d, ())),
            heavy=d in heavy, night_end=night_end.get(d), heavy_end=heavy_end.get(d),
            visit_minutes=visit_minutes.get(d, 0),
        )
        for d in range(-span, 0)
    )
    return History(days=days, last_shift_end=last_end)


# --------------------------------------------------------------------------------------------------
# the compiler


def _rules(scenario: Scenario, volunteer: Volunteer) -> Rules:
    site, own = scenario.rules, volunteer.rules

    def pick(name: str):
        value = getattr(own, name)
        return getattr(site, name) if value is None else value

    weekly = [site.max_hours_per_7_days]
    if volunteer.max_hours_per_week is not None:
        weekly.append(volunteer.max_hours_per_week)
    if own.max_hours_per_7_days is not None:
        weekly.append(own.max_hours_per_7_days)
    days_off = pick("min_days_off_per_7")
    rest = site.rest_after_nights
    heavy_rest = site.rest_after_heavy
    share = site.max_heavy_share_28_days
    return Rules(
        rest_after_nights=rest.min_nights if rest is not None else None,
        rest_after_nights_minutes=round(rest.hours * 60) if rest is not None else 0,
        rest_after_heavy=heavy_rest.min_days if heavy_rest is not None else None,
        rest_after_heavy_minutes=round(heavy_rest.hours * 60) if heavy_rest is not None else 0,
        max_consecutive_heavy_days=site.max_consecutive_heavy_days,
        max_heavy_per_mille_28_days=round(share * 1000) if share is not None else None,
        min_rest_minutes=round(pick("min_rest_hours") * 60),
        max_shifts_per_day=pick("max_shifts_per_day"),
        visit_gap_minutes=site.visit_travel_minutes,
        max_consecutive_days=pick("max_consecutive_days"),
        min_days_off_per_7=days_off or None,
        max_minutes_per_7_days=round(min(weekly) * 60),
        max_consecutive_nights=pick("max_consecutive_nights"),
        max_weekends=pick("max_weekends"),
    )


def _weights(scenario: Scenario) -> Weights:
    names = {f.name for f in fields(Weights)}
    given = scenario.rules.weights.model_dump()
    return Weights(**{k: v for k, v in given.items() if k in names})


def capacity(max_minutes_per_7_days: int | None, available_days: int) -> int:
    """Sustainable minutes over the horizon plus the week before it: ``weekly * (7 + days) / 7``,
    rounded half up; 0 when the person cannot work on any day (or has no weekly limit)."""
    if available_days <= 0 or not max_minutes_per_7_days:
        return 0
    return (2 * max_minutes_per_7_days * (WEEK + available_days) + WEEK) // (2 * WEEK)


def _target(volunteer: Volunteer, rules: Rules, available_days: int) -> int:
    """The volunteer's wish for hours over the load window, like :func:`capacity`, within their cap."""
    wish = volunteer.preferences.target_hours_per_week
    if not wish:
        return 0
    weekly = round(wish * 60)
    if rules.max_minutes_per_7_days is not None:
        weekly = min(weekly, rules.max_minutes_per_7_days)
    return capacity(weekly, available_days)


@dataclass
class _ShiftInfo:
    shift: Shift
    slot: Slot
    weekday: int
    light_day: bool


@dataclass
class _Access:
    """What one person may work: reasons for the shifts they may not, and why (for pin messages)."""

    unavailable: dict[str, str] = field(default_factory=dict)
    blocks: dict[str, _Block | None] = field(default_factory=dict)  # None: outside availability

    def why(self, volunteer: str, info: _ShiftInfo) -> str:
        """A sentence for error messages: why ``volunteer`` may not work ``info``."""
        block = self.blocks[info.shift.id]
        if block is None:
            return (
                f"{volunteer} is outside their availability for {info.shift.id} "
                f"({info.slot.start:%a %H:%M}-{info.slot.end:%a %H:%M})"
            )
        date = info.slot.date
        if block.limited:
            kind = info.slot.intensity.value + (" night" if info.slot.night else "")
            return (
                f"{volunteer} is on limited duty on {date} ({block.span}): light day posts only, "
                f"{info.shift.id} is a {kind} shift"
            )
        return f"{volunteer} {block.what} on {date} ({block.span})"


def compile_scenario(scenario: Scenario) -> Compiled:
    """Turn a scenario into a solver problem; raise :class:`ScenarioError` for what cannot be planned."""
    zone = scenario.site.zone
    horizon = scenario.horizon
    epoch = dt.datetime.combine(horizon.start, dt.time(0, 0), tzinfo=zone).astimezone(dt.UTC)
    clock = _Clock(zone, epoch)
    nights = _Nights(clock, scenario.rules.night)
    problems: list[str] = []
    warnings: list[str] = []

    # shifts ---------------------------------------------------------------------------------------
    infos: list[_ShiftInfo] = []
    dates = [horizon.start + dt.timedelta(days=d) for d in range(horizon.days)]
    staffed = all_posts(scenario)
    for p_index, post in enumerate(staffed):
        for t_index, template in enumerate(post.shifts):
            weekdays = {w.index for w in template.weekdays}
            only = set(template.dates) if template.dates is not None else None
            intensity = Intensity((template.intensity or post.intensity).value)
            for day, date in enumerate(dates):
                if date.weekday() not in weekdays or (only is not None and date not in only):
                    continue
                start = clock.at(date, template.start)
                end_date = date + _DAY if template.end <= template.start else date
                end = clock.at(end_date, template.end)
                sid = shift_id(post.id, template.id, date)
                if end <= start:
                    warnings.append(
                        f"posts[{p_index}].shifts[{t_index}]: {sid} skipped, "
                        f"{template.start:%H:%M}-{template.end:%H:%M} does not exist on {date} (DST change)"
                    )
                    continue
                night = nights.is_night(start, end, date)
                shift = Shift(
                    id=sid, post=post.id, type=template.id, day=day, start=start, end=end,
                    required=template.required, max_staff=template.required,
                    skills=dict(template.skills), night=night, intensity=intensity, pair=template.pairs,
                    under_weight=VISIT_UNDER_WEIGHT if is_visit_post(post.id) else 1,
                    visit=is_visit_post(post.id) and end - start <= SHORT_VISIT_MINUTES,
                )
                slot = Slot(
                    shift_id=sid, post=post.id, template=template.id, date=date,
                    start=(epoch + dt.timedelta(minutes=start)).astimezone(zone),
                    end=(epoch + dt.timedelta(minutes=end)).astimezone(zone),
                    hours=(end - start) / 60, night=night, intensity=intensity,
                )
                light_day = intensity == Intensity.LIGHT and not night
                infos.append(_ShiftInfo(shift, slot, date.weekday(), light_day))
    infos.sort(key=lambda i: (i.shift.start, i.shift.post, i.shift.id))
    slots = {i.shift.id: i.slot for i in infos}
    info_of = {i.shift.id: i for i in infos}
    templates = {s.id for p in scenario.posts for s in p.shifts}

    # people ---------------------------------------------------------------------------------------
    heavy_posts: dict[tuple[str, str | None], bool] = {}  # (post, template or None) -> heavy
    for post in staffed:
        heavy_posts[(post.id, None)] = post.intensity.value == "heavy"
        for template in post.shifts:
            heavy_posts[(post.id, template.id)] = (template.intensity or post.intensity).value == "heavy"
    first, last = horizon.start - _DAY, horizon.end
    people: list[Person] = []
    access_of: dict[str, _Access] = {}
    all_days = len({i.shift.day for i in infos})
    guardians = guardians_by_post(scenario)
    visits = [i for i in infos if i.shift.post in guardians]
    for volunteer in scenario.volunteers:
        where = f"volunteers[{volunteer.id}]"
        prefs = volunteer.preferences
        for name in ("preferred_shifts", "unwanted_shifts"):
            for tid in getattr(prefs, name):
                if tid not in templates:
                    problems.append(f"{where}.preferences.{name}: no shift template {tid!r}")
        rules = _rules(scenario, volunteer)
        index = _BlockIndex(_blocks(volunteer, clock))
        window = _availability(volunteer, clock, first, last)
        access = _Access()
        avoids: dict[str, int] = {}
        if not index.blocks and window is None:
            available_days = all_days
        else:
            days: set[int] = set()
            for info in infos:
                sh = info.shift
                block = index.blocking(sh.start, sh.end, info.light_day) if index.blocks else None
                if block is not None:
                    access.unavailable[sh.id] = block.reason
                    access.blocks[sh.id] = block
                elif window is not None and not _inside(window, sh.start, sh.end):
                    access.unavailable[sh.id] = REASON_OUTSIDE_AVAILABILITY
                    access.blocks[sh.id] = None
                else:
                    days.add(sh.day)
            available_days = len(days)
        for info in visits:
            sid = info.shift.id
            primary, backup = guardians[info.shift.post]
            if volunteer.id not in (primary, backup):
                if sid not in access.unavailable:
                    access.unavailable[sid] = REASON_NOT_GUARDIAN
            elif volunteer.id == backup and sid not in access.unavailable:
                avoids[sid] = BACKUP_VISIT_PENALTY
        if (prefs.unwanted_posts or prefs.unwanted_shifts or prefs.unwanted_weekdays
                or prefs.preferred_posts or prefs.preferred_shifts):
            un_posts, un_shifts = set(prefs.unwanted_posts), set(prefs.unwanted_shifts)
            un_days = {w.index for w in prefs.unwanted_weekdays}
            pref_posts, pref_shifts = set(prefs.preferred_posts), set(prefs.preferred_shifts)
            for info in infos:
                sh = info.shift
                if sh.id in access.unavailable:
                    continue
                penalty = preference_penalty(
                    sh.post, sh.type, info.weekday, un_posts, un_shifts, un_days, pref_posts, pref_shifts
                )
                if penalty:
                    avoids[sh.id] = avoids.get(sh.id, 0) + penalty
        access_of[volunteer.id] = access
        people.append(Person(
            id=volunteer.id,
            skills=frozenset(volunteer.skills),
            rules=rules,
            history=_history(volunteer, clock, nights, horizon.start, where, problems, heavy_posts),
            unavailable=access.unavailable,
            avoids=avoids,
            capacity_minutes=capacity(rules.max_minutes_per_7_days, available_days),
            target_minutes=_target(volunteer, rules, available_days),
        ))

    # pins -----------------------------------------------------------------------------------------
    pinned: set[tuple[str, str]] = set()
    for i, pin in enumerate(scenario.pinned):
        sid = shift_id(pin.post, pin.shift, pin.date)
        if sid not in slots:
            problems.append(
                f"pinned[{i}]: shift {pin.shift!r} at post {pin.post!r} does not run on {pin.date} "
                f"(a {_WEEKDAY_NAMES[pin.date.weekday()]})"
            )
            continue
        access = access_of[pin.volunteer]
        if sid in access.unavailable:
            problems.append(f"pinned[{i}]: {access.why(pin.volunteer, info_of[sid])}")
            continue
        pinned.add((pin.volunteer, sid))

    if problems:
        raise ScenarioError(problems)

    problem = Problem(
        days=horizon.days,
        shifts=tuple(i.shift for i in infos),
        people=tuple(people),
        first_weekday=horizon.start.weekday(),
        forbidden_successions=frozenset(tuple(p) for p in scenario.rules.forbidden_successions),
        pinned=frozenset(pinned),
        weights=_weights(scenario),
        load_measure=LoadMeasure(scenario.rules.load_measure),
        name=scenario.site.name,
    )
    return Compiled(
        problem=problem, scenario=scenario, zone=zone, epoch=epoch, slots=slots, warnings=tuple(warnings)
    )


def preference_penalty(post: str, template: str, weekday: int, unwanted_posts, unwanted_shifts,
                       unwanted_weekdays, preferred_posts, preferred_shifts) -> int:
    """The ``avoids`` penalty of one shift for one volunteer (see the module constants)."""
    penalty = 0
    if post in unwanted_posts:
        penalty += UNWANTED_PENALTY
    if template in unwanted_shifts:
        penalty += UNWANTED_PENALTY
    if weekday in unwanted_weekdays:
        penalty += UNWANTED_PENALTY
    if preferred_posts and post not in preferred_posts:
        penalty += NOT_PREFERRED_PENALTY
    if preferred_shifts and template not in preferred_shifts:
        penalty += NOT_PREFERRED_PENALTY
    return penalty



def off_duty(volunteer: Volunteer, scenario: Scenario, since: dt.datetime | None = None) -> bool:
    """Whether ``volunteer`` is sick or isolating at any time from ``since`` (aware, or naive = site-local;
    default the horizon's start) to the horizon's end, by the same health timeline the rota uses."""
    zone = scenario.site.zone
    epoch = dt.datetime.combine(scenario.horizon.start, dt.time(0, 0), tzinfo=zone).astimezone(dt.UTC)
    clock = _Clock(zone, epoch)
    start = 0 if since is None else max(0, clock.floor(since))
    end = clock.midnight(scenario.horizon.end)
    return any(
        s < end and e > start and record.status in _HARD_HEALTH
        for s, e, record in effective_health(volunteer.health, clock.period_start, clock.period_until)
    )
