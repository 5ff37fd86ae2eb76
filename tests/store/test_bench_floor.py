"""The floor of a write (lrs.bench.floor, issue 5) inserts copies of stored statements and their filter-key rows,
measures them, and leaves the store as it was."""

from __future__ import annotations

import itertools
import time

import asyncpg
import pytest

from lrs.bench.floor import write_floor
from lrs.generator import Generator
from tests.conftest import XAPI


def _clock(backend: int) -> float:
    """Wall time stands in for the backend's CPU: the test server may be remote."""
    assert backend > 0
    return time.perf_counter()


async def _counts(db: asyncpg.Connection) -> tuple[int, int, int]:
    return (
        int(await db.fetchval("SELECT count(*) FROM statement")),
        int(await db.fetchval("SELECT count(*) FROM statement_key")),
        int(await db.fetchval("SELECT coalesce(max(seq), 0) FROM statement")),
    )


async def test_the_floor_copies_stored_statements_and_rolls_them_back(client2: XAPI, db: asyncpg.Connection) -> None:
    stmts = list(itertools.islice(Generator(seed=41), 120))
    for i in range(0, len(stmts), 40):
        assert (await client2.post("/statements", json=stmts[i : i + 40])).status_code == 200
    before = await _counts(db)
    floor = await write_floor(db, _clock, n=50, runs=2)
    assert await _counts(db) == before
    assert floor["statements"] == 50
    assert floor["statement_us"] > 0 and floor["keys_us"] > 0
    # the copies carry their originals' filter keys: as many per statement as the store holds on average, roughly
    assert 0.5 * before[1] / before[0] < floor["keys_per_statement"] < 2 * before[1] / before[0]
    # and the LRS goes on appending after them, from where it was
    assert (await client2.post("/statements", json=next(iter(Generator(seed=42))))).status_code == 200
    assert (await _counts(db))[2] == before[2] + 1


async def test_a_store_smaller_than_the_copy_lends_all_it_has(client2: XAPI, db: asyncpg.Connection) -> None:
    with pytest.raises(ValueError, match="empty"):
        await write_floor(db, _clock, n=50)
    stmts = list(itertools.islice(Generator(seed=43), 10))
    assert (await client2.post("/statements", json=stmts)).status_code == 200
    before = await _counts(db)
    floor = await write_floor(db, _clock, n=50)
    assert floor["statements"] == 10
    # every window is the whole store: the copies carry exactly its filter-key rows, counted as they were inserted
    assert floor["keys_per_statement"] == before[1] / before[0]
    assert await _counts(db) == before
