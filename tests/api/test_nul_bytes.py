"""U+0000 is a valid JSON string character but PostgreSQL text and jsonb cannot hold it: no request may turn it
into a 500 (C §3.2: the most appropriate status; D §2.2: strings are stored as sent)."""

from __future__ import annotations

import json

import asyncpg

from tests.api.helpers import statement
from tests.conftest import XAPI

AGENT = json.dumps({"mbox": "mailto:nul@example.com"})


async def test_statement_with_nul_is_stored_exactly(client: XAPI, db: asyncpg.Connection) -> None:
    s = statement(
        object={"id": "http://example.com/nul", "definition": {"name": {"en-US": "a\u0000b"}}},
        result={"response": "x\u0000y"},
    )
    r = await client.post("/statements", json=s)
    assert r.status_code == 200, r.text
    got = (await client.get("/statements", params={"statementId": r.json()[0]})).json()
    assert got["result"]["response"] == "x\u0000y"
    assert got["object"]["definition"]["name"]["en-US"] == "a\u0000b"
    canonical = (await client.get("/activities", params={"activityId": "http://example.com/nul"})).json()
    assert canonical["definition"]["name"]["en-US"] == "a\ufffdb"


async def test_nul_in_parameters_is_never_a_server_error(client: XAPI, db: asyncpg.Connection) -> None:
    cases = [
        ("/activities", {"activityId": "http://example.com/\u0000"}),
        ("/activities/state", {"activityId": "http://example.com/a", "agent": AGENT, "stateId": "s\u0000"}),
        ("/activities/profile", {"activityId": "http://example.com/a", "profileId": "p\u0000"}),
        ("/agents/profile", {"agent": AGENT, "profileId": "p\u0000"}),
        ("/statements", {"verb": "http://example.com/\u0000"}),
        ("/agents", {"agent": json.dumps({"mbox": "mailto:a@example.com", "name": "n\u0000"})}),
    ]
    for path, params in cases:
        for method in ("GET", "PUT", "DELETE"):
            if path in ("/activities", "/agents", "/statements") and method != "GET":
                continue
            r = await client.request(method, path, params=params, json={"a": 1} if method == "PUT" else None)
            assert r.status_code < 500, (method, path, r.status_code, r.text)
