"""Small scenario builders for the scheduler tests (dicts -> Scenario.model_validate)."""

from __future__ import annotations

from typing import Any

from scheduler.domain.scenario import Scenario


def template(id: str, start: str, end: str, **extra: Any) -> dict:
    return {"id": id, "start": start, "end": end, **extra}


def post(id: str, *templates: dict, **extra: Any) -> dict:
    return {"id": id, "name": id.title(), "shifts": list(templates), **extra}


def volunteer(id: str, **extra: Any) -> dict:
    return {"id": id, "name": f"Volunteer {id}", **extra}


def gate(**extra: Any) -> dict:
    """A gate with a day shift (08:00-16:00) and a night shift (22:00-06:00)."""
    return post("gate", template("day", "08:00", "16:00"), template("night", "22:00", "06:00"), **extra)


def scenario(
    *,
    tz: str = "Europe/Berlin",
    start: str = "2026-12-07",  # a Monday
    days: int = 7,
    posts: list[dict] | None = None,
    volunteers: list[dict] | None = None,
    rules: dict | None = None,
    pinned: list[dict] | None = None,
) -> Scenario:
    data: dict[str, Any] = {
        "site": {"name": "Test site", "timezone": tz},
        "horizon": {"start": start, "days": days},
        "posts": posts if posts is not None else [gate()],
        "volunteers": volunteers if volunteers is not None else [],
    }
    if rules is not None:
        data["rules"] = rules
    if pinned is not None:
        data["pinned"] = pinned
    return Scenario.model_validate(data)
