"""The Activities resource (C §2.5; 2.0 §4.1.6.4): GET /activities?activityId= answers the canonical Activity."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI

from tests.api.helpers import statement
from tests.conftest import XAPI

IRI = "http://www.example.com/verify/complete/34534"


def with_definition(iri: str, definition: dict[str, Any]) -> dict[str, Any]:
    s = statement(activity=iri)
    s["object"]["definition"] = definition
    return s


async def test_unknown_activity_is_a_bare_activity(client: XAPI) -> None:
    """C §2.5 (S*; 2.0 "shall"): an Activity the LRS knows nothing of is still returned, as objectType and id."""
    r = await client.get("/activities", params={"activityId": IRI + "/never"})
    assert r.status_code == 200
    assert r.json() == {"objectType": "Activity", "id": IRI + "/never"}
    assert r.headers["etag"].startswith('"')


async def test_complete_activity_from_statements(client: XAPI) -> None:
    """C §2.5 (XAPI-00251, 00254): the Activity carries the canonical definition (ADR 0003), languages merged
    across statements, all languages returned."""
    definition = {
        "type": "http://adlnet.gov/expapi/activities/meeting",
        "name": {"en-US": "example meeting", "en-GB": "example meeting"},
        "moreInfo": "http://virtualmeeting.example.com/345256",
        "extensions": {"http://example.com/ext": {"a": [1, 2]}},
    }
    assert (await client.post("/statements", json=with_definition(IRI, definition))).status_code == 200
    r = await client.get("/activities", params={"activityId": IRI})
    assert r.json() == {"objectType": "Activity", "id": IRI, "definition": definition}
    assert parsedate_to_datetime(r.headers["last-modified"]).tzinfo is not None
    second = {"name": {"fr-FR": "réunion"}}
    assert (await client.post("/statements", json=with_definition(IRI, second))).status_code == 200
    got = (await client.get("/activities", params={"activityId": IRI})).json()
    assert got["definition"]["name"] == {"en-US": "example meeting", "en-GB": "example meeting", "fr-FR": "réunion"}
    assert got["definition"]["type"] == definition["type"]


async def test_iris_are_compared_as_strings(client: XAPI) -> None:
    """2.0 §4.2.7 (RFC 3987 §5.3.1 simple string comparison): the id is answered exactly as asked, and an IRI with
    dot segments is a different activity from its normalised form."""
    raw, normalised = "http://example.com/path/../x", "http://example.com/x"
    s = with_definition(raw, {"name": {"en-US": "raw"}})
    assert (await client.post("/statements", json=s)).status_code == 200
    r = await client.get("/activities", params={"activityId": raw})
    assert r.json() == {"objectType": "Activity", "id": raw, "definition": {"name": {"en-US": "raw"}}}
    r = await client.get("/activities", params={"activityId": normalised})
    assert r.json() == {"objectType": "Activity", "id": normalised}


async def test_head(client: XAPI) -> None:
    """C §1.1: HEAD /activities has GET's headers and no body."""
    params = {"activityId": IRI}
    got, head = await client.get("/activities", params=params), await client.head("/activities", params=params)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == got.headers["etag"]
    assert head.headers["content-length"] == got.headers["content-length"]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({}, "activityId"),
        ({"activityId": "true"}, "activityId"),
        ({"activityId": ""}, "activityId"),
        ({"activityId": "no scheme/path"}, "activityId"),
        ({"activityid": IRI}, "activityid"),
        ({"activityId": IRI, "agent": "{}"}, "agent"),
    ],
)
async def test_bad_activity_id_is_400(client: XAPI, params: dict[str, str], named: str) -> None:
    """C §2.5 (XAPI-00250), §3.2: a missing or non-IRI activityId, or an unknown or wrong-case parameter, is 400."""
    r = await client.get("/activities", params=params)
    assert r.status_code == 400
    assert named in r.json()["message"]


async def test_any_valid_credential_may_ask(app: FastAPI, db: asyncpg.Connection, credential: Any) -> None:
    """ADR 0006: any valid credential may read an Activity (`define` included); bad credentials are 401."""
    for scope in ("statements/write", "define"):
        async with XAPI(app, auth=await credential(scope)) as c:
            assert (await c.get("/activities", params={"activityId": IRI})).status_code == 200
    async with XAPI(app, auth=("nobody", "wrong")) as c:
        assert (await c.get("/activities", params={"activityId": IRI})).status_code == 401


async def test_definitions_with_array_syntax_in_their_text_are_kept_exactly(client: XAPI) -> None:
    """C §2.5: the canonical definition keeps every character; the append sends definitions and IRIs as quoted
    array literals, so quotes, backslashes, braces, commas and the word NULL must all survive."""
    tricky = 'q"uote \\back\\\\slash {brace,comma} NULL \\u0041 \n tab\t é 😀'
    iri = "http://example.com/act?x=a,b&y=NULL"
    definition = {"name": {"en-US": tricky}, "extensions": {"http://example.com/e": {"k": [tricky, None, "NULL"]}}}
    batch = [with_definition(iri, definition), with_definition(IRI + "/plain", {"name": {"en-US": "NULL"}})]
    assert (await client.post("/statements", json=batch)).status_code == 200
    r = await client.get("/activities", params={"activityId": iri})
    assert r.json() == {"objectType": "Activity", "id": iri, "definition": definition}
    r = await client.get("/activities", params={"activityId": IRI + "/plain"})
    assert r.json()["definition"] == {"name": {"en-US": "NULL"}}
