"""The HTTP API's models for sites: request bodies and responses."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Response  # noqa: F401
from pydantic import BaseModel, Field

from api.deps import site_path
from scheduler.domain import scenario as sc
from scheduler.domain.scenario import Pin, Rules, Scenario
from scheduler.store import sites
from scheduler.store.sites import SiteSettings

__all__ = [
    "Pin",
    "Rules",
    "Scenario",
    "SiteCreated",
    "SiteOut",
    "SiteSettings",
    "site_out",
]


class SiteOut(BaseModel):
    id: int
    site: sc.Site
    horizon: sc.Horizon = Field(description="The default planning horizon of schedule jobs")
    published_version: int | None = Field(description="Number of the published schedule version, if any")
    created_at: dt.datetime
    links: dict[str, str]


class SiteCreated(SiteOut):
    coordinator_token: str = Field(
        description="A coordinator token for the new site. It is shown only this once: keep it safe."
    )


def site_out(row: sites.SiteRow) -> SiteOut:
    base = site_path(row.id)
    return SiteOut(
        id=row.id,
        site=sc.Site(name=row.name, timezone=row.timezone),
        horizon=row.horizon,
        published_version=row.published_version,
        created_at=row.created_at,
        links={
            "self": base,
            "scenario": f"{base}/scenario",
            "rules": f"{base}/rules",
            "pins": f"{base}/pins",
            "posts": f"{base}/posts",
            "volunteers": f"{base}/volunteers",
            "schedule_jobs": f"{base}/schedules",
            "disruptions": f"{base}/disruptions",
            "resolve_settings": f"{base}/resolve-settings",
            "webhook": f"{base}/webhook",
            "reminders": f"{base}/reminders",
            "published_schedule": f"{base}/schedule",
            "calendar": f"{base}/calendar.ics",
        },
    )
