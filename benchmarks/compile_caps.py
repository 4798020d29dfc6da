"""The compile inside a request (issue 14): how long ``compile_scenario`` takes at the size caps.

Three request paths compile a whole solve before they answer, so that a coordinator hears at once what
cannot be planned: queueing a solve (``POST /sites/{id}/schedules``: :func:`scheduler.store.jobs.create_job`),
queueing a re-solve (``POST .../disruptions``, a health update with ``resolve=true``:
:mod:`scheduler.services.replan_jobs`) and the swap and open-shift checks against the published schedule
(:func:`scheduler.services.swaps.published`). The first two compile in the request only up to
``ROTA_INLINE_COMPILE_PAIRS``; the swap checks compile a slice of the site (``benchmarks.swap_checks``).
Each checks the size caps first
(:mod:`scheduler.domain.limits`: volunteers, posts, templates, days, volunteers x days), so their cost
is bounded by the compile of the largest site the caps let in. This times that compile on generated
sites up to the default cap of volunteers x days (200,000): wall time, the best of ``--repeat`` runs
after a cold one, one process.

``python -m benchmarks.compile_caps`` (prints a Markdown table).
"""

from __future__ import annotations

import argparse
import sys
import time

from scheduler.domain.limits import DEFAULT

#: (volunteers, days): the 200 x 28 site of the other benchmarks, then sites at the volunteer-days cap
CASES = ((200, 28), (1000, 28), (2000, 28), (1000, 100), (2000, 100), (546, 366))


def measure(volunteers: int, days: int, repeat: int) -> dict:
    from scheduler.domain.compile import compile_scenario
    from scheduler.domain.generate import generate
    from scheduler.domain.limits import check_size

    scenario = generate(volunteers, days, 1)
    check_size(scenario, DEFAULT, days=days, source="benchmark")  # inside the caps, as a request must be
    times = []
    for _ in range(1 + repeat):
        started = time.perf_counter()
        compiled = compile_scenario(scenario)
        times.append(time.perf_counter() - started)
    problem = compiled.problem
    return {"volunteers": volunteers, "days": days, "shifts": len(problem.shifts),
            "posts": len(scenario.posts), "cold": times[0], "best": min(times[1:] or times)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--max-volunteer-days", type=int, default=DEFAULT.volunteer_days)
    args = parser.parse_args(argv)
    print("| site | volunteers x days | posts | shifts | compile, cold s | compile, best s |")
    print("|---|---:|---:|---:|---:|---:|")
    for volunteers, days in CASES:
        if volunteers * days > args.max_volunteer_days:
            continue
        r = measure(volunteers, days, args.repeat)
        print(f"| {volunteers} x {days} d | {volunteers * days:,} | {r['posts']} | {r['shifts']:,} | "
              f"{r['cold']:.2f} | {r['best']:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
