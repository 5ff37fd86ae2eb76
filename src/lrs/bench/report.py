"""`python -m lrs.bench.report RESULT.json`: a benchmark result as the Markdown table of docs/benchmarks.md."""

from __future__ import annotations

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
        "| server RSS start -> end | MiB | "
        + " | ".join(f"{e['rss_start_mb']:.0f} -> {e['rss_end_mb']:.0f}" for e in report["sizes"].values())
        + " |"
    )
    lines.append("| store size | MiB | " + " | ".join(f"{e['store_mb']:,.0f}" for e in report["sizes"].values()) + " |")
    for label, rate in report.get("validation", {}).items():
        lines.append(
            f"| {label} (one process, no HTTP/DB) | statements/s | "
            + " | ".join([f"{rate:,.0f}"] + [""] * (len(sizes) - 1))
            + " |"
        )
    roof = report.get("roof")
    if roof:
        lines.append(
            f"| {roof['scenario']} | {roof['unit']} | " + " | ".join([""] * (len(sizes) - 1) + [_cell(roof)]) + " |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(orjson.loads(Path(sys.argv[1]).read_bytes())))
