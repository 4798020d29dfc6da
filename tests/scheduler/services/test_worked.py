"""Worked hours (scheduler.services.worked): check-in and check-out within the shift's window, on the
server's clock; a coordinator's records (confirm, no-show, corrected times, extra shifts), each refusal
naming its field; and the next period planned on what was worked."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler.domain.errors import InputError, NotFoundError
from scheduler.domain.worked import ShiftKey
from scheduler.services import schedule_jobs, worked
from scheduler.store import jobs, sites, volunteers
from scheduler.store import worked as worked_store
from tests.api.conftest import publish, solve

H = dt.timedelta(hours=1)
ACTOR = "console:1"


@pytest.fixture
def published(app, client, site, worker):
    publish(client, site, solve(client, worker, site)["id"])
    assignments = client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
    first = min(assignments, key=lambda a: (a["start"], a["volunteer"]))
    return site, assignments, first


def _at(a, field="start") -> dt.datetime:
    return dt.datetime.fromisoformat(a[field]).astimezone(dt.UTC)


def _key(a) -> ShiftKey:
    return ShiftKey(a["volunteer"], a["post"], a["shift"], dt.date.fromisoformat(a["date"]))


def test_check_in_and_out_within_the_window(app, published):
    site, _, a = published
    start, end = _at(a), _at(a, "end")
    with app.state.sessions() as session:
        row = sites.get_site(session, site.id)
        me = volunteers.get_volunteer(session, site.id, a["volunteer"])
        with pytest.raises(InputError) as early:
            worked.check_in(session, row, me, start - H - dt.timedelta(minutes=1))
        assert [p.field for p in early.value.problems] == ["check_in"]
        with pytest.raises(InputError) as not_in:
            worked.check_out(session, row, me, start)
        assert [p.field for p in not_in.value.problems] == ["check_out"]
        first = worked.check_in(session, row, me, start - dt.timedelta(minutes=10))
        assert first.changed and first.record.start == start - dt.timedelta(minutes=10)
        again = worked.check_in(session, row, me, start + H)
        assert not again.changed and again.record.start == start - dt.timedelta(minutes=10)
        out = worked.check_out(session, row, me, end + 2 * H)  # an overrun counts as worked
        assert out.changed and out.record.status == "worked" and out.record.end == end + 2 * H
        assert not worked.check_out(session, row, me, end + 3 * H).changed
        [line] = [ln for ln in worked.listing(session, row, _key(a).date, _key(a).date, end + 3 * H)
                  if ln.key == _key(a)]
        assert line.state == "worked" and not line.confirmed
        span = end + 2 * H - (start - dt.timedelta(minutes=10))
        assert line.hours() == round(span.total_seconds() / 3600, 2)
        worked.confirm(session, row, _key(a), ACTOR, end + 4 * H)
        assert worked_store.for_shift(session, me.id, a["post"], a["shift"], _key(a).date).confirmed


def test_leaving_early_is_partly(app, published):
    site, _, a = published
    start, end = _at(a), _at(a, "end")
    with app.state.sessions() as session:
        row = sites.get_site(session, site.id)
        me = volunteers.get_volunteer(session, site.id, a["volunteer"])
        worked.check_in(session, row, me, start)
        assert worked.check_out(session, row, me, end - 2 * H).record.status == "partly"


def test_coordinator_records_are_checked_field_by_field(app, published):
    site, assignments, a = published
    start, end = _at(a), _at(a, "end")
    now = end + 5 * H
    with app.state.sessions() as session:
        row = sites.get_site(session, site.id)

        def refused(change, when=now):
            with pytest.raises(InputError) as caught:
                worked.record(session, row, change, ACTOR, when)
            return [p.field for p in caught.value.problems]

        key = _key(a)
        assert refused(worked.Change("worked", end, start, key)) == ["end"]
        assert refused(worked.Change("worked", start, start + 25 * H, key), start + 30 * H) == ["end"]
        assert refused(worked.Change("worked", start, now + H, key)) == ["end"]
        assert refused(worked.Change("worked", now + H, now + 2 * H, key)) == ["start", "end"]
        assert refused(worked.Change("tired", start, end, key)) == ["status"]
        nobody = ShiftKey("nobody", "gate", "early", key.date)
        assert refused(worked.Change("worked", start, end, nobody)) == ["volunteer"]
        unknown = ShiftKey(a["volunteer"], "gate", "x", key.date)
        assert refused(worked.Change("worked", start, end, unknown)) == ["shift"]
        assert refused(worked.Change("no_show", key=key), start - H) == ["status"]  # not started yet
        assert refused(worked.Change("extra", start, end, volunteer=a["volunteer"], post="moon")) == ["post"]
        assert refused(worked.Change("extra", None, None, volunteer=a["volunteer"], post="gate")) == [
            "start", "end"]
        assert worked_store.of_site(session, site.id) == []  # nothing written

        corrected = worked.record(session, row, worked.Change("worked", start, end + 2 * H, key), ACTOR, now)
        assert corrected.record.status == "worked" and corrected.record.confirmed
        assert corrected.record.source == "coordinator" and corrected.record.recorded_by == ACTOR
        no_show = worked.update(session, row, corrected.record.id, worked.Change("no_show"), ACTOR, now)
        assert no_show.record.status == "no_show" and no_show.record.start is None
        change = worked.Change("extra", start, start + 3 * H, volunteer=a["volunteer"], post="gate")
        extra = worked.record(session, row, change, ACTOR, now)
        assert extra.record.shift is None
        lines = worked.listing(session, row, key.date, key.date, now)
        assert {ln.state for ln in lines if ln.volunteer == a["volunteer"]} >= {"no_show", "extra"}
        with pytest.raises(NotFoundError):
            worked.update(session, row, 10_000, worked.Change("no_show"), ACTOR, now)


def test_confirm_all_of_a_day(app, published):
    site, assignments, a = published
    day = _key(a).date
    of_day = [x for x in assignments if x["date"] == a["date"]]
    now = max(_at(x, "end") for x in of_day) + H
    with app.state.sessions() as session:
        row = sites.get_site(session, site.id)
        worked.record(session, row, worked.Change("no_show", key=_key(of_day[0])), ACTOR, now)
        assert worked.confirm_day(session, row, day, ACTOR, now) == len(of_day) - 1
        lines = [ln for ln in worked.listing(session, row, day, day, now) if ln.key is not None]
        assert len(lines) == len(of_day) and all(ln.confirmed for ln in lines)
        assert sum(ln.state == "no_show" for ln in lines) == 1
        assert worked.confirm_day(session, row, day, ACTOR, now) == 0


def test_the_next_period_starts_from_what_was_worked(app, published):
    site, assignments, _ = published
    last_day = max(x["date"] for x in assignments)
    mine = sorted((x for x in assignments if x["date"] == last_day), key=lambda x: x["start"])
    late, gone = mine[0], mine[-1]
    now = max(_at(x, "end") for x in assignments) + H
    with app.state.sessions() as session:
        row = sites.get_site(session, site.id)
        worked.record(session, row, worked.Change("worked", _at(late), _at(late, "end") + 3 * H, _key(late)),
                      ACTOR, now)
        if gone is not late:
            worked.record(session, row, worked.Change("no_show", key=_key(gone)), ACTOR, now)
        next_start = dt.date.fromisoformat(last_day) + dt.timedelta(days=1)
        request = jobs.JobRequest(horizon={"start": next_start.isoformat(), "days": 7}, time_limit=1)
        job = schedule_jobs.queue_schedule(session, row, request, default_time_limit=1, max_time_limit=10,
                                           workers=1, now=now)
        people = {v["id"]: v for v in job.scenario["volunteers"]}
        shifts = people[late["volunteer"]]["history"]["recent_shifts"]
        ends = [dt.datetime.fromisoformat(s["end"]) for s in shifts]
        assert _at(late, "end") + 3 * H in [e.astimezone(dt.UTC) for e in ends]
        if gone is not late and gone["volunteer"] != late["volunteer"]:
            gone_starts = [dt.datetime.fromisoformat(s["start"]).astimezone(dt.UTC)
                           for s in people[gone["volunteer"]]["history"]["recent_shifts"]]
            assert _at(gone) not in gone_starts
