"""Why a slot stayed short: who could have filled it and what stopped each of them.

For every person not already on the shift:

* they may not work it -> counted under their unavailability reason (e.g. "sick");
* the slot lacks only skilled people and they have none of the missing skills -> "lacks skill <name>";
* otherwise the shift is added to their schedule and their hard rules are checked again: every rule
  with a violation that was not there before counts that candidate once (``max_staff`` too, when the
  shift is already at its cap). Two rules that adding work cannot make worse are left out:
  ``min_total_minutes`` (and ``pinned``), and ``min_consecutive_days`` unless the added day stands alone.

The reason is "no one available" when no candidate may work the shift, "skill missing" when only
skilled people are missing and no available candidate has a missing skill, "everyone eligible is at
a limit" when every candidate left would break a rule, and otherwise "not filled (solver stopped
early)": someone could have taken it.

Plain Python, no CP-SAT: it reuses the checker in ``solver.validate``, re-checking only what the added
shift can affect, so ~100 shortfalls of a 200-person, 700-shift month take a second or two.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from solver.problem import Person, Problem, Shift, Shortfall
from solver.validate import (
    Violation,
    _Assigned,
    _check_one,
    _Days,
    _group,
    _Index,
    _index,
    _shift_key,
)

NO_ONE_AVAILABLE = "no one available"
SKILL_MISSING = "skill missing"
AT_A_LIMIT = "everyone eligible is at a limit"
STOPPED_EARLY = "not filled (solver stopped early)"

# Adding a shift only raises a person's total, so it never makes this rule break.
_NEVER_BLOCKS = frozenset({"min_total_minutes", "pinned"})
_CACHE_SIZE = 20_000  # people's checked schedules kept per problem between calls


@dataclass(frozen=True)
class Explanation:
    reason: str  # one of the four constants above
    blocked_by: dict[str, int]  # rule name or unavailability reason -> number of candidates it blocks
    detail: str  # one human sentence


def explain_shortfall(
    problem: Problem, assignments: Iterable[tuple[str, str]], shortfall: Shortfall
) -> Explanation:
    """Why ``shortfall`` (a slot of ``problem``) is not filled by ``assignments``."""
    return explain_shortfalls(problem, assignments, [shortfall])[0]


def explain_shortfalls(
    problem: Problem, assignments: Iterable[tuple[str, str]], shortfalls: Iterable[Shortfall]
) -> list[Explanation]:
    """:func:`explain_shortfall` for many slots of one schedule, sharing the work between them."""
    ix = _index(problem)
    assigned = _group(problem, ix, assignments)
    out: list[Explanation] = []
    for shortfall in shortfalls:
        shift = ix.shifts.get(shortfall.shift)
        if shift is None:
            raise KeyError(f"shortfall names unknown shift {shortfall.shift!r}")
        out.append(_explain(problem, ix, shift, shortfall, assigned))
    return out


def _before(
    problem: Problem, ix: _Index, person: Person, shifts: list[Shift]
) -> tuple[_Days, set[Violation]]:
    """A person's days and violations as scheduled, cached on the problem across calls."""
    cache = ix.memo.setdefault("explain", {})
    key = (person.id, tuple(s.id for s in shifts))
    hit = cache.get(key)
    if hit is None:
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        days = _Days(problem, person, shifts)
        hit = cache[key] = (days, set(_check_one(problem, ix, person, shifts, days=days)))
    return hit


def _newly_broken(
    problem: Problem, ix: _Index, person: Person, shifts: list[Shift], shift: Shift
) -> set[str]:
    """The rules ``person`` would break by also working ``shift`` that they do not break already."""
    days, base = _before(problem, ix, person, shifts)
    with_it = [*shifts]
    bisect.insort(with_it, shift, key=_shift_key)
    d = shift.day
    # a short block of work is only made by a lone new day; extending or joining blocks is no worse
    lone = not (days.works(d - 1) or days.works(d) or days.works(d + 1))
    broken: set[str] = set()
    for v in _check_one(problem, ix, person, with_it, days=days.plus(shift)):
        if v.rule in _NEVER_BLOCKS or v in base or (v.rule == "min_consecutive_days" and not lone):
            continue
        broken.add(v.rule)
    return broken


def _explain(
    problem: Problem, ix: _Index, shift: Shift, shortfall: Shortfall, assigned: _Assigned
) -> Explanation:
    on_shift = set(assigned.by_shift.get(shift.id, ()))
    needed = sorted(k for k, v in shortfall.missing_skills.items() if v > 0)
    skill_only = shortfall.missing <= 0 and bool(needed)
    lacks = "lacks skill " + " or ".join(needed)
    at_cap = shift.max_staff is not None and len(on_shift) + 1 > shift.max_staff

    unavailable: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    lacking = blocked = free = 0
    for person in problem.people:
        if person.id in on_shift:
            continue
        reason = person.unavailable.get(shift.id)
        if reason is not None:
            unavailable[reason] += 1
            continue
        if skill_only and person.skills.isdisjoint(needed):
            lacking += 1
            continue
        broken = _newly_broken(problem, ix, person, assigned.by_person.get(person.id, []), shift)
        if at_cap:
            broken.add("max_staff")
        if broken:
            blocked += 1
            rules.update(broken)
        else:
            free += 1

    available = lacking + blocked + free
    if available == 0:
        reason = NO_ONE_AVAILABLE
    elif skill_only and lacking == available:
        reason = SKILL_MISSING
    elif free == 0:
        reason = AT_A_LIMIT
    else:
        reason = STOPPED_EARLY

    blocked_by: dict[str, int] = {}
    for key, n in [*_ranked(unavailable), *([(lacks, lacking)] if lacking else []), *_ranked(rules)]:
        blocked_by[key] = blocked_by.get(key, 0) + n
    return Explanation(reason, blocked_by, _detail(unavailable, lacking, lacks, blocked, rules, free))


def _ranked(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _listing(counts: Counter[str]) -> str:
    return ", ".join(f"{k} {n}" for k, n in _ranked(counts))


def _detail(
    unavailable: Counter[str], lacking: int, lacks: str, blocked: int, rules: Counter[str], free: int
) -> str:
    parts: list[str] = []
    n = sum(unavailable.values())
    if n:
        parts.append(f"{n} {'person is' if n == 1 else 'people are'} unavailable ({_listing(unavailable)})")
    if lacking:
        who = f"1 person {lacks}" if lacking == 1 else f"{lacking} people {lacks.replace('lacks', 'lack', 1)}"
        parts.append(who)
    if blocked:
        each = "" if blocked == 1 else "each "
        parts.append(f"{blocked} could work but {each}would break a rule ({_listing(rules)})")
    if free:
        parts.append(f"{free} could work it without breaking a rule")
    if not parts:
        return "There is no one else to ask."
    return "; ".join(parts)
