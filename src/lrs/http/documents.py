"""What the three document resources share (C §2.2, §3.1): one handler for GET, HEAD, PUT, POST and DELETE.

The resource modules (state, activity_profile, agent_profile) only bind a path to a Kind; parameters, scopes,
preconditions, the merge and the 409 rules are the same code for all three (ADR 0006)."""

from __future__ import annotations

import hashlib
from functools import partial

import orjson
from starlette.requests import Request
from starlette.responses import Response

from lrs.errors import BadRequest, NotFound
from lrs.http.body import read_body
from lrs.http.headers import head_aware, http_date
from lrs.http.runtime import Runtime, caller
from lrs.store import documents as store
from lrs.xapi import document as doc
from lrs.xapi.document import Document, DocumentQuery, Kind, Preconditions
from lrs.xapi.version import Version

METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE"]

# Scopes (C §4.2): `state` for the State resource, `profile` for both profile resources, `all` for everything,
# `all/read` for GETs.
_WRITE = {
    Kind.STATE: frozenset({"state", "all"}),
    Kind.ACTIVITY_PROFILE: frozenset({"profile", "all"}),
    Kind.AGENT_PROFILE: frozenset({"profile", "all"}),
}
_READ = {kind: scopes | {"all/read"} for kind, scopes in _WRITE.items()}


def etag_of(body: bytes) -> str:
    """The quoted ETag of a generated response body (id lists, Person, Activity): SHA-1 hex, as for documents."""
    return doc.quoted(hashlib.sha1(body).hexdigest())


def json_response(request: Request, value: object, last_modified: str | None = None) -> Response:
    """A JSON answer with its ETag (and Last-Modified when known), HEAD-aware."""
    body = orjson.dumps(value)
    headers = {"ETag": etag_of(body)}
    if last_modified is not None:
        headers["Last-Modified"] = last_modified
    return head_aware(request, Response(body, media_type="application/json", headers=headers))


def _preconditions(request: Request) -> Preconditions:
    return doc.parse_preconditions(request.headers.get("if-match"), request.headers.get("if-none-match"))


async def handle(request: Request, kind: Kind) -> Response:
    """Serve one request to a document resource (C §2.3, §2.6, §2.7)."""
    rt, version, principal = await caller(request)
    method = request.method
    q = doc.parse_document_query(kind, method, list(request.query_params.multi_items()), version)
    pre = _preconditions(request)
    if method in ("GET", "HEAD"):
        principal.require(_READ[kind], f"read {kind.value} documents")
        return await (_get_one(request, rt, q, pre) if q.single else _get_ids(request, rt, q))
    principal.require(_WRITE[kind], f"write {kind.value} documents")
    if method == "DELETE":
        return await _delete(rt, q, pre)
    body = await read_body(request, rt.settings.max_body_bytes)
    content_type = request.headers.get("content-type")
    decide = (
        partial(_put, new=doc.make_document(body, content_type), pre=pre, kind=kind, version=version)
        if method == "PUT"
        else partial(_post, incoming=doc.posted(body, content_type), pre=pre)
    )
    async with rt.pool.acquire() as db:
        await store.write_document(db, q, decide)
    return Response(status_code=204)


def _put(current: Document | None, *, new: Document, pre: Preconditions, kind: Kind, version: Version) -> Document:
    return doc.put(current, new, pre, kind, version)


def _post(current: Document | None, *, incoming: doc.Posted, pre: Preconditions) -> Document:
    return doc.post(current, incoming, pre)


async def _get_one(request: Request, rt: Runtime, q: DocumentQuery, pre: Preconditions) -> Response:
    async with rt.pool.acquire() as db:
        found = await store.get_document(db, q)
    if found is None:
        raise NotFound(f"no {q.kind.value} document with {q.kind.id_param} {q.doc_id!r} in this context")
    headers = {"ETag": doc.quoted(found.etag)}
    if found.updated is not None:
        headers["Last-Modified"] = http_date(found.updated)
    if doc.not_modified(found, pre):
        return Response(status_code=304, headers=headers)
    headers["Content-Type"] = found.content_type
    return head_aware(request, Response(found.content, headers=headers))


async def _get_ids(request: Request, rt: Runtime, q: DocumentQuery) -> Response:
    async with rt.pool.acquire() as db:
        ids, newest = await store.list_ids(db, q)
    return json_response(request, ids, http_date(newest) if newest is not None else None)


async def _delete(rt: Runtime, q: DocumentQuery, pre: Preconditions) -> Response:
    async with rt.pool.acquire() as db:
        if q.single:
            await store.write_document(db, q, partial(_delete_one, pre=pre))
        else:
            if pre.given:
                raise BadRequest(
                    "If-Match and If-None-Match apply to one document; a DELETE without stateId deletes every "
                    "document of the context and takes no preconditions"
                )
            await store.delete_documents(db, q)
    return Response(status_code=204)


def _delete_one(current: Document | None, *, pre: Preconditions) -> None:
    doc.delete(current, pre)
