"""The guardian matching's problem and answer (pure data): residents who need a named volunteer (*wards*),
the volunteers who may answer for them (*guardians*), the site's caps and the weights.

The model is :mod:`solver.guardians`; the independent checker, :mod:`solver.guardians_check`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from solver.problem import Status, Term

#: Distance steps between a volunteer and a resident.
SAME_BUILDING, SAME_ZONE, ELSEWHERE = 0, 1, 3
#: Change costs, in tenths of a change (the weight is per whole change).
KEEP, PROMOTED, REPLACED, NEW_BACKUP, BACKUP_KEPT = 0, 5, 10, 1, 0


@dataclass(frozen=True)
class Ward:
    """A resident who needs a guardian (only what the matching needs: no name, no address)."""

    id: str
    skills: frozenset[str] = frozenset()  # the needs call for them, e.g. "medical" for medical care
    language: str | None = None
    building: str | None = None
    zone: str | None = None
    close_contact: bool = False  # the care is close contact (mobility help, medical care)
    primary: str | None = None  # the current pair, kept unless it must change
    backup: str | None = None


@dataclass(frozen=True)
class Guardian:
    """A volunteer who may answer for residents."""

    id: str
    skills: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    building: str | None = None
    zone: str | None = None
    available: bool = True  # not sick or isolating over the plan
    risk_group: bool = False


@dataclass(frozen=True)
class GuardianWeights:
    unguarded: int = 1_000_000
    no_backup: int = 100_000
    guardian_change: int = 1_000  # per tenth of a change: 10,000 a whole one
    distance: int = 100
    visit_fit: int = 300  # per weekly visit the guardian's availability cannot make
    guardian_load: int = 10


@dataclass(frozen=True)
class GuardianProblem:
    wards: tuple[Ward, ...]
    guardians: tuple[Guardian, ...]
    max_primary: int = 3
    max_backup: int = 3
    shield_risk_group: bool = True
    weights: GuardianWeights = field(default_factory=GuardianWeights)
    #: (ward id, guardian id) -> how many of the ward's weekly visits fall outside the guardian's
    #: weekly availability (missing: 0, every visit fits)
    misfit: Mapping[tuple[str, str], int] = field(default_factory=dict)

    def guardian(self, guardian_id: str) -> Guardian:
        return next(g for g in self.guardians if g.id == guardian_id)


@dataclass(frozen=True)
class Pair:
    ward: str
    primary: str | None
    backup: str | None


@dataclass(frozen=True)
class GuardianSolution:
    status: Status
    pairs: tuple[Pair, ...]
    objective: int | None = None
    bound: float | None = None
    terms: tuple[Term, ...] = ()

    def pair(self, ward_id: str) -> Pair:
        return next(p for p in self.pairs if p.ward == ward_id)
