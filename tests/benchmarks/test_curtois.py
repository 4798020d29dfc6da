"""The Curtois & Qu benchmark: parser, importer into ``solver.problem`` and the README-based evaluator."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from benchmarks.curtois import (
    BEST_KNOWN,
    BEST_KNOWN_RANGE,
    PROVEN_OPTIMAL,
    PUBLISHED_10MIN,
    Evaluation,
    Instance,
    Staff,
    assignments_from_roster,
    evaluate,
    parse_instance,
    read_roster_csv,
    roster_from_assignments,
    to_problem,
    write_roster_csv,
)
from solver.problem import Intensity, Rules

BENCH = Path(__file__).resolve().parents[3] / "shared/benchmarks/curtois"
NUMBERS = range(1, 25)

# The README's table: instance -> (days, staff, shift types)
SIZES = {
    1: (14, 8, 1),
    2: (14, 14, 2),
    3: (14, 20, 3),
    4: (28, 10, 2),
    5: (28, 16, 2),
    6: (28, 18, 3),
    7: (28, 20, 3),
    8: (28, 30, 4),
    9: (28, 36, 4),
    10: (28, 40, 5),
    11: (28, 50, 6),
    12: (28, 60, 10),
    13: (28, 120, 18),
    14: (42, 32, 4),
    15: (42, 45, 6),
    16: (56, 20, 3),
    17: (56, 32, 4),
    18: (84, 22, 3),
    19: (84, 40, 5),
    20: (182, 50, 6),
    21: (182, 100, 8),
    22: (364, 50, 10),
    23: (364, 100, 16),
    24: (364, 150, 32),
}

needs_data = pytest.mark.skipif(
    not (BENCH / "Instance1.txt").is_file(), reason=f"benchmark files not in {BENCH}"
)


@cache
def load(n: int) -> Instance:
    path = BENCH / f"Instance{n}.txt"
    if not path.is_file():
        pytest.skip(f"{path} missing")
    return parse_instance(path)


def roster_from_lines(lines: dict[str, str]) -> list[tuple[str, int, str]]:
    """{employee: "DD..D"} (one character per day, "." = off) as a roster."""
    return [(e, d, s) for e, line in lines.items() for d, s in enumerate(line) if s != "."]


# An optimal roster of Instance1 (607) and a best known one of Instance2 (828), found by an independent
# CP-SAT model written straight from the README.
OPT1 = {
    "A": ".DDDD..DD..DD.",
    "B": "DDDDD..DD...DD",
    "C": "DDD..DD..DDD..",
    "D": "DD...DDDDD....",
    "E": ".DDDD..DD..DDD",
    "F": "DDD....DDD..DD",
    "G": "..DDD..DD..DDD",
    "H": "DD..DDD..DDD..",
}
BEST2 = {
    "A": "LLL..LLLLL....",
    "B": "..EEE..EEE..EL",
    "C": "L..EEEL..EEE..",
    "D": "EEEEE...EEE..E",
    "E": "L..LLLLL..LL..",
    "F": "..LLLLL..EEL..",
    "G": "EEEEL.....EEEE",
    "H": "EEL..EEEEL....",
    "I": ".ELLL..ELL..EE",
    "J": "LLLL.....LLLLL",
    "K": "..L.....L...LL",
    "L": "........L.L.LL",
    "M": ".L.E.LL.......",
    "N": "E.......E...EL",
}

_VIOLATION = re.compile(r"rule (\d) \([^)]*\): (\S+) ")


def broken(ev: Evaluation, employee: str | None = None) -> set[int]:
    """Numbers of the hard rules ``ev`` reports (for one employee)."""
    out = set()
    for v in ev.violations:
        m = _VIOLATION.match(v)
        assert m, f"violation without 'rule N (...): EMPLOYEE': {v!r}"
        if employee is None or m.group(2) == employee:
            out.add(int(m.group(1)))
    return out


# --------------------------------------------------------------------------------------------------
# Published values


def test_published_tables_cover_every_instance():
    assert set(BEST_KNOWN) == set(NUMBERS)
    assert BEST_KNOWN[1] == 607 and BEST_KNOWN[22] == 30241
    for n, (lo, hi) in BEST_KNOWN_RANGE.items():
        assert BEST_KNOWN[n] == lo < hi
    assert set(range(1, 22)) - {15} == PROVEN_OPTIMAL
    assert set(PUBLISHED_10MIN) == {8, 12, 13, 14, 15, 17, 18, 19}
    for n, results in PUBLISHED_10MIN.items():
        assert set(results) == {"gurobi", "ejection_chain", "ip_vns_hybrid"}
        assert min(results.values()) >= BEST_KNOWN[n]


# --------------------------------------------------------------------------------------------------
# Parsing the 24 files


@needs_data
@pytest.mark.parametrize("n", NUMBERS)
def test_parse_matches_readme_table(n):
    inst = load(n)
    days, staff, shifts = SIZES[n]
    assert inst.name == f"Instance{n}" and inst.number == n
    assert (inst.horizon, len(inst.staff), len(inst.shifts)) == (days, staff, shifts)
    assert inst.horizon % 7 == 0
    # one cover row per (day, shift type); the README: WeightUnder = 100 and WeightOver = 1 everywhere
    assert len(inst.cover) == days * shifts
    assert {(c.weight_under, c.weight_over) for c in inst.cover} == {(100, 1)}
    for e in inst.staff:
        assert set(e.max_shifts) == set(inst.shift_by_id)
        assert e.min_total_minutes <= e.max_total_minutes
    assert all(0 <= d < days for ds in inst.days_off.values() for d in ds)
    assert inst.on_requests and inst.off_requests


@needs_data
def test_parsing_all_instances():
    for n in NUMBERS:
        assert parse_instance(BENCH / f"Instance{n}.txt").horizon % 7 == 0


@needs_data
def test_instance1_fields_match_the_file():
    inst = load(1)
    assert [(s.id, s.length, s.forbidden_next) for s in inst.shifts] == [("D", 480, ())]
    # "A,D=14,4320,3360,5,2,2,1"
    assert inst.staff[0] == Staff("A", {"D": 14}, 4320, 3360, 5, 2, 2, 1)
    assert [e.id for e in inst.staff] == list("ABCDEFGH")
    assert inst.days_off == {
        "A": (0,),
        "B": (5,),
        "C": (8,),
        "D": (2,),
        "E": (9,),
        "F": (5,),
        "G": (1,),
        "H": (7,),
    }
    assert len(inst.on_requests) == 21 and len(inst.off_requests) == 5
    r = inst.on_requests[0]
    assert (r.employee, r.day, r.shift, r.weight) == ("A", 2, "D", 2)  # "A,2,D,2"
    r = inst.off_requests[2]
    assert (r.employee, r.day, r.shift, r.weight) == ("F", 8, "D", 3)  # "F,8,D,3"
    assert [c.requirement for c in inst.cover] == [5, 7, 6, 4, 5, 5, 5, 6, 7, 4, 2, 5, 6, 4]


@needs_data
def test_instance2_forbidden_next_and_zero_limits():
    inst = load(2)
    assert [(s.id, s.forbidden_next) for s in inst.shifts] == [("E", ()), ("L", ("E",))]
    assert inst.staff_by_id["D"].max_shifts == {"E": 14, "L": 0}  # "D,E=14|L=0,4320,3360,5,2,2,1"
    assert inst.staff_by_id["K"] == Staff("K", {"E": 0, "L": 14}, 2160, 1200, 5, 1, 1, 1)


# --------------------------------------------------------------------------------------------------
# Parsing text, and malformed input

SMALL = """# comment
SECTION_HORIZON
7

SECTION_SHIFTS
# id, minutes, forbidden next
E,480,
L,480,E

SECTION_STAFF
A,E=7|L=7,2400,960,5,1,1,1
B,E=7|L=0,2400,960,5,1,1,1

SECTION_DAYS_OFF
A,6
B,

SECTION_SHIFT_ON_REQUESTS
A,0,E,2

SECTION_SHIFT_OFF_REQUESTS
B,1,E,3

SECTION_COVER
0,E,1,100,1
0,L,1,100,1
"""


def test_parse_text_crlf_comments_and_blank_lines():
    inst = parse_instance(SMALL)
    crlf = parse_instance(
        SMALL.replace("\n", "\r\n").replace("SECTION_STAFF", "\r\n# more\r\n  SECTION_STAFF")
    )
    assert inst == crlf
    assert inst.name == "curtois" and inst.number is None
    assert inst.horizon == 7
    assert inst.shift_by_id["L"].forbidden_next == ("E",)
    assert inst.days_off == {"A": (6,), "B": ()}
    assert len(inst.cover) == 2
    # a (day, shift) without a cover row has requirement 0
    assert inst.cover_at(3, "E").requirement == 0
    assert parse_instance(SMALL, name="small").name == "small"


def test_parse_path_and_str_path(tmp_path):
    path = tmp_path / "Tiny.txt"
    path.write_bytes(SMALL.replace("\n", "\r\n").encode())
    assert parse_instance(path) == parse_instance(str(path)) == parse_instance(SMALL, name="Tiny")


def _break(old: str, new: str) -> str:
    assert old in SMALL
    return SMALL.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (_break("SECTION_COVER", "SECTION_COVERS"), 24, "unknown section"),
        (_break("SECTION_HORIZON\n7", "SECTION_HORIZON\nseven"), 3, "horizon must be an integer"),
        (_break("SECTION_HORIZON\n7", "SECTION_HORIZON\n0"), 3, "horizon must be >= 1"),
        (_break("E,480,\n", "E,480\n"), 7, "expected 3 fields"),
        (_break("E,480,\n", "E,-5,\n"), 7, "length of shift E must be >= 1"),
        (_break("L,480,E", "L,480,X"), 8, "unknown shift in ForbiddenNext of L: 'X'"),
        (_break("L,480,E", "E,480,E"), 8, "defined twice"),
        (_break("A,E=7|L=7,2400", "A,E=7|Q=7,2400"), 11, "unknown shift in MaxShifts: 'Q'"),
        (_break("A,E=7|L=7,2400", "A,E7|L=7,2400"), 11, "is not ShiftID=max"),
        (_break("B,E=7|L=0,2400,960,5,1,1,1", "B,E=7|L=0,2400,960,5,1,1"), 12, "expected 8 fields"),
        (
            _break("B,E=7|L=0,2400,960,5,1,1,1", "A,E=7|L=0,2400,960,5,1,1,1"),
            12,
            "employee 'A' defined twice",
        ),
        (_break("B,E=7|L=0,2400,960,5,1,1,1", "B,E=7|L=0,2400,x,5,1,1,1"), 12, "MinTotalMinutes must be"),
        (_break("A,6\n", "Z,6\n"), 15, "unknown employee 'Z'"),
        (_break("A,6\n", "A,7\n"), 15, "day 7 is outside the horizon 0..6"),
        (_break("A,0,E,2", "A,0,X,2"), 19, "unknown shift 'X'"),
        (_break("A,0,E,2", "A,0,E"), 19, "expected 4 fields"),
        (_break("B,1,E,3", "B,1,E,-3"), 22, "weight must be >= 0"),
        (_break("0,L,1,100,1", "0,E,2,100,1"), 26, "given twice (first at line 25)"),
        (_break("0,L,1,100,1", "0,L,1,100"), 26, "expected 5 fields"),
        (_break("SECTION_DAYS_OFF", "SECTION_COVER"), 24, "SECTION_COVER repeated (first at line 14)"),
        ("7\nSECTION_HORIZON\n7\n", 1, "data before the first SECTION_ header"),
    ],
)
def test_malformed_input_names_the_line(text, line, message):
    with pytest.raises(ValueError) as err:
        parse_instance(text, name="t.txt")
    assert f"t.txt line {line}: " in str(err.value)
    assert message in str(err.value)


@pytest.mark.parametrize("section", ["SECTION_HORIZON", "SECTION_SHIFTS", "SECTION_STAFF"])
def test_missing_required_section(section):
    with pytest.raises(ValueError, match=f"missing {section}"):
        parse_instance(_drop_section(SMALL, section))


def _drop_section(text: str, section: str) -> str:
    """``text`` without ``section`` and its rows."""
    out, skipping = [], False
    for line in text.splitlines():
        if line.startswith("SECTION_"):
            skipping = line == section
        if not skipping:
            out.append(line)
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------------
# to_problem


@needs_data
def test_to_problem_instance1():
    inst = load(1)
    p = to_problem(inst)
    assert p.name == "Instance1" and p.days == 14 and p.first_weekday == 0
    assert len(p.shifts) == 14 * 1 and len(p.people) == 8
    assert p.forbidden_successions == frozenset()
    s = p.shift("d1-D")  # cover "1,D,7,100,1"
    assert (s.post, s.type, s.day, s.start, s.end, s.required) == ("D", "D", 1, 1440, 1440 + 480, 7)
    assert (s.max_staff, s.under_weight, s.over_weight, s.night, s.intensity) == (
        None,
        100,
        1,
        False,
        Intensity.NORMAL,
    )
    assert dict(s.skills) == {}
    assert [x.required for x in p.shifts] == [5, 7, 6, 4, 5, 5, 5, 6, 7, 4, 2, 5, 6, 4]
    # "A,D=14,4320,3360,5,2,2,1", day off 0, on requests "A,2,D,2" and "A,3,D,2"
    a = p.person("A")
    assert a.rules == Rules(
        min_rest_minutes=0,
        max_shifts_per_day=1,
        max_consecutive_days=5,
        min_consecutive_days=2,
        min_consecutive_days_off=2,
        min_total_minutes=3360,
        max_total_minutes=4320,
        max_weekends=1,
        max_shifts_by_type={"D": 14},
    )
    assert dict(a.unavailable) == {"d0-D": "day off"}
    assert dict(a.wants) == {"d2-D": 2, "d3-D": 2} and dict(a.avoids) == {}
    assert a.capacity_minutes == 0 and a.skills == frozenset() and a.history.days == ()
    # "C,12,D,1", "C,13,D,1"
    assert dict(p.person("C").avoids) == {"d12-D": 1, "d13-D": 1}
    w = p.weights
    assert (w.uncovered, w.overstaffed, w.preference) == (1, 1, 1)
    assert (w.skill_shortfall, w.load_max, w.load_spread, w.nights_spread, w.weekends_spread) == (
        0,
        0,
        0,
        0,
        0,
    )
    assert (w.heavy_spread, w.isolated_day_off, w.isolated_work_day, w.change) == (0, 0, 0, 0)


@needs_data
def test_to_problem_instance2_successions_and_days_off_block_every_type():
    p = to_problem(load(2))
    assert p.forbidden_successions == {("L", "E")}
    assert dict(p.person("A").unavailable) == {"d3-E": "day off", "d3-L": "day off"}
    assert p.person("D").rules.max_shifts_by_type == {"E": 14, "L": 0}
    assert [s.id for s in p.shifts[:4]] == ["d0-E", "d0-L", "d1-E", "d1-L"]


@needs_data
@pytest.mark.parametrize("n", NUMBERS)
def test_to_problem_sizes(n):
    inst = load(n)
    p = to_problem(inst)
    assert len(p.shifts) == inst.horizon * len(inst.shifts)
    assert len({s.id for s in p.shifts}) == len(p.shifts)
    assert len(p.people) == len(inst.staff)
    assert sum(s.required for s in p.shifts) == sum(c.requirement for c in inst.cover)
    assert sum(len(x.unavailable) for x in p.people) == len(inst.shifts) * sum(
        len(set(d)) for d in inst.days_off.values()
    )
    assert sum(sum(x.wants.values()) for x in p.people) == sum(r.weight for r in inst.on_requests)
    assert sum(sum(x.avoids.values()) for x in p.people) == sum(r.weight for r in inst.off_requests)
    assert len(p.forbidden_successions) == sum(len(s.forbidden_next) for s in inst.shifts)


# --------------------------------------------------------------------------------------------------
# Rosters


@needs_data
def test_roster_assignments_and_csv_round_trip(tmp_path):
    inst = load(2)
    roster = roster_from_lines(BEST2)
    pairs = assignments_from_roster(inst, roster)
    assert ("A", "d0-L") in pairs and len(pairs) == len(roster)
    back = roster_from_assignments(inst, reversed(pairs))
    assert back == sorted(roster, key=lambda r: ("ABCDEFGHIJKLMN".index(r[0]), r[1]))
    path = tmp_path / "roster.csv"
    write_roster_csv(path, back)
    assert path.read_text().splitlines()[:2] == ["employee,day,shift", "A,0,L"]
    assert read_roster_csv(path) == back


@needs_data
@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([("Z", "d0-D")], "unknown employee 'Z'"),
        ([("A", "d14-D")], "outside the horizon"),
        ([("A", "d1-N")], "unknown shift type 'N'"),
        ([("A", "D")], "not a benchmark shift id"),
    ],
)
def test_roster_from_assignments_rejects_unknown_ids(pairs, message):
    with pytest.raises(ValueError, match=message):
        roster_from_assignments(load(1), pairs)


def test_read_roster_csv_errors(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("person,day,shift\nA,0,D\n")
    with pytest.raises(ValueError, match="line 1: expected header"):
        read_roster_csv(path)
    path.write_text("employee,day,shift\nA,0,D\nA,x,D\n")
    with pytest.raises(ValueError, match="line 3: day must be an integer"):
        read_roster_csv(path)
    path.write_text("employee,day,shift\nA,0\n")
    with pytest.raises(ValueError, match="line 2: expected 3 fields"):
        read_roster_csv(path)
    path.write_text("employee,day,shift\r\n\r\nA,0,D\r\n")
    assert read_roster_csv(path) == [("A", 0, "D")]


# --------------------------------------------------------------------------------------------------
# The evaluator


@needs_data
@pytest.mark.parametrize("n", NUMBERS)
def test_empty_roster_objective(n):
    inst = load(n)
    ev = evaluate(inst, [])
    under = sum(c.requirement * c.weight_under for c in inst.cover)
    on = sum(r.weight for r in inst.on_requests)
    assert ev.breakdown == {"on_requests": on, "off_requests": 0, "under_cover": under, "over_cover": 0}
    assert ev.objective == under + on
    # nobody reaches MinTotalMinutes (all are positive)
    assert broken(ev) == {4}
    assert len(ev.violations) == len(inst.staff)


@needs_data
def test_empty_roster_instance1_by_hand():
    ev = evaluate(load(1), [])
    # requirements 5+7+6+4+5+5+5+6+7+4+2+5+6+4 = 71; on-request weights 2*2+5*3+5*1+2*2+2*2+5*1 = 37
    assert ev.objective == 71 * 100 + 37
    assert "rule 4 (total minutes): A works 0 min, min 3360 (whole horizon)" in ev.violations


@needs_data
def test_optimal_instance1_roster_scores_607():
    ev = evaluate(load(1), roster_from_lines(OPT1))
    assert ev.violations == []
    assert ev.feasible
    assert ev.objective == BEST_KNOWN[1] == 607
    assert ev.breakdown == {"on_requests": 4, "off_requests": 3, "under_cover": 600, "over_cover": 0}


@needs_data
def test_best_instance2_roster_scores_828():
    ev = evaluate(load(2), roster_from_lines(BEST2))
    assert ev.violations == []
    assert ev.objective == BEST_KNOWN[2] == 828


@needs_data
def test_cover_counts_over_and_under():
    inst = load(1)
    roster = roster_from_lines(OPT1)
    base = evaluate(inst, roster).breakdown
    assert base["over_cover"] == 0
    # day 10 needs 2 and OPT1 has 2 there: one more is 1 over (WeightOver 1)
    assert sum(1 for line in OPT1.values() if line[10] == "D") == 2
    assert evaluate(inst, [*roster, ("D", 10, "D")]).breakdown["over_cover"] == 1
    # one fewer on day 1 (7 needed) is 100 more under (WeightUnder 100)
    less = [r for r in roster if r != ("B", 1, "D")]
    assert evaluate(inst, less).breakdown["under_cover"] == base["under_cover"] + 100


# Employee lines of Instance1 (C: day off 8; 7..9 shifts; blocks of 2..5 days on, >= 2 days off;
# at most 1 weekend; Saturdays 5, 12) that break exactly one rule each.
@needs_data
@pytest.mark.parametrize(
    ("line", "rules", "fragment"),
    [
        ("DDD..DD..DDD..", set(), None),
        ("DDDDDD...DDD..", {5}, "rule 5 (max consecutive shifts): C works 6 days in a row, days 0-5, max 5"),
        ("DDDD...D..DDD.", {6}, "rule 6 (min consecutive shifts): C works 1 days in a row, day 7, min 2"),
        ("DDD.DDD..DDD..", {7}, "rule 7 (min consecutive days off): C is off 1 days in a row, day 3, min 2"),
        ("DD...DD..DDDDD", {8}, "rule 8 (max weekends): C works 2 weekends, max 1"),
        ("DD...DD..DD...", {4}, "rule 4 (total minutes): C works 2880 min, min 3360"),
        ("DDD...DDDDD...", {9}, "rule 9 (day off): C works D on day off 8"),
        # short blocks touching the first or the last day are allowed (rules 6 and 7)
        ("D..DDD...DDD..", set(), None),
        (".DDDD....DD..D", set(), None),
    ],
)
def test_each_hard_rule_instance1(line, rules, fragment):
    ev = evaluate(load(1), roster_from_lines({"C": line}))
    assert broken(ev, "C") == rules
    if fragment:
        assert any(v.startswith(fragment) for v in ev.violations), ev.violations


@needs_data
def test_rule1_two_shifts_a_day_and_rule4_max():
    inst = load(1)
    ev = evaluate(inst, roster_from_lines({"C": "DDD..DD..DDD.."}) + [("C", 0, "D")])
    assert broken(ev, "C") == {1}
    assert "rule 1 (one shift per day): C works 2 shifts on day 0 (D, D)" in ev.violations
    assert (
        ev.breakdown["over_cover"]
        == evaluate(inst, roster_from_lines({"C": "DDD..DD..DDD.."})).breakdown["over_cover"]
    )  # day 0 needs 5: 2 of C are still under
    # ten shifts cannot fit in 14 days without a second weekend
    ev = evaluate(inst, roster_from_lines({"A": ".DDDDD..DDDDD."}))
    assert broken(ev, "A") == {4, 8}
    assert "rule 4 (total minutes): A works 4800 min, max 4320 (whole horizon)" in ev.violations


@needs_data
def test_rules_2_and_3_instance2():
    inst = load(2)
    # B (day off 1): L then E on days 2-3 and 9-10
    ev = evaluate(inst, roster_from_lines({"B": "..LEE..LLLEE.."}))
    assert broken(ev, "B") == {2}
    assert [v for v in ev.violations if v.startswith("rule 2")] == [
        "rule 2 (forbidden succession): B works L on day 2 then E on day 3",
        "rule 2 (forbidden succession): B works L on day 9 then E on day 10",
    ]
    # D may not work L (L=0)
    ev = evaluate(inst, roster_from_lines({"D": "..EEE..EELL..."}))
    assert broken(ev, "D") == {3}
    assert any(v.startswith("rule 3 (max shifts of a type): D works 2 x L, max 0") for v in ev.violations)


@needs_data
def test_requests():
    inst = load(1)
    base = evaluate(inst, roster_from_lines(OPT1)).breakdown
    # H has off requests on days 2 and 3 (weight 3 each); OPT1 gives H day 2 off already
    lines = dict(OPT1, H="DDD.DDD..DDD..")
    assert evaluate(inst, roster_from_lines(lines)).breakdown["off_requests"] == base["off_requests"] + 3
    # B wants days 0-4 (weight 3); OPT1 grants them all
    lines = dict(OPT1, B="DDD....DDDDDDD")
    assert evaluate(inst, roster_from_lines(lines)).breakdown["on_requests"] == base["on_requests"] + 2 * 3


@needs_data
def test_evaluate_rejects_rows_from_another_instance():
    with pytest.raises(ValueError, match="unknown shift type 'E'"):
        evaluate(load(1), [("A", 1, "E")])
    with pytest.raises(ValueError, match="outside the horizon"):
        evaluate(load(1), [("A", -1, "D")])


# --------------------------------------------------------------------------------------------------
# Cross-check against solver.validate

# README rule number -> solver.validate rule names
_VALIDATE_RULES = {
    "max_shifts_per_day": 1,
    "no_double_booking": 1,
    "forbidden_succession": 2,
    "max_shifts_by_type": 3,
    "min_total_minutes": 4,
    "max_total_minutes": 4,
    "max_consecutive_days": 5,
    "min_consecutive_days": 6,
    "min_consecutive_days_off": 7,
    "max_weekends": 8,
    "eligibility": 9,
}


def _feasible_line(
    inst: Instance, e: Staff, rng: random.Random, max_nodes: int = 20_000
) -> list[str | None] | None:
    """A random line (shift type or None per day) keeping every hard rule, by randomised backtracking."""
    H = inst.horizon
    off_days = set(inst.days_off.get(e.id, ()))
    types = [s for s in inst.shifts if e.max_shifts[s.id] > 0]
    longest = max((s.length for s in types), default=0)
    line: list[str | None] = []
    counts = dict.fromkeys(inst.shift_by_id, 0)
    nodes = 0

    def rec(d: int, run_start: int, minutes: int, weekends: frozenset[int]) -> bool:
        nonlocal nodes
        nodes += 1
        if nodes > max_nodes or minutes + (H - d) * longest < e.min_total_minutes:
            return False
        if d == H:
            return True
        prev = line[-1] if line else None
        run = d - run_start  # length of the current block (of prev's kind) before day d
        options: list[str | None] = [s.id for s in types]
        rng.shuffle(options)
        options.insert(rng.randrange(len(options) + 1) if rng.random() < 0.5 else len(options), None)
        for s in options:
            worked_before = prev is not None
            if s is None:
                if worked_before and run_start > 0 and run < e.min_consecutive_shifts:
                    continue
            else:
                st = inst.shift_by_id[s]
                if d in off_days or counts[s] >= e.max_shifts[s] or minutes + st.length > e.max_total_minutes:
                    continue
                if worked_before and (
                    s in inst.shift_by_id[prev].forbidden_next or run >= e.max_consecutive_shifts
                ):
                    continue
                if not worked_before and d > 0 and run_start > 0 and run < e.min_consecutive_days_off:
                    continue
                if d % 7 in (5, 6) and len(weekends | {d // 7}) > e.max_weekends:
                    continue
            same_kind = d > 0 and (s is None) == (prev is None)
            line.append(s)
            if s is not None:
                counts[s] += 1
            ok = rec(
                d + 1,
                run_start if same_kind else d,
                minutes + (inst.shift_by_id[s].length if s else 0),
                weekends | {d // 7} if s and d % 7 in (5, 6) else weekends,
            )
            if ok:
                return True
            line.pop()
            if s is not None:
                counts[s] -= 1
        return False

    return line if rec(0, 0, 0, frozenset()) else None


def _feasible_roster(inst: Instance, rng: random.Random) -> list[tuple[str, int, str]]:
    roster = []
    for e in inst.staff:
        for _ in range(50):
            line = _feasible_line(inst, e, rng)
            if line is not None:
                break
        else:
            raise AssertionError(f"no feasible line found for {e.id}")
        roster += [(e.id, d, s) for d, s in enumerate(line) if s is not None]
    return roster


def _mutate(inst: Instance, roster: list[tuple[str, int, str]], rng: random.Random, k: int) -> list:
    cells = {(e, d): s for e, d, s in roster}
    extra: set[tuple[str, int, str]] = set()
    for _ in range(k):
        e, d = rng.choice(inst.staff).id, rng.randrange(inst.horizon)
        kind = rng.random()
        if kind < 0.4:
            cells.pop((e, d), None)
        elif kind < 0.9 or len(inst.shifts) == 1:
            cells[e, d] = rng.choice(inst.shifts).id
        else:  # a second shift type on one day
            cells.setdefault((e, d), inst.shifts[0].id)
            extra.add((e, d, rng.choice([s.id for s in inst.shifts if s.id != cells[e, d]])))
    rows = [(e, d, s) for (e, d), s in cells.items()]
    return rows + sorted(extra - set(rows))  # no row twice


def _random_roster(inst: Instance, rng: random.Random) -> list:
    p = rng.uniform(0.2, 0.9)
    return [
        (e.id, d, rng.choice(inst.shifts).id)
        for e in inst.staff
        for d in range(inst.horizon)
        if rng.random() < p
    ]


@needs_data
@pytest.mark.parametrize("n", [1, 2, 3, 4, 7])
def test_feasible_line_generator(n):
    inst = load(n)
    roster = _feasible_roster(inst, random.Random(n))
    assert evaluate(inst, roster).violations == []


@needs_data
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7])
def test_cross_check_with_solver_validate(n):
    try:
        from solver.validate import objective, validate
    except ImportError:
        pytest.skip("solver.validate not available yet")
    inst = load(n)
    problem = to_problem(inst)
    rng = random.Random(1000 + n)
    makers: list[Callable[[], list]] = [
        lambda: _feasible_roster(inst, rng),
        lambda: _mutate(inst, _feasible_roster(inst, rng), rng, 1),
        lambda: _mutate(inst, _feasible_roster(inst, rng), rng, rng.randint(2, 6)),
        lambda: _random_roster(inst, rng),
    ]
    if n == 1:  # the optimum, and short blocks touching the first and the last day (allowed)
        makers.append(lambda: roster_from_lines(OPT1))
        makers.append(lambda: roster_from_lines(dict(OPT1, C="D..DDD...DDD..", H=".DDDD...DD...D")))
    for i in range(24):
        roster = makers[i % len(makers)]()
        ev = evaluate(inst, roster)
        pairs = assignments_from_roster(inst, roster)
        assert objective(problem, pairs) == ev.objective, (i, ev.breakdown)
        theirs = validate(problem, pairs)
        assert (not theirs) == (not ev.violations), (i, ev.violations, [v.message for v in theirs])
        mine = {(int(m.group(1)), m.group(2)) for m in map(_VIOLATION.match, ev.violations)}
        assert {(_VALIDATE_RULES.get(v.rule, v.rule), v.person) for v in theirs} == mine, (
            i,
            ev.violations,
            [v.message for v in theirs],
        )
