"""The HTTP API's models for shift reminders."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from scheduler.domain import scenario as sc

MAX_REMINDERS = 4

Hours = Annotated[float, Field(gt=0, le=168, description="Hours before the shift starts")]


class ReminderSettings(sc.Model):
    hours_before: list[Hours] = Field(
        default_factory=list,
        max_length=MAX_REMINDERS,
        description="Remind each volunteer this many hours before each of their shifts: a VALARM in their "
        "own calendar feed and a `shift.reminder` webhook event (once per shift and offset, also across "
        "re-solves that keep the shift). Empty: no reminders",
        examples=[[12, 1]],
    )

    @field_validator("hours_before")
    @classmethod
    def _distinct(cls, value: list[float]) -> list[float]:
        if len(set(value)) != len(value):
            raise ValueError("each offset at most once")
        if any(round(h * 60) != h * 60 for h in value):
            raise ValueError("whole minutes only")
        return sorted(value, reverse=True)
