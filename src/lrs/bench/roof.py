"""The roof: a minimal FastAPI + asyncpg endpoint that COPYs posted statements with no xAPI logic at all.

`make bench` drives it with the same load as the LRS, on the same database, so the LRS's figure can be read as a
share of what this machine can do at all. Run as `uvicorn lrs.bench.roof:app`; LRS_DATABASE_URL names the database.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import orjson
from fastapi import FastAPI, Request, Response

TABLE = "bench_roof"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open a pool and the scratch table."""
    pool = await asyncpg.create_pool(os.environ["LRS_DATABASE_URL"], min_size=2, max_size=10)
    async with pool.acquire() as conn:
        # the other worker may create it at the same moment
        with contextlib.suppress(asyncpg.UniqueViolationError, asyncpg.DuplicateTableError):
            await conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id uuid PRIMARY KEY, payload text NOT NULL)")
    app.state.pool = pool
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/xapi/statements")
async def post(request: Request) -> Response:
    """Parse the batch, COPY it, answer the ids."""
    body = orjson.loads(await request.body())
    rows = [(s["id"], orjson.dumps(s).decode()) for s in (body if isinstance(body, list) else [body])]
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        await conn.copy_records_to_table(TABLE, records=rows, columns=["id", "payload"])
    return Response(orjson.dumps([r[0] for r in rows]), media_type="application/json")
