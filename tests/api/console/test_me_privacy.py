"""Privacy of a volunteer's own page: every page and endpoint their token reaches (the page in both
languages, each link and form on it, with good and bad values, its error pages, their calendar feed)
shows nothing of anyone else: no one else's health (status, dates, notes), no contacts (not even a
teammate's), no names but the teammates' on their own shifts, nothing of another site."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.api.conftest import fixture, publish, solve
from tests.api.console.conftest import csrf_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

REASON = "contact_of_a_case"  # other people's health reasons: coordinators only (not an absence reason,
# which the own page offers in its list)
OTHER_SITE = "Other Compound Zeta"
OTHER_PERSON = "Xanthippe Quarrelsome"


def _token(client, site, volunteer: str) -> str:
    url = client.post(f"{site.url}/volunteers/{volunteer}/calendar/token", headers=site.headers).json()["url"]
    return url.rsplit("/", 1)[1].removesuffix(".ics")


def test_a_volunteers_token_reaches_nothing_of_anyone_else(client, make_site, worker):
    data = fixture()
    for i, v in enumerate(data["volunteers"]):
        v["contact"] = {"phone": f"+49 170 555 {i:04d}", "email": f"person{i}@example.org"}
    site = make_site(data)
    other_data = fixture()
    other_data["site"]["name"] = OTHER_SITE
    other_data["volunteers"][0]["name"] = OTHER_PERSON
    other = make_site(other_data)
    # other people's health, with a reason only coordinators may read
    for volunteer, status in (("v004", "isolating"), ("v006", "recovering"), ("v007", "limited")):
        assert client.post(f"{site.url}/volunteers/{volunteer}/health", headers=site.headers, json={
            "status": status, "from": "2027-01-14", "until": "2027-01-20", "infectious": True,
            "reason": REASON,
        }).status_code == 201
    publish(client, site, solve(client, worker, site)["id"])
    publish(client, other, solve(client, worker, other)["id"])
    assignments = client.get(f"{site.url}/schedule/assignments", headers=site.headers).json()
    me = Counter(a["volunteer"] for a in assignments).most_common(1)[0][0]
    people = {v["id"]: v for v in client.get(f"{site.url}/volunteers", headers=site.headers).json()}
    mine = {(a["post"], a["shift"], a["date"]) for a in assignments if a["volunteer"] == me}
    teammates = {a["volunteer"] for a in assignments
                 if (a["post"], a["shift"], a["date"]) in mine and a["volunteer"] != me}
    strangers = set(people) - teammates - {me}
    assert teammates and strangers
    token = _token(client, site, me)
    _token(client, other, "v001")

    bodies: list[tuple[str, str]] = []

    def seen(label: str, response) -> str:
        assert response.status_code < 500, (label, response.status_code)
        bodies.append((label, response.text))
        return response.text

    for lang in ("en", "zh-CN"):
        seen(f"page {lang}", client.get(f"/me/{token}", headers={"Accept-Language": lang}))
    page = client.get(f"/me/{token}").text
    csrf = csrf_of(page)
    # every link and form target on the page
    targets = set(re.findall(r'(?:href|action)="(/me/[^"]+)"', page))
    assert f"/me/{token}/unwell" in targets and f"/me/{token}/wishes" in targets
    for target in sorted(targets):
        if target.rsplit("/", 1)[-1] in ("unwell", "absences", "wishes", "delete"):
            continue
        seen(f"GET {target}", client.get(target))
    seen("feed", client.get(f"/calendar/{token}.ics"))
    # forms, refused (a message beside the field) and accepted
    base = f"/me/{token}"
    for path, data in [
        ("/unwell", {"status": "sick", "until": "1999-01-01"}),
        ("/unwell", {"status": "fit", "until": "2027-01-12"}),
        ("/absences", {"absence_from": "2027-01-15", "absence_until": "2027-01-12"}),
        ("/absences/7/delete", {}),
        ("/wishes", {"preferred_posts": "gate", "unwanted_posts": "gate"}),
        ("/wishes", {"preferred_shifts": "no-such-shift"}),
        ("/absences", {"absence_from": "2027-01-16", "absence_until": "2027-01-16"}),
        ("/wishes", {"preferred_posts": "delivery"}),
        ("/unwell", {"status": "sick", "until": "2027-01-13", "infectious": "on"}),
    ]:
        seen(f"POST {path} {data}", client.post(base + path, data={"csrf": csrf, **data}))
    seen("forged", client.post(base + "/unwell", data={"csrf": "forged", "status": "sick"}))
    seen("after a re-solve", client.get(base))
    seen("other site's path", client.get(f"/me/{token}x"))

    for label, text in bodies:
        assert REASON not in text and "contact of a case" not in text.lower(), label
        assert OTHER_SITE not in text and OTHER_PERSON not in text, label
        assert "example.org" not in text and "+49 170" not in text, label  # no contacts, of anyone
        for key in strangers:
            assert people[key]["name"] not in text, (label, key)
        for key in set(people) - {me}:
            assert not re.search(rf"\b{key}\b", text), (label, key)  # no one else's id
        if label.startswith("page") or label == "after a re-solve":
            for key in teammates:  # teammates by name, only where they share a shift
                assert people[key]["name"] in text, (label, key)
    # another volunteer's status, shown on the page only about the volunteer themselves
    statuses = re.findall(r'id="my-status"', bodies[0][1])
    assert len(statuses) <= 1
