"""The Shift Scheduling Benchmark of Curtois & Qu (2014): parser, importer and independent evaluator.

The 24 public instances (``Instance1.txt`` .. ``Instance24.txt``, see
``shared/benchmarks/curtois/README.md``) describe a horizon of H days starting on a Monday, shift
types with a length and the types that may not follow them on the next day, staff with hard limits,
hard days off, soft shift-on/shift-off requests and a soft cover requirement per (day, shift type).

* :func:`parse_instance` reads a file into an :class:`Instance` that mirrors the file faithfully.
* :func:`to_problem` maps an instance onto the engine's own :class:`solver.problem.Problem`.
* :func:`evaluate` scores a roster straight from the README's rules, on the :class:`Instance` and
  without any solver code, so it is an independent check of both the importer and the solver.

A *roster* is a list of ``(employee, day, shift)`` triples with 0-based days and the benchmark's own
ids; :func:`roster_from_assignments` and :func:`assignments_from_roster` convert between rosters and
the solver's ``(person id, shift id)`` pairs, :func:`write_roster_csv` / :func:`read_roster_csv` store
rosters as ``employee,day,shift`` CSV files.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from solver.problem import MINUTES_PER_DAY, Person, Problem, Rules, Shift, Weights

__all__ = [
    "BEST_KNOWN",
    "BEST_KNOWN_RANGE",
    "PROVEN_OPTIMAL",
    "PUBLISHED_10MIN",
    "Cover",
    "Evaluation",
    "Instance",
    "Request",
    "ShiftType",
    "Staff",
    "assignments_from_roster",
    "evaluate",
    "parse_instance",
    "read_roster_csv",
    "roster_from_assignments",
    "shift_id",
    "to_problem",
    "write_roster_csv",
]

# --------------------------------------------------------------------------------------------------
# Published values (README of shared/benchmarks/curtois)

#: Best known objective per instance number. Where the README gives a range the lower number is used:
#: 15 is "3828-3831 (sources differ)", 23 is "17285-17428 (open)" and 24 is "40439-42463 (open)".
#: For the two open instances the lower number is probably the proven lower bound rather than a
#: schedule anyone has found; see BEST_KNOWN_RANGE.
BEST_KNOWN: dict[int, int] = {
    1: 607,
    2: 828,
    3: 1001,
    4: 1716,
    5: 1143,
    6: 1950,
    7: 1056,
    8: 1300,
    9: 439,
    10: 4631,
    11: 3443,
    12: 4040,
    13: 1348,
    14: 1278,
    15: 3828,  # 3828-3831, sources differ
    16: 3225,
    17: 5746,
    18: 4459,
    19: 3149,
    20: 4769,
    21: 21133,
    22: 30241,  # LB 30240
    23: 17285,  # 17285-17428, open
    24: 40439,  # 40439-42463, open
}

#: The README's ranges, (low, high), for the instances where it does not give a single number.
BEST_KNOWN_RANGE: dict[int, tuple[int, int]] = {15: (3828, 3831), 23: (17285, 17428), 24: (40439, 42463)}

#: Instances whose best known value is marked "(opt)" (lower bound = best known) in the README.
PROVEN_OPTIMAL: frozenset[int] = frozenset(range(1, 22)) - {15}

#: Published 10-minute results of other methods (Curtois & Qu 2014; Rahimian et al. 2017).
PUBLISHED_10MIN: dict[int, dict[str, int]] = {
    8: {"gurobi": 8995, "ejection_chain": 2529, "ip_vns_hybrid": 1364},
    12: {"gurobi": 4045, "ejection_chain": 5611, "ip_vns_hybrid": 4042},
    13: {"gurobi": 500410, "ejection_chain": 8707, "ip_vns_hybrid": 3109},
    14: {"gurobi": 1482, "ejection_chain": 2542, "ip_vns_hybrid": 1281},
    15: {"gurobi": 78144, "ejection_chain": 6049, "ip_vns_hybrid": 4144},
    17: {"gurobi": 6149, "ejection_chain": 7835, "ip_vns_hybrid": 5760},
    18: {"gurobi": 7950, "ejection_chain": 6404, "ip_vns_hybrid": 5049},
    19: {"gurobi": 29968, "ejection_chain": 6522, "ip_vns_hybrid": 3974},
}

# Used for a (day, shift type) without a cover row: requirement 0 and the weights every file uses.
DEFAULT_WEIGHT_UNDER = 100
DEFAULT_WEIGHT_OVER = 1

# --------------------------------------------------------------------------------------------------
# The parsed file


@dataclass(frozen=True)
class ShiftType:
    id: str
    length: int  # minutes
    forbidden_next: tuple[str, ...] = ()  # types that may not be worked on day d+1 after this one


@dataclass(frozen=True)
class Staff:
    id: str
    max_shifts: Mapping[str, int]  # shift type -> max count over the horizon (0 = may not work it)
    max_total_minutes: int
    min_total_minutes: int
    max_consecutive_shifts: int
    min_consecutive_shifts: int
    min_consecutive_days_off: int
    max_weekends: int


@dataclass(frozen=True)
class Request:
    """A shift-on request (wants ``shift`` on ``day``) or a shift-off request (does not want it)."""

    employee: str
    day: int
    shift: str
    weight: int


@dataclass(frozen=True)
class Cover:
    day: int
    shift: str
    requirement: int
    weight_under: int
    weight_over: int


@dataclass(frozen=True)
class Instance:
    name: str
    horizon: int  # days; day 0 is a Monday
    shifts: tuple[ShiftType, ...]
    staff: tuple[Staff, ...]
    days_off: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # employee -> days, file order
    on_requests: tuple[Request, ...] = ()
    off_requests: tuple[Request, ...] = ()
    cover: tuple[Cover, ...] = ()

    @property
    def number(self) -> int | None:
        """The benchmark number taken from the name (``Instance7`` -> 7), if there is one."""
        m = re.fullmatch(r"Instance(\d+)", self.name)
        return int(m.group(1)) if m else None

    @cached_property
    def shift_by_id(self) -> dict[str, ShiftType]:
        return {s.id: s for s in self.shifts}

    @cached_property
    def staff_by_id(self) -> dict[str, Staff]:
        return {e.id: e for e in self.staff}

    @cached_property
    def cover_by_key(self) -> dict[tuple[int, str], Cover]:
        return {(c.day, c.shift): c for c in self.cover}

    def cover_at(self, day: int, shift: str) -> Cover:
        """The cover row of (day, shift type); requirement 0 where the file has none."""
        c = self.cover_by_key.get((day, shift))
        return c if c is not None else Cover(day, shift, 0, DEFAULT_WEIGHT_UNDER, DEFAULT_WEIGHT_OVER)


# --------------------------------------------------------------------------------------------------
# Parsing

_SECTIONS = (
    "SECTION_HORIZON",
    "SECTION_SHIFTS",
    "SECTION_STAFF",
    "SECTION_DAYS_OFF",
    "SECTION_SHIFT_ON_REQUESTS",
    "SECTION_SHIFT_OFF_REQUESTS",
    "SECTION_COVER",
)
_REQUIRED_SECTIONS = ("SECTION_HORIZON", "SECTION_SHIFTS", "SECTION_STAFF")

_Row = tuple[int, list[str]]  # (1-based line number, fields)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, line: int | None, message: str) -> ValueError:
        where = f"{self.source} line {line}" if line else self.source
        return ValueError(f"{where}: {message}")

    def int_field(self, line: int, value: str, what: str, minimum: int = 0) -> int:
        try:
            n = int(value)
        except ValueError:
            raise self.error(line, f"{what} must be an integer, got {value!r}") from None
        if n < minimum:
            raise self.error(line, f"{what} must be >= {minimum}, got {n}")
        return n

    def fields(self, row: _Row, count: int, layout: str) -> list[str]:
        line, fields = row
        if len(fields) != count:
            raise self.error(line, f"expected {count} fields ({layout}), got {len(fields)}")
        return fields

    def day(self, line: int, value: str, horizon: int) -> int:
        d = self.int_field(line, value, "day")
        if d >= horizon:
            raise self.error(line, f"day {d} is outside the horizon 0..{horizon - 1}")
        return d

    def known(self, line: int, value: str, known: Mapping[str, object], what: str) -> str:
        if value not in known:
            raise self.error(line, f"unknown {what} {value!r}")
        return value


def _split_sections(p: _Parser, text: str) -> dict[str, list[_Row]]:
    sections: dict[str, list[_Row]] = {}
    header_line: dict[str, int] = {}
    current: list[_Row] | None = None
    for number, raw in enumerate(re.split(r"\r\n|\r|\n", text), start=1):  # not splitlines(): \f etc.
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("SECTION_"):
            if line not in _SECTIONS:
                raise p.error(number, f"unknown section {line!r}")
            if line in sections:
                raise p.error(number, f"{line} repeated (first at line {header_line[line]})")
            header_line[line] = number
            current = sections[line] = []
            continue
        if current is None:
            raise p.error(number, "data before the first SECTION_ header")
        current.append((number, [f.strip() for f in line.split(",")]))
    for name in _REQUIRED_SECTIONS:
        if name not in sections:
            raise p.error(None, f"missing {name}")
    return sections


def parse_instance(source: str | Path, name: str | None = None) -> Instance:
    """Parse a benchmark file (a path) or its text.

    A ``str`` that contains a line break or starts with ``SECTION_``/``#`` is taken as the text, any
    other ``str`` or a ``Path`` as a file name. The instance is named ``name``, else the file stem,
    else ``"curtois"``. Malformed input raises ``ValueError`` naming the line.
    """
    if isinstance(source, Path) or not ("\n" in source or source.lstrip().startswith(("SECTION_", "#"))):
        path = Path(source)
        text = path.read_text(encoding="utf-8")
        label = path.name
        name = name or path.stem
    else:
        text = source
        label = name or "<text>"
        name = name or "curtois"
    return _parse_text(text, name, label)


def _parse_text(text: str, name: str, label: str) -> Instance:
    p = _Parser(label)
    sections = _split_sections(p, text)

    # horizon
    rows = sections["SECTION_HORIZON"]
    if len(rows) != 1 or len(rows[0][1]) != 1:
        line = rows[1][0] if len(rows) > 1 else (rows[0][0] if rows else None)
        raise p.error(line, "SECTION_HORIZON must hold exactly one number")
    horizon = p.int_field(rows[0][0], rows[0][1][0], "horizon", minimum=1)

    # shift types (ForbiddenNext is checked once all ids are known)
    shift_rows: dict[str, tuple[int, int, list[str]]] = {}
    for row in sections["SECTION_SHIFTS"]:
        sid, length, forbidden = p.fields(row, 3, "ShiftID, LengthInMinutes, ForbiddenNext")
        line = row[0]
        if not sid:
            raise p.error(line, "empty shift id")
        if sid in shift_rows:
            raise p.error(line, f"shift {sid!r} defined twice (first at line {shift_rows[sid][0]})")
        minutes = p.int_field(line, length, f"length of shift {sid}", minimum=1)
        shift_rows[sid] = (line, minutes, [f.strip() for f in forbidden.split("|")] if forbidden else [])
    if not shift_rows:
        raise p.error(None, "SECTION_SHIFTS is empty")
    shifts = []
    for sid, (line, minutes, forbidden) in shift_rows.items():
        for other in forbidden:
            p.known(line, other, shift_rows, f"shift in ForbiddenNext of {sid}:")
        if len(set(forbidden)) != len(forbidden):
            raise p.error(line, f"ForbiddenNext of {sid} lists a shift twice")
        shifts.append(ShiftType(sid, minutes, tuple(forbidden)))

    # staff
    staff: dict[str, Staff] = {}
    staff_line: dict[str, int] = {}
    layout = (
        "ID, MaxShifts, MaxTotalMinutes, MinTotalMinutes, MaxConsecutiveShifts, "
        "MinConsecutiveShifts, MinConsecutiveDaysOff, MaxWeekends"
    )
    for row in sections["SECTION_STAFF"]:
        eid, max_shifts_text, *numbers = p.fields(row, 8, layout)
        line = row[0]
        if not eid:
            raise p.error(line, "empty employee id")
        if eid in staff:
            raise p.error(line, f"employee {eid!r} defined twice (first at line {staff_line[eid]})")
        max_shifts: dict[str, int] = {}
        for pair in filter(None, (f.strip() for f in max_shifts_text.split("|"))):
            sid, eq, value = pair.partition("=")
            if not eq:
                raise p.error(line, f"MaxShifts entry {pair!r} is not ShiftID=max")
            sid = p.known(line, sid.strip(), shift_rows, "shift in MaxShifts:")
            if sid in max_shifts:
                raise p.error(line, f"MaxShifts lists shift {sid} twice")
            max_shifts[sid] = p.int_field(line, value.strip(), f"MaxShifts of {sid}")
        names = (
            "MaxTotalMinutes",
            "MinTotalMinutes",
            "MaxConsecutiveShifts",
            "MinConsecutiveShifts",
            "MinConsecutiveDaysOff",
            "MaxWeekends",
        )
        values = [p.int_field(line, v, n) for v, n in zip(numbers, names, strict=True)]
        staff_line[eid] = line
        staff[eid] = Staff(eid, max_shifts, *values)
    if not staff:
        raise p.error(None, "SECTION_STAFF is empty")

    # days off
    days_off: dict[str, list[int]] = {}
    for line, fields in sections.get("SECTION_DAYS_OFF", []):
        eid = p.known(line, fields[0], staff, "employee")
        days = days_off.setdefault(eid, [])
        for value in fields[1:]:
            if value:  # tolerate "A," (no days) and trailing commas
                days.append(p.day(line, value, horizon))

    # requests
    def requests(section: str) -> tuple[Request, ...]:
        out = []
        for row in sections.get(section, []):
            eid, day, sid, weight = p.fields(row, 4, "EmployeeID, Day, ShiftID, Weight")
            line = row[0]
            out.append(
                Request(
                    p.known(line, eid, staff, "employee"),
                    p.day(line, day, horizon),
                    p.known(line, sid, shift_rows, "shift"),
                    p.int_field(line, weight, "weight"),
                )
            )
        return tuple(out)

    on_requests = requests("SECTION_SHIFT_ON_REQUESTS")
    off_requests = requests("SECTION_SHIFT_OFF_REQUESTS")

    # cover
    cover: list[Cover] = []
    cover_line: dict[tuple[int, str], int] = {}
    for row in sections.get("SECTION_COVER", []):
        day, sid, requirement, under, over = p.fields(
            row, 5, "Day, ShiftID, Requirement, WeightUnder, WeightOver"
        )
        line = row[0]
        key = (p.day(line, day, horizon), p.known(line, sid, shift_rows, "shift"))
        if key in cover_line:
            raise p.error(
                line, f"cover for day {key[0]} shift {sid} given twice (first at line {cover_line[key]})"
            )
        cover_line[key] = line
        cover.append(
            Cover(
                key[0],
                sid,
                p.int_field(line, requirement, "requirement"),
                p.int_field(line, under, "WeightUnder"),
                p.int_field(line, over, "WeightOver"),
            )
        )

    return Instance(
        name=name,
        horizon=horizon,
        shifts=tuple(shifts),
        staff=tuple(staff.values()),
        days_off={e: tuple(d) for e, d in days_off.items()},
        on_requests=on_requests,
        off_requests=off_requests,
        cover=tuple(cover),
    )


# --------------------------------------------------------------------------------------------------
# Mapping onto the engine's model

DAY_OFF_REASON = "day off"
_SHIFT_ID = re.compile(r"d(\d+)-(.+)")


def shift_id(day: int, shift: str) -> str:
    """The engine's id of shift type ``shift`` on ``day``."""
    return f"d{day}-{shift}"


def to_problem(instance: Instance) -> Problem:
    """The instance as a :class:`Problem` whose objective equals the benchmark's objective."""
    shifts = []
    for day in range(instance.horizon):
        start = day * MINUTES_PER_DAY
        for st in instance.shifts:
            c = instance.cover_at(day, st.id)
            shifts.append(
                Shift(
                    id=shift_id(day, st.id),
                    post=st.id,
                    type=st.id,
                    day=day,
                    start=start,
                    end=start + st.length,
                    required=c.requirement,
                    max_staff=None,
                    under_weight=c.weight_under,
                    over_weight=c.weight_over,
                )
            )

    wants: dict[str, dict[str, int]] = defaultdict(dict)
    avoids: dict[str, dict[str, int]] = defaultdict(dict)
    for requests, target in ((instance.on_requests, wants), (instance.off_requests, avoids)):
        for r in requests:
            key = shift_id(r.day, r.shift)
            target[r.employee][key] = target[r.employee].get(key, 0) + r.weight

    people = []
    for e in instance.staff:
        unavailable = {
            shift_id(d, st.id): DAY_OFF_REASON
            for d in instance.days_off.get(e.id, ())
            for st in instance.shifts
        }
        rules = Rules(
            min_rest_minutes=0,
            max_shifts_per_day=1,
            max_consecutive_days=e.max_consecutive_shifts,
            min_consecutive_days=e.min_consecutive_shifts,
            min_consecutive_days_off=e.min_consecutive_days_off,
            min_total_minutes=e.min_total_minutes,
            max_total_minutes=e.max_total_minutes,
            max_weekends=e.max_weekends,
            max_shifts_by_type=dict(e.max_shifts),
        )
        people.append(
            Person(
                id=e.id,
                rules=rules,
                unavailable=unavailable,
                wants=dict(wants.get(e.id, {})),
                avoids=dict(avoids.get(e.id, {})),
                capacity_minutes=0,
            )
        )

    weights = Weights(
        uncovered=1,
        skill_shortfall=0,
        overstaffed=1,
        load_max=0,
        load_spread=0,
        nights_spread=0,
        weekends_spread=0,
        heavy_spread=0,
        preference=1,
        isolated_day_off=0,
        isolated_work_day=0,
        change=0,
    )
    return Problem(
        days=instance.horizon,
        shifts=tuple(shifts),
        people=tuple(people),
        first_weekday=0,
        forbidden_successions=frozenset((st.id, b) for st in instance.shifts for b in st.forbidden_next),
        weights=weights,
        name=instance.name,
    )


RosterRow = tuple[str, int, str]  # (employee, day, shift type)


def _check_row(instance: Instance, employee: str, day: int, shift: str) -> None:
    if employee not in instance.staff_by_id:
        raise ValueError(f"unknown employee {employee!r}")
    if not 0 <= day < instance.horizon:
        raise ValueError(f"day {day} is outside the horizon 0..{instance.horizon - 1}")
    if shift not in instance.shift_by_id:
        raise ValueError(f"unknown shift type {shift!r}")


def roster_from_assignments(instance: Instance, assignments: Iterable[tuple[str, str]]) -> list[RosterRow]:
    """``(person id, shift id)`` pairs of a :class:`Solution` as a roster sorted by employee and day."""
    order = {e.id: i for i, e in enumerate(instance.staff)}
    rows = []
    for person, sid in assignments:
        m = _SHIFT_ID.fullmatch(sid)
        if not m:
            raise ValueError(f"{sid!r} is not a benchmark shift id (d<day>-<shift>)")
        row = (person, int(m.group(1)), m.group(2))
        _check_row(instance, *row)
        rows.append(row)
    rows.sort(key=lambda r: (order[r[0]], r[1], r[2]))
    return rows


def assignments_from_roster(instance: Instance, roster: Iterable[RosterRow]) -> list[tuple[str, str]]:
    """A roster as the solver's ``(person id, shift id)`` pairs (e.g. for a hint or for validation)."""
    out = []
    for employee, day, shift in roster:
        _check_row(instance, employee, day, shift)
        out.append((employee, shift_id(day, shift)))
    return out


_CSV_HEADER = ["employee", "day", "shift"]


def write_roster_csv(path: str | Path, rows: Iterable[RosterRow]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_CSV_HEADER)
    w.writerows((e, d, s) for e, d, s in rows)
    Path(path).write_text(buf.getvalue(), encoding="utf-8")


def read_roster_csv(path: str | Path) -> list[RosterRow]:
    path = Path(path)
    rows: list[RosterRow] = []
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
    for line, fields in enumerate(reader, start=1):
        fields = [f.strip() for f in fields]
        if line == 1:
            if fields != _CSV_HEADER:
                raise ValueError(f"{path.name} line 1: expected header 'employee,day,shift', got {fields}")
            continue
        if not fields or fields == [""]:
            continue
        if len(fields) != 3:
            raise ValueError(f"{path.name} line {line}: expected 3 fields, got {len(fields)}")
        employee, day, shift = fields
        try:
            rows.append((employee, int(day), shift))
        except ValueError:
            raise ValueError(f"{path.name} line {line}: day must be an integer, got {day!r}") from None
    if not rows and path.stat().st_size == 0:
        raise ValueError(f"{path.name}: empty file, expected header 'employee,day,shift'")
    return rows


# --------------------------------------------------------------------------------------------------
# Independent evaluation, straight from the README


@dataclass(frozen=True)
class Evaluation:
    objective: int  # the benchmark objective (soft terms only)
    violations: list[str]  # one line per broken hard rule, "rule N (...): ..."
    breakdown: dict[str, int]  # on_requests, off_requests, under_cover, over_cover

    @property
    def feasible(self) -> bool:
        return not self.violations


def _blocks(worked: Sequence[bool], value: bool) -> list[tuple[int, int]]:
    """Maximal runs of ``value`` in ``worked`` as (first day, last day)."""
    out = []
    start = None
    for d, w in enumerate(worked):
        if w == value and start is None:
            start = d
        elif w != value and start is not None:
            out.append((start, d - 1))
            start = None
    if start is not None:
        out.append((start, len(worked) - 1))
    return out


def _days(first: int, last: int) -> str:
    return f"day {first}" if first == last else f"days {first}-{last}"


def evaluate(instance: Instance, roster: Iterable[RosterRow]) -> Evaluation:
    """Score ``roster`` against the README: the objective, its parts, and every broken hard rule.

    Rows naming an unknown employee or shift type, or a day outside the horizon, raise ``ValueError``.
    A row listed twice counts twice (two shifts that day, and twice towards cover).
    """
    H = instance.horizon
    by_employee: dict[str, list[list[str]]] = {e.id: [[] for _ in range(H)] for e in instance.staff}
    count: dict[tuple[int, str], int] = defaultdict(int)
    for employee, day, shift in roster:
        _check_row(instance, employee, day, shift)
        by_employee[employee][day].append(shift)
        count[day, shift] += 1

    violations: list[str] = []
    for e in instance.staff:
        line = by_employee[e.id]
        worked = [bool(s) for s in line]
        # 1. at most one shift per day
        for d, s in enumerate(line):
            if len(s) > 1:
                violations.append(
                    f"rule 1 (one shift per day): {e.id} works {len(s)} shifts on day {d} ({', '.join(s)})"
                )
        # 2. forbidden successions (days outside the horizon are off, so nothing to check there)
        for d in range(H - 1):
            for a in line[d]:
                forbidden = instance.shift_by_id[a].forbidden_next
                for b in line[d + 1]:
                    if b in forbidden:
                        violations.append(
                            f"rule 2 (forbidden succession): {e.id} works {a} on day {d} "
                            f"then {b} on day {d + 1}"
                        )
        # 3. max shifts per type
        per_type: dict[str, list[int]] = defaultdict(list)
        for d, s in enumerate(line):
            for sid in s:
                per_type[sid].append(d)
        for sid, days in per_type.items():
            limit = e.max_shifts.get(sid)
            if limit is not None and len(days) > limit:
                on = ", ".join(map(str, days[limit:]))
                violations.append(
                    f"rule 3 (max shifts of a type): {e.id} works {len(days)} x {sid}, max {limit} "
                    f"(over the limit on day {on})"
                )
        # 4. total minutes
        minutes = sum(instance.shift_by_id[sid].length for s in line for sid in s)
        for bad, limit, value in (
            (minutes > e.max_total_minutes, "max", e.max_total_minutes),
            (minutes < e.min_total_minutes, "min", e.min_total_minutes),
        ):
            if bad:
                violations.append(
                    f"rule 4 (total minutes): {e.id} works {minutes} min, {limit} {value} (whole horizon)"
                )
        # 5.-6. blocks of working days
        for first, last in _blocks(worked, True):
            n = last - first + 1
            if n > e.max_consecutive_shifts:
                violations.append(
                    f"rule 5 (max consecutive shifts): {e.id} works {n} days in a row, {_days(first, last)}, "
                    f"max {e.max_consecutive_shifts}"
                )
            if n < e.min_consecutive_shifts and first > 0 and last < H - 1:
                violations.append(
                    f"rule 6 (min consecutive shifts): {e.id} works {n} days in a row, {_days(first, last)}, "
                    f"min {e.min_consecutive_shifts}"
                )
        # 7. blocks of days off
        for first, last in _blocks(worked, False):
            n = last - first + 1
            if n < e.min_consecutive_days_off and first > 0 and last < H - 1:
                violations.append(
                    f"rule 7 (min consecutive days off): {e.id} is off {n} days in a row, "
                    f"{_days(first, last)}, min {e.min_consecutive_days_off}"
                )
        # 8. weekends (day 0 is a Monday: Saturday d % 7 == 5, Sunday d % 7 == 6)
        weekends = [w for w in range(H // 7 + 1) if any(worked[d] for d in (7 * w + 5, 7 * w + 6) if d < H)]
        if len(weekends) > e.max_weekends:
            first_over = 7 * weekends[e.max_weekends] + 5
            violations.append(
                f"rule 8 (max weekends): {e.id} works {len(weekends)} weekends, max {e.max_weekends} "
                f"(over the limit from the weekend of day {first_over})"
            )
        # 9. days off
        for d in sorted(set(instance.days_off.get(e.id, ()))):
            if line[d]:
                violations.append(f"rule 9 (day off): {e.id} works {', '.join(line[d])} on day off {d}")

    on = sum(r.weight for r in instance.on_requests if r.shift not in by_employee[r.employee][r.day])
    off = sum(r.weight for r in instance.off_requests if r.shift in by_employee[r.employee][r.day])
    under = over = 0
    for day in range(H):
        for st in instance.shifts:
            c = instance.cover_at(day, st.id)
            x = count.get((day, st.id), 0)
            if x < c.requirement:
                under += (c.requirement - x) * c.weight_under
            elif x > c.requirement:
                over += (x - c.requirement) * c.weight_over
    breakdown = {"on_requests": on, "off_requests": off, "under_cover": under, "over_cover": over}
    return Evaluation(objective=sum(breakdown.values()), violations=violations, breakdown=breakdown)
