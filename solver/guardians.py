"""Guardians: every vulnerable resident gets a named volunteer who answers for them (the *primary*) and a
distinct *backup*, solved as its own small CP-SAT model.

In a sealed compound every disabled person without a carer, every very old person living alone, every
child left without guardians must have a named volunteer. This module is a pure function
:func:`match` from a :class:`GuardianProblem` to a :class:`GuardianSolution`, in the rule-book style of
the rota: each hard rule and each soft term is one small function with a stable name
(:data:`HARD_RULES`, :data:`SOFT_TERMS`), and the independent checker :mod:`solver.guardians_check`
checks and scores a matching under the same names without any CP-SAT.

Hard rules
    ``guardian_eligibility``: a volunteer answers for a resident only if available (not sick or
    isolating), with the skills the resident's needs call for, speaking the resident's language (when
    the resident has one), and, where the site shields its risk group, not in the risk group when the
    care is close contact. ``one_primary``/``one_backup``: at most one of each. ``distinct_guardians``:
    the backup is not the primary. ``guardian_caps``: at most ``max_primary`` residents as primary and
    ``max_backup`` as backup per volunteer.

Soft terms (weights in :class:`GuardianWeights`)
    ``unguarded`` (a resident without a primary), ``no_backup``, ``guardian_change`` (continuity: a pair
    is kept across re-plans unless it must change; the old backup taking over as primary costs half a
    change, anyone else a whole one; a new backup a tenth), ``distance`` (0 in the same building, 1 in the
    same zone, 3 elsewhere; the primary's counts twice, the backup's once), ``visit_fit`` (the resident's
    weekly visits that fall outside the guardian's weekly availability, :attr:`GuardianProblem.misfit`;
    the primary's count twice, the backup's once), ``guardian_load`` (the most residents any volunteer
    is primary for).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from solver.guardian_problem import (
    BACKUP_KEPT,
    ELSEWHERE,
    KEEP,
    NEW_BACKUP,
    PROMOTED,
    REPLACED,
    SAME_BUILDING,
    SAME_ZONE,
    Guardian,
    GuardianProblem,
    GuardianSolution,
    Pair,
    Ward,
)
from solver.problem import Status, Term

# ------------------------------------------------------------------------------------- shared facts


def ineligible(problem: GuardianProblem, ward: Ward, guardian: Guardian) -> str | None:
    """Why ``guardian`` may not answer for ``ward``, or None (the ``guardian_eligibility`` rule)."""
    if not guardian.available:
        return "not available (sick or isolating)"
    missing = ward.skills - guardian.skills
    if missing:
        return f"lacks {', '.join(sorted(missing))}"
    if ward.language and ward.language not in guardian.languages:
        return f"does not speak {ward.language}"
    if problem.shield_risk_group and ward.close_contact and guardian.risk_group:
        return "in the risk group, and the care is close contact"
    return None


def distance(ward: Ward, guardian: Guardian) -> int:
    if ward.building and ward.building == guardian.building:
        return SAME_BUILDING
    if ward.zone and ward.zone == guardian.zone:
        return SAME_ZONE
    return ELSEWHERE


def primary_change(ward: Ward, guardian_id: str | None) -> int:
    """Tenths of a change for ``guardian_id`` as the ward's primary (None: unguarded, counted elsewhere)."""
    if guardian_id is None or ward.primary is None or guardian_id == ward.primary:
        return KEEP
    return PROMOTED if guardian_id == ward.backup else REPLACED


def backup_change(ward: Ward, guardian_id: str | None) -> int:
    if guardian_id is None or ward.backup is None or guardian_id == ward.backup:
        return BACKUP_KEPT
    return NEW_BACKUP


# ------------------------------------------------------------------------------------------- model


@dataclass
class GuardianModel:
    problem: GuardianProblem
    cp: cp_model.CpModel
    primary: dict[tuple[int, int], cp_model.IntVar]  # (ward, guardian) -> Boolean
    backup: dict[tuple[int, int], cp_model.IntVar]
    terms: dict[str, cp_model.LinearExpr] = field(default_factory=dict)

    def of_ward(self, table, w: int) -> list:
        return [var for (ww, _), var in table.items() if ww == w]

    def of_guardian(self, table, g: int) -> list:
        return [var for (_, gg), var in table.items() if gg == g]


def guardian_eligibility(m: GuardianModel) -> None:
    """Enforced by construction: no variable for an ineligible pair (see :func:`ineligible`)."""


def one_primary(m: GuardianModel) -> None:
    for w, _ in enumerate(m.problem.wards):
        m.cp.add_at_most_one(m.of_ward(m.primary, w))


def one_backup(m: GuardianModel) -> None:
    for w, _ in enumerate(m.problem.wards):
        m.cp.add_at_most_one(m.of_ward(m.backup, w))


def distinct_guardians(m: GuardianModel) -> None:
    for key, var in m.primary.items():
        if key in m.backup:
            m.cp.add_implication(var, m.backup[key].Not())


def guardian_caps(m: GuardianModel) -> None:
    for g, _ in enumerate(m.problem.guardians):
        m.cp.add(sum(m.of_guardian(m.primary, g)) <= m.problem.max_primary)
        m.cp.add(sum(m.of_guardian(m.backup, g)) <= m.problem.max_backup)


def unguarded(m: GuardianModel) -> cp_model.LinearExpr:
    return sum(1 - sum(m.of_ward(m.primary, w)) for w, _ in enumerate(m.problem.wards))


def no_backup(m: GuardianModel) -> cp_model.LinearExpr:
    return sum(1 - sum(m.of_ward(m.backup, w)) for w, _ in enumerate(m.problem.wards))


def guardian_change(m: GuardianModel) -> cp_model.LinearExpr:
    wards, guardians = m.problem.wards, m.problem.guardians
    return sum(primary_change(wards[w], guardians[g].id) * var for (w, g), var in m.primary.items()) + sum(
        backup_change(wards[w], guardians[g].id) * var for (w, g), var in m.backup.items()
    )


def distance_term(m: GuardianModel) -> cp_model.LinearExpr:
    wards, guardians = m.problem.wards, m.problem.guardians
    return sum(2 * distance(wards[w], guardians[g]) * var for (w, g), var in m.primary.items()) + sum(
        distance(wards[w], guardians[g]) * var for (w, g), var in m.backup.items()
    )


def visit_fit(m: GuardianModel) -> cp_model.LinearExpr:
    wards, guardians, misfit = m.problem.wards, m.problem.guardians, m.problem.misfit
    return sum(
        2 * misfit.get((wards[w].id, guardians[g].id), 0) * var for (w, g), var in m.primary.items()
    ) + sum(misfit.get((wards[w].id, guardians[g].id), 0) * var for (w, g), var in m.backup.items())


def guardian_load(m: GuardianModel) -> cp_model.LinearExpr:
    most = m.cp.new_int_var(0, max(1, len(m.problem.wards)), "guardian_load")
    for g, _ in enumerate(m.problem.guardians):
        m.cp.add(most >= sum(m.of_guardian(m.primary, g)))
    return most


HARD_RULES: dict[str, Callable[[GuardianModel], None]] = {
    "guardian_eligibility": guardian_eligibility,
    "one_primary": one_primary,
    "one_backup": one_backup,
    "distinct_guardians": distinct_guardians,
    "guardian_caps": guardian_caps,
}
SOFT_TERMS: dict[str, Callable[[GuardianModel], cp_model.LinearExpr]] = {
    "unguarded": unguarded,
    "no_backup": no_backup,
    "guardian_change": guardian_change,
    "distance": distance_term,
    "visit_fit": visit_fit,
    "guardian_load": guardian_load,
}


def build(problem: GuardianProblem, *, skip: tuple[str, ...] = ()) -> GuardianModel:
    """The CP-SAT model; ``skip`` leaves out named rules or terms (tests show each one decides its case)."""
    unknown = set(skip) - set(HARD_RULES) - set(SOFT_TERMS)
    if unknown:
        raise ValueError(f"unknown rule or term names: {sorted(unknown)}")
    cp = cp_model.CpModel()
    primary, backup = {}, {}
    for w, ward in enumerate(problem.wards):
        for g, guardian in enumerate(problem.guardians):
            if "guardian_eligibility" not in skip and ineligible(problem, ward, guardian):
                continue
            primary[w, g] = cp.new_bool_var(f"primary[{ward.id},{guardian.id}]")
            backup[w, g] = cp.new_bool_var(f"backup[{ward.id},{guardian.id}]")
    m = GuardianModel(problem, cp, primary, backup)
    for name, rule in HARD_RULES.items():
        if name not in skip:
            rule(m)
    for name, term in SOFT_TERMS.items():
        if name not in skip and getattr(problem.weights, name):
            m.terms[name] = term(m)
    cp.minimize(sum(getattr(problem.weights, name) * expr for name, expr in m.terms.items()))
    return m


def _add_hint(m: GuardianModel, hint: tuple[Pair, ...]) -> None:
    if not hint:
        return
    index = {g.id: i for i, g in enumerate(m.problem.guardians)}
    chosen = set()
    for w, ward in enumerate(m.problem.wards):
        pair = next((p for p in hint if p.ward == ward.id), None)
        if pair is not None:
            chosen |= {("p", w, index.get(pair.primary)), ("b", w, index.get(pair.backup))}
    for role, table in (("p", m.primary), ("b", m.backup)):
        for (w, g), var in table.items():
            m.cp.add_hint(var, (role, w, g) in chosen)


def match(
    problem: GuardianProblem,
    *,
    time_limit: float = 10.0,
    workers: int = 2,
    seed: int = 0,
    skip: tuple[str, ...] = (),
    hint: tuple[Pair, ...] = (),
) -> GuardianSolution:
    """The best matching within the time limit. Never raises for residents nobody can take: they come
    back without a primary (or a backup), counted by ``unguarded`` and ``no_backup``. ``hint``: a matching
    to start the search from (e.g. :func:`solver.guardian_greedy.greedy`)."""
    m = build(problem, skip=skip)
    _add_hint(m, hint)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.random_seed = seed
    code = solver.solve(m.cp)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        status = Status.INFEASIBLE if code == cp_model.INFEASIBLE else Status.NO_SOLUTION
        return GuardianSolution(status=status, pairs=())
    pairs = []
    for w, ward in enumerate(problem.wards):
        chosen = {
            role: next((problem.guardians[g].id for (ww, g), var in table.items()
                        if ww == w and solver.boolean_value(var)), None)
            for role, table in (("primary", m.primary), ("backup", m.backup))
        }
        pairs.append(Pair(ward.id, chosen["primary"], chosen["backup"]))
    terms = tuple(
        Term(name, int(solver.value(expr)), getattr(problem.weights, name)) for name, expr in m.terms.items()
    )
    return GuardianSolution(
        status=Status.OPTIMAL if code == cp_model.OPTIMAL else Status.FEASIBLE,
        pairs=tuple(pairs),
        objective=round(solver.objective_value),
        bound=solver.best_objective_bound,
        terms=terms,
    )
