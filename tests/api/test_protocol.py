"""Transport rules (C §1-§4): versions, errors, parameters, bodies, authentication, alternate syntax, About."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
import orjson
from fastapi import FastAPI

from lrs.app import create_app
from lrs.settings import Settings
from tests.api.helpers import statement
from tests.conftest import ADMIN, XAPI, basic


async def count(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT count(*) FROM statement"))


def raw(app: FastAPI, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://lrs.test/xapi", headers=headers)


async def test_about_needs_no_credentials_or_version(app: FastAPI) -> None:
    """C §2.8: About lists both versions, answers without auth and without a version header."""
    async with raw(app) as c:
        r = await c.get("/about")
    assert r.status_code == 200
    assert r.json() == {"version": ["1.0.3", "2.0.0"], "extensions": {}}
    assert r.headers["X-Experience-API-Version"] == "2.0.0"


async def test_missing_version_header_is_400(app: FastAPI, db: asyncpg.Connection) -> None:
    """C §3.3, 2.0 §4.1.6.7: a request without X-Experience-API-Version is 400, and says so."""
    async with raw(app, Authorization=basic(*ADMIN)) as c:
        r = await c.get("/statements", params={"statementId": str(uuid.uuid4())})
        assert r.status_code == 400
        assert "X-Experience-API-Version" in r.json()["message"]
        assert "X-Experience-API-Version" in r.headers
        r = await c.post("/statements", json=statement())
        assert r.status_code == 400
    assert await count(db) == 0


async def test_unsupported_versions_are_400(app: FastAPI, db: asyncpg.Connection) -> None:
    """C §3.3: versions before 1.0.0 and 1.1.0 or later are rejected."""
    for version in ("0.95", "1.1.0", "3.0.0", "banana"):
        async with raw(app, Authorization=basic(*ADMIN), **{"X-Experience-API-Version": version}) as c:
            r = await c.get("/statements")
            assert r.status_code == 400, version


async def test_version_header_answers_the_request_version(app: FastAPI, db: asyncpg.Connection) -> None:
    """C §3.3: 1.0.x is answered as 1.0.3, 2.0.x as 2.0.0."""
    for asked, answered in (("1.0", "1.0.3"), ("1.0.1", "1.0.3"), ("2.0.0", "2.0.0"), ("2.0", "2.0.0")):
        async with XAPI(app, version=asked) as c:
            assert (await c.get("/statements")).headers["X-Experience-API-Version"] == answered


async def test_bad_credentials_are_401(app: FastAPI, db: asyncpg.Connection) -> None:
    """C §4.0: missing, malformed or unknown Basic credentials are 401, nothing stored."""
    for header in (None, "Basic:" + basic("a", "b")[6:], basic("nobody", "nothing"), "Bearer abc", "Basic !!!"):
        headers = {"X-Experience-API-Version": "2.0.0"}
        if header is not None:
            headers["Authorization"] = header
        async with raw(app, **headers) as c:
            r = await c.post("/statements", json=statement())
            assert r.status_code == 401, header
            assert r.json()["message"]
    assert await count(db) == 0


async def test_scopes_are_enforced(app: FastAPI, db: asyncpg.Connection, credential: Any) -> None:
    """C §4.2 scopes: statements/write cannot read, statements/read cannot write (403)."""
    writer = await credential("statements/write")
    reader = await credential("statements/read")
    async with XAPI(app, auth=writer) as w, XAPI(app, auth=reader) as r:
        assert (await w.post("/statements", json=statement())).status_code == 200
        assert (await w.get("/statements")).status_code == 403
        assert (await r.post("/statements", json=statement())).status_code == 403
        assert len((await r.get("/statements")).json()["statements"]) == 1
    assert await count(db) == 1


async def test_read_mine_sees_only_its_statements(app: FastAPI, db: asyncpg.Connection, credential: Any) -> None:
    """C §4.2 statements/read/mine: only statements whose authority is this credential."""
    mine = await credential("statements/write", "statements/read/mine")
    async with XAPI(app, auth=mine) as m, XAPI(app) as admin:
        (own,) = (await m.post("/statements", json=statement())).json()
        (other,) = (await admin.post("/statements", json=statement())).json()
        assert [s["id"] for s in (await m.get("/statements")).json()["statements"]] == [own]
        assert (await m.get("/statements", params={"statementId": other})).status_code == 404
        assert len((await admin.get("/statements")).json()["statements"]) == 2


async def test_unknown_and_wrong_case_parameters_are_400(client: XAPI, db: asyncpg.Connection) -> None:
    """C §3.2 / checklist A9: unknown parameters and wrong case are 400, naming the parameter."""
    r = await client.get("/statements", params={"foo": "bar"})
    assert r.status_code == 400 and "foo" in r.json()["message"]
    r = await client.get("/statements", params={"StatementId": str(uuid.uuid4())})
    assert r.status_code == 400 and "statementId" in r.json()["message"]
    r = await client.put("/statements", params={"StatementId": str(uuid.uuid4())}, json=statement())
    assert r.status_code == 400
    r = await client.post("/statements", params={"verb": "x"}, json=statement())
    assert r.status_code == 400
    assert await count(db) == 0


async def test_bad_parameter_values_are_400(client: XAPI, db: asyncpg.Connection) -> None:
    """D §2.2 LRS reqs (B8): parameters are validated like statement values."""
    for params in (
        {"statementId": "wrong"},
        {"voidedStatementId": "wrong"},
        {"agent": "wrong"},
        {"agent": '{"name": "no ifi"}'},
        {"verb": "not.a.valid.iri.com/verb"},
        {"activity": "not an iri"},
        {"registration": "wrong"},
        {"since": "yesterday"},
        {"until": "2020-13-45"},
        {"limit": "-1"},
        {"limit": "ten"},
        {"format": "full"},
        {"ascending": "yes"},
        {"attachments": "1"},
        {"related_agents": "TRUE"},
    ):
        r = await client.get("/statements", params=params)
        assert r.status_code == 400, params
        name = next(iter(params))
        assert name in r.json()["message"], (params, r.json())


async def test_malformed_bodies_are_400(client: XAPI, db: asyncpg.Connection) -> None:
    """C §1.5, §3.2: malformed JSON, wrong types, empty bodies and wrong content types are 400."""
    cases: list[tuple[bytes, str]] = [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b'"a string"', "application/json"),
        (b"42", "application/json"),
        (orjson.dumps(statement()), "text/plain"),
        (orjson.dumps(statement()), "multipart/form-data; boundary=x"),
        (orjson.dumps([statement(), "oops"]), "application/json"),
        (orjson.dumps({**statement(), "actor": "sarah"}), "application/json"),
    ]
    for body, kind in cases:
        r = await client.post("/statements", content=body, headers={"Content-Type": kind})
        assert r.status_code == 400, (body, kind, r.text)
        assert r.json()["message"]
    assert await count(db) == 0


async def test_huge_bodies_are_413(client: XAPI, db: asyncpg.Connection) -> None:
    """C §3.2: bodies over the configured limit are 413 and nothing is stored."""
    big = [statement(result={"response": "x" * 10_000}) for _ in range(30)]
    r = await client.post("/statements", json=big)
    assert r.status_code == 413
    assert "limit" in r.json()["message"]
    assert await count(db) == 0


async def test_unknown_route_and_method(client: XAPI, db: asyncpg.Connection) -> None:
    """C §3.2: unknown resources are 404, unsupported methods 405, with JSON bodies and the version header."""
    r = await client.get("/nothing")
    assert r.status_code == 404 and r.json()["message"]
    r = await client.delete("/statements")
    assert r.status_code == 405
    assert "X-Experience-API-Version" in r.headers
    assert "DELETE" in r.json()["message"]
    assert set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST", "PUT"}
    assert r.headers["X-Experience-API-Consistent-Through"]
    r = await client.get("/statements/", params={"limit": 1})  # as FastAPI's routing does for other resources
    assert r.status_code == 307 and r.headers["location"] == "http://lrs.test/xapi/statements?limit=1"
    r = await client.post("/statements/", json=statement())
    assert r.status_code == 307 and await count(db) == 0


async def test_statements_behind_a_root_path(app: FastAPI, db: asyncpg.Connection) -> None:
    """The Statement resource is found under a proxy's root path, with or without the prefix in the path, and
    its `more` links carry the prefix (C §2.1.3)."""
    headers = {"X-Experience-API-Version": "2.0.0", "Authorization": basic(*ADMIN)}
    transport = httpx.ASGITransport(app=app, root_path="/lrs")
    async with httpx.AsyncClient(transport=transport, base_url="http://lrs.test", headers=headers) as c:
        r = await c.post("/xapi/statements", json=[statement(), statement()])
        assert r.status_code == 200, r.text
        for path in ("/xapi/statements", "/lrs/xapi/statements"):
            r = await c.get(path, params={"limit": 1})
            assert r.status_code == 200, r.text
            assert r.json()["more"].startswith("/lrs/xapi/statements?more=")
            assert r.headers["X-Experience-API-Version"] == "2.0.0"
    assert await count(db) == 2


async def test_root_path_is_a_whole_segment(app: FastAPI, db: asyncpg.Connection) -> None:
    """A root path of /x does not eat the /x of /xapi; an error under a proxy's prefix still carries
    Consistent-Through (C §2.1.3), as uvicorn puts the prefix in the path."""
    headers = {"X-Experience-API-Version": "2.0.0", "Authorization": basic(*ADMIN)}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, root_path="/x"), base_url="http://lrs.test", headers=headers
    ) as c:
        r = await c.get("/xapi/statements", params={"limit": 1})
        assert r.status_code == 200, r.text
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, root_path="/lrs"), base_url="http://lrs.test", headers=headers
    ) as c:
        r = await c.get("/lrs/xapi/statements", params={"limit": "many"})
        assert r.status_code == 400
        assert r.headers["X-Experience-API-Consistent-Through"]


async def test_alternate_request_syntax_1_0_3(app: FastAPI, db: asyncpg.Connection) -> None:
    """C §1.3: POST ?method=PUT with a form carrying headers, parameters and content (1.0.3 only)."""
    sid = str(uuid.uuid4())
    form = {
        "statementId": sid,
        "content": orjson.dumps(statement()).decode(),
        "X-Experience-API-Version": "1.0.3",
        "Authorization": basic(*ADMIN),
        "Content-Type": "application/json",
    }
    async with raw(app) as c:
        r = await c.post(
            "/statements?method=PUT",
            content=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 204, r.text
        assert r.headers["X-Experience-API-Version"] == "1.0.3"
        r = await c.post(
            "/statements?method=GET",
            content=urlencode({"limit": "1", **{k: form[k] for k in ("X-Experience-API-Version", "Authorization")}}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 200 and r.json()["statements"][0]["id"] == sid
        r = await c.post(
            f"/statements?method=PUT&statementId={sid}",
            content=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 400
    assert await count(db) == 1


async def test_alternate_request_syntax_rejected_in_2_0(app: FastAPI, db: asyncpg.Connection) -> None:
    """2.0 §4.1.3 / checklist A3: the alternate request syntax is gone in xAPI 2.0."""
    async with XAPI(app, version="2.0.0") as c:
        r = await c.post(
            "/statements?method=PUT",
            content=urlencode({"statementId": str(uuid.uuid4()), "content": orjson.dumps(statement()).decode()}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert r.status_code == 400
    assert "2.0" in r.json()["message"]
    assert await count(db) == 0


async def test_2_0_only_properties_rejected_in_1_0_3(app: FastAPI, db: asyncpg.Connection) -> None:
    """D §2.2 (C4): a 1.0.3 request may not carry 2.0's contextAgents; a 2.0 request may."""
    s = statement(
        context={
            "contextAgents": [
                {
                    "objectType": "contextAgent",
                    "agent": {"mbox": "mailto:x@example.com"},
                    "relevantTypes": ["http://example.com/t"],
                }
            ]
        }
    )
    async with XAPI(app, version="1.0.3") as c1, XAPI(app, version="2.0.0") as c2:
        r = await c1.post("/statements", json=s)
        assert r.status_code == 400 and "contextAgents" in r.text
        assert (await c2.post("/statements", json=s)).status_code == 200


async def test_concurrent_first_requests_check_a_credential_once(
    app: FastAPI, db: asyncpg.Connection, credential: Any
) -> None:
    """ADR 0004: concurrent first requests share one secret check, and wrong secrets are never cached."""
    import asyncio

    from lrs.auth import Authenticator
    from lrs.store import credentials as store

    key, secret = await credential("all")
    calls = 0

    async def verify(k: str, s: str) -> store.Credential | None:
        nonlocal calls
        calls += 1
        async with app.state.runtime.engine.connect() as conn:
            return await store.verify(conn, k, s)

    auth = Authenticator(verify)
    principals = await asyncio.gather(*(auth.principal(basic(key, secret)) for _ in range(20)))
    assert calls == 1 and len({p.credential_id for p in principals}) == 1
    for _ in range(2):
        try:
            await auth.principal(basic(key, "wrong"))
        except Exception as exc:
            assert getattr(exc, "status", None) == 401
    assert calls == 3


async def test_about_rejects_unknown_parameters_and_answers_head(app: FastAPI) -> None:
    """C §2.8, §3.2, §1.1: About takes no parameters; HEAD is GET without a body."""
    async with raw(app) as c:
        r = await c.get("/about", params={"x": "1"})
        assert r.status_code == 400 and "'x'" in r.json()["message"]
        head = await c.head("/about")
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) == len((await c.get("/about")).content)


async def test_busy_database_is_503(settings: Settings, db: asyncpg.Connection) -> None:
    """When every database connection stays busy past LRS_POOL_TIMEOUT, requests are answered 503 with an xAPI
    error body instead of waiting without end (C §3.2), reads and writes alike, and nothing is stored."""
    app = create_app(settings.model_copy(update={"pool_size": 1, "pool_timeout": 0.2}))
    async with app.router.lifespan_context(app):
        pool = app.state.runtime.pool
        async with pool.acquire(), pool.acquire(), XAPI(app) as c:  # both of the pool's 2 * pool_size connections
            r = await c.get("/statements", params={"limit": 1})
            assert r.status_code == 503, r.text
            assert "busy" in r.json()["message"]
            r = await c.post("/statements", json=[statement(), statement()])
            assert r.status_code == 503, r.text
            r = await c.get(
                "/activities/state",
                params={
                    "activityId": "http://x.test/a",
                    "stateId": "s",
                    "agent": orjson.dumps({"mbox": "mailto:a@x.test"}).decode(),
                },
            )
            assert r.status_code == 503, r.text
        async with XAPI(app) as c:
            assert (await c.get("/statements", params={"limit": 1})).status_code == 200
    assert await count(db) == 0
