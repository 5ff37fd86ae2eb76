"""Replay every config-driven statement case of the ADL LRS conformance suite against the validator.

The cases (statement + the status the suite expects, 200 or 400) are built at test time from a local checkout of
the suite named by LRS_CONFORMANCE_SUITE (its test/v1_0_3/configs/*.js and test/v2_0/configs/*.js) by
conformance/dump_cases.js; nothing of the suite is kept in this repository, so without a checkout these tests
skip. They cover D §2.2-2.4.11 and §4 (1.0.3) and IEEE 9274.1.1 §4.2.2-4.2.4 (2.0, including
contextAgents/contextGroups and the timestamp offset rules). One test per (suite, config file).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from lrs.errors import BadRequest
from lrs.xapi.validate import validate_statement
from lrs.xapi.version import Version

DUMP = Path(__file__).resolve().parents[2] / "conformance" / "dump_cases.js"
SUITE_DIR = os.environ.get("LRS_CONFORMANCE_SUITE")
SUITES = {"v1_0_3": Version.V1, "v2_0": Version.V2}


def _load() -> dict[tuple[str, str], list[dict[str, Any]]]:
    by_file: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    if not SUITE_DIR or shutil.which("node") is None:
        return by_file
    for suite in SUITES:
        out = subprocess.run(
            ["node", str(DUMP), suite], cwd=SUITE_DIR, capture_output=True, check=True, timeout=120
        ).stdout
        for case in json.loads(out):
            by_file[(suite, case["file"])].append(case)
    return by_file


_BY_FILE = _load()


pytestmark = pytest.mark.skipif(not _BY_FILE, reason="set LRS_CONFORMANCE_SUITE to a suite checkout to replay it")


def test_case_files_are_complete() -> None:
    """Both suites' config-driven cases are present (950 for 1.0.3, 972 for 2.0 incl. contextAgents/Groups)."""
    counts = {s: sum(len(v) for (suite, _), v in _BY_FILE.items() if suite == s) for s in SUITES}
    assert counts == {"v1_0_3": 950, "v2_0": 972}
    assert ("v2_0", "contextagents.js") in _BY_FILE
    assert ("v1_0_3", "contextagents.js") not in _BY_FILE


@pytest.mark.parametrize(("suite", "file"), sorted(_BY_FILE) or [("none", "none")])
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
