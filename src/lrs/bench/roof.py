"""The roof: a minimal FastAPI + asyncpg app with no xAPI logic at all, the bound the LRS is measured against.

- `POST /xapi/statements` COPYs the posted statements into a scratch table.
- `GET /xapi/statements?key=K[&related=true]` answers the newest `limit` statements under one filter key of the
  LRS's own index, or the newest of the store without `key`: the same rows, through the same index, as the LRS's
  pages, with no authentication, parameters, voiding, Consistent-Through or `more` link. The bench computes the
  keys of its filters (`lrs.bench.scenario.ROOF_GETS`).

`make bench` drives it with the same load as the LRS, on the same database, so the LRS's figures can be read as a
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
# The page's rows through the (key, seq) index, newest first, joined into one UTF-8 value by PostgreSQL as the LRS
# joins its pages: the client neither decodes the texts nor encodes them again.
JOINED = "SELECT string_agg(convert_to(p.payload, 'UTF8'), ','::bytea ORDER BY p.seq DESC) FROM ({rows}) p"
PAGE = JOINED.format(
    rows="SELECT s.seq, s.payload FROM statement_key d JOIN statement s ON s.seq = d.seq "
    "WHERE d.key = $1::uuid{main} ORDER BY d.seq DESC LIMIT $2"
)
KEYED = {False: PAGE.format(main=" AND d.main"), True: PAGE.format(main="")}
NEWEST = JOINED.format(rows="SELECT seq, payload FROM statement ORDER BY seq DESC LIMIT $1")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open a pool and the scratch table."""
    # Generic plans, as the LRS's sessions use (ADR 0009): otherwise PostgreSQL re-plans a page of a heavy key on
    # every execution and the roof would measure its planner.
    settings = {"plan_cache_mode": "force_generic_plan"}
    pool = await asyncpg.create_pool(os.environ["LRS_DATABASE_URL"], min_size=2, max_size=10, server_settings=settings)
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


@app.get("/xapi/statements")
async def get(request: Request) -> Response:
    """The newest `limit` statements under the filter key `key` (only where it is the plain filter's, unless
    `related=true`), or of the whole store; the page joined as the body."""
    q = request.query_params  # read by hand: FastAPI's parameter declarations would cost the roof more per request
    limit, key = int(q.get("limit", "100")), q.get("key")
    async with request.app.state.pool.acquire() as conn:
        if key:
            joined = await conn.fetchval(KEYED[q.get("related") == "true"], key, limit)
        else:
            joined = await conn.fetchval(NEWEST, limit)
    return Response(b'{"statements":[' + (joined or b"") + b'],"more":""}', media_type="application/json")
