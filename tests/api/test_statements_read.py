"""GET of statements (C §2.1.3): single, filters, StatementRef rule, voiding (D §2.3.2), paging (D §2.5)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import asyncpg

from tests.api.helpers import VOIDED, agent, statement, with_id
from tests.conftest import XAPI

V1 = "http://example.com/verbs/v1"
V2 = "http://example.com/verbs/v2"
V3 = "http://example.com/verbs/v3"


async def post(client: XAPI, *stmts: dict[str, Any]) -> list[str]:
    r = await client.post("/statements", json=list(stmts))
    assert r.status_code == 200, r.text
    ids: list[str] = r.json()
    return ids


async def ids_of(client: XAPI, **params: Any) -> list[str]:
    r = await client.get("/statements", params=params)
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()["statements"]]


async def test_single_get_unknown_is_404(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.3: an unknown statementId is 404 with Consistent-Through still present."""
    r = await client.get("/statements", params={"statementId": str(uuid.uuid4())})
    assert r.status_code == 404
    assert "X-Experience-API-Consistent-Through" in r.headers


async def test_single_get_has_last_modified_equal_to_stored(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.3 (S*, 2.0 SHALL): Last-Modified matches stored to the second."""
    (sid,) = await post(client, statement())
    r = await client.get("/statements", params={"statementId": sid})
    stored = dt.datetime.fromisoformat(r.json()["stored"].replace("Z", "+00:00"))
    from email.utils import parsedate_to_datetime

    assert parsedate_to_datetime(r.headers["Last-Modified"]) == stored.replace(microsecond=0)
    assert r.headers["X-Experience-API-Version"] == client.headers["X-Experience-API-Version"]


async def test_single_get_parameter_conflicts(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.3: statementId/voidedStatementId only combine with attachments and format."""
    (sid,) = await post(client, statement())
    for extra in ({"verb": V1}, {"limit": "1"}, {"ascending": "true"}, {"voidedStatementId": sid}):
        r = await client.get("/statements", params={"statementId": sid, **extra})
        assert r.status_code == 400, extra
    r = await client.get("/statements", params={"statementId": sid, "format": "ids", "attachments": "false"})
    assert r.status_code == 200


async def test_filters_verb_agent_activity_registration(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.3: verb, agent (actor or object), activity (object only), registration."""
    reg = str(uuid.uuid4())
    a = await post(client, statement("ann", V1, "http://example.com/a", context={"registration": reg}))
    b = await post(client, statement("bob", V2, "http://example.com/b"))
    c = await post(client, statement("cat", V1, "http://example.com/b", object=agent("ann")))
    assert await ids_of(client, verb=V1) == c + a
    assert await ids_of(client, agent=json.dumps(agent("ann"))) == c + a
    assert await ids_of(client, activity="http://example.com/b") == b
    assert await ids_of(client, registration=reg) == a
    assert await ids_of(client, verb=V2, agent=json.dumps(agent("ann"))) == []
    assert await ids_of(client, verb="http://example.com/none") == []


async def test_related_agents_and_activities(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.3: related_agents covers instructor/team/authority/SubStatement; related_activities the context."""
    ctx = {
        "instructor": agent("teacher"),
        "contextActivities": {"category": [{"id": "http://example.com/cat"}]},
    }
    (sid,) = await post(client, statement("ann", context=ctx))
    teacher = json.dumps(agent("teacher"))
    assert await ids_of(client, agent=teacher) == []
    assert await ids_of(client, agent=teacher, related_agents="true") == [sid]
    assert await ids_of(client, activity="http://example.com/cat") == []
    assert await ids_of(client, activity="http://example.com/cat", related_activities="true") == [sid]
    sub = {
        "objectType": "SubStatement",
        "actor": agent("inner"),
        "verb": {"id": V1},
        "object": {"id": "http://example.com/inner"},
    }
    (s2,) = await post(client, statement("ann", object=sub))
    assert await ids_of(client, agent=json.dumps(agent("inner")), related_agents="true") == [s2]
    assert await ids_of(client, activity="http://example.com/inner", related_activities="true") == [s2]
    assert await ids_of(client, activity="http://example.com/inner") == []


async def test_group_members_match_agent_filter(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.3: an agent filter matches a Group actor having that agent as member."""
    group = {"objectType": "Group", "member": [agent("ann"), agent("bob")]}
    s = statement()
    s["actor"] = group
    (sid,) = await post(client, s)
    assert await ids_of(client, agent=json.dumps(agent("bob"))) == [sid]


async def test_voiding_and_statement_ref_filter(client: XAPI, db: asyncpg.Connection) -> None:
    """D §2.3.2, C §2.1.3: voided statements vanish from queries but match through StatementRefs."""
    (target,) = await post(client, statement("ann", V1))
    (voiding,) = await post(client, statement("ann", VOIDED, object={"objectType": "StatementRef", "id": target}))
    (ref,) = await post(client, statement("bob", V2, object={"objectType": "StatementRef", "id": target}))
    assert await ids_of(client, verb=V1) == [ref, voiding]
    assert await ids_of(client, verb=V1, limit=1) == [ref]
    r = await client.get("/statements", params={"statementId": target})
    assert r.status_code == 404
    r = await client.get("/statements", params={"voidedStatementId": target})
    assert r.status_code == 200 and r.json()["id"] == target
    assert target not in await ids_of(client)
    r = await client.get("/statements", params={"voidedStatementId": ref})
    assert r.status_code == 404


async def test_voiding_a_voiding_statement_does_not_apply(client: XAPI, db: asyncpg.Connection) -> None:
    """D §2.3.2: a voiding statement cannot be voided."""
    (target,) = await post(client, statement())
    (w1,) = await post(client, statement(verb=VOIDED, object={"objectType": "StatementRef", "id": target}))
    await post(client, statement(verb=VOIDED, object={"objectType": "StatementRef", "id": w1}))
    assert (await client.get("/statements", params={"statementId": w1})).status_code == 200


async def test_voiding_a_missing_target_is_accepted(client: XAPI, db: asyncpg.Connection) -> None:
    """D §2.3.2 (SHOULD NOT reject): voiding an unknown id is stored; the target is voided when it arrives."""
    late = with_id(statement(verb=V1))
    await post(client, statement(verb=VOIDED, object={"objectType": "StatementRef", "id": late["id"]}))
    await post(client, late)
    assert (await client.get("/statements", params={"statementId": late["id"]})).status_code == 404
    assert (await client.get("/statements", params={"voidedStatementId": late["id"]})).status_code == 200


async def test_late_target_gives_referrer_its_keys(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.3 StatementRef rule holds whatever order target and referrer arrive in."""
    target = with_id(statement("ann", V1))
    (ref,) = await post(client, statement("bob", V2, object={"objectType": "StatementRef", "id": target["id"]}))
    await post(client, target)
    assert await ids_of(client, verb=V1) == [target["id"], ref]


async def test_statement_ref_chains_inherit_across_appends(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.3: a referrer matches what its target matches, through chains inside one batch and to statements
    stored earlier, and a late target reaches every referrer of the chain."""
    (root,) = await post(client, statement("ann", V1))
    middle = with_id(statement("bob", V2, object={"objectType": "StatementRef", "id": root}))
    outer = with_id(statement("cat", V2, object={"objectType": "StatementRef", "id": middle["id"]}))
    await post(client, outer, middle)
    assert await ids_of(client, verb=V1) == [middle["id"], outer["id"], root]
    assert await ids_of(client, agent=json.dumps(agent("ann"))) == [middle["id"], outer["id"], root]

    late = with_id(statement("dan", V3))
    (r1,) = await post(client, statement("eve", V2, object={"objectType": "StatementRef", "id": late["id"]}))
    (r2,) = await post(client, statement("fay", V2, object={"objectType": "StatementRef", "id": r1}))
    await post(client, late)
    assert await ids_of(client, verb=V3) == [late["id"], r2, r1]


async def test_more_pages_keep_their_snapshot_when_a_statement_is_voided(client: XAPI, db: asyncpg.Connection) -> None:
    """ADR 0002: the pages of one query come from the first page's snapshot, voiding included; a new query
    no longer returns the voided statement (D §2.3.2, C §2.1.3)."""
    ids = await post(client, *[statement(verb=V3) for _ in range(3)])
    first = (await client.get("/statements", params={"verb": V3, "limit": 1})).json()
    assert [s["id"] for s in first["statements"]] == [ids[2]]
    (voiding,) = await post(client, statement(verb=VOIDED, object={"objectType": "StatementRef", "id": ids[1]}))
    rest = (await client.get(first["more"].removeprefix("/xapi"))).json()
    assert [s["id"] for s in rest["statements"]] == [ids[1]]
    assert await ids_of(client, verb=V3) == [voiding, ids[2], ids[0]]  # the voiding one matches through its target


async def test_since_until_ascending(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.3: since exclusive, until inclusive, both on stored; ascending order."""
    ids = []
    for _ in range(3):
        ids += await post(client, statement())
    stored = [(await client.get("/statements", params={"statementId": i})).json()["stored"] for i in ids]
    assert await ids_of(client, since=stored[0]) == [ids[2], ids[1]]
    assert await ids_of(client, until=stored[1]) == [ids[1], ids[0]]
    assert await ids_of(client, since=stored[0], until=stored[1]) == [ids[1]]
    assert await ids_of(client, ascending="true") == ids


async def test_more_pages_through_everything(client: XAPI, db: asyncpg.Connection) -> None:
    """D §2.5: `more` is a relative URL; following it returns every statement once."""
    ids = await post(client, *[statement() for _ in range(25)])
    seen: list[str] = []
    r = await client.get("/statements", params={"limit": 7})
    while True:
        body = r.json()
        seen += [s["id"] for s in body["statements"]]
        if not body["more"]:
            break
        assert body["more"].startswith("/xapi/statements?more=")
        assert len(body["more"]) < 400
        r = await client.get(body["more"].removeprefix("/xapi"))
        assert r.status_code == 200
    assert seen == list(reversed(ids))


async def test_default_page_size_and_limit_zero(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.3: limit 0 means the server maximum; without limit the default page size applies."""
    await post(client, *[statement() for _ in range(60)])
    assert len(await ids_of(client)) == 10
    assert len(await ids_of(client, limit=0)) == 50
    assert len(await ids_of(client, limit=500)) == 50


async def test_tampered_more_token_is_400(client: XAPI, db: asyncpg.Connection) -> None:
    """D §2.5: a `more` token is signed."""
    r = await client.get("/statements", params={"more": "AAAA" + "x" * 30})
    assert r.status_code == 400
    assert "more" in r.json()["message"]


async def test_formats(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.3 format: ids keeps identifiers only; canonical filters language maps by Accept-Language."""
    s = statement(
        object={
            "id": "http://example.com/act",
            "definition": {"name": {"en-US": "Course", "en-GB": "Course (GB)"}},
        }
    )
    s["actor"]["name"] = "Sarah"
    s["verb"]["display"] = {"en-US": "completed", "en-GB": "completed (GB)"}
    (sid,) = await post(client, s)
    r = await client.get("/statements", params={"statementId": sid, "format": "ids"})
    got = r.json()
    assert "name" not in got["actor"] and "display" not in got["verb"] and "definition" not in got["object"]
    r = await client.get(
        "/statements", params={"statementId": sid, "format": "canonical"}, headers={"Accept-Language": "en-GB"}
    )
    got = r.json()
    assert got["verb"]["display"] == {"en-GB": "completed (GB)"}
    assert got["object"]["definition"]["name"] == {"en-GB": "Course (GB)"}
    got = (await client.get("/statements", params={"statementId": sid})).json()
    assert got["verb"]["display"] == s["verb"]["display"]


async def test_attachments_true_answers_multipart(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.3: attachments=true answers multipart/mixed whose first part is the JSON."""
    (sid,) = await post(client, statement())
    r = await client.get("/statements", params={"statementId": sid, "attachments": "true"})
    assert r.headers["content-type"].startswith("multipart/mixed; boundary=")
    assert sid in r.text
    r = await client.get("/statements", params={"attachments": "false"})
    assert r.headers["content-type"].startswith("application/json")


async def test_head_is_get_without_body(client: XAPI, db: asyncpg.Connection) -> None:
    """C §1.1: HEAD answers like GET with no body."""
    await post(client, statement())
    r = await client.head("/statements")
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["content-length"]) > 0


async def test_a_page_cut_before_the_statement_beyond_it_keeps_multibyte_text(
    client: XAPI, db: asyncpg.Connection
) -> None:
    """D §2.2, C §2.1.3: a page holds exactly `limit` statements, each as stored, when the statement beyond the
    page (fetched to know there is more) and those in it are written in multi-byte UTF-8."""
    texts = ["é" * 7, "日本語のテキスト", "emoji 😀😀 and ,commas, }braces{", '\\u0041 \\" quote']
    sent = [with_id(statement(result={"response": t})) for t in texts]
    await post(client, *sent)
    r = await client.get("/statements", params={"limit": 3})
    page = r.json()
    assert [s["result"]["response"] for s in page["statements"]] == list(reversed(texts))[:3]
    assert page["more"]
    rest = (await client.get(page["more"].removeprefix("/xapi"))).json()
    assert [s["result"]["response"] for s in rest["statements"]] == [texts[0]]
