"""A first pass over the Statement resource (C §2.1)."""

from __future__ import annotations

from tests.conftest import XAPI

STMT = {
    "actor": {"mbox": "mailto:sarah@example.com", "name": "Sarah"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
    "object": {"id": "http://example.com/courses/python", "definition": {"name": {"en-US": "Python"}}},
    "result": {"score": {"scaled": 0.92}},
}


async def test_post_then_get(client: XAPI) -> None:
    r = await client.post("/statements", json=STMT)
    assert r.status_code == 200, r.text
    (sid,) = r.json()
    r = await client.get("/statements", params={"statementId": sid})
    assert r.status_code == 200, r.text
    assert r.json()["result"] == {"score": {"scaled": 0.92}}
    assert "X-Experience-API-Consistent-Through" in r.headers
