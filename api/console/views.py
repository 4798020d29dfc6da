"""What the console's pages show, shaped from a schedule (published or a job's draft), the site's posts
and volunteers: the next 72 hours post by post, a week's grid, everyone's status and load.

Pure functions of their arguments (no database, no request): the routes read the rows and pass them in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from scheduler.domain import clock
from scheduler.domain import scenario as sc
from scheduler.domain.health import Status, next_status, status_at
from scheduler.domain.schedule import Assignment, Schedule, Uncovered
from scheduler.domain.worked import ShiftKey, WorkedShift, hours_by_shift, hours_of

#: How far ahead the Today page looks.
TODAY_HOURS = 72
#: Hours this week at or above this share of the cap are a warning.
NEAR_CAP = 0.85
#: Load (per mille of capacity) at or above which someone is flagged as heavily loaded.
HIGH_LOAD = 900
#: The People page's look back (nights and heavy shifts) and the load chart's weeks of past work.
RECENT_DAYS = 14
PAST_WEEKS = 4
#: Nights (or heavy shifts) in the last RECENT_DAYS at or above this many are a warning, unless the site's
#: rule on heavy shifts says less (``max_heavy_share_28_days``, checked as a share of the days worked).
MANY_NIGHTS = 6
MANY_HEAVY = 7
#: Post colours (CSS classes post-0 .. post-7), in the order of the site's posts.
COLOURS = 8


def tel(phone: str | None) -> str | None:
    """A tap-to-call link target for a phone number, or None if it has no digits."""
    if not phone:
        return None
    digits = re.sub(r"[^\d+]", "", phone)
    digits = digits[:1] + digits[1:].replace("+", "")
    return f"tel:{digits}" if re.search(r"\d", digits) else None


def colours(posts: list[sc.Post]) -> dict[str, int]:
    return {p.id: i % COLOURS for i, p in enumerate(posts)}


@dataclass
class Person:
    id: str
    name: str
    phone: str | None
    tel: str | None


def people_of(volunteers: list[sc.Volunteer]) -> dict[str, Person]:
    return {
        v.id: Person(v.id, v.name, v.contact.phone, tel(v.contact.phone)) for v in volunteers
    }


# ---------------------------------------------------------------------------------------- slots


@dataclass
class Slot:
    """One shift of one post on one day: who is on it and how many are missing."""

    post: str
    shift: str
    date: dt.date
    start: dt.datetime
    end: dt.datetime
    people: list[Person] = field(default_factory=list)
    missing: int = 0
    missing_skills: dict[str, int] = field(default_factory=dict)
    reason: str = ""
    detail: str = ""
    now: bool = False
    next: bool = False
    added: set[str] = field(default_factory=set)  # against a baseline: volunteer ids new here
    removed: list[Person] = field(default_factory=list)  # against a baseline: no longer here

    @property
    def short(self) -> bool:
        return self.missing > 0


def slots_of(
    assignments: list[Assignment], uncovered: list[Uncovered], people: dict[str, Person], zone: ZoneInfo
) -> list[Slot]:
    """Assignments and shortfalls grouped by (post, shift, date), in the site's zone, by start."""
    slots: dict[tuple[str, str, dt.date], Slot] = {}

    def slot(post: str, shift: str, date: dt.date, start: dt.datetime, end: dt.datetime) -> Slot:
        key = (post, shift, date)
        if key not in slots:
            slots[key] = Slot(post, shift, date, start.astimezone(zone), end.astimezone(zone))
        return slots[key]

    for a in assignments:
        person = people.get(a.volunteer) or Person(a.volunteer, a.volunteer, None, None)
        slot(a.post, a.shift, a.date, a.start, a.end).people.append(person)
    for u in uncovered:
        s = slot(u.post, u.shift, u.date, u.start, u.end)
        s.missing, s.missing_skills, s.reason, s.detail = u.missing, u.missing_skills, u.reason, u.detail
    for s in slots.values():
        s.people.sort(key=lambda p: p.name)
    return sorted(slots.values(), key=lambda s: (s.start, s.post, s.shift))


@dataclass
class PostDay:
    post: sc.Post
    colour: int
    slots: list[Slot]


@dataclass
class Today:
    start: dt.datetime
    end: dt.datetime
    posts: list[PostDay]
    gaps: int
    not_started: bool  # the schedule starts after now: the window is its first 72 hours


def today(
    schedule: Schedule, posts: list[sc.Post], volunteers: list[sc.Volunteer], now: dt.datetime
) -> Today:
    """The next 72 hours (from now, or from the schedule's first day if that is later), post by post:
    every slot that has not ended, who is on now and who is next, and the gaps."""
    zone = ZoneInfo(schedule.timezone)
    begin = dt.datetime.combine(schedule.start, dt.time(), tzinfo=zone)
    current = now.astimezone(zone)
    not_started = begin > current
    start = max(current, begin)
    end = start + dt.timedelta(hours=TODAY_HOURS)
    inside = [a for a in schedule.assignments if a.end > start and a.start < end]
    short = [u for u in schedule.uncovered if u.end > start and u.start < end]
    slots = slots_of(inside, short, people_of(volunteers), zone)
    palette = colours(posts)
    out = []
    for post in posts:
        mine = [s for s in slots if s.post == post.id]
        for s in mine:
            s.now = s.start <= current < s.end
        upcoming = [s for s in mine if s.start > current]
        if upcoming:
            upcoming[0].next = True
        out.append(PostDay(post, palette[post.id], mine))
    return Today(start, end, out, sum(1 for s in slots if s.short), not_started)


# ------------------------------------------------------------------------------------------ grid


@dataclass
class Cell:
    slots: list[Slot] = field(default_factory=list)

    @property
    def short(self) -> bool:
        return any(s.short for s in self.slots)


@dataclass
class PersonCell:
    #: (assignment, post colour, new against the baseline)
    shifts: list[tuple[Assignment, int, bool]] = field(default_factory=list)


@dataclass
class Grid:
    first: dt.date
    days: list[dt.date]
    previous: dt.date | None
    following: dt.date | None
    posts: list[tuple[sc.Post, int, list[Cell]]]
    people: list[tuple[Person, list[PersonCell], float]]
    gaps: int
    changes: int | None = None  # places changed against the baseline (None without one)


def week_start(schedule: Schedule, wanted: dt.date | None, today_: dt.date) -> dt.date:
    """The first day shown: the one asked for, else today if inside the schedule, else its first day;
    never outside the schedule."""
    first, last = schedule.start, schedule.start + dt.timedelta(days=schedule.days - 1)
    day = wanted or (today_ if first <= today_ <= last else first)
    return min(max(day, first), last)


def grid(
    schedule: Schedule,
    posts: list[sc.Post],
    volunteers: list[sc.Volunteer],
    first: dt.date,
    days: int = 7,
    baseline: Schedule | None = None,
) -> Grid:
    """A week from ``first``: posts x days (each day's slots, gaps marked) and people x days. With a
    ``baseline`` (the published schedule, beside a draft), who is new on a shift and who is no longer on
    it are marked."""
    zone = ZoneInfo(schedule.timezone)
    dates = [first + dt.timedelta(days=i) for i in range(days)]
    last_of_schedule = schedule.start + dt.timedelta(days=schedule.days - 1)
    dates = [d for d in dates if d <= last_of_schedule]
    last = dates[-1]
    inside = [a for a in schedule.assignments if first <= a.date <= last]
    short = [u for u in schedule.uncovered if first <= u.date <= last]
    people = people_of(volunteers)
    slots = slots_of(inside, short, people, zone)
    changes = None
    before: dict[tuple[str, str, dt.date], set[str]] = defaultdict(set)
    if baseline is not None:
        for a in baseline.assignments:
            if first <= a.date <= last:
                before[(a.post, a.shift, a.date)].add(a.volunteer)
        keys = {(s.post, s.shift, s.date) for s in slots}
        extra = [a for a in baseline.assignments if first <= a.date <= last and (a.post, a.shift, a.date)
                 not in keys]
        for s in slots_of(extra, [], people, zone):  # shifts the draft has nobody on at all
            s.people = []
            slots.append(s)
        slots.sort(key=lambda s: (s.start, s.post, s.shift))
        changes = 0
        for s in slots:
            now_on = {p.id for p in s.people}
            was_on = before.get((s.post, s.shift, s.date), set())
            s.added = now_on - was_on
            s.removed = sorted((people.get(v) or Person(v, v, None, None) for v in was_on - now_on),
                               key=lambda p: p.name)
            changes += len(s.added) + len(s.removed)
    palette = colours(posts)
    by_post_day: dict[tuple[str, dt.date], Cell] = defaultdict(Cell)
    for s in slots:
        by_post_day[(s.post, s.date)].slots.append(s)
    post_rows = [(p, palette[p.id], [by_post_day[(p.id, d)] for d in dates]) for p in posts]
    by_person_day: dict[tuple[str, dt.date], PersonCell] = defaultdict(PersonCell)
    hours: dict[str, float] = defaultdict(float)
    for a in sorted(inside, key=lambda a: a.start):
        new = baseline is not None and a.volunteer not in before.get((a.post, a.shift, a.date), set())
        by_person_day[(a.volunteer, a.date)].shifts.append((a, palette.get(a.post, 0), new))
        hours[a.volunteer] += a.hours
    people_rows = [
        (people[v.id], [by_person_day[(v.id, d)] for d in dates], hours.get(v.id, 0.0))
        for v in volunteers
    ]
    previous = first - dt.timedelta(days=days) if first > schedule.start else None
    if previous is not None and previous < schedule.start:
        previous = schedule.start
    following = first + dt.timedelta(days=days)
    return Grid(
        first=first,
        days=dates,
        previous=previous,
        following=following if following <= last_of_schedule else None,
        posts=post_rows,
        people=people_rows,
        gaps=sum(1 for s in slots if s.short),
        changes=changes,
    )


# ---------------------------------------------------------------------------------------- people


# ------------------------------------------------------------------------------------- past work


@dataclass(frozen=True)
class Worked:
    """A shift someone worked (or was published to work) in the past."""

    volunteer: str
    date: dt.date
    start: dt.datetime
    hours: float
    night: bool
    heavy: bool


@dataclass(frozen=True)
class Version:
    """A published schedule version as the past reads it: when it was published and its schedule."""

    number: int
    published_at: dt.datetime
    schedule: Schedule


def past_work(
    versions: list[Version],
    volunteers: list[sc.Volunteer],
    since: dt.datetime,
    until: dt.datetime,
    zone: ZoneInfo,
) -> list[Worked]:
    """The shifts that started in ``[since, until)``, as the store knows them: for each shift, the newest
    published version that covers its day and was published before it started (the one in force then; the
    first version covering the day if all were published later); before the first published day, the
    volunteers' ``history.recent_shifts`` from the scenario (their heaviness is not recorded; a naive
    time there is a wall clock in ``zone``, the site's). Published
    shifts that were not worked after all are only known if a later version dropped them in time."""
    ordered = sorted(versions, key=lambda v: (v.published_at, v.number))

    def covers(v: Version, day: dt.date) -> bool:
        return v.schedule.start <= day < v.schedule.start + dt.timedelta(days=v.schedule.days)

    out: list[Worked] = []
    first_day: dt.date | None = None
    for v in ordered:
        first_day = v.schedule.start if first_day is None else min(first_day, v.schedule.start)
        for a in v.schedule.assignments:
            if not (since <= a.start < until):
                continue
            in_force = [w for w in ordered if covers(w, a.date) and w.published_at <= a.start]
            chosen = in_force[-1] if in_force else next(w for w in ordered if covers(w, a.date))
            if chosen is v:
                out.append(Worked(a.volunteer, a.date, a.start, a.hours, a.night, a.intensity == "heavy"))
    for person in volunteers:
        for p in person.history.recent_shifts:
            start, end = clock.aware(p.start, zone), clock.aware(p.end, zone)
            if not (since <= start < until):
                continue
            if first_day is not None and start.date() >= first_day:
                continue  # the published versions know this span
            hours = (end - start).total_seconds() / 3600
            out.append(Worked(person.id, start.date(), start, round(hours, 2), bool(p.night), False))
    return out


@dataclass
class PersonLoad:
    person: Person
    skills: list[str]
    status: Status
    upcoming: Status | None
    hours: float
    cap: float
    nights: int
    load: int | None
    warnings: list[str]  # keys: over_cap, near_cap, high_load, assigned_while_off, many_nights, many_heavy
    recent_nights: int = 0  # in the last RECENT_DAYS days
    recent_heavy: int = 0

    @property
    def share(self) -> float:
        return min(1.0, self.hours / self.cap) if self.cap else 0.0

    @property
    def nights_share(self) -> float:
        return min(1.0, self.recent_nights / RECENT_DAYS)

    @property
    def heavy_share(self) -> float:
        return min(1.0, self.recent_heavy / RECENT_DAYS)


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """Monday to Sunday of the week holding ``day``."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def people_loads(
    schedule: Schedule | None,
    volunteers: list[sc.Volunteer],
    rules: sc.Rules,
    timezone: str,
    now: dt.datetime,
    recent: list[Worked] | None = None,
    worked: list[WorkedShift] | None = None,
) -> tuple[tuple[dt.date, dt.date], list[PersonLoad]]:
    """Everyone with their status now, hours in the week (Monday to Sunday) holding today, or the
    schedule's first week if it starts later, against their cap, nights and heavy shifts in ``recent``
    (the last RECENT_DAYS days of :func:`past_work`), and warnings. The hours count what was worked where
    ``worked`` records it (actual times, none for a no-show, extra shifts added)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    reference = local.date()
    if schedule is not None and schedule.start > reference:
        reference = schedule.start
    monday, sunday = week_of(reference)
    hours: dict[str, float] = defaultdict(float)
    nights: dict[str, int] = defaultdict(int)
    off_duty_shifts: dict[str, int] = defaultdict(int)
    loads = {t.volunteer: t.load for t in schedule.volunteers} if schedule is not None else {}
    people = people_of(volunteers)
    by_id = {v.id: v for v in volunteers}
    by_shift, extra = hours_by_shift(worked or [], schedule)
    for r in extra:
        if r.start is not None and monday <= r.start.astimezone(zone).date() <= sunday:
            hours[r.volunteer] += hours_of(r, None)
    if schedule is not None:
        for a in schedule.assignments:
            if monday <= a.date <= sunday:
                hours[a.volunteer] += by_shift.get(ShiftKey.of(a), a.hours)
                nights[a.volunteer] += int(a.night)
            if a.end > now and a.volunteer in by_id:
                at = status_at(by_id[a.volunteer].health, a.start, zone)
                if at.status in ("sick", "isolating"):
                    off_duty_shifts[a.volunteer] += 1
    recent_nights: dict[str, int] = defaultdict(int)
    recent_heavy: dict[str, int] = defaultdict(int)
    recent_days: dict[str, set[dt.date]] = defaultdict(set)
    for w in recent or []:
        recent_nights[w.volunteer] += int(w.night)
        recent_heavy[w.volunteer] += int(w.heavy)
        recent_days[w.volunteer].add(w.date)
    heavy_share = rules.max_heavy_share_28_days
    out = []
    for v in volunteers:
        cap = rules.max_hours_per_7_days
        if v.max_hours_per_week is not None:
            cap = min(cap, v.max_hours_per_week)
        h = round(hours.get(v.id, 0.0), 2)
        n14, heavy14 = recent_nights.get(v.id, 0), recent_heavy.get(v.id, 0)
        warnings = []
        if cap and h > cap:
            warnings.append("over_cap")
        elif cap and h >= NEAR_CAP * cap:
            warnings.append("near_cap")
        load = loads.get(v.id)
        if load is not None and load >= HIGH_LOAD:
            warnings.append("high_load")
        if off_duty_shifts.get(v.id):
            warnings.append("assigned_while_off")
        if n14 >= MANY_NIGHTS:
            warnings.append("many_nights")
        worked_days = len(recent_days.get(v.id, ()))
        if heavy14 >= MANY_HEAVY or (
            heavy_share is not None and heavy14 and worked_days and heavy14 / worked_days >= heavy_share
        ):
            warnings.append("many_heavy")
        out.append(
            PersonLoad(
                person=people[v.id],
                skills=list(v.skills),
                status=status_at(v.health, now, zone),
                upcoming=next_status(v.health, now, zone),
                hours=h,
                cap=cap,
                nights=nights.get(v.id, 0),
                load=load,
                warnings=warnings,
                recent_nights=n14,
                recent_heavy=heavy14,
            )
        )
    return (monday, sunday), out


def coverage(schedule: Schedule) -> tuple[int, int, float]:
    """(places staffed, places asked for, share staffed) of a schedule."""
    missing = sum(u.missing for u in schedule.uncovered)
    staffed = len(schedule.assignments)
    total = staffed + missing
    return staffed, total, (staffed / total if total else 1.0)


# ------------------------------------------------------------------------------------ load chart


@dataclass
class LoadRow:
    person: Person
    cap: float
    weeks: list[tuple[float, int]]  # (hours, nights) per week

    @property
    def worst(self) -> float:
        return max((h / self.cap for h, _ in self.weeks), default=0.0) if self.cap else 0.0


@dataclass
class LoadChart:
    weeks: list[dt.date]  # Mondays
    rows: list[LoadRow]
    top: float  # the hours the widest bar stands for
    worked: list[bool] = field(default_factory=list)  # per week: past work (True) or planned (False)

    @property
    def past_weeks(self) -> int:
        return sum(self.worked)


def load_chart(
    schedule: Schedule | None,
    volunteers: list[sc.Volunteer],
    rules: sc.Rules,
    past: list[Worked] | None = None,
    today: dt.date | None = None,
) -> LoadChart:
    """Hours and nights per person per week (Monday to Sunday), most loaded first (against their cap),
    so the over-worked stand out. Without ``today``: the schedule's weeks. With it: the PAST_WEEKS weeks
    before the week holding ``today`` from ``past`` (:func:`past_work`), then the planned weeks of the
    schedule from this week on."""
    planned: list[dt.date] = []
    if schedule is not None:
        monday, _ = week_of(schedule.start)
        last = schedule.start + dt.timedelta(days=schedule.days - 1)
        while monday <= last:
            planned.append(monday)
            monday += dt.timedelta(days=7)
    previous: list[dt.date] = []
    if today is not None:
        this_week, _ = week_of(today)
        planned = [w for w in planned if w >= this_week]
        previous = [this_week - dt.timedelta(days=7 * k) for k in range(PAST_WEEKS, 0, -1)]
    weeks = previous + planned
    worked = [True] * len(previous) + [False] * len(planned)
    hours: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(weeks))
    nights: dict[str, list[int]] = defaultdict(lambda: [0] * len(weeks))
    past_index = {w: i for i, w in enumerate(previous)}
    plan_index = {w: len(previous) + i for i, w in enumerate(planned)}
    for w in past or []:
        i = past_index.get(week_of(w.date)[0])
        if i is not None:
            hours[w.volunteer][i] += w.hours
            nights[w.volunteer][i] += int(w.night)
    for a in schedule.assignments if schedule is not None else []:
        i = plan_index.get(week_of(a.date)[0])
        if i is None:
            continue
        hours[a.volunteer][i] += a.hours
        nights[a.volunteer][i] += int(a.night)
    people = people_of(volunteers)
    rows = []
    for v in volunteers:
        cap = rules.max_hours_per_7_days
        if v.max_hours_per_week is not None:
            cap = min(cap, v.max_hours_per_week)
        h, n = hours[v.id], nights[v.id]
        rows.append(LoadRow(people[v.id], cap, [(round(h[i], 1), n[i]) for i in range(len(weeks))]))
    rows.sort(key=lambda r: (-r.worst, r.person.name))
    top = max([r.cap for r in rows] + [h for r in rows for h, _ in r.weeks] + [1.0])
    return LoadChart(weeks, rows, top, worked)
