"""benchmarks.swap_checks stays runnable: on a tiny generated site every way of checking agrees."""

from __future__ import annotations

from benchmarks import swap_checks


def test_the_swap_benchmarks_agree_on_a_tiny_site():
    checks = swap_checks.bench(30, 7, 2)
    assert checks["agreed"] == checks["repeats"] == 2
    candidates = swap_checks.bench_candidates(30, 7, 2)
    assert candidates["agreed"] == candidates["repeats"] == 4
    approval = swap_checks.bench_approval(30, 7, 1)
    assert set(approval["s"]) == {"slice check (request, large site)", "slice + whole site (worker)"}
