"""The migrations go down to an empty database and up again, on a scratch database of the test server; 0006 swaps
the order of the clock and the range in `lrs_append`'s reservation and back, 0008 adds and removes the wait for
the writer before (ADR 0002)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import asyncpg
import pytest
from alembic import command

from lrs.store.engine import alembic_config, migrate, named_database

APPEND = (
    "lrs_append(bigint, uuid[], bigint[], bool[], text[], bool[], int[], uuid[], bool[], int[], uuid[], int[], "
    "uuid[], text[], jsonb[])"
)


def _downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def _in_thread(fn: object, *args: object) -> None:
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(1) as pool:  # alembic's env.py runs its own event loop
        await loop.run_in_executor(pool, fn, *args)  # type: ignore[arg-type]


@pytest.fixture
async def scratch(database_url: str) -> AsyncIterator[str]:
    name = f"lrs_migrations_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield named_database(database_url, name)
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def _append_body(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        return str(await conn.fetchval(f"SELECT pg_get_functiondef('{APPEND}'::regprocedure)"))
    finally:
        await conn.close()


async def test_migrations_go_down_and_up_again(scratch: str) -> None:
    await _in_thread(migrate, scratch)
    body = await _append_body(scratch)
    # the range is published before the clock is read
    assert body.index("PERFORM setval('lrs_reserved_seq'") < body.index("clock_timestamp()")
    # 0008: a writer waits for the writer before it, the range's start published before its end
    assert body.index("PERFORM setval('lrs_reserved_start'") < body.index("PERFORM setval('lrs_reserved_seq'")
    await _in_thread(_downgrade, scratch, "0007")
    body = await _append_body(scratch)
    assert "lrs_reserved_start" not in body and "lrs_writers_below(first_seq)" in body
    conn = await asyncpg.connect(scratch)
    try:
        assert await conn.fetchval("SELECT to_regclass('lrs_reserved_start') IS NULL")
        idle_at = await conn.fetchval("SELECT pg_get_functiondef('lrs_idle_at(bigint)'::regprocedure)")
        assert "lrs_reserved_start" not in idle_at
    finally:
        await conn.close()
    await _in_thread(_downgrade, scratch, "0005")
    body = await _append_body(scratch)
    assert body.index("clock_timestamp()") < body.index("PERFORM setval('lrs_reserved_seq'")
    conn = await asyncpg.connect(scratch)
    try:
        assert await conn.fetchval("SELECT to_regprocedure('lrs_head(bigint)') IS NOT NULL")
        assert await conn.fetchval("SELECT to_regprocedure('lrs_idle_at(bigint)') IS NULL")
    finally:
        await conn.close()
    await _in_thread(_downgrade, scratch, "base")
    await _in_thread(migrate, scratch)
    conn = await asyncpg.connect(scratch)
    try:
        assert await conn.fetchval("SELECT lrs_idle_at(0)") is not None  # an empty store is idle
        # kept for servers of the previous release during a rolling deploy
        assert await conn.fetchval("SELECT to_regprocedure('lrs_head(bigint)') IS NOT NULL")
    finally:
        await conn.close()
