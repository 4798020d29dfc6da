"""The console page benchmark on a small site: every page answers, the section names each page."""

from __future__ import annotations

from benchmarks import bench, pages


def test_bench_pages_small_site_renders_every_page(tmp_path):
    result = pages.bench_pages(20, 7, repeats=2, directory=tmp_path)
    assert [p.path for p in result.pages] == ["/console/today", "/console/rota", "/console/people"]
    assert result.assignments > 0
    for p in result.pages:
        assert len(p.times_ms) == 2 and all(t > 0 for t in p.times_ms)
        assert p.size > 2000  # a real page, not an error stub
    text = pages.section(result, "## Console page render times (issue 10)\n", repeats=2)
    assert "| Today (`/console/today`) |" in text and "People" in text and "Rota grid" in text


def test_pages_is_a_section_of_the_default_run():
    assert "pages" in bench.SECTIONS
    assert bench._parse_only("pages") == ["pages"]
