"""The statement generator (issue: benchmarks): valid for both versions, reproducible, realistic in shape."""

from __future__ import annotations

import collections
import itertools

import orjson

from lrs.generator import Generator
from lrs.xapi.validate import validate_statement
from lrs.xapi.version import Version


def test_every_statement_is_valid_in_both_versions() -> None:
    """D §2.2-2.6 / 2.0 §4.2: what the bench sends is what a conformant client sends."""
    for stmt in itertools.islice(Generator(seed=3), 2000):
        validate_statement(stmt, Version.V1)
        validate_statement(stmt, Version.V2)


def test_same_seed_same_statements_other_seed_others() -> None:
    a = [orjson.dumps(s) for s in itertools.islice(Generator(seed=5), 50)]
    b = [orjson.dumps(s) for s in itertools.islice(Generator(seed=5), 50)]
    c = [orjson.dumps(s) for s in itertools.islice(Generator(seed=6), 50)]
    assert a == b
    assert a != c


def test_mix_is_realistic() -> None:
    """Skewed actors, every IFI kind, Groups, SubStatements, StatementRefs, voiding, 1-3 KB bodies."""
    stmts = list(itertools.islice(Generator(seed=1), 5000))
    actors = collections.Counter(orjson.dumps(s["actor"]) for s in stmts)
    top = sum(n for _, n in actors.most_common(10))
    assert top > len(stmts) * 0.15  # a few actors own a large share
    ifis = {k for s in stmts for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in s["actor"]}
    assert ifis == {"mbox", "mbox_sha1sum", "openid", "account"}
    kinds = collections.Counter(s["object"].get("objectType", "Activity") for s in stmts)
    assert kinds["SubStatement"] and kinds["StatementRef"] and kinds["Activity"] > 4000
    assert any(s["actor"].get("objectType") == "Group" for s in stmts)
    assert any(s["verb"]["id"].endswith("/voided") for s in stmts)
    types = {s["object"]["definition"].get("interactionType") for s in stmts if "definition" in s["object"]}
    assert {"choice", "matching", "performance", "sequencing", "likert", "numeric", "true-false"} <= types
    sizes = sorted(len(orjson.dumps(s)) for s in stmts)
    assert 1000 <= sizes[len(sizes) // 2] <= 3000


def test_an_activity_keeps_its_definition_until_revised() -> None:
    """As from a course package: the statements carrying an activity carry one definition, except after one of the
    activity's rare revisions (REVISE), which the LRS then takes as the canonical one (D §2.4.4.1)."""
    stmts = list(itertools.islice(Generator(seed=3), 20000))
    by_iri: dict[str, list[bytes]] = collections.defaultdict(list)
    for s in stmts:
        obj = s["object"]
        if obj.get("objectType", "Activity") == "Activity" and "definition" in obj:
            by_iri[obj["id"]].append(orjson.dumps(obj["definition"]))
    carried = sum(len(defs) for defs in by_iri.values())
    changes = sum(sum(1 for a, b in itertools.pairwise(defs) if a != b) for defs in by_iri.values())
    assert carried > 15000
    assert 0 < changes < carried * 0.01  # revised now and then, the same otherwise
