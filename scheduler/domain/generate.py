"""Realistic scenarios of any size, for demos, fixtures, tests and benchmarks.

``generate(volunteers, days, seed)`` builds a closed residential compound (several for large sizes) run
by its volunteers: gates staffed around the clock, patrols, grocery and medicine deliveries, check-in
visits to vulnerable residents and a remote hotline. ``generate(..., site="shelter")`` builds an
emergency shelter instead (reception, night watch, meals, medical desk, child care, supply runs).

The posts are scaled to the volunteers so that the demand is about three quarters of what they can
sustainably give under the default rules (40 h per rolling 7 days, one shift a day, a day off in
every 7): coverable, but not by a wide margin. :func:`measure` computes both sides. Below about ten
volunteers even one gate staffed by one person is more than that; the gate is still there.

Everything is drawn from ``random.Random(seed)``: the same arguments give the same scenario.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import random
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from scheduler.domain.scenario import Scenario

DEFAULT_START = dt.date(2026, 12, 7)  # a Monday

SITE_MAX_HOURS = 40.0  # Rules.max_hours_per_7_days default
MAX_SHIFTS_PER_7 = 6  # one shift a day, at least one day off in every 7
HOURS_TARGET = 0.78  # add posts while demand stays within this share of the volunteers' hours...
SHIFTS_TARGET = 0.80  # ...and of the shifts they can work (short shifts use up days, not hours)

SiteKind = Literal["compound", "shelter"]
Json = dict[str, Any]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WORKDAYS = list(WEEKDAYS[:5])
WEEKEND = ["sat", "sun"]


# --------------------------------------------------------------------------------------------------
# Measuring demand against capacity


@dataclass(frozen=True)
class Load:
    """Person-hours and person-shifts asked for by the posts over the horizon, and what the volunteers
    can sustainably give: ``min(40, max_hours_per_week)`` hours and 6 shifts per 7 days each."""

    demand_hours: float
    capacity_hours: float
    demand_shifts: int
    capacity_shifts: float

    @property
    def hours_ratio(self) -> float:
        return self.demand_hours / self.capacity_hours if self.capacity_hours else math.inf

    @property
    def shifts_ratio(self) -> float:
        return self.demand_shifts / self.capacity_shifts if self.capacity_shifts else math.inf


def measure(scenario: Scenario) -> Load:
    """Demand and capacity of a scenario (health, availability and history are ignored)."""
    posts = [p.model_dump(mode="json", by_alias=True) for p in scenario.posts]
    volunteers = [v.model_dump(mode="json", by_alias=True) for v in scenario.volunteers]
    hours, shifts = _demand(posts, scenario.horizon.start, scenario.horizon.days)
    cap_hours, cap_shifts = _capacity(volunteers, scenario.horizon.days, scenario.rules.max_hours_per_7_days)
    return Load(hours, cap_hours, shifts, cap_shifts)


def _hours(start: str, end: str) -> float:
    """Nominal length of a shift from wall-clock times ("22:00" to "06:00" is 8 h; DST is ignored)."""
    a, b = dt.time.fromisoformat(start), dt.time.fromisoformat(end)
    minutes = (b.hour * 60 + b.minute) - (a.hour * 60 + a.minute)
    return (minutes if minutes > 0 else minutes + 24 * 60) / 60


def _occurrences(template: Json, start: dt.date, days: int) -> int:
    weekdays = set(template.get("weekdays") or WEEKDAYS)
    dates = template.get("dates")
    dates = None if dates is None else {dt.date.fromisoformat(str(d)) for d in dates}
    count = 0
    for i in range(days):
        day = start + dt.timedelta(days=i)
        if WEEKDAYS[day.weekday()] in weekdays and (dates is None or day in dates):
            count += 1
    return count


def _demand(posts: list[Json], start: dt.date, days: int) -> tuple[float, int]:
    hours, shifts = 0.0, 0
    for post in posts:
        for t in post["shifts"]:
            n = _occurrences(t, start, days) * t.get("required", 1)
            hours += n * _hours(str(t["start"])[:5], str(t["end"])[:5])
            shifts += n
    return hours, shifts


def _weekly_hours(volunteer: Json, site_max: float = SITE_MAX_HOURS) -> float:
    own = volunteer.get("max_hours_per_week")
    return min(site_max, own) if own is not None else site_max


def _weekly_shifts(volunteer: Json) -> int:
    windows = volunteer.get("availability")
    if windows is None:
        return MAX_SHIFTS_PER_7
    days = {d for w in windows for d in (w.get("weekdays") or WEEKDAYS)}
    return min(MAX_SHIFTS_PER_7, len(days))


def _capacity(volunteers: list[Json], days: int, site_max: float = SITE_MAX_HOURS) -> tuple[float, float]:
    weeks = days / 7
    hours = sum(_weekly_hours(v, site_max) for v in volunteers) * weeks
    shifts = sum(_weekly_shifts(v) for v in volunteers) * weeks
    return hours, shifts


# --------------------------------------------------------------------------------------------------
# Names and contacts

# (given names, family names, family name first?)
_CULTURES: list[tuple[list[str], list[str], bool]] = [
    (["Wei", "Fang", "Jing", "Lei", "Min", "Xiaoling", "Hao", "Yan", "Jun", "Mei", "Tao", "Lina"],
     ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu", "Xu", "Sun"], True),
    (["Min-jun", "Seo-yeon", "Ji-ho", "Ha-eun", "Do-yun", "Su-bin"],
     ["Kim", "Lee", "Park", "Choi", "Jung", "Kang"], True),
    (["Anh", "Linh", "Minh", "Thu", "Hoa", "Quang"], ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng"], True),
    (["Yuki", "Haruto", "Aiko", "Kenji", "Sora", "Emi"],
     ["Sato", "Suzuki", "Takahashi", "Tanaka", "Ito"], False),
    (["Priya", "Arjun", "Ananya", "Rohan", "Kavya", "Vikram", "Meera"],
     ["Sharma", "Patel", "Iyer", "Reddy", "Nair", "Singh", "Das"], False),
    (["Omar", "Layla", "Yusuf", "Amira", "Karim", "Nour", "Samir"],
     ["Haddad", "Khalil", "Mansour", "Saleh", "Aziz", "Nasser"], False),
    (["Emre", "Elif", "Murat", "Zeynep", "Darius", "Shirin"],
     ["Yılmaz", "Demir", "Kaya", "Çelik", "Rahimi", "Karimi"], False),
    (["Amara", "Kwame", "Chinedu", "Zanele", "Tendai", "Fatou", "Kofi", "Ayodele"],
     ["Okafor", "Mensah", "Diallo", "Ndlovu", "Abebe", "Mwangi", "Banda", "Okoye"], False),
    (["Anna", "Lukas", "Sofia", "Mateo", "Elena", "Jonas", "Marta", "Pierre", "Ingrid", "Tomasz", "Chiara"],
     ["Müller", "Kowalski", "Rossi", "García", "Dubois", "Novak", "Jensen", "Horvat", "Andersson",
      "Papadopoulos"], False),
    (["Camila", "Diego", "Valentina", "Joaquín", "Lucía", "Andrés", "Gabriela"],
     ["Fernández", "López", "Ramírez", "Souza", "Morales", "Torres", "Castro"], False),
    (["Emily", "James", "Grace", "Daniel", "Olivia", "Samuel", "Aisha", "Noah"],
     ["Smith", "O'Brien", "Taylor", "Walker", "Campbell", "Murphy"], False),
    (["Olena", "Dmytro", "Natalia", "Ivan", "Iryna", "Taras"],
     ["Petrenko", "Shevchenko", "Kovalenko", "Bondarenko", "Melnyk"], False),
    (["Putri", "Budi", "Maria", "José", "Ayu", "Rizal", "Dewi"],
     ["Santoso", "Reyes", "Cruz", "Wijaya", "Bautista", "Hidayat"], False),
]

# country calling code and a pattern of the national number (# is a random digit) per time zone
_PHONES = {
    "Asia/Shanghai": ("+86", "13# #### ####"),
    "Asia/Hong_Kong": ("+852", "9### ####"),
    "Asia/Tokyo": ("+81", "90 #### ####"),
    "Asia/Kolkata": ("+91", "98### #####"),
    "Europe/Berlin": ("+49", "15# #######"),
    "Europe/Paris": ("+33", "6 ## ## ## ##"),
    "Europe/London": ("+44", "7700 900###"),
    "America/New_York": ("+1", "212 555 01##"),
    "America/Sao_Paulo": ("+55", "11 9#### ####"),
    "Africa/Nairobi": ("+254", "7## ### ###"),
}
_DEFAULT_PHONE = ("+1", "555 01## ####")
_MAIL_DOMAINS = ["example.org", "example.net", "example.com"]


_TRANSLITERATE = str.maketrans({"ı": "i", "ø": "o", "ł": "l", "đ": "d", "ß": "ss", "æ": "ae", "'": ""})


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE)).encode("ascii", "ignore").decode()


def _slug(text: str) -> str:
    ascii_text = _ascii(text)
    return "".join(c for c in ascii_text.lower() if c.isalnum())


def _name(rng: random.Random, taken: set[str]) -> tuple[str, str, str]:
    """(full name, given, family), unique while the pool lasts."""
    for _ in range(30):
        given_names, families, family_first = rng.choice(_CULTURES)
        given, family = rng.choice(given_names), rng.choice(families)
        full = f"{family} {given}" if family_first else f"{given} {family}"
        if full not in taken:
            break
    taken.add(full)
    return full, given, family


def _phone(rng: random.Random, timezone: str) -> str:
    code, pattern = _PHONES.get(timezone, _DEFAULT_PHONE)
    return f"{code} " + "".join(str(rng.randrange(10)) if c == "#" else c for c in pattern)


# --------------------------------------------------------------------------------------------------
# Posts


def _t(tid: str, start: str, end: str, required: int, skills: dict[str, int] | None = None,
       intensity: str | None = None, weekdays: list[str] | None = None) -> Json:
    template: Json = {"id": tid, "start": start, "end": end, "required": required}
    if skills:
        template["skills"] = {k: min(v, required) for k, v in skills.items()}
    if intensity:
        template["intensity"] = intensity
    if weekdays:
        template["weekdays"] = weekdays
    return template


@dataclass
class _Group:
    """One compound or shelter: its name, id prefix and the volunteers who belong to it."""

    name: str
    prefix: str
    volunteers: int


_COMPOUNDS = ["Riverside Gardens", "Orchard Court", "Hillview Estate", "Lakeside Homes", "Pinewood Terrace",
              "Meadowbrook", "Sunrise Heights", "Harbour View", "Cedar Court", "Willow Park", "Stone Bridge",
              "Maple Grove", "Bamboo Grove", "Lotus Court", "Silver Birch", "Kingfisher Quay", "Old Mill",
              "Greenfield", "Rosewood", "Jasmine Gardens"]
_SHELTERS = ["Eastside Sports Hall", "Northgate School Gym", "Central Exhibition Hall",
             "Harbour Community Centre", "Old Market Hall", "West Park Arena", "Union Station Hall",
             "Riverside Church Hall"]
_DIRECTIONS = ["north", "south", "east", "west", "north-east", "south-west", "north-west", "south-east"]
_LANDMARKS = ["next to Building 1", "on Garden Road", "by the bicycle shed", "facing the market street",
              "behind the kindergarten", "by the bus stop", "at the car park ramp", "beside the pharmacy"]
_ROUTE_AREAS = ["Buildings 1-8 and the central garden", "Buildings 9-16 and the car park",
                "the east wing, the playground and the bin stores", "the perimeter fence and the back lanes",
                "the shops along the inner street", "the old blocks and the boiler house"]

_GATE_INSTRUCTIONS = (
    "Check residents' passes, register every visitor and delivery, keep the barrier closed. "
    "Bring: mask, gloves, pen, charged phone; warm coat, hat and thermos for the night shift. "
    "The register and hand sanitiser are in the gate booth."
)
_MAIN_GATE_INSTRUCTIONS = (
    "Main entrance: on early and late shifts one medically trained volunteer takes temperatures and "
    "records them. " + _GATE_INSTRUCTIONS.replace("Bring: ", "Bring: thermometer, ")
)
_PATROL_INSTRUCTIONS = (
    "Walk the route twice per shift in pairs: check that entrances of isolating households are closed, "
    "that bins are emptied and nobody gathers; report problems in the team chat. "
    "Bring: mask, torch for the evening round, charged phone, comfortable shoes."
)
_GROCERY_INSTRUCTIONS = (
    "Collect the group-buy orders at the community service centre, sort them by building and carry them "
    "to the doors (no contact: knock, step back, wait for the door to open). "
    "Bring: mask, gloves, disinfectant spray; the driver brings a licence (van keys at the office)."
)
_MEDICINE_INSTRUCTIONS = (
    "Pick up prescriptions at the pharmacy and deliver them against a signature; keep insulin and other "
    "cold items in the cool box. Bring: mask, gloves, the prescription list, charged phone; "
    "the driver brings a licence."
)
_CARE_INSTRUCTIONS = (
    "Daily check-in with the residents on your list (old people living alone, disabled residents without "
    "a carer, children left without one): ask about food, medicine and health, and tell their named "
    "volunteer and the social-work office about anything worrying. Bring: mask, gloves, the visit list, "
    "charged phone."
)
_HOTLINE_INSTRUCTIONS = (
    "Answer the residents' support line from home: questions about supplies and rules, loneliness, "
    "worry. A psychological-support volunteer leads each shift; escalation numbers are pinned in the "
    "team chat. Bring: a quiet room, headset, charged phone."
)


def _gate(group: _Group, direction: str, landmark: str, main: bool, level: int = 0) -> Json:
    """A gate staffed 24/7; ``level`` > 0 shrinks it for tiny teams (1 person, then no night)."""
    people = 2 if level == 0 else 1
    medical = {"medical": 1} if main else None
    shifts = [_t("early", "06:00", "14:00", people, medical), _t("late", "14:00", "22:00", people, medical)]
    if level <= 1:
        shifts.append(_t("night", "22:00", "06:00", people, intensity="heavy"))
    title = direction.replace("-", " ").capitalize()
    return {
        "id": f"{group.prefix}gate-{direction}",
        "name": f"{title} gate (main entrance)" if main else f"{title} gate",
        "kind": "gate",
        "location": f"{group.name}, {direction.replace('-', ' ')} entrance {landmark}",
        "instructions": _MAIN_GATE_INSTRUCTIONS if main else _GATE_INSTRUCTIONS,
        "shifts": shifts,
    }


def _patrol(group: _Group, n: int) -> Json:
    letter = chr(ord("a") + n)
    return {
        "id": f"{group.prefix}patrol-{letter}",
        "name": f"Patrol route {letter.upper()}",
        "kind": "patrol",
        "location": f"{group.name}: {_ROUTE_AREAS[n % len(_ROUTE_AREAS)]}",
        "instructions": _PATROL_INSTRUCTIONS,
        "shifts": [_t("morning", "08:00", "12:00", 2), _t("evening", "18:00", "22:00", 2)],
    }


def _groceries(group: _Group, n: int) -> Json:
    suffix = "" if n == 0 else f"-{n + 1}"
    return {
        "id": f"{group.prefix}delivery-groceries{suffix}",
        "name": "Grocery deliveries" + (f" (team {n + 1})" if n else ""),
        "kind": "delivery",
        "location": f"{group.name}, community service centre (collection point)",
        "instructions": _GROCERY_INSTRUCTIONS,
        "shifts": [_t("morning", "09:00", "12:00", 3, {"driver": 1}),
                   _t("afternoon", "15:00", "18:00", 2, {"driver": 1})],
    }


def _medicine(group: _Group, n: int) -> Json:
    suffix = "" if n == 0 else f"-{n + 1}"
    return {
        "id": f"{group.prefix}delivery-medicine{suffix}",
        "name": "Medicine deliveries" + (f" (team {n + 1})" if n else ""),
        "kind": "delivery",
        "location": f"{group.name}, pharmacy counter at the community health station",
        "instructions": _MEDICINE_INSTRUCTIONS,
        "shifts": [_t("morning", "09:00", "12:00", 2, {"driver": 1}),
                   _t("afternoon", "15:00", "18:00", 2, {"driver": 1}, weekdays=list(WEEKDAYS[:6]))],
    }


def _care(group: _Group, n: int) -> Json:
    letter = chr(ord("a") + n)
    return {
        "id": f"{group.prefix}care-visits-{letter}",
        "name": f"Check-in visits, list {letter.upper()}",
        "kind": "care_visit",
        "intensity": "light",
        "location": f"{group.name}: residents on list {letter.upper()} (kept by the social-work office)",
        "instructions": _CARE_INSTRUCTIONS,
        "shifts": [_t("morning", "10:00", "12:00", 2, {"social_work": 1}),
                   _t("afternoon", "14:00", "16:00", 2, {"social_work": 1})],
    }


def _hotline(people: int) -> Json:
    return {
        "id": "hotline",
        "name": "Residents' support hotline",
        "kind": "hotline",
        "intensity": "light",
        "location": "Remote (from home)",
        "instructions": _HOTLINE_INSTRUCTIONS,
        "shifts": [_t("evening", "19:00", "23:00", people, {"psych_support": 1})],
    }


# the shelter's posts

def _reception(group: _Group, n: int, level: int = 0) -> Json:
    people = 2 if level == 0 else 1
    shifts = [_t("early", "06:00", "14:00", people), _t("late", "14:00", "22:00", people)]
    if level <= 1:
        shifts.append(_t("night", "22:00", "06:00", people, intensity="heavy"))
    suffix = "" if n == 0 else f"-{n + 1}"
    return {
        "id": f"{group.prefix}reception{suffix}",
        "name": "Reception and registration" + (f" (desk {n + 1})" if n else ""),
        "kind": "reception",
        "location": f"{group.name}, main entrance",
        "instructions": "Register arrivals and departures, hand out bedding and hygiene kits, keep the "
        "bed list up to date, answer questions. Bring: ID badge, mask, charged phone; warm layers for the "
        "night shift (the doors stay open).",
        "shifts": shifts,
    }


def _night_watch(group: _Group, n: int) -> Json:
    suffix = "" if n == 0 else f"-{n + 1}"
    return {
        "id": f"{group.prefix}night-watch{suffix}",
        "name": "Night watch" + (f" (round {n + 1})" if n else ""),
        "kind": "night_watch",
        "location": f"{group.name}, dormitory areas",
        "instructions": "Walk the dormitory areas every hour, keep the quiet hours, call the medical "
        "on-call number for anyone unwell. Bring: torch, charged phone, warm clothes.",
        "shifts": [_t("night", "22:00", "06:00", 1, intensity="heavy")],
    }


def _meals(group: _Group, n: int) -> Json:
    suffix = "" if n == 0 else f"-{n + 1}"
    return {
        "id": f"{group.prefix}meals{suffix}",
        "name": "Meal service" + (f" (line {n + 1})" if n else ""),
        "kind": "meals",
        "location": f"{group.name}, canteen",
        "instructions": "Serve meals, keep the queue moving, note special diets, clean up. "
        "Bring: hair tie or cap, closed shoes; aprons and gloves are in the kitchen.",
        "shifts": [_t("breakfast", "06:30", "10:30", 2), _t("lunch", "11:00", "15:00", 2),
                   _t("dinner", "16:30", "20:30", 3)],
    }


def _medical_desk(group: _Group, n: int) -> Json:
    suffix = "" if n == 0 else f"-{n + 1}"
    return {
        "id": f"{group.prefix}medical-desk{suffix}",
        "name": "Medical desk" + (f" {n + 1}" if n else ""),
        "kind": "medical",
        "location": f"{group.name}, first-aid room",
        "instructions": "First aid, medication reminders, refer to the clinic. Bring: your professional "
        "ID; the first-aid kit and logbook are in the room.",
        "shifts": [_t("day", "08:00", "16:00", 1, {"medical": 1})],
    }


def _child_care(group: _Group, n: int) -> Json:
    suffix = "" if n == 0 else f"-{n + 1}"
    return {
        "id": f"{group.prefix}child-care{suffix}",
        "name": "Child care corner" + (f" {n + 1}" if n else ""),
        "kind": "child_care",
        "intensity": "light",
        "location": f"{group.name}, play corner by the stage",
        "instructions": "Play and homework help for children while their parents queue or rest; never "
        "leave a child alone with one adult out of sight. Bring: ID badge, ideas for games.",
        "shifts": [_t("morning", "09:00", "13:00", 2, {"childcare": 1}),
                   _t("afternoon", "14:00", "18:00", 2, {"childcare": 1})],
    }


def _supply_run(group: _Group, n: int) -> Json:
    suffix = "" if n == 0 else f"-{n + 1}"
    return {
        "id": f"{group.prefix}supply-run{suffix}",
        "name": "Supply run" + (f" {n + 1}" if n else ""),
        "kind": "delivery",
        "location": f"{group.name} to the food bank warehouse and back",
        "instructions": "Fetch food, water and donated clothes from the warehouse. Bring: driving licence "
        "(for the driver), work gloves; the van keys are at reception.",
        "shifts": [_t("morning", "09:00", "13:00", 2, {"driver": 1})],
    }


PostMaker = Callable[[_Group, int], Json]


@dataclass(frozen=True)
class _Plan:
    group_size: int  # volunteers per compound/shelter
    group_names: list[str]
    volunteers_per_base: int  # volunteers per gate/reception desk
    sequence: list[PostMaker]  # the other posts of a group, in the order they are added
    skills: dict[str, float]
    hotline: bool

    def site_name(self, groups: list[_Group], kind: SiteKind) -> str:
        if kind == "shelter":
            if len(groups) == 1:
                return f"{groups[0].name} emergency shelter"
            return f"Emergency shelters ({len(groups)} halls)"
        if len(groups) == 1:
            return f"{groups[0].name} residential compound"
        return f"Eastbank sub-district ({len(groups)} closed compounds)"


_PLANS: dict[str, _Plan] = {
    "compound": _Plan(
        group_size=130,
        group_names=_COMPOUNDS,
        volunteers_per_base=18,
        sequence=[_patrol, _groceries, _care, _medicine, _patrol, _patrol, _care, _groceries, _patrol,
                  _medicine, _care],
        skills={"medical": 0.15, "social_work": 0.15, "psych_support": 0.08, "driver": 0.25},
        hotline=True,
    ),
    "shelter": _Plan(
        group_size=80,
        group_names=_SHELTERS,
        volunteers_per_base=30,
        sequence=[_meals, _night_watch, _medical_desk, _child_care, _supply_run, _child_care, _meals,
                  _medical_desk, _supply_run],
        skills={"medical": 0.15, "social_work": 0.12, "psych_support": 0.08, "driver": 0.25,
                "childcare": 0.15},
        hotline=False,
    ),
}


def _groups(plan: _Plan, volunteers: int) -> list[_Group]:
    count = max(1, math.ceil(volunteers / plan.group_size))
    groups = []
    for i in range(count):
        names = plan.group_names
        name = names[i] if i < len(names) else f"{names[i % len(names)]} {i // len(names) + 1}"
        prefix = "" if count == 1 else _kebab(name) + "-"
        share = volunteers // count + (1 if i < volunteers % count else 0)
        groups.append(_Group(name, prefix, share))
    return groups


def _kebab(text: str) -> str:
    words = _ascii(text).lower().split()
    return "-".join("".join(c for c in w if c.isalnum()) for w in words)


def _build_posts(plan: _Plan, kind: SiteKind, groups: list[_Group], start: dt.date, days: int,
                 cap_hours: float, cap_shifts: float, volunteers: int) -> list[Json]:
    """The 24/7 posts first (one per ``volunteers_per_base``), then the others in the plan's order for
    every group in turn, as long as demand stays within the targets."""
    limit_h, limit_s = HOURS_TARGET * cap_hours, SHIFTS_TARGET * cap_shifts
    posts: list[Json] = []
    used_h, used_s = 0.0, 0

    def fits(post: Json) -> bool:
        h, s = _demand([post], start, days)
        return used_h + h <= limit_h and used_s + s <= limit_s

    def add(post: Json) -> None:
        nonlocal used_h, used_s
        h, s = _demand([post], start, days)
        posts.append(post)
        used_h += h
        used_s += s

    def base(g: _Group, j: int, level: int) -> Json:
        if kind == "shelter":
            return _reception(g, j, level)
        direction = _DIRECTIONS[j % len(_DIRECTIONS)] + ("" if j < len(_DIRECTIONS) else f"-{j // 8 + 1}")
        return _gate(g, direction, _LANDMARKS[j % len(_LANDMARKS)], main=j == 0, level=level)

    for g in groups:
        for j in range(max(1, round(g.volunteers / plan.volunteers_per_base))):
            if j == 0:  # every group has one, shrunk for tiny teams: 1 person a shift, then no night
                post = next((p for level in range(3) if fits(p := base(g, 0, level))), base(g, 0, 2))
            elif not fits(post := base(g, j, 0)):
                break
            add(post)

    made: list[dict[PostMaker, int]] = [{} for _ in groups]
    blocked: list[set[PostMaker]] = [set() for _ in groups]
    hotline_at = 2  # after every group has its first patrol and grocery team
    for step in itertools.count():
        if plan.hotline and step == hotline_at:
            for people in (2 + volunteers // 150, 2, 1):
                if fits(post := _hotline(min(people, 6))):
                    add(post)
                    break
        for gi, g in enumerate(groups):
            maker = plan.sequence[step % len(plan.sequence)]
            if maker in blocked[gi]:
                continue
            n = made[gi].get(maker, 0)
            post = maker(g, n)
            if fits(post):
                add(post)
                made[gi][maker] = n + 1
            else:  # demand only grows, so it will not fit later either
                blocked[gi].add(maker)
        if step >= hotline_at and all(b >= set(plan.sequence) for b in blocked):
            break
    return posts


# --------------------------------------------------------------------------------------------------
# Volunteers

# (weight, availability windows, weekly cap choices)
_PROFILES: list[tuple[float, list[Json] | None, list[float | None]]] = [
    (0.56, None, [None]),  # free to volunteer full time
    (0.12, None, [20, 24, 30]),  # a job or a family at home
    (0.10, [{"weekdays": WORKDAYS, "start": "17:00", "end": "23:00"}, {"weekdays": WEEKEND}], [24]),
    (0.05, [{"weekdays": WEEKEND}], [16]),  # weekends only
    (0.08, [{"start": "06:00", "end": "14:00"}], [30, None]),  # mornings only
    (0.05, [{"weekdays": WORKDAYS, "start": "08:00", "end": "18:00"}], [30]),  # weekday daytime
    (0.04, [{"start": "14:00", "end": "08:00"}], [None]),  # afternoons, evenings and nights
]

# as many as the free-text reasons they replaced, so the same seed draws the same scenario otherwise
_UNAVAILABLE_REASONS = ["family", "study", "work", "personal", "caring_for_someone", "appointment", "family"]
_LIMITED_REASONS = ["injury", "unwell", "other"]
_RULE_OVERRIDES: list[Json] = [{"max_consecutive_days": 4}, {"max_consecutive_nights": 2},
                               {"min_rest_hours": 12}, {"max_consecutive_nights": 0},
                               {"max_consecutive_days": 5, "min_rest_hours": 12}]


def _pick(rng: random.Random, items: list[int], k: int) -> list[int]:
    return rng.sample(items, min(k, len(items)))


def _iso(day: dt.date, time: str) -> str:
    return f"{day.isoformat()}T{time}:00"


def _base_volunteers(rng: random.Random, n: int, timezone: str, plan: _Plan) -> list[Json]:
    names: set[str] = set()
    emails: set[str] = set()
    weights = [p[0] for p in _PROFILES]
    people = []
    for i in range(n):
        full, given, family = _name(rng, names)
        local = f"{_slug(given)}.{_slug(family)}"
        email, k = f"{local}@{rng.choice(_MAIL_DOMAINS)}", 2
        while email in emails:
            email, k = f"{local}{k}@{email.split('@')[1]}", k + 1
        emails.add(email)
        _, windows, caps = rng.choices(_PROFILES, weights)[0]
        v: Json = {"id": f"v{i + 1:03d}", "name": full,
                   "contact": {"phone": _phone(rng, timezone), "email": email}}
        skills = [s for s, p in plan.skills.items() if rng.random() < p]
        if skills:
            v["skills"] = skills
        cap = rng.choice(caps)
        if cap is not None:
            v["max_hours_per_week"] = cap
        if windows is not None:
            v["availability"] = [dict(w) for w in windows]
        people.append(v)
    return people


def _add_health(rng: random.Random, people: list[Json], start: dt.date, days: int) -> None:
    """~5% sick or isolating for part of the horizon, ~5% limited, ~2% recovering."""
    n = len(people)
    order = list(range(n))
    rng.shuffle(order)
    k_out = max(1, round(0.05 * n))
    k_limited = max(1, round(0.05 * n)) if n >= 8 else 0
    k_recovering = max(1, round(0.02 * n)) if n >= 20 else 0
    out, rest = order[:k_out], order[k_out:]
    limited, rest = rest[:k_limited], rest[k_limited:]
    recovering = rest[:k_recovering]
    last = start + dt.timedelta(days=days - 1)
    for j, i in enumerate(out):
        if j % 2 == 0:  # sick now: fell ill shortly before the horizon
            since = start - dt.timedelta(days=rng.randint(1, 3))
            until = min(last, start + dt.timedelta(days=rng.randint(2, 5)))
            record = {"status": "sick", "from": since.isoformat(), "until": until.isoformat()}
            if rng.random() < 0.5:
                record["infectious"] = True
        else:  # isolating later in the horizon (a household contact)
            earliest = min(3, days - 1)
            since = start + dt.timedelta(days=rng.randint(earliest, max(earliest, days - 3)))
            until = since + dt.timedelta(days=rng.randint(5, 9))
            record = {"status": "isolating", "from": since.isoformat(), "until": until.isoformat(),
                      "infectious": True, "reason": "contact_of_a_case"}
        people[i]["health"] = [record]
    for i in limited:
        record = {"status": "limited", "from": (start - dt.timedelta(days=rng.randint(5, 40))).isoformat(),
                  "reason": rng.choice(_LIMITED_REASONS)}
        if rng.random() < 0.4:
            record["until"] = (start + dt.timedelta(days=rng.randint(3, max(3, days + 5)))).isoformat()
        people[i]["health"] = [record]
    for i in recovering:
        people[i]["health"] = [{
            "status": "recovering",
            "from": (start - dt.timedelta(days=rng.randint(1, 4))).isoformat(),
            "until": (start + dt.timedelta(days=rng.randint(3, 8))).isoformat(),
            "reason": "unwell",
        }]


def _top_up_skills(rng: random.Random, people: list[Json], posts: list[Json], start: dt.date,
                   days: int) -> None:
    """Make sure enough fully available, healthy volunteers hold each skill the posts ask for."""
    needed: dict[str, float] = {}
    for post in posts:
        for t in post["shifts"]:
            for skill, count in t.get("skills", {}).items():
                needed[skill] = needed.get(skill, 0) + count * _occurrences(t, start, days) * 7 / days
    free = [v for v in people if "availability" not in v and "health" not in v]
    for skill in sorted(needed):
        want = math.ceil(needed[skill] / 3.5) + 1  # about 3.5 such shifts a week each, and one spare
        holders = [v for v in free if skill in v.get("skills", [])]
        others = [v for v in free if skill not in v.get("skills", [])]
        order = {v["id"]: rng.random() for v in others}
        others.sort(key=lambda v: (len(v.get("skills", [])), order[v["id"]]))  # people with no skill first
        for v in others[: max(0, want - len(holders))]:
            v.setdefault("skills", []).append(skill)


def _can_work_nights(v: Json) -> bool:
    if any(h["status"] in ("limited", "recovering") for h in v.get("health", [])):
        return False
    if v.get("rules", {}).get("max_consecutive_nights") == 0:
        return False
    windows = v.get("availability")
    return windows is None or any(w.get("end") == "08:00" for w in windows)


def _add_details(rng: random.Random, people: list[Json], posts: list[Json], start: dt.date,
                 days: int) -> None:
    """Dated unavailability, preferences, rule overrides and history."""
    n = len(people)
    everyone = list(range(n))
    last = start + dt.timedelta(days=days - 1)
    # posts staffed around the clock in early/late/night shifts (gates, shelter reception)
    gates = [p for p in posts if {"early", "late", "night"} <= {t["id"] for t in p["shifts"]}]

    for i in _pick(rng, everyone, max(1, round(0.06 * n)) if n >= 10 else 1):
        first = start + dt.timedelta(days=rng.randint(0, max(0, days - 2)))
        period: Json = {"from": first.isoformat(),
                        "until": min(last, first + dt.timedelta(days=rng.randint(0, 2))).isoformat(),
                        "reason": rng.choice(_UNAVAILABLE_REASONS)}
        if rng.random() < 0.25:  # an evening, given as date-times (until is exclusive)
            period = {"from": _iso(first, "17:00"), "until": _iso(first + dt.timedelta(days=1), "08:00"),
                      "reason": rng.choice(["family", "family", "study"])}
        people[i]["unavailable"] = [period]

    for i in _pick(rng, everyone, max(1, round(0.04 * n)) if n >= 20 else 0):
        people[i]["rules"] = dict(rng.choice(_RULE_OVERRIDES))

    for v in people:
        prefs: Json = {}
        if _can_work_nights(v) and "availability" not in v and gates and rng.random() < 0.2:
            prefs["unwanted_shifts"] = ["night"]
        elif gates and rng.random() < 0.08:
            prefs["preferred_shifts"] = [rng.choice(["early", "late"])]
        skills = set(v.get("skills", []))
        if rng.random() < 0.15:
            fitting = [p["id"] for p in posts if any(set(t.get("skills", {})) & skills for t in p["shifts"])]
            fitting = fitting or [p["id"] for p in posts]
            prefs["preferred_posts"] = [rng.choice(fitting)]
        if rng.random() < 0.03 and len(posts) > 1:
            unwanted = rng.choice([p["id"] for p in posts if p["id"] not in prefs.get("preferred_posts", [])])
            prefs["unwanted_posts"] = [unwanted]
        if rng.random() < 0.05 and "availability" not in v:
            prefs["unwanted_weekdays"] = [rng.choice(["fri", "sat", "sun"])]
        if prefs:
            v["preferences"] = prefs
        _add_history(rng, v, gates, start)


def _add_history(rng: random.Random, v: Json, gates: list[Json], start: dt.date) -> None:
    """A summary (days worked in a row up to the day before the horizon, hours, nights) for most, the
    exact recent shifts for a few, nothing for new volunteers."""
    roll = rng.random()
    if roll < 0.08:
        return
    cap = min(SITE_MAX_HOURS, v.get("max_hours_per_week") or SITE_MAX_HOURS)
    max_days = v.get("rules", {}).get("max_consecutive_days", 6) - 1
    status = {h["status"] for h in v.get("health", [])}
    sick_before = any(h["status"] == "sick" and h["from"] < start.isoformat() for h in v.get("health", []))
    restricted = "availability" in v
    day = dt.timedelta(days=1)

    if roll < 0.13 and gates and not restricted and not status and max_days >= 3 and cap >= SITE_MAX_HOURS:
        gate = rng.choice(gates)
        pattern = rng.choice([["early", "early", "late"], ["late", "late", "night"], ["night", "night"],
                              ["early", "late", "late"], ["late", "late", "late", "late"]])
        times = {"early": ("06:00", "14:00"), "late": ("14:00", "22:00"), "night": ("22:00", "06:00")}
        if v.get("rules", {}).get("max_consecutive_nights") is not None:
            pattern = [s if s != "night" else "late" for s in pattern]
        shifts = []
        for k, sid in enumerate(pattern):
            d = start - day * (len(pattern) - k)
            a, b = times[sid]
            shifts.append({"start": _iso(d, a), "end": _iso(d + day if b <= a else d, b),
                           "post": gate["id"], "shift": sid})
        v["history"] = {"recent_shifts": shifts}
        return

    # the last shift before the horizon (day -1), as (hours, end), among those the volunteer can work
    last_options = [(8.0, "14:00"), (8.0, "22:00"), (4.0, "12:00"), (4.0, "22:00"), (3.0, "12:00"),
                    (3.0, "18:00"), (4.0, "23:00")]
    last_options = [o for o in last_options if _available(v, start - day, o[0], o[1])]
    streak = rng.choices(range(6), [35, 25, 20, 12, 6, 2])[0]
    streak = min(streak, max_days, 2 if restricted else 5)
    if sick_before or not last_options:
        streak = 0
    elif status & {"limited", "recovering"}:
        streak = min(streak, 1)
    nights = 0
    if streak and gates and _can_work_nights(v) and not status and not restricted and rng.random() < 0.2:
        nights = rng.randint(1, min(2, streak, v.get("rules", {}).get("max_consecutive_nights", 3)))
    last = (8.0, "06:00") if nights else rng.choice(last_options or [(8.0, "14:00")])
    # shift lengths of the streak, oldest first; the nights and then the last shift come last
    lengths = [rng.choice([8.0, 8.0, 4.0, 3.0]) for _ in range(max(0, streak - max(nights, 1)))]
    lengths += [8.0] * nights if nights else [last[0]] * min(streak, 1)
    # the summary's hours count as worked on the day before the horizon, so keep at least half a week free
    while lengths and sum(lengths) > cap / 2:
        lengths.pop(0)
    streak = len(lengths)
    nights = min(nights, streak)
    hours = sum(lengths)
    # perhaps a shift earlier in the week, before a day off
    earlier_day = start - day * rng.randint(streak + 2, streak + 4)
    earlier_options = [o for o in ((8.0, "14:00"), (8.0, "22:00"), (4.0, "12:00"), (4.0, "22:00"))
                       if _available(v, earlier_day, o[0], o[1]) and hours + o[0] <= cap / 2]
    earlier = None
    if streak < 4 and not sick_before and earlier_options and rng.random() < 0.35:
        earlier = rng.choice(earlier_options)
    history: Json = {}
    if streak:
        history["consecutive_days_worked"] = streak
        if nights:  # the last night started on the day before the horizon and ends on its first morning
            history["consecutive_nights"] = nights
            history["last_shift_end"] = _iso(start, "06:00")
        else:
            history["last_shift_end"] = _iso(start - day, last[1])
    elif earlier:
        history["last_shift_end"] = _iso(earlier_day, earlier[1])
    else:
        return
    history["hours_last_7_days"] = hours + (earlier[0] if earlier else 0)
    v["history"] = history


def _available(v: Json, day: dt.date, hours: float, end: str) -> bool:
    """Whether a shift of ``hours`` ending at ``end`` on ``day`` lies in one of the volunteer's windows."""
    windows = v.get("availability")
    if windows is None:
        return True
    finish = dt.datetime.combine(day, dt.time.fromisoformat(end))
    begin = finish - dt.timedelta(hours=hours)
    for w in windows:
        for offset in (-1, 0):
            d = day + dt.timedelta(days=offset)
            if WEEKDAYS[d.weekday()] not in (w.get("weekdays") or WEEKDAYS):
                continue
            a = dt.datetime.combine(d, dt.time.fromisoformat(w.get("start", "00:00")))
            b = dt.datetime.combine(d, dt.time.fromisoformat(w.get("end", "00:00")))
            if b <= a:
                b += dt.timedelta(days=1)
            if a <= begin and finish <= b:
                return True
    return False


# --------------------------------------------------------------------------------------------------
# The scenario


def generate(volunteers: int, days: int, seed: int, *, start: dt.date | None = None,
             timezone: str = "Asia/Shanghai", site_name: str | None = None,
             site: SiteKind = "compound", residents: int = 0) -> Scenario:
    """A realistic scenario with ``volunteers`` people over ``days`` days, the same for the same seed.

    ``site="compound"``: closed residential compounds (one per ~130 volunteers) with a gate per ~19
    volunteers, patrols, deliveries, check-in visits and a hotline. ``site="shelter"``: emergency
    shelters (one per ~80 volunteers) with reception, night watch, meals, medical desk, child care and
    supply runs.

    ``residents``: that many vulnerable residents (issue 12), with needs, visits and kin, not yet matched;
    the volunteers then get buildings, zones, languages and risk groups (drawn from a generator of their
    own, so the rest of the scenario is the same as without residents).
    """
    if volunteers < 1:
        raise ValueError("volunteers must be at least 1")
    if not 1 <= days <= 366:
        raise ValueError("days must be between 1 and 366")
    plan = _PLANS[site]
    rng = random.Random(seed)
    start = start or DEFAULT_START

    people = _base_volunteers(rng, volunteers, timezone, plan)
    _add_health(rng, people, start, days)
    cap_hours, cap_shifts = _capacity(people, days)
    own = random.Random(seed * 7919 + residents)
    register = _residents(own, residents, timezone) if residents > 0 else []
    for r in register:  # the visits take their share of what the volunteers can give, before the posts
        for v in r["visits"]:
            n = _occurrences({"weekdays": v["weekdays"]}, start, days)
            cap_shifts -= n / SHIFTS_TARGET
            cap_hours -= n * v["minutes"] / 60 / HOURS_TARGET
    groups = _groups(plan, volunteers)
    posts = _build_posts(plan, site, groups, start, days, cap_hours, cap_shifts, volunteers)
    _top_up_skills(rng, people, posts, start, days)
    _add_details(rng, people, posts, start, days)

    templates = {t["id"] for p in posts for t in p["shifts"]}
    rules: Json = {}
    if {"night", "early"} <= templates:
        rules["forbidden_successions"] = [["night", "early"]]
    data: Json = {
        "version": 1,
        "site": {"name": site_name or plan.site_name(groups, site), "timezone": timezone},
        "horizon": {"start": start.isoformat(), "days": days},
        "rules": rules,
        "posts": posts,
        "volunteers": people,
    }
    if register:
        _guardian_fields(own, people)
        data["residents"] = register
        # one resident each as primary where there are enough volunteers: with one shift a day, a primary
        # of several residents visited on the same day leaves all but one of those visits to the backups
        primary = 1 if volunteers >= residents else math.ceil(residents / volunteers)
        rules["guardians"] = {"max_primary": primary, "max_backup": max(2, primary)}
    return Scenario.model_validate(data)


# --------------------------------------------------------------------------------------------------
# Vulnerable residents (issue 12)

ZONES = ("north", "south", "east", "west")
BUILDINGS_PER_ZONE = 6
#: (language or dialect, share of residents who need it, share of volunteers who speak it)
LANGUAGES = (("shanghainese", 0.25, 0.30), ("cantonese", 0.04, 0.05), ("sign", 0.02, 0.03))
VISIT_TIMES = ("08:30", "09:00", "10:00", "11:00", "14:00", "15:30", "16:30", "18:00", "19:00")


_BUILDINGS = [(f"{zone[0].upper()}{b + 1}", zone) for zone in ZONES for b in range(BUILDINGS_PER_ZONE)]


def _guardian_fields(rng: random.Random, people: list[Json]) -> None:
    """Each volunteer's building, zone, languages and risk group."""
    for v in people:
        building, zone = rng.choice(_BUILDINGS)
        v["building"], v["zone"] = building, zone
        v["languages"] = ["mandarin"] + [lang for lang, _, speaks in LANGUAGES if rng.random() < speaks]
        if rng.random() < 0.15:
            v["risk_group"] = True


def _residents(rng: random.Random, n: int, timezone: str) -> list[Json]:
    """``n`` residents spread over the site's buildings: an old person living alone (check-in and
    medicine), a disabled person without a carer (mobility help, close contact), someone needing medical
    care, a child without guardians; most with a contact of kin."""
    buildings = _BUILDINGS
    out = []
    taken: set[str] = set()
    for i in range(n):
        building, zone = rng.choice(buildings)
        name, _, _ = _name(rng, taken)
        kind = rng.choices(("alone", "disabled", "medical", "child"), weights=(5, 2, 2, 1))[0]
        needs: Json = {}
        language = next((lang for lang, need, _ in LANGUAGES if rng.random() < need), None)
        if language:
            needs["language"] = language
        if kind == "alone":
            needs.update(daily_check_in=True, medicine_days=[rng.choice(WEEKDAYS)])
            weekdays = [d for d in WEEKDAYS if rng.random() < 0.5] or ["mon", "thu"]
        elif kind == "disabled":
            needs.update(mobility_help=True, grocery_days=["tue", "fri"])
            weekdays = ["tue", "fri"]
        elif kind == "medical":
            needs.update(medical_care=True)
            weekdays = ["mon", "wed", "fri"]
        else:
            needs.update(daily_check_in=True, notes="a child alone at home: meals and homework")
            weekdays = list(WEEKDAYS)
        resident: Json = {
            "id": f"r{i + 1:03d}", "name": name, "building": building, "zone": zone,
            "address": f"{rng.randint(1, 18)}F, flat {rng.randint(1, 6)}0{rng.randint(1, 4)}",
            "needs": needs,
            "visits": [{"id": "visit", "weekdays": weekdays, "start": rng.choice(VISIT_TIMES),
                        "minutes": rng.choice((20, 30, 30, 45))}],
        }
        if rng.random() < 0.7:
            kin_name, _, _ = _name(rng, taken)
            relation = rng.choice(("son", "daughter", "niece", "neighbour"))
            resident["kin"] = {"name": kin_name, "relation": relation, "phone": _phone(rng, timezone)}
        out.append(resident)
    return out


# --------------------------------------------------------------------------------------------------
# Writing


def scenario_json(scenario: Scenario) -> Json:
    """The scenario as it is written to a file: by alias, defaults left out, times without seconds
    ("06:00"), whole numbers without ".0"."""
    return _tidy(scenario.model_dump(mode="json", by_alias=True, exclude_defaults=True))


_TIME = re.compile(r"^\d{2}:\d{2}:00$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00$")


def _tidy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and (_TIME.match(value) or _DATETIME.match(value)):
        return value[:-3]
    return value


def write_scenario(scenario: Scenario, path: str | Path) -> None:
    """Write pretty JSON: nested objects and lists stay on one line while they fit in 110 columns."""
    text = dumps(scenario_json(scenario))
    Path(path).write_text(text + "\n", encoding="utf-8")


def dumps(value: Any, width: int = 110) -> str:
    return "".join(_format(value, 0, 0, width))


def _format(value: Any, indent: int, used: int, width: int) -> Iterator[str]:
    """JSON with 2-space indentation; ``used`` is how many columns the key before the value takes."""
    flat = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, dict | list) or not value or indent + used + len(flat) + 1 <= width:
        yield flat
        return
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        yield "{\n"
        for k, (key, item) in enumerate(value.items()):
            prefix = json.dumps(key, ensure_ascii=False) + ": "
            yield pad + prefix
            yield from _format(item, indent + 2, len(prefix), width)
            yield ",\n" if k < len(value) - 1 else "\n"
        yield " " * indent + "}"
    else:
        yield "[\n"
        for k, item in enumerate(value):
            yield pad
            yield from _format(item, indent + 2, 0, width)
            yield ",\n" if k < len(value) - 1 else "\n"
        yield " " * indent + "]"
