"""Load test (issue 14): calendar feed reads and API writes against PostgreSQL, on loopback, bounded.

``python -m benchmarks.load --database-url postgresql://...`` (a throwaway database: it is emptied
and migrated): a generated site (200 volunteers, 28 days, the greedy schedule published and its
calendar events synced) gets a feed token per volunteer and a coordinator token; then
two uvicorn processes serve it on one port of 127.0.0.1, each on its own socket (SO_REUSEPORT, see
:func:`start_server`), and an open-loop client sends, for
``--seconds`` (60), ``--reads`` (1,000) feed reads a second spread over every volunteer's feed and
``--writes`` (100) API writes a second (a health record of a random volunteer: ``POST
/sites/{id}/volunteers/{v}/health``, status fit, in the past), over a fixed set of keep-alive
connections (:data:`CONNECTIONS`, as wrk2 does). Requests leave on a fixed timetable,
whether or not earlier ones have answered, and each latency counts from the time its request was
due (so a slow server, or a client that falls behind, shows in the figures instead of being hidden:
no coordinated omission). An answer later than 5 s after its request was due is an error, and more
than 2,000 requests waiting counts as a drop, as does a request the client itself (sharing the cores)
would send more than 5 s late, so the run ends within its time and 5 s more. Before the timed run
every feed is read a few times over many connections, not counted: each server process renders a feed once
and serves it from its cache (``scheduler.domain.calendar.FEEDS``) until its events change.

Results: per stream, requests due and sent, answered, errors (by status or exception), p50 / p95 /
p99 / max latency, and the achieved rate; written to docs/BENCHMARKS.md (section ``load``) with the
machine, the load average and the commit. Not a unit test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

VOLUNTEERS, DAYS, SEED = 200, 28, 1
MAX_IN_FLIGHT = 2000
CONNECTIONS = 64  # the client's keep-alive connections (wrk2's -c)
TIMEOUT = 5.0  # seconds from the moment a request was due: later is an error
WARM_UP_ROUNDS = 2


@dataclass
class Stream:
    name: str
    rate: float
    due: int = 0
    sent: int = 0
    dropped: int = 0
    behind: int = 0  # not sent: the client itself fell more than TIMEOUT behind its timetable
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    started: float = 0.0
    ended: float = 0.0

    def percentile(self, q: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    @property
    def answered(self) -> int:
        return len(self.latencies_ms)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values()) + self.dropped + self.behind


def prepare(url: str) -> dict:
    """Empty and migrate the database, load and publish the site, make the tokens."""
    from sqlalchemy import MetaData, text

    from benchmarks.pages import published_site
    from scheduler.store import access, calendars, volunteers
    from scheduler.store.db import make_engine, make_sessions, upgrade, utcnow

    engine = make_engine(url)
    with engine.begin() as conn:  # a throwaway database: start from nothing
        meta = MetaData()
        meta.reflect(conn)
        meta.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(engine)
    sessions = make_sessions(engine)
    with sessions() as session:
        now = utcnow()
        site, schedule = published_site(session, VOLUNTEERS, DAYS, SEED, now)
        calendars.sync_site(session, site, schedule, now, dt.timedelta(days=7))
        token = access.create_api_token(session, site.id, "load test", now)
        feeds, keys = [], []
        for row in volunteers.list_volunteers(session, site.id):
            feeds.append(access.rotate_feed_token(session, access.Feed(site.id, volunteer_id=row.id), now))
            keys.append(row.key)
        events = session.scalar(
            text("SELECT count(*) FROM calendar_events WHERE site_id = :s"), {"s": site.id}
        )
        session.commit()
        site_id = site.id
    engine.dispose()
    return {"site": site_id, "token": token, "feeds": feeds, "volunteers": keys, "events": events,
            "assignments": len(schedule.assignments)}


def _say(text: str) -> None:
    print(f"load: {text}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, workers: int) -> list[subprocess.Popen]:
    """``workers`` uvicorn processes on 127.0.0.1:``port``, each with a listening socket of its own
    (SO_REUSEPORT), so that the kernel spreads new connections evenly across them. With uvicorn's
    ``--workers`` they share one socket and whichever process wakes first takes every connection waiting
    (uvloop accepts until none is left): a burst of keep-alive connections (this client's, or a reverse
    proxy's pool to its upstream) then lands on one process, whose GIL holds it to one core, while the
    other idles (measured: 64 of 64 connections on one process, 50% against 15% CPU)."""
    env = dict(os.environ, ROTA_DATABASE_URL=url, ROTA_ENV="development",
               ROTA_PUBLIC_URL=f"http://127.0.0.1:{port}", ROTA_AUTO_MIGRATE="false")
    from scheduler.cli.service import shared_port_socket

    servers = []
    for _ in range(workers):
        listener = shared_port_socket("127.0.0.1", port)  # as `rota serve --reuse-port` listens
        try:
            servers.append(subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app",
                 "--fd", str(listener.fileno()), "--no-access-log", "--log-level", "warning"],
                env=env, pass_fds=(listener.fileno(),),
                start_new_session=True,  # its own process group: stopped with anything it spawned
            ))
        finally:
            listener.close()  # the server process holds its own copy
    return servers


def start_workers(url: str, count: int) -> list[subprocess.Popen]:
    """``count`` job workers (``rota worker``) against the same database, as a deployment runs them: the
    writes queue no job, so they only poll the queue, the reminders and the webhooks, as idle workers do."""
    env = dict(os.environ, ROTA_DATABASE_URL=url, ROTA_ENV="development", ROTA_AUTO_MIGRATE="false",
               ROTA_PUBLIC_URL="http://127.0.0.1")
    return [subprocess.Popen([sys.executable, "-m", "scheduler.cli.main", "worker"], env=env,
                             start_new_session=True, stdout=subprocess.DEVNULL)
            for _ in range(count)]


def stop_server(server: subprocess.Popen) -> None:
    """Stop the server and its worker processes (a left-over worker would keep database connections
    open, and the next run's DROP TABLE would wait for them)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def wait_ready(base: str, seconds: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the service did not start")


class _Connection:
    """One keep-alive HTTP/1.1 connection of the client: a request written, its answer read whole. The
    load test's own client, in place of a general one (httpx cost more CPU per request than the server's
    cached feed read, on the same 2 cores): it sends prepared request bytes and reads only the status
    line, the headers it needs (``Content-Length``, ``Connection``) and that many body bytes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> tuple[int, bool]:
        """(status, whether the connection can be used again)."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, reusable = 0, True
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                reusable = False
            elif name == b"transfer-encoding":  # not sent by the service (every answer has a length)
                raise ValueError("chunked answer")
        if length:
            await self.reader.readexactly(length)
        return status, reusable

    def close(self) -> None:
        self.writer.close()


class _Client:
    """At most ``connections`` keep-alive connections to one server, opened as needed: a request that
    finds none idle waits for one (as wrk2 does: a fixed set of connections, requests paced by a
    timetable, latency counted from when each was due, so the wait shows in the figures). Opening a
    connection per waiting request instead makes an overloaded server also accept thousands of
    connections, and it collapses."""

    def __init__(self, host: str, port: int, connections: int) -> None:
        self.host, self.port = host, port
        self.idle: asyncio.Queue[_Connection | None] = asyncio.Queue()  # in turn: each stays warm
        for _ in range(connections):
            self.idle.put_nowait(None)  # a connection not opened yet
        self.opened = 0

    async def exchange(self, request: bytes) -> int:
        connection = await self.idle.get()
        try:
            if connection is not None:
                try:
                    status, reusable = await connection.exchange(request)
                except (asyncio.IncompleteReadError, ConnectionError):
                    # the server closed it while it was idle (its keep-alive timeout): open another and
                    # send the request again, as HTTP clients do for an idempotent or unanswered request
                    connection.close()
                    connection = None
            if connection is None:
                reader, writer = await asyncio.open_connection(self.host, self.port)
                connection = _Connection(reader, writer)
                self.opened += 1
                status, reusable = await connection.exchange(request)
        except BaseException:  # a timeout or a broken connection: its state is unknown, so it is closed
            if connection is not None:
                connection.close()
            self.idle.put_nowait(None)
            raise
        if not reusable:
            connection.close()
            connection = None
        self.idle.put_nowait(connection)
        return status

    def close(self) -> None:
        while not self.idle.empty():
            connection = self.idle.get_nowait()
            if connection is not None:
                connection.close()


def _get(path: str, host: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def _post(path: str, host: str, token: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


async def _run(base: str, setup: dict, reads: float, writes: float, seconds: float,
               max_in_flight: int, timeout: float, on_timed=lambda sign: None,
               connections: int = CONNECTIONS) -> list[Stream]:
    rng = random.Random(SEED)
    host_port = base.removeprefix("http://")
    host, port = host_port.rsplit(":", 1)
    client = _Client(host, int(port), connections)
    streams = [Stream("feed reads", reads), Stream("API writes", writes)]
    in_flight = 0
    day = (dt.date.today() - dt.timedelta(days=400)).isoformat()
    body = json.dumps({"status": "fit", "from": day, "until": day}).encode()
    feeds = [_get(f"/calendar/{feed}.ics", host_port) for feed in setup["feeds"]]
    health = [_post(f"/sites/{setup['site']}/volunteers/{v}/health", host_port, setup["token"], body)
              for v in setup["volunteers"]]

    async def one(stream: Stream, due: float, request: bytes) -> None:
        nonlocal in_flight
        in_flight += 1
        try:
            async with asyncio.timeout_at(asyncio.get_running_loop().time() + due + timeout
                                          - time.perf_counter()):
                status = await client.exchange(request)
            if status >= 400:
                stream.errors[str(status)] += 1
            else:
                stream.latencies_ms.append((time.perf_counter() - due) * 1000)
        except TimeoutError:
            stream.errors[f"no answer in {timeout:g} s"] += 1
        except Exception as exc:  # a refused or broken connection is an error, not a crash
            stream.errors[type(exc).__name__] += 1
        finally:
            in_flight -= 1

    async def drive(stream: Stream, t0: float, choices: list[bytes]) -> None:
        total = int(stream.rate * seconds)
        stream.started = t0
        tasks = []
        for i in range(total):
            due = t0 + i / stream.rate
            delay = due - time.perf_counter()
            await asyncio.sleep(max(0.0, delay))  # always yield: a client behind its timetable too
            stream.due += 1
            if delay < -timeout:  # already late past the deadline before it leaves: the client
                # (sharing the cores) has fallen behind; not sent, so the run still ends in time
                stream.behind += 1
                continue
            if in_flight >= max_in_flight:
                stream.dropped += 1
                continue
            stream.sent += 1
            tasks.append(asyncio.create_task(one(stream, due, rng.choice(choices))))
        done, late = await asyncio.wait(tasks, timeout=timeout + 5) if tasks else (set(), set())
        for task in late:  # a request stuck past every deadline: cancelled, counted as unanswered
            task.cancel()
            stream.errors["stuck"] += 1
        stream.ended = time.perf_counter()

    try:
        # warm-up, not counted: every feed read a few times (each server process renders a feed once,
        # then serves it from its cache until its events change)
        warm = time.perf_counter()
        gate = asyncio.Semaphore(64)  # many connections: both server processes get their share

        async def warm_one(request: bytes) -> None:
            async with gate:
                with contextlib.suppress(OSError, ValueError, asyncio.IncompleteReadError):
                    await client.exchange(request)

        for _ in range(2 * WARM_UP_ROUNDS):
            await asyncio.gather(*(warm_one(feed) for feed in feeds))
        _say(f"warm-up: {time.perf_counter() - warm:.1f} s over {client.opened} connections; "
             f"{seconds:g} s of load")
        t0 = time.perf_counter() + 0.2
        on_timed(-1)
        await asyncio.gather(*(drive(s, t0, choices) for s, choices in zip(streams, (feeds, health),
                                                                           strict=True) if s.rate > 0))
        on_timed(+1)
        _say(f"{client.opened} connections opened in all")
    finally:
        client.close()
    return streams


def _cpu_of(pids: set[int]) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each of the processes ``pids`` that is still there
    (Linux' /proc; none elsewhere)."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def _children_of(parent: int) -> set[int]:
    """``parent`` and its child processes (the server's workers, or PostgreSQL's backends)."""
    found = {parent}
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                        found.add(int(entry.name))
    return found


def _postmaster(url: str) -> int | None:
    """The PostgreSQL server's process id, when it runs on this machine and its data directory is
    readable (``.ci/postgres.sh``'s is)."""
    from sqlalchemy import text

    from scheduler.store.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            data = conn.execute(text("SHOW data_directory")).scalar_one()
        return int(Path(data, "postmaster.pid").read_text().split()[0])
    except Exception:  # noqa: BLE001 - only a figure is missing
        return None
    finally:
        engine.dispose()


def _client_loop():
    """The client's event loop: uvloop's when it is installed (as for the server), which lets the one
    client process keep up with a higher rate on the shared cores; else asyncio's own."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        return None
    return uvloop.new_event_loop


def run_load(url: str, *, reads: float = 1000, writes: float = 100, seconds: float = 60,
             workers: int = 2, job_workers: int = 2, max_in_flight: int = MAX_IN_FLIGHT,
             connections: int = CONNECTIONS) -> dict:
    started = time.perf_counter()
    setup = prepare(url)
    setup_s = time.perf_counter() - started
    _say(f"site ready in {setup_s:.1f} s ({setup['events']} events); starting the service")
    port = _free_port()
    servers = start_server(url, port, workers)
    job_runners = start_workers(url, job_workers)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base)
        load_before = os.getloadavg()
        postmaster = _postmaster(url)
        cpu: dict[str, float] = {}
        started: dict[str, dict[int, float]] = {}

        def count(sign: int) -> None:
            """CPU seconds of the timed run alone, per process: at its end minus at its start (0 for a
            process started during the run; one that ended during it is not counted)."""
            groups = {"server": set().union(*(_children_of(s.pid) for s in servers)),
                      "job workers": {w.pid for w in job_runners},
                      "postgres": _children_of(postmaster) if postmaster else set()}
            for name, pids in groups.items():
                now = _cpu_of(pids)
                if sign < 0:
                    started[name] = now
                else:
                    cpu[name] = sum(v - started[name].get(pid, 0.0) for pid, v in now.items())
            cpu["client"] = cpu.get("client", 0.0) + sign * time.process_time()

        with asyncio.Runner(loop_factory=_client_loop()) as runner:
            streams = runner.run(_run(base, setup, reads, writes, seconds, max_in_flight, TIMEOUT,
                                      on_timed=count, connections=connections))
        load_after = os.getloadavg()
    finally:
        for runner in [*servers, *job_runners]:
            stop_server(runner)
    return {"setup": setup, "setup_s": setup_s, "streams": streams, "load_before": load_before,
            "load_after": load_after, "reads": reads, "writes": writes, "seconds": seconds,
            "workers": workers, "job_workers": job_workers, "cpu": cpu, "connections": connections}


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def section(result: dict, header: str) -> str:
    setup = result["setup"]
    out = [header]
    out.append(
        f"A generated site of {VOLUNTEERS} volunteers over {DAYS} days (seed {SEED}; the greedy schedule "
        f"published, {setup['assignments']:,} assignments, {setup['events']:,} calendar events), in "
        f"PostgreSQL (`.ci/postgres.sh`: fsync off) on the same machine; {result['workers']} uvicorn "
        f"processes (access log off), each on a socket of its own on one port of 127.0.0.1 (SO_REUSEPORT: "
        f"the kernel spreads the connections) and {result.get('job_workers', 0)} job workers "
        f"(`rota worker`, idle: the writes queue no job); one open-loop client process on the same 2 "
        f"cores (asyncio on uvloop, its own HTTP/1.1 client over {result.get('connections', CONNECTIONS)} "
        f"keep-alive connections). "
        f"Target: {result['reads']:,.0f} feed reads/s (a random volunteer's "
        f"feed of the {VOLUNTEERS}) and {result['writes']:,.0f} API writes/s "
        f"(`POST .../volunteers/{{v}}/health`) for {result['seconds']:g} s, after an uncounted warm-up "
        f"(every feed read {2 * WARM_UP_ROUNDS} times). "
        f"Latency counts from the moment each request was due; no answer within {TIMEOUT:g} s of that "
        f"is an error. Load average "
        f"before / after: {result['load_before'][0]:.2f} / {result['load_after'][0]:.2f}. "
        f"Setup (migrate, generate, greedy, publish, sync): {result['setup_s']:.1f} s.\n"
    )
    rows = []
    for s in result["streams"]:
        span = max(1e-9, s.ended - s.started)
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(s.errors.items())) or "none"
        if s.dropped:
            errors += f"; {s.dropped} not sent (over {MAX_IN_FLIGHT} waiting)"
        if s.behind:
            errors += f"; {s.behind:,} not sent (the client was over {TIMEOUT:g} s behind)"
        rows.append([
            s.name, f"{s.rate:,.0f}", f"{s.due:,}", f"{s.answered:,}", f"{s.answered / span:,.0f}",
            _ms(s.percentile(0.5)), _ms(s.percentile(0.95)), _ms(s.percentile(0.99)),
            _ms(max(s.latencies_ms) if s.latencies_ms else None), errors,
        ])
    header_row = ["stream", "target /s", "due", "answered", "achieved /s", "p50 ms", "p95 ms", "p99 ms",
                  "max ms", "errors"]
    lines = ["| " + " | ".join(header_row) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(header_row) - 2) + ["---"]) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    out.append("\n".join(lines) + "\n")
    cpu = result.get("cpu") or {}
    answered = sum(s.answered for s in result["streams"])
    if cpu and answered:
        parts = [f"{name} {seconds:.1f} s ({seconds / answered * 1000:.2f} ms per answered request)"
                 for name, seconds in cpu.items() if seconds > 0]
        out.append(f"CPU used during the timed {result['seconds']:g} s (of {2 * result['seconds']:g} "
                   f"core-seconds on 2 cores): " + ", ".join(parts) + ".\n")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("ROTA_TEST_POSTGRES_URL"),
                        help="a THROWAWAY PostgreSQL database (it is emptied); "
                        "default ROTA_TEST_POSTGRES_URL")
    parser.add_argument("--reads", type=float, default=1000)
    parser.add_argument("--writes", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn processes (one socket each)")
    parser.add_argument("--job-workers", type=int, default=2, help="`rota worker` processes beside it")
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help="the client's connections")
    parser.add_argument("--doc", type=Path, default=Path("docs/BENCHMARKS.md"))
    parser.add_argument("--no-doc", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if not args.database_url or not args.database_url.startswith("postgresql"):
        parser.error("--database-url postgresql://... is required (eval \"$(bash .ci/postgres.sh start)\")")
    if not 0 < args.seconds <= 300:
        parser.error("--seconds: 1 to 300 (the machine is shared)")
    from benchmarks.bench import RunInfo, run_header, update_document

    # SIGTERM (e.g. from `timeout`) ends the run through its finally blocks: the server is stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    info = RunInfo.now()
    result = run_load(args.database_url, reads=args.reads, writes=args.writes, seconds=args.seconds,
                      workers=args.workers, job_workers=args.job_workers, connections=args.connections)
    command = "python -m benchmarks.load " + " ".join(argv if argv is not None else sys.argv[1:])
    text = section(result, run_header("Load test: feeds and API writes (issue 14)", command, info))
    print(text)
    if not args.no_doc:
        update_document(args.doc, "load", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
