"""Console page render times (issue 10): Today, the rota grid and People on a 200-volunteer, 28-day site.

The site is generated (``scheduler.domain.generate.generate``) starting today in its zone, given the
greedy start schedule (``solver.greedy.greedy`` + ``scheduler.domain.report.build_schedule``: the pages
need a published schedule, not a good one), published as version 1 straight into a fresh migrated SQLite
database, and each page is fetched ``repeats`` times through a ``TestClient`` signed in to the console
(so the time is the whole request: session and CSRF checks, the store reads, the views, Jinja2 and Babel).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

#: (path, label) of the pages timed
PAGES = (("/console/today", "Today"), ("/console/rota", "Rota grid"), ("/console/people", "People"))
SITE = (200, 28)
SEED = 1
REPEATS = 20
TARGET_MS = 300.0

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class PageTiming:
    path: str
    label: str
    times_ms: list[float]
    size: int  # bytes of the last response

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def worst(self) -> float:
        return max(self.times_ms)


@dataclass
class PagesResult:
    volunteers: int
    days: int
    assignments: int
    uncovered: int
    setup_s: float
    pages: list[PageTiming]


def published_site(session, volunteers: int, days: int, seed: int, now: dt.datetime):
    """A generated site starting today (its zone) with the greedy schedule published as version 1.
    Returns (site row, schedule); the caller commits."""
    from scheduler.domain.compile import compile_scenario
    from scheduler.domain.generate import generate
    from scheduler.domain.report import build_schedule
    from scheduler.store import sites
    from scheduler.store.schedules import ScheduleVersionRow
    from solver import validate
    from solver.greedy import greedy
    from solver.problem import Solution, Status

    zone = "Asia/Shanghai"
    start = now.astimezone(ZoneInfo(zone)).date()
    scenario = generate(volunteers, days, seed, start=start, timezone=zone)
    compiled = compile_scenario(scenario)
    problem = compiled.problem
    assignments = tuple(greedy(problem, seed=0))
    shortfalls = tuple(validate.expected_shortfalls(problem, assignments))
    solution = Solution(Status.FEASIBLE, assignments, shortfalls)
    schedule = build_schedule(compiled, solution)
    site = sites.import_scenario(session, scenario, now)
    session.flush()
    row = ScheduleVersionRow(
        site_id=site.id, number=1, job_id=None, published_at=now, horizon_start=schedule.start,
        horizon_days=schedule.days, schedule=schedule.model_dump(mode="json"),
    )
    session.add(row)
    site.published_version = 1
    session.flush()
    return site, schedule


@contextlib.contextmanager
def published_database(volunteers: int, days: int, seed: int, then=None):
    """(sessions, site id, schedule) of a generated site with its greedy schedule published
    (:func:`published_site`), in a throwaway SQLite database; ``then(session, site, schedule)``, if
    given, runs before that is committed (e.g. the calendar sync)."""
    from scheduler.store.db import make_engine, make_sessions, upgrade, utcnow

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        sessions = make_sessions(engine)
        with sessions() as session:
            site, schedule = published_site(session, volunteers, days, seed, utcnow())
            if then is not None:
                then(session, site, schedule)
            session.commit()
            site_id = site.id
        try:
            yield sessions, site_id, schedule
        finally:
            engine.dispose()


def sign_in(client, token: str) -> None:
    """Sign ``client`` (a TestClient, cookies kept) in to the console with ``token``."""
    page = client.get("/console/sign-in")
    match = _CSRF.search(page.text)
    if page.status_code != 200 or not match:
        raise RuntimeError(f"sign-in page: {page.status_code}")
    response = client.post(
        "/console/sign-in", data={"csrf": match.group(1), "token": token, "next": "/console/today"}
    )
    if response.status_code != 200 or "rota_console" not in client.cookies:
        raise RuntimeError(f"sign-in refused: {response.status_code}")


def bench_pages(volunteers: int = SITE[0], days: int = SITE[1], repeats: int = REPEATS,
                seed: int = SEED, directory: Path | None = None) -> PagesResult:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from scheduler.settings import Settings
    from scheduler.store import access
    from scheduler.store.db import make_engine, upgrade, utcnow

    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        url = f"sqlite:///{Path(tmp) / 'pages.db'}"
        started = time.perf_counter()
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        settings = Settings(database_url=url, auto_migrate=False, public_url="http://testserver")
        app = create_app(settings)
        with TestClient(app) as client:  # runs the app's lifespan (app.state.sessions)
            with app.state.sessions() as session:
                now = utcnow()
                site, schedule = published_site(session, volunteers, days, seed, now)
                token = access.create_api_token(session, site.id, "bench", now)
                session.commit()
            setup_s = time.perf_counter() - started
            sign_in(client, token)
            timings = []
            for path, label in PAGES:
                warm = client.get(path)  # the first call compiles the templates: not counted
                if warm.status_code != 200:
                    raise RuntimeError(f"{path}: {warm.status_code}")
                times = []
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - t0) * 1000)
                    if response.status_code != 200:
                        raise RuntimeError(f"{path}: {response.status_code}")
                timings.append(PageTiming(path, label, times, len(response.content)))
        missing = sum(u.missing for u in schedule.uncovered)
        return PagesResult(volunteers, days, len(schedule.assignments), missing, setup_s, timings)


def _table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table, the first column left, the others right (as ``benchmarks.bench``'s; not imported
    from there: ``bench`` runs this module)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def section(result: PagesResult, header: str, repeats: int = REPEATS) -> str:
    out = [header]
    out.append(
        f"A generated site of {result.volunteers} volunteers over {result.days} days (seed {SEED}) starting "
        f"today, with the greedy start schedule ({result.assignments:,} assignments, {result.uncovered} "
        "places short) published as version 1 in a fresh SQLite database; each page fetched "
        f"{repeats} times through a `TestClient` signed in to the console, after one uncounted warm-up "
        f"fetch. Whole request (session, store reads, views, Jinja2, Babel), in milliseconds. Aim: under "
        f"{TARGET_MS:g} ms each. Setup (migrate, generate, greedy, publish): {result.setup_s:.1f} s.\n"
    )
    rows = []
    for p in result.pages:
        ok = "yes" if p.worst < TARGET_MS else ("median only" if p.median < TARGET_MS else "no")
        rows.append([f"{p.label} (`{p.path}`)", f"{p.median:.0f}", f"{p.worst:.0f}",
                     f"{p.size / 1024:.0f} KiB", ok])
    out.append(_table(["page", "median ms", "max ms", "page size", f"under {TARGET_MS:g} ms"], rows))
    return "\n".join(out)
