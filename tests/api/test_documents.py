"""The three document resources over HTTP, both versions (C §2.2-2.7, §3.1; 2.0 §4.1.4, §4.1.6.2, 4.1.6.5-6)."""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI

from tests.api.documents import ACTIVITY, AGENT, PROFILES, RESOURCES, STATE, Resource, etag, snapshot
from tests.conftest import XAPI

JSON_CT = {"Content-Type": "application/json"}
CREATE = {"If-None-Match": "*"}

resources = pytest.mark.parametrize("res", RESOURCES, ids=lambda r: r.name)
profiles = pytest.mark.parametrize("res", PROFILES, ids=lambda r: r.name)


async def create(c: XAPI, res: Resource, content: bytes, content_type: str, **params: str | None) -> None:
    r = await c.put(
        res.path, params=res.params(**params), content=content, headers={"Content-Type": content_type, **CREATE}
    )
    assert r.status_code == 204, r.text


async def get_json(c: XAPI, res: Resource, **params: str | None) -> object:
    r = await c.get(res.path, params=res.params(**params))
    assert r.status_code == 200, r.text
    return r.json()


@resources
async def test_documents_round_trip_byte_for_byte(client: XAPI, res: Resource) -> None:
    """C §2.2: documents of any content type are stored and returned exactly, with their Content-Type, a quoted
    SHA-1 ETag and Last-Modified (C §3.1; 2.0 §4.1.6.2 Last-Modified shall)."""
    content = bytes(range(256)) * 3
    await create(client, res, content, "image/png")
    r = await client.get(res.path, params=res.params())
    assert r.status_code == 200
    assert r.content == content
    assert r.headers["content-type"] == "image/png"
    assert r.headers["etag"] == etag(content)
    assert parsedate_to_datetime(r.headers["last-modified"]).tzinfo is not None
    await create(client, res, b"caf\xe9", "text/plain; charset=ISO-8859-1", doc_id="latin")
    r = await client.get(res.path, params=res.params(doc_id="latin"))
    assert (r.content, r.headers["content-type"]) == (b"caf\xe9", "text/plain; charset=ISO-8859-1")


@resources
async def test_head_is_get_without_body(client: XAPI, res: Resource) -> None:
    """C §1.1: HEAD answers GET's status and headers with no body, for one document and for the id list."""
    await create(client, res, b'{"a": 1}', "application/json")
    for params in (res.params(), res.params(doc_id=None)):
        got, head = await client.get(res.path, params=params), await client.head(res.path, params=params)
        assert head.status_code == got.status_code == 200
        assert head.content == b""
        for name in ("etag", "content-type", "last-modified", "content-length"):
            assert head.headers[name] == got.headers[name]


@resources
async def test_missing_document_is_404(client: XAPI, res: Resource) -> None:
    """2.0 §4.1.5: 404 for a GET of a single document that is not stored."""
    r = await client.get(res.path, params=res.params(doc_id="never-stored"))
    assert r.status_code == 404
    assert "never-stored" in r.json()["message"]


@resources
async def test_post_creates_then_merges(client: XAPI, res: Resource) -> None:
    """C §2.2 (XAPI-00233, 00234, 00183, 00184): a POST creates a missing document; POSTing JSON onto JSON merges
    the top-level properties (whole values replaced) and answers 204."""
    first = {"car": {"make": "Ford", "model": "Escape"}, "driver": "Dale", "keep": [1, 2]}
    r = await client.post(res.path, params=res.params(), json=first)
    assert r.status_code == 204
    assert await get_json(client, res) == first
    r = await client.post(res.path, params=res.params(), json={"car": {"make": "Dodge"}, "series": "x"})
    assert r.status_code == 204
    assert await get_json(client, res) == {"car": {"make": "Dodge"}, "driver": "Dale", "keep": [1, 2], "series": "x"}
    r = await client.get(res.path, params=res.params())
    assert r.headers["etag"] == etag(r.content)


@resources
@pytest.mark.parametrize(
    ("stored", "stored_type", "posted", "posted_type", "problem"),
    [
        (b'{"a": 1}', "application/json", b"abcdefg", "not/json", "posted document's Content-Type"),
        (b"/ asdf / undefined", "application/octet-stream", b'{"b": 2}', "application/json", "stored document's"),
        (b'{"a": 1}', "application/json", b'{"b": 2}{', "application/json", "not valid JSON"),
        (b'{"a": 1}', "application/json", b"[1, 2]", "application/json", "JSON object"),
        (b"[1, 2]", "application/json", b'{"b": 2}', "application/json", "stored document must be a JSON object"),
    ],
)
async def test_post_that_cannot_merge_is_400_and_changes_nothing(
    client: XAPI,
    db: asyncpg.Connection,
    res: Resource,
    stored: bytes,
    stored_type: str,
    posted: bytes,
    posted_type: str,
    problem: str,
) -> None:
    """C §2.2 (XAPI-00229, 00232, 00278, 00309, 00313): unless both documents are application/json objects, a POST
    to an existing document is 400 and the stored document is unchanged."""
    await create(client, res, stored, stored_type)
    before = await snapshot(db)
    r = await client.post(res.path, params=res.params(), content=posted, headers={"Content-Type": posted_type})
    assert r.status_code == 400
    assert problem in r.json()["message"]
    assert await snapshot(db) == before


@resources
async def test_invalid_json_post_to_new_document_is_400(client: XAPI, db: asyncpg.Connection, res: Resource) -> None:
    """C §2.2 (XAPI-00235, 00314): an application/json POST body that is not a JSON object is 400, stores nothing."""
    for body in (b'{"a": 1}[', b"", b'"text"'):
        r = await client.post(res.path, params=res.params(), content=body, headers=JSON_CT)
        assert r.status_code == 400, body
    assert await snapshot(db) == []


@resources
async def test_non_json_post_to_new_document_is_stored(client: XAPI, res: Resource) -> None:
    """C §2.2: a POST for a document that does not exist stores it as a PUT would, whatever its type."""
    r = await client.post(res.path, params=res.params(), content=b"abc", headers={"Content-Type": "text/plain"})
    assert r.status_code == 204
    r = await client.get(res.path, params=res.params())
    assert (r.content, r.headers["content-type"]) == (b"abc", "text/plain")


@resources
async def test_id_lists_and_since(client: XAPI, db: asyncpg.Connection, res: Resource) -> None:
    """C §2.3, §2.6, §2.7 (XAPI-00193, 00195, 00221, 00270, 00275, 00289, 00294): GET without the id lists the
    context's ids; `since` keeps those updated strictly after it; Last-Modified is the newest (C §2.2 S*)."""
    assert await get_json(client, res, doc_id=None) == []
    await client.post(res.path, params=res.params(doc_id="first"), json={"n": 1})
    await client.post(res.path, params=res.params(doc_id="second"), json={"n": 2})
    await client.post(res.path, params=res.params(doc_id="a", **_other_context(res)), json={"n": 3})
    r = await client.get(res.path, params=res.params(doc_id=None))
    assert sorted(r.json()) == ["first", "second"]
    table = {"state": "state_document"}.get(res.name, res.name)
    updated = {row["id"]: row["updated"] for row in await db.fetch(f"SELECT {_id(res)} AS id, updated FROM {table}")}
    assert parsedate_to_datetime(r.headers["last-modified"]) == updated["second"].replace(microsecond=0)
    since = updated["first"].isoformat()
    assert await get_json(client, res, doc_id=None, since=since) == ["second"]  # exclusive
    assert await get_json(client, res, doc_id=None, since="2000-01-01T00:00:00Z") == ["first", "second"]
    assert await get_json(client, res, doc_id=None, since=updated["second"].isoformat()) == []


def _other_context(res: Resource) -> dict[str, str]:
    if res.name == "agent_profile":
        return {"agent": json.dumps({"mbox": "mailto:other@example.com"})}
    return {"activityId": ACTIVITY + "/other"}


def _id(res: Resource) -> str:
    return "state_id" if res is STATE else "profile_id"


@resources
async def test_delete_one_document(client: XAPI, res: Resource) -> None:
    """C §2.3, §2.6, §2.7 (XAPI-00187, 00191, 00271, 00285): DELETE removes the document; deleting a missing
    document is 204 too."""
    await create(client, res, b"x", "text/plain")
    await create(client, res, b"y", "text/plain", doc_id="kept")
    assert (await client.delete(res.path, params=res.params())).status_code == 204
    assert (await client.get(res.path, params=res.params())).status_code == 404
    assert await get_json(client, res, doc_id=None) == ["kept"]
    assert (await client.delete(res.path, params=res.params())).status_code == 204


# --- concurrency controls (C §3.1; 2.0 §4.1.4) ------------------------------------------------------------------


@resources
async def test_if_match(client: XAPI, db: asyncpg.Connection, res: Resource) -> None:
    """C §3.1 (XAPI-00322; CTS2 4.1.4): PUT, POST and DELETE with a wrong If-Match are 412 and change nothing; with
    the current ETag they proceed."""
    await create(client, res, b'{"a": 1}', "application/json")
    current = (await client.get(res.path, params=res.params())).headers["etag"]
    before = await snapshot(db)
    wrong = {"If-Match": '"1234"'}
    assert (await client.put(res.path, params=res.params(), json={"b": 2}, headers=wrong)).status_code == 412
    assert (await client.post(res.path, params=res.params(), json={"b": 2}, headers=wrong)).status_code == 412
    assert (await client.delete(res.path, params=res.params(), headers=wrong)).status_code == 412
    assert await snapshot(db) == before
    r = await client.post(res.path, params=res.params(), json={"b": 2}, headers={"If-Match": current})
    assert r.status_code == 204
    merged = await client.get(res.path, params=res.params())
    assert merged.json() == {"a": 1, "b": 2}
    r = await client.put(res.path, params=res.params(), json={"c": 3}, headers={"If-Match": current})
    assert r.status_code == 412  # the ETag changed with the merge
    r = await client.put(res.path, params=res.params(), json={"c": 3}, headers={"If-Match": merged.headers["etag"]})
    assert r.status_code == 204
    assert await get_json(client, res) == {"c": 3}
    r = await client.delete(res.path, params=res.params(), headers={"If-Match": etag(b'{"c":3}')})
    assert r.status_code == 204
    assert (await client.get(res.path, params=res.params())).status_code == 404


@resources
async def test_if_none_match_and_missing_documents(client: XAPI, db: asyncpg.Connection, res: Resource) -> None:
    """C §3.1: If-None-Match: * creates only; If-Match on a missing document fails (412, nothing stored)."""
    r = await client.put(res.path, params=res.params(), json={"a": 1}, headers={"If-Match": "*"})
    assert r.status_code == 412
    r = await client.post(res.path, params=res.params(), json={"a": 1}, headers={"If-Match": '"abc"'})
    assert r.status_code == 412
    assert await snapshot(db) == []
    assert (await client.put(res.path, params=res.params(), json={"a": 1}, headers=CREATE)).status_code == 204
    before = await snapshot(db)
    assert (await client.put(res.path, params=res.params(), json={"b": 2}, headers=CREATE)).status_code == 412
    assert (await client.post(res.path, params=res.params(), json={"b": 2}, headers=CREATE)).status_code == 412
    assert await snapshot(db) == before


@resources
async def test_conditional_get(client: XAPI, res: Resource) -> None:
    """RFC 7232 on GET: If-None-Match with the current ETag is 304 (no body); a failing If-Match is 412."""
    await create(client, res, b"x", "text/plain")
    tag = etag(b"x")
    r = await client.get(res.path, params=res.params(), headers={"If-None-Match": tag})
    assert (r.status_code, r.content, r.headers["etag"]) == (304, b"", tag)
    assert (await client.get(res.path, params=res.params(), headers={"If-Match": '"x"'})).status_code == 412
    assert (await client.get(res.path, params=res.params(), headers={"If-None-Match": '"x"'})).status_code == 200


@profiles
async def test_unconditional_put_on_existing_profile_is_409(
    client: XAPI, db: asyncpg.Connection, res: Resource
) -> None:
    """C §3.1 (XAPI-00322; CTS2 4.1.4): a PUT with neither If-Match nor If-None-Match on an existing profile
    document is 409 with an explanation, and changes nothing."""
    await client.post(res.path, params=res.params(), json={"a": 1})
    before = await snapshot(db)
    r = await client.put(res.path, params=res.params(), json={"b": 2})
    assert r.status_code == 409
    assert "If-Match" in r.json()["message"]
    assert await snapshot(db) == before


async def test_unconditional_state_put_is_409_in_2_0_only(client1: XAPI, client2: XAPI, db: asyncpg.Connection) -> None:
    """C §3.1: 1.0.3 permits a State PUT without concurrency headers (replaces); 2.0 §4.1.4 lists the State resource
    with the others, so there a PUT without either header on an existing state is 409 (CTS2 4.1.4)."""
    await client1.put(STATE.path, params=STATE.params(), json={"a": 1})
    r = await client1.put(STATE.path, params=STATE.params(), json={"b": 2})
    assert r.status_code == 204
    before = await snapshot(db)
    r = await client2.put(STATE.path, params=STATE.params(), json={"c": 3})
    assert r.status_code == 409
    assert await snapshot(db) == before
    assert await get_json(client2, STATE) == {"b": 2}


@profiles
async def test_creating_a_profile_without_preconditions(
    client1: XAPI, client2: XAPI, db: asyncpg.Connection, res: Resource
) -> None:
    """1.0.3 C §3.1: a client MUST send If-Match or If-None-Match with a profile PUT, and the 1.0.3 suite expects
    400 without them; 2.0 has no such client rule, so there the PUT creates the document."""
    r = await client1.put(res.path, params=res.params(), json={"a": 1})
    assert r.status_code == 400
    assert "If-None-Match" in r.json()["message"]
    assert await snapshot(db) == []
    assert (await client2.put(res.path, params=res.params(), json={"a": 1})).status_code == 204


async def test_state_put_without_preconditions_creates(client: XAPI) -> None:
    """C §2.3 (XAPI-00190): a PUT of a new state document needs no concurrency headers in either version."""
    assert (await client.put(STATE.path, params=STATE.params(), json={"a": 1})).status_code == 204


async def test_delete_all_takes_no_preconditions(client: XAPI, db: asyncpg.Connection) -> None:
    """C §3.1 applies to one document: If-Match on a DELETE without stateId is 400, and nothing is deleted."""
    await client.post(STATE.path, params=STATE.params(), json={"a": 1})
    before = await snapshot(db)
    r = await client.delete(STATE.path, params=STATE.params(doc_id=None), headers={"If-Match": "*"})
    assert r.status_code == 400
    assert await snapshot(db) == before


@resources
async def test_malformed_precondition_header_is_400(client: XAPI, db: asyncpg.Connection, res: Resource) -> None:
    """A precondition header that is neither * nor entity tags is 400 naming it; nothing is stored."""
    r = await client.put(res.path, params=res.params(), json={"a": 1}, headers={"If-Match": ","})
    assert r.status_code == 400
    assert "If-Match" in r.json()["message"]
    assert await snapshot(db) == []


# --- the State resource's context (C §2.3) ----------------------------------------------------------------------

REG_A = "11111111-1111-4111-8111-111111111111"
REG_B = "22222222-2222-4222-8222-222222222222"


async def test_registration_is_part_of_the_key(client: XAPI) -> None:
    """C §2.3: a state is named by activityId + agent + registration (optional) + stateId; without registration
    the id list and DELETE cover every registration ("Activity + Agent [+ registration if specified]")."""
    for reg, value in ((None, 0), (REG_A, 1), (REG_B, 2)):
        r = await client.post(STATE.path, params=STATE.params(registration=reg), json={"v": value})
        assert r.status_code == 204
    await client.post(STATE.path, params=STATE.params(doc_id="only-a", registration=REG_A), json={})
    assert await get_json(client, STATE) == {"v": 0}
    assert await get_json(client, STATE, registration=REG_A.upper()) == {"v": 1}
    assert await get_json(client, STATE, doc_id=None) == ["doc-1", "only-a"]
    assert await get_json(client, STATE, doc_id=None, registration=REG_B) == ["doc-1"]
    r = await client.delete(STATE.path, params=STATE.params(doc_id=None, registration=REG_A))
    assert r.status_code == 204
    assert await get_json(client, STATE, doc_id=None, registration=REG_A) == []
    assert await get_json(client, STATE, registration=REG_B) == {"v": 2}
    assert (await client.delete(STATE.path, params=STATE.params(doc_id=None))).status_code == 204
    assert await get_json(client, STATE, doc_id=None) == []


async def test_delete_all_keeps_other_contexts(client: XAPI) -> None:
    """C §2.3 (XAPI-00194): DELETE without stateId deletes the context's documents and nobody else's."""
    other_agent = json.dumps({"account": {"homePage": "http://example.com", "name": "bob"}})
    await client.post(STATE.path, params=STATE.params(), json={"mine": 1})
    await client.post(STATE.path, params=STATE.params(agent=other_agent), json={"bob": 1})
    await client.post(STATE.path, params=STATE.params(activityId=ACTIVITY + "/2"), json={"other": 1})
    assert (await client.delete(STATE.path, params=STATE.params(doc_id=None))).status_code == 204
    assert await get_json(client, STATE, doc_id=None) == []
    assert await get_json(client, STATE, agent=other_agent) == {"bob": 1}
    assert await get_json(client, STATE, activityId=ACTIVITY + "/2") == {"other": 1}


@pytest.mark.parametrize("res", [STATE, PROFILES[1]], ids=lambda r: r.name)
async def test_agents_are_identified_by_ifi(client: XAPI, res: Resource) -> None:
    """D §2.4.2.3: the same IFI with another name (or no objectType) is the same Agent, so the same documents."""
    named = json.dumps({"objectType": "Agent", "name": "Ann", "mbox": AGENT["mbox"]})
    await client.post(res.path, params=res.params(agent=named), json={"a": 1})
    assert await get_json(client, res, agent=json.dumps({"mbox": AGENT["mbox"]})) == {"a": 1}
    r = await client.get(res.path, params=res.params(agent=json.dumps({"mbox": "mailto:ANN@example.com"})))
    assert r.status_code == 404


# --- bad input (C §3.2; 2.0 §4.1.5-4.1.6) -----------------------------------------------------------------------

GROUP = json.dumps({"objectType": "Group", "mbox": "mailto:group@example.com"})


def bad_cases(res: Resource) -> list[tuple[str, dict[str, str], str]]:
    """(method, params, the parameter the message must name) for requests that must be 400."""
    cases: list[tuple[str, dict[str, str], str]] = []
    for method in ("GET", "PUT", "POST", "DELETE"):
        cases += [
            (method, {**res.params(), "unknown": "x"}, "unknown"),
            (method, {**res.params(), res.id_param.upper(): "x"}, res.id_param.upper()),
        ]
        for name in res.context:
            cases.append((method, res.params(**{name: None}), name))
        if "activityId" in res.context:
            cases.append((method, res.params(activityId="not-an-iri"), "activityId"))
        if "agent" in res.context:
            cases += [
                (method, res.params(agent="not JSON"), "agent"),
                (method, res.params(agent="true"), "agent"),
                (method, res.params(agent=GROUP), "agent"),
                (method, res.params(agent=json.dumps({"name": "no identifier"})), "agent"),
                (method, res.params(agent=json.dumps({"mbox": "ann@example.com"})), "agent"),
            ]
        if res is STATE:
            cases.append((method, res.params(registration="true"), "registration"))
        cases.append((method, res.params(doc_id=""), res.id_param))
        cases.append((method, res.params(doc_id="x" * 801), res.id_param))
    cases += [
        ("PUT", res.params(doc_id=None), res.id_param),
        ("POST", res.params(doc_id=None), res.id_param),
        ("GET", res.params(doc_id=None, since="not a timestamp"), "since"),
        ("GET", res.params(since="2024-01-01T00:00:00Z"), "since"),
        ("PUT", res.params(since="2024-01-01T00:00:00Z"), "since"),
    ]
    if res is not STATE:
        cases.append(("DELETE", res.params(doc_id=None), res.id_param))
    return cases


@resources
async def test_bad_parameters_are_400_naming_them(client: XAPI, db: asyncpg.Connection, res: Resource) -> None:
    """C §2.3-2.7, §3.2 (XAPI-00196..00215, 00255..00267, 00295..00302): missing, malformed, unknown or wrong-case
    parameters, a Group as `agent`, a `since` outside an id list: 400 naming the parameter; nothing stored."""
    await create(client, res, b'{"kept": true}', "application/json")
    before = await snapshot(db)
    for method, params, named in bad_cases(res):
        r = await client.request(method, res.path, params=params, json={"x": 1}, headers=CREATE)
        assert r.status_code == 400, (method, params, r.text)
        assert named in r.json()["message"], (method, params, r.text)
    assert await snapshot(db) == before


@resources
async def test_body_over_the_limit_is_413(client: XAPI, db: asyncpg.Connection, res: Resource) -> None:
    """C §3.2: a document larger than the configured limit (LRS_MAX_BODY_BYTES) is 413; nothing stored."""
    huge = b"x" * (256 * 1024 + 1)
    for method in ("PUT", "POST"):
        r = await client.request(method, res.path, params=res.params(), content=huge, headers=CREATE)
        assert r.status_code == 413
    assert await snapshot(db) == []


@resources
async def test_version_header_is_required(client: XAPI, res: Resource) -> None:
    """C §3.3 (CTS 2.8): every document resource rejects a request without X-Experience-API-Version."""
    r = await client.get(res.path, params=res.params(), headers={"X-Experience-API-Version": ""})
    assert r.status_code == 400


# --- credentials and scopes (C §4.2) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scopes", "state_read", "state_write", "profile_read", "profile_write"),
    [
        (("state",), 200, 204, 403, 403),
        (("profile",), 403, 403, 200, 204),
        (("all/read",), 200, 403, 200, 403),
        (("all",), 200, 204, 200, 204),
        (("statements/write", "statements/read", "define"), 403, 403, 403, 403),
    ],
)
async def test_scopes(
    app: FastAPI,
    db: asyncpg.Connection,
    credential: Any,
    scopes: tuple[str, ...],
    state_read: int,
    state_write: int,
    profile_read: int,
    profile_write: int,
) -> None:
    """C §4.2: `state` covers the State resource, `profile` both profile resources, `all/read` every GET, `all`
    everything; other scopes get 403 (C §3.2)."""
    key = await credential(*scopes)
    expected = [(STATE, state_read, state_write)] + [(p, profile_read, profile_write) for p in PROFILES]
    async with XAPI(app, auth=key) as c, XAPI(app) as admin:
        for res, read, write in expected:
            await create(admin, res, b"{}", "application/json")
            assert (await c.get(res.path, params=res.params())).status_code == read
            assert (await c.get(res.path, params=res.params(doc_id=None))).status_code == read
            r = await c.post(res.path, params=res.params(doc_id="new"), json={"a": 1})
            assert r.status_code == write
            r = await c.delete(res.path, params=res.params())
            assert r.status_code == write


async def test_wrong_credentials_are_401(app: FastAPI, db: asyncpg.Connection) -> None:
    """C §4.0: unknown credentials are 401, and nothing is stored."""
    async with XAPI(app, auth=("nobody", "wrong")) as c:
        for res in RESOURCES:
            r = await c.put(res.path, params=res.params(), json={"a": 1}, headers=CREATE)
            assert r.status_code == 401
    assert await snapshot(db) == []
