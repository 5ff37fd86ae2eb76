"""Bad input is a feature (C §3.2): thousands of mutated statements, each answered 2xx or 4xx, never 5xx, and a
rejected batch stores nothing."""

from __future__ import annotations

import itertools
import random
from typing import Any

import asyncpg
import orjson

from lrs.generator import Generator
from tests.conftest import XAPI

ODD_VALUES: list[Any] = [
    None, True, 0, -1, 1e308, 2**63, -(2**63), "", " ", "\u0000", "\ud7ff", "é", "mailto:", "http://", "urn:x",
    "2026-13-45T99:99:99Z", "PT", "P1Y2M", [], {}, [None], {"": ""}, "a" * 5000,
]  # fmt: skip


def mutate(value: Any, rng: random.Random, depth: int = 0) -> Any:
    """A random change somewhere in the statement: drop, replace or add a property, or wrap a value."""
    if isinstance(value, dict) and value and depth < 6:
        key = rng.choice(list(value))
        out = dict(value)
        roll = rng.random()
        if roll < 0.2:
            del out[key]
        elif roll < 0.4:
            out[key] = rng.choice(ODD_VALUES)
        elif roll < 0.5:
            out[rng.choice(["extra", "Id", "objectType", key.upper()])] = rng.choice(ODD_VALUES)
        else:
            out[key] = mutate(value[key], rng, depth + 1)
        return out
    if isinstance(value, list) and value and depth < 6:
        out_list = list(value)
        i = rng.randrange(len(out_list))
        out_list[i] = mutate(out_list[i], rng, depth + 1)
        return out_list
    return rng.choice(ODD_VALUES)


async def test_mutated_statements_never_break_the_server(client: XAPI, db: asyncpg.Connection) -> None:
    rng = random.Random(20261122)
    statuses: dict[int, int] = {}
    stored_before = 0
    for base in itertools.islice(Generator(seed=21), 400):
        batch = [mutate(base, rng)]
        if rng.random() < 0.3:
            batch.insert(0, next(iter(Generator(seed=rng.randrange(10**6)))))  # a valid neighbour
        r = await client.post("/statements", content=orjson.dumps(batch), headers={"Content-Type": "application/json"})
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert r.status_code < 500, (r.status_code, r.text, batch)
        stored = int(await db.fetchval("SELECT count(*) FROM statement"))
        if r.status_code >= 400:
            assert stored == stored_before, "a rejected batch stored something"
            assert r.json()["message"]
        stored_before = stored
    assert statuses.get(400, 0) > 100 and statuses.get(200, 0) > 10, statuses
