"""The schedule file (``schedule.json``): what a solve produces and what ``rota check`` reads back."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SolverReport(Model):
    status: str = Field(description="optimal, feasible, infeasible, no_solution or cancelled")
    objective: int | None = None
    best_bound: float | None = None
    gap: float | None = Field(default=None, description="(objective - bound) / objective")
    wall_time: float = Field(description="Seconds spent searching")
    first_solution_time: float | None = Field(default=None, description="Seconds to the first schedule")
    time_limit: float | None = None
    workers: int | None = None
    seed: int | None = None


class Assignment(Model):
    volunteer: str
    post: str
    shift: str = Field(description="Shift template id")
    date: dt.date = Field(description="Local date on which the shift starts")
    start: dt.datetime = Field(description="ISO 8601 with the site's UTC offset")
    end: dt.datetime
    hours: float
    night: bool = False
    intensity: str = "normal"


class Uncovered(Model):
    post: str
    shift: str
    date: dt.date
    start: dt.datetime
    end: dt.datetime
    required: int
    assigned: int
    missing: int = Field(description="People short of the required headcount")
    missing_skills: dict[str, int] = Field(
        default_factory=dict, description="Skill -> people with it missing"
    )
    reason: str = Field(default="", description="Why it could not be covered, where that can be found")
    blocked_by: dict[str, int] = Field(
        default_factory=dict, description="Rule or unavailability -> how many candidates it blocks"
    )
    detail: str = ""


class VolunteerTotals(Model):
    volunteer: str
    name: str
    shifts: int
    hours: float
    nights: int
    heavy_shifts: int
    weekend_shifts: int
    load: int = Field(
        description="Intensity-weighted load (history included) in the site's load measure: tenths of "
        "hours ('hours') or per mille of the volunteer's capacity ('capacity')"
    )
    weekly_hours: list[float] = Field(
        default_factory=list, description="Planned hours in each calendar week of the horizon (see weeks)"
    )


class WeekForecast(Model):
    """One calendar week of the plan (7 days from the horizon's start): the first weeks are the ones
    to publish, the later ones a forecast of where coverage fails or people reach a limit."""

    week: int = Field(description="1 for the first 7 days of the horizon")
    start: dt.date
    end: dt.date = Field(description="The week's last day (the horizon's last day for a short last week)")
    forecast: bool = Field(description="Beyond the first weeks to publish: a forecast, likely to change")
    people_short: int = Field(description="People missing from the week's slots")
    skilled_short: int = Field(description="Skilled people missing from the week's slots")
    busiest_hours: float = Field(description="Planned hours of the busiest volunteer in the week")
    mean_hours: float = Field(description="Mean planned hours over every volunteer")
    at_cap: list[str] = Field(
        default_factory=list,
        description="Volunteers whose planned hours in the week reach their 7-day cap",
    )


class ObjectiveTerm(Model):
    name: str
    value: int
    weight: int
    weighted: int


class Schedule(Model):
    site: str
    timezone: str
    start: dt.date
    days: int
    status: str
    cutoff: dt.datetime | None = Field(
        default=None,
        description="A re-solve's cut-off: assignments starting before it are the worked past, kept as "
        "they were even where a health record or absence recorded since covers them",
    )
    solver: SolverReport
    assignments: list[Assignment] = Field(default_factory=list)
    uncovered: list[Uncovered] = Field(default_factory=list)
    volunteers: list[VolunteerTotals] = Field(default_factory=list)
    load_measure: str = Field(default="hours", description="The unit of each volunteer's load (see rules)")
    objective_terms: list[ObjectiveTerm] = Field(default_factory=list)
    weeks: list[WeekForecast] = Field(
        default_factory=list,
        description="Per calendar week: places short, busiest and mean hours, who reaches their cap",
    )
