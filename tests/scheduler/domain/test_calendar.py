"""Calendar feeds: event identity and change tracking (sync_events) and the rendered iCalendar bytes.

Every feed rendered here is parsed back with two independent parsers, ``icalendar`` and ``vobject``
(vobject reads the times through the feed's own VTIMEZONE, icalendar through zoneinfo), and the
events' UID, SEQUENCE, STATUS, start and end are checked against the states that were rendered.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import pytest
import vobject
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.domain.calendar import (
    CANCELLED,
    CONFIRMED,
    CONTENT_TYPE,
    EventInput,
    EventState,
    etag_matches,
    event_inputs,
    event_uid,
    feed_headers,
    hash_token,
    make_etag,
    new_feed_token,
    post_feed_name,
    render_feed,
    select_events,
    site_feed_name,
    sync_events,
    volunteer_feed_name,
    vtimezone,
)
from scheduler.domain.compile import compile_scenario
from scheduler.domain.planning import plan
from scheduler.domain.schedule import Assignment, Schedule, SolverReport
from tests.scheduler._build import post, scenario, template, volunteer

BERLIN = "Europe/Berlin"
TZ = ZoneInfo(BERLIN)
UTC = dt.UTC
T0 = dt.datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # first publication
DAY = dt.timedelta(days=1)


def at(day: dt.date, hour: int, minute: int = 0, zone: ZoneInfo = TZ) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), zone)


def shift(
    volunteer: str = "v1",
    day: dt.date = dt.date(2027, 3, 10),
    *,
    post: str = "gate-n",
    post_name: str = "Gate North",
    kind: str = "night",
    hours: tuple[int, int] = (22, 6),
    teammates: tuple[str, ...] = (),
    instructions: str | None = "Bring a warm coat and a torch.",
    location: str | None = "North gate, Elm Street",
    site: str = "riverside",
) -> EventInput:
    start = at(day, hours[0])
    end = at(day + DAY if hours[1] <= hours[0] else day, hours[1])
    return EventInput(
        site=site,
        volunteer=volunteer,
        volunteer_name=f"Volunteer {volunteer}",
        post=post,
        post_name=post_name,
        shift=kind,
        date=day,
        start=start,
        end=end,
        location=location,
        instructions=instructions,
        teammates=teammates,
    )


# ------------------------------------------------------------------------------------ parsing back


def check_bytes(body: bytes) -> None:
    """CRLF everywhere, no line over 75 octets, valid UTF-8."""
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert b"\r" not in body.replace(b"\r\n", b"")
    for line in body.split(b"\r\n")[:-1]:
        assert len(line) <= 75, line
    body.decode("utf-8")


def parse_icalendar(body: bytes) -> tuple[dict, list[dict]]:
    cal = icalendar.Calendar.from_ical(body)
    cal.validate()  # PRODID, VERSION and at least one component
    props = {k: str(v.to_ical().decode()) for k, v in cal.property_items(recursive=False)[1:-1]}
    events = []
    for ev in cal.walk("VEVENT"):
        events.append(
            {
                "uid": str(ev["UID"]),
                "sequence": int(ev["SEQUENCE"]),
                "status": str(ev["STATUS"]),
                "start": ev.decoded("DTSTART").astimezone(UTC),
                "end": ev.decoded("DTEND").astimezone(UTC),
                "dtstamp": ev.decoded("DTSTAMP").astimezone(UTC),
                "last_modified": ev.decoded("LAST-MODIFIED").astimezone(UTC),
                "created": ev.decoded("CREATED").astimezone(UTC),
                "summary": str(ev["SUMMARY"]),
                "location": str(ev["LOCATION"]) if "LOCATION" in ev else None,
                "description": str(ev["DESCRIPTION"]),
                "transp": str(ev["TRANSP"]),
                "alarms": sorted(
                    (str(a["ACTION"]), -a.decoded("TRIGGER"), str(a["DESCRIPTION"]))
                    for a in ev.walk("VALARM")
                ),
            }
        )
    return props, events


def parse_vobject(body: bytes) -> tuple[dict, list[dict]]:
    cal = vobject.readOne(body.decode("utf-8"), validate=True)
    assert cal.name == "VCALENDAR"
    props = {line.name: line.value for line in cal.lines()}
    assert list(cal.components()), "RFC 5545: a calendar holds at least one component"
    events = []
    for ev in cal.contents.get("vevent", []):
        start, end = ev.dtstart.value, ev.dtend.value
        assert start.tzinfo is not None and end.tzinfo is not None
        events.append(
            {
                "uid": ev.uid.value,
                "sequence": int(ev.sequence.value),
                "status": ev.status.value,
                "start": start.astimezone(UTC),
                "end": end.astimezone(UTC),
                "dtstamp": ev.dtstamp.value.astimezone(UTC),
                "last_modified": ev.last_modified.value.astimezone(UTC),
                "created": ev.created.value.astimezone(UTC),
                "summary": ev.summary.value,
                "location": ev.location.value if hasattr(ev, "location") else None,
                "description": ev.description.value,
                "transp": ev.transp.value,
                "alarms": sorted(
                    (a.action.value, -a.trigger.value, a.description.value)
                    for a in ev.contents.get("valarm", [])
                ),
            }
        )
    return props, events


def parse_feed(body: bytes, states: list[EventState] | None = None) -> list[dict]:
    """Parse with both parsers, check they agree with each other and with ``states``; the events."""
    check_bytes(body)
    props_i, events_i = parse_icalendar(body)
    props_v, events_v = parse_vobject(body)
    assert events_i == events_v
    for props in (props_i, props_v):
        for key in ("VERSION", "PRODID", "CALSCALE", "METHOD", "X-WR-CALNAME", "NAME", "X-WR-TIMEZONE"):
            assert key in props, key
        assert "REFRESH-INTERVAL" in props and "X-PUBLISHED-TTL" in props
    if states is not None:
        assert [(e["uid"], e["sequence"], e["status"], e["start"], e["end"]) for e in events_i] == [
            (s.uid, s.sequence, s.status, s.start, s.end) for s in states
        ]
        for event, state in zip(events_i, states, strict=True):
            assert event["dtstamp"] == event["last_modified"] == state.last_modified
            assert event["created"] == state.created
            assert event["location"] == state.location
            assert event["description"] == state.description
            if state.status == CANCELLED:
                assert event["summary"] == f"Cancelled: {state.summary}"
                assert event["transp"] == "TRANSPARENT"
            else:
                assert event["summary"] == state.summary
                assert event["transp"] == "OPAQUE"
    return events_i


def feed(states: list[EventState], name: str = "Riverside — shifts of Alice", **kw) -> tuple[bytes, str]:
    body, etag = render_feed(name, states, zone=kw.pop("zone", BERLIN), **kw)
    parse_feed(body, sorted(states, key=lambda s: (s.start, s.end, s.uid)))
    return body, etag


# ----------------------------------------------------------------------------------- identities


def test_uid_is_stable_and_distinct_per_assignment():
    day = dt.date(2027, 3, 10)
    uid = event_uid("riverside", "v1", "gate-n", "night", day)
    assert uid == event_uid("riverside", "v1", "gate-n", "night", day)
    assert re.fullmatch(r"[0-9a-f]{40}@rota", uid)
    others = {
        event_uid("riverside", "v2", "gate-n", "night", day),
        event_uid("riverside", "v1", "gate-s", "night", day),
        event_uid("riverside", "v1", "gate-n", "day", day),
        event_uid("riverside", "v1", "gate-n", "night", day + DAY),
        event_uid("hillside", "v1", "gate-n", "night", day),
        # no ambiguity from joining ids
        event_uid("riverside", "v1", "gate-n", "nigh", day),
    }
    assert uid not in others and len(others) == 6
    assert shift().uid == event_uid("riverside", "v1", "gate-n", "night", dt.date(2027, 3, 10))


def test_uid_survives_resyncs_with_changes():
    first = sync_events([], [shift()], T0)
    moved = shift(hours=(21, 5), teammates=("Bob",), instructions="Bring gloves.")
    second = sync_events(first, [moved], T0 + DAY)
    third = sync_events(second, [], T0 + 2 * DAY)
    fourth = sync_events(third, [shift()], T0 + 3 * DAY)
    assert len({s[0].uid for s in (first, second, third, fourth)}) == 1
    assert [s[0].sequence for s in (first, second, third, fourth)] == [0, 1, 2, 3]
    assert all(s[0].created == T0 for s in (first, second, third, fourth))


def test_tokens_are_random_and_only_hashes_are_kept():
    tokens = {new_feed_token() for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert len(token) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", token)
        digest = hash_token(token)
        assert re.fullmatch(r"[0-9a-f]{64}", digest) and digest == hash_token(token)
        assert token not in digest


def test_feed_names():
    assert volunteer_feed_name("Riverside", "Alice  Chen") == "Riverside — shifts of Alice Chen"
    assert post_feed_name("Riverside", "Gate North") == "Riverside — post Gate North"
    assert site_feed_name("Riverside\n") == "Riverside — all posts"


# ----------------------------------------------------------------------------------------- sync


def test_new_assignment_is_confirmed_with_sequence_zero():
    [state] = sync_events([], [shift(teammates=("Carol", "Bob"))], T0)
    assert state.status == CONFIRMED and state.sequence == 0
    assert state.created == state.last_modified == T0
    assert state.start == dt.datetime(2027, 3, 10, 21, tzinfo=UTC)
    assert state.end == dt.datetime(2027, 3, 11, 5, tzinfo=UTC)
    assert state.start.tzinfo is UTC and state.end.tzinfo is UTC
    assert state.summary == "Gate North — night"
    assert state.location == "North gate, Elm Street"
    assert state.description == (
        "Post: Gate North\nShift: night\nInstructions: Bring a warm coat and a torch.\nWith: Bob, Carol"
    )
    feed([state])


def test_unchanged_sync_returns_identical_states_and_bytes():
    inputs = [
        shift("v1"),
        shift("v2", post="gate-s", post_name="Gate South"),
        shift("v1", dt.date(2027, 3, 12)),
    ]
    first = sync_events([], inputs, T0)
    body1, etag1 = feed(first)
    later = T0 + 3 * DAY
    again = sync_events(first, list(reversed(inputs)), later)
    assert again == first
    assert all(a is b for a, b in zip(again, first, strict=True))
    assert all(s.last_modified == T0 for s in again)
    body2, etag2 = feed(list(reversed(again)))
    assert body1 == body2 and etag1 == etag2
    assert etag1 == make_etag(body1) and re.fullmatch(r'"[0-9a-f]{64}"', etag1)


def test_changed_times_bump_sequence():
    first = sync_events([], [shift("v1"), shift("v2")], T0)
    body1, etag1 = feed(first)
    later = T0 + DAY
    second = sync_events(first, [shift("v1", hours=(20, 4)), shift("v2")], later)
    changed = next(s for s in second if s.volunteer == "v1")
    same = next(s for s in second if s.volunteer == "v2")
    assert changed.sequence == 1 and changed.last_modified == later and changed.created == T0
    assert changed.start == dt.datetime(2027, 3, 10, 19, tzinfo=UTC)
    assert changed.status == CONFIRMED
    assert same is next(s for s in first if s.volunteer == "v2")
    body2, etag2 = feed(second)
    assert etag2 != etag1
    events = parse_feed(body2)
    assert {(e["uid"], e["sequence"]) for e in events} == {(changed.uid, 1), (same.uid, 0)}
    # the unaffected volunteer's own feed is byte-identical
    v2_before = render_feed("v2", select_events(first, volunteer="v2"), zone=BERLIN)
    v2_after = render_feed("v2", select_events(second, volunteer="v2"), zone=BERLIN)
    assert v2_before == v2_after


@pytest.mark.parametrize(
    "changed",
    [
        {"teammates": ("Dan",)},
        {"instructions": "Bring gloves."},
        {"location": "Back entrance"},
        {"post_name": "North Gate"},
    ],
)
def test_changed_description_location_or_summary_bump_sequence(changed):
    first = sync_events([], [shift()], T0)
    [second] = sync_events(first, [dataclasses.replace(shift(), **changed)], T0 + DAY)
    assert second.sequence == 1 and second.last_modified == T0 + DAY
    assert second.uid == first[0].uid
    feed([second])


def test_teammate_order_and_blank_values_do_not_count_as_changes():
    first = sync_events([], [shift(teammates=("Bob", "Carol"), location="  ")], T0)
    assert first[0].location is None
    again = sync_events(first, [shift(teammates=("Carol", "Bob"), location=None)], T0 + DAY)
    assert again[0] is first[0]


def test_removed_assignment_is_cancelled_and_stays_in_the_feed():
    first = sync_events([], [shift("v1"), shift("v2")], T0)
    later = T0 + DAY
    second = sync_events(first, [shift("v2")], later)
    cancelled = next(s for s in second if s.volunteer == "v1")
    assert cancelled.status == CANCELLED and cancelled.sequence == 1 and cancelled.last_modified == later
    assert (cancelled.start, cancelled.end, cancelled.summary) == (
        first[0].start,
        first[0].end,
        first[0].summary,
    )
    body, _ = feed(select_events(second, volunteer="v1"))
    [event] = parse_feed(body)
    assert event["status"] == "CANCELLED" and event["sequence"] == 1
    assert event["summary"] == "Cancelled: Gate North — night"
    assert b"STATUS:CANCELLED\r\n" in body and b"SEQUENCE:1\r\n" in body
    # a further sync with nothing new leaves the cancelled event exactly as it was
    third = sync_events(second, [shift("v2")], later + DAY)
    assert third == second and all(a is b for a, b in zip(third, second, strict=True))


def test_cancelled_events_are_dropped_after_retention():
    first = sync_events([], [shift()], T0)  # the night of 2027-03-10, cancelled on 2027-03-02
    cancelled_at = T0 + DAY
    second = sync_events(first, [], cancelled_at)
    assert [s.status for s in second] == [CANCELLED]
    kept = sync_events(second, [], cancelled_at + dt.timedelta(days=14))
    assert kept == second
    assert sync_events(second, [], cancelled_at + dt.timedelta(days=14, seconds=1)) == []
    shift_over = second[0].end
    assert sync_events(second, [], shift_over, keep_cancelled=2 * DAY) == []
    # a cancelled shift still to come stays until it is over, whatever the retention
    assert sync_events(second, [], shift_over - dt.timedelta(seconds=1), keep_cancelled=2 * DAY) == second
    # confirmed events are never dropped by age
    assert sync_events(first, [shift()], T0 + 400 * DAY) == first
    body, _ = feed([])
    assert parse_feed(body) == []


def test_reassignment_long_after_cancellation_keeps_raising_the_sequence():
    day = dt.date(2027, 5, 20)  # planned weeks ahead
    first = sync_events([], [shift(day=day)], T0)
    second = sync_events(first, [], T0 + DAY)
    third = sync_events(second, [], T0 + 30 * DAY)  # past retention, but the shift is still to come
    assert third == second
    [again] = sync_events(third, [shift(day=day)], T0 + 31 * DAY)
    assert again.status == CONFIRMED and again.sequence == 2


def test_reassignment_after_cancellation():
    first = sync_events([], [shift()], T0)
    second = sync_events(first, [], T0 + DAY)
    third = sync_events(second, [shift()], T0 + 2 * DAY)
    [state] = third
    assert state.status == CONFIRMED and state.sequence == 2
    assert state.last_modified == T0 + 2 * DAY and state.created == T0
    assert (state.start, state.end, state.description) == (first[0].start, first[0].end, first[0].description)
    feed(third)


def test_publishing_one_horizon_leaves_the_others_alone():
    week1 = [shift("v1", dt.date(2027, 3, 8)), shift("v1", dt.date(2027, 3, 10))]
    week2 = [shift("v1", dt.date(2027, 3, 16)), shift("v2", dt.date(2027, 3, 17))]
    first = sync_events([], week1, T0)
    horizon2 = (at(dt.date(2027, 3, 15), 0), at(dt.date(2027, 3, 22), 0))
    second = sync_events(first, week2, T0 + DAY, horizon=horizon2)
    assert [s.status for s in second] == [CONFIRMED] * 4
    assert [s for s in second if s.date < dt.date(2027, 3, 15)] == first
    # a re-solve of week 2 cancels within week 2 only
    third = sync_events(second, week2[1:], T0 + 2 * DAY, horizon=horizon2)
    assert [(s.date.day, s.status) for s in third] == [
        (8, CONFIRMED),
        (10, CONFIRMED),
        (16, CANCELLED),
        (17, CONFIRMED),
    ]
    # without a horizon, whatever is not published is cancelled
    assert {s.status for s in sync_events(first, week2, T0 + DAY)[:2]} == {CANCELLED}


def test_last_modified_never_goes_backwards():
    first = sync_events([], [shift()], T0)
    [second] = sync_events(first, [shift(hours=(21, 5))], T0 - DAY)  # a clock set back
    assert second.sequence == 1 and second.last_modified == T0


def test_result_order_is_by_start_then_uid_whatever_the_input_order():
    inputs = [shift(v, dt.date(2027, 3, d)) for v in ("a", "b", "c") for d in (12, 10, 11)]
    first = sync_events([], inputs, T0)
    assert [(s.start, s.uid) for s in first] == sorted((s.start, s.uid) for s in first)
    rng = random.Random(7)
    for _ in range(5):
        shuffled = inputs[:]
        rng.shuffle(shuffled)
        assert sync_events([], shuffled, T0) == first
        states = first[:]
        rng.shuffle(states)
        assert render_feed("x", states, zone=BERLIN) == render_feed("x", first, zone=BERLIN)


def test_invalid_inputs_are_refused():
    with pytest.raises(ValueError, match="naive"):
        dataclasses.replace(shift(), start=dt.datetime(2027, 3, 10, 22))
    with pytest.raises(ValueError, match="not after"):
        dataclasses.replace(shift(), end=at(dt.date(2027, 3, 10), 21))
    with pytest.raises(ValueError, match="naive"):
        sync_events([], [shift()], dt.datetime(2027, 3, 1))
    with pytest.raises(ValueError, match="assigned twice"):
        sync_events([], [shift(), shift()], T0)
    [state] = sync_events([], [shift()], T0)
    with pytest.raises(ValueError, match="naive"):
        dataclasses.replace(state, last_modified=dt.datetime(2027, 3, 1))
    with pytest.raises(ValueError, match="status"):
        dataclasses.replace(state, status="TENTATIVE")
    with pytest.raises(ValueError, match="duplicate"):
        sync_events([state, state], [], T0)
    with pytest.raises(ValueError, match="twice"):
        render_feed("x", [state, state], zone=BERLIN)
    with pytest.raises(ZoneInfoNotFoundError):
        render_feed("x", [state], zone="Mars/Nowhere")


def test_states_read_back_in_another_offset_are_normalised_to_utc():
    [state] = sync_events([], [shift()], T0)
    fields = {f.name: getattr(state, f.name) for f in dataclasses.fields(state)}
    for name in ("start", "end", "created", "last_modified"):
        fields[name] = fields[name].astimezone(TZ)
    reloaded = EventState(**fields)
    assert reloaded == state and reloaded.start.tzinfo is UTC
    assert sync_events([reloaded], [shift()], T0 + DAY)[0] is reloaded


# ---------------------------------------------------------------------------------------- feeds


def test_empty_feed_is_a_valid_calendar():
    body, etag = render_feed(volunteer_feed_name("Riverside", "Alice"), [], zone=BERLIN)
    assert parse_feed(body, []) == []
    cal = icalendar.Calendar.from_ical(body)
    assert [c.name for c in cal.subcomponents] == ["VTIMEZONE"]
    assert cal.calendar_name == "Riverside — shifts of Alice"
    assert etag == render_feed(volunteer_feed_name("Riverside", "Alice"), [], zone=BERLIN)[1]
    # what the VTIMEZONE is there for: icalendar refuses a calendar with no component at all
    bare = icalendar.Calendar.from_ical(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n")
    with pytest.raises(icalendar.error.IncompleteComponent):
        bare.validate()


def test_calendar_properties():
    [state] = sync_events([], [shift()], T0)
    body, _ = feed([state], name="Riverside — post Gate North", refresh=dt.timedelta(days=1))
    text = body.decode()
    for line in (
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//rota//volunteer rota//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "NAME:Riverside — post Gate North",
        "X-WR-CALNAME:Riverside — post Gate North",
        "X-WR-TIMEZONE:Europe/Berlin",
        "REFRESH-INTERVAL;VALUE=DURATION:P1D",
        "X-PUBLISHED-TTL:P1D",
        "TZID:Europe/Berlin",
        "DTSTART;TZID=Europe/Berlin:20270310T220000",
        "DTEND;TZID=Europe/Berlin:20270311T060000",
        "DTSTAMP:20270301T090000Z",
        "LAST-MODIFIED:20270301T090000Z",
        "CREATED:20270301T090000Z",
        "TRANSP:OPAQUE",
    ):
        assert f"\r\n{line}\r\n" in f"\r\n{text}", line
    cal = icalendar.Calendar.from_ical(body)
    assert cal.refresh_interval == dt.timedelta(days=1)
    assert text.index("BEGIN:VTIMEZONE") < text.index("BEGIN:VEVENT")
    default, _ = render_feed("x", [state], zone=BERLIN)
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in default and b"X-PUBLISHED-TTL:PT1H\r\n" in default
    odd, _ = render_feed("x", [state], zone=BERLIN, refresh=dt.timedelta(hours=1, minutes=30))
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H30M\r\n" in odd
    with pytest.raises(ValueError):
        render_feed("x", [state], zone=BERLIN, refresh=dt.timedelta(0))


def test_long_and_special_text_is_escaped_folded_and_read_back_exactly():
    instructions = (
        "Bring: warm coat, torch; thermos \\ gloves.\r\nAsk the desk for the pass list — "
        + "Straße, 北门, ✓ " * 12
        + "\x07end"
    )
    [state] = sync_events(
        [],
        [shift(instructions=instructions, location="Tor Nord; Eingang, Ecke Ulmenstraße " * 4)],
        T0,
    )
    # newlines are normalised and control characters dropped before anything is stored
    assert "\r" not in state.description and "\x07" not in state.description
    assert "Bring: warm coat, torch; thermos \\ gloves.\nAsk the desk" in state.description
    body, _ = feed([state])
    [event] = parse_feed(body)
    assert event["description"] == state.description
    assert event["location"] == state.location
    assert any(line.startswith(b" ") for line in body.split(b"\r\n"))  # something was folded


@pytest.mark.parametrize("pad", range(4))
@pytest.mark.parametrize("char", ["é", "北", "😀", "\\", ";"])
def test_folding_never_splits_a_character_or_an_escape(pad, char):
    """Lines are folded at 75 octets between characters: a 2-, 3- or 4-octet character or an escaped
    backslash or semicolon lands on a fold at some padding, and the bytes still decode and read back."""
    [state] = sync_events([], [shift(instructions="x" * pad + char * 60, location=char * 40)], T0)
    body, _ = feed([state])
    check_bytes(body)  # each line <= 75 octets, and the whole body decodes as UTF-8
    [event] = parse_feed(body)
    assert event["description"] == state.description and event["location"] == state.location
    for line in body.split(b"\r\n"):
        line.decode("utf-8")  # no line ends or starts inside a character


def test_calendar_name_is_escaped_text():
    name = "Riverside; Smith, Jones \\ Co\nsecond line"
    body, _ = render_feed(name, [], zone=BERLIN)
    expected = b"Riverside\\; Smith\\, Jones \\\\ Co\\nsecond line"
    assert b"\r\nNAME:" + expected + b"\r\n" in body
    assert b"\r\nX-WR-CALNAME:" + expected + b"\r\n" in body
    parse_feed(body)
    props = {line.name: line.value for line in vobject.readOne(body.decode()).lines()}
    assert props["NAME"] == props["X-WR-CALNAME"] == name


def test_feed_in_utc():
    [state] = sync_events([], [shift()], T0)
    body, _ = feed([state], zone="UTC")
    assert b"DTSTART:20270310T210000Z\r\n" in body and b"BEGIN:VTIMEZONE\r\nTZID:UTC\r\n" in body


def test_coordinator_feeds_name_who_is_on_each_shift():
    first = sync_events([], [shift("v1"), shift("v2", teammates=("Volunteer v1",))], T0)
    second = sync_events(first, [shift("v2")], T0 + DAY)
    names = {"v1": "Alice Chen", "v2": "Bob Li"}
    body, _ = render_feed(
        post_feed_name("Riverside", "Gate North"), second, zone=BERLIN, volunteer_names=names
    )
    events = parse_feed(body)
    assert sorted(e["summary"] for e in events) == [
        "Cancelled: Gate North — night (Alice Chen)",
        "Gate North — night (Bob Li)",
    ]
    mine, _ = render_feed("mine", select_events(second, volunteer="v2"), zone=BERLIN)
    assert b"Bob Li" not in mine and b"Alice" not in mine


def test_dst_nights_in_berlin_round_trip_through_both_parsers():
    spring = shift("v1", dt.date(2027, 3, 27))  # 22:00 CET -> 06:00 CEST: 7 hours
    autumn = shift("v1", dt.date(2027, 10, 30))  # 22:00 CEST -> 06:00 CET: 9 hours
    states = sync_events([], [spring, autumn], T0)
    assert [s.end - s.start for s in states] == [dt.timedelta(hours=7), dt.timedelta(hours=9)]
    body, _ = feed(states)
    events = parse_feed(body, states)
    assert [(e["start"], e["end"]) for e in events] == [
        (dt.datetime(2027, 3, 27, 21, tzinfo=UTC), dt.datetime(2027, 3, 28, 4, tzinfo=UTC)),
        (dt.datetime(2027, 10, 30, 20, tzinfo=UTC), dt.datetime(2027, 10, 31, 5, tzinfo=UTC)),
    ]
    assert b"DTSTART;TZID=Europe/Berlin:20270327T220000\r\n" in body
    assert b"DTEND;TZID=Europe/Berlin:20270328T060000\r\n" in body
    # the embedded VTIMEZONE has the real changes, DTSTART in the offset before each (RFC 5545 3.6.5)
    text = body.decode()
    assert "DTSTART:20270328T020000\r\nTZNAME:CEST\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200" in text
    assert "DTSTART:20271031T030000\r\nTZNAME:CET\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100" in text


def test_second_pass_through_a_repeated_hour_is_written_in_utc():
    # 02:00-02:59 happens twice on 2027-10-31 in Berlin; a shift ending at the second 02:30 cannot be
    # written as local time (RFC 5545 reads the first), so it is written in UTC.
    start = dt.datetime(2027, 10, 30, 18, 30, tzinfo=UTC)  # 20:30 CEST
    end = dt.datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # 02:30 CET, the second 02:30
    first_pass = dt.datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 02:30 CEST
    inputs = [
        dataclasses.replace(shift("v1", dt.date(2027, 10, 30)), start=start, end=end),
        dataclasses.replace(shift("v2", dt.date(2027, 10, 30)), start=start, end=first_pass),
    ]
    states = sync_events([], inputs, T0)
    body, _ = feed(states)
    assert b"DTEND:20271031T013000Z\r\n" in body
    assert b"DTEND;TZID=Europe/Berlin:20271031T023000\r\n" in body
    assert {(e["uid"], e["end"]) for e in parse_feed(body)} == {(s.uid, s.end) for s in states}


@pytest.mark.parametrize(
    "zone",
    ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Asia/Shanghai", "UTC"],
)
def test_embedded_vtimezone_agrees_with_zoneinfo(zone):
    """Read every local wall-clock time of three years through the VTIMEZONE we write (vobject and
    icalendar both build a tzinfo from it) and compare with zoneinfo."""
    first, last = dt.date(2026, 1, 1), dt.date(2029, 1, 1)
    component = vtimezone(zone, first, last)
    assert isinstance(component, icalendar.Timezone) and component["TZID"] == zone
    assert component is not vtimezone(zone, first, last)  # a new component each time (cached or not)
    calendar = icalendar.Calendar()
    calendar.add("VERSION", "2.0")
    calendar.add("PRODID", "x")
    calendar.add_component(component)
    body = calendar.to_ical()
    check_bytes(body)
    text = body.decode()
    # one onset per RDATE line (vobject reads only the first value of a multi-valued RDATE)
    assert not re.search(r"^RDATE[;:].*,", text, re.MULTILINE)
    from_vobject = vobject.readOne(text).vtimezone.gettzinfo()
    from_icalendar = icalendar.Calendar.from_ical(text).timezones[0].to_tz()
    zi = ZoneInfo(zone)
    instant = dt.datetime.combine(first, dt.time(), zi).astimezone(UTC)
    end = dt.datetime.combine(last, dt.time(), zi).astimezone(UTC)
    checked = 0
    while instant < end:
        local = instant.astimezone(zi)
        if local.replace(fold=0).astimezone(UTC) == instant:  # the time a TZID-qualified value denotes
            wall = local.replace(tzinfo=None)
            assert wall.replace(tzinfo=from_vobject).astimezone(UTC) == instant, (zone, wall)
            assert wall.replace(tzinfo=from_icalendar).astimezone(UTC) == instant, (zone, wall)
            checked += 1
        instant += dt.timedelta(minutes=30)
    assert checked > 50_000


def test_feed_for_another_zone():
    zone = ZoneInfo("Asia/Shanghai")
    day = dt.date(2027, 1, 5)
    inp = dataclasses.replace(
        shift(day=day),
        start=dt.datetime.combine(day, dt.time(22), zone),
        end=dt.datetime(2027, 1, 6, 6, tzinfo=zone),
    )
    states = sync_events([], [inp], T0)
    body, _ = feed(states, zone="Asia/Shanghai")
    assert b"DTSTART;TZID=Asia/Shanghai:20270105T220000\r\n" in body
    assert parse_feed(body)[0]["start"] == dt.datetime(2027, 1, 5, 14, tzinfo=UTC)


def test_http_helpers():
    body, etag = render_feed("x", [], zone=BERLIN)
    assert etag_matches(etag, etag)
    assert etag_matches(f'"other", {etag}', etag)
    assert etag_matches(f"W/{etag}", etag)
    assert etag_matches("*", etag)
    assert not etag_matches(None, etag) and not etag_matches('"other"', etag)
    headers = feed_headers(etag)
    assert headers["Content-Type"] == CONTENT_TYPE == "text/calendar; charset=utf-8"
    assert headers["Content-Disposition"].startswith("inline")
    assert headers["ETag"] == etag


# ----------------------------------------------------------------------------- privacy, re-solves

HEALTH_WORDS = ("sick", "isolating", "limited", "recovering", "health", "diagnos", "fever", "infect")


def health_site():
    """Neutral post names; volunteers with every health status, notes and absences."""
    posts = [
        post(
            "gate",
            template("day", "08:00", "16:00"),
            template("night", "22:00", "06:00"),
            name="North entrance",
            location="Elm Street",
            instructions="Bring a warm coat.",
        ),
        post(
            "desk",
            template("day", "09:00", "13:00", required=2),
            name="Parcel desk",
            intensity="light",
            instructions="Bring gloves.",
        ),
    ]
    vs = [
        volunteer("ann"),
        volunteer(
            "bob", health=[{"status": "limited", "from": "2027-03-01", "reason": "injury"}]
        ),
        volunteer("cid", health=[{"status": "recovering", "from": "2027-03-01", "reason": "unwell"}]),
        volunteer("dee", health=[{"status": "sick", "from": "2027-03-09", "infectious": True}]),
        volunteer("eve", health=[{"status": "isolating", "from": "2027-03-08", "until": "2027-03-09"}]),
        volunteer("fay", unavailable=[
            {"from": "2027-03-08", "until": "2027-03-08", "reason": "caring_for_someone"}
        ]),
        volunteer("gus"),
    ]
    return scenario(start="2027-03-08", days=3, posts=posts, volunteers=vs)


def test_no_health_information_in_any_feed():
    for f in (*dataclasses.fields(EventInput), *dataclasses.fields(EventState)):
        assert not any(w in f.name.lower() for w in HEALTH_WORDS)
    scn = health_site()
    schedule = plan(compile_scenario(scn), time_limit=5, workers=1)
    assert schedule.assignments
    on_duty = {a.volunteer for a in schedule.assignments}
    assert on_duty & {"bob", "cid", "eve"}, "someone whose health is on record must be on the rota"
    states = sync_events([], event_inputs("riverside", scn, schedule), T0)
    names = {v.id: v.name for v in scn.volunteers}
    bodies = [render_feed(site_feed_name(scn.site.name), states, zone=BERLIN, volunteer_names=names)[0]]
    for vid in on_duty:
        bodies.append(
            render_feed(
                volunteer_feed_name("Test site", names[vid]),
                select_events(states, volunteer=vid),
                zone=BERLIN,
            )[0]
        )
    for p in scn.posts:
        bodies.append(
            render_feed(
                post_feed_name("Test site", p.name),
                select_events(states, post=p.id),
                zone=BERLIN,
                volunteer_names=names,
            )[0]
        )
    for body in bodies:
        parse_feed(body)
        lowered = body.decode().lower()
        for word in HEALTH_WORDS:
            assert word not in lowered, word
    # and the descriptions do say what to bring and who else is on the shift
    desk = [s for s in states if s.post == "desk"]
    assert desk and all("Bring gloves." in s.description for s in desk)
    assert any("With: " in s.description for s in desk)


def assignment(vid: str, post_id: str, kind: str, day: dt.date, hours: tuple[int, int]) -> Assignment:
    start = at(day, hours[0])
    end = at(day + DAY if hours[1] <= hours[0] else day, hours[1])
    return Assignment(
        volunteer=vid,
        post=post_id,
        shift=kind,
        date=day,
        start=start,
        end=end,
        hours=(end - start).total_seconds() / 3600,
    )


def schedule_of(*assignments: Assignment) -> Schedule:
    return Schedule(
        site="Test site",
        timezone=BERLIN,
        start=dt.date(2027, 3, 8),
        days=3,
        status="optimal",
        solver=SolverReport(status="optimal", wall_time=0.1),
        assignments=list(assignments),
    )


def test_republished_resolve_shows_changes_and_cancellations():
    """Issue 5: a re-solve replaces someone who fell ill; feeds show it with higher SEQUENCEs."""
    scn = health_site()
    d1, d2 = dt.date(2027, 3, 8), dt.date(2027, 3, 9)
    original = schedule_of(
        assignment("ann", "gate", "night", d1, (22, 6)),
        assignment("dee", "desk", "day", d2, (9, 13)),
        assignment("gus", "desk", "day", d2, (9, 13)),
        assignment("ann", "gate", "day", dt.date(2027, 3, 10), (8, 16)),
    )
    resolved = schedule_of(
        assignment("ann", "gate", "night", d1, (22, 6)),
        assignment("fay", "desk", "day", d2, (9, 13)),  # replaces dee
        assignment("gus", "desk", "day", d2, (9, 13)),
        assignment("ann", "gate", "day", dt.date(2027, 3, 10), (8, 16)),
    )
    first = sync_events([], event_inputs("riverside", scn, original), T0)
    ann_before = render_feed("ann", select_events(first, volunteer="ann"), zone=BERLIN)
    published = T0 + dt.timedelta(hours=30)
    second = sync_events(first, event_inputs("riverside", scn, resolved), published)
    by_volunteer = {s.volunteer: s for s in second if s.post == "desk"}
    assert by_volunteer["dee"].status == CANCELLED and by_volunteer["dee"].sequence == 1
    assert by_volunteer["fay"].status == CONFIRMED and by_volunteer["fay"].sequence == 0
    # gus's teammate changed: the description names the new one, and the event says it changed
    assert by_volunteer["gus"].sequence == 1 and "With: Volunteer fay" in by_volunteer["gus"].description
    assert by_volunteer["gus"].last_modified == published
    # ann's shifts did not change: her feed is byte-identical (same ETag, so clients get a 304)
    assert render_feed("ann", select_events(second, volunteer="ann"), zone=BERLIN) == ann_before
    for vid in ("dee", "fay", "gus", "ann"):
        mine = select_events(second, volunteer=vid)
        body, _ = render_feed(vid, mine, zone=BERLIN)
        parse_feed(body, mine)
    [dee_event] = parse_feed(render_feed("dee", select_events(second, volunteer="dee"), zone=BERLIN)[0])
    assert dee_event["status"] == "CANCELLED" and dee_event["sequence"] == 1


# ---------------------------------------------------------------------------------- property test

VOLUNTEERS = ("a", "b", "c")
DAYS = tuple(dt.date(2027, 3, 25) + i * DAY for i in range(5))  # across the spring DST change
KINDS = {"day": (8, 16), "night": (22, 6)}


@st.composite
def publications(draw):
    slots = [(v, d, k) for v in VOLUNTEERS for d in DAYS for k in KINDS]
    rounds = []
    for _ in range(draw(st.integers(1, 5))):
        chosen = draw(st.lists(st.sampled_from(slots), unique=True, max_size=6))
        tweak = draw(st.sampled_from(["", "Bring gloves."]))
        gap = draw(st.integers(0, 20))
        rounds.append((chosen, tweak, gap))
    return rounds


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(publications())
def test_publication_sequences_keep_invariants(rounds):
    states: list[EventState] = []
    now = T0
    history: dict[str, list[EventState]] = {}  # since the uid was last dropped
    for chosen, tweak, gap in rounds:
        now += dt.timedelta(days=gap)
        inputs = [
            shift(v, d, kind=k, hours=KINDS[k], instructions=f"Bring a coat. {tweak}".strip())
            for v, d, k in chosen
        ]
        before = {s.uid: s for s in states}
        states = sync_events(states, inputs, now)
        wanted = {i.uid for i in inputs}
        assert {s.uid for s in states if s.status == CONFIRMED} == wanted
        for s in states:
            old = before.get(s.uid)
            if old is None:
                assert s.sequence == 0 and s.created == s.last_modified == now
            elif s is old:
                assert s.status == CANCELLED or s.uid in wanted
            else:
                assert s.sequence == old.sequence + 1 and s.last_modified == now and s.created == old.created
            history.setdefault(s.uid, []).append(s)
        for uid, old in before.items():
            if uid not in {s.uid for s in states}:
                assert old.status == CANCELLED and now - old.last_modified > dt.timedelta(days=14)
                assert old.end <= now  # only shifts that are over are forgotten
                del history[uid]
        for vid in VOLUNTEERS:
            mine = select_events(states, volunteer=vid)
            body, etag = render_feed(vid, mine, zone=BERLIN)
            parse_feed(body, mine)
            assert (body, etag) == render_feed(vid, list(reversed(mine)), zone=BERLIN)
    for versions in history.values():
        assert [v.sequence for v in versions] == sorted(v.sequence for v in versions)


def test_the_feed_cache_renders_once_per_content_and_forgets_the_oldest(monkeypatch):
    from scheduler.domain import calendar as cal

    renders = []
    real = cal.render_feed

    def counting(*args, **kwargs):
        renders.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(cal, "render_feed", counting)
    cache = cal.FeedCache()
    first = sync_events([], [shift("v1"), shift("v2")], T0)
    body, etag = cache.render("v1", reversed(first), zone=BERLIN, volunteer_names={"v1": "Ann"})
    assert (body, etag) == real("v1", first, zone=BERLIN, volunteer_names={"v1": "Ann"})
    again = cache.render("v1", first, zone=BERLIN, volunteer_names={"v1": "Ann"})  # another order
    assert again == (body, etag) and len(renders) == 1 and cache.hits == 1
    # anything the bytes depend on is part of the key: a name, an event's sequence, the zone
    assert cache.render("v1", first, zone=BERLIN, volunteer_names={"v1": "Anna"})[1] != etag
    bumped = [dataclasses.replace(first[0], sequence=1), *first[1:]]
    assert cache.render("v1", bumped, zone=BERLIN, volunteer_names={"v1": "Ann"})[1] != etag
    assert cache.render("v1", first, zone="Asia/Shanghai", volunteer_names={"v1": "Ann"})[1] != etag
    assert len(renders) == 4
    small = cal.FeedCache(max_bytes=len(body) + 10)
    small.render("a", first, zone=BERLIN)
    small.render("b", first, zone=BERLIN)  # "a" is evicted
    small.render("a", first, zone=BERLIN)
    assert small.misses == 3 and small.hits == 0


# ------------------------------------------------------------------------------------- reminders


def test_reminders_are_valarms_that_both_parsers_read():
    """On the old code render_feed had no ``alarms``: no VALARM anywhere."""
    first = sync_events([], [shift("v1"), shift("v1", dt.date(2027, 3, 12))], T0)
    plain, _ = feed(first)
    assert b"BEGIN:VALARM" not in plain
    body, etag = feed(first, alarms=[dt.timedelta(hours=12), dt.timedelta(hours=1)])
    events = parse_feed(body)  # icalendar and vobject agree, alarms included
    for event in events:
        assert event["alarms"] == [
            ("DISPLAY", dt.timedelta(hours=1), event["summary"]),
            ("DISPLAY", dt.timedelta(hours=12), event["summary"]),
        ]
    assert body.count(b"BEGIN:VALARM\r\n") == 4 and b"TRIGGER:-PT12H\r\n" in body
    assert etag != feed(first)[1]
    # a cancelled shift reminds no one
    second = sync_events(first, [shift("v1")], T0 + DAY)
    body, _ = feed(second, alarms=[dt.timedelta(hours=1)])
    by_status = {e["status"]: e["alarms"] for e in parse_feed(body)}
    assert by_status["CANCELLED"] == [] and len(by_status["CONFIRMED"]) == 1
