"""What a volunteer may say about themselves on their own page (scheduler.services.unwell.check_request):
sick or isolating only, until a day from today to MAX_DAYS ahead; each refusal names its field."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler.domain.errors import InputError
from scheduler.services.unwell import MAX_DAYS, UnwellRequest, check_request

TODAY = dt.date(2027, 1, 11)


@pytest.mark.parametrize("status", ["sick", "isolating"])
def test_sick_or_isolating_until_a_day_ahead(status):
    check_request(UnwellRequest(status, TODAY), TODAY)
    check_request(UnwellRequest(status, TODAY + dt.timedelta(days=MAX_DAYS), True), TODAY)


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (UnwellRequest("fit", TODAY), "status"),
        (UnwellRequest("limited", TODAY), "status"),
        (UnwellRequest("recovering", TODAY), "status"),
        (UnwellRequest("sick", None), "until"),
        (UnwellRequest("sick", TODAY - dt.timedelta(days=1)), "until"),
        (UnwellRequest("sick", TODAY + dt.timedelta(days=MAX_DAYS + 1)), "until"),
    ],
)
def test_refusals_name_the_field(request_, field):
    with pytest.raises(InputError) as caught:
        check_request(request_, TODAY)
    assert [p.field for p in caught.value.problems] == [field]
