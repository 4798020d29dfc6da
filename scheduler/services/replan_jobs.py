"""Re-solve jobs: a disruption (a sick call, a withdrawal, more demand, a new post or volunteer) recorded
on the site and a re-solve of its published schedule queued, in one step (the caller commits it as one
transaction).

:func:`create_resolve_job`:

1. takes a snapshot of the site's scenario *before* the disruptions, over the published schedule's
   horizon (the job row keeps it, with the disruptions, the cut-off and the published version it
   re-plans, the *base version*);
2. applies the disruptions to the snapshot (:func:`scheduler.domain.replan.apply`, which appends health
   records, adds absences, extra shift templates for a raised headcount, new posts and volunteers,
   and releases the pins the people concerned can no longer work): what does not fit is a 422 naming
   ``disruptions[i]....`` at once, as is (up to ``ROTA_INLINE_COMPILE_PAIRS`` volunteers x slots) a new
   scenario that cannot be planned, or a 409 for a published schedule that no longer fits it; a larger
   site is compiled by the worker instead, whose compile fails the job with the same reasons;
3. writes the difference to the site's rows (:func:`persist`), exactly as the equivalent resource
   edits would: health records added, volunteers and posts replaced or added, rules and pins set;
4. queues the job. The worker (:mod:`scheduler.worker.loop`) calls
   ``resolve(snapshot, base version's schedule, disruptions, cutoff=...)``, whose own ``apply`` records
   the disruptions in the snapshot once more: the scenario it plans is the site as it now is, with
   each health record exactly once.

With ``isolate_contacts``, the people who shared a shift at the same post with an infectious person in
the ``rules.contact_tracing_days`` days before the cut-off (by the published schedule) are marked
isolating by the same job: one re-solve, not a chain.

Publishing a finished re-solve is the same step as publishing a full schedule
(:func:`scheduler.services.publishing.publish`); it is refused when another version was published after
the base version (the re-solve would undo it).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from pydantic import Field, TypeAdapter, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session

from scheduler.domain import scenario as sc
from scheduler.domain.changes import contacts
from scheduler.domain.clock import aware
from scheduler.domain.compile import ScenarioError, compile_scenario
from scheduler.domain.disruptions import AnyDisruption, Disruption, MarkIsolating, SickCall, apply
from scheduler.domain.errors import (
    ConflictError,
    FieldProblem,
    InputError,
    problem_from_text,
    validation_problems,
)
from scheduler.domain.limits import DEFAULT as DEFAULT_SIZE
from scheduler.domain.limits import SizeLimits, check_size, estimated_pairs
from scheduler.domain.replan import NO_LONGER_FITS
from scheduler.domain.report import assignments_of
from scheduler.domain.residents import changed_residents
from scheduler.settings import Settings
from scheduler.store import health_records, posts, sites, volunteers
from scheduler.store import residents as resident_store
from scheduler.store import schedules as schedule_store
from scheduler.store.jobs import MAX_SEED, JobKind, JobRow, SiteLimits, check_share, job_scenario, queue_job

#: The health statuses that keep someone off every shift (an infectious one has contacts).
OFF_DUTY = (sc.HealthStatus.sick, sc.HealthStatus.isolating)
MAX_DISRUPTIONS = 200

DISRUPTIONS = TypeAdapter(list[Disruption])


class ResolveOptions(sc.Model):
    """How to re-solve: from when, for how long, and whether to isolate an infectious person's
    contacts in the same step."""

    cutoff: sc.SiteDateTime | None = Field(
        default=None,
        description="Nothing that starts before this changes, and shifts under way at it stay as they are. "
        "ISO 8601; without a UTC offset it is the site's local time. Default: now",
        examples=["2027-01-13T06:40"],
    )
    time_limit: float | None = Field(
        default=None, gt=0, le=3600, description="Seconds to search at most; default: the server's setting "
        "(ROTA_RESOLVE_DEFAULT_TIME_LIMIT, 10 s)"
    )
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    isolate_contacts: bool = Field(
        default=False,
        description="Mark isolating, in the same re-solve, the people who shared a shift at the same post "
        "with an infectious sick person in the rules.contact_tracing_days days before the cut-off",
    )
    isolate_until: sc.When | None = Field(
        default=None,
        description="How long the contacts isolate (a date is inclusive); default: the sick call's until",
    )


class ResolveRequest(ResolveOptions):
    """Disruptions to record on the site, and a re-solve of its published schedule."""

    replan: bool = Field(
        default=False,
        description="Re-solve the published schedule against the site as it is now, with no new "
        "disruption (e.g. after a stale re-solve was refused): then `disruptions` may be empty",
    )
    disruptions: list[Disruption] = Field(
        default_factory=list,
        max_length=MAX_DISRUPTIONS,
        validate_default=True,
        description="What happened, each with its `kind`. Must not be empty unless `replan` is true",
    )

    @field_validator("disruptions")
    @classmethod
    def _something_to_do(cls, value: list, info: ValidationInfo) -> list:
        if not value and not info.data.get("replan", False):
            raise PydanticCustomError(
                "empty_disruptions",
                "must list at least one disruption; to re-plan the site as it is now without one, send "
                '"replan": true',
            )
        return value


def cutoff_at(site: sites.SiteRow, cutoff: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """The cut-off, aware in the site's zone (default: now)."""
    return aware(cutoff if cutoff is not None else now, ZoneInfo(site.timezone))


def sick_call(volunteer: str, record: sc.HealthRecord, cut: dt.datetime) -> SickCall:
    """A health record as a disruption; a record without ``from`` starts at the cut-off."""
    try:
        return SickCall(
            volunteer=volunteer,
            status=record.status,
            start=record.start if record.start is not None else cut,
            until=record.until,
            infectious=record.infectious,
            reason=record.reason,
        )
    except ValidationError as exc:
        raise InputError("request", validation_problems(exc)) from None


def _contacts_marked(
    request: ResolveOptions,
    disruptions: list[AnyDisruption],
    snapshot: sc.Scenario,
    previous,
    cut: dt.datetime,
) -> list[AnyDisruption]:
    """The MarkIsolating disruptions ``isolate_contacts`` asks for."""
    ill = [d for d in disruptions if isinstance(d, SickCall) and d.infectious and d.status in OFF_DUTY]
    if not ill:
        raise InputError(
            "request",
            [FieldProblem("isolate_contacts", "needs an infectious sick call (status sick or isolating, "
                                              "infectious true)")],
        )
    concerned = {d.volunteer for d in ill}
    known = {v.id for v in snapshot.volunteers}
    days = snapshot.rules.contact_tracing_days
    out: list[AnyDisruption] = []
    for d in ill:
        until = request.isolate_until if request.isolate_until is not None else d.until
        if until is None:
            raise InputError(
                "request",
                [FieldProblem("isolate_until", "how long the contacts isolate: give isolate_until, or an "
                                               "until on the sick call")],
            )
        people = [
            c.volunteer for c in contacts(previous, d.volunteer, cut, days, volunteers=snapshot)
            if c.volunteer in known and c.volunteer not in concerned
        ]
        if not people:
            continue
        try:
            out.append(MarkIsolating(volunteers=people, start=cut, until=until))
        except ValidationError:
            raise InputError(
                "request",
                [FieldProblem("isolate_until", f"must not be before the cut-off ({cut.isoformat()})")],
            ) from None
    return out


def create_resolve_job(
    session: Session,
    site: sites.SiteRow,
    request: ResolveRequest,
    *,
    default_time_limit: float,
    max_time_limit: float,
    workers: int,
    now: dt.datetime,
    limits: SiteLimits | None = None,
    size: SizeLimits = DEFAULT_SIZE,
) -> tuple[JobRow, dict[str, list[health_records.HealthRecordRow]]]:
    """Record ``request.disruptions`` on the site and queue a re-solve of its published schedule: the
    job, and the health records added (by volunteer id). Lock the site row first
    (``get_site(..., lock=True)``).

    ConflictError (409) without a published schedule, or when it no longer fits the site (its time
    zone changed, a post it staffs was deleted); InputError (422) naming the field for the rest;
    TooBusyError (429) when the site already has its share of the queue (``limits``), checked first."""

    time_limit = request.time_limit if request.time_limit is not None else default_time_limit
    if time_limit > max_time_limit:
        raise InputError(
            "request",
            [FieldProblem("time_limit", f"must be at most {max_time_limit:g} seconds for a re-solve")],
        )
    if limits is not None:  # before any compile: a site over its share costs no CPU here
        check_share(session, site.id, time_limit, limits)
    if site.published_version is None:
        raise ConflictError(
            "there is no published schedule to re-solve: publish one first "
            f"(POST /sites/{site.id}/schedules, then .../publish)"
        )
    version = schedule_store.published(session, site)
    previous = version.model
    site_scenario = sites.export_scenario(session, site)
    if previous.timezone != site_scenario.site.timezone:
        raise ConflictError(
            f"the published schedule (version {version.number}) is in {previous.timezone} but the site now "
            f"is in {site_scenario.site.timezone}: publish a new full schedule instead"
        )
    horizon = sc.Horizon(start=version.horizon_start, days=version.horizon_days)
    snapshot = job_scenario(site_scenario, horizon)
    zone = snapshot.site.zone
    cut = cutoff_at(site, request.cutoff, now)
    end = dt.datetime.combine(horizon.end, dt.time(), tzinfo=zone)
    if cut >= end:
        last = horizon.end - dt.timedelta(days=1)
        raise InputError(
            "request",
            [FieldProblem("cutoff", f"is after the published schedule's last day ({last})")],
        )

    disruptions: list[AnyDisruption] = list(request.disruptions)
    if request.isolate_contacts:
        disruptions += _contacts_marked(request, disruptions, snapshot, previous, cut)
    elif request.isolate_until is not None:
        raise InputError("request", [FieldProblem("isolate_until", "only with isolate_contacts")])

    new = apply(snapshot, disruptions)  # InputError naming disruptions[i]....
    check_size(new, size, source="disruptions")  # new volunteers or posts: before the compile
    # a small site is compiled here, so a problem is a 422 (or the 409 of a schedule that no longer fits)
    # at once; a large one would hold the web process for seconds to a minute, so the worker compiles it
    # and a problem fails the job with the same reasons (scheduler.worker.loop.failure_reason)
    if estimated_pairs(new) <= size.inline_compile_pairs:
        try:
            compiled = compile_scenario(new)
        except ScenarioError as exc:
            raise InputError("scenario", [problem_from_text(p) for p in exc.problems]) from None
        _, problems = assignments_of(compiled, previous)
        if problems:
            raise ConflictError(
                f"the published schedule (version {version.number}) {NO_LONGER_FITS}",
                [problem_from_text(p) for p in problems[:20]],
            )

    added = persist(session, site, snapshot, new, now)
    sites.validate_site(session, site)
    row = queue_job(
        session,
        site.id,
        snapshot,
        now,
        time_limit,
        workers,
        request.seed,
        limits=limits,
        kind=JobKind.resolve.value,
        disruptions=DISRUPTIONS.dump_python(disruptions, mode="json", by_alias=True),
        cutoff=cut,
        base_version=version.number,
    )
    return row, added


def disruptions_of(row: JobRow) -> list[AnyDisruption]:
    return DISRUPTIONS.validate_python(row.disruptions or [], context=sc.OLD_DATA)


def persist(
    session: Session, site: sites.SiteRow, old: sc.Scenario, new: sc.Scenario, now: dt.datetime
) -> dict[str, list[health_records.HealthRecordRow]]:
    """Write what ``new`` (``old`` with disruptions applied) adds to or changes in ``old`` to the site's
    rows, as the resource edits would; the health records added, by volunteer id. Health histories are
    only appended to."""
    added: dict[str, list[health_records.HealthRecordRow]] = {}
    before = {v.id: v for v in old.volunteers}
    for v in new.volunteers:
        was = before.get(v.id)
        if was is None:
            row = volunteers.add_volunteer(session, site.id, v, now)
            added[v.id] = health_records.records_of(session, row.id)
            continue
        if v.health[: len(was.health)] != was.health:  # pragma: no cover - apply only appends
            raise RuntimeError(f"the health history of {v.id} would be rewritten")
        row = volunteers.get_volunteer(session, site.id, v.id)
        for record in v.health[len(was.health) :]:
            added.setdefault(v.id, []).append(health_records.add_record(session, row.id, record, now))
        if v.model_copy(update={"health": []}) != was.model_copy(update={"health": []}):
            data = v.model_dump(mode="json", by_alias=True, exclude={"health"})
            volunteers.replace_volunteer(session, row, volunteers.VolunteerUpdate.model_validate(data))
    old_posts = {p.id: p for p in old.posts}
    for p in new.posts:
        was_post = old_posts.get(p.id)
        if was_post is None:
            posts.add_post(session, site.id, p)
        elif p != was_post:
            update = posts.PostUpdate.model_validate(p.model_dump(mode="json", by_alias=True))
            posts.replace_post(session, posts.get_post(session, site.id, p.id), update)
    for change in changed_residents(old, new, now):  # a guardian fell ill: the backup took over
        row = resident_store.get_resident(session, site.id, change.resident)
        resident_store.set_pair(session, row, change.primary, change.backup, change.reason, now)
    if new.rules != old.rules:
        sites.set_rules(site, new.rules)
    released = [pin for pin in old.pinned if pin not in new.pinned]
    if released:
        pins = sites.pins_of(site)
        for pin in released:
            if pin in pins:
                pins.remove(pin)
        sites.set_pins(site, pins)
    session.flush()
    return added


def queue_resolve(
    session: Session, site: sites.SiteRow, request: ResolveRequest, settings: Settings, now: dt.datetime
) -> tuple[JobRow, dict[str, list[health_records.HealthRecordRow]]]:
    """:func:`create_resolve_job` with the service's limits (``settings``): what the API's disruption and
    health-record routes and the console's pages all call."""
    return create_resolve_job(
        session,
        site,
        request,
        default_time_limit=settings.resolve_default_time_limit,
        max_time_limit=settings.resolve_max_time_limit,
        workers=settings.solver_workers,
        now=now,
        limits=SiteLimits.of(settings),
        size=SizeLimits.of(settings),
    )
