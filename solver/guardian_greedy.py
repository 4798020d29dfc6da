"""A quick matching of residents to guardians, without CP-SAT: the CP-SAT model's starting point (its
hint) and the answer when a loaded machine leaves the search without a better one in time.

Residents with the fewest eligible volunteers go first. Each keeps their primary if still eligible and
with room, else the backup takes over, else the nearest eligible volunteer with the fewest residents;
then the backup likewise (never the primary). Every rule of :mod:`solver.guardians` holds by
construction; :func:`solver.guardians_check.check` confirms it.
"""

from __future__ import annotations

from collections import Counter

from solver.guardian_problem import Guardian, GuardianProblem, Pair, Ward
from solver.guardians import distance, ineligible


def _pick(problem: GuardianProblem, ward: Ward, candidates: list[Guardian], taken: Counter[str], cap: int,
          preferred: tuple[str | None, ...], exclude: str | None) -> str | None:
    free = [g for g in candidates if taken[g.id] < cap and g.id != exclude]
    for gid in preferred:
        if gid is not None and any(g.id == gid for g in free):
            return gid
    w = problem.weights

    def cost(g: Guardian) -> int:  # the primary's weights (the backup's are half of them)
        return w.distance * distance(ward, g) + w.visit_fit * problem.misfit.get((ward.id, g.id), 0)

    best = min(free, key=lambda g: (cost(g), taken[g.id], g.id), default=None)
    return best.id if best is not None else None


def greedy(problem: GuardianProblem) -> tuple[Pair, ...]:
    eligible = {
        w.id: [g for g in problem.guardians if ineligible(problem, w, g) is None] for w in problem.wards
    }
    primaries: Counter[str] = Counter()
    backups: Counter[str] = Counter()
    chosen: dict[str, Pair] = {}
    for ward in sorted(problem.wards, key=lambda w: (len(eligible[w.id]), w.id)):
        candidates = eligible[ward.id]
        preferred = (ward.primary, ward.backup)
        primary = _pick(problem, ward, candidates, primaries, problem.max_primary, preferred, None)
        if primary is not None:
            primaries[primary] += 1
        backup = _pick(problem, ward, candidates, backups, problem.max_backup, (ward.backup,), primary)
        if backup is not None:
            backups[backup] += 1
        chosen[ward.id] = Pair(ward.id, primary, backup)
    return tuple(chosen[w.id] for w in problem.wards)
