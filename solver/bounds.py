"""Lower bounds on the objective that hold for every schedule, found without a search.

The neighbourhood search (``solver.lns``) proves nothing about the whole problem by itself; its
schedules are measured against :func:`staffing_bound` instead, so that every schedule shows a gap.
"""

from __future__ import annotations

from solver.problem import Problem


def staffing_bound(problem: Problem) -> int:
    """The weighted coverage terms no schedule can avoid: every slot short of the people who may work
    it at all (or are pinned or frozen on it), and of those among them with each required skill. Every
    other term is at least 0, so this is a lower bound on the whole objective."""
    w = problem.weights
    if not (w.uncovered or w.skill_shortfall):
        return 0
    fixed: dict[str, set[str]] = {}
    for person_id, shift_id in problem.pinned | problem.reference:
        fixed.setdefault(shift_id, set()).add(person_id)
    total = 0
    for shift in problem.shifts:
        if not shift.required and not shift.skills:
            continue
        on = fixed.get(shift.id, set())
        able = [p for p in problem.people if p.id in on or p.may_work(shift.id)]
        most = len(able) if shift.max_staff is None else min(len(able), max(shift.max_staff, shift.required))
        total += w.uncovered * shift.under_weight * max(0, shift.required - most)
        for skill, need in shift.skills.items():
            have = sum(1 for p in able if skill in p.skills)
            total += w.skill_shortfall * max(0, need - have)
    return total
