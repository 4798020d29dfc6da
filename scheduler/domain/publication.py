"""What a publication tells the outside world: per volunteer the shifts added and removed, a re-solve's
change set with every health detail redacted, the signed JSON body a webhook receives."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from scheduler.domain import scenario as sc
from scheduler.domain.changes import ShiftRef, VolunteerChange
from scheduler.domain.schedule import Assignment, Schedule

EVENT_PUBLISHED = "schedule.published"
#: A volunteer reported themselves unwell on their own page (no status, no dates' reason, no diagnosis).
EVENT_UNWELL = "volunteer.unwell"
#: A shift starts in N hours (the site's reminders), for an SMS or chat gateway.
EVENT_REMINDER = "shift.reminder"


def _key(a: Assignment) -> tuple[str, str, str, dt.date]:
    return (a.volunteer, a.post, a.shift, a.date)


def schedule_diff(
    previous: Schedule | None, schedule: Schedule, volunteers: Iterable[sc.Volunteer], since: dt.datetime
) -> list[dict[str, Any]]:
    """Per volunteer, the shifts ending after ``since`` that ``schedule`` adds and removes against
    ``previous`` (everything is added on a first publication), with their contact; soonest change
    first. The same shape as a re-solve change set's ``volunteers``."""

    def live(s: Schedule | None) -> dict[tuple, Assignment]:
        if s is None:
            return {}
        return {_key(a): a for a in s.assignments if a.end > since}

    old, new = live(previous), live(schedule)
    people = {v.id: v for v in volunteers}
    removed: dict[str, list[ShiftRef]] = {}
    added: dict[str, list[ShiftRef]] = {}
    for out, keys, source in ((removed, old.keys() - new.keys(), old), (added, new.keys() - old.keys(), new)):
        for key in keys:
            a = source[key]
            ref = ShiftRef(post=a.post, shift=a.shift, date=a.date, start=a.start, end=a.end)
            out.setdefault(a.volunteer, []).append(ref)
    changes = []
    for vid in sorted(set(removed) | set(added)):
        person = people.get(vid)
        rem = sorted(removed.get(vid, []), key=lambda r: r.start)
        add = sorted(added.get(vid, []), key=lambda r: r.start)
        changes.append(
            VolunteerChange(
                volunteer=vid,
                name=person.name if person is not None else vid,
                phone=person.contact.phone if person is not None else None,
                email=person.contact.email if person is not None else None,
                removed=rem,
                added=add,
                first_change=min(r.start for r in rem + add),
            )
        )
    changes.sort(key=lambda c: (c.first_change, c.name, c.volunteer))
    return [c.model_dump(mode="json") for c in changes]


@dataclass(frozen=True)
class Publication:
    """What a webhook hears of one publication."""

    site_id: int
    site_name: str
    version: int
    previous_version: int | None
    job_id: int | None
    kind: str  # "schedule" or "resolve"
    published_at: dt.datetime
    schedule: Schedule
    previous: Schedule | None
    volunteers: list[sc.Volunteer]
    changes: dict[str, Any] | None  # a re-solve's change set (JSON)


_SHIFT_FIELDS = ("post", "shift", "date", "start", "end")


def redacted(changes: dict[str, Any]) -> dict[str, Any]:
    """The change set as a gateway needs it to alert people: who, their contact, which shifts came and
    went, and what stays short — and nothing about anyone's health (no status, no removal reasons, no
    disruption descriptions, no contact-tracing list), which stays with the site's coordinators."""

    def shift(ref: dict[str, Any]) -> dict[str, Any]:
        return {k: ref[k] for k in _SHIFT_FIELDS if k in ref}

    return {
        "site": changes.get("site"),
        "timezone": changes.get("timezone"),
        "cutoff": changes.get("cutoff"),
        "volunteers": [
            {
                "volunteer": v.get("volunteer"),
                "name": v.get("name"),
                "phone": v.get("phone"),
                "email": v.get("email"),
                "first_change": v.get("first_change"),
                "removed": [shift(r) for r in v.get("removed", [])],
                "added": [shift(a) for a in v.get("added", [])],
            }
            for v in changes.get("volunteers", [])
        ],
        "uncovered": [
            {**shift(u), "missing": u.get("missing"), "missing_skills": u.get("missing_skills", {})}
            for u in changes.get("uncovered", [])
        ],
    }


def payload_of(publication: Publication, delivery_id: str) -> dict[str, Any]:
    p = publication
    base = f"/sites/{p.site_id}"
    body: dict[str, Any] = {
        "id": delivery_id,
        "event": EVENT_PUBLISHED,
        "kind": p.kind,
        "site": {"id": p.site_id, "name": p.site_name},
        "version": p.version,
        "previous_version": p.previous_version,
        "job": p.job_id,
        "published_at": p.published_at.isoformat(),
        "links": {
            "version": f"{base}/schedule/versions/{p.version}",
            **({"job": f"{base}/schedules/{p.job_id}"} if p.job_id is not None else {}),
        },
    }
    if p.kind == "resolve" and p.changes is not None:
        body["changes"] = redacted(p.changes)
    else:
        s = p.schedule
        body["summary"] = {
            "start": s.start.isoformat(),
            "days": s.days,
            "assignments": len(s.assignments),
            "uncovered_slots": len(s.uncovered),
            "people_missing": sum(u.missing for u in s.uncovered),
            "volunteers": schedule_diff(p.previous, s, p.volunteers, p.published_at),
        }
    return body


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with secret>``, the ``X-Rota-Signature``
    header. Signing the ``X-Rota-Timestamp`` with the body lets a receiver refuse replays."""
    message = timestamp.encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str, *, now: float | None = None,
           tolerance: float = 300.0) -> bool:
    """What a receiver does: recompute the signature of the timestamp and raw body, compare in constant
    time, and refuse a timestamp more than ``tolerance`` seconds away from ``now`` (a replay)."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if now is not None and abs(now - sent) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def unwell_payload(
    delivery_id: str,
    *,
    site_id: int,
    site_name: str,
    volunteer: str,
    volunteer_name: str,
    off_from: dt.datetime,
    off_until: dt.date,
    job_id: int | None,
    shifts_concerned: int,
    reported_at: dt.datetime,
) -> dict[str, Any]:
    """The ``volunteer.unwell`` event: who is off duty from when until when (inclusive day), and whether a
    re-solve was queued (``job``) or is held for the coordinator (``resolve: "held"``). Never the health
    status itself, whether it is infectious, or any note: those stay with the site's coordinators."""
    base = f"/sites/{site_id}"
    return {
        "id": delivery_id,
        "event": EVENT_UNWELL,
        "site": {"id": site_id, "name": site_name},
        "volunteer": {"id": volunteer, "name": volunteer_name},
        "off_duty": {"from": off_from.isoformat(), "until": off_until.isoformat()},
        "shifts_concerned": shifts_concerned,
        "resolve": "queued" if job_id is not None else "held",
        "job": job_id,
        "reported_at": reported_at.isoformat(),
        "links": {
            "volunteer": f"{base}/volunteers/{volunteer}",
            **({"job": f"{base}/schedules/{job_id}"} if job_id is not None else {}),
        },
    }


def reminder_payload(
    delivery_id: str,
    *,
    site_id: int,
    site_name: str,
    volunteer: sc.Volunteer | None,
    volunteer_id: str,
    uid: str,
    post: str,
    post_name: str,
    shift: str,
    date: dt.date,
    start: dt.datetime,
    end: dt.datetime,
    location: str | None,
    hours_before: float,
    sent_at: dt.datetime,
) -> dict[str, Any]:
    """The ``shift.reminder`` event: whose shift starts when and where, with the volunteer's contact (for
    the gateway to reach them); nothing about health."""
    return {
        "id": delivery_id,
        "event": EVENT_REMINDER,
        "site": {"id": site_id, "name": site_name},
        "volunteer": {
            "id": volunteer_id,
            "name": volunteer.name if volunteer is not None else None,
            "phone": volunteer.contact.phone if volunteer is not None else None,
            "email": volunteer.contact.email if volunteer is not None else None,
        },
        "shift": {
            "uid": uid,
            "post": post,
            "post_name": post_name,
            "shift": shift,
            "date": date.isoformat(),
            "start": start.isoformat(),
            "end": end.isoformat(),
            "location": location,
        },
        "hours_before": hours_before,
        "sent_at": sent_at.isoformat(),
    }
