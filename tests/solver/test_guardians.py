"""Guardian matching: each hard rule has a case it alone decides (left out of the model, the independent
checker reports exactly that rule), the soft terms do what they say (continuity, the backup taking over,
nearness, the risk group), and on random problems the matching breaks nothing and the solver's
objective is the checker's."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from solver import guardians_check
from solver.guardian_problem import Guardian, GuardianProblem, Pair, Ward
from solver.guardians import HARD_RULES, SOFT_TERMS, build, match
from solver.problem import Status


def solve(problem: GuardianProblem, skip: tuple[str, ...] = ()):
    solution = match(problem, time_limit=10, workers=1, seed=0, skip=skip)
    assert solution.status in (Status.OPTIMAL, Status.FEASIBLE)
    return solution


def rules_broken(problem: GuardianProblem, solution) -> set[str]:
    return {v.rule for v in guardians_check.check(problem, solution.pairs)}


def assert_clean(problem: GuardianProblem, solution) -> None:
    assert guardians_check.check(problem, solution.pairs) == []
    assert solution.objective == guardians_check.objective(problem, solution.pairs)


def test_the_rule_book_names():
    assert set(HARD_RULES) == {
        "guardian_eligibility", "one_primary", "one_backup", "distinct_guardians", "guardian_caps"
    }
    assert set(SOFT_TERMS) == {
        "unguarded", "no_backup", "guardian_change", "distance", "visit_fit", "guardian_load"
    }


def test_every_resident_gets_a_distinct_eligible_primary_and_backup():
    problem = GuardianProblem(
        wards=(
            Ward("r1", building="b1", zone="north"),
            Ward("r2", skills=frozenset({"medical"}), building="b2", zone="north", close_contact=True),
            Ward("r3", language="yue", building="b3", zone="south"),
        ),
        guardians=(
            Guardian("v1", building="b1", zone="north"),
            Guardian("v2", skills=frozenset({"medical"}), zone="north"),
            Guardian("v3", skills=frozenset({"medical"}), languages=frozenset({"yue"}), zone="south"),
            Guardian("v4", languages=frozenset({"yue"}), building="b3", zone="south"),
        ),
        max_primary=2,
    )
    solution = solve(problem)
    assert_clean(problem, solution)
    assert solution.status == Status.OPTIMAL
    for pair in solution.pairs:
        assert pair.primary and pair.backup and pair.primary != pair.backup
    assert solution.pair("r2").primary in ("v2", "v3") and solution.pair("r2").backup in ("v2", "v3")
    assert {solution.pair("r3").primary, solution.pair("r3").backup} == {"v3", "v4"}


# -------------------------------------------------------------------- each hard rule decides its case


def test_eligibility_alone_keeps_a_volunteer_without_the_skill_away():
    problem = GuardianProblem(
        wards=(Ward("r1", skills=frozenset({"medical"}), building="b1"),),
        guardians=(Guardian("near", building="b1"), Guardian("medic", skills=frozenset({"medical"}))),
    )
    with_rule = solve(problem)
    assert_clean(problem, with_rule)
    assert with_rule.pair("r1") == Pair("r1", "medic", None)
    assert rules_broken(problem, solve(problem, skip=("guardian_eligibility",))) == {"guardian_eligibility"}


def test_distinct_guardians_alone_keeps_the_backup_from_being_the_primary():
    problem = GuardianProblem(wards=(Ward("r1"),), guardians=(Guardian("v1"),))
    with_rule = solve(problem)
    assert_clean(problem, with_rule)
    assert with_rule.pair("r1") == Pair("r1", "v1", None)
    assert rules_broken(problem, solve(problem, skip=("distinct_guardians",))) == {"distinct_guardians"}


def test_the_cap_alone_spreads_residents_over_volunteers():
    problem = GuardianProblem(
        wards=(Ward("r1", building="b1"), Ward("r2", building="b1")),
        guardians=(Guardian("near", building="b1"), Guardian("far1"), Guardian("far2")),
        max_primary=1,
    )
    with_rule = solve(problem)
    assert_clean(problem, with_rule)
    assert sorted(p.primary for p in with_rule.pairs).count("near") == 1
    assert rules_broken(problem, solve(problem, skip=("guardian_caps",))) == {"guardian_caps"}


def test_one_primary_and_one_backup_alone_keep_the_count_at_one():
    problem = GuardianProblem(wards=(Ward("r1"),), guardians=tuple(Guardian(f"v{i}") for i in range(4)))
    for rule, term in (("one_primary", "unguarded"), ("one_backup", "no_backup")):
        m_with = solve(problem)
        assert {t.name: t.value for t in m_with.terms}[term] == 0
        without = solve(problem, skip=(rule,))
        # without the rule the model pays itself for more than one: the term goes below zero
        assert {t.name: t.value for t in without.terms}[term] < 0


# ------------------------------------------------------------------------------------------ terms


def test_a_matched_pair_is_kept_although_someone_is_nearer():
    problem = GuardianProblem(
        wards=(Ward("r1", building="b1", primary="far1", backup="far2"),),
        guardians=(Guardian("near", building="b1"), Guardian("far1"), Guardian("far2")),
    )
    solution = solve(problem)
    assert_clean(problem, solution)
    assert solution.pair("r1") == Pair("r1", "far1", "far2")
    moved = solve(problem, skip=("guardian_change",))
    assert moved.pair("r1").primary == "near"


def test_visit_fit_alone_chooses_the_guardian_who_can_make_the_visits():
    # "near" lives in the resident's building but is free only when none of the 3 weekly visits are
    problem = GuardianProblem(
        wards=(Ward("r1", building="b1"),),
        guardians=(Guardian("near", building="b1"), Guardian("free1"), Guardian("free2")),
        misfit={("r1", "near"): 3},
    )
    solution = solve(problem)
    assert_clean(problem, solution)
    assert solution.pair("r1").primary != "near"
    assert guardians_check.score(problem, solution.pairs)["visit_fit"] <= 3  # near as backup at most
    nearest = solve(problem, skip=("visit_fit",))
    assert nearest.pair("r1").primary == "near"
    assert guardians_check.score(problem, nearest.pairs)["visit_fit"] == 6  # the primary's count twice


def test_when_the_primary_falls_ill_the_backup_takes_over_and_a_new_backup_is_found():
    problem = GuardianProblem(
        wards=(Ward("r1", building="b1", primary="v1", backup="v2"),),
        guardians=(
            Guardian("v1", building="b1", available=False),
            Guardian("v2"),
            Guardian("v3", building="b1"),  # nearer than v2, but v2 already knows the resident
        ),
    )
    solution = solve(problem)
    assert_clean(problem, solution)
    assert solution.pair("r1") == Pair("r1", "v2", "v3")


def test_the_risk_group_is_shielded_from_close_contact_where_the_site_says_so():
    wards = (Ward("r1", close_contact=True, building="b1"),)
    people = (Guardian("old", risk_group=True, building="b1"), Guardian("young"), Guardian("other"))
    shielded = solve(GuardianProblem(wards=wards, guardians=people))
    assert "old" not in (shielded.pair("r1").primary, shielded.pair("r1").backup)
    open_site = GuardianProblem(wards=wards, guardians=people, shield_risk_group=False)
    assert solve(open_site).pair("r1").primary == "old"


def test_a_resident_nobody_can_take_is_reported_not_refused():
    problem = GuardianProblem(wards=(Ward("r1", language="bo"),), guardians=(Guardian("v1"),))
    solution = solve(problem)
    assert_clean(problem, solution)
    assert solution.pair("r1") == Pair("r1", None, None)
    assert guardians_check.score(problem, solution.pairs)["unguarded"] == 1


# ------------------------------------------------------------------------------------ property test

SKILLS = st.frozensets(st.sampled_from(["medical", "social"]), max_size=1)
PLACES = st.sampled_from([None, "b1", "b2"])
ZONES = st.sampled_from([None, "n", "s"])


@st.composite
def problems(draw) -> GuardianProblem:
    n_guardians = draw(st.integers(1, 6))
    guardians = tuple(
        Guardian(
            f"v{i}",
            skills=draw(st.frozensets(st.sampled_from(["medical", "social"]), max_size=2)),
            languages=draw(st.frozensets(st.sampled_from(["yue", "hak"]), max_size=1)),
            building=draw(PLACES),
            zone=draw(ZONES),
            available=draw(st.booleans()) or i == 0,
            risk_group=draw(st.booleans()),
        )
        for i in range(n_guardians)
    )
    ids = [g.id for g in guardians] + [None]
    wards = tuple(
        Ward(
            f"r{i}",
            skills=draw(SKILLS),
            language=draw(st.sampled_from([None, None, "yue"])),
            building=draw(PLACES),
            zone=draw(ZONES),
            close_contact=draw(st.booleans()),
            primary=draw(st.sampled_from(ids)),
            backup=draw(st.sampled_from(ids)),
        )
        for i in range(draw(st.integers(1, 6)))
    )
    misfit = {
        (w.id, g.id): n
        for w in wards for g in guardians
        if (n := draw(st.sampled_from([0, 0, 1, 3])))
    }
    return GuardianProblem(
        wards=wards,
        guardians=guardians,
        max_primary=draw(st.integers(1, 3)),
        max_backup=draw(st.integers(1, 3)),
        shield_risk_group=draw(st.booleans()),
        misfit=misfit,
    )


@settings(max_examples=60, deadline=None)
@given(problems())
def test_random_matchings_break_nothing_and_score_as_the_checker_does(problem):
    solution = match(problem, time_limit=5, workers=1, seed=0)
    assert solution.status == Status.OPTIMAL
    assert_clean(problem, solution)
    # nobody who could be guarded is left unguarded while an eligible volunteer has room
    for pair in solution.pairs:
        if pair.primary is None:
            ward = next(w for w in problem.wards if w.id == pair.ward)
            for g in problem.guardians:
                if guardians_check._why_not(problem, ward, g) is None:
                    load = sum(1 for p in solution.pairs if p.primary == g.id)
                    assert load >= problem.max_primary


def test_build_refuses_unknown_names():
    import pytest

    with pytest.raises(ValueError, match="unknown"):
        build(GuardianProblem(wards=(), guardians=()), skip=("no_such_rule",))
