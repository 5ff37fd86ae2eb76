"""The Statement resource (C §2.1): PUT, POST, GET and HEAD of /xapi/statements, dispatched by lrs.http.shortcut."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from lrs.auth import READ_STATEMENTS, WRITE_STATEMENTS, Principal
from lrs.errors import BadRequest, NotFound, PayloadTooLarge
from lrs.http.body import media_type, parse_json, read_body
from lrs.http.headers import CONSISTENT_THROUGH, head_aware, http_date, iso
from lrs.http.multipart import MultipartWriter, Outgoing, Upload, check_attachments, read_statements
from lrs.http.runtime import Runtime, caller
from lrs.query import cursor
from lrs.query.statements import (
    StatementQuery,
    page_size,
    parse_query,
    with_position,
)
from lrs.store import attachments as attachment_store
from lrs.store import statements as store
from lrs.xapi import formats
from lrs.xapi.equivalence import equivalent
from lrs.xapi.parameter import check_names
from lrs.xapi.prepare import Prepared, prepare
from lrs.xapi.signature import attachments_of, has_attachments, signature_hashes, verify_signature
from lrs.xapi.validate import validate_batch, validate_statement
from lrs.xapi.version import Version

PATH = "/xapi/statements"


async def _statements_body(request: Request, rt: Runtime) -> tuple[Any, Upload]:
    """The statements of a PUT/POST body: application/json (C §1.5.1) or multipart/mixed with attachment parts
    (C §1.5.2); the Upload holds the parts (none for JSON) and must be closed."""
    kind = media_type(request)
    if kind == "multipart/mixed":
        limit = rt.settings.max_body_bytes + rt.settings.max_attachment_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"request body of {declared} bytes exceeds the limit of {limit} bytes")
        upload = await read_statements(
            request.stream(),
            request.headers.get("content-type", ""),
            max_json=rt.settings.max_body_bytes,
            max_attachments=rt.settings.max_attachment_bytes,
        )
        return upload.statements, upload
    body = await read_body(request, rt.settings.max_body_bytes)
    if kind != "application/json":
        raise BadRequest(
            f"Content-Type must be application/json or multipart/mixed for statements, got {kind or 'none'!r}"
        )
    return parse_json(body), Upload(statements=None)


def _check_attachments(statements: list[dict[str, Any]], upload: Upload, version: Version, limit: int) -> None:
    """Match attachments to parts (C §1.5.2) and verify signatures (D §2.6); 400 naming the statement."""
    if not upload.parts and not any(has_attachments(s) for s in statements):
        return  # the common batch: nothing to match, and no signature to verify
    check_attachments(statements, set(upload.parts))
    for index, stmt in enumerate(statements):
        for sha2 in signature_hashes(stmt):
            try:
                verify_signature(stmt, upload.parts[sha2].read(limit), version)
            except BadRequest as exc:
                raise exc.at(index=index) from None


async def _store(
    rt: Runtime, principal: Principal, version: Version, batch: list[Prepared], upload: Upload | None = None
) -> str:
    """Store the batch; return the X-Experience-API-Consistent-Through value to answer with (C §2.1.3)."""

    def same(stored: dict[str, Any], incoming: dict[str, Any]) -> bool:
        return equivalent(stored, incoming, version)

    if upload is not None and upload.parts:
        async with rt.pool.acquire() as db:  # attachment content: a transaction of its own (ADR 0007)
            await store.insert_statements(db, batch, principal.credential_id, same, upload.parts)
            return iso(await store.consistent_through(db))
    _, stored = await rt.appender.append(batch, principal.credential_id, same)
    if stored is None:
        return await _consistent(rt)
    # Writers commit in `stored` order (ADR 0002): once ours is committed, everything stored before it is visible.
    return iso(store.consistent_instant(None, stored))


async def _consistent(rt: Runtime) -> str:
    async with rt.pool.acquire() as db:
        return iso(await store.consistent_through(db))


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
    body, upload = await _statements_body(request, rt)
    try:
        through = await _put(rt, principal, version, body, upload, statement_id, parsed_id)
    finally:
        upload.close()
    return Response(status_code=204, headers={CONSISTENT_THROUGH: through})


async def _put(
    rt: Runtime, principal: Principal, version: Version, body: Any, upload: Upload, statement_id: str, parsed_id: str
) -> str:
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
    _check_attachments([stmt], upload, version, rt.settings.max_body_bytes)
    return await _store(rt, principal, version, [prepare(stmt, version, principal.authority)], upload)


async def post_statements(request: Request) -> Response:
    """Store one statement or a batch, all or nothing; answer their ids in order (C §2.1.2)."""
    rt, version, principal = await caller(request)
    check_names(list(request.query_params.multi_items()), ())
    principal.require(WRITE_STATEMENTS, "store statements")
    body, upload = await _statements_body(request, rt)
    try:
        statements = validate_batch(body, version)
        _check_attachments(statements, upload, version, rt.settings.max_body_bytes)
        batch = []
        for index, stmt in enumerate(statements):
            try:
                batch.append(prepare(stmt, version, principal.authority))
            except BadRequest as exc:
                raise exc.at(index=index) from None
        through = await _store(rt, principal, version, batch, upload)
    finally:
        upload.close()
    return Response(
        orjson.dumps([p.id for p in batch]), media_type="application/json", headers={CONSISTENT_THROUGH: through}
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
    async with rt.pool.acquire() as db:
        return await store.activity_definitions(db, sorted(iris))


def _referenced(payloads: list[str]) -> list[str]:
    """The sha2 of every attachment of these statements and their SubStatements, each once, in order."""
    hashes: dict[str, None] = {}
    for payload in payloads:
        if '"attachments"' in payload:
            for _, att in attachments_of(orjson.loads(payload)):
                hashes[str(att["sha2"]).lower()] = None
    return list(hashes)


async def _multipart(request: Request, rt: Runtime, json_body: bytes, payloads: list[str]) -> Response:
    """attachments=true: multipart/mixed with the JSON first, then each stored attachment the statements reference,
    once, streamed from the database (C §1.5.2, §2.1.3, D §2.4.11)."""
    writer = MultipartWriter(uuid.uuid4().hex)
    async with rt.pool.acquire() as db:
        found = await attachment_store.find_attachments(db, _referenced(payloads))
    outgoing = [Outgoing(a.sha2, a.content_type, a.length) for a in found]
    length = str(writer.length(json_body, outgoing))
    if request.method == "HEAD":
        return Response(b"", headers={"content-type": writer.content_type, "content-length": length})

    async def body() -> AsyncIterator[bytes]:
        yield writer.json_part(json_body)
        if outgoing:
            async with rt.pool.acquire() as db:
                for att in outgoing:
                    yield writer.part_head(att)
                    async with contextlib.aclosing(attachment_store.read_content(db, att.sha2)) as chunks:
                        async for chunk in chunks:
                            yield chunk
        yield writer.closing()

    return _ClosingStream(body(), headers={"content-type": writer.content_type, "content-length": length})


class _ClosingStream(StreamingResponse):
    """A streamed response that closes its body generator however it ends. When the client goes away while a
    chunk is being sent, Starlette cancels the sending and leaves the generator suspended at its `yield`: until
    garbage collection it would hold its pool connection, and its read transaction, away from every writer."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                await close()


async def _finish(
    request: Request, rt: Runtime, body: bytes, q: StatementQuery, headers: dict[str, str], payloads: list[str]
) -> Response:
    if q.attachments:
        multipart = await _multipart(request, rt, body, payloads)
        multipart.headers.update(headers)
        return multipart
    return head_aware(request, Response(body, media_type="application/json", headers=headers))


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
        q = replace(q, credential_id=principal.credential_id)
    languages = formats.parse_accept_language(request.headers.get("accept-language"))
    if q.single:
        return await _get_one(request, rt, q, languages)
    limit = page_size(q, rt.settings.page_size, rt.settings.max_page_size)
    async with rt.pool.acquire() as db:
        # exact, without attachments: the stored texts as they are (D §2.2 immutability), joined by PostgreSQL
        page = await store.find_statements(db, q, limit, joined=q.format == "exact" and not q.attachments)
    definitions = await _definitions(rt, q, page.payloads)
    more = ""
    if page.has_more and page.last_seq is not None:
        token = cursor.encode(with_position(q, page.last_seq, page.bound), rt.more_key, rt.settings.more_ttl_seconds)
        more = f"{request.scope.get('root_path', '')}{PATH}?more={token}"
    if page.joined is not None:
        statements = page.joined
    elif q.format == "exact":
        statements = ",".join(page.payloads).encode()  # the stored texts as they are (D §2.2 immutability)
    else:
        statements = ",".join(_render(p, q, definitions, languages) for p in page.payloads).encode()
    body = b'{"statements":[' + statements + b'],"more":' + orjson.dumps(more) + b"}"
    headers = {CONSISTENT_THROUGH: iso(page.consistent_through)}
    if page.last_stored is not None:
        headers["Last-Modified"] = http_date(page.last_stored)
    return await _finish(request, rt, body, q, headers, page.payloads)


async def _get_one(request: Request, rt: Runtime, q: StatementQuery, languages: list[str]) -> Response:
    wanted = q.statement_id or q.voided_statement_id
    assert wanted is not None
    async with rt.pool.acquire() as db:
        row, ct = await store.get_statement(db, wanted)
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
        missing = NotFound(f"no {what} with id {wanted}{hint}")
        missing.headers[CONSISTENT_THROUGH] = iso(ct)  # from the snapshot that did not find it
        raise missing
    definitions = await _definitions(rt, q, [row.payload])
    body = _render(row.payload, q, definitions, languages).encode()
    headers = {CONSISTENT_THROUGH: iso(ct), "Last-Modified": http_date(row.stored)}
    return await _finish(request, rt, body, q, headers, [row.payload])
