"""Filters are index ranges, never scans (issue: core, "query cost must stay flat as the table grows").

Each GET query runs under EXPLAIN (ANALYZE, BUFFERS) on a store where one actor, one verb and one activity own
most statements. A page of 10 must touch a number of buffers that follows the page, not the store, and the plan
must hold no sequential scan, sort, hash or bitmap node (each of those reads the whole key or table)."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import orjson
import pytest
from fastapi import FastAPI

from lrs.query.statements import StatementQuery
from lrs.store.credentials import create_credential
from lrs.store.engine import SESSION
from lrs.store.statements import page_sql
from lrs.xapi.ifi import ifi_key
from tests.conftest import XAPI

N = 6000
HEAVY = {"objectType": "Agent", "mbox": "mailto:heavy@example.com"}
VERB = "http://adlnet.gov/expapi/verbs/answered"
COURSE = "http://example.com/course"
REG = str(uuid.uuid4())
FORBIDDEN = {"Seq Scan", "Sort", "Incremental Sort", "Hash", "Hash Join", "Bitmap Heap Scan", "Bitmap Index Scan"}


def statements() -> Iterator[dict[str, Any]]:
    for i in range(N):
        actor = HEAVY if i % 3 else {"objectType": "Agent", "mbox": f"mailto:u{i % 500}@example.com"}
        yield {
            "actor": actor,
            "verb": {"id": VERB if i % 4 else f"http://example.com/verbs/v{i % 7}"},
            "object": {"id": COURSE if i % 5 else f"http://example.com/act/{i}"},
            "context": {
                "registration": REG if i % 2 else str(uuid.uuid4()),
                "instructor": HEAVY,
                "contextActivities": {"grouping": [{"id": COURSE}]},
            },
        }


def nodes(plan: dict[str, Any], *, skip_subplans: bool = False) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        if not (skip_subplans and child.get("Parent Relationship") in ("InitPlan", "SubPlan")):
            yield from nodes(child, skip_subplans=skip_subplans)


@pytest.fixture(scope="module")
async def filled(app: FastAPI, db_conn: asyncpg.Connection) -> int:
    await db_conn.execute("TRUNCATE statement, statement_key, statement_ref, voided, activity")
    # a credential that stored a few statements before thousands of others: its `statements/read/mine` pages (C §4.2)
    async with app.state.runtime.engine.begin() as conn:
        mine, secret = await create_credential(
            conn, name="mine", scopes=["statements/write", "statements/read/mine"], homepage="https://lrs.invalid/c"
        )
    MINE.append(mine.id)
    async with XAPI(app, auth=(mine.key, secret)) as c:
        assert (await c.post("/statements", json=list(itertools.islice(statements(), 20)))).status_code == 200
    async with XAPI(app) as c:
        batch: list[dict[str, Any]] = []
        for stmt in statements():
            batch.append(stmt)
            if len(batch) == 500:
                assert (await c.post("/statements", json=batch)).status_code == 200
                batch = []
        # void 5% of them, so the voided probe has a table worth an index to look in
        ids = [str(r["id"]) for r in await db_conn.fetch("SELECT id FROM statement ORDER BY seq DESC LIMIT 300")]
        voids = [
            {
                "actor": HEAVY,
                "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                "object": {"objectType": "StatementRef", "id": target},
            }
            for target in ids
        ]
        assert (await c.post("/statements", json=voids)).status_code == 200
    # A store of millions has tens of thousands of voided ids; with a few hundred, scanning the table is cheaper
    # than the index and the plan would not be the one that matters.
    await db_conn.execute("INSERT INTO voided SELECT gen_random_uuid(), 0 FROM generate_series(1, 30000)")
    await db_conn.execute("VACUUM ANALYZE")
    return int(await db_conn.fetchval("SELECT max(seq) FROM statement"))


MINE: list[int] = []  # the id of the credential the fixture creates
HEAVY_KEY = ifi_key(HEAVY)
assert HEAVY_KEY is not None
QUERIES = {
    "no filter": StatementQuery(),
    "agent": StatementQuery(agent=HEAVY_KEY),
    "verb": StatementQuery(verb=VERB),
    "verb+agent": StatementQuery(verb=VERB, agent=HEAVY_KEY),
    "activity": StatementQuery(activity=COURSE),
    "related_activities": StatementQuery(activity=COURSE, related_activities=True),
    "related_agents": StatementQuery(agent=HEAVY_KEY, related_agents=True),
    "registration": StatementQuery(registration=REG),
    "agent+activity+registration": StatementQuery(agent=HEAVY_KEY, activity=COURSE, registration=REG),
    "since": StatementQuery(since=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)),
    "until": StatementQuery(until=dt.datetime(2100, 1, 1, tzinfo=dt.UTC)),
    "ascending agent": StatementQuery(agent=HEAVY_KEY, ascending=True),
    "next page": StatementQuery(verb=VERB, after=N // 2),
    "first page": StatementQuery(verb=VERB),
}


def literal(value: object) -> str:
    """A parameter of the page query as an SQL literal (ints, strings, UUIDs and timestamps occur)."""
    if isinstance(value, int):
        return str(value)
    text = value.isoformat() if isinstance(value, dt.datetime) else str(value)
    return "'" + text.replace("'", "''") + "'"


@pytest.mark.parametrize("joined", [True, False], ids=["joined", "apart"])
@pytest.mark.parametrize("name", [*sorted(QUERIES), "mine"])
async def test_page_query_is_an_index_range(name: str, joined: bool, filled: int, db_conn: asyncpg.Connection) -> None:
    query = StatementQuery(credential_id=MINE[0]) if name == "mine" else QUERIES[name]
    sql, args = page_sql(query, 10, None if name == "first page" else filled, joined=joined)
    # The plan the app runs: a prepared statement's generic plan (SESSION), the same whatever the parameters. An
    # EXPLAIN of the query with its parameters would plan for their values instead.
    async with db_conn.transaction():
        for setting, value in SESSION.items():
            await db_conn.execute(f"SET LOCAL {setting} = '{value}'")
        await db_conn.execute(f"PREPARE page AS {sql}")
        try:
            params = ", ".join(map(literal, args))  # EXECUTE takes no bound parameters
            raw = await db_conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE page({params})")
            generic = await db_conn.fetchval("SELECT generic_plans FROM pg_prepared_statements WHERE name = 'page'")
        finally:
            await db_conn.execute("DEALLOCATE page")
    assert generic == 1
    plan = (orjson.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    kinds = {n["Node Type"] for n in nodes(plan)}
    assert not kinds & FORBIDDEN, (
        name,
        [(n["Node Type"], n.get("Relation Name"), n.get("Parent Relationship")) for n in nodes(plan)],
    )
    touched = plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]
    (limit,) = [n for n in nodes(plan, skip_subplans=True) if n["Node Type"] == "Limit"]
    assert plan["Node Type"] == "Aggregate" and plan["Actual Rows"] == 1  # the page as arrays in one row
    assert limit["Actual Rows"] == 11
    assert touched < 400, (name, touched)  # a scan of the store would touch thousands of blocks
