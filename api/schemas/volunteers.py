"""The HTTP API's models for volunteers: request bodies (the scenario file's own models) and responses."""

from __future__ import annotations

from scheduler.domain.scenario import HealthRecord, Volunteer
from scheduler.store.volunteers import VolunteerUpdate

__all__ = [
    "HealthRecord",
    "Volunteer",
    "VolunteerUpdate",
]
