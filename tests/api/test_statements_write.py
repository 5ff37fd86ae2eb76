"""PUT and POST of statements (C §2.1.1, §2.1.2), comparison (D §2.3.1) and batch atomicity (C §3.2)."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from tests.api.helpers import statement, with_id
from tests.conftest import XAPI


async def count(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT count(*) FROM statement"))


async def test_put_stores_under_the_given_id(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.1: PUT with statementId stores and answers 204."""
    sid = str(uuid.uuid4())
    r = await client.put("/statements", params={"statementId": sid}, json=statement())
    assert r.status_code == 204, r.text
    assert "X-Experience-API-Consistent-Through" in r.headers
    got = (await client.get("/statements", params={"statementId": sid})).json()
    assert got["id"] == sid


async def test_put_without_statement_id_is_400(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.1: statementId is required for PUT."""
    r = await client.put("/statements", json=statement())
    assert r.status_code == 400
    assert "statementId" in r.json()["message"]
    assert await count(db) == 0


async def test_put_with_mismatched_id_is_400(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.1: a body id differing from statementId is an error."""
    r = await client.put("/statements", params={"statementId": str(uuid.uuid4())}, json=with_id(statement()))
    assert r.status_code == 400
    assert "differs" in r.json()["message"]
    assert await count(db) == 0


async def test_put_with_bad_statement_id_is_400(client: XAPI, db: asyncpg.Connection) -> None:
    """D §2.4.1: statementId must be a UUID."""
    r = await client.put("/statements", params={"statementId": "nope"}, json=statement())
    assert r.status_code == 400
    assert "UUID" in r.json()["message"]


async def test_post_assigns_ids_in_order(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.2, D §2.4.1: POST returns ids in order, generating missing ones."""
    given = with_id(statement())
    r = await client.post("/statements", json=[statement(), given, statement()])
    assert r.status_code == 200, r.text
    ids = r.json()
    assert len(ids) == 3 and ids[1] == given["id"]
    assert all(uuid.UUID(i) for i in ids)
    assert await count(db) == 3


async def test_lrs_sets_stored_authority_version_timestamp(client: XAPI, db: asyncpg.Connection) -> None:
    """D §2.4.7-2.4.10: stored overwritten, authority from the credential, version and timestamp filled."""
    s = statement(stored="2001-01-01T00:00:00Z", authority={"mbox": "mailto:liar@example.com"})
    (sid,) = (await client.post("/statements", json=s)).json()
    got = (await client.get("/statements", params={"statementId": sid})).json()
    assert got["stored"] != "2001-01-01T00:00:00Z"
    assert got["authority"]["account"]["name"] == "test-admin"
    assert got["version"] in ("1.0.0", "2.0.0")
    assert got["timestamp"] == got["stored"]


async def test_same_id_same_content_is_accepted_without_change(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.2, D §2.3.1: re-posting an identical statement changes nothing."""
    s = with_id(statement())
    assert (await client.post("/statements", json=s)).status_code == 200
    before = await db.fetch("SELECT seq, payload FROM statement")
    r = await client.post("/statements", json=s)
    assert r.status_code == 200
    r = await client.put("/statements", params={"statementId": s["id"]}, json=s)
    assert r.status_code == 204
    assert await db.fetch("SELECT seq, payload FROM statement") == before


async def test_same_id_different_content_is_409(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.2, D §2.3.1: same id with a different statement is a conflict, nothing changes."""
    s = with_id(statement())
    await client.post("/statements", json=s)
    changed = {**s, "result": {"success": True}}
    r = await client.post("/statements", json=[statement(), changed])
    assert r.status_code == 409
    assert r.json()["statementIndex"] == 1
    assert await count(db) == 1


async def test_duplicate_ids_in_a_batch_are_400(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.2 (S*, tested by 2.0 §4.1.6.1): a batch naming one id twice is rejected."""
    s = with_id(statement())
    r = await client.post("/statements", json=[s, s])
    assert r.status_code == 400
    assert "more than one" in r.json()["message"]
    assert await count(db) == 0


async def test_one_bad_statement_rejects_the_batch(client: XAPI, db: asyncpg.Connection) -> None:
    """C §3.2: batch atomicity; the error names the statement index and property."""
    bad = statement()
    bad["actor"] = {"mbox": "sarah@example.com"}
    r = await client.post("/statements", json=[statement(), statement(), bad])
    assert r.status_code == 400
    body = r.json()
    assert body["statementIndex"] == 2
    assert "actor" in body["path"] and "mbox" in body["message"] + body["path"]
    assert await count(db) == 0


async def test_context_activities_come_back_as_arrays(client: XAPI, db: asyncpg.Connection) -> None:
    """D §2.4.6.2: the LRS returns every contextActivities value as an array."""
    parent = {"id": "http://example.com/course"}
    s = statement(context={"contextActivities": {"parent": parent}})
    (sid,) = (await client.post("/statements", json=s)).json()
    got = (await client.get("/statements", params={"statementId": sid})).json()
    assert got["context"]["contextActivities"]["parent"] == [parent]


async def test_statement_comes_back_exactly(client: XAPI, db: asyncpg.Connection) -> None:
    """D §2.2, §2.3.1: apart from LRS-added properties the statement is returned as sent."""
    s = with_id(
        statement(
            result={"score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10}, "duration": "PT1M30.5S"},
            context={"extensions": {"http://example.com/ext": {"deep": [1, 2.5, None, "x"]}}},
        )
    )
    await client.post("/statements", json=s)
    got = (await client.get("/statements", params={"statementId": s["id"]})).json()
    for key in ("id", "actor", "verb", "object", "result", "context"):
        assert got[key] == s[key]
    assert list(got)[:6] == ["id", "actor", "verb", "object", "result", "context"]


async def test_append_only_table_refuses_updates(db: asyncpg.Connection, client: XAPI) -> None:
    """Design: the statement table is append-only."""
    await client.post("/statements", json=statement())
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await db.execute("UPDATE statement SET payload = '{}'")
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await db.execute("DELETE FROM statement")
