"""Concurrent writers of one document never lose an update (C §3.1; ADR 0006): merges serialise on the row lock,
creation races settle through INSERT ... ON CONFLICT, and ETag preconditions act as compare-and-swap."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest
from fastapi import FastAPI

from tests.api.documents import RESOURCES, Resource
from tests.conftest import XAPI

CLIENTS = 20
resources = pytest.mark.parametrize("res", RESOURCES, ids=lambda r: r.name)


@resources
async def test_concurrent_merges_keep_every_key(app: FastAPI, db: asyncpg.Connection, res: Resource) -> None:
    """C §2.2 merge under concurrency: 20 clients POST different keys into one (initially missing) document at
    once; every POST is 204 and every key ends up in the document."""
    for round_ in range(2):  # first into a missing document (creation race), then into an existing one
        async with XAPI(app) as c:

            async def post(i: int, c: XAPI = c, round_: int = round_) -> int:
                r = await c.post(res.path, params=res.params(), json={f"k{round_}-{i}": i})
                return r.status_code

            statuses = await asyncio.gather(*(post(i) for i in range(CLIENTS)))
            assert statuses == [204] * CLIENTS
            body = (await c.get(res.path, params=res.params())).json()
        assert {f"k{r}-{i}" for r in range(round_ + 1) for i in range(CLIENTS)} == set(body)
    table = {"state": "state_document"}.get(res.name, res.name)
    assert await db.fetchval(f"SELECT count(*) FROM {table}") == 1


@resources
async def test_concurrent_creates_with_if_none_match(app: FastAPI, db: asyncpg.Connection, res: Resource) -> None:
    """C §3.1 If-None-Match: * under concurrency: exactly one of 20 simultaneous creators wins (204); the others get
    412 and the stored document is the winner's."""
    async with XAPI(app) as c:

        async def put(i: int) -> int:
            r = await c.put(res.path, params=res.params(), json={"writer": i}, headers={"If-None-Match": "*"})
            return r.status_code

        statuses = await asyncio.gather(*(put(i) for i in range(CLIENTS)))
        assert sorted(statuses) == [204] + [412] * (CLIENTS - 1)
        winner = statuses.index(204)
        assert (await c.get(res.path, params=res.params())).json() == {"writer": winner}


@resources
async def test_concurrent_if_match_is_compare_and_swap(app: FastAPI, db: asyncpg.Connection, res: Resource) -> None:
    """C §3.1 If-Match under concurrency: of 20 PUTs carrying the same (current) ETag only one succeeds; the
    others are 412, so no client overwrites a change it has not seen."""
    async with XAPI(app) as c:
        r = await c.put(res.path, params=res.params(), json={"v": 0}, headers={"If-None-Match": "*"})
        assert r.status_code == 204
        tag = (await c.get(res.path, params=res.params())).headers["etag"]

        async def put(i: int) -> int:
            r = await c.put(res.path, params=res.params(), json={"v": i + 1}, headers={"If-Match": tag})
            return r.status_code

        statuses = await asyncio.gather(*(put(i) for i in range(CLIENTS)))
        assert sorted(statuses) == [204] + [412] * (CLIENTS - 1)
        assert (await c.get(res.path, params=res.params())).json() == {"v": statuses.index(204) + 1}


async def test_concurrent_delete_all_and_merges(app: FastAPI, db: asyncpg.Connection) -> None:
    """DELETE of a whole State context racing with merges leaves each document either deleted or whole: every
    stored document is valid JSON holding only keys that were posted after it was last deleted."""
    from tests.api.documents import STATE

    async with XAPI(app) as c:

        async def post(i: int) -> int:
            r = await c.post(STATE.path, params=STATE.params(doc_id=f"d{i % 4}"), json={f"k{i}": i})
            return r.status_code

        async def wipe() -> int:
            return (await c.delete(STATE.path, params=STATE.params(doc_id=None))).status_code

        statuses = await asyncio.gather(*(post(i) for i in range(CLIENTS)), wipe(), wipe())
        assert set(statuses) == {204}
        for doc_id in (await c.get(STATE.path, params=STATE.params(doc_id=None))).json():
            body = json.loads((await c.get(STATE.path, params=STATE.params(doc_id=doc_id))).content)
            assert all(int(k[1:]) % 4 == int(doc_id[1:]) for k in body)
