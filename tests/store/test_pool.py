"""The request pool (ADR 0001): connections come back usable or not at all, and a busy pool answers 503."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from lrs.errors import BadRequest, ServiceUnavailable
from lrs.settings import Settings
from lrs.store.engine import RequestPool, make_pool


async def pid(db: asyncpg.Connection) -> int:
    """The backend process behind a connection."""
    return int(await db.fetchval("SELECT pg_backend_pid()"))


async def alive(inspect: asyncpg.Connection, backend: int) -> bool:
    """Whether a backend still exists (a terminated one can take a moment to go)."""
    for _ in range(250):
        if not await inspect.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", backend):
            return False
        await asyncio.sleep(0.02)
    return True


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[RequestPool]:
    """A pool of at most two connections on the test database."""
    small = settings.model_copy(update={"pool_size": 1, "pool_timeout": 0.3})
    made = await make_pool(small, settings.database_url or "")
    yield made
    await made.close()


async def test_one_connection_serves_requests_one_after_another(pool: RequestPool) -> None:
    async with pool.acquire() as db:
        first = await pid(db)
    for _ in range(5):
        async with pool.acquire() as db:
            assert await pid(db) == first
    assert pool.busy() == 0


async def test_a_transaction_left_open_is_rolled_back_and_the_connection_kept(
    pool: RequestPool, db_conn: asyncpg.Connection
) -> None:
    async with pool.acquire() as db:
        first = await pid(db)
        await db.execute("BEGIN")
        await db.execute("CREATE TEMPORARY TABLE left_open (x int)")
    async with pool.acquire() as db:
        assert await pid(db) == first
        assert not db.is_in_transaction()
        assert await db.fetchval("SELECT to_regclass('pg_temp.left_open')") is None  # rolled back


async def test_errors_the_database_or_the_request_reported_keep_the_connection(pool: RequestPool) -> None:
    async with pool.acquire() as db:
        first = await pid(db)
    with pytest.raises(asyncpg.PostgresError):
        async with pool.acquire() as db:
            await db.execute("SELECT no_such_column FROM pg_class")
    with pytest.raises(BadRequest):
        async with pool.acquire() as db:
            raise BadRequest("a bad parameter")
    async with pool.acquire() as db:
        assert await pid(db) == first


async def test_a_block_cancelled_mid_query_closes_its_connection(
    pool: RequestPool, db_conn: asyncpg.Connection
) -> None:
    """A cancel can leave a query running on the connection: it is closed, not handed to the next request."""
    started = asyncio.Event()
    backend = 0

    async def slow() -> None:
        nonlocal backend
        async with pool.acquire() as db:
            backend = await pid(db)
            started.set()
            await db.execute("SELECT pg_sleep(30)")

    task = asyncio.create_task(slow())
    await started.wait()
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool.busy() == 0
    assert not await alive(db_conn, backend)
    async with pool.acquire() as db:
        assert await pid(db) != backend
        assert await db.fetchval("SELECT 1") == 1


async def test_a_lost_connection_is_replaced(pool: RequestPool, db_conn: asyncpg.Connection) -> None:
    async with pool.acquire() as db:
        backend = await pid(db)
    await db_conn.execute("SELECT pg_terminate_backend($1)", backend)
    assert not await alive(db_conn, backend)
    await asyncio.sleep(0.05)  # the client notices the closed socket
    async with pool.acquire() as db:
        assert await pid(db) != backend
    assert pool.busy() == 0


async def test_an_idle_connection_is_used_before_a_closed_ones_slot(pool: RequestPool) -> None:
    """A connection closed on check-in frees its slot under the idle ones: the next checkout takes the idle
    connection instead of opening another."""
    first, second = pool.acquire(), pool.acquire()
    kept = await pid(await first.__aenter__())
    await second.__aenter__()
    await first.__aexit__(None, None, None)  # idle
    await second.__aexit__(RuntimeError, RuntimeError("mid-query"), None)  # closed: its slot is free
    async with pool.acquire() as db:
        assert await pid(db) == kept


async def test_every_connection_busy_past_the_timeout_is_503_and_a_waiter_gets_the_next_one_back(
    pool: RequestPool,
) -> None:
    async with pool.acquire(), pool.acquire():
        with pytest.raises(ServiceUnavailable, match=r"busy for 0\.3 s"):
            async with pool.acquire():
                pass
    holder = pool.acquire()
    await holder.__aenter__()
    other = pool.acquire()
    await other.__aenter__()
    third = pool.acquire()
    waiter = asyncio.create_task(third.__aenter__())
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await holder.__aexit__(None, None, None)
    db = await asyncio.wait_for(waiter, 1)
    assert await db.fetchval("SELECT 1") == 1
    assert pool.busy() == 2
    await third.__aexit__(None, None, None)
    await other.__aexit__(None, None, None)
    assert pool.busy() == 0


async def test_closing_closes_idle_connections_and_those_given_back_later(
    settings: Settings, db_conn: asyncpg.Connection
) -> None:
    made = await make_pool(settings.model_copy(update={"pool_size": 1}), settings.database_url or "")
    out = made.acquire()
    checked_out = await pid(await out.__aenter__())
    async with made.acquire() as db:
        idle = await pid(db)
    assert idle != checked_out
    await made.close()
    assert not await alive(db_conn, idle)
    await out.__aexit__(None, None, None)
    assert not await alive(db_conn, checked_out)
    with pytest.raises(ServiceUnavailable, match="shutting down"):
        async with made.acquire():
            pass
