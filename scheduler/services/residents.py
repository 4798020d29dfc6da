"""Residents' guardians: matching a site's residents to a primary and a backup (stored with their history),
and the register's report (every resident with their pair and next visit, those at risk first)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from scheduler.domain import residents as domain
from scheduler.domain.scenario import Scenario
from scheduler.store import residents as store
from scheduler.store import schedules as schedule_store
from scheduler.store import sites
from scheduler.store.sites import SiteRow

#: Seconds the matching may take in a request (120 residents x 200 volunteers: about a second).
MATCH_TIME_LIMIT = 10.0


class MatchTerm(BaseModel):
    name: str
    value: int
    weight: int


class MatchReport(BaseModel):
    status: str = Field(description="optimal or feasible; no_solution if nothing was found in time")
    objective: int | None = None
    terms: list[MatchTerm] = Field(default_factory=list)
    unguarded: int = Field(description="Residents without a primary")
    no_backup: int = Field(description="Residents without a backup")
    changes: list[domain.ResidentChange] = Field(description="Residents whose pair changed, whom to tell")
    violations: list[str] = Field(default_factory=list, description="The independent checker's findings")


def persist_pairs(
    session: Session, site_id: int, changes: list[domain.ResidentChange], now: dt.datetime
) -> None:
    """Write the new pairs of ``changes`` to the residents' rows, each recorded in the history."""
    for change in changes:
        row = store.get_resident(session, site_id, change.resident)
        store.set_pair(session, row, change.primary, change.backup, change.reason, now)


def match_site(session: Session, site: SiteRow, now: dt.datetime) -> MatchReport:
    """Match the site's residents from ``now`` on (continuity first) and store the new pairs."""
    scenario = sites.export_scenario(session, site)
    result = domain.match(scenario, since=now, time_limit=MATCH_TIME_LIMIT)
    if not result.violations:
        persist_pairs(session, site.id, result.changes, now)
        sites.validate_site(session, site)
    pairs = domain.current_pairs(result.scenario)
    return MatchReport(
        status=str(result.solution.status),
        objective=result.solution.objective,
        terms=[MatchTerm(name=t.name, value=t.value, weight=t.weight) for t in result.solution.terms],
        unguarded=sum(1 for p in pairs if p.primary is None),
        no_backup=sum(1 for p in pairs if p.backup is None),
        changes=result.changes if not result.violations else [],
        violations=[v.message for v in result.violations],
    )


def rematch_ineligible(session: Session, site: SiteRow, scenario: Scenario, now: dt.datetime) -> Scenario:
    """Before a full solve: the residents whose primary or backup is sick or isolating from ``now`` on are
    re-matched (the backup takes over, a new backup is found; every other pair stays) and the new pairs
    stored with their reason in the pair history. ``scenario`` is returned as it is when no guardian is
    concerned, else with the new pairs."""
    guardians = {g for r in scenario.residents for g in (r.primary, r.backup) if g}
    if not guardians:
        return scenario
    # only health takes a guardian away here: a pair the coordinator chose against a language or a
    # skill stays theirs to change (the matching, or the resident's page)
    unwell = {g.id for g in domain.guardian_problem(scenario, now).guardians if not g.available}
    if not guardians & unwell:
        return scenario
    new = domain.rematch(scenario, guardians & unwell, now)
    if new is scenario:
        return scenario
    changes = domain.changed_residents(scenario, new, now)
    persist_pairs(session, site.id, changes, now)
    return new


def register(session: Session, site: SiteRow, now: dt.datetime) -> list[domain.ResidentStatus]:
    """Every resident with their pair and next visit (by the published schedule), at risk first."""
    scenario: Scenario = sites.export_scenario(session, site)
    schedule = schedule_store.published(session, site).model if site.published_version is not None else None
    return domain.register(scenario, schedule, now)
