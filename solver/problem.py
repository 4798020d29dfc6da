"""The solver's input and output: plain, immutable data with no time zones and no I/O.

Everything here is already *compiled* by the domain layer (``scheduler/``):

* Time is an integer number of minutes since the problem's ``epoch`` (an exact UTC instant, usually
  local midnight of the first day). Shift lengths therefore come out right across DST changes.
* Days are integer indices of *local* calendar days: day 0 is the first day of the horizon, negative
  days are history. A shift belongs to the local day on which it starts.
* Who may work which shift (availability, health, skills demanded of everyone, limited duty) is
  already decided and arrives as ``Person.unavailable`` with a human reason per shift.

The solver turns a :class:`Problem` into a :class:`Solution`; ``solver.validate`` checks a solution
against a problem without knowing anything about CP-SAT.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


def _no_entries():
    return field(default_factory=dict)


MINUTES_PER_DAY = 24 * 60
WEEK = 7
SATURDAY, SUNDAY = 5, 6


class Intensity(StrEnum):
    LIGHT = "light"
    NORMAL = "normal"
    HEAVY = "heavy"


HEAVY_WINDOW = 28  # days of the window of Rules.max_heavy_per_mille_28_days


def heavy_windows(history_days: int, days: int) -> list[tuple[int, int]]:
    """The (first, last) days of the windows of ``max_heavy_per_mille_28_days`` for a person with
    ``history_days`` days of recorded history: every 28 consecutive days inside the known span (the
    recorded history, at most 27 days of it, and the horizon), or that whole span if it is shorter."""
    lo = -min(history_days, HEAVY_WINDOW - 1)
    if days - lo <= HEAVY_WINDOW:
        return [(lo, days - 1)] if days > 0 else []
    return [(s, s + HEAVY_WINDOW - 1) for s in range(lo, days - HEAVY_WINDOW + 1)]


class LoadMeasure(StrEnum):
    """What the load terms (``load_max``, ``load_spread``) measure; see ``solver.load``."""

    HOURS = "hours"  # intensity-weighted hours worked, history included: everyone as little as needed
    CAPACITY = "capacity"  # the same, per mille of each person's declared capacity


@dataclass(frozen=True)
class Shift:
    """One concrete occurrence of a shift at a post: a *slot* to be staffed."""

    id: str
    post: str
    type: str  # shift kind used by succession and per-kind limits, e.g. "night" or "E"
    day: int  # local day index of the start, 0 <= day < Problem.days
    start: int  # minutes since epoch
    end: int  # minutes since epoch, > start
    required: int = 1  # wanted headcount
    max_staff: int | None = None  # hard cap on headcount; None = no cap (over-staffing is penalised)
    skills: Mapping[str, int] = _no_entries()  # at least n of the assigned people have this skill
    night: bool = False
    intensity: Intensity = Intensity.NORMAL
    under_weight: int = 1  # multiplier on Weights.uncovered for each missing person
    over_weight: int = 1  # multiplier on Weights.overstaffed for each person beyond ``required``
    pair: bool = False  # worked by two people together or not at all (outreach in pairs): 0 or >= 2
    # a short visit (a resident's home visit): not the day's shift, no rest rule of its own, no working
    # day, night or heavy day on its own; only a travel gap to the person's other shifts (see
    # ``Rules.visit_gap_minutes``); its minutes count in every hours cap and in the load terms
    visit: bool = False

    @property
    def minutes(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Rules:
    """Hard limits for one person. ``None`` (or 0 for rest) means the rule does not apply."""

    min_rest_minutes: int = 0  # between the end of one shift and the start of the next (not visits)
    # between a visit (``Shift.visit``) and any other shift of the person, history's last shift included
    visit_gap_minutes: int = 15
    max_shifts_per_day: int = 1
    max_consecutive_days: int | None = None
    min_consecutive_days: int | None = None  # length of every block of working days
    min_consecutive_days_off: int | None = None  # length of every block of days off
    min_days_off_per_7: int | None = None  # in every window of 7 consecutive days
    max_minutes_per_7_days: int | None = None  # in every window of 7 consecutive days
    max_consecutive_nights: int | None = None
    min_total_minutes: int | None = None  # over the horizon
    max_total_minutes: int | None = None  # over the horizon
    max_weekends: int | None = None  # weekends with any shift on Saturday or Sunday
    max_shifts_by_type: Mapping[str, int] = _no_entries()  # over the horizon
    # compensatory rest: after a run of at least ``rest_after_nights`` consecutive nights (history
    # included), no shift starts within ``rest_after_nights_minutes`` of the end of its last night
    rest_after_nights: int | None = None
    rest_after_nights_minutes: int = 0
    # the same after a run of at least ``rest_after_heavy`` consecutive days with a heavy shift: no shift
    # starts within ``rest_after_heavy_minutes`` of the end of the run's last heavy shift
    rest_after_heavy: int | None = None
    rest_after_heavy_minutes: int = 0
    # rotation off heavy posts: runs of days with a heavy shift (history included), and the days with a
    # heavy shift in per mille of the days worked, in every 28 days (or the whole known span if shorter)
    max_consecutive_heavy_days: int | None = None
    max_heavy_per_mille_28_days: int | None = None


def gap_needed(rules: Rules, a: Shift, b: Shift) -> int:
    """The least time one person needs between shifts ``a`` and ``b`` (either order): the travel gap
    where either is a short visit, else the minimum rest (used by the quick tests of the greedy start
    and the repair; the model and the checker state the rules themselves)."""
    if a.visit or b.visit:
        return max(0, rules.visit_gap_minutes)
    return max(0, rules.min_rest_minutes)


@dataclass(frozen=True)
class HistoryDay:
    """What a person worked on one local day before the horizon."""

    minutes: int = 0
    night: bool = False
    types: frozenset[str] = frozenset()
    heavy: bool = False  # worked a heavy shift
    night_end: int | None = None  # end (minutes since epoch) of the night worked, where known
    heavy_end: int | None = None  # end (minutes since epoch) of the heavy shift worked, where known
    visit_minutes: int = 0  # of ``minutes``, those of short visits (``Shift.visit``): no working day alone

    @property
    def worked(self) -> bool:
        return self.minutes > self.visit_minutes


@dataclass(frozen=True)
class History:
    """The recent past, so every rule holds across the boundary between two planning periods.

    ``days[-1]`` is day -1 (the day before the horizon), ``days[-2]`` day -2, and so on. Days further
    back than ``days`` reaches count as days off.
    """

    days: tuple[HistoryDay, ...] = ()
    last_shift_end: int | None = None  # minutes since epoch (usually <= 0)

    def day(self, d: int) -> HistoryDay:
        """History of day ``d`` (< 0); an unknown day is a day off."""
        i = len(self.days) + d
        return self.days[i] if 0 <= i < len(self.days) else HistoryDay()

    def night_end(self, d: int) -> int:
        """When the night worked on day ``d`` (< 0) ended: as recorded, else the last shift's end if
        that is day -1's night, else the latest it can have (the end of day d + 1), so compensatory
        rest is never too short."""
        recorded = self.day(d).night_end
        if recorded is not None:
            return recorded
        if d == -1 and self.last_shift_end is not None:
            return self.last_shift_end
        return (d + 2) * MINUTES_PER_DAY

    def heavy_end(self, d: int) -> int:
        """When the heavy shift worked on day ``d`` (< 0) ended: as recorded, else the last shift's end
        if that is on day -1, else the latest it can have (the end of day d + 1)."""
        recorded = self.day(d).heavy_end
        if recorded is not None:
            return recorded
        if d == -1 and self.last_shift_end is not None:
            return self.last_shift_end
        return (d + 2) * MINUTES_PER_DAY


@dataclass(frozen=True)
class Person:
    id: str
    skills: frozenset[str] = frozenset()
    rules: Rules = Rules()
    history: History = History()
    unavailable: Mapping[str, str] = _no_entries()  # shift id -> why this person may not work it
    wants: Mapping[str, int] = _no_entries()  # shift id -> penalty if NOT assigned
    avoids: Mapping[str, int] = _no_entries()  # shift id -> penalty if assigned
    capacity_minutes: int = 0  # sustainable minutes over the load window; 0 = out of a capacity balance
    # minutes over the load window (the week before the horizon and the horizon) the person wishes to
    # work: up to it they count as neither busy nor idle in the load terms; 0 = no wish
    target_minutes: int = 0

    def may_work(self, shift_id: str) -> bool:
        return shift_id not in self.unavailable


@dataclass(frozen=True)
class Weights:
    """Weights of the soft terms. Coverage dominates everything else by construction."""

    uncovered: int = 100_000  # per missing person per shift
    skill_shortfall: int = 100_000  # per missing skilled person per shift
    overstaffed: int = 0  # per person beyond ``required`` (only where there is no hard cap)
    load_max: int = 20  # the busiest person's load (Problem.load_measure: tenths of hours or per mille)
    load_spread: int = 10  # busiest minus lightest load, same unit
    nights_spread: int = 200  # most minus fewest nights among people who can work nights
    weekends_spread: int = 100  # the same for weekend shifts
    heavy_spread: int = 100  # the same for heavy shifts
    preference: int = 1  # multiplier on Person.wants / Person.avoids
    isolated_day_off: int = 50  # on-off-on
    isolated_work_day: int = 50  # off-on-off
    change: int = 0  # per changed assignment against Problem.reference (scaled by recency)
    partners: int = 0  # per distinct pair of people sharing a shift (stable teams; off by default)
    # load factors (percent of a normal hour) used by the load terms
    light_percent: int = 75
    normal_percent: int = 100
    heavy_percent: int = 150
    night_extra_percent: int = 25

    def intensity_percent(self, shift: Shift) -> int:
        base = {
            Intensity.LIGHT: self.light_percent,
            Intensity.NORMAL: self.normal_percent,
            Intensity.HEAVY: self.heavy_percent,
        }[shift.intensity]
        return base + (self.night_extra_percent if shift.night else 0)


@dataclass(frozen=True)
class Problem:
    days: int
    shifts: tuple[Shift, ...]
    people: tuple[Person, ...]
    first_weekday: int = 0  # weekday of day 0, Monday = 0
    forbidden_successions: frozenset[tuple[str, str]] = frozenset()  # (type on day d, type on d+1)
    pinned: frozenset[tuple[str, str]] = frozenset()  # (person, shift) that must stay
    weights: Weights = Weights()
    # re-solving: the previous schedule, and the instant before which nothing may change
    reference: frozenset[tuple[str, str]] = frozenset()
    freeze_before: int | None = None  # shifts starting before this (minutes) keep the reference
    load_measure: LoadMeasure = LoadMeasure.HOURS
    name: str = "problem"

    def weekday(self, day: int) -> int:
        return (self.first_weekday + day) % WEEK

    def is_weekend(self, day: int) -> bool:
        return self.weekday(day) in (SATURDAY, SUNDAY)

    def shift(self, shift_id: str) -> Shift:
        return self.shift_index()[shift_id]

    def person(self, person_id: str) -> Person:
        return self._person_index()[person_id]

    def shift_index(self) -> dict[str, Shift]:
        idx = self.__dict__.get("_shift_idx")
        if idx is None:
            idx = {s.id: s for s in self.shifts}
            object.__setattr__(self, "_shift_idx", idx)
        return idx

    def _person_index(self) -> dict[str, Person]:
        idx = self.__dict__.get("_person_idx")
        if idx is None:
            idx = {p.id: p for p in self.people}
            object.__setattr__(self, "_person_idx", idx)
        return idx


def candidate_pairs(problem: Problem) -> int:
    """How many (person, shift) decision variables the whole model would have."""
    return sum(len(problem.shifts) - len(p.unavailable) for p in problem.people)


class Status(StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"  # the hard rules contradict each other (e.g. pins)
    NO_SOLUTION = "no_solution"  # nothing found within the time limit
    CANCELLED = "cancelled"  # stopped before any solution was found


@dataclass(frozen=True)
class Shortfall:
    """A slot that is not fully staffed."""

    shift: str
    missing: int  # people short of ``required``
    missing_skills: Mapping[str, int] = _no_entries()  # skill -> people with it still needed


@dataclass(frozen=True)
class Term:
    """One named objective term: its raw value, its weight and their product."""

    name: str
    value: int
    weight: int

    @property
    def weighted(self) -> int:
        return self.value * self.weight


@dataclass(frozen=True)
class Solution:
    status: Status
    assignments: tuple[tuple[str, str], ...] = ()  # (person id, shift id)
    uncovered: tuple[Shortfall, ...] = ()
    objective: int | None = None
    best_bound: float | None = None
    wall_time: float = 0.0
    first_solution_time: float | None = None
    terms: tuple[Term, ...] = ()
    stats: Mapping[str, int | float | str] = field(default_factory=dict)

    @property
    def has_schedule(self) -> bool:
        return self.status in (Status.OPTIMAL, Status.FEASIBLE)

    @property
    def gap(self) -> float | None:
        """Relative gap between objective and bound (0.0 = proven optimal)."""
        if self.objective is None or self.best_bound is None:
            return None
        if self.objective == 0:
            return 0.0
        return max(0.0, (self.objective - self.best_bound) / abs(self.objective))
