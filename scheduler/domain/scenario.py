"""The scenario file: everything a coordinator knows about a site, as validated pydantic models.

A scenario holds the site and its time zone, the planning horizon, the rules, the posts with their
shift templates, the volunteers (skills, availability, health, history, preferences) and the pinned
assignments. All wall-clock times are in the site's time zone. ``rota schema`` prints the JSON Schema
generated from these models, so this module *is* the format's documentation.
"""

from __future__ import annotations

import datetime as dt
import logging
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

Id = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
        description="Identifier: letters, digits and _ . : - (starts with a letter or digit)",
    ),
]
Hours = Annotated[float, Field(ge=0, le=24 * 7)]

log = logging.getLogger(__name__)


def _date_or_datetime(value: object) -> object:
    """Keep '2026-12-05' a date (a whole day) and '2026-12-05T00:00' a date-time (an instant)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            if "T" in text or " " in text:
                return dt.datetime.fromisoformat(text)
            return dt.date.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(
                f"expected a date (YYYY-MM-DD) or a date-time (YYYY-MM-DDTHH:MM[+HH:MM]), got {value!r}"
            ) from exc
    return value


#: JSON Schema's "date-time" is RFC 3339, which requires an offset; a person's date-time may have none (then
#: it is a wall-clock time in the site's zone), so the schema says that instead.
_SITE_DATE_TIME = {
    "type": "string",
    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?$",
    "description": "ISO 8601 date-time; without a UTC offset it is a wall-clock time in the site's time zone",
    "examples": ["2026-12-09T06:40", "2026-12-09T06:40:00+08:00"],
}
#: A date-time as a person gives it: aware, or naive meaning the site's wall clock.
SiteDateTime = Annotated[dt.datetime, WithJsonSchema(_SITE_DATE_TIME)]
When = Annotated[
    dt.date | dt.datetime,
    BeforeValidator(_date_or_datetime),
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date"}, _SITE_DATE_TIME]}),
]


def _wall_clock(value: dt.time) -> dt.time:
    if value.tzinfo is not None:
        raise ValueError(
            "expected a wall-clock time in the site's time zone, without a UTC offset (e.g. '22:00')"
        )
    return value


#: A wall-clock time of day in the site's zone. JSON Schema's "time" format means RFC 3339 with an offset,
#: which this is not, so the schema says what it is instead.
LocalTime = Annotated[
    dt.time,
    AfterValidator(_wall_clock),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$",
            "description": "Wall-clock time in the site's time zone, without an offset, e.g. 22:00",
            "examples": ["22:00"],
        }
    ),
]


class Weekday(StrEnum):
    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"
    sun = "sun"

    @property
    def index(self) -> int:
        return list(Weekday).index(self)


ALL_WEEKDAYS = tuple(Weekday)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, use_enum_values=False)


class Site(Model):
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(
        description="IANA time zone, e.g. Asia/Shanghai or Europe/Berlin; all wall-clock times are in it"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r} (expected e.g. 'Europe/Berlin')") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Horizon(Model):
    start: dt.date = Field(description="First local day of the plan")
    days: int = Field(ge=1, le=366, description="Number of days planned")

    @property
    def end(self) -> dt.date:
        """The first day after the horizon."""
        return self.start + dt.timedelta(days=self.days)


class NightDefinition(Model):
    """A shift is a night shift when at least ``min_hours`` of it fall between ``start`` and ``end``."""

    start: LocalTime = dt.time(22, 0)
    end: LocalTime = dt.time(6, 0)
    min_hours: float = Field(default=3.0, gt=0, le=24)


class Weights(Model):
    """Weights of the soft objective terms (see the README for what each one measures)."""

    uncovered: int = Field(default=100_000, ge=0)
    skill_shortfall: int = Field(default=100_000, ge=0)
    load_max: int = Field(default=20, ge=0)
    load_spread: int = Field(default=10, ge=0)
    nights_spread: int = Field(default=200, ge=0)
    weekends_spread: int = Field(default=100, ge=0)
    heavy_spread: int = Field(default=100, ge=0)
    preference: int = Field(default=1, ge=0)
    isolated_day_off: int = Field(default=50, ge=0)
    isolated_work_day: int = Field(default=50, ge=0)
    change: int = Field(default=1000, ge=0, description="Per changed assignment when re-solving")
    partners: int = Field(
        default=0,
        ge=0,
        description="Per distinct pair of volunteers who share a shift over the horizon. Above 0 (e.g. 30) "
        "asks for stable teams: the same partners shift after shift, so that when someone falls ill with "
        "something infectious, the list of contacts to isolate is short. 0 (the default) leaves it out.",
    )


class RuleOverrides(Model):
    """Per-volunteer overrides of the site rules; a missing value keeps the site's."""

    min_rest_hours: float | None = Field(default=None, ge=0, le=72)
    max_consecutive_days: int | None = Field(default=None, ge=1, le=366)
    min_days_off_per_7: int | None = Field(default=None, ge=0, le=7)
    max_hours_per_7_days: Hours | None = None
    max_consecutive_nights: int | None = Field(default=None, ge=0, le=366)
    max_shifts_per_day: int | None = Field(default=None, ge=1, le=4)
    max_weekends: int | None = Field(default=None, ge=0)


class RestAfterNights(Model):
    """Compensatory rest: after a run of at least ``min_nights`` consecutive nights (history included),
    no shift starts within ``hours`` of the end of the last of them."""

    min_nights: int = Field(default=2, ge=1, le=366)
    hours: float = Field(default=48, gt=0, le=24 * 7)


class RestAfterHeavy(Model):
    """Compensatory rest after heavy duty: after a run of at least ``min_days`` consecutive days with a
    heavy shift (history included), no shift starts within ``hours`` of the end of the last of them."""

    min_days: int = Field(default=3, ge=1, le=366)
    hours: float = Field(default=36, gt=0, le=24 * 7)


class GuardianRules(Model):
    """How residents are matched to their primary and backup volunteer."""

    shield_risk_group: bool = Field(
        default=True,
        description="Nobody in a risk group answers for a resident whose care is close contact",
    )
    max_primary: int = Field(
        default=3, ge=0, le=100, description="Residents a volunteer is primary for, at most"
    )
    max_backup: int = Field(
        default=3, ge=0, le=100, description="Residents a volunteer is backup for, at most"
    )


class Rules(Model):
    """Site-wide rules. Every one is a hard limit the checker verifies."""

    min_rest_hours: float = Field(default=11, ge=0, le=72)
    max_consecutive_days: int = Field(default=6, ge=1, le=366)
    min_days_off_per_7: int = Field(default=1, ge=0, le=7)
    max_hours_per_7_days: Hours = 40
    max_consecutive_nights: int = Field(default=3, ge=0, le=366)
    max_shifts_per_day: int = Field(default=1, ge=1, le=4)
    visit_travel_minutes: int = Field(
        default=15, ge=0, le=240,
        description="Minutes between a resident's short home visit (up to 2 h) and the volunteer's other "
        "shifts, to get there and back; a short visit needs no min_rest_hours and is not the day's shift",
    )
    max_weekends: int | None = Field(default=None, ge=0, description="Worked weekends over the horizon")
    rest_after_nights: RestAfterNights | None = Field(
        default=None,
        description="Compensatory rest after a run of nights, e.g. {'min_nights': 2, 'hours': 48}; "
        "missing means none beyond min_rest_hours",
    )
    rest_after_heavy: RestAfterHeavy | None = Field(
        default=None,
        description="Compensatory rest after a run of days at heavy posts, e.g. "
        "{'min_days': 3, 'hours': 36}; missing means none beyond min_rest_hours",
    )
    max_consecutive_heavy_days: int | None = Field(
        default=None, ge=1, le=366,
        description="Rotation off high-stress posts: at most this many days in a row with a heavy shift "
        "(history included)",
    )
    max_heavy_share_28_days: float | None = Field(
        default=None, ge=0, le=1,
        description="Rotation off high-stress posts: in every 28 days (or the whole planned span with its "
        "history, if shorter) at most this share of a volunteer's working days has a heavy shift, e.g. 0.5",
    )
    night: NightDefinition = NightDefinition()
    forbidden_successions: list[tuple[Id, Id]] = Field(
        default_factory=list,
        description="Pairs (shift template id, shift template id): the second may not be worked on the day "
        "after the first, e.g. ['night', 'early']",
    )
    contact_tracing_days: int = Field(
        default=7,
        ge=0,
        le=60,
        description="When someone falls ill with something infectious, a re-solve lists as contacts the "
        "people who shared a shift at the same post with them in this many days before the cut-off",
    )
    load_measure: Literal["hours", "capacity"] = Field(
        default="hours",
        description="What the load terms balance. 'hours' (the default): intensity-weighted hours worked, "
        "history included, so the busiest volunteer works as few hours as the rules allow, then the spread "
        "is as small as possible; a declared weekly maximum is a limit, not a wish. 'capacity': load per "
        "mille of each volunteer's declared weekly maximum, so those who declare more get more",
    )
    guardians: GuardianRules = Field(
        default=GuardianRules(),
        description="Vulnerable residents' named volunteers (primary and backup): caps and shielding",
    )
    weights: Weights = Weights()


class Intensity(StrEnum):
    light = "light"
    normal = "normal"
    heavy = "heavy"


class ShiftTemplate(Model):
    """A recurring shift at a post. ``end`` <= ``start`` means the shift ends the next day."""

    id: Id
    start: LocalTime
    end: LocalTime
    weekdays: list[Weekday] = Field(
        default_factory=lambda: list(ALL_WEEKDAYS), description="Weekdays on which the shift runs"
    )
    dates: list[dt.date] | None = Field(
        default=None, description="If given, the shift runs only on these dates (weekdays still apply)"
    )
    required: int = Field(default=1, ge=0, le=1000, description="People needed")
    skills: dict[Id, int] = Field(
        default_factory=dict,
        description="Skill -> at least this many of the people on the shift must have it, "
        "e.g. {'medical': 1}",
    )
    intensity: Intensity | None = Field(default=None, description="Overrides the post's intensity")
    pairs: bool = Field(
        default=False,
        description="Worked by two people together or not at all (outreach in pairs): a slot is staffed by "
        "nobody or at least two, never one alone; needs required >= 2",
    )

    @model_validator(mode="after")
    def _skills_fit_headcount(self) -> ShiftTemplate:
        if self.pairs and self.required < 2:
            raise ValueError(f"pairs: a shift worked in pairs needs required >= 2, got {self.required}")
        for skill, count in self.skills.items():
            if count < 0:
                raise ValueError(f"skills.{skill}: must be >= 0, got {count}")
            if count > self.required:
                raise ValueError(
                    f"skills.{skill}: asks for {count} people with the skill "
                    f"but only {self.required} are required"
                )
        if self.start == self.end:
            raise ValueError("end: must differ from start (a 24-hour shift is not supported)")
        return self


class Post(Model):
    id: Id
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(
        default="other",
        min_length=1,
        max_length=40,
        description="gate, patrol, delivery, care_visit, hotline, ... (free text)",
    )
    intensity: Intensity = Intensity.normal
    location: str | None = Field(default=None, max_length=300)
    instructions: str | None = Field(default=None, max_length=2000, description="What to bring, what to do")
    shifts: list[ShiftTemplate] = Field(min_length=1)

    @field_validator("shifts")
    @classmethod
    def _unique_templates(cls, shifts: list[ShiftTemplate]) -> list[ShiftTemplate]:
        _reject_duplicates([s.id for s in shifts], "shift template id")
        return shifts


class Contact(Model):
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)


class AvailabilityWindow(Model):
    """A weekly window in which the volunteer can work; ``end`` <= ``start`` runs past midnight."""

    weekdays: list[Weekday] = Field(default_factory=lambda: list(ALL_WEEKDAYS))
    start: LocalTime = dt.time(0, 0)
    end: LocalTime = dt.time(0, 0)


class AbsenceReason(StrEnum):
    """Why a volunteer is away for some dates (a dated absence): a fixed list, so no free text can hold a
    diagnosis. Every :class:`WithdrawalReason` is one (a withdrawal becomes an absence)."""

    travel = "travel"
    work = "work"
    study = "study"
    family = "family"
    caring_for_someone = "caring_for_someone"
    appointment = "appointment"
    unwell = "unwell"
    injury = "injury"
    quarantine_order = "quarantine_order"
    personal = "personal"
    other = "other"


#: Validation context for data written before a free-text field became a fixed list (scenario files,
#: stored rows and job snapshots): ``Model.model_validate(data, context=OLD_DATA)`` drops such text with a
#: warning (the reason becomes ``other``) where a request body with it is refused (422 naming the field).
OLD_DATA: dict[str, bool] = {"old_data": True}


def is_old_data(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("old_data"))


class Period(Model):
    """A span of time. A date means the whole local day: ``until`` is inclusive for dates and exclusive
    for date-times. A missing ``from``/``until`` is open-ended."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: When | None = Field(default=None, alias="from")
    until: When | None = None
    reason: AbsenceReason | None = Field(
        default=None,
        description="Why, from a fixed list (no free text: it could hold a diagnosis). The free-text reason "
        "of older files is dropped when they are loaded: the absence gets reason `other`",
    )

    @model_validator(mode="before")
    @classmethod
    def _old_free_text(cls, data: Any, info: ValidationInfo) -> Any:
        if not is_old_data(info):
            return data
        return drop_free_text(data, "reason", AbsenceReason, what="absence")

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        check_order(self.start, self.until)
        return self


class HealthStatus(StrEnum):
    fit = "fit"
    limited = "limited"  # light posts only, no nights
    recovering = "recovering"  # treated like limited
    sick = "sick"  # never scheduled
    isolating = "isolating"  # never scheduled


class HealthReason(StrEnum):
    """Why a health status was recorded: a fixed list, so no free text can hold a diagnosis."""

    unwell = "unwell"
    injury = "injury"
    caring_for_someone = "caring_for_someone"
    quarantine_order = "quarantine_order"
    contact_of_a_case = "contact_of_a_case"
    other = "other"


class WithdrawalReason(StrEnum):
    """Why a volunteer withdraws: a fixed list (a free-text reason could hold a diagnosis)."""

    unwell = "unwell"
    injury = "injury"
    caring_for_someone = "caring_for_someone"
    quarantine_order = "quarantine_order"
    personal = "personal"
    other = "other"


def drop_free_text(
    data: Any, field: str, enum: type[StrEnum] = HealthReason, what: str = "health record"
) -> Any:
    """Before validation: free text in ``field`` (an old health record's ``note``, an old withdrawal's
    ``reason``) is not kept. The text is dropped with a warning and ``reason`` becomes ``other`` (a value
    of ``enum`` is kept as it is), so old scenarios, stored jobs and old clients still load."""
    if not isinstance(data, dict) or field not in data:
        return data
    data = dict(data)
    text = data.pop(field)
    if isinstance(text, str) and text in {m.value for m in enum}:
        data["reason"] = text
    elif text is None or (isinstance(text, str) and not text.strip()):
        data.setdefault("reason", None)
    else:
        if data.get("reason") is None:
            data["reason"] = enum.other.value  # type: ignore[attr-defined]
        log.warning("%s: free text in %r was dropped (only a reason from a fixed list is kept)", what, field)
    return data


class HealthRecord(Model):
    """A health status from ``from`` until ``until``. Records are a history: where they overlap, the one
    that starts later wins (so 'fit from the 9th' ends an open-ended 'sick from the 5th')."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    status: HealthStatus
    start: When | None = Field(default=None, alias="from")
    until: When | None = None
    infectious: bool = False
    reason: HealthReason | None = Field(
        default=None,
        description="Why, from a fixed list (no free text, never a diagnosis). A free-text `note` of older "
        "files is dropped: its record gets reason `other`",
    )

    @model_validator(mode="before")
    @classmethod
    def _legacy_note(cls, data: Any) -> Any:
        return drop_free_text(data, "note")

    @model_validator(mode="after")
    def _ordered(self) -> HealthRecord:
        check_order(self.start, self.until)
        return self


class Preferences(Model):
    preferred_posts: list[Id] = Field(default_factory=list)
    unwanted_posts: list[Id] = Field(default_factory=list)
    preferred_shifts: list[Id] = Field(default_factory=list, description="Shift template ids, e.g. 'morning'")
    unwanted_shifts: list[Id] = Field(default_factory=list, description="Shift template ids, e.g. 'night'")
    unwanted_weekdays: list[Weekday] = Field(default_factory=list)
    target_hours_per_week: Hours | None = Field(
        default=None,
        description="Hours a week the volunteer wishes to work (at normal intensity). Up to it they count as "
        "neither busy nor idle in the load terms, so they are given work up to it before the rest is "
        "spread; capped by their weekly maximum",
    )


class PastShift(Model):
    start: SiteDateTime
    end: SiteDateTime
    post: Id | None = None
    shift: Id | None = Field(default=None, description="Shift template id (for forbidden successions)")
    night: bool | None = Field(default=None, description="Defaults to the site's night definition")

    @model_validator(mode="after")
    def _ordered(self) -> PastShift:
        if _naive(self.end) <= _naive(self.start):
            raise ValueError("end: must be after start")
        return self


class History(Model):
    """The recent past before the horizon. Either list ``recent_shifts`` (exact) or give the summary
    fields; the hours of a summary are counted as if worked on the day before the horizon."""

    last_shift_end: SiteDateTime | None = None
    consecutive_days_worked: int = Field(default=0, ge=0, le=366)
    consecutive_nights: int = Field(default=0, ge=0, le=366)
    consecutive_heavy_days: int = Field(
        default=0, ge=0, le=366, description="Days in a row up to the horizon with a heavy shift"
    )
    hours_last_7_days: float = Field(default=0, ge=0, le=24 * 7)
    recent_shifts: list[PastShift] = Field(default_factory=list)


class Volunteer(Model):
    id: Id
    name: str = Field(min_length=1, max_length=200)
    contact: Contact = Contact()
    skills: list[Id] = Field(
        default_factory=list, description="e.g. medical, social_work, psych_support, driver"
    )
    max_hours_per_week: Hours | None = Field(
        default=None, description="The volunteer's own weekly cap (rolling 7 days); the site cap applies too"
    )
    availability: list[AvailabilityWindow] | None = Field(
        default=None, description="Weekly windows; missing means available at any time"
    )
    unavailable: list[Period] = Field(default_factory=list, description="Dated absences")
    preferences: Preferences = Preferences()
    health: list[HealthRecord] = Field(default_factory=list, description="Health history; empty means fit")
    rules: RuleOverrides = RuleOverrides()
    history: History = History()
    languages: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, description="Languages and dialects spoken, e.g. ['mandarin', 'shanghainese']"
    )
    building: str | None = Field(default=None, max_length=100, description="Building the volunteer lives in")
    zone: str | None = Field(default=None, max_length=100, description="Zone (block, section) of the site")
    risk_group: bool = Field(
        default=False,
        description="In a risk group (e.g. chronic illness, pregnancy): where the site shields its risk "
        "group, never a guardian of a resident whose care is close contact",
    )


class ResidentNeeds(Model):
    """What a vulnerable resident needs, as far as a visiting volunteer must know it."""

    daily_check_in: bool = False
    grocery_days: list[Weekday] = Field(default_factory=list, description="Days groceries are delivered")
    medicine_days: list[Weekday] = Field(default_factory=list, description="Days medicine is delivered")
    mobility_help: bool = False
    medical_care: bool = Field(default=False, description="Needs a volunteer with the 'medical' skill")
    language: str | None = Field(
        default=None, min_length=1, max_length=40, description="Language or dialect the guardian must speak"
    )
    skills: list[Id] = Field(default_factory=list, description="Further skills the guardian must have")
    notes: str | None = Field(
        default=None, max_length=500, description="What the visiting volunteer must know (no diagnosis)"
    )


class ResidentVisit(Model):
    """A visit the resident needs: on these weekdays, starting at ``start``, lasting ``minutes``."""

    id: Id
    weekdays: list[Weekday] = Field(default_factory=lambda: list(ALL_WEEKDAYS))
    start: LocalTime = Field(description="Start of the visit (wall-clock time in the site's zone)")
    minutes: int = Field(default=30, ge=5, le=12 * 60, description="How long the visit lasts")
    purpose: str | None = Field(default=None, max_length=100, description="e.g. check-in, medicine delivery")


class KinContact(Model):
    name: str = Field(min_length=1, max_length=200)
    relation: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)


class Resident(Model):
    """A vulnerable resident (disabled without a carer, very old and alone, a child without guardians) who
    must have a named volunteer (the *primary*) and a distinct *backup*. Sensitive personal data: visible
    to the site's coordinators only."""

    id: Annotated[str, Field(
        min_length=1, max_length=58, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
        description="Identifier (at most 58 characters: its visits' post is visit:<id>)",
    )]
    name: str = Field(min_length=1, max_length=200)
    building: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300, description="Flat, floor, entrance")
    zone: str | None = Field(default=None, max_length=100)
    needs: ResidentNeeds = ResidentNeeds()
    visits: list[ResidentVisit] = Field(default_factory=list, description="Visits that go on the rota")
    kin: KinContact | None = Field(default=None, description="A contact of kin, if any")
    close_contact: bool | None = Field(
        default=None,
        description="The care is close contact; missing means: if the needs include mobility help or "
        "medical care",
    )
    primary: Id | None = Field(default=None, description="The volunteer who answers for the resident")
    backup: Id | None = Field(default=None, description="Takes over when the primary cannot")

    @field_validator("visits")
    @classmethod
    def _unique_visits(cls, visits: list[ResidentVisit]) -> list[ResidentVisit]:
        _reject_duplicates([v.id for v in visits], "visit id")
        return visits

    @model_validator(mode="after")
    def _distinct(self) -> Resident:
        if self.primary is not None and self.primary == self.backup:
            raise ValueError("backup: must differ from the primary")
        return self

    @property
    def is_close_contact(self) -> bool:
        if self.close_contact is not None:
            return self.close_contact
        return self.needs.mobility_help or self.needs.medical_care

    @property
    def skills(self) -> frozenset[str]:
        return frozenset(self.needs.skills) | ({"medical"} if self.needs.medical_care else set())


class Pin(Model):
    volunteer: Id
    post: Id
    shift: Id = Field(description="Shift template id")
    date: dt.date = Field(description="Local date on which the shift starts")


class Scenario(Model):
    """A site's whole planning problem."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"title": "rota scenario"})

    version: Literal[1] = 1
    site: Site
    horizon: Horizon
    rules: Rules = Rules()
    posts: list[Post] = Field(min_length=1)
    volunteers: list[Volunteer] = Field(default_factory=list)
    pinned: list[Pin] = Field(default_factory=list)
    residents: list[Resident] = Field(
        default_factory=list, description="Vulnerable residents with their named volunteers and visits"
    )

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        _reject_duplicates([p.id for p in self.posts], "post id")
        _reject_duplicates([v.id for v in self.volunteers], "volunteer id")
        _reject_duplicates([r.id for r in self.residents], "resident id")
        posts = {p.id: p for p in self.posts}
        post_templates = {s.id for p in self.posts for s in p.shifts}
        for i, r in enumerate(self.residents):
            if visit_post_id(r.id) in posts:
                raise ValueError(f"residents[{i}].id: post {visit_post_id(r.id)!r} would hold its visits")
            for j, visit in enumerate(r.visits):
                if visit.id in post_templates:
                    raise ValueError(
                        f"residents[{i}].visits[{j}].id: {visit.id!r} is a shift template of a post "
                        "(the rest rules would confuse them)"
                    )
        posts = {p.id: p for p in self.posts}
        volunteers = {v.id for v in self.volunteers}
        templates = {s.id for p in self.posts for s in p.shifts}
        for i, (first, second) in enumerate(self.rules.forbidden_successions):
            for name in (first, second):
                if name not in templates:
                    raise ValueError(f"rules.forbidden_successions[{i}]: no shift template {name!r}")
        for i, pin in enumerate(self.pinned):
            if pin.volunteer not in volunteers:
                raise ValueError(f"pinned[{i}].volunteer: no volunteer {pin.volunteer!r}")
            if pin.post not in posts:
                raise ValueError(f"pinned[{i}].post: no post {pin.post!r}")
            if pin.shift not in {s.id for s in posts[pin.post].shifts}:
                raise ValueError(f"pinned[{i}].shift: post {pin.post!r} has no shift {pin.shift!r}")
            if not self.horizon.start <= pin.date < self.horizon.end:
                raise ValueError(f"pinned[{i}].date: {pin.date} is outside the horizon")
        for i, r in enumerate(self.residents):
            for role in ("primary", "backup"):
                vid = getattr(r, role)
                if vid is not None and vid not in volunteers:
                    raise ValueError(f"residents[{i}].{role}: no volunteer {vid!r}")
        for i, v in enumerate(self.volunteers):
            prefs = v.preferences
            for field, ids, known, what in (
                ("preferred_posts", prefs.preferred_posts, posts, "post"),
                ("unwanted_posts", prefs.unwanted_posts, posts, "post"),
                ("preferred_shifts", prefs.preferred_shifts, templates, "shift template"),
                ("unwanted_shifts", prefs.unwanted_shifts, templates, "shift template"),
            ):
                for ref in ids:
                    if ref not in known:
                        raise ValueError(f"volunteers[{i}].preferences.{field}: no {what} {ref!r}")
        return self


#: The posts holding residents' visits are named after the resident (see scheduler.domain.residents).
VISIT_POST_PREFIX = "visit:"


def visit_post_id(resident_id: str) -> str:
    return VISIT_POST_PREFIX + resident_id


def _reject_duplicates(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"duplicate {what} {i!r}")
        seen.add(i)


def _naive(value: dt.datetime | dt.date) -> dt.datetime:
    """Comparable form for ordering checks only (aware values in UTC, dates at midnight)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    return dt.datetime.combine(value, dt.time())


def check_order(start: dt.datetime | dt.date | None, until: dt.datetime | dt.date | None) -> None:
    if start is None or until is None:
        return
    if isinstance(until, dt.datetime):
        if _naive(until) <= _naive(start):
            raise ValueError("until: must be after from")
    elif _naive(until) < _naive(start).replace(hour=0, minute=0, second=0, microsecond=0):
        raise ValueError("until: must not be before from")


def json_schema() -> dict:
    return Scenario.model_json_schema(by_alias=True)
