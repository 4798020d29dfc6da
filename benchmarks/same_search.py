"""Same search, before and after a refactor: solve Curtois instances with one worker, a fixed seed and a
deterministic time limit, so two checkouts that search alike print the same objectives.

    python benchmarks/same_search.py PATH_OF_A_CHECKOUT      # e.g. a clone at an older commit
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parents[1]))

try:
    from benchmarks.curtois import parse_instance, to_problem
except ImportError:  # a checkout from before the benchmarks package
    from scheduler.curtois import parse_instance, to_problem
from solver.options import SolveOptions
from solver.solve import solve

DATA = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "curtois"

out = {}
for n in (1, 2, 3, 4, 6):
    problem = to_problem(parse_instance(DATA / f"Instance{n}.txt"))
    options = SolveOptions(time_limit=60, workers=1, seed=0, parameters={"max_deterministic_time": 3.0})
    solution = solve(problem, options)
    out[n] = (str(solution.status.value), solution.objective)
print(json.dumps(out))
