"""`python -m lrs.bench.report RESULT.json [RESULT.json ...]`: benchmark results as the Markdown tables of
docs/benchmarks.md; given several runs, each figure is their median."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

import orjson


def cpu(row: dict[str, Any]) -> str:
    """The CPU milliseconds per unit of the server + PostgreSQL, or "" when not measured."""
    return f"{row['server_cpu_ms']:.3g} + {row['db_cpu_ms']:.3g}" if "server_cpu_ms" in row else ""


def _cell(row: dict[str, Any]) -> str:
    """rate (p50 / p99 ms), then the CPU milliseconds per unit in brackets when measured."""
    cell = f"{row['per_second']:,.0f} ({row['p50_ms']:.1f} / {row['p99_ms']:.1f})"
    return f"{cell} [{cpu(row)}]" if "server_cpu_ms" in row else cell


def growth(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each GET scenario's p50 at the largest store against the smallest (issue 5's growth target), with how many
    statements its pages held at each size: the same filter matches more statements in a larger store."""
    sizes = list(report["sizes"])
    if len(sizes) < 2:
        return []
    small, large = (report["sizes"][s]["rows"] for s in (sizes[0], sizes[-1]))
    out = []
    for row in small:
        other = next((r for r in large if r["scenario"] == row["scenario"]), None)
        if other is None or "mean_page" not in row or "mean_page" not in other or not row["p50_ms"]:
            continue
        out.append(
            {
                "scenario": row["scenario"],
                "p50_ms": (row["p50_ms"], other["p50_ms"]),
                "growth": other["p50_ms"] / row["p50_ms"],
                "mean_page": (row["mean_page"], other["mean_page"]),
            }
        )
    return out


def growth_markdown(report: dict[str, Any]) -> str:
    """The growth rows as a Markdown table ("" with fewer than two store sizes)."""
    rows = growth(report)
    if not rows:
        return ""
    sizes = [f"{int(s):,}" for s in report["sizes"]]
    small, large = sizes[0], sizes[-1]
    lines = [
        f"| scenario | p50 ms at {small} | p50 ms at {large} | growth | statements per page at {small} -> {large} |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['scenario']} | {r['p50_ms'][0]:.1f} | {r['p50_ms'][1]:.1f} | {r['growth']:.2f}x "
            f"| {r['mean_page'][0]:.1f} -> {r['mean_page'][1]:.1f} |"
        )
    return "\n".join(lines)


def markdown(report: dict[str, Any]) -> str:
    """One table: every scenario at every store size, then import, memory, store size and the roof."""
    sizes = list(report["sizes"])
    header = (
        "| scenario | unit | "
        + " | ".join(f"{int(s):,} stored: rate (p50 / p99 ms) [CPU ms per unit: server + PostgreSQL]" for s in sizes)
        + " |"
    )
    lines = [header, "|" + "---|" * (2 + len(sizes))]
    names: list[str] = []
    for entry in report["sizes"].values():
        names += [r["scenario"] for r in entry["rows"] if r["scenario"] not in names]
    for name in names:
        cells = []
        unit = ""
        for size in sizes:
            row = next((r for r in report["sizes"][size]["rows"] if r["scenario"] == name), None)
            if row is None:
                cells.append("")
                continue
            unit = row["unit"]
            cells.append(_cell(row))
        lines.append(f"| {name} | {unit} | " + " | ".join(cells) + " |")
    imports = [e["import"] for e in report["sizes"].values()]
    lines.append(
        "| lrs import | statements/s | "
        + " | ".join(f"{i['per_second']:,.0f}" if i.get("statements") else "" for i in imports)
        + " |"
    )
    lines.append(
        "| server RSS start -> (after each scenario) -> end | MiB | "
        + " | ".join(rss_path(e) for e in report["sizes"].values())
        + " |"
    )
    lines.append("| store size | MiB | " + " | ".join(f"{e['store_mb']:,.0f}" for e in report["sizes"].values()) + " |")
    for label, rate in report.get("validation", {}).items():
        lines.append(
            f"| {label} (one process, no HTTP/DB) | statements/s | "
            + " | ".join([f"{rate:,.0f}"] + [""] * (len(sizes) - 1))
            + " |"
        )
    for roof in roofs(report):
        lines.append(
            f"| {roof['scenario']} | {roof['unit']} | " + " | ".join([""] * (len(sizes) - 1) + [_cell(roof)]) + " |"
        )
    for label, value in floor_rows(report):
        lines.append(
            f"| {label} | µs of PostgreSQL CPU per statement | " + " | ".join([""] * (len(sizes) - 1) + [value]) + " |"
        )
    return "\n".join(lines)


def rss_path(entry: dict[str, Any]) -> str:
    """The server's RSS in MiB at the start, after each scenario in turn when recorded, and at the end."""
    after = [_mib(r["rss_after_mb"]) for r in entry["rows"] if "rss_after_mb" in r]
    middle = f" -> ({', '.join(after)})" if after else ""
    return f"{_mib(entry['rss_start_mb'])}{middle} -> {_mib(entry['rss_end_mb'])}"


def _mib(value: float | None) -> str:
    """A MiB figure, or "?" where the process could not be read (NaN, written to JSON as null)."""
    return "?" if value is None or value != value else f"{value:.0f}"


def floor_rows(report: dict[str, Any]) -> list[tuple[str, str]]:
    """The floor of a write (lrs.bench.floor) as labelled figures, if the run measured it."""
    floor = report.get("floor")
    if not floor:
        return []
    keys = f"{floor['keys_per_statement']:.1f}"
    return [
        ("floor: insert copies of stored statements, their rows and indexes", f"{floor['statement_us']:.0f}"),
        (f"floor: insert their filter-key rows ({keys} per statement) and indexes", f"{floor['keys_us']:.0f}"),
        ("floor: both (no xAPI logic, no commit)", f"{floor['statement_us'] + floor['keys_us']:.0f}"),
    ]


def roofs(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The roof's rows (lrs.bench.roof), measured at the largest store: its GETs, then its POSTs."""
    return [*report.get("roof_gets", []), *([report["roof"]] if report.get("roof") else [])]


def roof_shares(report: dict[str, Any]) -> list[tuple[str, float, float]]:
    """Each scenario the roof also ran: the LRS's rate at the largest store and the roof's."""
    sizes = list(report["sizes"])
    if not sizes:
        return []
    rows = {r["scenario"]: r for r in report["sizes"][sizes[-1]]["rows"]}
    out = []
    for roof in roofs(report):
        name = roof.get("bounds")  # absent from runs before the GET roofs
        if isinstance(name, str) and name in rows and roof["per_second"]:
            out.append((name, rows[name]["per_second"], roof["per_second"]))
    return out


def shares_markdown(report: dict[str, Any]) -> str:
    """The LRS's rates as shares of the roof's, a Markdown table ("" when the roof ran none of its scenarios)."""
    shares = roof_shares(report)
    if not shares:
        return ""
    size = f"{int(list(report['sizes'])[-1]):,}"
    lines = [f"| scenario at {size} stored | LRS | roof | LRS / roof |", "|---|---|---|---|"]
    lines += [f"| {name} | {lrs:,.0f} | {roof:,.0f} | {lrs / roof:.0%} |" for name, lrs, roof in shares]
    return "\n".join(lines)


def _median(values: list[Any]) -> Any:
    """The median of numbers, or the first value of anything else (names, units)."""
    if values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return statistics.median(values)
    return values[0]


def _merge(items: list[Any]) -> Any:
    """The items' median, key by key through dicts and position by position through lists of rows (rows are
    matched by their scenario)."""
    first = items[0]
    if isinstance(first, dict):
        return {k: _merge([i[k] for i in items if isinstance(i, dict) and k in i]) for k in first}
    if isinstance(first, list) and all(isinstance(r, dict) and "scenario" in r for r in first):
        merged = []
        for row in first:
            same = [next(r for r in rows if r["scenario"] == row["scenario"]) for rows in items]
            merged.append(_merge(same))
        return merged
    return _median(items)


def median_report(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Several runs of the bench as one report whose every figure is the median of the runs' (issue 5: the targets
    are judged on the median of three runs). Each figure is taken on its own, so a row's rate and its p50 may come
    from different runs."""
    merged: dict[str, Any] = _merge(reports)
    return merged


if __name__ == "__main__":
    loaded = median_report([orjson.loads(Path(arg).read_bytes()) for arg in sys.argv[1:]])
    print(markdown(loaded))
    for extra in (growth_markdown(loaded), shares_markdown(loaded)):
        if extra:
            print()
            print(extra)
