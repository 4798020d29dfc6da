"""The greedy guardian matching (the CP-SAT model's hint and fallback): every hard rule holds, continuity
first, and the model started from it is never worse than it."""

from __future__ import annotations

from solver.guardian_greedy import greedy
from solver.guardian_problem import Guardian, GuardianProblem, Ward
from solver.guardians import match
from solver.guardians_check import check, objective


def _problem(**kw) -> GuardianProblem:
    wards = tuple(Ward(f"w{i}", building=f"B{i % 3}", language="wu" if i % 4 == 0 else None,
                       skills=frozenset({"medical"}) if i % 5 == 0 else frozenset()) for i in range(12))
    guardians = tuple(Guardian(f"g{i}", building=f"B{i % 3}", languages=frozenset({"wu"} if i % 2 else set()),
                               skills=frozenset({"medical"}) if i % 3 == 0 else frozenset(),
                               available=i != 4) for i in range(10))
    return GuardianProblem(wards=wards, guardians=guardians, max_primary=2, max_backup=2, **kw)


def test_greedy_keeps_every_hard_rule():
    problem = _problem()
    pairs = greedy(problem)
    assert check(problem, pairs) == []
    assert all(p.primary is not None and p.backup is not None for p in pairs)
    assert all(p.primary != "g4" and p.backup != "g4" for p in pairs)  # g4 is not available


def test_greedy_keeps_an_eligible_pair_and_promotes_the_backup():
    problem = _problem()
    first = greedy(problem)
    wards = tuple(Ward(w.id, w.skills, w.language, w.building, w.zone, w.close_contact, p.primary, p.backup)
                  for w, p in zip(problem.wards, first, strict=True))
    kept = GuardianProblem(wards=wards, guardians=problem.guardians, max_primary=2, max_backup=2)
    assert greedy(kept) == first
    gone = first[1].primary  # w1 needs no language nor skill: many could be its backup
    guardians = tuple(Guardian(g.id, g.skills, g.languages, g.building, g.zone, g.id != gone, g.risk_group)
                      for g in problem.guardians)
    after = greedy(GuardianProblem(wards=wards, guardians=guardians, max_primary=2, max_backup=2))
    assert after[1].primary == first[1].backup and after[1].backup not in (None, gone, first[1].backup)
    assert check(GuardianProblem(wards=wards, guardians=guardians, max_primary=2, max_backup=2), after) == []


def test_the_hinted_model_is_valid():
    problem = _problem()
    start = greedy(problem)
    solution = match(problem, time_limit=5, workers=1, seed=0, hint=start)
    assert solution.status in ("optimal", "feasible")
    assert check(problem, solution.pairs) == []
    assert solution.objective == objective(problem, solution.pairs)
    if solution.status == "optimal":
        assert solution.objective <= objective(problem, start)
