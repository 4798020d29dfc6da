"""The independent checker of a guardian matching: plain Python, no CP-SAT and nothing of the model.

:func:`check` lists every broken hard rule under the names of :data:`solver.guardians.HARD_RULES`;
:func:`score` computes every soft term of :data:`solver.guardians.SOFT_TERMS`, so the solver's objective
can be compared with it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from solver.guardian_problem import Guardian, GuardianProblem, Pair, Ward


@dataclass(frozen=True)
class GuardianViolation:
    rule: str
    ward: str
    guardian: str | None
    message: str


def _why_not(problem: GuardianProblem, ward: Ward, guardian: Guardian) -> str | None:
    if not guardian.available:
        return "is sick or isolating"
    if not ward.skills <= guardian.skills:
        return "lacks a skill the needs call for"
    if ward.language is not None and ward.language not in guardian.languages:
        return f"does not speak {ward.language}"
    if ward.close_contact and guardian.risk_group and problem.shield_risk_group:
        return "is in the risk group and the care is close contact"
    return None


def check(problem: GuardianProblem, pairs: tuple[Pair, ...] | list[Pair]) -> list[GuardianViolation]:
    out: list[GuardianViolation] = []
    wards = {w.id: w for w in problem.wards}
    guardians = {g.id: g for g in problem.guardians}
    seen = Counter(p.ward for p in pairs)
    for ward_id, n in seen.items():
        if n > 1:
            out.append(GuardianViolation("one_primary", ward_id, None, f"{ward_id} is listed {n} times"))
    for pair in pairs:
        ward = wards.get(pair.ward)
        if ward is None:
            out.append(GuardianViolation("guardian_eligibility", pair.ward, None, "unknown resident"))
            continue
        for role, gid in (("primary", pair.primary), ("backup", pair.backup)):
            if gid is None:
                continue
            guardian = guardians.get(gid)
            why = "is not a volunteer of the site" if guardian is None else _why_not(problem, ward, guardian)
            if why:
                out.append(GuardianViolation("guardian_eligibility", ward.id, gid, f"{role} {gid} {why}"))
        if pair.primary is not None and pair.primary == pair.backup:
            out.append(GuardianViolation(
                "distinct_guardians", ward.id, pair.primary, f"{pair.primary} is both primary and backup"
            ))
    for role, cap in (("primary", problem.max_primary), ("backup", problem.max_backup)):
        counts = Counter(getattr(p, role) for p in pairs if getattr(p, role) is not None)
        for gid, n in sorted(counts.items()):
            if n > cap:
                out.append(GuardianViolation(
                    "guardian_caps", "", gid, f"{gid} is {role} for {n} residents (at most {cap})"
                ))
    return out


def _steps(ward: Ward, guardian: Guardian) -> int:
    if ward.building is not None and guardian.building == ward.building:
        return 0
    if ward.zone is not None and guardian.zone == ward.zone:
        return 1
    return 3


def score(problem: GuardianProblem, pairs: tuple[Pair, ...] | list[Pair]) -> dict[str, int]:
    """Every soft term's raw value (residents missing from ``pairs`` count as unguarded, without backup)."""
    by_ward = {p.ward: p for p in pairs}
    guardians = {g.id: g for g in problem.guardians}
    unguarded = no_backup = change = distance = fit = 0
    for ward in problem.wards:
        pair = by_ward.get(ward.id, Pair(ward.id, None, None))
        if pair.primary is None:
            unguarded += 1
        elif ward.primary is not None and pair.primary != ward.primary:
            change += 5 if pair.primary == ward.backup else 10  # the backup taking over: half a change
        if pair.backup is None:
            no_backup += 1
        elif ward.backup is not None and pair.backup != ward.backup:
            change += 1
        for gid, times in ((pair.primary, 2), (pair.backup, 1)):  # the primary visits: nearness counts twice
            if gid is not None and gid in guardians:
                distance += times * _steps(ward, guardians[gid])
                fit += times * problem.misfit.get((ward.id, gid), 0)
    load = Counter(p.primary for p in pairs if p.primary is not None)
    return {
        "unguarded": unguarded,
        "no_backup": no_backup,
        "guardian_change": change,
        "distance": distance,
        "visit_fit": fit,
        "guardian_load": max(load.values(), default=0),
    }


def objective(problem: GuardianProblem, pairs: tuple[Pair, ...] | list[Pair]) -> int:
    return sum(getattr(problem.weights, name) * value for name, value in score(problem, pairs).items())
