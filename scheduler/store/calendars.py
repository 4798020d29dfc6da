"""The persisted calendar event state behind the feeds: one row per
:class:`~scheduler.domain.calendar.EventState`, per site.

:func:`sync_site` runs inside a publication (and after a post or volunteer edit that changes what the
events show): it reads the site's rows, lets :func:`scheduler.domain.calendar.sync_events` decide what changed
(stable UIDs, SEQUENCE bumps, cancellations, forgetting old cancellations) and writes back only the
difference. The feed functions render what is stored; no health data is ever read here.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref

from sqlalchemy import (
    Date,
    Engine,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    event,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from scheduler.domain import calendar as cal
from scheduler.domain.schedule import Schedule
from scheduler.domain.visits import is_visit_post, visit_post
from scheduler.store import residents as resident_store
from scheduler.store.access import TOKEN_SHAPE, FeedTokenRow
from scheduler.store.db import Base, UTCDateTime, make_engine, unit_of_work
from scheduler.store.posts import PostRow, list_posts
from scheduler.store.posts import to_model as to_post
from scheduler.store.sites import SiteRow, reminders_of
from scheduler.store.volunteers import VolunteerRow, list_volunteers


class CalendarEventRow(Base):
    __tablename__ = "calendar_events"
    __table_args__ = (
        UniqueConstraint("site_id", "uid"),
        Index("ix_calendar_events_site_volunteer", "site_id", "volunteer"),
        Index("ix_calendar_events_site_post", "site_id", "post"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(120))
    volunteer: Mapped[str] = mapped_column(String(64))
    post: Mapped[str] = mapped_column(String(64))
    shift: Mapped[str] = mapped_column(String(64))
    date: Mapped[dt.date] = mapped_column(Date)
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    summary: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    sequence: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_modified: Mapped[dt.datetime] = mapped_column(UTCDateTime())


_STATE_FIELDS = (
    "uid",
    "volunteer",
    "post",
    "shift",
    "date",
    "start",
    "end",
    "summary",
    "location",
    "description",
    "sequence",
    "status",
    "created",
    "last_modified",
)


def to_state(row: CalendarEventRow) -> cal.EventState:
    return cal.EventState(site=str(row.site_id), **{name: getattr(row, name) for name in _STATE_FIELDS})


def _fields(state: cal.EventState) -> dict:
    return {name: getattr(state, name) for name in _STATE_FIELDS}


def _rows(session: Session, site_id: int, *, volunteer: str | None = None, post: str | None = None):
    query = select(CalendarEventRow).where(CalendarEventRow.site_id == site_id)
    if volunteer is not None:
        query = query.where(CalendarEventRow.volunteer == volunteer)
    if post is not None:
        query = query.where(CalendarEventRow.post == post)
    return list(session.scalars(query.order_by(CalendarEventRow.start, CalendarEventRow.uid)))


def _crew_rows(session: Session, site_id: int, crews: set[tuple[str, str, dt.date]]):
    """The site's rows of the given (post, shift, date) crews."""
    if not crews:
        return []
    wanted = sorted(crews)
    crew = tuple_(CalendarEventRow.post, CalendarEventRow.shift, CalendarEventRow.date)
    out = []
    for i in range(0, len(wanted), 300):  # row values: (post, shift, date) IN ((...), ...)
        query = select(CalendarEventRow).where(
            CalendarEventRow.site_id == site_id, crew.in_(wanted[i : i + 300])
        )
        out.extend(session.scalars(query))
    return out


def states(
    session: Session, site_id: int, *, volunteer: str | None = None, post: str | None = None
) -> list[cal.EventState]:
    return [to_state(r) for r in _rows(session, site_id, volunteer=volunteer, post=post)]


def sync_site(
    session: Session,
    site: SiteRow,
    schedule: Schedule,
    now: dt.datetime,
    keep_cancelled: dt.timedelta,
    *,
    volunteer: str | None = None,
    post: str | None = None,
) -> None:
    """Bring the site's event rows to ``schedule`` (the published one), as the site is now.

    After an edit of one volunteer (``volunteer``) or one post (``post``) with the schedule unchanged,
    only the events that can show it are synced: that post's, or that volunteer's and their teammates'
    on the same shifts (who see the name). The other rows are neither read nor written.

    Raises the site's ``calendar_version`` (what cached feeds are keyed by) when an event changed, and
    after every sync that is not of one post alone (a volunteer's name is in post and site feeds)."""
    crews: set[tuple[str, str, dt.date]] | None = None
    if volunteer is not None:
        crews = {(a.post, a.shift, a.date) for a in schedule.assignments if a.volunteer == volunteer}
        crews |= {(r.post, r.shift, r.date) for r in _rows(session, site.id, volunteer=volunteer)}
        rows = {
            row.uid: row
            for row in _crew_rows(session, site.id, crews)
            if row.volunteer == volunteer or (row.post, row.shift, row.date) in crews
        }
    else:
        rows = {row.uid: row for row in _rows(session, site.id, post=post)}
    if crews is not None:  # whole crews, so that the teammates come out right
        kept = [a for a in schedule.assignments if (a.post, a.shift, a.date) in crews]
        schedule = schedule.model_copy(update={"assignments": kept})
    elif post is not None:
        kept = [a for a in schedule.assignments if a.post == post]
        schedule = schedule.model_copy(update={"assignments": kept})
    post_models = [to_post(p) for p in list_posts(session, site.id)]
    post_models += [p for p in map(visit_post, resident_store.models(session, site.id)) if p is not None]
    inputs = cal.inputs_of(str(site.id), post_models, _volunteer_names(session, site.id), schedule)
    result = cal.sync_events([to_state(r) for r in rows.values()], inputs, now, keep_cancelled)
    changed = False
    for state in result:
        row = rows.pop(state.uid, None)
        if row is None:
            session.add(CalendarEventRow(site_id=site.id, **_fields(state)))
            changed = True
        elif to_state(row) != state:
            for name, value in _fields(state).items():
                setattr(row, name, value)
            changed = True
    for row in rows.values():
        session.delete(row)
        changed = True
    # post and site feeds name who is on each event when they are rendered (not stored in the rows): a
    # sync after a volunteer's edit, or of the whole site (a bulk edit), may have changed a name they show
    if changed or post is None:
        bump_calendar_version(session, site.id)
    session.flush()


def bump_calendar_version(session: Session, site_id: int) -> None:
    """Every rendered feed of the site cached under the old value is out of date (an SQL increment: no
    read-modify-write race, and not the site's own ETag version)."""
    session.execute(
        update(SiteRow)
        .where(SiteRow.id == site_id)
        .values(calendar_version=SiteRow.calendar_version + 1)
        .execution_options(synchronize_session=False)
    )


def _volunteer_names(session: Session, site_id: int) -> dict[str, str]:
    return {v.key: v.name for v in list_volunteers(session, site_id)}


def _render_volunteer(session: Session, site: SiteRow, volunteer: VolunteerRow, refresh: dt.timedelta):
    events = states(session, site.id, volunteer=volunteer.key)
    name = cal.volunteer_feed_name(site.name, volunteer.name)
    alarms = tuple(dt.timedelta(hours=h) for h in reminders_of(site))
    return cal.FEEDS.render(name, events, zone=site.timezone, refresh=refresh, alarms=alarms)


#: The one query of a feed poll, built once (building it and its cache key on every poll cost about as
#: much CPU as running it).
_SUBSCRIBED = (
    select(
        FeedTokenRow.volunteer_id, FeedTokenRow.post_id, VolunteerRow.key, VolunteerRow.name,
        PostRow.key, PostRow.name, SiteRow.id, SiteRow.name, SiteRow.timezone, SiteRow.reminder_hours,
        SiteRow.calendar_version,
    )
    .join(SiteRow, SiteRow.id == FeedTokenRow.site_id)
    .outerjoin(VolunteerRow, VolunteerRow.id == FeedTokenRow.volunteer_id)
    .outerjoin(PostRow, PostRow.id == FeedTokenRow.post_id)
    .where(FeedTokenRow.token_hash == bindparam("token_hash"))
)


def _version_key(identity: tuple, site_id: int, version: int, volunteer: tuple, post: tuple, site_name: str,
                 zone: str, reminders, refresh: dt.timedelta) -> tuple:
    """Everything a feed is made of apart from its events (and the names of who is on them, which move
    ``calendar_version`` when they change), with ``identity`` keeping apart sites of different databases
    (or a site re-created under a reused id) whose ids and versions are equal."""
    return (identity, site_id, version, volunteer, post, site_name, zone,
            tuple(sorted(float(h) for h in reminders or [])), refresh)


def _coordinator_key(session: Session, site: SiteRow, refresh: dt.timedelta, *,
                     volunteer: VolunteerRow | None = None, post: PostRow | None = None) -> tuple:
    # the database's URL and the site's creation instant: a coordinator's read has no feed token
    identity = ("coordinator", str(session.get_bind().url), site.created_at)
    who = (volunteer.key, volunteer.name) if volunteer is not None else (None, None)
    what = (post.key, post.name) if post is not None else (None, None)
    return _version_key(identity, site.id, site.calendar_version, who, what, site.name, site.timezone,
                        site.reminder_hours, refresh)


def _versioned(key: tuple, render) -> tuple[bytes, str]:
    hit = cal.FEEDS.versioned(key)
    if hit is not None:
        return hit
    result = render()
    cal.FEEDS.remember(key, result)
    return result


def volunteer_feed(session: Session, site: SiteRow, volunteer: VolunteerRow, refresh: dt.timedelta):
    """(bytes, etag) of a volunteer's own shifts: only post, shift and time, never anything else; a
    VALARM for each of the site's reminders. While the site's ``calendar_version`` (and the names the
    feed shows) are as when it was last rendered, the rendered feed is served without reading the
    events (the coordinator's read of it: no query beyond the rows the route has loaded)."""
    key = _coordinator_key(session, site, refresh, volunteer=volunteer)
    return _versioned(key, lambda: _render_volunteer(session, site, volunteer, refresh))


def _subscribed_key(token_hash: str, found, refresh: dt.timedelta) -> tuple | None:
    """The version key of a feed poll from the row of :data:`_SUBSCRIBED` (None: no such feed)."""
    if found is None:
        return None
    (volunteer_id, post_id, volunteer_key, volunteer_name, post_key, post_name, site_id, site_name, zone,
     reminders, version) = found
    if (volunteer_id is not None and volunteer_key is None) or (post_id is not None and post_key is None):
        return None  # pragma: no cover - deleted between the token's and the feed's rows
    # the token (random, one live per feed) keeps apart sites of different databases with equal ids
    return _version_key(("token", token_hash), site_id, version, (volunteer_key, volunteer_name),
                        (post_key, post_name), site_name, zone, reminders, refresh)


#: :data:`_SUBSCRIBED` as the SQL text of each dialect (compiled once), for :func:`polled_feed`
_SUBSCRIBED_SQL: dict[str, str] = {}


def polled_feed(
    sessions: sessionmaker[Session], token: str, refresh: dt.timedelta
) -> tuple[bytes, str] | None:
    """A calendar app's poll, as :func:`subscribed_feed` answers it, with one statement and no transaction
    while the feed is unchanged (the service's hot path: ``docs/BENCHMARKS.md``, "Load test").

    On PostgreSQL the one query of :func:`subscribed_feed` runs in autocommit on a connection of a small
    pool of its own beside the sessions' engine (:func:`_poll_engine`, without the ping before each use):
    no ``BEGIN``, no ``COMMIT``, one round trip where a session's unit of work takes six, and none of the
    session's own work. A connection that fails is dropped, and the error sends the poll the general way
    (the route, whose pool pings). A feed rendered before under the
    key it reads is served as it is; otherwise (the first poll after a change, an unknown token) the poll
    is :func:`subscribed_feed`'s, in a unit of work of its own. Other databases always take that path."""
    engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql" or not TOKEN_SHAPE.match(token):
        return _subscribed_in_unit(sessions, token, refresh)
    sql = _SUBSCRIBED_SQL.get(engine.dialect.name)
    if sql is None:
        sql = _SUBSCRIBED_SQL[engine.dialect.name] = str(_SUBSCRIBED.compile(dialect=engine.dialect))
    token_hash = cal.hash_token(token)
    pooled = _poll_engine(engine).raw_connection()
    try:
        connection = pooled.driver_connection
        connection.autocommit = True  # one SELECT: no transaction to begin or end
        with connection.cursor() as cursor:
            cursor.execute(sql, {"token_hash": token_hash})
            found = cursor.fetchone()
        connection.autocommit = False
    except BaseException:
        pooled.invalidate()  # a connection in an unknown state is not used again
        raise
    finally:
        pooled.close()  # back to the pool
    version_key = _subscribed_key(token_hash, found, refresh)
    hit = cal.FEEDS.versioned(version_key) if version_key is not None else None
    if hit is not None:
        return hit
    return _subscribed_in_unit(sessions, token, refresh)


_POLL_ENGINES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_POLL_ENGINES_LOCK = threading.Lock()
POLL_POOL_SIZE = 4  # the service's feed-read threads (api.routes.calendar._FEED_THREADS)


def _poll_engine(engine: Engine) -> Engine:
    """The polls' engine beside ``engine``: the same database, a pool of :data:`POLL_POOL_SIZE` connections
    and no ping before each use (the ping is a round trip, half of a cached poll's database time). It is
    disposed with ``engine`` (and made again at the next poll), and goes with it."""
    poll = _POLL_ENGINES.get(engine)
    if poll is not None:
        return poll
    with _POLL_ENGINES_LOCK:
        poll = _POLL_ENGINES.get(engine)
        if poll is None:
            poll = make_engine(engine.url.render_as_string(hide_password=False), pool_size=POLL_POOL_SIZE,
                               max_overflow=POLL_POOL_SIZE, pool_timeout=engine.pool.timeout(),
                               pool_pre_ping=False)
            _POLL_ENGINES[engine] = poll
            if not event.contains(engine, "engine_disposed", _dispose_poll_engine):
                event.listen(engine, "engine_disposed", _dispose_poll_engine)
    return poll


def _dispose_poll_engine(engine: Engine) -> None:
    with _POLL_ENGINES_LOCK:
        poll = _POLL_ENGINES.pop(engine, None)
    if poll is not None:
        poll.dispose()


def _subscribed_in_unit(sessions: sessionmaker[Session], token: str, refresh: dt.timedelta):
    with unit_of_work(sessions) as session:
        return subscribed_feed(session, token, refresh)


def subscribed_feed(session: Session, token: str, refresh: dt.timedelta) -> tuple[bytes, str] | None:
    """(bytes, etag) of the feed that ``token`` opens (a volunteer's, a post's or the site's), or None
    when it opens none (an unknown or malformed token: the caller takes the general path, and its 404).

    The fast path of a calendar app's poll: one query reads the token's site (name, zone, reminders,
    ``calendar_version``) and its volunteer (key, name) or post (key, name), everything the feed is made
    of apart from its events and the names of who is on them; while none of it changed, the feed rendered
    before is served as it is, without reading the events. Every change of an event raises the site's
    ``calendar_version``, and so does every change of a name the post and site feeds show
    (:func:`sync_site`, :func:`bump_calendar_version`). Otherwise the feed is read and rendered as
    :func:`volunteer_feed`, :func:`post_feed` or :func:`site_feed` does, and remembered under that key."""
    if not TOKEN_SHAPE.match(token):
        return None
    token_hash = cal.hash_token(token)
    found = session.execute(_SUBSCRIBED, {"token_hash": token_hash}).one_or_none()
    version_key = _subscribed_key(token_hash, found, refresh)
    if version_key is None:
        return None
    hit = cal.FEEDS.versioned(version_key)
    if hit is not None:
        return hit
    volunteer_id, post_id, site_id = found[0], found[1], found[6]
    site = session.get(SiteRow, site_id)
    if site is None:  # pragma: no cover - deleted between the two reads
        return None
    if volunteer_id is not None:
        volunteer = session.get(VolunteerRow, volunteer_id)
        if volunteer is None:  # pragma: no cover
            return None
        result = _render_volunteer(session, site, volunteer, refresh)
    elif post_id is not None:
        post = session.get(PostRow, post_id)
        if post is None:  # pragma: no cover
            return None
        result = _render_post(session, site, post, refresh)
    else:
        result = _render_site(session, site, refresh)
    cal.FEEDS.remember(version_key, result)
    return result


def _render_post(session: Session, site: SiteRow, post: PostRow, refresh: dt.timedelta):
    events = states(session, site.id, post=post.key)
    name = cal.post_feed_name(site.name, post.name)
    names = _volunteer_names(session, site.id)
    return cal.FEEDS.render(name, events, zone=site.timezone, refresh=refresh, volunteer_names=names)


def _render_site(session: Session, site: SiteRow, refresh: dt.timedelta):
    events = [e for e in states(session, site.id) if not is_visit_post(e.post)]
    names = _volunteer_names(session, site.id)
    return cal.FEEDS.render(
        cal.site_feed_name(site.name), events, zone=site.timezone, refresh=refresh, volunteer_names=names
    )


def post_feed(session: Session, site: SiteRow, post: PostRow, refresh: dt.timedelta):
    """(bytes, etag) of one post's shifts, each event naming who is on it; served from the cache as
    :func:`volunteer_feed` is while nothing in it changed."""
    key = _coordinator_key(session, site, refresh, post=post)
    return _versioned(key, lambda: _render_post(session, site, post, refresh))


def site_feed(session: Session, site: SiteRow, refresh: dt.timedelta):
    """(bytes, etag) of every shift of the site, each event naming who is on it; never a home visit (a
    resident's address and needs are for the visiting volunteer's own feed only). Served from the cache
    as :func:`volunteer_feed` is while nothing in it changed."""
    return _versioned(_coordinator_key(session, site, refresh), lambda: _render_site(session, site, refresh))
