"""`make bench`'s report (issue 5): the growth target compares each GET scenario's p50 at the largest store with
the smallest, next to how full the pages were at each size."""

from __future__ import annotations

from typing import Any

from lrs.bench.report import growth, growth_markdown, markdown, median_report, roof_shares, shares_markdown


def _row(scenario: str, p50: float, page: float | None = None) -> dict[str, Any]:
    row = {"scenario": scenario, "unit": "requests/s", "per_second": 16_000 / p50, "p50_ms": p50, "p99_ms": 2 * p50}
    return row | ({"mean_page": page} if page is not None else {})


def _report(*sizes: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    entry = {"import": {}, "rss_start_mb": 1.0, "rss_end_mb": 1.0, "store_mb": 1.0}
    return {"sizes": {size: entry | {"rows": rows} for size, rows in sizes}}


def test_growth_pairs_each_get_scenario_across_the_smallest_and_largest_store() -> None:
    report = _report(
        ("100000", [_row("GET a", 10.0, 40.0), _row("paging", 2.0)]),
        ("1000000", [_row("GET a", 16.0, 60.0), _row("paging", 3.0), _row("POST", 100.0)]),
    )
    (row,) = growth(report)  # scenarios without a page count (paging, POST) are not GETs of a page
    assert row["scenario"] == "GET a"
    assert row["growth"] == 1.6
    assert row["mean_page"] == (40.0, 60.0)
    table = growth_markdown(report)
    assert "| GET a | 10.0 | 16.0 | 1.60x | 40.0 -> 60.0 |" in table
    assert "| GET a |" in markdown(report)


def test_one_store_size_has_no_growth() -> None:
    report = _report(("100000", [_row("GET a", 10.0, 40.0)]))
    assert growth(report) == []
    assert growth_markdown(report) == ""


def test_several_runs_report_the_median_of_each_figure() -> None:
    runs = [
        _report(("100000", [_row("GET a", p50, page)]), ("1000000", [_row("GET a", 1.5 * p50, page + 20)]))
        for p50, page in ((10.0, 40.0), (14.0, 40.0), (12.0, 40.0))
    ]
    for i, run in enumerate(runs):
        run["roof"] = {"scenario": "roof", "unit": "statements/s", "per_second": [9.0, 3.0, 5.0][i]}
    merged = median_report(runs)
    (row,) = merged["sizes"]["100000"]["rows"]
    assert row["scenario"] == "GET a" and row["p50_ms"] == 12.0 and row["mean_page"] == 40.0
    assert merged["sizes"]["1000000"]["rows"][0]["p50_ms"] == 18.0
    assert merged["roof"]["per_second"] == 5.0 and merged["roof"]["unit"] == "statements/s"
    assert "| GET a | 12.0 | 18.0 | 1.50x | 40.0 -> 60.0 |" in growth_markdown(merged)


def test_rows_are_matched_by_scenario_whatever_their_order() -> None:
    a = _report(("100000", [_row("GET a", 10.0, 40.0), _row("GET b", 20.0, 50.0)]))
    b = _report(("100000", [_row("GET b", 30.0, 50.0), _row("GET a", 12.0, 40.0)]))
    rows = median_report([a, b])["sizes"]["100000"]["rows"]
    assert [(r["scenario"], r["p50_ms"]) for r in rows] == [("GET a", 11.0), ("GET b", 25.0)]


def test_the_roof_rows_follow_the_table_and_each_lrs_rate_is_given_as_a_share_of_its_roof() -> None:
    report = _report(
        ("100000", [_row("GET a", 10.0, 40.0)]),
        ("1000000", [_row("GET a", 16.0, 60.0), _row("POST b", 20.0)]),
    )
    report["roof_gets"] = [_row("roof: GET a", 8.0, 60.0) | {"bounds": "GET a"}]
    report["roof"] = _row("roof: POST b, COPY only", 10.0) | {"bounds": "POST b"}
    table = markdown(report).splitlines()
    assert table[-2].startswith("| roof: GET a | requests/s |  | 2,000 (8.0 / 16.0) |")
    assert table[-1].startswith("| roof: POST b, COPY only |")
    assert roof_shares(report) == [("GET a", 1_000.0, 2_000.0), ("POST b", 800.0, 1_600.0)]
    assert "| GET a | 1,000 | 2,000 | 50% |" in shares_markdown(report)
    assert "| POST b | 800 | 1,600 | 50% |" in shares_markdown(report)


def test_runs_from_before_the_roof_bounded_a_scenario_have_no_shares() -> None:
    report = _report(("1000000", [_row("POST b", 20.0)]))
    report["roof"] = _row("roof: POST b, COPY only", 10.0)  # no "bounds": written before the GET roofs
    assert roof_shares(report) == []
    assert shares_markdown(report) == ""
    assert "| roof: POST b, COPY only |" in markdown(report)


def test_the_floor_of_a_write_closes_the_table() -> None:
    report = _report(("1000000", [_row("POST b", 20.0)]))
    report["floor"] = {"statements": 20_000, "statement_us": 19.6, "keys_us": 88.2, "keys_per_statement": 9.66}
    lines = markdown(report).splitlines()
    assert lines[-3] == (
        "| floor: insert copies of stored statements, their rows and indexes "
        "| µs of PostgreSQL CPU per statement | 20 |"
    )
    assert lines[-2].startswith("| floor: insert their filter-key rows (9.7 per statement) and indexes |")
    assert lines[-1].endswith("| 108 |")


def test_the_servers_memory_is_shown_after_each_scenario_in_turn() -> None:
    rows = [_row("GET a", 10.0) | {"rss_after_mb": 300.4}, _row("POST b", 20.0) | {"rss_after_mb": 311.6}]
    report = _report(("1000000", rows))
    assert "| server RSS start -> (after each scenario) -> end | MiB | 1 -> (300, 312) -> 1 |" in markdown(report)
    # runs written before the RSS was recorded per scenario show start and end only
    assert "| MiB | 1 -> 1 |" in markdown(_report(("1000000", [_row("GET a", 10.0)])))


def test_several_runs_merge_their_roofs_floors_and_memory() -> None:
    runs = []
    for rate, floor, rss in ((900.0, 110.0, 300.0), (1_000.0, 130.0, 320.0), (1_100.0, 120.0, 310.0)):
        run = _report(("1000000", [_row("GET a", 10.0) | {"rss_after_mb": rss}]))
        run["roof_gets"] = [{**_row("roof: GET a", 16_000 / rate), "bounds": "GET a"}]
        run["floor"] = {"statements": 20_000, "statement_us": 16.0, "keys_us": floor, "keys_per_statement": 9.8}
        runs.append(run)
    merged = median_report(runs)
    assert merged["roof_gets"][0]["per_second"] == 1_000.0
    assert merged["floor"]["keys_us"] == 120.0
    assert merged["sizes"]["1000000"]["rows"][0]["rss_after_mb"] == 310.0
    assert roof_shares(merged) == [("GET a", 1_600.0, 1_000.0)]
    report = _report(("1000000", [_row("GET a", 10.0) | {"rss_after_mb": None}]))
    assert "| 1 -> (?) -> 1 |" in markdown(report)  # a process that could not be read
