"""All SQL of the document resources (C §2.2-2.7): one row per document; writes decide under the row lock so
concurrent writers of one document never lose an update (C §3.1; ADR 0006)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from lrs.xapi.document import Document, DocumentQuery, Kind

# How often a write re-reads after losing the race to create the same document; each retry means another writer
# committed (created or deleted the row) in between, so more than a few never happens in practice.
_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    scope: tuple[tuple[str, str], ...]  # (column, DocumentQuery field) naming the documents' context
    id_column: str


_TABLES = {
    Kind.STATE: _Table(
        "state_document",
        (("activity_id", "activity_id"), ("agent", "agent"), ("registration", "registration")),
        "state_id",
    ),
    Kind.ACTIVITY_PROFILE: _Table("activity_profile", (("activity_id", "activity_id"),), "profile_id"),
    Kind.AGENT_PROFILE: _Table("agent_profile", (("agent", "agent"),), "profile_id"),
}
_CAST = {"registration": "::uuid"}


def _where(q: DocumentQuery, *, single: bool) -> tuple[_Table, str, list[Any]]:
    """The table and the WHERE clause naming one document (single) or the context's documents.

    Every context column takes part, a missing optional one (registration) as IS NULL, for one document; for the
    context, a missing registration means every registration (C §2.3 "Activity + Agent [+ registration]")."""
    table = _TABLES[q.kind]
    clauses: list[str] = []
    args: list[Any] = []
    for column, field in table.scope:
        value = getattr(q, field)
        if value is None:
            if single:
                clauses.append(f"{column} IS NULL")
            continue
        args.append(value)
        clauses.append(f"{column} = ${len(args)}{_CAST.get(column, '')}")
    if single:
        args.append(q.doc_id)
        clauses.append(f"{table.id_column} = ${len(args)}")
    return table, " AND ".join(clauses), args


def _document(row: Any) -> Document:
    return Document(bytes(row["content"]), row["content_type"], row["etag"], row["updated"])


async def get_document(db: asyncpg.Connection, q: DocumentQuery) -> Document | None:
    """The document named by `q` (C §2.3, §2.6, §2.7 single GET), or None."""
    table, where, args = _where(q, single=True)
    row = await db.fetchrow(f"SELECT content, content_type, etag, updated FROM {table.name} WHERE {where}", *args)
    return None if row is None else _document(row)


async def list_ids(db: asyncpg.Connection, q: DocumentQuery) -> tuple[list[str], dt.datetime | None]:
    """The ids of the context's documents updated after `q.since` (exclusive), and the newest update among them
    (C §2.3, §2.6, §2.7 multiple GET; §2.2 Last-Modified)."""
    table, where, args = _where(q, single=False)
    if q.since is not None:
        args.append(q.since)
        where += f" AND updated > ${len(args)}"
    rows = await db.fetch(
        f"SELECT {table.id_column} AS id, max(updated) AS updated FROM {table.name} WHERE {where} "
        f"GROUP BY {table.id_column} ORDER BY {table.id_column}",
        *args,
    )
    newest = max((r["updated"] for r in rows), default=None)
    return [r["id"] for r in rows], newest


async def write_document(
    db: asyncpg.Connection, q: DocumentQuery, decide: Callable[[Document | None], Document | None]
) -> None:
    """Store, replace or delete one document atomically (C §2.2-2.7, §3.1; ADR 0006).

    In one transaction of its own: lock the document's row (SELECT ... FOR UPDATE), call `decide` with it (None
    when absent) and store what it returns, or delete the row when it returns None. `decide` raises to refuse
    (412, 409, 400), which rolls back. A missing row is created with INSERT ... ON CONFLICT DO NOTHING: if another
    writer created it first, the row is locked and `decide` asked again, so no update is ever lost."""
    table, where, args = _where(q, single=True)
    select = f"SELECT id, content, content_type, etag, updated FROM {table.name} WHERE {where} FOR UPDATE"
    columns = [column for column, _ in table.scope] + [table.id_column]
    values = [getattr(q, field) for _, field in table.scope] + [q.doc_id]
    n = len(values)
    insert = (
        f"INSERT INTO {table.name} ({', '.join(columns)}, content_type, content, etag, updated) VALUES ("
        + ", ".join(f"${i + 1}{_CAST.get(c, '')}" for i, c in enumerate(columns))
        + f", ${n + 1}, ${n + 2}, ${n + 3}, clock_timestamp()) ON CONFLICT DO NOTHING RETURNING id"
    )
    async with db.transaction():
        for _ in range(_ATTEMPTS):
            row = await db.fetchrow(select, *args)
            new = decide(None if row is None else _document(row))
            if row is not None:
                if new is None:
                    await db.execute(f"DELETE FROM {table.name} WHERE id = $1", row["id"])
                else:
                    await db.execute(
                        f"UPDATE {table.name} SET content_type = $2, content = $3, etag = $4, "
                        "updated = clock_timestamp() WHERE id = $1",
                        row["id"],
                        new.content_type,
                        new.content,
                        new.etag,
                    )
                return
            if new is None:
                return
            if await db.fetchval(insert, *values, new.content_type, new.content, new.etag) is not None:
                return
        raise RuntimeError(f"could not settle a write to {table.name} after {_ATTEMPTS} attempts")


async def delete_documents(db: asyncpg.Connection, q: DocumentQuery) -> None:
    """Delete every document of the context (C §2.3 multiple DELETE: Activity + Agent [+ registration])."""
    table, where, args = _where(q, single=False)
    async with db.transaction():
        await db.execute(f"DELETE FROM {table.name} WHERE {where}", *args)
