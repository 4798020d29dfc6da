"""The benchmark driver: its document, its argument parsing and tiny end-to-end runs (no timing asserts)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from benchmarks import bench
from benchmarks.curtois import BEST_KNOWN, evaluate, parse_instance, read_roster_csv
from scheduler.cli.main import app
from solver.options import Progress

BENCH = Path(__file__).resolve().parents[3] / "shared/benchmarks/curtois"
needs_data = pytest.mark.skipif(
    not (BENCH / "Instance1.txt").is_file(), reason=f"benchmark files not in {BENCH}"
)


# --------------------------------------------------------------------------------------------------
# The document


def test_new_document_has_every_section_in_order():
    text = bench.new_document()
    positions = [text.index(f"<!-- bench:{name} -->") for name in bench.SECTIONS]
    assert positions == sorted(positions)
    for name in bench.SECTIONS:
        assert "Not run yet." in bench.section_body(text, name)


def test_replace_section_keeps_everything_else_byte_for_byte():
    text = bench.new_document().replace("Not run yet.", "old figures", 1) + "\nA footnote by hand.\n"
    new = bench.replace_section(text, "curtois", "## Curtois\n\nnew figures")
    assert bench.section_body(new, "curtois") == "## Curtois\n\nnew figures"
    before, after = text.split("<!-- bench:curtois -->")[0], text.split("<!-- /bench:curtois -->")[1]
    assert new.startswith(before) and new.endswith(after)
    assert bench.section_body(new, "scenarios") == bench.section_body(text, "scenarios")
    assert "old figures" in bench.section_body(new, "scenarios")
    assert new.endswith("A footnote by hand.\n")
    # replacing again with the same body changes nothing
    assert bench.replace_section(new, "curtois", "## Curtois\n\nnew figures") == new


def test_replace_section_appends_a_missing_section():
    text = "# Benchmarks\n\nHand-written intro.\n"
    new = bench.replace_section(text, "checker", "checker figures")
    assert new.startswith(text)
    assert new.endswith("<!-- bench:checker -->\nchecker figures\n<!-- /bench:checker -->\n")


@pytest.mark.parametrize(
    "text",
    [
        "<!-- bench:curtois -->\nno end",
        "no start\n<!-- /bench:curtois -->",
        "<!-- /bench:curtois -->\n<!-- bench:curtois -->",
        "<!-- bench:curtois -->\n<!-- /bench:curtois -->\n<!-- bench:curtois -->\n<!-- /bench:curtois -->",
    ],
)
def test_replace_section_refuses_broken_markers(text):
    with pytest.raises(ValueError, match="curtois"):
        bench.replace_section(text, "curtois", "x")


def test_update_document_creates_the_file(tmp_path):
    doc = tmp_path / "docs" / "BENCHMARKS.md"
    bench.update_document(doc, "resolve", "## Re-solve\n\nfigures")
    text = doc.read_text()
    assert bench.section_body(text, "resolve") == "## Re-solve\n\nfigures"
    assert "Not run yet." in bench.section_body(text, "scenarios")


def test_run_header_names_machine_commit_and_date():
    header = bench.run_header("Title", "python -m benchmarks.bench")
    assert header.startswith("## Title\n")
    for field in ("- Date: ", "- Machine: ", "OR-Tools ", "Python ", "core", "RAM", "- Commit: ", "- Load"):
        assert field in header


def test_run_header_names_a_commit_that_changed_during_the_run(monkeypatch):
    info = bench.RunInfo(bench.dt.datetime(2026, 1, 2, 3, 4).astimezone(), "abc1234", "0.10 (1 min)")
    monkeypatch.setattr(bench, "commit_text", lambda: "def5678")
    header = bench.run_header("Title", "cmd", info)
    assert "- Date: 2026-01-02 03:04" in header and "- Commit: abc1234\n" in header
    assert "- Commit when the run ended: def5678 (the code changed during the run)" in header
    monkeypatch.setattr(bench, "commit_text", lambda: "abc1234")
    assert "when the run ended" not in bench.run_header("Title", "cmd", info)


# --------------------------------------------------------------------------------------------------
# Instance ranges


@pytest.mark.parametrize(
    "text, numbers",
    [
        ("1-12", list(range(1, 13))),
        ("1,3,5", [1, 3, 5]),
        ("13-19", list(range(13, 20))),
        (" 5 , 1-3 ", [1, 2, 3, 5]),
        ("2,2,1-2", [1, 2]),
        ("24", [24]),
        ("1 - 2", [1, 2]),
    ],
)
def test_parse_instances(text, numbers):
    assert bench.parse_instances(text) == numbers


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "no instances"),
        ("0", "no instance 0"),
        ("25", "no instance 25"),
        ("20-30", "no instance 30"),
        ("3-1", "backwards"),
        ("abc", "'abc' is not"),
        ("1,,2", "empty item"),
        ("1-", "'1-' is not"),
        ("-3", "'-3' is not"),
        ("1.5", "'1.5' is not"),
    ],
)
def test_parse_instances_errors(text, message):
    with pytest.raises(ValueError, match=message):
        bench.parse_instances(text)


def test_ranges_text_and_default_limits():
    assert bench.ranges_text([5, 1, 2, 3, 7, 8]) == "1-3, 5, 7-8"
    assert bench.ranges_text([]) == ""
    assert bench.default_time_limit(12) == 60 and bench.default_time_limit(13) == 600
    assert bench.default_time_limit(20, small=1, large=2) == 2


# --------------------------------------------------------------------------------------------------
# Progress trace


def test_trace_checkpoints_and_time_to_best():
    trace = bench.Trace()
    for p in [
        Progress(0.5, None, 0.0, 0, "coverage"),
        Progress(1.0, 500.0, 0.0, 1, "coverage"),
        Progress(4.0, 300.0, 300.0, 2, "coverage"),
        Progress(12.0, 90.0, 10.0, 3, "balance"),
        Progress(15.0, 90.0, 40.0, 3, "balance"),  # a bound update, no new schedule
    ]:
        trace(p)
    assert trace.at(0.7) is None
    assert trace.at(10).objective == 300.0 and trace.at(10).phase == "coverage"
    assert trace.at(60).bound == 40.0
    assert trace.last_of_phase("coverage").objective == 300.0
    assert trace.last_improvement().elapsed == 12.0
    assert bench.Trace().last_improvement() is None


# --------------------------------------------------------------------------------------------------
# Curtois


def _result(n: int, objective: int | None, **extra) -> bench.CurtoisResult:
    return bench.CurtoisResult(
        instance=n, time_limit=60.0, status="feasible" if objective else "no_solution", objective=objective,
        solver_objective=objective, violations=0 if objective else None, date="2026-01-01", commit="abc1234",
        **extra,
    )


def test_curtois_section_keeps_rows_of_instances_not_rerun():
    first = bench.curtois_section([_result(1, 607), _result(2, 900)], "cmd", Path("out"))
    kept = [bench._row_result(r) for r in bench._load_curtois_rows(first).values()]
    assert [(k.instance, k.objective) for k in kept] == [(1, 607), (2, 900)]
    second = bench.curtois_section([_result(2, 828), _result(13, None)], "cmd", Path("out"), kept)
    rows = bench._load_curtois_rows(second)
    assert sorted(rows) == [1, 2, 13]
    assert rows[1]["objective"] == 607 and rows[2]["objective"] == 828 and rows[13]["objective"] is None
    assert "the rows of 1 are kept from earlier runs" in second
    assert "| 8 |" not in second
    assert "Best known reached on 2 of 3 (1-2)" in second  # 607 and 828


def test_curtois_section_flags_a_disagreement():
    bad = _result(3, 1001)
    bad.solver_objective = 1000
    text = bench.curtois_section([bad], "cmd", Path("out"))
    assert "**0 / NO**" in text
    assert not bad.consistent


def test_curtois_section_does_not_count_a_roster_that_breaks_rules():
    broken = _result(12, 74140)
    broken.violations = 60
    text = bench.curtois_section([_result(1, 607), broken], "cmd", Path("out"))
    assert "**60 / yes**" in text and "| invalid |" in text
    assert "Rosters that break hard rules (not results): 12." in text
    assert "over the 1 with a valid roster" in text and "no valid roster: 12" in text


def test_published_results_are_shown_where_listed():
    text = bench.curtois_section([_result(8, 1400)], "cmd", Path("out"))
    assert "1,364 (IP+VNS)" in text


@needs_data
def test_instance1_end_to_end(tmp_path):
    """A --quick-like run on Instance1: optimum 607, an evaluated CSV, and only its own section."""
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text(bench.replace_section(bench.new_document(), "scenarios", "## Scenarios\n\nkeep me"))
    out = tmp_path / "rosters"
    code = bench.main(
        ["--only", "curtois", "--instances", "1", "--time-limit", "5", "--out", str(out), "--doc", str(doc),
         "--data", str(BENCH)]
    )
    assert code == 0
    instance = parse_instance(BENCH / "Instance1.txt")
    evaluation = evaluate(instance, read_roster_csv(out / "Instance1.csv"))
    assert evaluation.violations == []
    assert evaluation.objective == BEST_KNOWN[1] == 607
    text = doc.read_text()
    assert bench.section_body(text, "scenarios") == "## Scenarios\n\nkeep me"
    assert "Not run yet." in bench.section_body(text, "checker")
    rows = bench._load_curtois_rows(bench.section_body(text, "curtois"))
    assert rows[1]["objective"] == rows[1]["solver_objective"] == 607
    assert rows[1]["violations"] == 0 and rows[1]["status"] == "optimal"
    assert "| 1 | 14 / 8 / 1 | 5 | optimal | CP-SAT model | 607 | 607 | 1.000 |" in text


# --------------------------------------------------------------------------------------------------
# The command line


runner = CliRunner()


@needs_data
def test_cli_bench_curtois(tmp_path):
    out, doc = tmp_path / "r", tmp_path / "B.md"
    result = runner.invoke(
        app,
        ["bench", "curtois", "--instances", "1", "--time-limit", "5", "--out", str(out), "--doc", str(doc),
         "--data", str(BENCH)],
    )
    assert result.exit_code == 0, result.output
    assert "Instance1" in result.output and "607" in result.output
    instance = parse_instance(BENCH / "Instance1.txt")
    assert evaluate(instance, read_roster_csv(out / "Instance1.csv")).objective == 607
    assert "| 1 | 14 / 8 / 1 |" in bench.section_body(doc.read_text(), "curtois")


@pytest.mark.parametrize(
    "args, option",
    [
        (["--instances", "0"], "--instances"),
        (["--instances", "3-1"], "--instances"),
        (["--instances", "1-x"], "--instances"),
        (["--instances", ""], "--instances"),
        (["--instances", "25"], "--instances"),
        (["--time-limit", "0"], "--time-limit"),
        (["--time-limit", "soon"], "--time-limit"),
    ],
)
def test_cli_bench_curtois_bad_values(tmp_path, args, option):
    result = runner.invoke(app, ["bench", "curtois", *args, "--doc", str(tmp_path / "B.md")])
    assert result.exit_code == 2
    assert option in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "B.md").exists()


def test_cli_bench_curtois_bad_paths(tmp_path):
    file = tmp_path / "file"
    file.write_text("x")
    result = runner.invoke(app, ["bench", "curtois", "--instances", "1", "--out", str(file)])
    assert result.exit_code == 2 and "--out" in result.output
    result = runner.invoke(app, ["bench", "curtois", "--instances", "1", "--data", str(tmp_path)])
    assert result.exit_code == 2 and "--data" in result.output and "Instance1.txt" in result.output


def test_bench_main_bad_values(capsys):
    for argv, fragment in (
        (["--only", "speed"], "unknown benchmark 'speed'"),
        (["--instances", "3-1"], "backwards"),
        (["--time-limit", "-1"], "must be positive"),
    ):
        with pytest.raises(SystemExit) as exc:
            bench.main(argv)
        assert exc.value.code == 2
        assert fragment in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------
# The other benchmarks, tiny


def test_resolve_section_is_written_from_the_resolve_benchmark(tmp_path, monkeypatch):
    from benchmarks import replan

    doc = tmp_path / "B.md"
    calls = []

    def run(fast: bool = False) -> str:
        calls.append(fast)
        return "### Re-solve figures\n\n| a | b |"

    monkeypatch.setattr(replan, "run", run)
    bench.run_resolve(True, doc, "cmd", echo=lambda line: None)
    assert calls == [True]
    body = bench.section_body(doc.read_text(), "resolve")
    assert body.splitlines()[-1] == "| a | b |" and "### Re-solve figures" in body

def test_tiny_scenario_and_checker_runs(tmp_path):
    lines: list[str] = []
    doc = tmp_path / "B.md"
    results = bench.run_scenarios([(12, 7)], doc, "cmd", echo=lines.append, time_limit=2)
    r = results[0]
    assert r.shifts > 0 and r.variables and r.constraints
    assert [c.seconds for c in r.checkpoints] == list(bench.CHECKPOINTS)
    assert len(lines) == 1 and "12 x  7d" in lines[0]
    text = bench.section_body(doc.read_text(), "scenarios")
    assert "| 12 x 7d |" in text and "Not measured in this run" in text

    checks = bench.run_checker([(12, 7)], doc, "cmd", echo=lines.append)
    assert set(checks[0].timings) == {key for key, _ in bench.CHECKER_STEPS}
    assert checks[0].violations == 0  # the greedy schedule is valid
    assert "`solver.validate.validate`" in bench.section_body(doc.read_text(), "checker")


def _scenario(first: float | None, gap: float | None) -> bench.ScenarioResult:
    return bench.ScenarioResult(200, 28, first_feasible=first, gap=gap, compile_seconds=0.2, wall_seconds=60)


@pytest.mark.parametrize(
    "first, gap, verdict",
    [
        (1.0, 0.005, "**met**"),
        (6.0, 0.005, "**not met**"),
        (1.0, 0.02, "**not met**"),
        (None, None, "**not met**"),
    ],
)
def test_target_verdict(first, gap, verdict):
    text = bench.target_verdict([_scenario(first, gap)])
    assert text.endswith(f"Target {verdict} at this commit.")


def test_the_gap_to_the_relaxation_computed_after_the_run_counts():
    r = bench.ScenarioResult(200, 28, first_feasible=1.0, gap=1.0, bound=0, objective=100_000,
                             compile_seconds=0.2, wall_seconds=60)
    assert r.relaxation_gap is None
    r.relaxation_bound, r.relaxation_seconds = 99_500, 80.0
    assert r.relaxation_gap == pytest.approx(0.005)
    text = bench.target_verdict([r])
    assert "0.50% to the relaxation's bound (99,500, computed after the run in 80 s)" in text
    assert text.endswith("Target **met** at this commit.")
    r.relaxation_bound = 50_000
    assert bench.target_verdict([r]).endswith("Target **not met** at this commit.")


def test_rota_bench_needs_a_source_checkout(tmp_path, monkeypatch):
    from scheduler.cli import bench as cli_bench

    assert cli_bench.load_bench_app() is not None  # this checkout has benchmarks/
    monkeypatch.setattr(cli_bench, "CHECKOUT", tmp_path)  # an installed wheel has none beside it
    assert cli_bench.load_bench_app() is None


def test_the_horizon_forecast_is_the_schedules_week_by_week_view():
    """The benchmark's weekly rows come from the schedule file's ``weeks`` (scheduler.domain.forecast,
    tested in tests/scheduler/domain/test_forecast.py): short places, busiest and mean hours, at cap."""
    from benchmarks.horizon import forecast
    from scheduler.domain.compile import compile_scenario
    from scheduler.domain.generate import generate
    from scheduler.domain.report import build_schedule
    from solver.greedy import greedy
    from solver.problem import Solution, Status
    from solver.validate import expected_shortfalls

    compiled = compile_scenario(generate(30, 14, 1))
    pairs = greedy(compiled.problem)[::2]  # half the greedy schedule: some places short
    solution = Solution(Status.FEASIBLE, assignments=tuple(pairs),
                        uncovered=tuple(expected_shortfalls(compiled.problem, pairs)))
    weeks = forecast(compiled, solution)
    schedule = build_schedule(compiled, solution)
    assert [w["week"] for w in weeks] == [1, 2]
    short = [sum(u.missing + sum(u.missing_skills.values()) for u in schedule.uncovered
                 if (u.date - schedule.start).days // 7 == i) for i in range(2)]
    assert [w["short"] for w in weeks] == short and sum(short) > 0
    busiest = [max(v.weekly_hours[i] for v in schedule.volunteers) for i in range(2)]
    assert [w["busiest"] for w in weeks] == busiest
    assert [w["at_cap"] for w in weeks] == [len(x.at_cap) for x in schedule.weeks]


def test_curtois_method_names_the_people_one_by_one_start():
    stats = {"method": "large neighbourhood search", "neighbourhoods": 3, "improving_neighbourhoods": 1}
    assert bench._method(stats) == "LNS (3 hoods, 1 better)"
    assert bench._method({**stats, "first_schedule": "people one by one"}) == (
        "LNS (people one by one, 3 hoods, 1 better)"
    )
