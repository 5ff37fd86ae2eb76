"""Statements with attachments over HTTP: multipart/mixed in (C §1.5.2) and out (C §2.1.3), stored once per sha2."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from fastapi import FastAPI

from lrs.http.multipart import Parser, PartData, PartStart, boundary_of
from tests.api.helpers import statement, with_id
from tests.conftest import XAPI

BOUNDARY = "-------314159265358979323846"
Part = tuple[dict[str, str], bytes]


def sha(data: bytes) -> str:
    """SHA-256 hex."""
    return hashlib.sha256(data).hexdigest()


def attachment(data: bytes, content_type: str = "text/plain", **extra: Any) -> dict[str, Any]:
    """An Attachment object describing `data`."""
    return {
        "usageType": "http://example.com/attachment-usage/test",
        "display": {"en-US": "A test attachment"},
        "contentType": content_type,
        "length": len(data),
        "sha2": sha(data),
        **extra,
    }


def part(data: bytes, content_type: str = "text/plain", **headers: str) -> Part:
    """An attachment part with the usual headers (override or drop one with a value of '')."""
    base = {"Content-Type": content_type, "Content-Transfer-Encoding": "binary", "X-Experience-API-Hash": sha(data)}
    base.update({k.replace("_", "-"): v for k, v in headers.items()})
    return {k: v for k, v in base.items() if v}, data


def multipart(
    statements: Any, *parts: Part, boundary: str = BOUNDARY, json_type: str = "application/json", sep: str = ": "
) -> bytes:
    """A multipart/mixed statement request body: the statements first, then the parts (CRLF line ends)."""
    first: Part = ({"Content-Type": json_type}, orjson.dumps(statements))
    body = b""
    for headers, content in (first, *parts):
        head = "".join(f"{k}{sep}{v}\r\n" for k, v in headers.items())
        body += f"--{boundary}\r\n{head}\r\n".encode() + content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def mixed(boundary: str = BOUNDARY) -> dict[str, str]:
    """The request Content-Type header."""
    return {"Content-Type": f"multipart/mixed; boundary={boundary}"}


def parse_response(response: httpx.Response) -> list[Part]:
    """The parts of a multipart/mixed response."""
    parser = Parser(boundary_of(response.headers["content-type"]))
    parts: list[Part] = []
    for event in [*parser.feed(response.content), *parser.close()]:
        if isinstance(event, PartStart):
            parts.append((event.headers, b""))
        elif isinstance(event, PartData):
            parts[-1] = (parts[-1][0], parts[-1][1] + event.data)
    return parts


async def counts(db: asyncpg.Connection) -> tuple[int, int, int]:
    """(statements, attachments, chunks) stored."""
    row = await db.fetchrow(
        "SELECT (SELECT count(*) FROM statement) s, (SELECT count(*) FROM attachment) a, "
        "(SELECT count(*) FROM attachment_chunk) c"
    )
    return row["s"], row["a"], row["c"]


TEXT1 = b"here is a simple attachment"
TEXT2 = b"here is another simple attachment\r\n--with dashes"


async def post(client: XAPI, statements: Any, *parts: Part, **kw: Any) -> httpx.Response:
    """POST a multipart statement request."""
    return await client.post("/statements", content=multipart(statements, *parts, **kw), headers=mixed())


# --- storing --------------------------------------------------------------------------------------------------------


async def test_post_with_two_attachments_and_get_them_back(client: XAPI, db: asyncpg.Connection) -> None:
    """C §1.5.2: parts matched by sha2 are stored; C §2.1.3: attachments=true returns them after the statement."""
    stmt = statement(attachments=[attachment(TEXT1), attachment(TEXT2)])
    r = await post(client, stmt, part(TEXT1), part(TEXT2))
    assert r.status_code == 200, r.text
    sid = r.json()[0]
    assert await counts(db) == (1, 2, 2)

    got = await client.get("/statements", params={"statementId": sid, "attachments": "true"})
    assert got.status_code == 200
    content_type = got.headers["content-type"]
    assert content_type.startswith("multipart/mixed; boundary=") and '"' not in content_type
    assert "X-Experience-API-Consistent-Through" in got.headers and "Last-Modified" in got.headers
    parts = parse_response(got)
    assert parts[0][0] == {"content-type": "application/json"}
    assert orjson.loads(parts[0][1])["id"] == sid
    assert [(h["x-experience-api-hash"], h["content-transfer-encoding"], body) for h, body in parts[1:]] == [
        (sha(TEXT1), "binary", TEXT1),
        (sha(TEXT2), "binary", TEXT2),
    ]
    assert got.text.count(sha(TEXT1)) == 2  # once in the statement, once as the part header (ADL suite)
    assert int(got.headers["content-length"]) == len(got.content)


async def test_attachments_false_or_absent_is_json(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.3: without attachments=true the answer is application/json, no raw data."""
    r = await post(client, statement(attachments=[attachment(TEXT1)]), part(TEXT1))
    sid = r.json()[0]
    for params in ({"statementId": sid}, {"statementId": sid, "attachments": "false"}, {"attachments": "false"}):
        got = await client.get("/statements", params=params)
        assert got.status_code == 200 and got.headers["content-type"].startswith("application/json")
        assert TEXT1.decode() not in got.text


async def test_content_is_stored_once_and_sent_once(client: XAPI, db: asyncpg.Connection) -> None:
    """D §2.4.11: the same content in several statements is stored and returned once per sha2."""
    shared = attachment(TEXT1)
    r = await post(client, [statement(attachments=[shared]), statement(attachments=[shared])], part(TEXT1))
    assert r.status_code == 200, r.text
    r = await post(client, statement(attachments=[shared, attachment(TEXT2)]), part(TEXT2), part(TEXT1))
    assert r.status_code == 200, r.text
    assert await counts(db) == (3, 2, 2)
    got = await client.get("/statements", params={"attachments": "true"})
    parts = parse_response(got)
    assert len(orjson.loads(parts[0][1])["statements"]) == 3
    assert sorted(h["x-experience-api-hash"] for h, _ in parts[1:]) == sorted([sha(TEXT1), sha(TEXT2)])


async def test_list_with_attachments_true_and_no_attachments(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.3: attachments=true is multipart even when nothing has attachments; HEAD gives the same length."""
    await client.post("/statements", json=statement())
    got = await client.get("/statements", params={"attachments": "true"})
    assert got.status_code == 200 and got.headers["content-type"].startswith("multipart/mixed")
    parts = parse_response(got)
    assert len(parts) == 1 and len(orjson.loads(parts[0][1])["statements"]) == 1
    head = await client.head("/statements", params={"attachments": "true"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(got.content))


async def test_substatement_attachments_are_returned(client: XAPI, db: asyncpg.Connection) -> None:
    """D §2.4.11: attachments of a SubStatement travel like the statement's own."""
    sub = {
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:sub@example.com"},
        "verb": {"id": "http://example.com/verbs/did"},
        "object": {"id": "http://example.com/activity/sub"},
        "attachments": [attachment(TEXT2)],
    }
    r = await post(client, statement(object=sub), part(TEXT2))
    assert r.status_code == 200, r.text
    got = await client.get("/statements", params={"statementId": r.json()[0], "attachments": "true"})
    assert [body for _, body in parse_response(got)[1:]] == [TEXT2]


async def test_put_multipart(client: XAPI, db: asyncpg.Connection) -> None:
    """C §2.1.1: PUT takes multipart/mixed too."""
    sid = str(uuid.uuid4())
    r = await client.put(
        "/statements",
        params={"statementId": sid},
        content=multipart(statement(attachments=[attachment(TEXT1)]), part(TEXT1)),
        headers=mixed(),
    )
    assert r.status_code == 204, r.text
    got = await client.get("/statements", params={"statementId": sid, "attachments": "true"})
    assert parse_response(got)[1][1] == TEXT1


async def test_large_binary_roundtrip(client: XAPI, db: asyncpg.Connection) -> None:
    """Content bigger than a chunk and the in-memory spool, with bytes that look like delimiters, comes back whole."""
    data = (bytes(range(256)) * 4096 + b"\r\n--" + BOUNDARY.encode()[:-1] + b"\r\n") * 3  # ~3 MiB
    r = await post(
        client,
        statement(attachments=[attachment(data, "application/octet-stream")]),
        part(data, "application/octet-stream"),
    )
    assert r.status_code == 200, r.text
    assert (await counts(db))[2] > 1
    got = await client.get("/statements", params={"statementId": r.json()[0], "attachments": "true"})
    headers, body = parse_response(got)[1]
    assert body == data and headers["content-type"] == "application/octet-stream"


async def test_suite_shaped_request(client: XAPI, db: asyncpg.Connection) -> None:
    """ADL suite shapes: preamble CRLF, no space after colons, no CRLF after the closing delimiter."""
    stmt = statement(attachments=[attachment(TEXT1)])
    body = b"\r\n" + multipart(stmt, part(TEXT1), sep=":")[: -len(b"\r\n")]
    r = await client.post("/statements", content=body, headers=mixed())
    assert r.status_code == 200, r.text


async def test_hex_text_with_binary_length_is_accepted(client: XAPI, db: asyncpg.Connection) -> None:
    """ADL suite: `length` is not compared with the part size (a JPEG sent as hex text with the binary length)."""
    data = b"ffd8ffe000104a464946"
    r = await post(client, statement(attachments=[attachment(data, "image/jpeg", length=10)]), part(data, "image/jpeg"))
    assert r.status_code == 200, r.text


async def test_sha2_matching_ignores_case_and_accepts_sha512(client: XAPI, db: asyncpg.Connection) -> None:
    """C §1.5.2: parts match attachments by SHA-2 only (any SHA-2 length, hex in any case)."""
    digest = hashlib.sha512(TEXT1).hexdigest()
    stmt = statement(attachments=[{**attachment(TEXT1), "sha2": digest.upper()}])
    r = await post(client, stmt, part(TEXT1, X_Experience_API_Hash=digest))
    assert r.status_code == 200, r.text
    assert await db.fetchval("SELECT sha2 FROM attachment") == digest


@pytest.mark.parametrize(
    "make",
    [
        lambda: (statement(attachments=[attachment(TEXT1, fileUrl="http://example.com/f.txt")]),),
        lambda: (statement(),),
        lambda: ([statement(), statement(attachments=[])],),
    ],
    ids=["fileUrl only", "no attachments", "empty attachments"],
)
async def test_multipart_without_parts_is_accepted(client: XAPI, db: asyncpg.Connection, make: Any) -> None:
    """C §1.5.2 (SHALL in 2.0): multipart with no attachments, or only fileUrl ones, is accepted."""
    r = await post(client, *make())
    assert r.status_code == 200, r.text
    assert (await counts(db))[1] == 0


async def test_file_url_with_a_part_stores_the_part(client: XAPI, db: asyncpg.Connection) -> None:
    """C §1.5.2: an attachment with both a fileUrl and a part keeps the part's content."""
    r = await post(client, statement(attachments=[attachment(TEXT1, fileUrl="http://example.com/f")]), part(TEXT1))
    assert r.status_code == 200, r.text
    assert (await counts(db))[1] == 1


async def test_json_with_file_url_attachments(client: XAPI, db: asyncpg.Connection) -> None:
    """C §1.5.1: application/json with fileUrl attachments is accepted; without fileUrl it is 400."""
    ok = await client.post("/statements", json=statement(attachments=[attachment(TEXT1, fileUrl="http://e.com/f")]))
    assert ok.status_code == 200, ok.text
    bad = await client.post("/statements", json=statement(attachments=[attachment(TEXT2)]))
    assert bad.status_code == 400
    assert "neither a fileUrl nor a multipart part" in bad.json()["message"]
    assert await counts(db) == (1, 0, 0)


# --- rejections: 400 naming the problem, nothing stored ----------------------------------------------------------


def _body(*args: Any, **kw: Any) -> bytes:
    return multipart(statement(attachments=[attachment(TEXT1)]), *args, **kw)


REJECTIONS: list[tuple[str, dict[str, str], bytes, Sequence[str]]] = [
    ("no boundary parameter", {"Content-Type": "multipart/mixed;"}, _body(part(TEXT1)), ["boundary parameter"]),
    ("wrong boundary", mixed("other"), _body(part(TEXT1)), ["no delimiter line"]),
    ("first part not JSON", mixed(), _body(part(TEXT1), json_type="text/plain"), ["first part", "application/json"]),
    (
        "statements split across parts",
        mixed(),
        _body(({"Content-Type": "application/json"}, b"{}"), part(TEXT1)),
        ["second application/json part"],
    ),
    ("part without hash", mixed(), _body(part(TEXT1, X_Experience_API_Hash="")), ["no X-Experience-API-Hash"]),
    ("excess part", mixed(), _body(part(TEXT1), part(TEXT2)), ["matches no attachment", sha(TEXT2)]),
    (
        "hash not the content's",
        mixed(),
        _body(part(TEXT1, X_Experience_API_Hash=sha(TEXT2))),
        ["hashes to", sha(TEXT1)],
    ),
    ("missing part", mixed(), _body(), ["neither a fileUrl nor a multipart part"]),
    ("base64 part", mixed(), _body(part(TEXT1, Content_Transfer_Encoding="base64")), ["Content-Transfer-Encoding"]),
    (
        "multipart/form-data",
        {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        _body(part(TEXT1)),
        ["multipart/form-data"],
    ),
    (
        "no delimiter between parts",
        mixed(),
        _body(part(TEXT1)).replace(f"\r\n--{BOUNDARY}\r\nContent-Type: text/plain".encode(), b"\r\nContent-Type: x/y"),
        ["not valid JSON"],
    ),
    ("truncated body", mixed(), _body(part(TEXT1))[:-20], ["closing delimiter"]),
    ("statement invalid", mixed(), multipart({**statement(), "verb": 1}, part(TEXT1)), ["verb"]),
]


@pytest.mark.parametrize(("headers", "body", "words"), [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS])
async def test_rejected_requests_store_nothing(
    client: XAPI, db: asyncpg.Connection, headers: dict[str, str], body: bytes, words: Sequence[str]
) -> None:
    """C §1.5.2: each malformed multipart request is 400 with a message naming the problem; nothing is stored."""
    r = await client.post("/statements", content=body, headers=headers)
    assert r.status_code == 400, r.text
    message = r.json()["message"]
    for word in words:
        assert word in message
    assert await counts(db) == (0, 0, 0)
    sid = str(uuid.uuid4())
    r = await client.put("/statements", params={"statementId": sid}, content=body, headers=headers)
    assert r.status_code == 400, r.text
    assert await counts(db) == (0, 0, 0)


async def test_batch_is_atomic_with_attachments(client: XAPI, db: asyncpg.Connection) -> None:
    """C §3.2: a failing batch stores neither its statements nor its attachments (409 here, after parsing)."""
    first = with_id(statement(attachments=[attachment(TEXT1)]))
    assert (await post(client, first, part(TEXT1))).status_code == 200
    changed = {**first, "verb": {"id": "http://example.com/verbs/other"}}
    r = await post(client, [statement(attachments=[attachment(TEXT2)]), changed], part(TEXT2), part(TEXT1))
    assert r.status_code == 409, r.text
    assert await counts(db) == (1, 1, 1)


async def test_attachment_limit_is_413(
    client: XAPI, db: asyncpg.Connection, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """C §1.5.2 MAY: attachments beyond max_attachment_bytes are 413; nothing stored."""
    monkeypatch.setattr(app.state.runtime.settings, "max_attachment_bytes", 100)
    data = b"x" * 101
    r = await post(client, statement(attachments=[attachment(data)]), part(data))
    assert r.status_code == 413
    assert "limit of 100 bytes" in r.json()["message"]
    data = b"x" * 100
    r = await post(client, statement(attachments=[attachment(data)]), part(data))
    assert r.status_code == 200, r.text


async def test_concurrent_writers_of_the_same_content(client: XAPI, db: asyncpg.Connection) -> None:
    """Concurrent requests carrying the same content (in opposite orders) all succeed; it is stored once."""
    both = [attachment(TEXT1), attachment(TEXT2)]
    requests = [
        post(client, statement(attachments=both), *(part(TEXT1), part(TEXT2))[:: 1 if i % 2 else -1]) for i in range(6)
    ]
    answers = await asyncio.gather(*requests)
    assert [r.status_code for r in answers] == [200] * 6
    assert await counts(db) == (6, 2, 2)


async def test_a_client_gone_mid_download_frees_its_connection(
    app: FastAPI, client: XAPI, db: asyncpg.Connection
) -> None:
    """C §2.1.3 attachments=true streams content from the database on a pooled connection. When the client goes
    away while a part is being sent, that connection and its read transaction are given back at once, not when
    the garbage collector finds the suspended generator: writers share the pool (ADR 0001)."""
    stmt = statement(attachments=[attachment(TEXT1), attachment(TEXT2)])
    r = await post(client, stmt, part(TEXT1), part(TEXT2))
    assert r.status_code == 200, r.text
    pool = app.state.runtime.pool
    auth = client.headers["authorization"].encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/xapi/statements",
        "raw_path": b"/xapi/statements",
        "root_path": "",
        "query_string": f"statementId={r.json()[0]}&attachments=true".encode(),
        "headers": [(b"host", b"lrs.test"), (b"authorization", auth), (b"x-experience-api-version", b"2.0.0")],
        "client": ("127.0.0.1", 1),
        "server": ("lrs.test", 80),
        "state": {},
    }
    bodies = 0

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal bodies
        if message["type"] == "http.response.body":
            bodies += 1
            if bodies == 2:  # the JSON part went out; the first attachment's head is on its way
                raise OSError("client gone")

    with pytest.raises(Exception):  # noqa: B017  # how the app reports it is Starlette's business
        await app(scope, receive, send)
    assert bodies == 2
    assert pool.busy() == 0
    busy = await db.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'"
    )
    assert busy == 0
