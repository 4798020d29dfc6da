"""The HTTP API's models for residents and their guardians: request bodies (the scenario file's own
``Resident``) and responses."""

from __future__ import annotations

from scheduler.domain.residents import ResidentChange, ResidentStatus
from scheduler.domain.scenario import Resident
from scheduler.services.residents import MatchReport
from scheduler.store.residents import PairChange, ResidentUpdate

__all__ = ["MatchReport", "PairChange", "Resident", "ResidentChange", "ResidentStatus", "ResidentUpdate"]
