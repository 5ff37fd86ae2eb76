#!/usr/bin/env python3
"""Summarise a run of ADL's lrs-conformance-test-suite.

The suite's console runner (bin/console_runner.js) writes one JSON file per run
to ``<suite>/logs/<uuid>.log`` and prints ``Full run log written to <path>``.
That file is a tree mirroring mocha's describe/it nesting::

    {"state": "finished" | "cancelled" | "error",
     "summary": {"total": N, "passed": N, "failed": N, "version": "1.0.3"},
     "log": {"title": "", "status": "failed", "error": ..., "log": "<http dump>",
             "tests": [ {"title": "Statement Resource Requirements (Communication 2.1)",
                         "tests": [ {"title": "<requirement> (Communication 2.1.1.s1, XAPI-00143)",
                                     "tests": [ {"title": "should ...", "status": "passed"|"failed",
                                                 "error": "Error: ...\\nat (...)", "tests": []} ]} ]} ]}}

A node is a *failure* when its own ``error`` is set (a failing ``it`` or a
failing hook reported on its suite); suites whose status merely rolls up from
children carry no ``error``. Leaf nodes with status ``passed`` are passes.

Usage::

    summarize.py RESULT [--json PATH|-] [--max-error-lines N]

RESULT is the JSON log file, a directory holding such logs (the newest is used),
or a capture of the console runner's stdout (the "Full run log written to"
line is followed). The last line printed is exactly ``N passed, M failed``.
Exit status: 0 if M == 0, 1 if M > 0, 2 if no result could be read.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

LOG_LINE_RE = re.compile(r"Full run log written to (\S.*?)\s*$", re.MULTILINE)
REQ_ID_RE = re.compile(r"XAPI-\d{5}(?:-\d+)?")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class TestResult:
    section: str
    requirement: str
    path: list[str]
    title: str
    status: str
    error: str | None = None
    requirement_ids: list[str] = field(default_factory=list)
    is_hook_failure: bool = False

    @property
    def error_first_line(self) -> str:
        if not self.error:
            return ""
        for line in self.error.splitlines():
            if line.strip():
                return line.strip()
        return ""


def find_log(source: Path) -> Path:
    """Resolve RESULT (file, directory or console capture) to the JSON log path."""
    if source.is_dir():
        logs = sorted(
            (p for p in source.iterdir() if p.suffix == ".log" and p.is_file()),
            key=lambda p: p.stat().st_mtime,
        )
        if not logs:
            raise FileNotFoundError(f"no *.log files in {source}")
        return logs[-1]
    text = source.read_text(encoding="utf-8", errors="replace")
    if text.lstrip().startswith("{"):
        return source
    matches = LOG_LINE_RE.findall(ANSI_RE.sub("", text))
    if not matches:
        raise FileNotFoundError(
            f"{source} is neither a JSON result log nor a console capture "
            "containing 'Full run log written to ...' (did the suite crash?)"
        )
    return Path(matches[-1])


def walk(data: dict[str, Any]) -> list[TestResult]:
    results: list[TestResult] = []

    def visit(node: dict[str, Any], ancestors: list[str]) -> None:
        title = node.get("title") or ""
        children = node.get("tests") or []
        depth = len(ancestors)  # 0 = mocha root suite ("")
        path = [*ancestors[1:], title] if depth else []
        section = path[0] if path else "(root suite)"
        requirement = path[1] if len(path) > 1 else ""
        status = node.get("status") or ""
        error = node.get("error")
        if error:
            # A failure reported on this node itself: a failing test or hook.
            results.append(
                TestResult(
                    section=section,
                    requirement=requirement,
                    path=path,
                    title=title or "(root suite: global before/after hook, e.g. the time-margin setup)",
                    status="failed",
                    error=ANSI_RE.sub("", str(error)),
                    requirement_ids=sorted(set(REQ_ID_RE.findall(" ".join(path)))),
                    # Failing hooks are recorded on their suite: a node with children,
                    # or any failure above requirement level. A requirement-level node
                    # without children may be either a test or a suite whose before hook failed.
                    is_hook_failure=bool(children) or depth <= 1,
                )
            )
        elif not children and depth > 0 and status in ("passed", "failed", "cancelled", ""):
            # A leaf test (rolled-up empty suites never reach the log).
            results.append(
                TestResult(
                    section=section,
                    requirement=requirement,
                    path=path,
                    title=title,
                    status=status or "unknown",
                    requirement_ids=sorted(set(REQ_ID_RE.findall(" ".join(path)))),
                )
            )
        for child in children:
            if isinstance(child, dict):
                visit(child, [*ancestors, title])

    root = data.get("log")
    if isinstance(root, dict):
        visit(root, [])
    return results


def build_report(data: dict[str, Any], log_path: Path) -> dict[str, Any]:
    results = walk(data)
    failures = [r for r in results if r.status == "failed"]
    passes = [r for r in results if r.status == "passed"]
    other = [r for r in results if r.status not in ("passed", "failed")]
    suite_summary = data.get("summary") or {}
    state = data.get("state")
    total = suite_summary.get("total")
    passed = len(passes)
    # An errors-only log (-z) drops passed tests; fall back to the suite's count.
    if passed == 0 and (suite_summary.get("passed") or 0) > 0:
        passed = suite_summary["passed"]

    notes: list[str] = []
    if state != "finished":
        failures.append(
            TestResult(
                section="(suite runner)",
                requirement="",
                path=[],
                title=f"run did not finish: state={state!r}",
                status="failed",
                error=("The suite ended early (child process crashed or was cancelled); results are incomplete."),
            )
        )
    leaf_failures = sum(1 for f in failures if not f.is_hook_failure)
    if isinstance(total, int):
        not_run = total - passed - leaf_failures - len(other)
        if not_run > 0:
            notes.append(
                f"{not_run} of {total} selected tests did not run "
                "(skipped after a failing before/beforeEach hook, or the run stopped early)"
            )
    if suite_summary.get("failed") not in (None, len([f for f in failures if f.section != "(suite runner)"])):
        notes.append(
            f"suite's own counter says {suite_summary.get('passed')} passed, "
            f"{suite_summary.get('failed')} failed (it counts repeated failures of one test separately)"
        )
    return {
        "log_file": str(log_path),
        "xapi_version": suite_summary.get("version"),
        "state": state,
        "duration_ms": data.get("duration"),
        "grep": (data.get("flags") or {}).get("grep"),
        "suite_summary": suite_summary,
        "total_selected": total,
        "passed": passed,
        "failed": len(failures),
        "notes": notes,
        "failures": [asdict(f) | {"error_first_line": f.error_first_line} for f in failures],
        "tests": [asdict(r) | {"error_first_line": r.error_first_line} for r in results],
    }


def format_text(report: dict[str, Any], max_error_lines: int = 1) -> str:
    out: list[str] = []
    out.append(
        f"Results: {report['log_file']} (xAPI {report['xapi_version']}, state={report['state']}"
        + (f", grep={report['grep']!r}" if report.get("grep") else "")
        + (f", {report['duration_ms'] / 1000:.0f}s" if report.get("duration_ms") else "")
        + ")"
    )
    failures = report["failures"]
    if failures:
        out.append("")
        out.append("FAILURES by section / requirement:")
        sections: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for f in failures:
            sections.setdefault(f["section"], {}).setdefault(f["requirement"], []).append(f)
        for section, reqs in sections.items():
            n = sum(len(v) for v in reqs.values())
            out.append("")
            out.append(f"== {section}  [{n} failed]")
            for requirement, items in reqs.items():
                indent = "  "
                if requirement:
                    out.append(f"  -- {requirement}")
                    indent = "     "
                for f in items:
                    sub = f["path"][2:] if requirement else f["path"][1:]
                    if not f["path"]:
                        label = f["title"]
                    elif not sub:
                        label = "(failed at this level: its test, or a before/after hook)"
                    else:
                        label = " > ".join(sub) + ("  (hook)" if f["is_hook_failure"] else "")
                    out.append(f"{indent}x {label}")
                    err_lines = [line.strip() for line in (f["error"] or "").splitlines() if line.strip()]
                    for line in err_lines[: max(1, max_error_lines)]:
                        out.append(f"{indent}    {line[:300]}")
        out.append("")
    for note in report["notes"]:
        out.append(f"note: {note}")
    out.append(f"{report['passed']} passed, {report['failed']} failed")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("result", type=Path, help="JSON log file, logs directory, or console-runner stdout capture")
    ap.add_argument(
        "--json",
        metavar="PATH",
        help="also write machine-readable results to PATH ('-' = stdout; text then goes to stderr)",
    )
    ap.add_argument("--max-error-lines", type=int, default=1, help="error lines to show per failure (default 1)")
    args = ap.parse_args(argv)

    text_stream = sys.stderr if args.json == "-" else sys.stdout
    try:
        log_path = find_log(args.result)
        data = json.loads(log_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"summarize: cannot read suite results: {exc}", file=sys.stderr)
        return 2

    report = build_report(data, log_path)
    if args.json:
        payload = json.dumps(report, indent=2)
        if args.json == "-":
            print(payload)
        else:
            Path(args.json).write_text(payload + "\n", encoding="utf-8")
    print(format_text(report, args.max_error_lines), file=text_stream)
    return 0 if report["failed"] == 0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        os._exit(1)
