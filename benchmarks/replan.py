"""Benchmark of the re-solve after a sick call (issue 5); ``benchmarks.bench`` calls :func:`run`.

For the demo compound (``fixtures/lockdown-community.json``, 72 volunteers x 14 days) and a generated
compound of 200 volunteers x 28 days (``generate(200, 28, seed=1)``): plan the site once, then let
every volunteer who still has a shift to come on day 3 (the third day of the horizon) fall ill at
06:40 local that day, sick for a week, and re-solve with :func:`scheduler.domain.replan.resolve` and its
defaults. Reported per site: median and worst re-solve time (the whole call: compile, repair, search
if any, schedule and change set), the places that had to be re-staffed, the other people whose shifts
changed and their changed assignments, other people per re-staffed place (the issue's aim: at most
one on average), the places left short, and how often CP-SAT ran (``solver.restaff``'s local
model). A few calls are also planned from scratch (the same new scenario, no previous schedule) to
compare the disruption.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from scheduler.domain.compile import compile_scenario
from scheduler.domain.disruptions import SickCall
from scheduler.domain.generate import generate
from scheduler.domain.planning import plan
from scheduler.domain.replan import Resolution, resolve
from scheduler.domain.report import build_schedule
from scheduler.domain.scenario import OLD_DATA, Scenario
from scheduler.domain.schedule import Schedule

ROOT = Path(__file__).resolve().parents[1]
SICK_DAY = 2  # day index: the third day
CALL_AT = dt.time(6, 40)
SICK_DAYS = 7
WORKERS = 2


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Call:
    volunteer: str
    seconds: float
    restaffed: int
    others: int  # other people with a change
    changes: int  # their changed assignments
    left_short: int  # slots after the cut-off shorter than before (in people or skills)
    searched: bool
    improved: bool  # the search found a better schedule than the repair


@dataclass(frozen=True)
class SiteResult:
    label: str
    size: str
    plan_text: str
    calls: list[Call]
    sampled: str
    scratch: list[tuple[str, int, int]]  # (volunteer, re-solve changes, from-scratch changes)


def _demo() -> Scenario:
    path = ROOT / "fixtures" / "lockdown-community.json"
    return Scenario.model_validate(json.loads(path.read_text(encoding="utf-8")), context=OLD_DATA)


def _plan(scenario: Scenario, time_limit: float) -> tuple[Schedule, str]:
    """The published schedule: the solver's, or the greedy one if it found none in time."""
    started = time.monotonic()
    compiled = compile_scenario(scenario)
    schedule = plan(compiled, time_limit=time_limit, workers=WORKERS, seed=0)
    if schedule.status not in ("optimal", "feasible"):
        from solver.greedy import greedy
        from solver.problem import Solution, Status
        from solver.validate import expected_shortfalls

        pairs = greedy(compiled.problem)
        solution = Solution(status=Status.FEASIBLE, assignments=tuple(pairs),
                            uncovered=tuple(expected_shortfalls(compiled.problem, pairs)))
        schedule = build_schedule(compiled, solution)
        how = "greedy (the solver found nothing in time)"
    else:
        how = f"solved in {time_limit:g} s"
    short = sum(u.missing for u in schedule.uncovered)
    took = time.monotonic() - started
    return schedule, f"{how}: {len(schedule.assignments)} assignments, {short} places short ({took:.0f} s)"


def _cutoff(scenario: Scenario) -> dt.datetime:
    day = scenario.horizon.start + dt.timedelta(days=SICK_DAY)
    return dt.datetime.combine(day, CALL_AT, tzinfo=scenario.site.zone)


def _call(scenario: Scenario, volunteer: str) -> SickCall:
    cut = _cutoff(scenario)
    return SickCall(volunteer=volunteer, start=cut.replace(tzinfo=None),
                    until=cut.date() + dt.timedelta(days=SICK_DAYS - 1))


def _measure(volunteer: str, r: Resolution) -> Call:
    c = r.changes
    return Call(
        volunteer=volunteer,
        seconds=c.seconds,
        restaffed=c.restaffed,
        others=sum(1 for v in c.volunteers if v.subject is None),
        changes=c.changed_others,
        left_short=sum(1 for u in c.uncovered if u.new),
        searched=c.searched,
        improved=c.method == "solver",
    )


def _changed_others(previous: Schedule, new: Schedule, cutoff: dt.datetime, ill: str) -> int:
    def after(s: Schedule) -> set[tuple]:
        return {(a.volunteer, a.post, a.shift, a.date) for a in s.assignments if a.start >= cutoff}

    return sum(1 for k in after(previous) ^ after(new) if k[0] != ill)


def _published(label: str, scenario: Scenario, plan_limit: float, keep: Path | None) -> tuple[Schedule, str]:
    """The published schedule; with ``keep`` (a folder) planned once and kept there, so that two
    versions of the code can be compared on the same schedule in one sitting."""
    if keep is None:
        return _plan(scenario, plan_limit)
    path = keep / f"{label.replace(' ', '-')}.json"
    if path.exists():
        return Schedule.model_validate_json(path.read_text(encoding="utf-8")), f"kept in {path}"
    schedule, text = _plan(scenario, plan_limit)
    keep.mkdir(parents=True, exist_ok=True)
    path.write_text(schedule.model_dump_json(), encoding="utf-8")
    return schedule, text


def bench_site(label: str, scenario: Scenario, plan_limit: float, *, sample: int | None, scratch: int,
               echo=_stderr, keep: Path | None = None) -> SiteResult:
    previous, plan_text = _published(label, scenario, plan_limit, keep)
    cut = _cutoff(scenario)
    people = sorted({a.volunteer for a in previous.assignments if a.start >= cut and a.date == cut.date()})
    step = 1 if sample is None or sample >= len(people) else max(1, len(people) // sample)
    chosen = people[::step][: sample or len(people)]
    sampled = f"all {len(people)}" if len(chosen) == len(people) else f"{len(chosen)} of {len(people)}"
    calls = []
    results: dict[str, Resolution] = {}
    for vid in chosen:
        r = resolve(scenario, previous, [_call(scenario, vid)], cutoff=cut, workers=WORKERS)
        results[vid] = r
        calls.append(_measure(vid, r))
        echo(f"  resolve {label}: {vid} {calls[-1].seconds:.2f} s, {calls[-1].restaffed} re-staffed, "
             f"{calls[-1].others} others")
    compared = []
    for vid in chosen[:: max(1, len(chosen) // max(1, scratch))][:scratch]:
        r = results[vid]
        fresh, _ = _plan(r.scenario, plan_limit)
        compared.append((vid, r.changes.changed_others, _changed_others(previous, fresh, cut, vid)))
        echo(f"  resolve {label}: {vid} from scratch changes {compared[-1][2]} (re-solve {compared[-1][1]})")
    days = scenario.horizon.days
    return SiteResult(label, f"{len(scenario.volunteers)} x {days} d", plan_text, calls, sampled, compared)


def _row(site: SiteResult) -> str:
    calls = site.calls
    times = [c.seconds for c in calls]
    restaffed = sum(c.restaffed for c in calls)
    others = sum(c.others for c in calls)
    changes = sum(c.changes for c in calls)
    per_place = f"{others / restaffed:.2f}" if restaffed else "-"
    searched = sum(1 for c in calls if c.searched)
    improved = sum(1 for c in calls if c.improved)
    median, worst = statistics.median(times), max(times)
    return (
        f"| {site.label} | {site.size} | {site.sampled} | {median:.2f} | {worst:.2f} | "
        f"{restaffed} | {others} | {changes} | {per_place} | {sum(c.left_short for c in calls)} | "
        f"{searched}/{len(calls)} | {improved} |"
    )


def _machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}, "
        f"Python {platform.python_version()}; load average {load:.2f} at the start of this section"
    )


def run(fast: bool = False, echo=_stderr, keep: Path | None = None) -> str:
    """The markdown section (without its title: ``benchmarks.bench`` adds title, date and machine).
    ``keep``: a folder where the published schedules are kept (see :func:`_published`)."""
    started = dt.datetime.now().astimezone()
    machine = _machine()
    demo_limit, big_limit = (20, 30) if fast else (60, 120)
    sites = [
        bench_site("demo compound", _demo(), demo_limit, sample=8 if fast else None,
                   scratch=1 if fast else 3, echo=echo, keep=keep),
        bench_site("generated compound", generate(200, 28, 1), big_limit, sample=8 if fast else None,
                   scratch=1 if fast else 2, echo=echo, keep=keep),
    ]
    lines = [
        f"Every volunteer with a shift on day 3 starting after {CALL_AT:%H:%M} falls ill at {CALL_AT:%H:%M} "
        f"local that day, sick for {SICK_DAYS} days; the published schedule is re-solved from that cut-off "
        f"with `resolve()`'s defaults (time limit 10 s, patience 3 s, window 2 days, {WORKERS} workers). "
        "Times are wall seconds of the whole call. *Other people* had a shift added or removed; *per place* "
        "is other people per re-staffed place (aim: at most 1); *left short* counts slots the re-solve left "
        "shorter than before (in people or skills); *search* how many calls ran CP-SAT (the exact local "
        "model of the chains around the places the repair left short, only while a place could still be "
        "filled: the others were settled by the repair alone), *search improved* in how many of them it "
        "beat the repair (coverage, then changes, then the rest).",
        "",
        f"- Run: {started:%Y-%m-%d %H:%M %Z}{' (quick: a sample of calls)' if fast else ''}",
        f"- Machine: {machine}",
        "",
        "| site | size | calls | median s | worst s | re-staffed places | other people | their changes | "
        "per place | left short | search | search improved |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [_row(s) for s in sites]
    lines += ["", "Published schedules:"]
    lines += [f"- {s.label}: {s.plan_text}" for s in sites]
    lines += [
        "",
        "Changed assignments of other people after the cut-off, re-solve vs the same new scenario planned "
        "from scratch (same time limit as the published plan):",
        "",
        "| site | volunteer ill | re-solve | from scratch |",
        "|---|---|---:|---:|",
    ]
    for s in sites:
        lines += [f"| {s.label} | {vid} | {mine} | {theirs} |" for vid, mine, theirs in s.scratch]
    worst = [max(s.calls, key=lambda c: c.seconds) for s in sites]
    lines += ["", "Slowest calls: " + "; ".join(
        f"{s.label} {c.volunteer} {c.seconds:.2f} s ({c.restaffed} places, {c.others} others, "
        f"{'searched' if c.searched else 'repair only'})" for s, c in zip(sites, worst, strict=True)
    ) + "."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    # python -m benchmarks.replan [--quick] [--keep DIR]: with --keep, the published schedules are
    # planned once into DIR and reused, so main and a branch compare on the same schedules
    kept = Path(sys.argv[sys.argv.index("--keep") + 1]) if "--keep" in sys.argv else None
    print(run(fast="--quick" in sys.argv, keep=kept))
