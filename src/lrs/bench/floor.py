"""The floor of a write (issue 5): the CPU PostgreSQL alone spends to store a statement with the LRS's indexing.

It inserts copies of statements already in the store (new `seq`, `id` and `stored` past the newest, the same payloads,
credentials and filter keys) with plain `INSERT ... SELECT`, measures the CPU of the backend that runs each insert, and
rolls back. No xAPI logic, no `lrs_append`, no commit: no write of these rows can cost PostgreSQL less, whatever the
server above it does, so a write target whose CPU budget per statement is below it cannot be met with this schema on
this machine.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

import asyncpg

COLUMNS = "seq, id, stored, credential_id, is_voiding, payload"


async def write_floor(
    conn: asyncpg.Connection, cpu: Callable[[int], float], n: int = 20_000, runs: int = 3
) -> dict[str, Any]:
    """PostgreSQL's CPU µs per statement (`cpu(backend pid)` in seconds) to insert copies of `n` stored statements,
    or all of a smaller store: their rows, then their filter-key rows; the median of `runs` windows, rolled back."""
    stored = int(await conn.fetchval("SELECT count(*) FROM statement"))
    if not stored:
        raise ValueError("the store is empty: there is nothing to copy")
    n = min(n, stored)  # a small store (`make bench --sizes 5000`) lends all it has
    top = int(await conn.fetchval("SELECT max(seq) FROM statement"))
    backend = conn.get_server_pid()
    rows: list[float] = []
    keys: list[float] = []
    per_statement: list[float] = []
    for run in range(runs):
        # windows of n statements spread over the store, rows of every age
        offset = (stored - n) * (run + 1) // (runs + 1)
        low = int(await conn.fetchval(f"SELECT seq FROM statement ORDER BY seq OFFSET {offset} LIMIT 1"))
        # past the newest statement, as appends go, and past the copies of the runs before: rolled-back entries
        # stay in the indexes until a vacuum, and inserting next to them would check them again
        shift = top + 1 + run * n - low
        transaction = conn.transaction()
        await transaction.start()
        try:
            # Reading the originals is not measured: copies are made first, in temporary tables.
            await conn.execute(
                f"CREATE TEMP TABLE floor_statement ON COMMIT DROP AS SELECT seq + {shift} AS seq, "
                "gen_random_uuid() AS id, now() AS stored, credential_id, is_voiding, payload "
                f"FROM statement WHERE seq >= {low} ORDER BY seq LIMIT {n}"
            )
            await conn.execute(
                "CREATE TEMP TABLE floor_key ON COMMIT DROP AS "
                f"SELECT key, seq + {shift} AS seq, main FROM statement_key "
                f"WHERE seq IN (SELECT seq - {shift} FROM floor_statement)"
            )
            start = cpu(backend)
            copied = _count(
                await conn.execute(f"INSERT INTO statement ({COLUMNS}) SELECT {COLUMNS} FROM floor_statement")
            )
            middle = cpu(backend)
            key_rows = _count(
                await conn.execute("INSERT INTO statement_key (key, seq, main) SELECT key, seq, main FROM floor_key")
            )
            end = cpu(backend)
        finally:
            await transaction.rollback()
        rows.append(1e6 * (middle - start) / copied)
        keys.append(1e6 * (end - middle) / copied)
        per_statement.append(key_rows / copied)
    return {
        "statements": n,
        "statement_us": statistics.median(rows),
        "keys_us": statistics.median(keys),
        "keys_per_statement": statistics.median(per_statement),
    }


def _count(status: str) -> int:
    """The rows an INSERT wrote, from its command status ("INSERT 0 N")."""
    return int(status.rsplit(" ", 1)[1])
