"""ADR 0002, parallel appends: writers on their own connections insert at once, yet commit in seq order, share
activities without deadlocks, store a doubly-posted id once, and StatementRefs inherit their targets' keys
whichever writer stores which first (C §2.1.3, D §2.3.1)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from typing import Any

import asyncpg
import orjson
import pytest
from fastapi import FastAPI

from lrs.store.statements import (
    APPEND_SQL,
    HEAD_SQL,
    WRITE_LOCK,
    append_args,
    head_instant,
    insert_statements,
    release_locks,
)
from lrs.xapi.equivalence import equivalent
from lrs.xapi.prepare import prepare
from lrs.xapi.validate import validate_batch
from lrs.xapi.version import Version
from tests.api.helpers import statement

AUTHORITY = {"objectType": "Agent", "account": {"homePage": "https://lrs.invalid/credentials", "name": "t"}}
WRITERS = 6
MARK = 1 << 62  # where the writers' marker keys start (migration 0005)
BATCHES = 12


def same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return equivalent(old, new, Version.V2)


def args() -> list[Any]:
    """The arguments of an `lrs_append` call, the lock key first, storing one new statement."""
    batch = [prepare(s, Version.V2, AUTHORITY) for s in validate_batch([statement()], Version.V2)]
    return [WRITE_LOCK, *append_args(batch, [None])]


async def held_until_commit(opened: Any, later_writer: asyncpg.Connection) -> Any:
    """Start an append on `later_writer`, check that it waits while `opened` (a writer's transaction holding an
    append) is in flight, commit `opened`, and return the later append's row."""
    later = asyncio.create_task(later_writer.fetchrow(APPEND_SQL, *args()))
    await asyncio.sleep(0.5)
    assert not later.done()  # it waits for the writer in flight below it
    await opened.commit()
    return await asyncio.wait_for(later, timeout=10)


def plan() -> tuple[list[list[list[dict[str, Any]]]], list[tuple[str, str]]]:
    """Each writer's batches: shared activities with changing definitions, a StatementRef to a statement another
    writer stores at about the same time, and one statement every writer posts under the same id."""
    ids = [[[str(uuid.uuid4()) for _ in range(3)] for _ in range(BATCHES)] for _ in range(WRITERS)]
    refs: list[tuple[str, str]] = []
    writers = []
    for w in range(WRITERS):
        batches = []
        for b in range(BATCHES):
            act = {"id": f"http://example.com/act/{b % 3}", "definition": {"name": {f"x-w{w}": f"n{b}"}}}
            plain = statement(f"w{w}", activity=act["id"])
            plain.update(id=ids[w][b][0], object={"objectType": "Activity", **act})
            target = ids[(w + 1) % WRITERS][b][0]
            ref = statement(f"r{w}", object={"objectType": "StatementRef", "id": target})
            ref["id"] = ids[w][b][1]
            refs.append((ids[w][b][1], target))
            shared = statement("everyone", activity=f"http://example.com/shared/{b}")
            shared["id"] = str(uuid.UUID(int=b + 1))
            batches.append([plain, ref, shared])
        writers.append(batches)
    return writers, refs


async def test_parallel_writers(app: FastAPI, db: asyncpg.Connection, database_url: str) -> None:
    writers, refs = plan()
    pool = app.state.runtime.pool
    observed: list[tuple[int, int, dt.datetime]] = []
    done = asyncio.Event()

    async def write(batches: list[list[dict[str, Any]]]) -> int:
        stored = 0
        async with pool.acquire() as conn:
            for batch in batches:
                prepared = [prepare(s, Version.V2, AUTHORITY) for s in validate_batch(batch, Version.V2)]
                stored += await insert_statements(conn, prepared, None, same)
        return stored

    async def read() -> None:
        reader = await asyncpg.connect(database_url)
        try:
            while not done.is_set():
                head = await reader.fetchrow(HEAD_SQL)
                bound = int(head["top_seq"])
                n = await reader.fetchval("SELECT count(*) FROM statement WHERE seq <= $1", bound)
                observed.append((bound, int(n), head_instant(head)))
                await asyncio.sleep(0.002)
        finally:
            await reader.close()

    reading = asyncio.create_task(read())
    try:
        stored = await asyncio.gather(*(write(b) for b in writers))
    finally:
        done.set()
        await reading

    assert sum(stored) == WRITERS * BATCHES * 2 + BATCHES  # the shared ids are stored once
    assert await db.fetchval("SELECT count(*) FROM statement") == sum(stored)
    # commits in seq order: what a reader saw up to a bound never grows later, so `more` pages are stable
    assert len(observed) > 5
    for bound, n, through in observed:
        assert await db.fetchval("SELECT count(*) FROM statement WHERE seq <= $1", bound) == n
        # Consistent-Through is honest about the snapshot it came with: nothing stored at or before it was
        # outside that snapshot (ADR 0002)
        assert await db.fetchval("SELECT count(*) FROM statement WHERE stored <= $1 AND seq > $2", through, bound) == 0
    assert any(through > dt.datetime(2000, 1, 1, tzinfo=dt.UTC) for _, _, through in observed)
    # `stored` follows seq
    assert await db.fetchval(
        "SELECT bool_and(ok) FROM (SELECT stored >= lag(stored) OVER (ORDER BY seq) AS ok FROM statement) x"
    )
    # every referrer has its target's keys, whichever was stored first
    missing = await db.fetchval(
        """
        SELECT count(*) FROM unnest($1::uuid[], $2::uuid[]) AS p(referrer, target)
        JOIN statement t ON t.id = p.target JOIN statement_key tk ON tk.seq = t.seq
        JOIN statement r ON r.id = p.referrer
        WHERE NOT EXISTS (SELECT 1 FROM statement_key rk WHERE rk.seq = r.seq AND rk.key = tk.key)
        """,
        [r for r, _ in refs],
        [t for _, t in refs],
    )
    assert missing == 0
    # every writer's language survives the concurrent merges of the shared activities' definitions (ADR 0003)
    names = await db.fetch("SELECT definition->'name' AS name FROM activity WHERE iri LIKE 'http://example.com/act/%'")
    assert len(names) == 3
    for row in names:
        assert {f"x-w{w}" for w in range(WRITERS)} <= set(orjson.loads(row["name"]))


async def test_a_cancelled_append_leaves_no_lock_behind(
    app: FastAPI, db: asyncpg.Connection, database_url: str
) -> None:
    """An append cancelled while it waits for the reservation lock releases what it holds: the next append on the
    same connection, and every other writer, go on."""
    holder = await asyncpg.connect(database_url)
    writer = await asyncpg.connect(database_url)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", WRITE_LOCK)
        await writer.execute("SET statement_timeout = 200")
        batch = [prepare(s, Version.V2, AUTHORITY) for s in validate_batch([statement()], Version.V2)]
        args = append_args(batch, [None])
        try:
            await writer.fetchrow(APPEND_SQL, WRITE_LOCK, *args)
        except asyncpg.QueryCanceledError:
            pass
        else:
            raise AssertionError("the append should have waited for the lock and been cancelled")
        await holder.execute("SELECT pg_advisory_unlock($1)", WRITE_LOCK)
        held = await db.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND objsubid = 1",
            WRITE_LOCK,
        )
        assert held == 0
        row = await writer.fetchrow(APPEND_SQL, WRITE_LOCK, *args)
        assert row["existing"] is None and row["first_seq"] > 0
        async with app.state.runtime.pool.acquire() as conn:
            other = [prepare(s, Version.V2, AUTHORITY) for s in validate_batch([statement()], Version.V2)]
            assert await insert_statements(conn, other, None, same) == 1
    finally:
        await holder.close()
        await writer.close()


async def test_locks_of_other_databases_are_not_writers(
    app: FastAPI, db: asyncpg.Connection, database_url: str
) -> None:
    """Markers are advisory locks, which are per database: a lock with a marker's key held in another database of
    the same server neither holds up appends nor makes the head look busy, even after an aborted append left a
    reserved range that never became visible."""
    other = await asyncpg.connect(database_url, database="postgres")
    writer = await asyncpg.connect(database_url)
    try:
        floor = int(await db.fetchval("SELECT last_value FROM lrs_reserved_seq"))
        await other.execute("SELECT pg_advisory_lock($1)", MARK + floor)
        batch = [prepare(s, Version.V2, AUTHORITY) for s in validate_batch([statement()], Version.V2)]
        async with writer.transaction():
            await writer.fetchrow(APPEND_SQL, WRITE_LOCK, *append_args(batch, [None]))
            await writer.execute("SELECT 1/0")  # abort: the range stays reserved, nothing of it is visible
    except asyncpg.DivisionByZeroError:
        head = await db.fetchrow(HEAD_SQL)
        assert head["idle"] is not None  # no writer of this database is in flight
        async with app.state.runtime.pool.acquire() as conn:
            assert await asyncio.wait_for(insert_statements(conn, batch, None, same), timeout=10) == 1
    else:
        raise AssertionError("the append should have been rolled back")
    finally:
        await other.close()
        await writer.close()


async def test_locks_that_cannot_be_released_go_with_the_session(db: asyncpg.Connection, database_url: str) -> None:
    """ADR 0002: a session-level advisory lock survives a rollback. When the unlock cannot run (here: inside an
    aborted transaction), release_locks ends the session, so the lock cannot hold up every later writer."""
    writer = await asyncpg.connect(database_url)
    try:
        await writer.execute("SELECT pg_advisory_lock($1)", WRITE_LOCK)
        tr = writer.transaction()
        await tr.start()
        with contextlib.suppress(asyncpg.DivisionByZeroError):
            await writer.execute("SELECT 1/0")
        await release_locks(writer)
        assert writer.is_closed()
        for _ in range(100):  # the server notices the closed socket at once, but asynchronously
            if not await db.fetchval("SELECT pg_try_advisory_lock($1)", WRITE_LOCK):
                await asyncio.sleep(0.02)
                continue
            await db.execute("SELECT pg_advisory_unlock($1)", WRITE_LOCK)
            break
        else:
            raise AssertionError("the writer's lock is still held")
    finally:
        await writer.close()


async def test_a_writer_after_a_rolled_back_one_waits_for_the_writers_below_it(
    db: asyncpg.Connection, database_url: str
) -> None:
    """ADR 0002 step 4 (migration 0008): a writer waits for the writer just before it, and when that one rolled
    back, perhaps before its own wait, for every writer below it. lrs_idle_at reasons the same way: a writer in
    flight below a rolled-back range keeps the head busy (C §2.1.3 Consistent-Through)."""

    first, second, third = [await asyncpg.connect(database_url) for _ in range(3)]
    try:
        opened = first.transaction()
        await opened.start()
        low = await first.fetchrow(APPEND_SQL, *args())  # reserved and inserted, not committed: in flight
        assert (await db.fetchrow(HEAD_SQL))["idle"] is None  # the newest range's writer is in flight

        await second.execute("SET statement_timeout = 300")
        with contextlib.suppress(asyncpg.QueryCanceledError):
            # waits for `first`, and is cancelled while it waits: it rolls back without having waited it out
            await second.fetchrow(APPEND_SQL, *args())
            raise AssertionError("the second append should have waited for the first and been cancelled")
        assert (await db.fetchrow(HEAD_SQL))["idle"] is None  # `first` is still in flight below the rolled-back range

        # the writer before it rolled back: it waits for `first`, found in pg_locks
        high = await held_until_commit(opened, third)
        assert high["first_seq"] > low["first_seq"]
        assert await db.fetchval("SELECT count(*) FROM statement") == 2
        assert (await db.fetchrow(HEAD_SQL))["idle"] is not None  # nothing in flight any more
    finally:
        for conn in (first, second, third):
            await conn.close()


@pytest.mark.parametrize("stale", ["behind", "ahead"])
async def test_a_writer_waits_even_when_the_recorded_start_is_not_the_range_below(
    db: asyncpg.Connection, database_url: str, stale: str
) -> None:
    """ADR 0002 step 4 (migration 0008): the recorded start of the last range can be wrong. "behind": a writer of the
    function body before 0008, in flight at the upgrade, reserved without recording its start. "ahead": a
    reservation was cancelled between recording its start and its end. Either way the next writer still waits for
    the writer in flight below it, and the head stays busy meanwhile (C §2.1.3 Consistent-Through)."""

    before = await db.fetchrow(APPEND_SQL, *args())  # committed: the range below the one in flight
    flight, later_writer = [await asyncpg.connect(database_url) for _ in range(2)]
    try:
        opened = flight.transaction()
        await opened.start()
        low = await flight.fetchrow(APPEND_SQL, *args())  # in flight
        start = before["first_seq"] if stale == "behind" else low["first_seq"] + 1
        await db.execute("SELECT setval('lrs_reserved_start', $1)", start)
        assert (await db.fetchrow(HEAD_SQL))["idle"] is None

        high = await held_until_commit(opened, later_writer)
        assert high["first_seq"] > low["first_seq"]
        assert (await db.fetchrow(HEAD_SQL))["idle"] is not None
    finally:
        for conn in (flight, later_writer):
            await conn.close()
