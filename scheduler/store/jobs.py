"""Solve jobs: one row each in the ``jobs`` table, run by worker processes (:mod:`scheduler.worker.loop`).

A job is created *queued* with a snapshot of the site's scenario (so later edits do not change what is
being solved), claimed atomically by one worker (*running*), which writes its live progress and a
heartbeat about once a second, and ends *done* (with the schedule), *failed* (with a reason) or
*cancelled*. A running job whose worker stopped sending heartbeats is marked failed (:func:`reap_stale`),
so a crash or a restart never leaves a job running forever.

A job is of one of two kinds: ``schedule`` (a full solve of the site) or ``resolve`` (a re-solve of the
published schedule after disruptions, from a cut-off, see :mod:`scheduler.services.replan_jobs`).

The queue is fair between sites (:func:`claim_next`): workers serve the sites round-robin (the site with
the fewest running jobs, then the one served longest ago), and within a site re-solves first, then the
oldest. A site may hold only its share of the queue (:class:`SiteLimits`, checked by :func:`queue_job`):
so many queued + running jobs and so many seconds of search; beyond it TooBusyError (HTTP 429 with
``Retry-After``), so one site's loop of requests cannot delay another site's sick call.

Every state change is one conditional ``UPDATE`` (``... WHERE state = 'running' AND worker = me``), so a
worker that lost its job (cancelled while queued, reaped, its site deleted) cannot overwrite the outcome.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import Field
from sqlalchemy import JSON, Boolean, Date, ForeignKey, String, Text, case, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.domain import scenario as sc
from scheduler.domain.compile import ScenarioError, compile_scenario
from scheduler.domain.errors import (
    ConflictError,
    FieldProblem,
    InputError,
    NotFoundError,
    TooBusyError,
    problem_from_text,
)
from scheduler.domain.history import with_published_history
from scheduler.domain.limits import DEFAULT as DEFAULT_SIZE
from scheduler.domain.limits import SizeLimits, check_size, estimated_pairs
from scheduler.domain.schedule import Schedule
from scheduler.domain.worked import WorkedShift
from scheduler.store.db import Base, UTCDateTime

MAX_SEED = 2**31 - 1


class JobKind(StrEnum):
    schedule = "schedule"  # a full solve of the site
    resolve = "resolve"  # a re-solve of the published schedule after disruptions


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


FINISHED = (JobState.done, JobState.failed, JobState.cancelled)


class JobRow(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    worker: Mapped[str | None] = mapped_column(String(200))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    horizon_start: Mapped[dt.date] = mapped_column(Date)
    horizon_days: Mapped[int]
    time_limit: Mapped[float]
    workers: Mapped[int]
    seed: Mapped[int]
    # the big ones (a whole scenario, a whole schedule) are read only when asked for
    scenario: Mapped[dict] = mapped_column(JSON, deferred=True)
    progress: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    result: Mapped[dict | None] = mapped_column(JSON(none_as_null=True), deferred=True)
    summary: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    error: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default=JobKind.schedule.value, server_default="schedule")
    # re-solves only: what happened (the disruption models' JSON), from when on plans may change, the
    # published version re-solved, and the change set found
    disruptions: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    cutoff: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    base_version: Mapped[int | None]
    changes: Mapped[dict | None] = mapped_column(JSON(none_as_null=True), deferred=True)
    #: staffing advice (scheduler.domain.advice.StaffingAdvice) for a schedule that left slots short
    advice: Mapped[dict | None] = mapped_column(JSON(none_as_null=True), deferred=True)


class JobRequest(sc.Model):
    """What to solve: the site as it is now, over a horizon, within a time limit."""

    horizon: sc.Horizon | None = Field(default=None, description="Defaults to the site's horizon")
    time_limit: float | None = Field(
        default=None, gt=0, le=24 * 3600, description="Seconds to search; defaults to the server's setting"
    )
    seed: int = Field(default=0, ge=0, le=MAX_SEED)


@dataclass(frozen=True)
class SiteLimits:
    """A site's share of the queue: at most ``jobs`` queued + running jobs whose time limits add up to at
    most ``seconds`` (ROTA_SITE_MAX_ACTIVE_JOBS, ROTA_SITE_MAX_ACTIVE_SECONDS)."""

    jobs: int
    seconds: float

    @classmethod
    def of(cls, settings) -> SiteLimits:
        return cls(jobs=settings.site_max_active_jobs, seconds=settings.site_max_active_seconds)


ACTIVE = (JobState.queued.value, JobState.running.value)


def check_share(session: Session, site_id: int, time_limit: float, limits: SiteLimits) -> None:
    """TooBusyError if one more job of ``time_limit`` seconds would take the site over its share."""
    count, seconds, shortest = session.execute(
        select(func.count(JobRow.id), func.sum(JobRow.time_limit), func.min(JobRow.time_limit)).where(
            JobRow.site_id == site_id, JobRow.state.in_(ACTIVE)
        )
    ).one()
    seconds = seconds or 0.0
    retry = max(1, min(600, math.ceil(shortest or time_limit)))
    if count >= limits.jobs:
        raise TooBusyError(
            f"the site already has {count} jobs queued or running (at most {limits.jobs} on this server): "
            "wait for one to finish, or cancel one", retry
        )
    if seconds + time_limit > limits.seconds:
        raise TooBusyError(
            f"the site's queued and running jobs already search for {seconds:g} s; {time_limit:g} s more "
            f"would pass this server's {limits.seconds:g} s per site: wait for one to finish, cancel one "
            "or ask for a shorter time_limit", retry
        )


def job_scenario(site_scenario: sc.Scenario, horizon: sc.Horizon) -> sc.Scenario:
    """The site's scenario over ``horizon``; pins outside it are left out."""
    data = site_scenario.model_dump(mode="json", by_alias=True)
    data["horizon"] = horizon.model_dump(mode="json")
    data["pinned"] = [
        pin.model_dump(mode="json") for pin in site_scenario.pinned if horizon.start <= pin.date < horizon.end
    ]
    try:
        return sc.Scenario.model_validate(data, context=sc.OLD_DATA)
    except Exception as exc:  # pragma: no cover - the site's scenario is valid, pins are filtered
        raise InputError("horizon", [FieldProblem("horizon", str(exc))]) from None


def create_job(
    session: Session,
    site_id: int,
    site_scenario: sc.Scenario,
    request: JobRequest,
    *,
    default_time_limit: float,
    max_time_limit: float,
    workers: int,
    now: dt.datetime,
    limits: SiteLimits | None = None,
    previous: Schedule | None = None,
    size: SizeLimits = DEFAULT_SIZE,
    worked: Sequence[WorkedShift] = (),
) -> JobRow:
    """Queue a solve of the site's scenario; InputError if it cannot be planned (checked by compiling
    it now, so the coordinator hears at once rather than from a failed job, up to
    ``size.inline_compile_pairs`` volunteers x slots; beyond, the worker's compile fails the job with the
    same problems), TooBusyError over the
    site's ``limits``. The shifts of ``previous`` (the published schedule) before the horizon become the
    volunteers' exact history, as ``worked`` records them (actual times, no-shows, extra shifts)."""

    time_limit = request.time_limit if request.time_limit is not None else default_time_limit
    if time_limit > max_time_limit:
        raise InputError(
            "job", [FieldProblem("time_limit", f"must be at most {max_time_limit:g} seconds on this server")]
        )
    if limits is not None:  # before the compile: a site over its share costs no CPU here
        check_share(session, site_id, time_limit, limits)
    horizon = request.horizon or site_scenario.horizon
    check_size(site_scenario, size, days=horizon.days, source="job")  # before the compile
    scenario = with_published_history(job_scenario(site_scenario, horizon), previous, worked)
    # a small site is compiled here, so a problem is a 422 at once; a large one would hold the web process
    # for seconds to a minute, so the worker compiles it and a problem fails the job, naming the field
    if estimated_pairs(scenario) <= size.inline_compile_pairs:
        try:
            compile_scenario(scenario)
        except ScenarioError as exc:
            raise InputError("scenario", [problem_from_text(p) for p in exc.problems]) from None
    return queue_job(session, site_id, scenario, now, time_limit, workers, request.seed, limits=limits)


def queue_job(
    session: Session,
    site_id: int,
    scenario: sc.Scenario,
    now: dt.datetime,
    time_limit: float,
    workers: int,
    seed: int,
    limits: SiteLimits | None = None,
    **extra,
) -> JobRow:
    """Add a queued job planning ``scenario`` (its horizon) for the site; ``extra`` sets the columns
    of a particular kind of job (a re-solve's disruptions, cut-off and base version). With ``limits``,
    TooBusyError when the site would go over its share (strict when the caller holds the site's row
    lock, as the routes do)."""
    if limits is not None:
        check_share(session, site_id, time_limit, limits)
    row = JobRow(
        site_id=site_id,
        state=JobState.queued.value,
        created_at=now,
        cancel_requested=False,
        horizon_start=scenario.horizon.start,
        horizon_days=scenario.horizon.days,
        time_limit=time_limit,
        workers=workers,
        seed=seed,
        scenario=scenario.model_dump(mode="json", by_alias=True),
        **extra,
    )
    session.add(row)
    session.flush()
    return row


def get_job(session: Session, site_id: int, job_id: int) -> JobRow:
    row = session.get(JobRow, job_id)
    if row is None or row.site_id != site_id:
        raise NotFoundError(f"schedule job {job_id}")
    return row


def list_jobs(session: Session, site_id: int, limit: int = 50) -> list[JobRow]:
    query = select(JobRow).where(JobRow.site_id == site_id).order_by(JobRow.id.desc()).limit(limit)
    return list(session.scalars(query))


def result_of(row: JobRow) -> Schedule | None:
    return None if row.result is None else Schedule.model_validate(row.result)


def summary_of(schedule: Schedule, advice: dict[str, Any] | None = None) -> dict[str, Any]:
    """The few numbers a job listing shows about its schedule (and, when slots stay short, how many
    volunteers the staffing advice would recruit)."""
    out = {
        "status": schedule.status,
        "objective": schedule.solver.objective,
        "assignments": len(schedule.assignments),
        "uncovered_slots": len(schedule.uncovered),
        "people_missing": sum(u.missing for u in schedule.uncovered),
    }
    if advice is not None:
        out["advised_volunteers"] = len(advice.get("volunteers", ()))
        out["advice_closes_slots"] = len(advice.get("closed_slots", ()))
    return out


def scenario_of(row: JobRow) -> sc.Scenario:
    return sc.Scenario.model_validate(row.scenario, context=sc.OLD_DATA)


def cancel_job(session: Session, row: JobRow, now: dt.datetime) -> None:
    """Cancel a queued job at once; ask the worker of a running one to stop (it keeps the best schedule
    found so far and ends the job *cancelled*). ConflictError for a finished job."""
    if row.state == JobState.queued:
        done = session.execute(
            update(JobRow)
            .where(JobRow.id == row.id, JobRow.state == JobState.queued.value)
            .values(state=JobState.cancelled.value, cancel_requested=True, finished_at=now)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount == 1:
            session.refresh(row)
            return
        session.refresh(row)  # a worker claimed it meanwhile
    if row.state == JobState.running:
        session.execute(
            update(JobRow)
            .where(JobRow.id == row.id, JobRow.state == JobState.running.value)
            .values(cancel_requested=True)
            .execution_options(synchronize_session=False)
        )
        session.refresh(row)
        return
    raise ConflictError(f"the job is already {row.state}")


def _site_order(session: Session, skip: list[int]) -> list[int]:
    """The sites with queued jobs, in the order workers serve them: fewest running jobs first, then the
    one whose last job started longest ago (never served first), then the oldest queued job."""
    waiting = select(JobRow.site_id).where(JobRow.state == JobState.queued.value)
    if skip:
        waiting = waiting.where(JobRow.id.not_in(skip))
    rows = session.execute(
        select(
            JobRow.site_id,
            func.sum(case((JobRow.state == JobState.running.value, 1), else_=0)),
            func.max(JobRow.started_at),
            func.min(case((JobRow.state == JobState.queued.value, JobRow.id))),
        )
        .where(JobRow.site_id.in_(waiting.distinct()))
        .group_by(JobRow.site_id)
    ).all()
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    rows.sort(key=lambda r: (r[1] or 0, r[2] or never, r[3] or 0))
    return [r[0] for r in rows]


def claim_next(session: Session, worker: str, now: dt.datetime) -> int | None:
    """Take the next queued job for ``worker``; its id, or None when there is none. Sites are served
    round-robin (:func:`_site_order`); within a site re-solves first (a coordinator is waiting for whom
    to call), then the oldest.

    PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` lets workers pass each other's candidates by;
    everywhere, the ``UPDATE ... WHERE state = 'queued'`` is the atomic step (rowcount 1 = ours)."""
    lost: list[int] = []
    urgent = case((JobRow.kind == JobKind.resolve.value, 0), else_=1)
    while True:
        order = _site_order(session, lost)
        if not order:
            return None
        candidate = None
        for site_id in order:
            query = select(JobRow.id).where(JobRow.state == JobState.queued.value, JobRow.site_id == site_id)
            if lost:
                query = query.where(JobRow.id.not_in(lost))
            first = session.scalar(query.order_by(urgent, JobRow.id).limit(1))
            if first is None:
                continue
            # lock the site's next job only: when another worker is claiming it, serve another site
            # rather than the same site's following job (fair with concurrent workers too)
            candidate = session.scalar(
                select(JobRow.id)
                .where(JobRow.id == first, JobRow.state == JobState.queued.value)
                .with_for_update(skip_locked=True)
            )
            if candidate is not None:
                break
        if candidate is None:  # every queued job is being claimed by another worker right now
            return None
        won = session.execute(
            update(JobRow)
            .where(JobRow.id == candidate, JobRow.state == JobState.queued.value)
            .values(state=JobState.running.value, started_at=now, heartbeat_at=now, worker=worker)
            .execution_options(synchronize_session=False)
        )
        if won.rowcount == 1:
            return candidate
        lost.append(candidate)


def _mine(job_id: int, worker: str):
    return (JobRow.id == job_id, JobRow.state == JobState.running.value, JobRow.worker == worker)


def heartbeat(
    session: Session, job_id: int, worker: str, progress: dict[str, Any] | None, now: dt.datetime
) -> bool:
    """Record the worker's progress; False when the job is no longer this worker's to run or its
    cancellation was asked for (the worker then stops the search)."""
    values: dict[str, Any] = {"heartbeat_at": now}
    if progress is not None:
        values["progress"] = progress
    updated = session.execute(
        update(JobRow)
        .where(*_mine(job_id, worker))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if updated.rowcount != 1:
        return False
    cancel = session.scalar(select(JobRow.cancel_requested).where(JobRow.id == job_id))
    return not cancel


#: Solver statuses that come with a schedule worth publishing.
USABLE = ("optimal", "feasible")


def finish_job(
    session: Session,
    job_id: int,
    worker: str,
    schedule: Schedule,
    progress: dict[str, Any] | None,
    now: dt.datetime,
    changes: dict[str, Any] | None = None,
    advice: dict[str, Any] | None = None,
) -> bool:
    """Store the schedule (and a re-solve's change set, a solve's staffing advice): the job is
    *done* (*failed* with the reason when the search found no schedule), or *cancelled* if that was
    asked for meanwhile."""
    usable = schedule.status in USABLE
    reason = None
    if not usable:
        limit = schedule.solver.time_limit or 0
        reason = f"no schedule found within {limit:g} s (solver status {schedule.status})"
        if schedule.status == "infeasible":
            reason += ": the hard rules cannot all be kept (check the pins and the rule overrides)"
        else:
            reason += ": try a longer time limit"
    values: dict[str, Any] = {
        "state": case(
            (JobRow.cancel_requested, JobState.cancelled.value),
            else_=JobState.done.value if usable else JobState.failed.value,
        ),
        "result": schedule.model_dump(mode="json"),
        "summary": summary_of(schedule, advice),
        "error": reason,
        "finished_at": now,
        "heartbeat_at": now,
    }
    if progress is not None:
        values["progress"] = progress
    if changes is not None:
        values["changes"] = changes
    if advice is not None:
        values["advice"] = advice
    updated = session.execute(
        update(JobRow)
        .where(*_mine(job_id, worker))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return updated.rowcount == 1


def fail_job(session: Session, job_id: int, worker: str, reason: str, now: dt.datetime) -> bool:
    updated = session.execute(
        update(JobRow)
        .where(*_mine(job_id, worker))
        .values(state=JobState.failed.value, error=reason[:4000], finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return updated.rowcount == 1


def requeue_job(session: Session, job_id: int, worker: str, now: dt.datetime) -> bool:
    """Put a running job back in the queue (its worker is shutting down), saying why."""
    updated = session.execute(
        update(JobRow)
        .where(*_mine(job_id, worker))
        .values(
            state=JobState.queued.value,
            worker=None,
            started_at=None,
            heartbeat_at=None,
            progress=None,
            error=f"put back in the queue at {now.isoformat(timespec='seconds')}: "
            f"worker {worker} was stopped during the search",
        )
        .execution_options(synchronize_session=False)
    )
    return updated.rowcount == 1


def reap_stale(session: Session, now: dt.datetime, stale_after: float, job_id: int | None = None) -> int:
    """Mark failed every running job (or just ``job_id``) whose worker sent no heartbeat for
    ``stale_after`` seconds: the worker crashed or the machine restarted. Returns how many."""
    cutoff = now - dt.timedelta(seconds=stale_after)
    query = update(JobRow).where(
        JobRow.state == JobState.running.value,
        (JobRow.heartbeat_at < cutoff) | JobRow.heartbeat_at.is_(None),
    )
    if job_id is not None:
        query = query.where(JobRow.id == job_id)
    updated = session.execute(
        query.values(
            state=JobState.failed.value,
            finished_at=now,
            error=f"the worker stopped without finishing (no heartbeat for {stale_after:g} s); "
            "it was probably restarted: submit the job again",
        ).execution_options(synchronize_session=False)
    )
    return updated.rowcount


def current_job(session: Session, site_id: int, job_id: int, now: dt.datetime, stale_after: float) -> JobRow:
    """The site's job as it is now: a running job whose worker stopped sending heartbeats is marked
    failed first (:func:`reap_stale`), so a reader never sees it running for ever."""
    row = get_job(session, site_id, job_id)
    if row.state == JobState.running and reap_stale(session, now, stale_after, job_id=row.id):
        session.refresh(row)
    return row
