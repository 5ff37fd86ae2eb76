"""The Agents resource (C §2.4; 2.0 §4.1.6.3): GET /agents?agent= answers a Person object."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI

from tests.api.helpers import statement
from tests.conftest import XAPI

ACCOUNT = {"homePage": "http://www.example.com/agentId/1", "name": "Rick James"}
PERSON_KEYS = {"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"}


@pytest.mark.parametrize(
    ("agent", "person"),
    [
        (
            {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"},
            {"objectType": "Person", "name": ["Ann"], "mbox": ["mailto:ann@example.com"]},
        ),
        (
            {"mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"},
            {"objectType": "Person", "mbox_sha1sum": ["cd9b00a5611f94eaa7b1661edab976068e364975"]},
        ),
        (
            {"openid": "http://openid.example.com/ann"},
            {"objectType": "Person", "openid": ["http://openid.example.com/ann"]},
        ),
        ({"objectType": "Agent", "account": ACCOUNT}, {"objectType": "Person", "account": [ACCOUNT]}),
    ],
)
async def test_person_for_any_agent(client: XAPI, agent: dict[str, Any], person: dict[str, Any]) -> None:
    """C §2.4 (XAPI-00236..00244, 00247, 00248): a Person (objectType "Person", array properties, nothing else) is
    returned even for an Agent the LRS has never seen."""
    r = await client.get("/agents", params={"agent": json.dumps(agent)})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == person
    assert set(r.json()) <= PERSON_KEYS
    assert r.headers["etag"].startswith('"')


async def test_person_for_an_agent_in_statements(client: XAPI) -> None:
    """C §2.4 (XAPI-00245, 00248): an Agent known from statements gets its Person too."""
    s = statement("known")
    assert (await client.post("/statements", json=s)).status_code == 200
    r = await client.get("/agents", params={"agent": json.dumps(s["actor"])})
    assert r.status_code == 200
    assert r.json() == {"objectType": "Person", "mbox": ["mailto:known@example.com"]}


async def test_head(client: XAPI) -> None:
    """C §1.1: HEAD /agents has GET's headers and no body."""
    params = {"agent": json.dumps({"account": ACCOUNT})}
    got, head = await client.get("/agents", params=params), await client.head("/agents", params=params)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == got.headers["etag"]
    assert head.headers["content-length"] == got.headers["content-length"]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({}, "agent"),
        ({"agent": "not JSON"}, "agent"),
        ({"agent": "true"}, "agent"),
        ({"agent": json.dumps({"objectType": "Agent", "name": "Rick James"})}, "agent"),
        ({"agent": json.dumps({"objectType": "Group", "mbox": "mailto:g@example.com"})}, "agent"),
        ({"agent": json.dumps({"mbox": "mailto:a@example.com", "openid": "http://x.example.com"})}, "agent"),
        ({"agent": json.dumps({"mbox": "mailto:a@example.com"}), "Agent": "x"}, "Agent"),
        ({"agent": json.dumps({"mbox": "mailto:a@example.com"}), "since": "x"}, "since"),
    ],
)
async def test_bad_agent_parameter_is_400(client: XAPI, params: dict[str, str], named: str) -> None:
    """C §2.4 (XAPI-00243, 00249), §3.2: a missing, malformed or Group `agent`, or an unknown parameter, is 400."""
    r = await client.get("/agents", params=params)
    assert r.status_code == 400
    assert named in r.json()["message"]


async def test_any_valid_credential_may_ask(app: FastAPI, db: asyncpg.Connection, credential: Any) -> None:
    """ADR 0006: the Person only echoes the request's Agent, so any valid credential may ask; bad ones are 401."""
    params = {"agent": json.dumps({"mbox": "mailto:a@example.com"})}
    async with XAPI(app, auth=await credential("statements/write")) as c:
        assert (await c.get("/agents", params=params)).status_code == 200
    async with XAPI(app, auth=("nobody", "wrong")) as c:
        assert (await c.get("/agents", params=params)).status_code == 401
    async with XAPI(app) as c:
        r = await c.get("/agents", params=params, headers={"X-Experience-API-Version": ""})
        assert r.status_code == 400
    async with XAPI(app) as c:
        assert (await c.post("/agents", params=params, json={})).status_code == 405
