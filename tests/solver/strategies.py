"""Hypothesis strategies for random small solver problems (used by the checker's and the solver's tests).

``problems()`` builds realistic little rotas: 1-6 people, 2-10 days, one or two posts with one to three
shift kinds (early, late, day, evening, long day, a night shift crossing midnight, a 30-minute short
visit with ``Shift.visit``), sometimes a 23- or 25-hour day to mimic a DST change, random hard rules
(each ``None`` half the time), history,
unavailability, skills, preferences, forbidden successions, pins and a previous schedule with a freeze.

``assignments(problem)`` draws random (person, shift) pairs for it, optionally with junk (duplicates
and unknown ids).

Everything is drawn from Hypothesis strategies (no seeded ``random``), so failures shrink well.
"""

from __future__ import annotations

from hypothesis import strategies as st

from solver.problem import (
    MINUTES_PER_DAY,
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

# kind -> (local start, local end, night); an end at or before the start is on the next day
TEMPLATES: dict[str, tuple[int, int, bool]] = {
    "E": (6 * 60, 14 * 60, False),
    "L": (14 * 60, 22 * 60, False),
    "D": (9 * 60, 17 * 60, False),
    "S": (18 * 60, 21 * 60, False),
    "W": (8 * 60, 20 * 60, False),
    "N": (22 * 60, 7 * 60, True),
    "V": (13 * 60, 13 * 60 + 30, False),  # a short visit (Shift.visit): inside E, D and W, next to L
}
VISITS = frozenset({"V"})
SKILLS = ("medic", "driver")
REASONS = ("outside availability", "sick", "vacation", "limited duty")
DST_SWITCH = 3 * 60  # local times from 03:00 on a DST day are shifted by the change


def _maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


class Clock:
    """Local wall-clock time -> minutes since the epoch (local midnight of day 0); one day may be DST."""

    def __init__(self, days: int, dst_day: int | None, delta: int) -> None:
        self.dst_day, self.delta = dst_day, delta
        self.day_start = [0]
        for d in range(days + 1):
            length = MINUTES_PER_DAY + (delta if d == dst_day else 0)
            self.day_start.append(self.day_start[-1] + length)

    def at(self, day: int, minute: int) -> int:
        if day < 0:
            return day * MINUTES_PER_DAY + minute
        shift = self.delta if day == self.dst_day and minute >= DST_SWITCH else 0
        return self.day_start[day] + minute + shift

    def span(self, day: int, kind: str) -> tuple[int, int]:
        start, end, _ = TEMPLATES[kind]
        return self.at(day, start), self.at(day + 1 if end <= start else day, end)


def _length(kind: str) -> int:
    start, end, _ = TEMPLATES[kind]
    return (end - start) % MINUTES_PER_DAY or MINUTES_PER_DAY


@st.composite
def _rules(draw, kinds: list[str], days: int) -> Rules:
    by_type = {}
    if draw(st.booleans()):
        by_type = draw(st.dictionaries(st.sampled_from(kinds), st.integers(0, 3), max_size=1))
    return Rules(
        min_rest_minutes=draw(st.sampled_from((0, 0, 480, 660, 720))),
        visit_gap_minutes=draw(st.sampled_from((0, 15, 15, 60))),
        max_shifts_per_day=draw(st.sampled_from((1, 1, 1, 2))),
        max_consecutive_days=draw(_maybe(st.integers(1, 6))),
        min_consecutive_days=draw(_maybe(st.integers(1, 3))),
        min_consecutive_days_off=draw(_maybe(st.integers(1, 3))),
        min_days_off_per_7=draw(_maybe(st.integers(0, 3))),
        max_minutes_per_7_days=draw(_maybe(st.sampled_from((960, 1920, 2400, 2880, 3600)))),
        max_consecutive_nights=draw(_maybe(st.integers(1, 4))),
        min_total_minutes=draw(_maybe(st.sampled_from((0, 240, 480, 960)))),
        max_total_minutes=draw(_maybe(st.sampled_from((480, 960, 2400, 4800, days * 720)))),
        max_weekends=draw(_maybe(st.integers(0, 2))),
        max_shifts_by_type=by_type,
        rest_after_nights=draw(_maybe(st.integers(1, 3))),
        rest_after_nights_minutes=draw(st.sampled_from((0, 1440, 2880))),
        rest_after_heavy=draw(_maybe(st.integers(1, 3))),
        rest_after_heavy_minutes=draw(st.sampled_from((0, 1440, 2160))),
        max_consecutive_heavy_days=draw(_maybe(st.integers(1, 3))),
        max_heavy_per_mille_28_days=draw(_maybe(st.sampled_from((0, 334, 500, 750)))),
    )


@st.composite
def _history(draw, kinds: list[str], clock: Clock) -> History:
    worked = draw(st.lists(_maybe(st.sampled_from(kinds)), max_size=7))
    heavy = draw(st.lists(st.booleans(), min_size=len(worked), max_size=len(worked)))
    days = tuple(
        HistoryDay()
        if kind is None
        else HistoryDay(_length(kind), TEMPLATES[kind][2], frozenset({kind}), heavy=is_heavy)
        for kind, is_heavy in zip(worked, heavy, strict=True)
    )
    last_end = None
    for back, kind in enumerate(reversed(worked), 1):
        if kind is not None:
            start, end, _ = TEMPLATES[kind]
            day = -back + (1 if end <= start else 0)
            last_end = clock.at(day, end) if day >= 0 else day * MINUTES_PER_DAY + end
            break
    if last_end is not None and draw(st.integers(0, 4)) == 4:
        last_end = None
    return History(days=days, last_shift_end=last_end)


@st.composite
def _unavailable(draw, ids: list[str]) -> dict[str, str]:
    mode = draw(st.sampled_from(("none", "some", "all")))
    if mode == "all":
        reason = draw(st.sampled_from(REASONS))
        return dict.fromkeys(ids, reason)
    if mode == "some":
        return draw(st.dictionaries(st.sampled_from(ids), st.sampled_from(REASONS)))
    return {}


@st.composite
def problems(
    draw,
    max_people: int = 6,
    max_days: int = 10,
    pins: bool = True,
    reference: bool = True,
    hard_rules: bool = True,
) -> Problem:
    """A random small :class:`Problem` (see the module docstring).

    ``pins=False`` leaves out pinned assignments, ``reference=False`` the previous schedule and freeze,
    ``hard_rules=False`` gives everyone the default :class:`Rules` (fewer infeasible problems).
    """
    days = draw(st.integers(2, max_days))
    first_weekday = draw(st.integers(0, 6))
    dst_day = draw(_maybe(st.integers(0, days - 1)))
    clock = Clock(days, dst_day, draw(st.sampled_from((-60, 60))))
    kinds = draw(st.lists(st.sampled_from(sorted(TEMPLATES)), min_size=1, max_size=3, unique=True))
    posts = ["A", "B"][: draw(st.integers(1, 2))]

    shifts: list[Shift] = []
    for post in posts:
        for kind in kinds:
            required = draw(st.sampled_from((1, 1, 1, 0, 2)))
            cap = draw(st.sampled_from((None, None, required, required + 1)))
            skills = {draw(st.sampled_from(SKILLS)): 1} if required and draw(st.integers(0, 3)) == 3 else {}
            intensity = draw(st.sampled_from((Intensity.NORMAL, Intensity.LIGHT, Intensity.HEAVY)))
            under = draw(st.sampled_from((1, 1, 2, 3)))
            over = draw(st.sampled_from((1, 1, 2)))
            missing = draw(st.sets(st.integers(0, days - 1), max_size=days // 2))
            pair = required >= 2 and draw(st.integers(0, 2)) == 2  # worked in pairs
            for d in range(days):
                if d in missing:
                    continue
                start, end = clock.span(d, kind)
                shifts.append(
                    Shift(
                        id=f"{post}-{d}-{kind}",
                        post=post,
                        type=kind,
                        day=d,
                        start=start,
                        end=end,
                        required=required,
                        max_staff=cap,
                        skills=skills,
                        night=TEMPLATES[kind][2],
                        intensity=intensity,
                        under_weight=under,
                        over_weight=over,
                        pair=pair,
                        visit=kind in VISITS,
                    )
                )
    shifts.sort(key=lambda s: (s.start, s.id))
    ids = [s.id for s in shifts]
    some_ids = st.sampled_from(ids)

    people: list[Person] = []
    for i in range(draw(st.integers(1, max_people))):
        wants = draw(st.dictionaries(some_ids, st.integers(1, 5), max_size=4))
        avoids = draw(
            st.dictionaries(some_ids.filter(lambda sid, w=wants: sid not in w), st.integers(1, 5), max_size=4)
        )
        people.append(
            Person(
                id=f"p{i}",
                skills=frozenset(draw(st.sets(st.sampled_from(SKILLS)))),
                rules=draw(_rules(kinds, days)) if hard_rules else Rules(),
                history=draw(_history(kinds, clock)),
                unavailable=draw(_unavailable(ids)),
                wants=wants,
                avoids=avoids,
                capacity_minutes=draw(st.sampled_from((0, 2400, 4800, days * 480))),
                target_minutes=draw(st.sampled_from((0, 0, 0, 480, 1440))),
            )
        )

    possible = [(k1, k2) for k1 in kinds for k2 in kinds if k1 != k2]
    forbidden = frozenset(draw(st.sets(st.sampled_from(possible), max_size=2))) if possible else frozenset()
    eligible = [(p.id, sid) for p in people for sid in ids if p.may_work(sid)]

    pinned: frozenset[tuple[str, str]] = frozenset()
    if pins and eligible and draw(st.integers(0, 4)) == 4:
        pinned = frozenset({draw(st.sampled_from(eligible))})
    previous: frozenset[tuple[str, str]] = frozenset()
    freeze = None
    if reference and eligible and draw(st.integers(0, 3)) == 3:
        previous = frozenset(draw(st.sets(st.sampled_from(eligible), max_size=len(eligible))))
        freeze = draw(_maybe(st.sampled_from(clock.day_start[: days + 1])))

    weights = Weights()
    if draw(st.booleans()):
        small = st.integers(0, 20)
        weights = Weights(
            uncovered=draw(st.sampled_from((1000, 100_000))),
            skill_shortfall=draw(st.sampled_from((500, 100_000))),
            overstaffed=draw(small),
            load_max=draw(small),
            load_spread=draw(small),
            nights_spread=draw(small),
            weekends_spread=draw(small),
            heavy_spread=draw(small),
            preference=draw(small),
            isolated_day_off=draw(small),
            isolated_work_day=draw(small),
            change=draw(small),
        )
    return Problem(
        days=days,
        shifts=tuple(shifts),
        people=tuple(people),
        first_weekday=first_weekday,
        forbidden_successions=forbidden,
        pinned=pinned,
        weights=weights,
        reference=previous,
        freeze_before=freeze,
        load_measure=draw(st.sampled_from(tuple(LoadMeasure))),
        name="hypothesis",
    )


@st.composite
def assignments(draw, problem: Problem, junk: bool = False) -> list[tuple[str, str]]:
    """Random (person, shift) pairs of ``problem``; with ``junk``, duplicates and unknown ids too."""
    ids = [s.id for s in problem.shifts]
    chosen: list[tuple[str, str]] = []
    for person in problem.people:
        if draw(st.integers(0, 4)) == 4:  # busy: everything but a few
            skip = draw(st.sets(st.sampled_from(ids)))
            chosen.extend((person.id, sid) for sid in ids if sid not in skip)
        else:
            chosen.extend((person.id, sid) for sid in draw(st.lists(st.sampled_from(ids), unique=True)))
    if junk and draw(st.booleans()):
        if chosen:
            chosen.insert(draw(st.integers(0, len(chosen))), draw(st.sampled_from(chosen)))
        chosen.insert(draw(st.integers(0, len(chosen))), ("nobody", ids[0] if ids else "nothing"))
        chosen.append((problem.people[0].id, "no-such-shift"))
    return chosen
