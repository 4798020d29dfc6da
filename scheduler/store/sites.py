"""Sites: a site's own row (name, time zone, planning horizon, rules, pins) and the scenario file round
trip.

A site's rows always make a valid :class:`~scheduler.domain.scenario.Scenario`: every change is followed by
:func:`validate_site`, which builds the scenario (:func:`export_scenario`) and refuses a change that
would leave a dangling reference (a pin or a preference naming a deleted post, a succession rule naming
a removed shift template, ...). :func:`import_scenario` and :func:`export_scenario` are inverse:
``export_scenario(import_scenario(s)) == s`` for every scenario ``s``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import JSON, Boolean, Date, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.domain import scenario as sc
from scheduler.domain.errors import (
    ConflictError,
    FieldProblem,
    InputError,
    NotFoundError,
    validation_problems,
)
from scheduler.domain.limits import SizeLimits, check_size
from scheduler.store import posts, residents, volunteers
from scheduler.store.db import Base, UTCDateTime


class SiteRow(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    horizon_start: Mapped[dt.date] = mapped_column(Date)
    horizon_days: Mapped[int]
    rules: Mapped[dict] = mapped_column(JSON)
    pinned: Mapped[list] = mapped_column(JSON)
    published_version: Mapped[int | None] = mapped_column(default=None)
    #: re-solve the published schedule whenever a health update is recorded (scheduler.services.replan_jobs)
    auto_resolve: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: reminders before each shift, in hours (VALARMs in the volunteers' feeds, ``shift.reminder`` webhook
    #: events: scheduler.services.reminders); empty: none
    reminder_hours: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)
    #: raised by every change of the site's calendar events (scheduler.store.calendars.sync_site): a
    #: rendered feed cached under one value is still right while it holds (not the site's ETag version)
    calendar_version: Mapped[int] = mapped_column(default=0, server_default="0")

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    @property
    def horizon(self) -> sc.Horizon:
        return sc.Horizon(start=self.horizon_start, days=self.horizon_days)


class SiteSettings(sc.Model):
    """What a site is, apart from its posts, volunteers, rules and pins."""

    site: sc.Site
    horizon: sc.Horizon


def _dump(model: BaseModel | list[BaseModel]) -> Any:
    if isinstance(model, list):
        return [m.model_dump(mode="json", by_alias=True) for m in model]
    return model.model_dump(mode="json", by_alias=True)


def get_site(session: Session, site_id: int, *, lock: bool = False) -> SiteRow:
    """The site, or NotFoundError; ``lock`` takes a row lock (PostgreSQL) for a read-modify-write.

    With ``lock`` the row is read again *and* the session's copy is overwritten (``populate_existing``):
    a request has usually loaded the site already (unlocked), and without it the locked read would hand
    back that old copy, so a guard that reads it (the stale re-solve check in
    :mod:`scheduler.services.publishing`) would see the state from before the lock was granted. Take
    the lock before changing the row: unflushed changes to it are discarded."""
    query = select(SiteRow).where(SiteRow.id == site_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = session.scalar(query)
    if row is None:
        raise NotFoundError(f"site {site_id}")
    return row


def lock_site(session: Session, site_id: int) -> SiteRow:
    """``get_site(..., lock=True)`` that also serialises on SQLite, where ``FOR UPDATE`` does nothing:
    there a no-op write to the row first takes the database's write lock (waiting for another writer
    to commit), so what is read after it is the latest committed state. For a check-then-write that two
    requests must not both pass (two claims of one open shift)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(SiteRow)
            .where(SiteRow.id == site_id)
            .values(version=SiteRow.version)
            .execution_options(synchronize_session=False)
        )
    return get_site(session, site_id, lock=True)


def sites_by_id(session: Session, ids: list[int]) -> list[SiteRow]:
    return list(session.scalars(select(SiteRow).where(SiteRow.id.in_(ids)).order_by(SiteRow.id)))


def first_site(session: Session) -> SiteRow | None:
    return session.scalar(select(SiteRow).order_by(SiteRow.id).limit(1))


def import_scenario(
    session: Session, scenario: sc.Scenario, now: dt.datetime, limits: SizeLimits | None = None
) -> SiteRow:
    """A new site holding ``scenario``: its rows, posts with their templates, volunteers with their
    health history. TooLargeError (nothing written) if it is beyond ``limits``."""
    if limits is not None:
        check_size(scenario, limits)
    row = SiteRow(
        name=scenario.site.name,
        timezone=scenario.site.timezone,
        horizon_start=scenario.horizon.start,
        horizon_days=scenario.horizon.days,
        rules=_dump(scenario.rules),
        pinned=_dump(scenario.pinned),
        created_at=now,
        version=1,
    )
    session.add(row)
    session.flush()
    for post in scenario.posts:
        posts.add_post(session, row.id, post)
    for volunteer in scenario.volunteers:
        volunteers.add_volunteer(session, row.id, volunteer, now)
    for resident in scenario.residents:
        residents.add_resident(session, row.id, resident, now)
    session.flush()
    return row


def scenario_data(session: Session, row: SiteRow, keys: Collection[str] | None = None) -> dict[str, Any]:
    """The site as a scenario file's JSON data (not validated); with ``keys``, only those volunteers."""
    return {
        "version": 1,
        "site": {"name": row.name, "timezone": row.timezone},
        "horizon": {"start": row.horizon_start.isoformat(), "days": row.horizon_days},
        "rules": row.rules,
        "posts": [_dump(posts.to_model(p)) for p in posts.list_posts(session, row.id)],
        "volunteers": [_dump(v) for v in volunteers.models(session, row.id, keys)],
        "pinned": row.pinned,
        "residents": [_dump(r) for r in residents.models(session, row.id)],
    }


def export_slice(session: Session, row: SiteRow, keys: Collection[str]) -> sc.Scenario:
    """The site as a scenario with only the volunteers ``keys`` (and their pins; a resident's primary or
    backup who is not among them left out): what checking a change among those people needs, read and
    validated without the rest of the site's volunteers (``scheduler.domain.swaps.slice_of``, the same
    from a whole scenario). ConflictError if its rows do not make one."""
    keep = set(keys)
    data = scenario_data(session, row, keys=keep)
    data["pinned"] = [p for p in data["pinned"] or [] if p.get("volunteer") in keep]
    for resident in data["residents"]:
        for role in ("primary", "backup"):
            if resident.get(role) is not None and resident[role] not in keep:
                resident[role] = None
    try:
        return sc.Scenario.model_validate(data, context=sc.OLD_DATA)
    except ValidationError as exc:
        raise ConflictError("the site is not a complete scenario", validation_problems(exc)) from None


def export_scenario(session: Session, row: SiteRow) -> sc.Scenario:
    """The site as a scenario (raises ConflictError if its rows do not make one, e.g. it has no post)."""
    try:
        return sc.Scenario.model_validate(scenario_data(session, row), context=sc.OLD_DATA)
    except ValidationError as exc:
        raise ConflictError("the site is not a complete scenario", validation_problems(exc)) from None


def validate_site(
    session: Session,
    row: SiteRow,
    *,
    blame: str | None = None,
    post: str | None = None,
    volunteer: str | None = None,
    resident: str | None = None,
    limits: SizeLimits | None = None,
) -> sc.Scenario:
    """Check that the site's rows still make a valid scenario after a change; the problems name the
    scenario's fields (``pinned[0].volunteer``, ``volunteers[3].preferences.unwanted_posts``...).

    Problems under the part that the request changed are the request's fault: they raise InputError with
    field paths relative to that part, which is ``blame`` (a top-level field: ``"rules"``, ``"pinned"``...)
    or the ``post`` or ``volunteer`` with that id. Any other problem is a conflict with the rest of the
    site (ConflictError), e.g. deleting a post that a pin names. With ``limits`` (a change that grows
    the site), TooLargeError beyond them."""
    session.flush()
    data = scenario_data(session, row)
    try:
        scenario = sc.Scenario.model_validate(data, context=sc.OLD_DATA)
    except ValidationError as exc:
        problems = validation_problems(exc)
    else:
        if limits is not None:
            check_size(scenario, limits, source="site")
        return scenario
    for key, items in ((post, "posts"), (volunteer, "volunteers"), (resident, "residents")):
        if key is not None:
            index = next((i for i, item in enumerate(data[items]) if item["id"] == key), None)
            blame = f"{items}[{index}]" if index is not None else blame
    if blame is not None and all(_under(p.field, blame) for p in problems):
        raise InputError("request", [FieldProblem(_relative(p.field, blame), p.message) for p in problems])
    raise ConflictError("the change would leave the site inconsistent", problems)


def _under(field: str, top: str) -> bool:
    return field == top or field.startswith(top + ".") or field.startswith(top + "[")


def _relative(field: str, top: str) -> str:
    return field[len(top) :].removeprefix(".")


def update_settings(row: SiteRow, update: SiteSettings) -> None:
    row.name = update.site.name
    row.timezone = update.site.timezone
    row.horizon_start = update.horizon.start
    row.horizon_days = update.horizon.days
    row.version += 1


def rules_of(row: SiteRow) -> sc.Rules:
    return sc.Rules.model_validate(row.rules)


def set_rules(row: SiteRow, rules: sc.Rules) -> None:
    row.rules = _dump(rules)
    row.version += 1


def pins_of(row: SiteRow) -> list[sc.Pin]:
    return [sc.Pin.model_validate(p) for p in row.pinned]


def set_pins(row: SiteRow, pins: list[sc.Pin]) -> None:
    row.pinned = _dump(pins)
    row.version += 1


def delete_site(session: Session, row: SiteRow) -> None:
    session.delete(row)
    session.flush()


def reminders_of(row: SiteRow) -> list[float]:
    """The site's reminder offsets in hours, largest first."""
    return sorted((float(h) for h in row.reminder_hours or []), reverse=True)


def set_auto_resolve(row: SiteRow, value: bool) -> None:
    """Whether every health update re-solves the published schedule (the site's re-solve policy)."""
    if row.auto_resolve != value:
        row.auto_resolve = value
        row.version += 1


def set_reminders(row: SiteRow, hours: list[float]) -> None:
    row.reminder_hours = sorted({float(h) for h in hours}, reverse=True)
    row.version += 1
