"""Swaps, give-aways and claims through the service: checked again when taken and when approved,
published as a new version (both feeds change), and two simultaneous claims of one open place: one wins."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from scheduler.domain.compile import compile_scenario
from scheduler.domain.errors import ConflictError, InputError, NotFoundError
from scheduler.domain.report import build_schedule
from scheduler.domain.schedule import Schedule
from scheduler.services import publishing
from scheduler.services import swaps as service
from scheduler.store import access, calendars, jobs, sites, webhooks
from scheduler.store import swaps as store
from scheduler.store.db import unit_of_work
from scheduler.store.volunteers import get_volunteer
from solver import validate as solver_validate
from solver.problem import Solution, Status
from tests.scheduler.domain.test_swaps import MON, assigned, site

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
KEEP = dt.timedelta(days=14)
TUE_DAY = service.ShiftKey(post="gate", shift="day", date=dt.date(2026, 12, 8))
TUE_NIGHT = service.ShiftKey(post="gate", shift="night", date=dt.date(2026, 12, 8))


def schedule_of(scenario, pairs) -> Schedule:
    compiled = compile_scenario(scenario)
    uncovered = solver_validate.expected_shortfalls(compiled.problem, pairs)
    solution = Solution(Status.FEASIBLE, assignments=tuple(pairs), uncovered=tuple(uncovered), objective=0)
    return build_schedule(compiled, solution)


def publish_site(sessions, start: str = MON, now: dt.datetime = NOW) -> tuple[int, dict[str, str]]:
    """A site with the swap scenario published (its schedule as a finished job) and a feed token for
    each volunteer: (site id, volunteer id -> token)."""
    scenario = site(start)
    with unit_of_work(sessions) as session:
        row = sites.import_scenario(session, scenario, now)
        job = jobs.queue_job(session, row.id, scenario, now, 1, 1, 0)
        job.state, job.worker, job.started_at, job.heartbeat_at = "running", "w", now, now
        session.flush()
        assert jobs.finish_job(session, job.id, "w", schedule_of(scenario, assigned(start)), None, now)
        session.expire_all()
        locked = sites.get_site(session, row.id, lock=True)
        publishing.publish(session, locked, jobs.get_job(session, row.id, job.id), now, KEEP)
        tokens = {}
        for v in scenario.volunteers:
            vrow = get_volunteer(session, row.id, v.id)
            tokens[v.id] = access.rotate_feed_token(session, access.Feed(row.id, volunteer_id=vrow.id), now)
        return row.id, tokens


@pytest.fixture
def published(sessions):
    return publish_site(sessions)


def _me(session, token):
    return service.me(session, token)


def _events(session, site_id, volunteer):
    return {
        (e.post, e.shift, e.date.isoformat()): e
        for e in calendars.states(session, site_id, volunteer=volunteer)
    }


def test_a_give_away_accepted_and_approved_is_published_and_both_feeds_change(sessions, published):
    site_id, tokens = published
    with unit_of_work(sessions) as session:
        who = _me(session, tokens["ann"])
        takers = [t.volunteer for t in service.candidates(session, who, TUE_DAY, swap=False, now=NOW)]
        assert "bob" not in takers and "cat" in takers  # bob: rest after his Monday night
        offer = service.offer(session, who, service.OfferRequest(**TUE_DAY.model_dump()), NOW)
        offer_id = offer.id
        before = _events(session, site_id, "ann")[("gate", "day", "2026-12-08")]
    with unit_of_work(sessions) as session:
        # bob cannot take it (rest), and does not see it
        bob = _me(session, tokens["bob"])
        assert service.offers_for(session, bob, NOW) == []
        with pytest.raises(ConflictError, match="rest"):
            service.accept(session, bob, offer_id, NOW, KEEP)
    with unit_of_work(sessions) as session:
        cat = _me(session, tokens["cat"])
        assert [o.id for o in service.offers_for(session, cat, NOW)] == [offer_id]
        assert service.accept(session, cat, offer_id, NOW, KEEP).state == "pending"
    with unit_of_work(sessions) as session:  # until approved the shift stays ann's
        assert ("gate", "day", "2026-12-08") in _events(session, site_id, "ann")
        decided = service.decide(
            session, site_id, offer_id, service.Decision(approve=True), "coordinator:test", NOW, KEEP
        )
        assert decided.state == "approved" and decided.published_version == 2
    with unit_of_work(sessions) as session:
        ann = _events(session, site_id, "ann")[("gate", "day", "2026-12-08")]
        cat_events = _events(session, site_id, "cat")
        assert ann.status == "CANCELLED" and ann.sequence > before.sequence
        assert cat_events[("gate", "day", "2026-12-08")].status == "CONFIRMED"
        pub = service.published(session, sites.get_site(session, site_id))
        assert pub.version == 2
        from scheduler.domain.check import validate

        assert validate(pub.scenario, pub.schedule) == []
        trail = [e.action for e in store.events_of(session, site_id, [offer_id])]
        assert trail == ["offered", "accepted", "approved"]


def test_an_offer_to_someone_it_would_break_a_rule_for_is_refused(sessions, published):
    _, tokens = published
    with unit_of_work(sessions) as session:
        who = _me(session, tokens["ann"])
        with pytest.raises(InputError) as caught:
            service.offer(session, who, service.OfferRequest(**TUE_DAY.model_dump(), to="bob"), NOW)
        assert caught.value.problems[0].field == "to"
        with pytest.raises(InputError) as caught:
            service.offer(session, who, service.OfferRequest(**TUE_NIGHT.model_dump()), NOW)
        assert caught.value.problems[0].field == "shift"


def test_a_swap_is_checked_for_both_and_published_at_once_under_the_auto_policy(sessions, published):
    site_id, tokens = published
    with unit_of_work(sessions) as session:
        service.set_policy(session, site_id, service.Policy(approval="auto"), NOW)
        who = _me(session, tokens["ann"])
        pairs = {
            (t.volunteer, t.gives) for t in service.candidates(session, who, TUE_DAY, swap=True, now=NOW)
        }
        assert ("eve", "gate/day/2026-12-09") not in pairs  # ann's own rest before her Wednesday night
        assert ("cat", "gate/day/2026-12-07") in pairs
        back = service.ShiftKey(post="gate", shift="day", date=dt.date(2026, 12, 7))
        request = service.OfferRequest(**TUE_DAY.model_dump(), kind="swap", to="cat", back=back)
        offer_id = service.offer(session, who, request, NOW).id
    with unit_of_work(sessions) as session:
        row = service.accept(session, _me(session, tokens["cat"]), offer_id, NOW, KEEP)
        assert row.state == "approved"
    with unit_of_work(sessions) as session:
        pub = service.published(session, sites.get_site(session, site_id))
        mine = {(a.volunteer, a.date.isoformat()) for a in pub.schedule.assignments if a.shift == "day"}
        assert ("cat", "2026-12-08") in mine and ("ann", "2026-12-07") in mine


def test_offers_close_at_the_deadline(sessions, published):
    _, tokens = published
    late = dt.datetime(2026, 12, 7, 20, 0, tzinfo=dt.UTC)  # 11 h before Tuesday 08:00 Berlin
    with unit_of_work(sessions) as session:
        with pytest.raises(InputError) as caught:
            service.offer(
                session, _me(session, tokens["ann"]), service.OfferRequest(**TUE_DAY.model_dump()), late
            )
        assert caught.value.problems[0].field == "date"


def test_a_post_feed_token_opens_no_volunteer_page(sessions, published):
    site_id, _ = published
    with unit_of_work(sessions) as session:
        token = access.rotate_feed_token(session, access.Feed(site_id), NOW)
    with unit_of_work(sessions) as session:
        with pytest.raises(NotFoundError):
            service.me(session, token)
        with pytest.raises(NotFoundError):
            service.me(session, "x" * 40)


def test_a_claim_publishes_and_the_place_is_no_longer_open(sessions, published):
    site_id, tokens = published
    with unit_of_work(sessions) as session:
        service.set_policy(session, site_id, service.Policy(approval="auto"), NOW)
        webhooks.save_webhook(
            session, site_id, "https://example.org/hook", webhooks.WebhookRequest(url="x"), NOW
        )
        cat = _me(session, tokens["cat"])
        assert "gate/night/2026-12-08" in [o.shift for o in service.open_shifts(session, cat, NOW)]
        assert service.claim(session, cat, TUE_NIGHT, NOW, KEEP).state == "approved"
    with unit_of_work(sessions) as session:
        bob = _me(session, tokens["bob"])
        assert "gate/night/2026-12-08" not in [o.shift for o in service.open_shifts(session, bob, NOW)]
        with pytest.raises(ConflictError, match="no longer open"):
            service.claim(session, bob, TUE_NIGHT, NOW, KEEP)
        events = [d.event for d in webhooks.list_deliveries(session, site_id)]
        assert (
            "shift.claimed" in events and "shift.claim_approved" in events and "schedule.published" in events
        )


def test_pending_claims_of_one_place_only_the_first_approved_wins(sessions, published):
    site_id, tokens = published
    with unit_of_work(sessions) as session:
        first = service.claim(session, _me(session, tokens["cat"]), TUE_NIGHT, NOW, KEEP).id
        second = service.claim(session, _me(session, tokens["bob"]), TUE_NIGHT, NOW, KEEP).id
    with unit_of_work(sessions) as session:
        yes = service.Decision(approve=True)
        assert service.decide(session, site_id, first, yes, "coordinator:t", NOW, KEEP).state == "approved"
        late = service.decide(session, site_id, second, yes, "coordinator:t", NOW, KEEP)
        assert late.state == "failed" and "no longer open" in late.reason


def test_two_simultaneous_claims_of_one_open_place_exactly_one_wins(sessions, published):
    site_id, tokens = published
    with unit_of_work(sessions) as session:
        service.set_policy(session, site_id, service.Policy(approval="auto"), NOW)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def claim(name: str) -> None:
        try:
            with unit_of_work(sessions) as session:
                who = _me(session, tokens[name])
                service.published(session, who.site)  # both have read the schedule: the place is open
                barrier.wait(10)
                state = service.claim(session, who, TUE_NIGHT, NOW, KEEP).state
            results[name] = state  # committed
        except (ConflictError, OperationalError) as exc:
            results[name] = exc

    threads = [threading.Thread(target=claim, args=(name,)) for name in ("cat", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    won = [name for name, r in results.items() if r == "approved"]
    assert len(won) == 1, results
    lost = [r for name, r in results.items() if name not in won]
    assert len(lost) == 1 and isinstance(lost[0], ConflictError | OperationalError)
    with unit_of_work(sessions) as session:
        pub = service.published(session, sites.get_site(session, site_id))
        on = [
            a.volunteer
            for a in pub.schedule.assignments
            if (a.shift, a.date.isoformat()) == ("night", "2026-12-08")
        ]
        assert on == won
        approved = session.scalars(
            select(store.ShiftChangeRow).where(store.ShiftChangeRow.state == "approved")
        )
        assert len(list(approved)) == 1


def test_offers_acceptances_and_claims_compile_only_the_people_involved(sessions, published, monkeypatch):
    """The rules of a change are checked on a slice of the site (the people it moves and everyone on
    the slots it touches): no whole-site compile until a clean change is approved and published."""
    site_id, tokens = published
    compiled: list[list[str]] = []
    real = service.compile_scenario
    monkeypatch.setattr(service, "compile_scenario",
                        lambda s: compiled.append(sorted(v.id for v in s.volunteers)) or real(s))
    with unit_of_work(sessions) as session:
        ann = _me(session, tokens["ann"])
        offer_id = service.offer(session, ann, service.OfferRequest(**TUE_DAY.model_dump(), to="cat"), NOW).id
        assert compiled == [["ann", "cat"]]  # nobody else works Tuesday's day shift
    compiled.clear()
    with unit_of_work(sessions) as session:
        cat = _me(session, tokens["cat"])
        assert [o.id for o in service.offers_for(session, cat, NOW)] == [offer_id]
        assert service.accept(session, cat, offer_id, NOW, KEEP).state == "pending"
        assert "gate/night/2026-12-08" in [o.shift for o in service.open_shifts(session, cat, NOW)]
        assert service.claim(session, cat, TUE_NIGHT, NOW, KEEP).state == "pending"
    everyone = len(site().volunteers)
    assert compiled and all(len(people) <= 3 < everyone for people in compiled), compiled
    compiled.clear()
    with unit_of_work(sessions) as session:  # approval: a slice to check, the whole site to publish
        decided = service.decide(
            session, site_id, offer_id, service.Decision(approve=True), "coordinator:test", NOW, KEEP
        )
        assert decided.state == "approved"
    assert [len(people) for people in compiled] == [2, everyone]


def _deliveries(session, site_id) -> list[str]:
    return [d.event for d in webhooks.list_deliveries(session, site_id)]


def _hook(session, site_id) -> None:
    webhooks.save_webhook(session, site_id, "https://example.org/hook", webhooks.WebhookRequest(url="x"), NOW)


def test_an_approval_on_a_large_site_is_published_by_the_worker(sessions, published, monkeypatch):
    """Over ROTA_INLINE_COMPILE_PAIRS (here 0: every site is large) an approval compiles only the slice
    of the change in the request: the change is ``approving``, the published schedule and the feeds are
    as they were, and the worker checks the whole site and publishes it (webhooks as today)."""
    site_id, tokens = published
    with unit_of_work(sessions) as session:
        _hook(session, site_id)
        ann = _me(session, tokens["ann"])
        offer_id = service.offer(session, ann, service.OfferRequest(**TUE_DAY.model_dump()), NOW).id
        assert service.accept(session, _me(session, tokens["cat"]), offer_id, NOW, KEEP).state == "pending"
    compiled: list[int] = []
    real = service.compile_scenario
    monkeypatch.setattr(service, "compile_scenario", lambda s: compiled.append(len(s.volunteers)) or real(s))
    with unit_of_work(sessions) as session:
        yes = service.Decision(approve=True)
        decided = service.decide(session, site_id, offer_id, yes, "coordinator:t", NOW, KEEP, inline_pairs=0)
        assert decided.state == "approving" and decided.published_version is None
    everyone = len(site().volunteers)
    assert compiled and all(n < everyone for n in compiled), compiled  # no whole-site compile in the request
    with unit_of_work(sessions) as session:
        assert sites.get_site(session, site_id).published_version == 1
        assert _events(session, site_id, "ann")[("gate", "day", "2026-12-08")].status == "CONFIRMED"
        assert "swap.approved" not in _deliveries(session, site_id)
        assert [v.row.state for v in service.listing(session, site_id, NOW)] == ["approving"]  # not expired
        with pytest.raises(ConflictError):  # nor offered again while it goes in
            again = service.OfferRequest(**TUE_DAY.model_dump())
            service.offer(session, _me(session, tokens["ann"]), again, NOW)
    compiled.clear()
    with unit_of_work(sessions) as session:  # the worker
        assert service.publish_next_approved(session, NOW, KEEP) == offer_id
    assert everyone in compiled  # the whole site, there
    with unit_of_work(sessions) as session:
        row = store.get_change(session, site_id, offer_id)
        assert row.state == "approved" and row.published_version == 2 and row.decided_by == "coordinator:t"
        assert _events(session, site_id, "ann")[("gate", "day", "2026-12-08")].status == "CANCELLED"
        assert _events(session, site_id, "cat")[("gate", "day", "2026-12-08")].status == "CONFIRMED"
        assert {"swap.approved", "schedule.published"} <= set(_deliveries(session, site_id))
        trail = [e.action for e in store.events_of(session, site_id, [offer_id])]
        assert trail == ["offered", "accepted", "approving", "approved"]
        from scheduler.domain.check import validate

        pub = service.published(session, sites.get_site(session, site_id))
        assert pub.version == 2 and validate(pub.scenario, pub.schedule) == []
        assert service.publish_next_approved(session, NOW, KEEP) is None  # nothing else waits


def test_a_change_the_worker_finds_no_longer_possible_fails_with_the_reason(sessions, published):
    """Two claims of the last open place, both approved on a large site (each clean against the
    published schedule when approved): the worker publishes the first and fails the second, with the
    reason and its webhook; nothing of the first is lost."""
    site_id, tokens = published
    with unit_of_work(sessions) as session:
        _hook(session, site_id)
        first = service.claim(session, _me(session, tokens["cat"]), TUE_NIGHT, NOW, KEEP).id
        second = service.claim(session, _me(session, tokens["bob"]), TUE_NIGHT, NOW, KEEP).id
    yes = service.Decision(approve=True)
    with unit_of_work(sessions) as session:
        for change in (first, second):
            assert service.decide(session, site_id, change, yes, "coordinator:t", NOW, KEEP,
                                  inline_pairs=0).state == "approving"
    with unit_of_work(sessions) as session:
        assert service.publish_next_approved(session, NOW, KEEP) == first
    with unit_of_work(sessions) as session:
        assert service.publish_next_approved(session, NOW, KEEP) == second
    with unit_of_work(sessions) as session:
        won, lost = store.get_change(session, site_id, first), store.get_change(session, site_id, second)
        assert won.state == "approved" and won.published_version == 2
        assert lost.state == "failed" and "no longer open" in lost.reason and lost.published_version is None
        assert sites.get_site(session, site_id).published_version == 2
        assert "gate/night/2026-12-08" not in {
            f"{u.post}/{u.shift}/{u.date.isoformat()}" for u in service.published(session, sites.get_site(
                session, site_id), []).schedule.uncovered}
        events = _deliveries(session, site_id)
        assert "shift.claim_approved" in events and "swap.failed" in events
        assert [e.action for e in store.events_of(session, site_id, [second])][-2:] == ["approving", "failed"]


def test_a_queued_change_whose_shift_has_started_fails(sessions, published):
    site_id, tokens = published
    with unit_of_work(sessions) as session:
        change = service.claim(session, _me(session, tokens["cat"]), TUE_NIGHT, NOW, KEEP).id
        service.decide(session, site_id, change, service.Decision(approve=True), "coordinator:t", NOW, KEEP,
                       inline_pairs=0)
    later = dt.datetime(2026, 12, 9, 12, 0, tzinfo=dt.UTC)  # the worker was down for a week
    with unit_of_work(sessions) as session:
        assert service.publish_next_approved(session, later, KEEP) == change
        row = store.get_change(session, site_id, change)
        assert row.state == "failed" and "started" in row.reason
        assert sites.get_site(session, site_id).published_version == 1


def test_small_sites_still_publish_an_approval_in_the_request(sessions, published):
    site_id, tokens = published
    with unit_of_work(sessions) as session:
        change = service.claim(session, _me(session, tokens["cat"]), TUE_NIGHT, NOW, KEEP).id
        decided = service.decide(session, site_id, change, service.Decision(approve=True), "coordinator:t",
                                 NOW, KEEP, inline_pairs=2_000_000)
        assert decided.state == "approved" and decided.published_version == 2


def test_an_automatic_approval_on_a_large_site_is_left_to_the_worker(sessions, published):
    site_id, tokens = published
    with unit_of_work(sessions) as session:
        service.set_policy(session, site_id, service.Policy(approval="auto"), NOW)
        row = service.claim(session, _me(session, tokens["cat"]), TUE_NIGHT, NOW, KEEP, inline_pairs=0)
        assert row.state == "approving"  # not refused: it is on its way
    with unit_of_work(sessions) as session:
        assert service.publish_next_approved(session, NOW, KEEP) == row.id
        assert store.get_change(session, site_id, row.id).state == "approved"
