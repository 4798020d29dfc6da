"""iCalendar feeds of a published schedule: pure functions, no database and no HTTP.

The service keeps one :class:`EventState` row per assignment it ever published and, whenever a
schedule is published (a first solve or a re-solve), calls::

    states = sync_events(previous_rows_of_the_site, event_inputs(...), now)

and stores the result in place of the site's rows (rows missing from the result are deleted). A feed
is then::

    body, etag = render_feed(name, [s for s in states if s.volunteer == vid], zone=site_timezone)

* :func:`sync_events` keeps each assignment's UID stable (derived from site, volunteer, post, shift
  template and date), bumps ``SEQUENCE`` and ``LAST-MODIFIED`` only when what a calendar shows changes,
  turns assignments that disappeared into ``STATUS:CANCELLED`` events (so subscribed clients drop
  them) and forgets those once the shift is over and the cancellation older than ``keep_cancelled``.
* :func:`render_feed` writes a complete ``VCALENDAR`` (``METHOD:PUBLISH``, calendar name, refresh
  interval, a ``VTIMEZONE`` for the site's zone) whose bytes depend only on its arguments:
  ``DTSTAMP`` is each event's last change, never "now", so an unchanged feed is byte-identical and
  its strong ``ETag`` answers conditional requests with 304.
* Nothing about anyone's health is carried: :class:`EventInput` and :class:`EventState` have no field
  for it, and :func:`event_inputs` reads only post, shift, names and times from a scenario.

Volunteer feeds live at an unguessable URL: :func:`new_feed_token` makes the token that goes in the
URL, :func:`hash_token` the only form of it the service stores.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import icalendar

if TYPE_CHECKING:  # only for the optional scenario -> EventInput helper
    from scheduler.domain.scenario import Post, Scenario
    from scheduler.domain.schedule import Schedule

UTC = dt.UTC
CONFIRMED = "CONFIRMED"
CANCELLED = "CANCELLED"
STATUSES = (CONFIRMED, CANCELLED)

#: The media type feeds are served with (inline, not as an attachment).
CONTENT_TYPE = "text/calendar; charset=utf-8"
DEFAULT_PRODID = "-//rota//volunteer rota//EN"
DEFAULT_REFRESH = dt.timedelta(hours=1)
DEFAULT_KEEP_CANCELLED = dt.timedelta(days=14)
#: The span a VTIMEZONE covers in a feed without events (icalendar's own default span).
EMPTY_FEED_ZONE_SPAN = (dt.date(1970, 1, 1), dt.date(2038, 1, 1))


# --------------------------------------------------------------------------------------------- records


def _utc(value: dt.datetime, what: str) -> dt.datetime:
    """``value`` as an aware UTC datetime to the second; naive values are refused."""
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{what}: expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{what}: naive datetime {value.isoformat()} (expected timezone-aware; values read back from "
            "a database column without a time zone must be given tzinfo=UTC)"
        )
    return value.astimezone(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class EventInput:
    """One assignment of a published schedule, with what its calendar event shows."""

    site: str  # site id/slug
    volunteer: str  # volunteer id
    volunteer_name: str
    post: str  # post id
    post_name: str
    shift: str  # shift template id
    date: dt.date  # local date on which the shift starts
    start: dt.datetime  # aware
    end: dt.datetime  # aware
    location: str | None
    instructions: str | None  # what to bring / what to do
    teammates: tuple[str, ...] = ()  # names of the others on the same shift, for the description
    shift_name: str | None = None  # readable shift name; the template id when missing

    def __post_init__(self) -> None:
        start = _utc(self.start, "start")
        end = _utc(self.end, "end")
        if end <= start:
            raise ValueError(f"end {self.end.isoformat()} is not after start {self.start.isoformat()}")
        if isinstance(self.date, dt.datetime) or not isinstance(self.date, dt.date):
            raise TypeError(f"date: expected a date, got {type(self.date).__name__}")
        object.__setattr__(self, "teammates", tuple(self.teammates))

    @property
    def uid(self) -> str:
        return event_uid(self.site, self.volunteer, self.post, self.shift, self.date)


@dataclass(frozen=True)
class EventState:
    """What is persisted per event (one row each). Instants are UTC (aware values in another offset are
    converted; naive ones are refused)."""

    uid: str
    site: str
    volunteer: str
    post: str
    shift: str
    date: dt.date
    start: dt.datetime
    end: dt.datetime
    summary: str
    location: str | None
    description: str
    sequence: int
    status: str  # "CONFIRMED" or "CANCELLED"
    created: dt.datetime
    last_modified: dt.datetime  # DTSTAMP and LAST-MODIFIED are this, never "now"

    def __post_init__(self) -> None:
        for name in ("start", "end", "created", "last_modified"):
            object.__setattr__(self, name, _utc(getattr(self, name), name))
        if self.status not in STATUSES:
            raise ValueError(f"status: expected one of {STATUSES}, got {self.status!r}")
        if self.sequence < 0:
            raise ValueError(f"sequence: must be >= 0, got {self.sequence}")
        if self.end <= self.start:
            raise ValueError(f"event {self.uid}: end is not after start")

    @property
    def cancelled(self) -> bool:
        return self.status == CANCELLED


# ------------------------------------------------------------------------------------------ identities


def event_uid(site: str, volunteer: str, post: str, shift: str, date: dt.date) -> str:
    """The event's UID: the same for the same (site, volunteer, post, shift template, date) in every
    publication, and nothing else. The ids are hashed, so the UID shows none of them."""
    key = json.dumps([site, volunteer, post, shift, date.isoformat()], ensure_ascii=False)
    return hashlib.sha1(key.encode("utf-8")).hexdigest() + "@rota"


def new_feed_token() -> str:
    """A fresh secret for a feed URL (256 bits, URL-safe). Show it once; store only :func:`hash_token`."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a feed token (sha256 hex); look a request's token up by this hash."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _clean_name(value: str) -> str:
    """One line: runs of white space (newlines included) become one space; control characters go."""
    return " ".join(_CONTROL.sub("", value).split())


def _clean_text(value: str) -> str:
    """Several lines: newlines normalised to LF, control characters dropped, ends stripped."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


def volunteer_feed_name(site_name: str, volunteer_name: str) -> str:
    return f"{_clean_name(site_name)} — shifts of {_clean_name(volunteer_name)}"


def post_feed_name(site_name: str, post_name: str) -> str:
    return f"{_clean_name(site_name)} — post {_clean_name(post_name)}"


def site_feed_name(site_name: str) -> str:
    return f"{_clean_name(site_name)} — all posts"


# ------------------------------------------------------------------------------------------- contents


def event_summary(inp: EventInput) -> str:
    """E.g. ``Gate North — night``."""
    return f"{_clean_name(inp.post_name)} — {_clean_name(inp.shift_name or inp.shift)}"


def event_description(inp: EventInput) -> str:
    """Post, shift, what to bring / do and who else is on the shift; nothing else."""
    lines = [f"Post: {_clean_name(inp.post_name)}", f"Shift: {_clean_name(inp.shift_name or inp.shift)}"]
    instructions = _clean_text(inp.instructions or "")
    if instructions:
        lines.append(f"Instructions: {instructions}")
    teammates = sorted({_clean_name(t) for t in inp.teammates if t.strip()})
    if teammates:
        lines.append(f"With: {', '.join(teammates)}")
    return "\n".join(lines)


def _location(inp: EventInput) -> str | None:
    location = _clean_text(inp.location or "")
    return location or None


def _content(state: EventState) -> tuple:
    return (state.start, state.end, state.summary, state.location, state.description)


# ------------------------------------------------------------------------------------------------ sync


def _sort_key(state: EventState) -> tuple:
    return (state.start, state.end, state.uid)


def sync_events(
    previous: Iterable[EventState],
    current: Iterable[EventInput],
    now: dt.datetime,
    keep_cancelled: dt.timedelta = DEFAULT_KEEP_CANCELLED,
    *,
    horizon: tuple[dt.datetime, dt.datetime] | None = None,
) -> list[EventState]:
    """The event states after publishing ``current`` (every assignment of the scope, past ones
    included: an assignment left out is cancelled) over ``previous`` (the stored states of the scope).

    With ``horizon`` (from, until), the publication covers only the shifts starting in ``[from,
    until)``: a CONFIRMED state starting outside it is kept as it is (e.g. last week's schedule when
    next week's is published), instead of being cancelled for not being in ``current``.

    * a new assignment: CONFIRMED, sequence 0, created = last_modified = ``now``;
    * same UID, same times, summary, location and description: the previous state, untouched;
    * same UID, something shown changed: sequence + 1, last_modified = ``now``, CONFIRMED
      (a CANCELLED one re-assigned comes back the same way);
    * a CONFIRMED state no longer assigned: CANCELLED, sequence + 1, last_modified = ``now``;
    * a CANCELLED state whose last change is more than ``keep_cancelled`` before ``now`` and whose
      shift is over: dropped. A cancelled shift still to come is kept, so that if the same assignment
      is made again its SEQUENCE goes on rising from where it was (a UID's SEQUENCE never goes back).

    ``last_modified`` never goes backwards, even if ``now`` is before a stored change (clock skew).
    The result is ordered by start, end and UID.
    """
    now = _utc(now, "now")
    if keep_cancelled < dt.timedelta(0):
        raise ValueError("keep_cancelled must not be negative")
    if horizon is not None:
        horizon = (_utc(horizon[0], "horizon from"), _utc(horizon[1], "horizon until"))
    before: dict[str, EventState] = {}
    for state in previous:
        if state.uid in before:
            raise ValueError(f"previous: duplicate event {state.uid}")
        before[state.uid] = state
    wanted: dict[str, EventInput] = {}
    for inp in current:
        uid = inp.uid
        if uid in wanted:
            raise ValueError(
                f"current: {inp.volunteer!r} is assigned twice to post {inp.post!r}, "
                f"shift {inp.shift!r} on {inp.date}"
            )
        wanted[uid] = inp

    result: list[EventState] = []
    for uid, inp in wanted.items():
        start, end = _utc(inp.start, "start"), _utc(inp.end, "end")
        summary, location, description = event_summary(inp), _location(inp), event_description(inp)
        old = before.get(uid)
        if old is None:
            result.append(
                EventState(
                    uid=uid,
                    site=inp.site,
                    volunteer=inp.volunteer,
                    post=inp.post,
                    shift=inp.shift,
                    date=inp.date,
                    start=start,
                    end=end,
                    summary=summary,
                    location=location,
                    description=description,
                    sequence=0,
                    status=CONFIRMED,
                    created=now,
                    last_modified=now,
                )
            )
        elif old.status == CONFIRMED and _content(old) == (start, end, summary, location, description):
            result.append(old)
        else:
            result.append(
                replace(
                    old,
                    start=start,
                    end=end,
                    summary=summary,
                    location=location,
                    description=description,
                    sequence=old.sequence + 1,
                    status=CONFIRMED,
                    last_modified=max(now, old.last_modified),
                )
            )
    for uid, old in before.items():
        if uid in wanted:
            continue
        if old.status == CONFIRMED and horizon is not None and not horizon[0] <= old.start < horizon[1]:
            result.append(old)
        elif old.status == CONFIRMED:
            result.append(
                replace(
                    old,
                    status=CANCELLED,
                    sequence=old.sequence + 1,
                    last_modified=max(now, old.last_modified),
                )
            )
        elif now - old.last_modified <= keep_cancelled or now < old.end:
            result.append(old)
    result.sort(key=_sort_key)
    return result


def select_events(
    states: Iterable[EventState],
    *,
    site: str | None = None,
    volunteer: str | None = None,
    post: str | None = None,
) -> list[EventState]:
    """The states of one feed: a volunteer's, a post's or a whole site's."""
    return [
        s
        for s in states
        if (site is None or s.site == site)
        and (volunteer is None or s.volunteer == volunteer)
        and (post is None or s.post == post)
    ]


# --------------------------------------------------------------------------------------- serialisation
#
# The calendar is built with the icalendar library's components and written by its ``to_ical()``,
# which escapes TEXT values, writes dates, offsets and durations, folds lines at 75 octets (between
# characters, so never inside a UTF-8 sequence, and not between a backslash and what it escapes) and
# ends every line with CRLF. Its output is a function of the components alone: properties come out in
# a fixed order (the component's canonical ones first, the rest alphabetically; repeated properties in
# the order they were added) and subcomponents in the order they were added, which here is sorted.
#
# The VTIMEZONE is not icalendar's ``Timezone.from_tzinfo``: that writes each DST onset an hour late
# (e.g. ``DTSTART:20260329T030000`` with ``TZOFFSETFROM:+0100`` for Europe/Berlin, where RFC 5545
# wants the local time before the change, 02:00). The changes are computed here
# (:func:`zone_transitions`) and given to icalendar's observance components.


def _plain(value: str) -> str:
    """A TEXT value before icalendar escapes it: newlines normalised to LF, control characters dropped
    (RFC 5545 TEXT may not hold them, and icalendar writes them as they are)."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def _refresh(delta: dt.timedelta) -> dt.timedelta:
    """The refresh interval to the second; it must be at least a second."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        raise ValueError("refresh must be positive")
    return dt.timedelta(seconds=seconds)


def _zone_state(zone: ZoneInfo, instant: int) -> tuple[dt.timedelta, bool, str]:
    local = dt.datetime.fromtimestamp(instant, zone)
    return (
        local.utcoffset() or dt.timedelta(0),
        (local.dst() or dt.timedelta(0)) > dt.timedelta(0),
        local.tzname() or "",
    )


def zone_transitions(
    zone: ZoneInfo, first: dt.date, last: dt.date
) -> tuple[tuple[dt.timedelta, bool, str], list[tuple[int, dt.timedelta, dt.timedelta, bool, str]]]:
    """The zone's state at ``first`` (local midnight) and every change of offset, DST flag or name until
    ``last``: ``(instant, offset before, offset after, dst after, name after)``, instants in Unix
    seconds. Found by daily steps then bisection to the second."""
    lo = int(dt.datetime.combine(first, dt.time(), zone).timestamp())
    hi = int(dt.datetime.combine(last, dt.time(), zone).timestamp())
    initial = _zone_state(zone, lo)
    changes: list[tuple[int, dt.timedelta, dt.timedelta, bool, str]] = []
    state, t = initial, lo
    while t < hi:
        step = min(t + 86400, hi)
        new = _zone_state(zone, step)
        if new != state:
            a, b = t, step  # state at a is the old one, at b the new one
            while b - a > 1:
                mid = (a + b) // 2
                if _zone_state(zone, mid) == state:
                    a = mid
                else:
                    b = mid
            new = _zone_state(zone, b)
            changes.append((b, state[0], new[0], new[1], new[2]))
            state, t = new, b
        else:
            t = step
    return initial, changes


#: One observance of a VTIMEZONE: DST or not, its name, TZOFFSETFROM, TZOFFSETTO and its onsets (local
#: wall-clock times in the offset before each change), the first of which is its DTSTART.
_Observance = tuple[bool, str, dt.timedelta, dt.timedelta, tuple[dt.datetime, ...]]


@functools.lru_cache(maxsize=256)
def _observances(zone_name: str, first: dt.date, last: dt.date) -> tuple[_Observance, ...]:
    """The zone's observances from ``first`` to ``last``, ordered by first onset: changes with the same
    kind, name and offsets are merged into one observance."""
    zone = ZoneInfo(zone_name)
    (offset, dst, name), changes = zone_transitions(zone, first, last)
    start_local = dt.datetime.fromtimestamp(
        int(dt.datetime.combine(first, dt.time(), zone).timestamp()), zone
    ).replace(tzinfo=None)
    groups: dict[tuple[bool, str, dt.timedelta, dt.timedelta], list[dt.datetime]] = {
        (dst, name, offset, offset): [start_local]
    }
    for instant, before, after, is_dst, after_name in changes:
        onset = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=instant) + before
        groups.setdefault((is_dst, after_name, before, after), []).append(onset)
    ordered = sorted(groups.items(), key=lambda kv: kv[1][0])
    return tuple((*key, tuple(onsets)) for key, onsets in ordered)


def vtimezone(zone_name: str, first: dt.date, last: dt.date) -> icalendar.Timezone:
    """A VTIMEZONE for ``zone_name`` valid from ``first`` to ``last`` (a new component on each call).

    Each observance's DTSTART is the local time of the change *in the offset before it*
    (``TZOFFSETFROM``), as RFC 5545 section 3.6.5 requires; observances with the same kind, name and
    offsets are merged, each later onset in an RDATE property of its own (vobject reads only the first
    value of a multi-valued RDATE in a VTIMEZONE)."""
    component = icalendar.Timezone()
    component.add("TZID", zone_name)
    for is_dst, tzname, before, after, onsets in _observances(zone_name, first, last):
        observance = icalendar.TimezoneDaylight() if is_dst else icalendar.TimezoneStandard()
        observance.add("DTSTART", onsets[0])  # naive: local time, no TZID
        for onset in onsets[1:]:
            observance.add("RDATE", onset)
        if tzname:
            observance.add("TZNAME", tzname)
        observance.add("TZOFFSETFROM", before)
        observance.add("TZOFFSETTO", after)
        component.add_component(observance)
    return component


def _zone_span(events: list[EventState], zone: ZoneInfo) -> tuple[dt.date, dt.date]:
    """Whole calendar years around the events (local), so the VTIMEZONE changes rarely."""
    if not events:
        return EMPTY_FEED_ZONE_SPAN
    first = min(e.start for e in events).astimezone(zone).year
    last = max(e.end for e in events).astimezone(zone).year
    return dt.date(first, 1, 1), dt.date(last + 1, 1, 1)


def _when(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """DTSTART/DTEND in the feed's zone (icalendar writes its TZID), or in UTC where the local time
    would be read as another instant (the second pass through a repeated hour: RFC 5545 takes the
    first)."""
    local = value.astimezone(zone)
    if local.replace(fold=0).astimezone(UTC) != value:
        return value.astimezone(UTC)
    return local.replace(fold=0)


def _alarm(before: dt.timedelta, summary: str) -> icalendar.Alarm:
    """A display reminder ``before`` the start (RFC 5545 3.6.6: ACTION, TRIGGER and DESCRIPTION)."""
    alarm = icalendar.Alarm()
    alarm.add("ACTION", "DISPLAY")
    alarm.add("DESCRIPTION", _plain(summary))
    alarm.add("TRIGGER", -before)
    return alarm


def _event(
    event: EventState,
    zone: ZoneInfo,
    volunteer_names: Mapping[str, str] | None,
    alarms: Sequence[dt.timedelta] = (),
) -> icalendar.Event:
    summary = event.summary
    if volunteer_names is not None:
        summary = f"{summary} ({_clean_name(volunteer_names.get(event.volunteer, event.volunteer))})"
    if event.cancelled:
        summary = f"Cancelled: {summary}"
    component = icalendar.Event()
    component.add("UID", _plain(event.uid))
    component.add("SEQUENCE", event.sequence)
    component.add("STATUS", event.status)
    component.add("DTSTAMP", event.last_modified)
    component.add("CREATED", event.created)
    component.add("LAST-MODIFIED", event.last_modified)
    component.add("DTSTART", _when(event.start, zone))
    component.add("DTEND", _when(event.end, zone))
    component.add("SUMMARY", _plain(summary))
    if event.location:
        component.add("LOCATION", _plain(event.location))
    if event.description:
        component.add("DESCRIPTION", _plain(event.description))
    component.add("TRANSP", "TRANSPARENT" if event.cancelled else "OPAQUE")
    if not event.cancelled:
        for before in alarms:
            component.add_component(_alarm(before, summary))
    return component


def render_feed(
    name: str,
    events: Iterable[EventState],
    *,
    zone: str,
    refresh: dt.timedelta = DEFAULT_REFRESH,
    prodid: str = DEFAULT_PRODID,
    volunteer_names: Mapping[str, str] | None = None,
    alarms: Sequence[dt.timedelta] = (),
) -> tuple[bytes, str]:
    """The feed's bytes (UTF-8, CRLF, folded at 75 octets) and its strong ETag (quoted sha256 hex).

    The bytes depend only on the arguments: events are ordered by start, end and UID whatever order
    they come in, and every stamp is the event's own ``last_modified``. A feed without events is still a
    valid calendar (its VTIMEZONE is the one component RFC 5545 asks for). Pass ``volunteer_names``
    (volunteer id -> name) for coordinators' post and site feeds: each summary then names who is on it.
    ``alarms``: a VALARM (display) this long before the start of each event that is not cancelled (the
    site's reminders, in volunteers' own feeds).
    """
    tz = ZoneInfo(zone)  # raises for an unknown zone
    ordered = sorted(events, key=_sort_key)
    seen: set[str] = set()
    for event in ordered:
        if event.uid in seen:
            raise ValueError(f"event {event.uid} appears twice in the feed")
        seen.add(event.uid)
    duration = _refresh(refresh)
    calendar = icalendar.Calendar()
    calendar.add("VERSION", "2.0")
    calendar.add("PRODID", _plain(prodid))
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    # icalendar types NAME (RFC 7986: TEXT) and X- properties as "unknown" and writes a plain string
    # for them unescaped (a comma or semicolon as it is, a newline breaking the line): typed here.
    calendar.add("NAME", icalendar.vText(_plain(name)))
    calendar.add("X-WR-CALNAME", icalendar.vText(_plain(name)))
    calendar.add("X-WR-TIMEZONE", icalendar.vText(zone))
    calendar.add("REFRESH-INTERVAL", icalendar.vDuration(duration), parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", icalendar.vDuration(duration))
    calendar.add_component(vtimezone(zone, *_zone_span(ordered, tz)))
    for event in ordered:
        calendar.add_component(_event(event, tz, volunteer_names, alarms))
    body = calendar.to_ical()
    return body, make_etag(body)


class FeedCache:
    """Rendered feeds, keyed by everything :func:`render_feed` reads (it is a pure function of its
    arguments): a feed read whose events have not changed costs a dictionary lookup instead of a render
    (the render is most of a feed read: about 1 ms per event with icalendar). Least recently used
    entries go first once the bodies held pass ``max_bytes``. Thread-safe; one per process."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024, max_versions: int = 20_000) -> None:
        self.max_bytes = max_bytes
        self.max_versions = max_versions
        self._entries: OrderedDict[tuple, tuple[bytes, str]] = OrderedDict()
        self._versions: OrderedDict[tuple, tuple[bytes, str]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _key(name: str, events: tuple[EventState, ...], kwargs: dict) -> tuple:
        frozen = []
        for key, value in sorted(kwargs.items()):
            if isinstance(value, Mapping):
                value = tuple(sorted(value.items()))
            elif isinstance(value, list | set | frozenset):
                value = tuple(sorted(value)) if isinstance(value, set | frozenset) else tuple(value)
            frozen.append((key, value))
        return (name, events, tuple(frozen))

    def render(self, name: str, events: Iterable[EventState], **kwargs) -> tuple[bytes, str]:
        ordered = tuple(sorted(events, key=_sort_key))
        key = self._key(name, ordered, kwargs)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return hit
        result = render_feed(name, ordered, **kwargs)
        size = len(result[0])
        with self._lock:
            self.misses += 1
            if size <= self.max_bytes and key not in self._entries:
                self._entries[key] = result
                self._bytes += size
                while self._bytes > self.max_bytes:
                    _, (body, _) = self._entries.popitem(last=False)
                    self._bytes -= len(body)
        return result

    def versioned(self, key: tuple) -> tuple[bytes, str] | None:
        """A feed remembered under ``key`` (see :meth:`remember`), or None."""
        with self._lock:
            hit = self._versions.get(key)
            if hit is not None:
                self._versions.move_to_end(key)
                self.hits += 1
            return hit

    def remember(self, key: tuple, result: tuple[bytes, str]) -> None:
        """Remember a rendered feed under a key of everything it was made of apart from its events and a
        version that changes with each of them (the storage layer's ``calendar_version``): a read that
        finds the same key serves it without reading the events. Bounded by count (the bodies are the
        ones :meth:`render` holds)."""
        with self._lock:
            self._versions[key] = result
            self._versions.move_to_end(key)
            while len(self._versions) > self.max_versions:
                self._versions.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._versions.clear()
            self._bytes = 0


#: the process's cache of rendered feeds (scheduler.store.calendars reads through it)
FEEDS = FeedCache()


# ---------------------------------------------------------------------------------------------- HTTP


def make_etag(body: bytes) -> str:
    """A strong ETag: the quoted sha256 hex of the bytes."""
    return f'"{hashlib.sha256(body).hexdigest()}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header matches ``etag`` (weak comparison, as RFC 9110 asks for this
    header; ``*`` matches): answer 304 Not Modified when it does."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    candidates = (c.strip().removeprefix("W/") for c in if_none_match.split(","))
    return any(c == bare for c in candidates)


def feed_headers(etag: str, filename: str = "rota.ics") -> dict[str, str]:
    """Response headers for a feed (200 or 304): served inline as text/calendar, revalidated by
    clients on each refresh and kept out of shared caches (the URL is a secret)."""
    return {
        "Content-Type": CONTENT_TYPE,
        "Content-Disposition": f'inline; filename="{filename}"',
        "ETag": etag,
        "Cache-Control": "private, no-cache",
    }


# ------------------------------------------------------------------------- from a scenario + schedule


def event_inputs(site: str, scenario: Scenario, schedule: Schedule) -> list[EventInput]:
    """The :class:`EventInput` of every assignment of ``schedule``: post name, location and
    instructions from the scenario's posts, names from its volunteers, teammates from the other people
    on the same post, shift and date. Health, contact details, preferences and history are not read."""
    from scheduler.domain.visits import all_posts  # home visits: the address and needs, never the name

    return inputs_of(site, all_posts(scenario), {v.id: v.name for v in scenario.volunteers}, schedule)


def inputs_of(
    site: str, post_list: Iterable[Post], names: Mapping[str, str], schedule: Schedule
) -> list[EventInput]:
    """:func:`event_inputs` from the posts (visit posts included) and the volunteers' names alone (what
    the events show)."""
    posts = {p.id: p for p in post_list}
    crews: dict[tuple[str, str, dt.date], list[str]] = {}
    for a in schedule.assignments:
        crews.setdefault((a.post, a.shift, a.date), []).append(a.volunteer)
    result = []
    for a in schedule.assignments:
        post = posts.get(a.post)
        others = [v for v in crews[(a.post, a.shift, a.date)] if v != a.volunteer]
        result.append(
            EventInput(
                site=site,
                volunteer=a.volunteer,
                volunteer_name=names.get(a.volunteer, a.volunteer),
                post=a.post,
                post_name=post.name if post is not None else a.post,
                shift=a.shift,
                date=a.date,
                start=a.start,
                end=a.end,
                location=post.location if post is not None else None,
                instructions=post.instructions if post is not None else None,
                teammates=tuple(sorted(names.get(v, v) for v in others)),
            )
        )
    return result


__all__ = [
    "CANCELLED",
    "CONFIRMED",
    "CONTENT_TYPE",
    "EventInput",
    "EventState",
    "etag_matches",
    "event_description",
    "event_inputs",
    "inputs_of",
    "event_summary",
    "event_uid",
    "feed_headers",
    "hash_token",
    "make_etag",
    "new_feed_token",
    "post_feed_name",
    "render_feed",
    "select_events",
    "site_feed_name",
    "sync_events",
    "volunteer_feed_name",
    "vtimezone",
    "zone_transitions",
]
