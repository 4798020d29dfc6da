"""Solver benchmarks, written to ``docs/BENCHMARKS.md``.

``python -m benchmarks.bench [--only scenarios|checker|curtois|portfolios|limits|resolve|fairness|pages|
horizon|residents] [--quick]``
(``make bench``).

* **scenarios** (issue 3): generated sites of 50-400 volunteers over 14 and 28 days: build and compile
  time, model size, time to the first feasible schedule, and the incumbent at 10 s and 60 s of one
  60-second solve (read from the progress callback), with the final objective, bound, gap and
  uncovered demand.
* **checker**: the independent checker (``solver.validate``), the explainer (``solver.explain``) and
  the scenario compiler timed on the 200x28 and 400x28 generated sites.
* **curtois** (issue 6): the Curtois & Qu benchmark solved with a flat objective, every roster scored
  by the independent evaluator of ``benchmarks.curtois`` and written as ``InstanceN.csv``.
* **portfolios** (issue 15): ``benchmarks.portfolios``: CP-SAT's default portfolio against the
  strong-LP worker ``max_lp`` (coverage first or one phase) on Curtois 1-12 at 20 s: objective, bound,
  gap; the table behind ``SolveOptions.portfolio="auto"``.
* **limits** (issue 15): ``benchmarks.limits``: the wall time of ``solve`` against its limit where it
  is hardest to keep (models too large to build in time, Curtois 22 and 24).
* **resolve** (issue 5): ``benchmarks.replan.run`` when it exists.
* **fairness** (issue 13): ``benchmarks.fairness``: the busiest volunteer's hours against a min-max
  run and a lower bound, with the load measured per mille of capacity (before) and in hours (now).
* **residents** (issue 12): ``benchmarks.residents``: 200 volunteers, 120 vulnerable residents, the
  guardian matching plus the rota with their visits in 60 s, zero violations, the residents at risk.
* **pages** (issue 10): ``benchmarks.pages``: how long the console's Today, Rota grid and People pages
  take to render for a 200-volunteer, 28-day site with a published (greedy) schedule.
* **horizon** (issue 13): ``benchmarks.horizon``: 200 volunteers x 84 days, the time to the first valid
  schedule, the objective at checkpoints (60 s among them) and after 300 s, and the weekly forecast.

Speed and quality targets live here, never in timed unit tests. Every benchmark owns one section of
the document between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``, so a partial run replaces
only its own section. Each section starts with the machine, the commit and the date of its run. The
machines this runs on have two cores: every solve passes ``workers=2`` explicitly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "BENCHMARKS.md"
ROSTERS = ROOT / "docs" / "curtois-rosters"
CURTOIS_DATA = Path(os.environ.get("ROTA_CURTOIS_DIR", ROOT.parent / "shared" / "benchmarks" / "curtois"))

WORKERS = 2  # the machines have two cores; always passed explicitly
# order in a new document
SECTIONS = (
    "scenarios", "checker", "curtois", "portfolios", "limits", "resolve", "fairness", "pages", "horizon",
    "residents",
)

# scenarios (issue 3)
SCENARIO_SEED = 1
SCENARIO_VOLUNTEERS = (50, 100, 200, 400)
SCENARIO_VOLUNTEERS_QUICK = (50, 100, 200)
SCENARIO_DAYS = (14, 28)
SCENARIO_TIME_LIMIT = 60.0
CHECKPOINTS = (10.0, 60.0)
TARGET_SIZE = (200, 28)
TARGET_FIRST_FEASIBLE = 5.0  # seconds
TARGET_GAP = 0.01

# checker
CHECKER_SITES = ((200, 28), (400, 28))
CHECKER_REPEATS = 3

# curtois (issue 6)
CURTOIS_ALL = tuple(range(1, 25))
CURTOIS_SMALL = tuple(range(1, 13))
SMALL_TIME_LIMIT = 60.0  # instances 1-12
LARGE_TIME_LIMIT = 600.0  # instances 13-24

Echo = Callable[[str], None]


# Instances up to this many (person, shift) pairs (1-12) are solved as one CP-SAT model, which measured
# better on them than neighbourhood search; the large ones (13-24) go through neighbourhoods.
CURTOIS_DIRECT_LIMIT = 20_000


def _echo(line: str) -> None:
    print(line, flush=True)


# --------------------------------------------------------------------------------------------------
# The document: one section per benchmark between markers


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


DOC_INTRO = """# Benchmarks

Written by `python -m benchmarks.bench` (`make bench`); see the docstring of `benchmarks/bench.py`.
Sections record the command that made them at the time.
Each section is replaced only by a run of its own benchmark (`--only NAME`), and names the machine,
the commit and the date of that run. Speed and quality targets are checked here, never in timed unit
tests.
"""


def replace_section(text: str, name: str, body: str) -> str:
    """``text`` with the section ``name`` replaced by ``body`` (appended if it has no such section).

    Everything outside the section's markers is kept byte for byte.
    """
    begin, end = _markers(name)
    block = f"{begin}\n{body.strip()}\n{end}"
    starts = [m.start() for m in re.finditer(re.escape(begin), text)]
    ends = [m.start() for m in re.finditer(re.escape(end), text)]
    if not starts and not ends:
        sep = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        return f"{text}{sep}{block}\n"
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise ValueError(
            f"the markers of section {name!r} are broken (want exactly one {begin} followed by one {end})"
        )
    return text[: starts[0]] + block + text[ends[0] + len(end) :]


def section_body(text: str, name: str) -> str | None:
    """The current content of section ``name``, or None if the document has none."""
    begin, end = _markers(name)
    m = re.search(re.escape(begin) + r"\n?(.*?)\n?" + re.escape(end), text, re.S)
    return m.group(1) if m else None


def new_document() -> str:
    text = DOC_INTRO
    for name in SECTIONS:
        text = replace_section(text, name, f"## {TITLES[name]}\n\nNot run yet.")
    return text


def update_document(path: Path, name: str, body: str) -> None:
    """Replace section ``name`` of the document at ``path`` (created with every section if missing)."""
    text = path.read_text(encoding="utf-8") if path.exists() else new_document()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(replace_section(text, name, body), encoding="utf-8")
    os.replace(partial, path)  # a run stopped while writing never leaves half a document


# --------------------------------------------------------------------------------------------------
# The machine and the run


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except (OSError, ValueError, IndexError):
        pass
    return None


def _git(*args: str) -> str:
    try:
        out = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.rstrip("\n")


def changed_code() -> list[str]:
    """Tracked Python files under solver/ and scheduler/ that differ from the commit."""
    lines = _git("status", "--porcelain", "--untracked-files=no", "--", "solver", "scheduler").splitlines()
    return [line[3:] for line in lines if line[3:].endswith(".py")]


def commit_short() -> str:
    """``abc1234``, or ``abc1234 (modified)`` when the solver or scheduler code differs from it."""
    commit = _git("log", "-1", "--format=%h") or "unknown"
    return f"{commit} (modified)" if changed_code() else commit


def commit_text() -> str:
    """``abc1234``, plus the code files that differ from it (benchmarks are run on a live tree)."""
    commit = _git("log", "-1", "--format=%h") or "unknown"
    changed = changed_code()
    if changed:
        return f"{commit} + uncommitted changes to {', '.join(f'`{c}`' for c in changed)}"
    return commit


def machine_text() -> str:
    import ortools

    ram = _ram_gib()
    cores = os.cpu_count() or 0
    parts = [
        _cpu_model(),
        f"{cores} core{'s' if cores != 1 else ''}",
        f"{ram:.0f} GiB RAM" if ram else "RAM unknown",
        f"Python {platform.python_version()}",
        f"OR-Tools {ortools.__version__}",
    ]
    return ", ".join(parts)


def load_text() -> str:
    """The load average when a benchmark starts: other work on the machine slows the solver down."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    cores = os.cpu_count() or 1
    busy = " (the machine was busy with other work: timings are pessimistic)" if five > 0.5 * cores else ""
    return f"{one:.2f} (1 min), {five:.2f} (5 min){busy}"


@dataclass(frozen=True)
class RunInfo:
    """When a benchmark run started, at which commit, and how busy the machine was."""

    started: dt.datetime
    commit: str
    load: str

    @classmethod
    def now(cls) -> RunInfo:
        return cls(dt.datetime.now().astimezone(), commit_text(), load_text())


def run_header(title: str, command: str, info: RunInfo | None = None) -> str:
    """The section title and the run: date, machine, commit, command and the load when it started.

    The code may change while a long run goes on (others commit concurrently): then the commit at the
    end is named too, and tables with a per-case commit say which case ran on which.
    """
    info = info or RunInfo.now()
    now = commit_text()
    lines = [
        f"## {title}\n",
        f"- Date: {info.started.strftime('%Y-%m-%d %H:%M %Z')}",
        f"- Machine: {machine_text()}; {WORKERS} CP-SAT workers",
        f"- Load average at the start: {info.load}",
        f"- Commit: {info.commit}",
    ]
    if now != info.commit:
        lines.append(f"- Commit when the run ended: {now} (the code changed during the run)")
    lines.append(f"- Command: `{command}`")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------
# Progress of one solve


class Trace:
    """Collects the ``Progress`` snapshots of one solve (the solver's ``on_progress``)."""

    def __init__(self) -> None:
        self.events: list = []

    def __call__(self, progress) -> None:
        self.events.append(progress)  # list.append is atomic; the callback runs on solver threads

    def at(self, seconds: float):
        """The last snapshot with a schedule at or before ``seconds``, or None."""
        found = None
        for p in self.events:
            if p.elapsed > seconds:
                break
            if p.objective is not None:
                found = p
        return found

    def last_of_phase(self, phase: str):
        """The last snapshot with a schedule in ``phase``, or None."""
        found = None
        for p in self.events:
            if p.phase == phase and p.objective is not None:
                found = p
        return found

    def last_improvement(self):
        """The snapshot of the last improving schedule (its ``elapsed`` is the time to best)."""
        if not self.events:
            return None
        final = self.events[-1].solutions
        if final == 0:
            return None
        return next(p for p in self.events if p.solutions == final)


def _gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    if objective == 0:
        return 0.0
    return max(0.0, (objective - bound) / abs(objective))


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], align: str | None = None) -> str:
    align = align or "l" + "r" * (len(header) - 1)
    marks = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(marks) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# scenarios (issue 3)


@dataclass
class Checkpoint:
    seconds: float
    phase: str | None = None
    objective: float | None = None  # the phase's own (model) objective
    bound: float | None = None  # clamped at 0: every term is non-negative
    raw_bound_negative: bool = False  # CP-SAT's own bound was below 0, i.e. it had proved nothing yet
    gap: float | None = None
    shortfall: str = "-"  # people + skilled people missing at that moment, from the coverage cost


@dataclass
class ScenarioResult:
    volunteers: int
    days: int
    shifts: int = 0
    demand: int = 0  # people wanted over all shifts
    generate_seconds: float = 0.0
    compile_seconds: float = 0.0
    build_seconds: float | None = None  # CP-SAT model, inside solve
    variables: int | None = None
    constraints: int | None = None
    first_feasible: float | None = None  # seconds since solve() started
    wall_seconds: float = 0.0
    status: str = ""
    objective: int | None = None  # the true objective (independent checker)
    bound: float | None = None
    gap: float | None = None
    uncovered_slots: int | None = None
    missing_people: int | None = None
    missing_skills: int | None = None  # skilled people missing (a slot can be full but lack a skill)
    commit: str = ""  # the commit when this case started (others may commit during a long run)
    method: str = ""  # one CP-SAT model, or large neighbourhood search (the solver picks by size)
    coverage_status: str | None = None  # coverage phase: optimal / feasible / no_solution / None (no phase)
    coverage_seconds: float | None = None
    coverage_objective: float | None = None  # last coverage-phase incumbent (weighted shortfall)
    coverage_bound: float | None = None
    checkpoints: list[Checkpoint] = field(default_factory=list)
    # the linear relaxation's bound (solver.relaxation), computed after the run without its time limit:
    # the search's own time rarely lets it finish on the large sites
    relaxation_bound: int | None = None
    relaxation_seconds: float | None = None

    @property
    def relaxation_gap(self) -> float | None:
        if self.objective is None or self.relaxation_bound is None:
            return None
        return _gap(self.objective, max(self.relaxation_bound, self.bound or 0))


RELAXATION_TIME = 600.0  # seconds for the bound computed after a scenario's run


def bench_scenario(volunteers: int, days: int, *, time_limit: float = SCENARIO_TIME_LIMIT,
                   checkpoints: Sequence[float] = CHECKPOINTS, seed: int = SCENARIO_SEED) -> ScenarioResult:
    from scheduler.domain.compile import compile_scenario
    from scheduler.domain.generate import generate
    from solver.options import SolveOptions
    from solver.solve import solve

    r = ScenarioResult(volunteers, days, commit=commit_short())
    t = time.perf_counter()
    scenario = generate(volunteers, days, seed)
    r.generate_seconds = time.perf_counter() - t
    t = time.perf_counter()
    compiled = compile_scenario(scenario)
    r.compile_seconds = time.perf_counter() - t
    problem = compiled.problem
    r.shifts = len(problem.shifts)
    r.demand = sum(s.required for s in problem.shifts)

    trace = Trace()
    options = SolveOptions(time_limit=time_limit, workers=WORKERS, seed=0, on_progress=trace)
    solution = solve(problem, options)
    stats = solution.stats
    r.method = _method(stats)
    r.build_seconds = stats.get("build_seconds")
    r.variables = stats.get("variables")
    r.constraints = stats.get("constraints")
    r.first_feasible = solution.first_solution_time
    r.wall_seconds = solution.wall_time
    r.status = solution.status.value
    r.coverage_status = stats.get("coverage_phase_status")
    r.coverage_seconds = stats.get("coverage_phase_seconds")
    if solution.has_schedule:
        r.objective = solution.objective
        r.bound = solution.best_bound
        r.gap = solution.gap
        r.uncovered_slots = len(solution.uncovered)
        r.missing_people = sum(s.missing for s in solution.uncovered)
        r.missing_skills = sum(sum(s.missing_skills.values()) for s in solution.uncovered)
        from solver.relaxation import lp_bound

        t = time.perf_counter()
        r.relaxation_bound = lp_bound(problem, RELAXATION_TIME)
        r.relaxation_seconds = time.perf_counter() - t
    last_coverage = trace.last_of_phase("coverage")
    if last_coverage is not None:
        r.coverage_objective = last_coverage.objective
        r.coverage_bound = None if last_coverage.bound is None else max(0.0, last_coverage.bound)
    unit = problem.weights.uncovered  # every generated shift has under_weight 1
    for seconds in checkpoints:
        # the time limit's own checkpoint is the end of the run (the last report may come a little late)
        p = trace.at(seconds if seconds < time_limit else math.inf)
        if p is None:
            r.checkpoints.append(Checkpoint(seconds))
            continue
        bound = None if p.bound is None else max(0.0, p.bound)
        gap = _gap(p.objective, bound)
        shortfall = "-"
        if p.phase == "coverage" and unit:
            shortfall = f"{p.objective / unit:,.0f}"
        elif p.phase == "balance" and unit and r.coverage_objective is not None:
            # the balance phase holds coverage at (optimal) or below (feasible) the coverage phase's best
            exact = r.coverage_status == "optimal"
            shortfall = f"{'' if exact else '≤ '}{r.coverage_objective / unit:,.0f}"
        negative = p.bound is not None and p.bound < 0
        r.checkpoints.append(Checkpoint(seconds, p.phase, p.objective, bound, negative, gap, shortfall))
    return r


def _method(stats) -> str:
    method = stats.get("method")
    if not method:
        return "CP-SAT model"
    if "neighbourhoods" in stats:
        short = "LNS" if method == "large neighbourhood search" else method
        first = {"people one by one": "people one by one, "}.get(stats.get("first_schedule", ""), "")
        hoods = f"{stats['neighbourhoods']} hoods, {stats.get('improving_neighbourhoods', 0)} better"
        return f"{short} ({first}{hoods})"
    return str(method)


def _scenario_line(r: ScenarioResult) -> str:
    first = "none" if r.first_feasible is None else f"{r.first_feasible:.1f}s"
    return (
        f"scenario {r.volunteers:>3} x {r.days:>2}d: {r.shifts} shifts, {r.method}, "
        f"{_num(r.variables)} vars, build {_secs(r.build_seconds)}s, first feasible {first}, {r.status}, "
        f"objective {_num(r.objective)}, gap {_pct(r.gap)}, uncovered {_num(r.missing_people)}  "
        f"({r.wall_seconds:.0f}s)"
    )


def _phase_name(phase: str | None) -> str:
    return {None: "-", "": "single"}.get(phase, phase)


def scenarios_section(results: Sequence[ScenarioResult], command: str, time_limit: float,
                      info: RunInfo | None = None) -> str:
    out = [run_header(TITLES["scenarios"], command, info)]
    out.append(
        f"Generated compound sites (`generate(volunteers, days, seed={SCENARIO_SEED})`), compiled and "
        f"solved once with `SolveOptions(time_limit={time_limit:g}, workers={WORKERS})` and the solver's "
        "other defaults. Times are wall seconds; *first feasible* and the checkpoints "
        "count from the call to `solve` (which includes building the CP-SAT model), compile time comes "
        "before it.\n"
    )
    out.append("### Size and speed\n")
    out.append(
        _table(
            ["site", "shifts", "people wanted", "method", "generate s", "compile s", "model build s",
             "variables", "constraints", "first feasible s", "wall s"],
            (
                [f"{r.volunteers} x {r.days}d", f"{r.shifts:,}", f"{r.demand:,}", r.method,
                 _secs(r.generate_seconds),
                 _secs(r.compile_seconds), _secs(r.build_seconds), _num(r.variables), _num(r.constraints),
                 "none" if r.first_feasible is None else _secs(r.first_feasible), _secs(r.wall_seconds)]
                for r in results
            ),
            align="lrrlrrrrrrr",
        )
    )
    out.append(
        "\nThe solver solves a problem as one CP-SAT model up to `SolveOptions.direct_limit` candidate "
        "(person, shift) pairs, and larger ones by large neighbourhood search (LNS) around CP-SAT from "
        "the greedy schedule; model size and build time are only reported for the single model.\n"
    )
    out.append("\n### Incumbent during the search\n")
    out.append(
        'The search runs in two phases: "coverage" (only the uncovered-demand terms, weight 100,000 per '
        'missing person) then "balance" (the whole objective, coverage held); LNS reports one phase, '
        '"neighbourhoods", with the true objective of the whole schedule and no bound. Their objectives '
        "are not comparable: a checkpoint shows the phase's own incumbent, bound and gap, as the progress "
        "callback reported them (the model's objective, which can be above the schedule's true value "
        "until the search proves it). *Short* is the people plus skilled people missing at that "
        "moment (coverage cost / 100,000; in the balance phase coverage is held at the coverage phase's "
        "best, exactly if that phase proved it optimal, else at most). The last columns are the coverage "
        "phase's outcome. Bounds are clamped at 0 (every term is non-negative); * marks a bound that "
        "CP-SAT still had below 0, i.e. it had proved nothing yet.\n"
    )
    header = ["site"]
    for c in CHECKPOINTS if not results else [c.seconds for c in results[0].checkpoints]:
        header += [f"phase @{c:g}s", f"objective @{c:g}s", f"bound @{c:g}s", f"gap @{c:g}s", f"short @{c:g}s"]
    header += ["coverage phase", "coverage s", "coverage objective / bound"]
    rows = []
    for r in results:
        row = [f"{r.volunteers} x {r.days}d"]
        for c in r.checkpoints:
            bound = _num(c.bound) + ("*" if c.raw_bound_negative else "")
            row += [_phase_name(c.phase), _num(c.objective), bound, _pct(c.gap), c.shortfall]
        row += [
            r.coverage_status or "-",
            _secs(r.coverage_seconds),
            f"{_num(r.coverage_objective)} / {_num(r.coverage_bound)}",
        ]
        rows.append(row)
    align = "l" + "lrrrr" * ((len(header) - 4) // 5) + "lrr"
    out.append(_table(header, rows, align))
    out.append("\n### Final schedule\n")
    out.append(
        "The true objective of the returned schedule (scored by the independent checker), the final "
        "bound the run reported and the gap between them; then the linear relaxation's bound "
        "(`solver.relaxation.lp_bound`) computed after the run with no time limit of its own, its "
        "seconds, and the schedule's gap to the better of the two bounds; slots short of people or "
        "skills, people missing, and skilled people missing (in slots that may be full).\n"
    )
    out.append(
        _table(
            ["site", "status", "objective", "bound", "gap", "relaxation bound (after)", "its s",
             "gap to it", "slots short", "people missing", "of people wanted", "skilled people missing",
             "commit"],
            (
                [f"{r.volunteers} x {r.days}d", r.status, _num(r.objective), _num(r.bound), _pct(r.gap),
                 _num(r.relaxation_bound), _secs(r.relaxation_seconds), _pct(r.relaxation_gap),
                 _num(r.uncovered_slots), _num(r.missing_people),
                 "-" if r.missing_people is None else _pct(r.missing_people / max(1, r.demand)),
                 _num(r.missing_skills), r.commit]
                for r in results
            ),
            align="llrrrrrrrrrrl",
        )
    )
    out.append("\n### Target\n")
    out.append(target_verdict(results))
    return "\n".join(out)


def target_verdict(results: Sequence[ScenarioResult]) -> str:
    """Issue 3: "200 volunteers x 28 days has a first feasible schedule in under 5 s and is within 1% of
    its bound at 60 s on 2 cores"."""
    quote = (
        '> 200 volunteers x 28 days has a first feasible schedule in under 5 s and is within 1% of its '
        "bound at 60 s on 2 cores.\n\n"
    )
    r = next((r for r in results if (r.volunteers, r.days) == TARGET_SIZE), None)
    if r is None:
        return quote + "Not measured in this run (the 200 x 28 site was not among the cases)."
    first_ok = r.first_feasible is not None and r.first_feasible < TARGET_FIRST_FEASIBLE
    gap_ok = any(g is not None and g <= TARGET_GAP for g in (r.gap, r.relaxation_gap))
    if r.first_feasible is None:
        first = "no schedule at all"
    else:
        first = f"{r.first_feasible:.2f} s after `solve` started"
    first += f" (+{r.compile_seconds:.2f} s compiling the scenario)"
    if r.objective is None:
        gap = "no schedule, so no gap"
    elif r.gap is None:
        gap = f"no bound ({r.method} proves none), so the gap cannot be measured"
    else:
        gap = f"gap {r.gap:.2%} at {r.wall_seconds:.0f} s"
    if r.relaxation_gap is not None:
        gap += (f"; {r.relaxation_gap:.2%} to the relaxation's bound ({_num(r.relaxation_bound)}, "
                f"computed after the run in {r.relaxation_seconds:.0f} s)")
    verdict = "**met**" if first_ok and gap_ok else "**not met**"
    return (
        quote
        + f"- First feasible: {first}: {'met' if first_ok else 'NOT met'}.\n"
        + f"- Within 1% of the bound at 60 s: {gap}: {'met' if gap_ok else 'NOT met'}.\n"
        + f"\nTarget {verdict} at this commit."
    )


def run_scenarios(sizes: Sequence[tuple[int, int]], doc: Path, command: str, echo: Echo = _echo,
                  time_limit: float = SCENARIO_TIME_LIMIT) -> list[ScenarioResult]:
    info = RunInfo.now()
    results = []
    for volunteers, days in sizes:
        r = bench_scenario(volunteers, days, time_limit=time_limit)
        echo(_scenario_line(r))
        results.append(r)
        # after every case, so a run that is stopped half-way still leaves its figures
        update_document(doc, "scenarios", scenarios_section(results, command, time_limit, info))
    return results


# --------------------------------------------------------------------------------------------------
# checker


@dataclass
class CheckerResult:
    volunteers: int
    days: int
    shifts: int
    assignments: int
    shortfalls: int
    timings: dict[str, tuple[float, float]]  # name -> (first call, best of the repeats)
    violations: int


def _timed(fn: Callable[[], object], repeats: int) -> tuple[object, float, float]:
    times = []
    result = None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return result, times[0], min(times)


def bench_checker(volunteers: int, days: int, repeats: int = CHECKER_REPEATS) -> CheckerResult:
    """The checker, the explainer and the compiler on a generated site, with the greedy schedule (a
    valid, nearly full schedule found without a solve) as the schedule to check."""
    from scheduler.domain.compile import compile_scenario
    from scheduler.domain.generate import generate
    from solver import validate
    from solver.explain import explain_shortfalls
    from solver.greedy import greedy

    scenario = generate(volunteers, days, SCENARIO_SEED)
    timings: dict[str, tuple[float, float]] = {}
    compiled, first, best = _timed(lambda: compile_scenario(scenario), repeats)
    timings["compile_scenario"] = (first, best)
    problem = compiled.problem
    assignments = tuple(greedy(problem, seed=0))
    shortfalls = validate.expected_shortfalls(problem, assignments)
    violations, first, best = _timed(lambda: validate.validate(problem, assignments, shortfalls), repeats)
    timings["validate"] = (first, best)
    _, first, best = _timed(lambda: validate.evaluate_terms(problem, assignments), repeats)
    timings["evaluate_terms"] = (first, best)
    _, first, best = _timed(lambda: explain_shortfalls(problem, assignments, shortfalls), repeats)
    timings["explain_shortfalls"] = (first, best)
    return CheckerResult(volunteers, days, len(problem.shifts), len(assignments), len(shortfalls), timings,
                         len(violations))


CHECKER_STEPS = (
    ("compile_scenario", "`scheduler.domain.compile.compile_scenario`"),
    ("validate", "`solver.validate.validate` (with the coverage report)"),
    ("evaluate_terms", "`solver.validate.evaluate_terms`"),
    ("explain_shortfalls", "`solver.explain.explain_shortfalls` (every shortfall)"),
)


def checker_section(results: Sequence[CheckerResult], command: str, info: RunInfo | None = None) -> str:
    out = [run_header(TITLES["checker"], command, info)]
    out.append(
        f"Generated sites (seed {SCENARIO_SEED}); the schedule checked is the greedy start schedule "
        "(`solver.greedy.greedy`, valid and nearly full), so no solve is needed. Each step runs "
        f"{CHECKER_REPEATS} times: the first call (cold) and the best call, in seconds. The explainer "
        "caches checked schedules between calls, so its repeats are warm.\n"
    )
    header = ["step"] + [
        f"{r.volunteers} x {r.days}d ({r.shifts:,} shifts, {r.assignments:,} assignments, "
        f"{r.shortfalls} shortfalls)"
        for r in results
    ]
    rows = []
    for key, label in CHECKER_STEPS:
        rows.append([label] + [f"{r.timings[key][0]:.3f} (best {r.timings[key][1]:.3f})" for r in results])
    rows.append(["violations found in the greedy schedule"] + [str(r.violations) for r in results])
    out.append(_table(header, rows))
    return "\n".join(out)


def run_checker(
    sites: Sequence[tuple[int, int]], doc: Path, command: str, echo: Echo = _echo
) -> list[CheckerResult]:
    info = RunInfo.now()
    results = []
    for volunteers, days in sites:
        r = bench_checker(volunteers, days)
        echo(
            f"checker  {volunteers:>3} x {days:>2}d: "
            + ", ".join(f"{k} {v[0]:.3f}s" for k, v in r.timings.items())
            + f", {r.violations} violations"
        )
        results.append(r)
    update_document(doc, "checker", checker_section(results, command, info))
    return results


# --------------------------------------------------------------------------------------------------
# curtois (issue 6)


def parse_instances(text: str, available: Sequence[int] = CURTOIS_ALL) -> list[int]:
    """``"1-12"``, ``"1,3,5"``, ``"13-19,24"`` -> sorted instance numbers. Raises ``ValueError`` with a
    message fit for the user."""
    numbers: set[int] = set()
    parts = [p.strip() for p in text.split(",")]
    if not text.strip():
        raise ValueError("no instances given (use e.g. 1-12 or 1,3,5)")
    low, high = min(available), max(available)
    for part in parts:
        if not part:
            raise ValueError(f"empty item in {text!r} (use e.g. 1-12 or 1,3,5)")
        m = re.fullmatch(r"(\d+)\s*(?:-\s*(\d+))?", part)
        if not m:
            raise ValueError(f"{part!r} is not an instance number or a range like 1-12")
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        if a > b:
            raise ValueError(f"range {part!r} runs backwards (use {b}-{a})")
        for n in (a, b):
            if n not in available:
                raise ValueError(f"there is no instance {n} (the benchmark has instances {low}-{high})")
        numbers.update(range(a, b + 1))
    return sorted(numbers)


def default_time_limit(
    number: int, small: float = SMALL_TIME_LIMIT, large: float = LARGE_TIME_LIMIT
) -> float:
    """60 s for instances 1-12, 600 s for 13-24 (the published runs used 10 minutes)."""
    return small if number <= 12 else large


@dataclass
class CurtoisResult:
    instance: int
    time_limit: float
    status: str
    objective: int | None = None  # from the independent evaluator
    solver_objective: int | None = None
    violations: int | None = None
    bound: float | None = None
    first_solution: float | None = None
    time_to_best: float | None = None
    wall_seconds: float = 0.0
    days: int = 0
    staff: int = 0
    shift_types: int = 0
    roster: str | None = None  # file name of the written roster
    method: str = ""  # one CP-SAT model or large neighbourhood search (the solver picks by size)
    date: str = ""
    commit: str = ""

    @property
    def best_known(self) -> int | None:
        from benchmarks.curtois import BEST_KNOWN

        return BEST_KNOWN.get(self.instance)

    @property
    def ratio(self) -> float | None:
        if self.objective is None or not self.best_known:
            return None
        return self.objective / self.best_known

    @property
    def consistent(self) -> bool:
        """Zero violations and the evaluator agrees with the solver."""
        return self.violations == 0 and self.objective == self.solver_objective


def solve_curtois(
    number: int, time_limit: float, out_dir: Path, data_dir: Path = CURTOIS_DATA
) -> CurtoisResult:
    """Solve one instance, score it with the independent evaluator and write ``out_dir/InstanceN.csv``."""
    from benchmarks.curtois import (
        evaluate,
        parse_instance,
        roster_from_assignments,
        to_problem,
        write_roster_csv,
    )
    from solver.options import SolveOptions
    from solver.solve import solve

    instance = parse_instance(Path(data_dir) / f"Instance{number}.txt")
    problem = to_problem(instance)
    trace = Trace()
    options = SolveOptions(
        time_limit=time_limit,
        workers=WORKERS,
        coverage_first=True,  # under-cover (100) dominates the requests (1-3) in practice
        direct_limit=CURTOIS_DIRECT_LIMIT,
        on_progress=trace,
    )
    solution = solve(problem, options)
    r = CurtoisResult(
        instance=number,
        time_limit=time_limit,
        status=solution.status.value,
        method=_method(solution.stats),
        bound=solution.best_bound,
        first_solution=solution.first_solution_time,
        wall_seconds=solution.wall_time,
        days=instance.horizon,
        staff=len(instance.staff),
        shift_types=len(instance.shifts),
        date=dt.date.today().isoformat(),
        commit=commit_short(),
    )
    best = trace.last_improvement()
    r.time_to_best = best.elapsed if best is not None else solution.first_solution_time
    csv_path = Path(out_dir) / f"Instance{number}.csv"
    if solution.has_schedule:
        roster = roster_from_assignments(instance, solution.assignments)
        evaluation = evaluate(instance, roster)
        r.objective = evaluation.objective
        r.solver_objective = solution.objective
        r.violations = len(evaluation.violations)
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        write_roster_csv(csv_path, roster)
        r.roster = csv_path.name
    elif csv_path.exists():
        csv_path.unlink()  # a stale roster from an earlier run would no longer match the table
    return r


def _published(number: int) -> str:
    from benchmarks.curtois import PUBLISHED_10MIN

    results = PUBLISHED_10MIN.get(number)
    if not results:
        return "-"
    names = {"gurobi": "Gurobi", "ejection_chain": "ejection chain", "ip_vns_hybrid": "IP+VNS"}
    method, value = min(results.items(), key=lambda kv: kv[1])
    return f"{value:,} ({names.get(method, method)})"


def _curtois_line(r: CurtoisResult) -> str:
    if r.objective is None:
        return f"curtois {'Instance' + str(r.instance) + ':':<11} {r.status}, no roster in {r.time_limit:g}s"
    check = "ok" if r.consistent else (
        f"CHECK FAILED: {r.violations} violations, evaluator {r.objective} vs solver {r.solver_objective}"
    )
    return (
        f"curtois {'Instance' + str(r.instance) + ':':<11} {r.objective:>7,} (best known {r.best_known:,}, "
        f"ratio {r.ratio:.3f}) {r.status}, best at {r.time_to_best or 0:.1f}s of {r.time_limit:g}s, {check}"
    )


_DATA_BEGIN = "<!-- curtois-results"
_DATA_END = "-->"


def _load_curtois_rows(text: str | None) -> dict[int, dict]:
    """The per-instance results stored in a previous curtois section (so a run of 13-24 keeps 1-12)."""
    if not text:
        return {}
    m = re.search(re.escape(_DATA_BEGIN) + r"\n(.*?)\n?" + re.escape(_DATA_END), text, re.S)
    if not m:
        return {}
    rows = {}
    for line in m.group(1).splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            row = json.loads(line)
            rows[int(row["instance"])] = row
        except (ValueError, KeyError, TypeError):
            continue
    return rows


def _row_result(row: dict) -> CurtoisResult:
    known = {f for f in CurtoisResult.__dataclass_fields__}
    return CurtoisResult(**{k: v for k, v in row.items() if k in known})


def curtois_section(results: Sequence[CurtoisResult], command: str, out_dir: Path,
                    kept: Sequence[CurtoisResult] = (), info: RunInfo | None = None) -> str:
    out = [run_header(TITLES["curtois"], command, info)]
    try:
        where = Path(out_dir).resolve().relative_to(ROOT)
    except ValueError:
        where = Path(out_dir)
    out.append(
        f"Every instance is mapped with `to_problem` and solved with `SolveOptions(time_limit=T, "
        f"workers={WORKERS}, coverage_first=True)`; the roster is scored by the independent evaluator "
        f"`benchmarks.curtois.evaluate` (the README's rules, no solver code), which must find zero "
        f"violations and the same objective as the solver. Rosters: `{where}/InstanceN.csv`. Ratio = "
        "objective / best known (1.000 = best known reached). *Best at* is the elapsed time of the "
        "last improving schedule. The published 10-minute results (Curtois & Qu 2014, Rahimian et al. "
        "2017; other hardware, 10 minutes rather than T) are the best of Gurobi, the ejection chain "
        "and the IP+VNS hybrid, where the README lists them. *Bound* is the proven lower bound the "
        "solve returned: the better of CP-SAT's own and the linear relaxation's (`solver.relaxation`, "
        "solved beside the search within half the time limit); rows run before 2026-12-02 have "
        "CP-SAT's alone (0 or none for the neighbourhood search).\n"
    )
    this_run = {r.instance for r in results}
    merged = sorted([*results, *(k for k in kept if k.instance not in this_run)], key=lambda r: r.instance)
    if len(merged) > len(results):
        others = sorted({r.instance for r in merged} - this_run)
        out.append(
            f"This run solved instances {ranges_text(sorted(this_run))}; the rows of "
            f"{ranges_text(others)} are kept from earlier runs (see their date and commit).\n"
        )
    rows = []
    for r in merged:
        if r.objective is None:
            check = "-"
        elif r.consistent:
            check = "0 / yes"
        else:
            check = f"**{r.violations} / {'yes' if r.objective == r.solver_objective else 'NO'}**"
        rows.append([
            str(r.instance),
            f"{r.days} / {r.staff} / {r.shift_types}",
            f"{r.time_limit:g}",
            r.status,
            r.method or "-",
            _num(r.objective),
            _num(r.best_known),
            "-" if r.ratio is None else (f"{r.ratio:.3f}" if not r.violations else "invalid"),
            _num(r.bound),
            _secs(r.first_solution),
            _secs(r.time_to_best) if r.objective is not None else "-",
            check,
            _published(r.instance),
            f"{r.date} {r.commit}".strip(),
        ])
    out.append(
        _table(
            ["inst", "days / staff / types", "T s", "status", "method", "objective", "best known", "ratio",
             "bound", "first s", "best at s", "violations / solver agrees", "best published 10 min", "run"],
            rows,
            align="lrrllrrrrrrlrl",
        )
    )
    solved = [r for r in merged if r.ratio is not None and r.violations == 0]
    invalid = [r.instance for r in merged if r.objective is not None and r.violations]
    if invalid:
        out.append(
            f"\n**Rosters that break hard rules (not results): {ranges_text(invalid)}.** The solver returned "
            "them as schedules; the independent evaluator lists the broken rules.\n"
        )
    if solved:
        at_best = [r.instance for r in solved if r.objective <= (r.best_known or 0)]
        far = [f"{r.instance} ({r.ratio:.2f})" for r in solved if r.ratio > 1.10]
        missing = [r.instance for r in merged if r.objective is None or r.violations]
        geo = statistics.geometric_mean([r.ratio for r in solved])
        out.append(
            f"\nBest known reached on {len(at_best)} of {len(merged)}"
            + (f" ({ranges_text(at_best)})" if at_best else "")
            + f"; geometric mean ratio {geo:.3f} over the {len(solved)} with a valid roster"
            + (f"; more than 10% above best known: {', '.join(far)}" if far else "")
            + (f"; no valid roster: {ranges_text(missing)}" if missing else "")
            + "."
        )
    out.append(
        "\nTo run the large instances (13-24, 600 s each, about two hours on two cores) and keep the rows "
        "above: `.venv/bin/python -m benchmarks.bench --only curtois --instances 13-24` or "
        "`rota bench curtois --instances 13-24 --time-limit 600`.\n"
    )
    out.append(_DATA_BEGIN)
    for r in merged:
        row = {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(r).items()}
        out.append(json.dumps(row, sort_keys=True))
    out.append(_DATA_END)
    return "\n".join(out)


def ranges_text(numbers: Sequence[int]) -> str:
    """[1, 2, 3, 5] -> "1-3, 5"."""
    out: list[str] = []
    nums = sorted(numbers)
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ", ".join(out)


def run_curtois(numbers: Sequence[int], doc: Path, command: str, *, out_dir: Path = ROSTERS,
                data_dir: Path = CURTOIS_DATA, time_limit: float | None = None,
                small_limit: float = SMALL_TIME_LIMIT, large_limit: float = LARGE_TIME_LIMIT,
                echo: Echo = _echo) -> list[CurtoisResult]:
    """Solve ``numbers``, write their rosters and update the curtois section of ``doc`` (rows of other
    instances from an earlier run are kept)."""
    missing = [n for n in numbers if not (Path(data_dir) / f"Instance{n}.txt").is_file()]
    if missing:
        raise FileNotFoundError(
            f"no Instance{missing[0]}.txt in {data_dir} (set ROTA_CURTOIS_DIR or pass the data directory)"
        )
    info = RunInfo.now()
    results = []
    previous = section_body(doc.read_text(encoding="utf-8"), "curtois") if doc.exists() else None
    kept = [_row_result(row) for row in _load_curtois_rows(previous).values()]
    for n in numbers:
        limit = time_limit if time_limit is not None else default_time_limit(n, small_limit, large_limit)
        r = solve_curtois(n, limit, out_dir, data_dir)
        echo(_curtois_line(r))
        results.append(r)
        # after every instance, so a run that is stopped half-way still leaves its figures
        update_document(doc, "curtois", curtois_section(results, command, out_dir, kept, info))
    return results


# --------------------------------------------------------------------------------------------------
# resolve (issue 5)


def run_resolve(fast: bool, doc: Path, command: str, echo: Echo = _echo) -> str:
    """The re-solve benchmark (:func:`benchmarks.replan.run`), written to the document's resolve section."""
    from benchmarks import replan

    info = RunInfo.now()
    markdown = replan.run(fast=fast)
    update_document(doc, "resolve", run_header(TITLES["resolve"], command, info) + "\n" + markdown.strip())
    echo("resolve: done")
    return markdown


def run_pages(doc: Path, command: str, echo: Echo = _echo):
    from benchmarks import pages

    info = RunInfo.now()
    result = pages.bench_pages()
    for p in result.pages:
        echo(f"pages    {p.label:<10} median {p.median:.0f} ms, max {p.worst:.0f} ms")
    update_document(doc, "pages", pages.section(result, run_header(TITLES["pages"], command, info)))
    return result


def run_fairness(doc: Path, command: str, echo: Echo = _echo) -> list:
    """The fair-hours benchmark (:mod:`benchmarks.fairness`), written to the fairness section."""
    from benchmarks import fairness

    info = RunInfo.now()
    results = fairness.run_sizes(echo=echo)
    body = fairness.markdown(results, {(v, d): t for v, d, t in fairness.SIZES})
    update_document(doc, "fairness", run_header(TITLES["fairness"], command, info) + "\n" + body.strip())
    return results


def run_portfolios(doc: Path, command: str, data_dir: Path, echo: Echo = _echo) -> list[dict]:
    """The portfolio comparison (:mod:`benchmarks.portfolios`), written to the portfolios section."""
    from benchmarks import portfolios

    info = RunInfo.now()
    rows = portfolios.run(CURTOIS_SMALL, portfolios.TIME_LIMIT, data_dir, echo=echo)
    body = portfolios.markdown(rows, portfolios.TIME_LIMIT)
    update_document(doc, "portfolios", run_header(TITLES["portfolios"], command, info) + "\n" + body.strip())
    return rows


def run_limits(doc: Path, command: str, echo: Echo = _echo) -> list[dict]:
    """The time-limit benchmark (:mod:`benchmarks.limits`), written to the limits section."""
    from benchmarks import limits

    info = RunInfo.now()
    rows = limits.run(echo=echo)
    body = limits.markdown(rows)
    update_document(doc, "limits", run_header(TITLES["limits"], command, info) + "\n" + body.strip())
    return rows


def run_horizon(doc: Path, command: str, echo: Echo = _echo):
    """The long-horizon benchmark (:mod:`benchmarks.horizon`), written to the horizon section."""
    from benchmarks import horizon

    info = RunInfo.now()
    result = horizon.bench(echo=echo)
    body = horizon.markdown(result)
    update_document(doc, "horizon", run_header(TITLES["horizon"], command, info) + "\n" + body.strip())
    return result


TITLES = {
    "scenarios": "Generated scenarios (issue 3)",
    "checker": "Checker, explainer and compiler",
    "curtois": "Curtois & Qu benchmark (issue 6)",
    "resolve": "Re-solve (issue 5)",
    "fairness": "Fair hours (issue 13)",
    "pages": "Console page render times (issue 10)",
    "residents": "Vulnerable residents: matching and visits on the rota (issue 12)",
    "horizon": "Long horizon: 200 volunteers x 12 weeks (issue 13)",
    "portfolios": "Worker portfolios on Curtois 1-12 (issue 15)",
    "limits": "The time limit holds (issue 15)",
}


# --------------------------------------------------------------------------------------------------
# Command line


def run_residents(doc: Path, command: str, echo: Echo = _echo):
    """The residents benchmark (:mod:`benchmarks.residents`), written to the residents section."""
    from benchmarks import residents

    info = RunInfo.now()
    result = residents.bench_residents()
    echo(f"residents: {result.total_seconds:.0f} s, {result.violations} violations, "
         f"{result.visits_uncovered} of {result.visits} visits uncovered, {result.at_risk} residents at risk")
    header = run_header(TITLES["residents"], command, info)
    update_document(doc, "residents", residents.section(result, header))
    return result


def pages_site() -> str:
    from benchmarks.pages import REPEATS, SITE

    return f"{SITE[0]} x {SITE[1]}d, {REPEATS} fetches each"


def _parse_only(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in SECTIONS]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"unknown benchmark {', '.join(map(repr, bad)) or repr(text)} (choose from {', '.join(SECTIONS)})"
        )
    return names


def _instances_arg(text: str) -> list[int]:
    try:
        return parse_instances(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench",
        description="Run the solver benchmarks and write docs/BENCHMARKS.md.",
        epilog="Instances 13-24 take 600 s each: --only curtois --instances 13-24 (rows of 1-12 are kept).",
    )
    parser.add_argument("--only", type=_parse_only, metavar="|".join(SECTIONS),
                        help="run only these benchmarks (comma-separated); other sections are kept")
    parser.add_argument("--quick", action="store_true",
                        help="scenarios up to 200 volunteers, Curtois 1-12, fast re-solve benchmark")
    parser.add_argument("--instances", type=_instances_arg, metavar="RANGE",
                        help="Curtois instances, e.g. 1-12, 1,3,5 (default 1-24, or 1-12 with --quick)")
    parser.add_argument("--time-limit", type=_positive, metavar="S",
                        help="Curtois: seconds per instance for every instance (overrides the two below)")
    parser.add_argument("--small-time-limit", type=_positive, default=SMALL_TIME_LIMIT, metavar="S",
                        help=f"Curtois: seconds for instances 1-12 (default {SMALL_TIME_LIMIT:g})")
    parser.add_argument("--large-time-limit", type=_positive, default=LARGE_TIME_LIMIT, metavar="S",
                        help=f"Curtois: seconds for instances 13-24 (default {LARGE_TIME_LIMIT:g})")
    parser.add_argument("--out", type=Path, default=ROSTERS, metavar="DIR",
                        help="where the Curtois rosters go (default docs/curtois-rosters)")
    parser.add_argument("--doc", type=Path, default=DOC, metavar="FILE",
                        help="the document to update (default docs/BENCHMARKS.md)")
    parser.add_argument("--data", type=Path, default=CURTOIS_DATA, metavar="DIR",
                        help="directory of Instance1.txt .. Instance24.txt (env ROTA_CURTOIS_DIR)")
    args = parser.parse_args(argv)

    only = args.only or list(SECTIONS)
    command = "python -m benchmarks.bench " + " ".join(sys.argv[1:] if argv is None else argv)
    command = command.strip()
    if "curtois" in only or "portfolios" in only:
        if args.out.exists() and not args.out.is_dir():
            parser.error(f"--out: {args.out} is not a directory")
        if not args.data.is_dir():
            parser.error(f"--data: {args.data} is not a directory (the Curtois instances are not there)")
    started = time.perf_counter()
    ok = True
    for name in SECTIONS:
        if name not in only:
            continue
        if name == "scenarios":
            volunteers = SCENARIO_VOLUNTEERS_QUICK if args.quick else SCENARIO_VOLUNTEERS
            sizes = [(v, d) for v in volunteers for d in SCENARIO_DAYS]
            _echo(f"== scenarios: {len(sizes)} sites, {SCENARIO_TIME_LIMIT:g} s each")
            run_scenarios(sizes, args.doc, command)
        elif name == "checker":
            _echo(f"== checker: {', '.join(f'{v} x {d}d' for v, d in CHECKER_SITES)}")
            run_checker(CHECKER_SITES, args.doc, command)
        elif name == "curtois":
            numbers = args.instances or list(CURTOIS_SMALL if args.quick else CURTOIS_ALL)
            _echo(f"== curtois: instances {ranges_text(numbers)}")
            results = run_curtois(
                numbers, args.doc, command, out_dir=args.out, data_dir=args.data, time_limit=args.time_limit,
                small_limit=args.small_time_limit, large_limit=args.large_time_limit,
            )
            bad = [r.instance for r in results if r.objective is not None and not r.consistent]
            if bad:
                ok = False
                _echo(f"!! evaluator disagrees or finds violations on instances {ranges_text(bad)}")
        elif name == "resolve":
            _echo("== resolve")
            run_resolve(args.quick, args.doc, command)
        elif name == "fairness":
            _echo("== fairness: 60 x 14 days, seeds 1-3, three runs each")
            run_fairness(args.doc, command)
        elif name == "pages":
            _echo(f"== pages: Today, Rota grid, People on {pages_site()}")
            run_pages(args.doc, command)
        elif name == "residents":
            _echo("== residents: 200 volunteers x 28 days, 120 residents, matching + rota in 60 s")
            result = run_residents(args.doc, command)
            ok = ok and result.violations == 0 and result.match_violations == 0
        elif name == "portfolios":
            _echo("== portfolios: Curtois 1-12, three portfolios, 20 s each")
            run_portfolios(args.doc, command, args.data)
        elif name == "limits":
            _echo("== limits: solve's wall time against its limit")
            run_limits(args.doc, command)
        elif name == "horizon":
            _echo("== horizon: 200 x 84 days, 300 s")
            run_horizon(args.doc, command)
    _echo(f"done in {time.perf_counter() - started:.0f}s; written to {args.doc}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
