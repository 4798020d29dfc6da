"""Calendar sync after a one-person edit (issue 14): the whole site's events vs only those that show
the person (their own and their teammates' on the same shifts).

A generated site (``benchmarks.pages.published_site``: greedy schedule published as version 1) in a
fresh SQLite database, its events synced once; then each repeat renames one volunteer and syncs, in a
transaction that is rolled back, once for the whole site and once scoped to the volunteer.

    .venv/bin/python -m benchmarks.calendar_sync --volunteers 200 --days 28 --repeats 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time


def bench(volunteers: int, days: int, repeats: int, seed: int = 1) -> dict:
    from benchmarks.pages import published_database
    from scheduler.store import calendars
    from scheduler.store import volunteers as volunteer_store
    from scheduler.store.db import utcnow
    from scheduler.store.sites import get_site

    keep = dt.timedelta(days=14)

    def synced(session, site, schedule) -> None:
        calendars.sync_site(session, site, schedule, utcnow(), keep)

    with published_database(volunteers, days, seed, then=synced) as (sessions, site_id, schedule):
        with sessions() as session:
            events = len(calendars.states(session, site_id))
        people = sorted({a.volunteer for a in schedule.assignments})
        times: dict[str, list[float]] = {"whole site": [], "one volunteer": []}
        for i in range(repeats):
            key = people[i * 7 % len(people)]
            for label, scope in (("whole site", None), ("one volunteer", key)):
                with sessions() as session:
                    site = get_site(session, site_id)
                    row = volunteer_store.get_volunteer(session, site_id, key)
                    row.name = f"{row.name} (renamed {i})"
                    session.flush()
                    t0 = time.perf_counter()
                    calendars.sync_site(session, site, schedule, utcnow(), keep, volunteer=scope)
                    times[label].append((time.perf_counter() - t0) * 1000)
                    session.rollback()
    return {
        "volunteers": volunteers, "days": days, "events": events, "assignments": len(schedule.assignments),
        "ms": {k: (statistics.median(v), max(v)) for k, v in times.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--volunteers", type=int, default=200)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    result = bench(args.volunteers, args.days, args.repeats)
    print(f"{result['volunteers']} volunteers x {result['days']} days, {result['assignments']} assignments, "
          f"{result['events']} events")
    for label, (median, worst) in result["ms"].items():
        print(f"  sync after renaming one volunteer, {label}: median {median:.1f} ms, worst {worst:.1f} ms")


if __name__ == "__main__":
    main()
