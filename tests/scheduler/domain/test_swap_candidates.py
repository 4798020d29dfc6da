"""Who could take an offered shift, found without compiling the whole site
(scheduler.domain.swaps.takers_in_two_steps: every take checked on the site compiled without
availability and health, then the takes left checked again on the slice of the people they move),
is the list the whole site gives (scheduler.domain.swaps.takers): same people, same order, same shifts
given back in a swap, same load and hours; on generated sites with availability, absences, health
records, preferences, history and residents' guardians, against schedules that already break rules
here and there."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler.domain import swaps
from scheduler.domain.compile import compile_scenario
from tests.scheduler.domain.test_swap_slice import site_with_schedule


@pytest.mark.parametrize("seed, volunteers, days, residents", [(1, 40, 14, 0), (2, 60, 7, 8), (3, 30, 21, 4)])
def test_the_takers_found_in_two_steps_are_the_whole_sites(seed, volunteers, days, residents):
    rng, scenario, whole, schedule = site_with_schedule(seed, volunteers, days, residents)
    open_site = compile_scenario(swaps.without_access_limits(scenario))
    asked: list[set[str]] = []

    def exact(people: set[str]):
        asked.append(set(people))
        part_scenario, part_schedule = swaps.slice_of(scenario, schedule, people)
        return compile_scenario(part_scenario), part_schedule

    pairs = swaps.pairs_of(whole, schedule)
    found = second_step_refused = 0
    for i in range(24):
        volunteer, shift = rng.choice(pairs)
        swap = i % 3 == 2
        after = whole.instant(whole.problem.shift(shift).start) - dt.timedelta(days=rng.randint(0, 3))
        expected = swaps.takers(whole, schedule, volunteer, shift, swap=swap, after=after)
        asked.clear()
        got = swaps.takers_in_two_steps(open_site, schedule, exact, volunteer, shift, swap=swap, after=after)
        assert got == expected, (volunteer, shift, swap)
        found += bool(expected)
        if asked:
            assert len(asked[0]) < volunteers  # the second step compiles a slice, not the site
            second_step_refused += len(asked[0] - {volunteer}) > len({t.volunteer for t in got})
    # both steps decided something: lists were found, and the second step refused some the first let by
    assert found >= 6 and second_step_refused >= 3, (found, second_step_refused)


def test_only_eligibility_is_left_to_the_second_step():
    """Without the second step (the open site's verdict alone) the list would hold people who may not
    work the shift (availability, absence or health): the test above would fail."""
    rng, scenario, whole, schedule = site_with_schedule(4, 40, 14, 0)
    open_site = compile_scenario(swaps.without_access_limits(scenario))
    pairs = swaps.pairs_of(whole, schedule)
    extra_rules: set[str] = set()
    for _ in range(20):
        volunteer, shift = rng.choice(pairs)
        whole_list = {t.volunteer for t in swaps.takers(whole, schedule, volunteer, shift)}
        for t in swaps.takers(open_site, schedule, volunteer, shift):
            if t.volunteer not in whole_list:
                change = [(volunteer, shift)], [(t.volunteer, shift)]
                breaches = swaps.change_problems(whole, schedule, *change)
                extra_rules |= {b.rule for b in breaches}
        assert whole_list <= {t.volunteer for t in swaps.takers(open_site, schedule, volunteer, shift)}
    assert extra_rules == {"eligibility"}
