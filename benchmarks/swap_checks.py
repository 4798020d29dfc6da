"""The rules of a swap inside a request (issue 14): checking a give-away against the published schedule
on the whole site (as every offer, acceptance and claim did: ``swaps.published(session, site)``, a
compile of every volunteer) vs on the slice of the site it needs (the two people, everyone on the slot,
every slot: ``swaps.published(session, site, people, crews)``).

A generated site (``benchmarks.pages.published_site``: greedy schedule published as version 1) in a
fresh SQLite database; each repeat picks a published shift, its holder and another volunteer, and times
both checks in the service's session, reading the rows included (the whole site reads every volunteer's
rows, ``sites.export_scenario``, timed on its own; the slice only its people's). The two verdicts are
compared each time.

``--candidates``: "who could take my shift" (the volunteer's offer page asks it twice, for a give-away
and for a swap) as it was (the whole site compiled, ``swaps.takers`` on it) and as it is
(``swaps.takers_in_two_steps``: the site compiled without availability and health, then the slice of
the people left), each time checking the two lists are identical.

    .venv/bin/python -m benchmarks.swap_checks --volunteers 200 --days 28 --repeats 5
    .venv/bin/python -m benchmarks.swap_checks --volunteers 1000 --days 28 --repeats 3 --candidates

``--approval``: approving a give-away to someone who can take it, as the request did it on every site
(the slice check, then the whole site compiled, the changed schedule and the full checker before and
after: ``swaps._new_findings``) and as it does it over ``ROTA_INLINE_COMPILE_PAIRS`` (the slice check
only; the rest is the worker's). Publishing itself (the version row, the calendar sync) is not timed.

    .venv/bin/python -m benchmarks.swap_checks --volunteers 1000 --days 28 --repeats 3 --approval
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from benchmarks.pages import published_database


def bench(volunteers: int, days: int, repeats: int, seed: int = 1) -> dict:
    from scheduler.domain import swaps as domain
    from scheduler.services import swaps
    from scheduler.store.sites import export_scenario, get_site

    rng = random.Random(seed)
    times: dict[str, list[float]] = {"whole site": [], "slice": [], "reading every volunteer's rows": []}
    with published_database(volunteers, days, seed) as (sessions, site_id, schedule):
        people = sorted({a.volunteer for a in schedule.assignments})
        agreed = 0
        for _ in range(repeats):
            a = rng.choice(schedule.assignments)
            taker = rng.choice([p for p in people if p != a.volunteer])
            sid = f"{a.post}/{a.shift}/{a.date.isoformat()}"
            remove, add = [(a.volunteer, sid)], [(taker, sid)]
            with sessions() as session:
                site = get_site(session, site_id)
                t0 = time.perf_counter()
                export_scenario(session, site)
                times["reading every volunteer's rows"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                pub = swaps.published(session, site)
                whole = domain.change_problems(pub.compiled, pub.schedule, remove, add)
                times["whole site"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                pub = swaps.published(session, site, [a.volunteer, taker], [(a.post, a.shift, a.date)])
                part = domain.change_problems(pub.compiled, pub.schedule, remove, add)
                times["slice"].append(time.perf_counter() - t0)
                agreed += [b.message for b in whole] == [b.message for b in part]
    return {
        "volunteers": volunteers, "days": days, "assignments": len(schedule.assignments),
        "agreed": agreed, "repeats": repeats,
        "s": {k: (statistics.median(v), max(v)) for k, v in times.items()},
    }


def bench_candidates(volunteers: int, days: int, repeats: int, seed: int = 1) -> dict:
    from scheduler.domain import swaps as domain
    from scheduler.services import swaps
    from scheduler.store.sites import get_site

    rng = random.Random(seed)
    times: dict[str, list[float]] = {
        f"{kind}, {how}": [] for kind in ("give-away", "swap") for how in ("whole site", "two steps")
    }
    found: dict[str, list[int]] = {"give-away": [], "swap": []}
    with published_database(volunteers, days, seed) as (sessions, site_id, schedule):
        agreed = 0
        for _ in range(repeats):
            a = rng.choice(schedule.assignments)
            sid = f"{a.post}/{a.shift}/{a.date.isoformat()}"
            for swap, label in ((False, "give-away"), (True, "swap")):
                with sessions() as session:
                    site = get_site(session, site_id)
                    t0 = time.perf_counter()
                    pub = swaps.published(session, site)
                    before = domain.takers(pub.compiled, pub.schedule, a.volunteer, sid, swap=swap)
                    times[f"{label}, whole site"].append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    pub = swaps.published(session, site, access_limits=False)

                    def exact(people, session=session, site=site):
                        part = swaps.published(session, site, people)
                        return part.compiled, part.schedule

                    after = domain.takers_in_two_steps(
                        pub.compiled, pub.schedule, exact, a.volunteer, sid, swap=swap
                    )
                    times[f"{label}, two steps"].append(time.perf_counter() - t0)
                    agreed += before == after
                    found[label].append(len(after))
    return {
        "volunteers": volunteers, "days": days, "assignments": len(schedule.assignments),
        "agreed": agreed, "repeats": 2 * repeats, "found": found,
        "s": {k: (statistics.median(v), max(v)) for k, v in times.items()},
    }


def bench_approval(volunteers: int, days: int, repeats: int, seed: int = 1) -> dict:
    from scheduler.domain import swaps as domain
    from scheduler.services import swaps
    from scheduler.store.sites import get_site

    rng = random.Random(seed)
    times: dict[str, list[float]] = {
        "slice check (request, large site)": [], "slice + whole site (worker)": [],
    }
    with published_database(volunteers, days, seed) as (sessions, site_id, schedule):
        done = tries = 0
        while done < repeats and tries < 50 * repeats:  # a shift somebody else could take
            tries += 1
            a = rng.choice(schedule.assignments)
            sid = f"{a.post}/{a.shift}/{a.date.isoformat()}"
            with sessions() as session:
                site = get_site(session, site_id)
                pub = swaps.published(session, site)
                found = domain.takers(pub.compiled, pub.schedule, a.volunteer, sid)
                if not found:
                    continue
                remove, add = [(a.volunteer, sid)], [(found[0].volunteer, sid)]
                t0 = time.perf_counter()
                people = [a.volunteer, found[0].volunteer]
                part = swaps.published(session, site, people, [(a.post, a.shift, a.date)])
                assert not domain.change_problems(part.compiled, part.schedule, remove, add)
                sliced = time.perf_counter() - t0
                whole = swaps.published(session, site)
                changed = domain.changed_schedule(whole.compiled, whole.schedule, remove, add)
                assert not swaps._new_findings(whole, changed)
                times["slice check (request, large site)"].append(sliced)
                times["slice + whole site (worker)"].append(time.perf_counter() - t0)
                done += 1
    return {
        "volunteers": volunteers, "days": days, "assignments": len(schedule.assignments),
        "agreed": done, "repeats": repeats,
        "s": {k: (statistics.median(v), max(v)) if v else (0.0, 0.0) for k, v in times.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--volunteers", type=int, default=200)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--candidates", action="store_true", help="time who could take a shift instead")
    parser.add_argument("--approval", action="store_true", help="time an approval's checks instead")
    args = parser.parse_args()
    run = bench_candidates if args.candidates else bench_approval if args.approval else bench
    r = run(args.volunteers, args.days, args.repeats)
    what = "lists" if args.candidates else "clean approvals" if args.approval else "verdicts"
    print(f"{r['volunteers']} volunteers x {r['days']} days, {r['assignments']} assignments; {what} agreed "
          f"{r['agreed']}/{r['repeats']}" + (f"; takers found {r['found']}" if "found" in r else ""))
    for label, (median, worst) in r["s"].items():
        print(f"  {label}: median {median:.3f} s, worst {worst:.3f} s")


if __name__ == "__main__":
    main()
