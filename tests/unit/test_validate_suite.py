"""Replay every config-driven statement case of the ADL LRS conformance suite against the validator.

The cases (statement + the status the suite expects, 200 or 400) live in cases/suite_<dir>.json.gz, generated from
the suite's test/v1_0_3/configs/*.js and test/v2_0/configs/*.js by cases/dump_suite.js. They cover D §2.2-2.4.11
and §4 (1.0.3) and IEEE 9274.1.1 §4.2.2-4.2.4 (2.0, including contextAgents/contextGroups and the timestamp
offset rules). One test per (suite, config file); a failure lists every case that got the wrong status.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from lrs.errors import BadRequest
from lrs.xapi.validate import validate_statement
from lrs.xapi.version import Version

CASES = Path(__file__).parent / "cases"
SUITES = {"v1_0_3": Version.V1, "v2_0": Version.V2}


def _load() -> dict[tuple[str, str], list[dict[str, Any]]]:
    by_file: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for suite in SUITES:
        with gzip.open(CASES / f"suite_{suite}.json.gz", "rt", encoding="utf-8") as f:
            for case in json.load(f):
                by_file[(suite, case["file"])].append(case)
    return by_file


_BY_FILE = _load()


def test_case_files_are_complete() -> None:
    """Both suites' config-driven cases are present (950 for 1.0.3, 972 for 2.0 incl. contextAgents/Groups)."""
    counts = {s: sum(len(v) for (suite, _), v in _BY_FILE.items() if suite == s) for s in SUITES}
    assert counts == {"v1_0_3": 950, "v2_0": 972}
    assert ("v2_0", "contextagents.js") in _BY_FILE
    assert ("v1_0_3", "contextagents.js") not in _BY_FILE


@pytest.mark.parametrize(("suite", "file"), sorted(_BY_FILE), ids=[f"{s}/{f}" for s, f in sorted(_BY_FILE)])
def test_suite_config(suite: str, file: str) -> None:
    version = SUITES[suite]
    wrong = []
    for case in _BY_FILE[(suite, file)]:
        try:
            validate_statement(case["statement"], version)
            got, why = 200, ""
        except BadRequest as exc:
            got, why = 400, exc.describe()
        if got not in case["expect"]:
            wrong.append(f"{case['name']}: expected {case['expect']}, got {got} {why}")
    assert not wrong, "\n".join(wrong)


def test_suite_rejections_name_a_path() -> None:
    """Every suite rejection comes with a JSON path into the statement and a non-empty message."""
    for (suite, _file), cases in _BY_FILE.items():
        for case in cases:
            if case["expect"] != [400]:
                continue
            with pytest.raises(BadRequest) as info:
                validate_statement(case["statement"], SUITES[suite])
            assert info.value.path is not None and info.value.path.startswith("$"), case["name"]
            assert info.value.message, case["name"]
