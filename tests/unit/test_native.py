"""The statement path compiled by mypyc (setup.py, ADR 0010) answers exactly as its Python source does: the same
prepared statements for valid input and the same error, message included, for invalid input (D §2.2-2.6)."""

from __future__ import annotations

import copy
import itertools
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lrs.generator import Generator
from lrs.native import NATIVE, compiled, source

pytestmark = pytest.mark.skipif(not compiled(), reason="the statement path is installed as Python (LRS_PURE_PYTHON)")

AUTHORITY = {"objectType": "Agent", "account": {"homePage": "https://lrs.invalid", "name": "native"}}
ODD_VALUES: list[Any] = [None, True, 0, -1, 1.5, 2**40, "", "x", "mailto:", [], [1], {}, {"a": 1}]


def _corpus(seed: int = 11, n: int = 120) -> list[Any]:
    """Valid statements from the generator and each with one value replaced by another type, or a key removed or
    added: the invalid input a typed compiled module could take differently from Python (a TypeError, say)."""
    rng = random.Random(seed)
    out: list[Any] = []
    for stmt in itertools.islice(Generator(seed=seed), n):
        out.append(stmt)
        for _ in range(6):
            bad = copy.deepcopy(stmt)
            node: Any = bad
            while True:  # walk down to a random container
                keys = list(node) if isinstance(node, dict) else list(range(len(node)))
                if not keys:
                    break
                k = rng.choice(keys)
                child = node[k]
                if isinstance(child, (dict, list)) and child and rng.random() < 0.7:
                    node = child
                    continue
                action = rng.random()
                if action < 0.7:
                    node[k] = rng.choice(ODD_VALUES)
                elif isinstance(node, dict) and action < 0.85:
                    del node[k]
                elif isinstance(node, dict):
                    node["unexpected"] = rng.choice(ODD_VALUES)
                break
            out.append(bad)
    out += ODD_VALUES
    return out


def outcomes(corpus: list[Any]) -> list[Any]:
    """For each input and version: the prepared statement's stored parts, or the error and its message."""
    from lrs.xapi.prepare import prepare
    from lrs.xapi.validate import validate_batch
    from lrs.xapi.version import Version

    out: list[Any] = []
    for version in Version:
        for item in corpus:
            try:
                stmts = validate_batch([copy.deepcopy(item)], version)
                p = prepare(stmts[0], version, AUTHORITY)
                head = p.head.decode() if "id" in item else None  # a statement without id gets a random one
                out.append(["ok", head, sorted(p.keys.items()), p.definitions, p.ref_target, p.is_voiding])
            except Exception as exc:
                out.append(["error", type(exc).__name__, str(exc)])
    return out


# Run in a child process with an import hook that loads NATIVE from the .py files beside the compiled modules.
_PURE = """
import importlib.util, json, sys
from importlib.abc import MetaPathFinder
from pathlib import Path
SOURCES = dict(json.loads(sys.argv[1]))
class Source(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_file_location(name, SOURCES[name]) if name in SOURCES else None
sys.meta_path.insert(0, Source())
from tests.unit.test_native import _corpus, outcomes, compiled
assert compiled() == [], compiled()
print(json.dumps(outcomes(_corpus())))
"""


def test_compiled_and_source_agree() -> None:
    sources = [(name, str(source(name))) for name in NATIVE]
    root = Path(__file__).parents[2]
    pure = subprocess.run(
        [sys.executable, "-c", _PURE, json.dumps(sources)], cwd=root, capture_output=True, text=True, check=True
    )
    expected = json.loads(pure.stdout)
    got = json.loads(json.dumps(outcomes(_corpus())))
    assert len(got) == len(expected)
    errors = sum(1 for o in got if o[0] == "error")
    assert 0.3 * len(got) < errors < 0.95 * len(got)  # the corpus exercises both outcomes
    for i, (a, b) in enumerate(zip(got, expected, strict=True)):
        assert a == b, f"input {i}: compiled {a!r} != Python {b!r}"
