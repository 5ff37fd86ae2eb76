"""The floor of a write (issue 5): the CPU PostgreSQL alone spends to store a statement with the LRS's indexing.

It inserts copies of statements already in the store (new `seq` and `id`, the same payloads and filter keys) with
plain `INSERT ... SELECT`, measures the CPU of PostgreSQL's processes around each insert, and rolls back. No xAPI
logic, no `lrs_append`, no commit: no write of these rows can cost PostgreSQL less, whatever the server above it
does, so a write target whose CPU budget per statement is below it cannot be met with this schema on this machine.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

import asyncpg

COLUMNS = "seq, id, stored, credential_id, is_voiding, payload"


async def write_floor(
    conn: asyncpg.Connection, cpu: Callable[[], float], n: int = 20_000, runs: int = 3
) -> dict[str, Any]:
    """PostgreSQL's CPU µs per statement to insert copies of `n` stored statements (all of a smaller store): the
    statement rows with their indexes, then their filter-key rows with theirs; the median of `runs` windows of the
    store, each rolled back."""
    stored = int(await conn.fetchval("SELECT count(*) FROM statement"))
    if not stored:
        raise ValueError("the store is empty: there is nothing to copy")
    n = min(n, stored)  # a small store (`make bench --sizes 5000`) lends all it has
    top = int(await conn.fetchval("SELECT max(seq) FROM statement"))
    rows: list[float] = []
    keys: list[float] = []
    per_statement: list[float] = []
    for run in range(runs):
        # windows of n statements spread over the store, rows of every age
        offset = (stored - n) * (run + 1) // (runs + 1)
        low = int(await conn.fetchval(f"SELECT seq FROM statement ORDER BY seq OFFSET {offset} LIMIT 1"))
        shift = top + 1 - low  # the copies go past the newest statement, as appends do
        transaction = conn.transaction()
        await transaction.start()
        try:
            # Reading the originals is not measured: copies are made first, in temporary tables.
            await conn.execute(
                f"CREATE TEMP TABLE floor_statement ON COMMIT DROP AS SELECT seq + {shift} AS seq, "
                "gen_random_uuid() AS id, stored, credential_id, is_voiding, payload "
                f"FROM statement WHERE seq >= {low} ORDER BY seq LIMIT {n}"
            )
            await conn.execute(
                "CREATE TEMP TABLE floor_key ON COMMIT DROP AS "
                f"SELECT key, seq + {shift} AS seq, main FROM statement_key "
                f"WHERE seq IN (SELECT seq - {shift} FROM floor_statement)"
            )
            copied = int(await conn.fetchval("SELECT count(*) FROM floor_statement"))
            key_rows = int(await conn.fetchval("SELECT count(*) FROM floor_key"))
            start = cpu()
            await conn.execute(f"INSERT INTO statement ({COLUMNS}) SELECT {COLUMNS} FROM floor_statement")
            middle = cpu()
            await conn.execute("INSERT INTO statement_key (key, seq, main) SELECT key, seq, main FROM floor_key")
            end = cpu()
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
