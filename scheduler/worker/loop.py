"""The solve worker: a separate process (``rota worker``) that runs queued jobs one at a time.

Any number of workers may run against the same database: a job is claimed atomically
(:func:`scheduler.store.jobs.claim_next`). While CP-SAT searches, a heartbeat thread writes the progress
(elapsed, incumbent objective, bound) to the job row about once a second and reads the row back: when
the job was cancelled (``DELETE``), or is no longer this worker's, it sets the ``stop`` event and the
search ends with the best schedule found so far. Every poll (throttled) also marks failed the running
jobs of workers that died (:func:`scheduler.store.jobs.reap_stale`).

A *re-solve* job (``kind = resolve``) runs :func:`scheduler.domain.replan.resolve` on the job's snapshot, the
published version it re-plans and its disruptions, with the same progress, heartbeat and cancellation;
:class:`~scheduler.domain.replan.ResolveFailed` ends it *failed* with the reason. Queued re-solves are taken
before full solves.

Beside the jobs, a thread of each worker (:class:`WebhookSender`) queues the shift reminders that are due
(:func:`scheduler.services.reminders.queue_due`), publishes the approved shift changes of sites too
large to check in the request (:func:`scheduler.services.swaps.publish_approved`) and delivers the
webhook events that are due (:func:`scheduler.store.webhooks.deliver_due`), so a long solve never holds
up an alert or an approved swap.

After a full solve that leaves slots short, the worker also works out the staffing advice
(:func:`scheduler.domain.advice.advise`, within :func:`advice_time_limit`) and stores it with the job:
the schedule's summary says how many volunteers would close the gaps, and ``GET .../advice`` reads it
without solving in the request. A failing advice never fails the job.

A job whose snapshot had a health record or a volunteer erased while it ran stores its result without
them (:func:`scheduler.services.health_data.without_late_erasures`, under the site lock every erasure
takes too).

A worker that is asked to stop (SIGINT/SIGTERM) stops its search and puts its job back in the queue,
with a note, for the next worker.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import os
import signal
import socket
import threading
import time
import uuid
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from scheduler.domain.advice import advise
from scheduler.domain.compile import ScenarioError, compile_scenario
from scheduler.domain.errors import NotFoundError
from scheduler.domain.planning import plan
from scheduler.domain.replan import NO_LONGER_FITS, NoLongerFits, ResolveFailed, resolve
from scheduler.domain.scenario import OLD_DATA, Scenario
from scheduler.domain.schedule import Schedule
from scheduler.services import health_data, reminders, retention, swaps, webhook_delivery
from scheduler.services.replan_jobs import DISRUPTIONS
from scheduler.settings import Settings
from scheduler.store import jobs
from scheduler.store import schedules as schedule_store
from scheduler.store.db import unit_of_work, utcnow
from solver.options import Progress

log = logging.getLogger("rota.worker")


class _Tracker:
    """Receives the solver's progress (from its callback thread) and keeps the latest."""

    def __init__(self, idle_phase: str = "") -> None:
        self.started = time.monotonic()
        self.latest: Progress | None = None
        self.idle_phase = idle_phase
        self.phase: str | None = None  # set after the search (e.g. "advice"): shown instead of the solver's

    def __call__(self, progress: Progress) -> None:
        self.latest = progress

    def snapshot(self) -> dict[str, Any]:
        p = self.latest
        out: dict[str, Any] = {"elapsed": round(time.monotonic() - self.started, 3)}
        if p is None:
            return out | {
                "objective": None, "bound": None, "gap": None, "solutions": 0,
                "phase": self.phase or self.idle_phase,
            }
        gap = None
        if p.objective and p.bound is not None:
            gap = max(0.0, (p.objective - p.bound) / abs(p.objective))
        return out | {
            "objective": p.objective,
            "bound": p.bound,
            "gap": gap,
            "solutions": p.solutions,
            "phase": self.phase or p.phase,
        }


def advice_time_limit(time_limit: float) -> float:
    """Seconds the staffing advice may take after a solve: a fifth of the solve's, 2 to 20."""
    return min(20.0, max(2.0, time_limit / 5))


class _Search(threading.Thread):
    """Compile the job's scenario and plan it, in its own thread; ``stop`` ends the search early. When
    the schedule leaves slots short, the staffing advice follows (``advice``, JSON)."""

    def __init__(self, snapshot: dict[str, Any], options: dict[str, Any]):
        super().__init__(name="search", daemon=True)
        self.snapshot = snapshot
        self.options = options
        self.stop = threading.Event()
        self.done = threading.Event()
        self.tracker = _Tracker()
        self.schedule = None
        self.advice: dict[str, Any] | None = None
        self.error: Exception | None = None

    def run(self) -> None:

        try:
            scenario = Scenario.model_validate(self.snapshot, context=OLD_DATA)
            compiled = compile_scenario(scenario)
            self.schedule = plan(compiled, on_progress=self.tracker, stop=self.stop, **self.options)
            if self.schedule.uncovered and self.schedule.status in jobs.USABLE and not self.stop.is_set():
                self.advice = self._advice(scenario)
        except Exception as exc:  # the job fails, the worker goes on
            self.error = exc
        finally:
            self.done.set()

    def _advice(self, scenario: Scenario) -> dict[str, Any] | None:
        self.tracker.phase = "advice"
        try:
            advice = advise(
                scenario, time_limit=advice_time_limit(self.options["time_limit"]),
                seed=self.options.get("seed") or 0, workers=1,
            )
        except Exception:  # the schedule stands without it
            log.warning("staffing advice failed", exc_info=True)
            return None
        return advice.model_dump(mode="json", by_alias=True)


class _Resolve(_Search):
    """Re-solve the base version's schedule after the job's disruptions, in its own thread."""

    def __init__(self, snapshot: dict[str, Any], previous: dict[str, Any], disruptions: list[Any],
                 cutoff, options: dict[str, Any]):
        super().__init__(snapshot, options)
        self.name = "resolve"
        self.previous = previous
        self.disruptions = disruptions
        self.cutoff = cutoff
        self.tracker = _Tracker(idle_phase="repair")
        self.changes: dict[str, Any] | None = None

    def run(self) -> None:

        try:
            result = resolve(
                Scenario.model_validate(self.snapshot, context=OLD_DATA),
                Schedule.model_validate(self.previous),
                DISRUPTIONS.validate_python(self.disruptions, context=OLD_DATA),
                cutoff=self.cutoff,
                on_progress=self.tracker,
                stop=self.stop,
                **self.options,
            )
            self.schedule = result.schedule
            self.changes = result.changes.model_dump(mode="json")
        except Exception as exc:  # the job fails, the worker goes on
            self.error = exc
        finally:
            self.done.set()


def failure_reason(error: Exception) -> tuple[str, bool]:
    """Why a job failed, for the coordinator (a re-solve's own reasons as they are), and whether that is
    an expected outcome rather than a bug."""

    if isinstance(error, ResolveFailed):
        return str(error), True
    if isinstance(error, ScenarioError):  # a large job is compiled here first (store.jobs.create_job)
        shown = "; ".join(error.problems[:10])
        more = f" (and {len(error.problems) - 10} more)" if len(error.problems) > 10 else ""
        return f"the scenario cannot be planned: {shown}{more}", True
    if isinstance(error, NoLongerFits):  # a large re-solve is checked here (services.replan_jobs)
        shown = "; ".join(error.texts[:10])
        more = f" (and {len(error.texts) - 10} more)" if len(error.texts) > 10 else ""
        return f"the published schedule {NO_LONGER_FITS}: {shown}{more}", True
    return f"{type(error).__name__}: {error}", False


#: The reason given to an approved shift change whose publication raised.
FAILED_TO_PUBLISH = "it could not be published (an internal error)"


class WebhookSender(threading.Thread):
    """Delivers due webhook events every ``webhook_poll_interval`` until ``shutdown`` is set."""

    def __init__(self, worker: Worker):
        super().__init__(name="webhooks", daemon=True)
        self.worker = worker

    def run(self) -> None:
        settings = self.worker.settings
        with webhook_delivery.make_client(allow_private=settings.webhook_allow_private) as client:
            while not self.worker.shutdown.is_set():
                try:
                    self.worker.queue_reminders()
                    self.worker.publish_approvals()
                    self.worker.deliver_webhooks(client)
                except SQLAlchemyError as exc:
                    log.warning("webhook deliveries: database not ready (%s)", exc.__class__.__name__)
                except Exception:  # a bug in one delivery must not stop the others for good
                    log.exception("webhook deliveries failed")
                self.worker.shutdown.wait(settings.webhook_poll_interval)


#: Seconds between two retention purges of one worker.
PURGE_EVERY_S = 3600.0


class Worker:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings, name: str | None = None):
        self.sessions = sessions
        self.settings = settings
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.shutdown = threading.Event()
        self._last_reap = 0.0
        self._last_purge: float | None = None

    # ------------------------------------------------------------------------------------ the loop

    def run_forever(self) -> None:
        log.info("worker %s polling for jobs every %gs", self.name, self.settings.worker_poll_interval)
        sender = WebhookSender(self)
        sender.start()
        while not self.shutdown.is_set():
            try:
                self.reap(throttled=True)
                self.purge(throttled=True)
                ran = self.run_once()
            except SQLAlchemyError as exc:
                log.warning("database not ready (%s); retrying", exc.__class__.__name__)
                ran = None
            if ran is None:
                self.shutdown.wait(self.settings.worker_poll_interval)
        sender.join(timeout=self.settings.webhook_timeout + 1)
        log.info("worker %s stopped", self.name)

    def deliver_webhooks(self, client, now=utcnow) -> int:
        """Attempt the webhook deliveries that are due; how many were attempted."""
        return webhook_delivery.deliver_due(
            self.sessions,
            client,
            timeout=self.settings.webhook_timeout,
            delays=list(self.settings.webhook_retry_delays),
            allow_private=self.settings.webhook_allow_private,
            now=now,
        )

    def queue_reminders(self, now=utcnow) -> int:
        """Queue the shift reminders that are due (:func:`scheduler.services.reminders.queue_due`)."""
        with unit_of_work(self.sessions) as session:
            return reminders.queue_due(session, now())

    def publish_approvals(self, now=utcnow, limit: int = 20) -> int:
        """Publish (or fail, with the reason) the approved shift changes waiting for a worker, each in
        its own unit of work (:func:`scheduler.services.swaps.publish_approved`); how many. One that
        raises is failed with a generic reason (that one, by its id), so it cannot come back at every poll."""
        keep = dt.timedelta(days=self.settings.calendar_keep_cancelled_days)
        done = 0
        while done < limit:
            with unit_of_work(self.sessions) as session:
                found = swaps.next_approved(session)
            if found is None:
                return done
            try:
                with unit_of_work(self.sessions) as session:
                    swaps.publish_approved(session, *found, now(), keep)
            except SQLAlchemyError:
                raise
            except Exception:
                log.exception("publishing an approved shift change failed")
                with unit_of_work(self.sessions) as session:
                    swaps.fail_approved(session, *found, now(), FAILED_TO_PUBLISH)
            done += 1
        return done

    def install_signal_handlers(self) -> None:
        def stop(_signum, _frame) -> None:  # no logging here: a handler may interrupt a log call
            self.shutdown.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)

    def reap(self, *, throttled: bool = False) -> int:
        now = time.monotonic()
        if throttled and now - self._last_reap < self.settings.job_stale_after / 3:
            return 0
        self._last_reap = now
        with unit_of_work(self.sessions) as session:
            count = jobs.reap_stale(session, utcnow(), self.settings.job_stale_after)
        if count:
            log.warning("marked %d job(s) failed whose worker stopped sending heartbeats", count)
        return count

    def purge(self, *, throttled: bool = False) -> retention.Purged | None:
        """The retention purge (:mod:`scheduler.services.retention`), at most once an hour when throttled.
        Workers racing for the same rows lose nothing: the loser's transaction is rolled back and logged."""
        now = time.monotonic()
        if throttled and self._last_purge is not None and now - self._last_purge < PURGE_EVERY_S:
            return None
        self._last_purge = now
        s = self.settings
        try:
            with unit_of_work(self.sessions) as session:
                purged = retention.purge(
                    session, utcnow(), s.health_retention_days, s.health_audit_retention_days
                )
        except SQLAlchemyError as exc:
            log.warning("retention purge not done this time (%s)", exc.__class__.__name__)
            return None
        if purged.health_records or purged.jobs or purged.audit_entries:
            log.info("retention purge: %s", purged)
        return purged

    def run_once(self) -> int | None:
        """Claim the oldest queued job and run it to its end; its id, or None when the queue is empty."""
        with unit_of_work(self.sessions) as session:
            job_id = jobs.claim_next(session, self.name, utcnow())
        if job_id is None:
            return None
        self.run_job(job_id)
        return job_id

    # ------------------------------------------------------------------------------------- one job

    def run_job(self, job_id: int) -> None:
        """Solve the job in a thread of its own while this thread keeps the heartbeat: it stays free to
        handle signals (CP-SAT holds the thread that calls it until the search ends)."""

        with self.sessions() as session:
            row = session.get(jobs.JobRow, job_id)
            if row is None:
                return
            snapshot = copy.deepcopy(row.scenario)
            disruptions = copy.deepcopy(row.disruptions)
            options = {"time_limit": row.time_limit, "workers": row.workers, "seed": row.seed}
            site_id = row.site_id
            resolving = row.kind == jobs.JobKind.resolve
            search: _Search = _Search(snapshot, options)
            gone = None
            if resolving:
                try:
                    previous = schedule_store.get_version(session, site_id, row.base_version or 0).schedule
                    search = _Resolve(snapshot, previous, row.disruptions or [], row.cutoff, options)
                except NotFoundError:
                    gone = f"the published version it re-plans ({row.base_version}) no longer exists"
        if gone is not None:
            self._end(lambda s: jobs.fail_job(s, job_id, self.name, gone, utcnow()))
            return
        what = "re-solving" if resolving else "solving"
        log.info("job %d (site %d): %s for %gs", job_id, site_id, what, options["time_limit"])
        search.start()
        self._heartbeats(job_id, search)
        if search.error is not None:
            reason, expected = failure_reason(search.error)
            log.log(logging.WARNING if expected else logging.ERROR, "job %d failed: %s", job_id, reason,
                    exc_info=None if expected else search.error)
            self._end(lambda s: jobs.fail_job(s, job_id, self.name, reason, utcnow()))
            return
        if self.shutdown.is_set():
            self._end(lambda s: jobs.requeue_job(s, job_id, self.name, utcnow()))
            log.info("job %d put back in the queue (worker stopping)", job_id)
            return
        schedule = search.schedule
        changes = search.changes if isinstance(search, _Resolve) else None  # a re-solve's change set

        def finish(session: Session) -> bool:
            # what was erased while the search ran does not come back with its result
            result = schedule.model_dump(mode="json")
            documents = [changes, result, search.advice]
            erased = health_data.without_late_erasures(
                session, site_id, job_id, snapshot, disruptions, documents
            )
            if erased:
                log.info("job %d: %d erasure(s) made while it ran applied to its result", job_id, erased)
            return jobs.finish_job(
                session, job_id, self.name, Schedule.model_validate(result) if erased else schedule,
                search.tracker.snapshot(), utcnow(), changes=changes, advice=search.advice,
            )

        stored = self._end(finish)
        log.info(
            "job %d: %s in %.1fs, %d assignments, %d uncovered slots%s",
            job_id,
            schedule.status,
            schedule.solver.wall_time,
            len(schedule.assignments),
            len(schedule.uncovered),
            "" if stored else " (not stored: the job was no longer this worker's)",
        )

    def _heartbeats(self, job_id: int, search: _Search) -> None:
        """Until the search ends, every ``heartbeat_interval``: write its progress, and stop it when the
        job was cancelled or taken away, or the worker is shutting down."""
        while not search.done.wait(self.settings.heartbeat_interval):
            if self.shutdown.is_set():
                search.stop.set()
            try:
                with unit_of_work(self.sessions) as session:
                    keep_going = jobs.heartbeat(
                        session, job_id, self.name, search.tracker.snapshot(), utcnow()
                    )
            except SQLAlchemyError:
                log.warning("job %d: heartbeat failed, will retry", job_id, exc_info=True)
                continue
            if not keep_going:
                search.stop.set()
        search.join()

    def _end(self, step) -> bool:
        with unit_of_work(self.sessions) as session:
            done = step(session)
        return bool(done)
