"""The HTTP API's models for replans: request bodies and responses."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response  # noqa: F401
from pydantic import Field

from scheduler.domain import scenario as sc
from scheduler.domain.disruptions import Disruption
from scheduler.services.replan_jobs import ResolveOptions, ResolveRequest

__all__ = [
    "Disruption",
    "ResolveOptions",
    "ResolveRequest",
    "ResolveSettings",
]


class ResolveSettings(sc.Model):
    auto_resolve: bool = Field(
        default=False,
        description="Re-solve the published schedule (from now) whenever a health update is recorded, as "
        "if `resolve=true` were sent; no effect before a schedule is published",
    )
    contact_tracing_days: int = Field(
        default=7,
        ge=0,
        le=60,
        description="For an infectious illness, the people who shared a shift at the same post with the "
        "ill person in this many days before the cut-off are listed as contacts (the site's "
        "`rules.contact_tracing_days`)",
    )
