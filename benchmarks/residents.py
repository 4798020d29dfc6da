"""The residents benchmark (issue 12): a generated 200-volunteer site with 120 vulnerable residents;
the guardian matching and then the rota with every resident's visits, within the usual time limit
(60 s in all), checked by both independent checkers; the residents at risk reported.

``python -m benchmarks.bench --only residents``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field

SITE = (200, 28)
RESIDENTS = 120
SEED = 1
TIME_LIMIT = 60.0  # matching and rota together
MATCH_LIMIT = 8.0
WORKERS = 2
# the same run before short visits (every visit a full shift of the day), as published on main
BEFORE = "measured at commit 5c37674, 2026-12-01 14:31 UTC"
BEFORE_UNCOVERED = 535
BEFORE_AT_RISK = 56


@dataclass
class ResidentsResult:
    volunteers: int
    days: int
    residents: int
    match_seconds: float = 0.0
    match_status: str = ""
    match_terms: dict[str, int] = field(default_factory=dict)
    match_violations: int = 0
    compile_seconds: float = 0.0
    solve_seconds: float = 0.0
    status: str = ""
    shifts: int = 0
    visits: int = 0
    visits_uncovered: int = 0
    visits_by_backup: int = 0
    places_short: int = 0
    violations: int = 0
    at_risk: int = 0
    risks: dict[str, int] = field(default_factory=dict)
    uncovered_reasons: dict[str, int] = field(default_factory=dict)
    blocked_by: dict[str, int] = field(default_factory=dict)  # rule or absence -> guardians it keeps away

    @property
    def total_seconds(self) -> float:
        return self.match_seconds + self.compile_seconds + self.solve_seconds


def bench_residents(volunteers: int = SITE[0], days: int = SITE[1], residents: int = RESIDENTS, *,
                    time_limit: float = TIME_LIMIT, match_limit: float = MATCH_LIMIT,
                    seed: int = SEED) -> ResidentsResult:
    from scheduler.domain.check import validate
    from scheduler.domain.compile import compile_scenario
    from scheduler.domain.generate import generate
    from scheduler.domain.planning import plan
    from scheduler.domain.residents import match as match_residents
    from scheduler.domain.residents import register
    from scheduler.domain.visits import is_visit_post

    r = ResidentsResult(volunteers, days, residents)
    scenario = generate(volunteers, days, seed, residents=residents)
    t = time.perf_counter()
    matching = match_residents(scenario, time_limit=match_limit, workers=WORKERS, seed=0)
    r.match_seconds = time.perf_counter() - t
    r.match_status = str(matching.solution.status)
    r.match_terms = {term.name: term.value for term in matching.solution.terms}
    r.match_violations = len(matching.violations)
    scenario = matching.scenario
    t = time.perf_counter()
    compiled = compile_scenario(scenario)
    r.compile_seconds = time.perf_counter() - t
    r.shifts = len(compiled.problem.shifts)
    left = max(1.0, time_limit - r.match_seconds - r.compile_seconds)
    t = time.perf_counter()
    schedule = plan(compiled, time_limit=left, workers=WORKERS, seed=0)
    r.solve_seconds = time.perf_counter() - t
    r.status = schedule.status
    r.violations = len(validate(scenario, schedule))
    backups = {f"visit:{res.id}": res.backup for res in scenario.residents}
    visits = [a for a in schedule.assignments if is_visit_post(a.post)]
    short = [u for u in schedule.uncovered if is_visit_post(u.post)]
    r.visits = len(visits) + sum(u.missing for u in short)
    r.visits_uncovered = sum(u.missing for u in short)
    r.visits_by_backup = sum(1 for a in visits if a.volunteer == backups.get(a.post))
    r.places_short = sum(u.missing for u in schedule.uncovered if not is_visit_post(u.post))
    r.uncovered_reasons = dict(Counter(u.reason for u in short).most_common(4))
    r.blocked_by = _guardians_away(compiled, schedule, scenario)
    now = dt.datetime.combine(scenario.horizon.start, dt.time(8), tzinfo=scenario.site.zone)
    rows = register(scenario, schedule, now)
    r.at_risk = sum(1 for row in rows if row.at_risk)
    r.risks = dict(Counter(x for row in rows for x in row.risks))
    return r


def _guardians_away(compiled, schedule, scenario) -> dict[str, int]:
    """For every uncovered visit, why its primary and its backup could not make it: their absence, or
    the hard rules the independent checker finds they would break by also making it."""
    from scheduler.domain.report import assignments_of, uncovered_of
    from solver.validate import person_violations

    pairs, _ = assignments_of(compiled, schedule)
    shortfalls, _ = uncovered_of(compiled, schedule)
    problem = compiled.problem
    people = {p.id: p for p in problem.people}
    mine: dict[str, list[tuple[str, str]]] = {}
    for pid, sid in pairs:
        mine.setdefault(pid, []).append((pid, sid))
    guardians = {f"visit:{res.id}": (res.primary, res.backup) for res in scenario.residents}
    away: Counter[str] = Counter()
    for sf in shortfalls:
        post = problem.shift(sf.shift).post
        for g in guardians.get(post, ()):
            if g is None:
                away["no guardian"] += 1
                continue
            reason = people[g].unavailable.get(sf.shift)
            if reason is not None:
                away[reason] += 1
                continue
            before = {v.rule for v in person_violations(problem, mine.get(g, []), g)}
            after = {v.rule for v in person_violations(problem, [*mine.get(g, []), (g, sf.shift)], g)}
            away.update(sorted(after - before) or ["nothing (the search stopped first)"])
    return dict(away.most_common(8))


def _table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def section(r: ResidentsResult, header: str) -> str:
    ok = r.violations == 0 and r.match_violations == 0 and r.total_seconds <= TIME_LIMIT * 1.1
    lines = [header]
    lines.append(
        f"A generated compound of {r.volunteers} volunteers over {r.days} days (seed {SEED}) with "
        f"{r.residents} vulnerable residents (`generate(..., residents={r.residents})`: needs, languages, "
        "buildings and zones, visits on 2-7 weekdays). The guardian matching (CP-SAT from a greedy start, "
        f"{MATCH_LIMIT:g} s at most), then the rota with every visit as a shift only the resident's "
        f"primary or backup may work, in the time left of {TIME_LIMIT:g} s, {WORKERS} workers. Both "
        "checkers (`solver.guardians_check`, `rota check`) on the results. At risk: as on the console's "
        "Residents page, at 08:00 on the first day. A home visit of up to 2 h is a short visit "
        "(`Shift.visit`, hard rule `visit_gap`): not the day's one shift, no 11 h of rest around it, no "
        "working day of its own, only 15 min of travel to and from the guardian's other shifts; its "
        "minutes count in the hours caps and the load. So a guardian with a gate shift that day still "
        "makes the visit; the visits left uncovered are those whose primary and backup are both away "
        "(outside their availability, on limited duty, sick), on another shift at that hour or at an hours "
        "limit (counted in the table). Before the "
        f"rule (every visit took its volunteer's whole working day; {BEFORE}) the same run left "
        f"{BEFORE_UNCOVERED} of 1,620 visits uncovered and {BEFORE_AT_RISK} of 120 residents at risk.\n"
    )
    terms = ", ".join(f"{k} {v}" for k, v in r.match_terms.items())
    lines.append(_table(["measure", "value"], [
        ["matching", f"{r.match_seconds:.1f} s, {r.match_status}; {terms}"],
        ["matching violations (checker)", str(r.match_violations)],
        ["compile", f"{r.compile_seconds:.1f} s, {r.shifts:,} shifts"],
        ["rota", f"{r.solve_seconds:.1f} s, {r.status}"],
        ["matching + compile + rota", f"{r.total_seconds:.1f} s"],
        ["violations (`rota check`)", str(r.violations)],
        ["visits", f"{r.visits:,}: {r.visits_by_backup:,} made by the backup, "
                   f"{r.visits_uncovered:,} uncovered"],
        ["why visits are uncovered",
         "; ".join(f"{k} ({v})" for k, v in r.uncovered_reasons.items()) or "-"],
        ["why their primary and backup could not (each guardian of each visit: absence or the rules "
         "the checker finds broken)",
         "; ".join(f"{k} ({v})" for k, v in r.blocked_by.items()) or "-"],
        ["places short on the posts", f"{r.places_short:,}"],
        ["residents at risk", f"{r.at_risk} of {r.residents}: "
         + (", ".join(f"{k} {v}" for k, v in sorted(r.risks.items())) or "none")],
        ["within the time limit, zero violations", "yes" if ok else "no"],
    ]))
    return "\n".join(lines)
