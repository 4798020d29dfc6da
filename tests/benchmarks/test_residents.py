"""The residents benchmark on a small site: the matching and the rota run, both checkers find nothing,
the section reports the residents at risk."""

from __future__ import annotations

from benchmarks import bench, residents


def test_bench_residents_small_site():
    r = residents.bench_residents(30, 7, 12, time_limit=20, match_limit=3)
    assert r.match_violations == 0 and r.violations == 0
    assert r.status in ("optimal", "feasible")
    assert r.visits > 0 and r.visits_uncovered <= r.visits
    assert 0 <= r.at_risk <= 12
    text = residents.section(r, "## Vulnerable residents\n")
    assert "residents at risk" in text and f"{r.at_risk} of 12" in text


def test_residents_is_a_section_of_the_default_run():
    assert "residents" in bench.SECTIONS and bench._parse_only("residents") == ["residents"]
