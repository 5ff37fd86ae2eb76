"""The Statement resource (C §2.1): PUT, POST, GET and HEAD of /xapi/statements."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from lrs.auth import READ_STATEMENTS, WRITE_STATEMENTS, Principal
from lrs.errors import BadRequest, NotFound
from lrs.http.body import media_type, parse_json, read_body
from lrs.http.headers import CONSISTENT_THROUGH, http_date, iso
from lrs.http.runtime import Runtime, caller
from lrs.query import cursor
from lrs.query.statements import (
    StatementQuery,
    check_names,
    page_size,
    parse_query,
    with_position,
)
from lrs.store import statements as store
from lrs.xapi import formats
from lrs.xapi.equivalence import equivalent
from lrs.xapi.prepare import Prepared, prepare
from lrs.xapi.validate import validate_batch, validate_statement
from lrs.xapi.version import Version

router = APIRouter()
PATH = "/xapi/statements"


async def _statements_body(request: Request, rt: Runtime) -> Any:
    """The JSON statements of a PUT/POST body (C §1.5.1); multipart is its own module (issue: attachments)."""
    kind = media_type(request)
    body = await read_body(request, rt.settings.max_body_bytes)
    if kind != "application/json":
        raise BadRequest(f"Content-Type must be application/json for statements, got {kind or 'none'!r}")
    return parse_json(body)


async def _store(rt: Runtime, principal: Principal, version: Version, batch: list[Prepared]) -> None:
    def same(stored: dict[str, Any], incoming: dict[str, Any]) -> bool:
        return equivalent(stored, incoming, version)

    async with rt.engine.connect() as conn:
        await store.insert_statements(conn, batch, principal.credential_id, same)


async def _consistent(rt: Runtime) -> str:
    async with rt.engine.connect() as conn:
        return iso(await store.consistent_through(conn))


@router.put(PATH, status_code=204)
async def put_statement(request: Request) -> Response:
    """Store one statement under the id given as statementId (C §2.1.1)."""
    rt, version, principal = await caller(request)
    params = check_names(list(request.query_params.multi_items()), ("statementId",))
    if "statementId" not in params:
        raise BadRequest("PUT /statements needs the statementId parameter")
    statement_id = params["statementId"]
    try:
        parsed_id = str(uuid.UUID(statement_id))
    except ValueError:
        raise BadRequest(f"parameter 'statementId' must be a UUID, got {statement_id!r}") from None
    principal.require(WRITE_STATEMENTS, "store statements")
    body = await _statements_body(request, rt)
    if not isinstance(body, dict):
        raise BadRequest("PUT /statements takes one statement object")
    if "id" in body and str(body["id"]).lower() != parsed_id:
        raise BadRequest(
            f"the statement's id {body['id']!r} differs from the statementId parameter {statement_id!r}",
            path="$.id",
        )
    stmt = validate_statement({**body, "id": body.get("id", statement_id)}, version)
    if "id" not in body:
        stmt = {"id": statement_id, **body}
    await _store(rt, principal, version, [prepare(stmt, version, principal.authority)])
    return Response(status_code=204, headers={CONSISTENT_THROUGH: await _consistent(rt)})


@router.post(PATH)
async def post_statements(request: Request) -> Response:
    """Store one statement or a batch, all or nothing; answer their ids in order (C §2.1.2)."""
    rt, version, principal = await caller(request)
    check_names(list(request.query_params.multi_items()), ())
    principal.require(WRITE_STATEMENTS, "store statements")
    body = await _statements_body(request, rt)
    statements = validate_batch(body, version)
    batch = []
    for index, stmt in enumerate(statements):
        try:
            batch.append(prepare(stmt, version, principal.authority))
        except BadRequest as exc:
            raise exc.at(index=index) from None
    await _store(rt, principal, version, batch)
    return Response(
        orjson.dumps([p.id for p in batch]),
        media_type="application/json",
        headers={CONSISTENT_THROUGH: await _consistent(rt)},
    )


def _render(payload: str, q: StatementQuery, definitions: dict[str, dict[str, Any]], languages: list[str]) -> str:
    if q.format == "exact":
        return payload
    stmt = orjson.loads(payload)
    if q.format == "ids":
        return orjson.dumps(formats.to_ids(stmt)).decode()
    return orjson.dumps(formats.to_canonical(stmt, definitions, languages)).decode()


async def _definitions(rt: Runtime, q: StatementQuery, payloads: list[str]) -> dict[str, dict[str, Any]]:
    if q.format != "canonical":
        return {}
    iris: set[str] = set()
    for payload in payloads:
        iris |= formats.activity_ids(orjson.loads(payload))
    async with rt.engine.connect() as conn:
        return await store.activity_definitions(conn, sorted(iris))


def _multipart(json_body: bytes) -> Response:
    """attachments=true: a multipart/mixed answer whose first part is the JSON (C §2.1.3, D §2.4.11)."""
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode()
        + json_body
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return Response(body, media_type=f"multipart/mixed; boundary={boundary}")


def _finish(request: Request, body: bytes, q: StatementQuery, headers: dict[str, str]) -> Response:
    response = _multipart(body) if q.attachments else Response(body, media_type="application/json")
    response.headers.update(headers)
    if request.method == "HEAD":
        response.headers["content-length"] = str(len(response.body))
        response.body = b""
    return response


@router.api_route(PATH, methods=["GET", "HEAD"])
async def get_statements(request: Request) -> Response:
    """One statement by id, or a filtered StatementResult page with a `more` link (C §2.1.3)."""
    rt, version, principal = await caller(request)
    items = list(request.query_params.multi_items())
    if any(name == "more" for name, _ in items):
        check_names(items, ("more",))
        q = cursor.decode(dict(items)["more"], rt.more_key)
    else:
        q = parse_query(items, version)
    principal.require(READ_STATEMENTS | {"statements/read/mine"}, "read statements")
    if not principal.may(*READ_STATEMENTS):
        q = StatementQuery(**{**_fields(q), "credential_id": principal.credential_id})
    languages = formats.parse_accept_language(request.headers.get("accept-language"))
    if q.single:
        return await _get_one(request, rt, q, languages)
    limit = page_size(q, rt.settings.page_size, rt.settings.max_page_size)
    async with rt.engine.connect() as conn:
        page = await store.find_statements(conn, q, limit)
    definitions = await _definitions(rt, q, page.payloads)
    more = ""
    if page.has_more and page.last_seq is not None:
        token = cursor.encode(with_position(q, page.last_seq, page.bound), rt.more_key, rt.settings.more_ttl_seconds)
        more = f"{request.scope.get('root_path', '')}{PATH}?more={token}"
    body = (
        b'{"statements":['
        + ",".join(_render(p, q, definitions, languages) for p in page.payloads).encode()
        + b'],"more":'
        + orjson.dumps(more)
        + b"}"
    )
    headers = {CONSISTENT_THROUGH: iso(page.consistent_through)}
    if page.last_stored is not None:
        headers["Last-Modified"] = http_date(page.last_stored)
    return _finish(request, body, q, headers)


def _fields(q: StatementQuery) -> dict[str, Any]:
    return {name: getattr(q, name) for name in StatementQuery.__dataclass_fields__}


async def _get_one(request: Request, rt: Runtime, q: StatementQuery, languages: list[str]) -> Response:
    wanted = q.statement_id or q.voided_statement_id
    assert wanted is not None
    async with rt.engine.connect() as conn:
        row = await store.get_statement(conn, wanted)
        ct = await store.consistent_through(conn)
    voided_wanted = q.voided_statement_id is not None
    if (
        row is None
        or row.voided != voided_wanted
        or (q.credential_id is not None and row.credential_id != q.credential_id)
    ):
        what = "voided statement" if voided_wanted else "statement"
        hint = ""
        if row is not None and row.voided and not voided_wanted:
            hint = "; it is voided, ask with voidedStatementId"
        elif row is not None and voided_wanted and not row.voided:
            hint = "; it is not voided, ask with statementId"
        raise NotFound(f"no {what} with id {wanted}{hint}")
    definitions = await _definitions(rt, q, [row.payload])
    body = _render(row.payload, q, definitions, languages).encode()
    headers = {CONSISTENT_THROUGH: iso(ct), "Last-Modified": http_date(row.stored)}
    return _finish(request, body, q, headers)
