"""Erasing a volunteer's health data from the stored copies: pure functions on JSON (issue 14).

The health records table is the one home of health data, but copies are stored as JSON beside it: a
job's scenario snapshot (every volunteer's ``health``), a re-solve's disruptions (sick calls, contacts
marked isolating) and its change set (why someone was removed, the disruptions as text, the
contact-tracing list). Schedules (job results, published versions) and webhook payloads hold no health
data, but do hold a volunteer's name and contact.

* Deleting one health record removes that record from every snapshot and the matching sick call from
  every re-solve's disruptions (with its traces in that job's change set).
* Deleting a volunteer removes all of their health data from every copy and replaces their name by
  their id and drops their phone and email in every snapshot, change set, schedule and payload (the
  assignments stay, so the schedules still add up).

Each function changes its argument in place and returns whether it changed anything.
"""

from __future__ import annotations

from typing import Any

from scheduler.domain.scenario import OLD_DATA, HealthRecord

Json = Any

_HEALTH_KINDS = ("sick_call", "mark_isolating")


def same_record(data: Json, record: HealthRecord) -> bool:
    """Whether ``data`` (a stored health record or sick call, JSON) records the same status, dates,
    infectiousness and reason as ``record``."""
    if not isinstance(data, dict):
        return False
    try:
        other = HealthRecord.model_validate(
            {k: data.get(k) for k in ("status", "from", "until", "infectious", "reason") if k in data}
        )
    except ValueError:
        return False
    return (other.status, other.start, other.until, other.infectious, other.reason) == (
        record.status, record.start, record.until, record.infectious, record.reason
    )


def _volunteer_in(scenario: Json, volunteer: str) -> dict | None:
    if not isinstance(scenario, dict):
        return None
    for v in scenario.get("volunteers") or []:
        if isinstance(v, dict) and v.get("id") == volunteer:
            return v
    return None


def erase_record_from_scenario(scenario: Json, volunteer: str, record: HealthRecord) -> bool:
    """Remove the volunteer's records equal to ``record`` from a scenario snapshot."""
    v = _volunteer_in(scenario, volunteer)
    if v is None or not v.get("health"):
        return False
    kept = [r for r in v["health"] if not same_record(r, record)]
    changed = len(kept) != len(v["health"])
    v["health"] = kept
    return changed


def erase_volunteer_from_scenario(scenario: Json, volunteer: str) -> bool:
    """The volunteer's health history emptied, their name replaced by their id, their contact dropped."""
    v = _volunteer_in(scenario, volunteer)
    if v is None:
        return False
    before = (v.get("health"), v.get("name"), v.get("contact"))
    v["health"] = []
    v["name"] = volunteer
    v["contact"] = {}
    return before != (v["health"], v["name"], v["contact"])


def erase_from_disruptions(disruptions: Json, volunteer: str, record: HealthRecord | None) -> bool:
    """Remove the volunteer's sick calls (only the one matching ``record``, if given) and, without a
    record (the volunteer erased), take them out of every list of contacts marked isolating."""
    if not isinstance(disruptions, list):
        return False
    kept: list[Json] = []
    changed = False
    for d in disruptions:
        if not isinstance(d, dict) or d.get("kind") not in _HEALTH_KINDS:
            kept.append(d)
        elif d["kind"] == "sick_call" and d.get("volunteer") == volunteer and (
            record is None or same_record(d, record)
        ):
            changed = True
        elif d["kind"] == "mark_isolating" and record is None and volunteer in (d.get("volunteers") or []):
            changed = True
            others = [x for x in d["volunteers"] if x != volunteer]
            if others:
                kept.append({**d, "volunteers": others})
        else:
            kept.append(d)
    disruptions[:] = kept
    return changed


def _mentions(text: Json, volunteer: str) -> bool:
    return isinstance(text, str) and volunteer in text.replace(",", " ").split()


def erase_health_from_changes(changes: Json, volunteer: str) -> bool:
    """A re-solve's change set without the volunteer's health: no disruption text naming them, no
    subject or removal reasons on their entry, no contact-tracing entries of or about them."""
    if not isinstance(changes, dict):
        return False
    changed = False
    texts = changes.get("disruptions")
    if isinstance(texts, list):
        kept = [t if not _mentions(t, volunteer) else f"{volunteer}: erased" for t in texts]
        changed |= kept != texts
        changes["disruptions"] = kept
    for v in changes.get("volunteers") or []:
        if isinstance(v, dict) and v.get("volunteer") == volunteer:
            if v.get("subject") is not None:
                v["subject"], changed = None, True
            for ref in v.get("removed") or []:
                if isinstance(ref, dict) and ref.get("reason") is not None:
                    ref["reason"], changed = None, True
    for u in changes.get("under_way") or []:
        shift = u.get("shift") if isinstance(u, dict) else None
        if u.get("volunteer") == volunteer and isinstance(shift, dict) and shift.get("reason") is not None:
            shift["reason"], changed = None, True
    contacts = changes.get("contacts")
    if isinstance(contacts, list):
        kept = [c for c in contacts if not _about(c, volunteer)]
        changed |= len(kept) != len(contacts)
        changes["contacts"] = kept
    return changed


def _about(contact: Json, volunteer: str) -> bool:
    return isinstance(contact, dict) and volunteer in (contact.get("of"), contact.get("volunteer"))


def anonymise(data: Json, volunteer: str) -> bool:
    """Anywhere in ``data`` (a change set, a schedule, a webhook payload), an object about the volunteer
    (``"volunteer": <id>``) keeps their id only: the name becomes the id, phone and email are dropped."""
    changed = False
    if isinstance(data, list):
        for item in data:
            changed |= anonymise(item, volunteer)
    elif isinstance(data, dict):
        if data.get("volunteer") == volunteer:
            if "name" in data and data["name"] != volunteer:
                data["name"], changed = volunteer, True
            for field in ("phone", "email"):
                if data.get(field) is not None:
                    data[field], changed = None, True
        for value in data.values():
            if isinstance(value, dict | list):
                changed |= anonymise(value, volunteer)
    return changed


# --------------------------------------------------------------------------------------------------
# erased while a job ran


Erasure = tuple[str, HealthRecord | None]  # (volunteer, the record) or (volunteer, None): all of them


def _record(data: Json) -> HealthRecord | None:
    try:
        return HealthRecord.model_validate(
            {k: data.get(k) for k in ("status", "from", "until", "infectious", "reason") if k in data},
            context=OLD_DATA,
        )
    except ValueError:
        return None


def _removed(before: list, after: list) -> list:
    """The items of ``before`` that ``after`` no longer holds (as a multiset: erasing one of two equal
    records leaves the other)."""
    left = list(after)
    out = []
    for item in before:
        if item in left:
            left.remove(item)
        else:
            out.append(item)
    return out


def erased_between(
    before: Json, after: Json, before_disruptions: Json = None, after_disruptions: Json = None
) -> list[Erasure]:
    """What an erasure took out of a job's snapshot (and a re-solve's disruptions) between ``before``,
    as the worker read them when the job started, and ``after``, as they are stored now (every erasure
    scrubs the stored copies): erased volunteers (their name replaced by their id, their health emptied,
    or gone) and, of the others, each health record or sick call no longer there."""
    out: list[Erasure] = []
    gone: set[str] = set()
    for b in (before.get("volunteers") or []) if isinstance(before, dict) else []:
        if not isinstance(b, dict) or not isinstance(b.get("id"), str):
            continue
        vid = b["id"]
        a = _volunteer_in(after, vid)
        anonymised = a is not None and a.get("name") == vid and (
            b.get("name") != vid
            or b.get("contact") != a.get("contact")
            or bool(b.get("health") and not a.get("health"))
        )
        if a is None or anonymised:
            gone.add(vid)
            out.append((vid, None))
            continue
        for r in _removed(b.get("health") or [], a.get("health") or []):
            record = _record(r) if isinstance(r, dict) else None
            if record is not None:
                out.append((vid, record))
    if isinstance(before_disruptions, list):
        after_list = after_disruptions if isinstance(after_disruptions, list) else []
        for d in _removed(before_disruptions, after_list):
            if not isinstance(d, dict):
                continue
            vid = d.get("volunteer")
            if d.get("kind") == "sick_call" and isinstance(vid, str) and vid not in gone:
                record = _record(d)
                if record is not None:
                    out.append((vid, record))
    return out


def erase_late(erasures: list[Erasure], changes: Json, *others: Json) -> bool:
    """Apply ``erasures`` (see :func:`erased_between`) to what a job is about to store: a record's
    erasure takes the traces of that volunteer's health out of the re-solve's ``changes``; a
    volunteer's also their name and contact out of it and out of ``others`` (the schedule, the advice)."""
    changed = False
    for vid, record in erasures:
        changed |= erase_health_from_changes(changes, vid)
        if record is None:
            for doc in (changes, *others):
                changed |= anonymise(doc, vid)
    return changed
