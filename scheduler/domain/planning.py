"""Planning a schedule: compile a scenario, solve it, and report the result."""

from __future__ import annotations

import threading
from collections.abc import Callable

from scheduler.domain.compile import Compiled
from scheduler.domain.report import build_schedule
from scheduler.domain.schedule import Schedule
from solver.options import Progress, SolveOptions
from solver.solve import solve


def plan(
    compiled: Compiled,
    *,
    time_limit: float = 30.0,
    workers: int = 2,
    seed: int = 0,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> Schedule:
    """Solve a compiled scenario within the time limit; uncovered demand is part of the result."""
    options = SolveOptions(
        time_limit=time_limit, workers=workers, seed=seed, on_progress=on_progress, stop=stop
    )
    solution = solve(compiled.problem, options)
    return build_schedule(compiled, solution, time_limit=time_limit, workers=workers, seed=seed)
