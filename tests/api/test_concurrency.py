"""ADR 0002 under load: concurrent writers never make a reader skip or repeat a statement, and
X-Experience-API-Consistent-Through is honest (C §2.1.3)."""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg
from fastapi import FastAPI

from tests.api.helpers import statement
from tests.conftest import XAPI

WRITERS = 6
BATCHES = 8


def instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


async def _write(app: FastAPI, n: int, written: list[str]) -> None:
    async with XAPI(app) as c:
        for i in range(BATCHES):
            size = 1 + (n + i) % 4
            r = await c.post("/statements", json=[statement(f"w{n}") for _ in range(size)])
            assert r.status_code == 200, r.text
            written += r.json()
            await asyncio.sleep(0)


async def test_following_by_consistent_through_sees_each_statement_once(app: FastAPI, db: asyncpg.Connection) -> None:
    """A follower polling since=<previous Consistent-Through> receives every statement exactly once."""
    written: list[str] = []
    received: list[str] = []
    writers = asyncio.gather(*(_write(app, n, written) for n in range(WRITERS)))

    async def follow() -> None:
        cursor = "1970-01-01T00:00:00.000Z"
        async with XAPI(app) as c:
            while True:
                done = writers.done()
                r = await c.get("/statements", params={"since": cursor, "ascending": "true", "limit": 7})
                through = r.headers["X-Experience-API-Consistent-Through"]
                while True:
                    body = r.json()
                    received.extend(s["id"] for s in body["statements"] if instant(s["stored"]) <= instant(through))
                    if not body["more"]:
                        break
                    r = await c.get(body["more"].removeprefix("/xapi"))
                cursor = max(cursor, through, key=instant)  # the header may step back while a write is in flight
                if done:
                    return
                await asyncio.sleep(0.005)

    await asyncio.gather(writers, follow())
    assert len(written) == len(set(written)) > 50
    assert sorted(received) == sorted(written)


async def test_more_paging_during_writes_never_repeats_or_skips(app: FastAPI, db: asyncpg.Connection) -> None:
    """Paging with `more` while writers commit returns the first page's snapshot, each statement once."""
    async with XAPI(app) as c:
        r = await c.post("/statements", json=[statement("seed") for _ in range(40)])
        before = set(r.json())
        writers = asyncio.gather(*(_write(app, n, []) for n in range(WRITERS)))
        seen: list[str] = []
        r = await c.get("/statements", params={"limit": 3})
        first_through = instant(r.headers["X-Experience-API-Consistent-Through"])
        while True:
            body = r.json()
            seen += [s["id"] for s in body["statements"]]
            if not body["more"]:
                break
            r = await c.get(body["more"].removeprefix("/xapi"))
            await asyncio.sleep(0.002)
        await writers
    assert len(seen) == len(set(seen))
    assert before <= set(seen)
    # the first page's Consistent-Through is honest about the paged set: every statement stored at or before it,
    # whichever writer stored it, is in the set (C §2.1.3). It may trail `before` by a millisecond while a write
    # is in flight, since that write may share the millisecond of the newest visible statement (ADR 0002).
    covered = {str(r["id"]) for r in await db.fetch("SELECT id FROM statement WHERE stored <= $1", first_through)}
    assert covered <= set(seen)
    newest_before = await db.fetchval("SELECT max(stored) FROM statement WHERE id = ANY($1::uuid[])", list(before))
    assert first_through >= newest_before - dt.timedelta(milliseconds=1)


async def test_a_later_page_is_consistent_through_the_first_snapshot(app: FastAPI, db: asyncpg.Connection) -> None:
    """C §2.1.3 on `more` pages: their set is the first page's snapshot, so statements stored since are after the
    Consistent-Through of every later page, even once they are visible."""
    async with XAPI(app) as c:
        assert (await c.post("/statements", json=[statement("old") for _ in range(5)])).status_code == 200
        first = await c.get("/statements", params={"limit": 2})
        await asyncio.sleep(0.005)  # the new statements are stored in a later millisecond
        new = (await c.post("/statements", json=[statement("new") for _ in range(3)])).json()
        later = await c.get(first.json()["more"].removeprefix("/xapi"))
        assert later.status_code == 200
        through = instant(later.headers["X-Experience-API-Consistent-Through"])
    assert not {s["id"] for s in later.json()["statements"]} & set(new)
    assert through < await db.fetchval("SELECT min(stored) FROM statement WHERE id = ANY($1::uuid[])", new)


async def test_group_commit_keeps_requests_independent(app: FastAPI, db: asyncpg.Connection) -> None:
    """ADR 0002 group commit: requests sharing a transaction succeed or fail alone (C §3.2 per request)."""
    async with XAPI(app) as c:
        taken = {"id": "9a8f1b4e-6c2d-4e7a-9b1c-2d3e4f5a6b7c", **statement("first")}
        assert (await c.post("/statements", json=taken)).status_code == 200
        clash = {**taken, "result": {"success": False}}
        posts = [c.post("/statements", json=[statement(f"ok{i}") for _ in range(3)]) for i in range(10)]
        posts.insert(5, c.post("/statements", json=[statement("x"), clash]))
        answers = await asyncio.gather(*posts)
    assert [r.status_code for r in answers].count(409) == 1
    assert answers[5].status_code == 409
    assert all(r.status_code == 200 for i, r in enumerate(answers) if i != 5)
    assert await db.fetchval("SELECT count(*) FROM statement") == 1 + 10 * 3
