"""All SQL of the Statement resource: the serialised append (ADR 0002), lookups and filtered pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from lrs.errors import Conflict
from lrs.query.statements import StatementQuery
from lrs.store.attachments import Blob, store_contents
from lrs.xapi.definition import merge_definition
from lrs.xapi.prepare import Prepared

# Key of the transaction-level advisory lock every statement writer holds from seq assignment to commit.
WRITE_LOCK = 0x1A5_57A7
_ONE_MS = dt.timedelta(milliseconds=1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def to_ms(value: dt.datetime) -> dt.datetime:
    """The instant truncated to milliseconds, the precision of `stored`."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def format_stored(value: dt.datetime) -> str:
    """`stored` as the LRS writes it: UTC with milliseconds and Z (D §2.4.8, §4.5)."""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _driver(conn: AsyncConnection) -> Any:
    raw = await conn.get_raw_connection()
    return raw.driver_connection


@dataclass(slots=True)
class StoredRow:
    """One stored statement as a single GET needs it."""

    seq: int
    payload: str
    stored: dt.datetime
    credential_id: int | None
    voided: bool


async def insert_statements(
    conn: AsyncConnection,
    batch: Sequence[Prepared],
    credential_id: int | None,
    same: Callable[[dict[str, Any], dict[str, Any]], bool],
    attachments: Mapping[str, Blob] | None = None,
) -> int:
    """Store a batch atomically in a transaction of its own (C §2.1.1-2.1.2, D §2.3.1-2.3.2); return how many
    were new. Ids already stored are compared with `same`: equal ones are skipped, different ones raise 409.
    `attachments` (content by lower-case sha2, C §1.5.2) is stored in the same transaction, before the write lock
    is taken so that copying large content does not hold up other writers (ADR 0007).
    """
    db = await _driver(conn)
    async with db.transaction():
        if attachments:
            await store_contents(db, attachments.values())
        return await _insert(db, batch, credential_id, same)


async def _insert(
    db: Any,
    batch: Sequence[Prepared],
    credential_id: int | None,
    same: Callable[[dict[str, Any], dict[str, Any]], bool],
) -> int:
    await db.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
    ids = [p.id for p in batch]
    existing = {
        str(r["id"]): r["payload"]
        for r in await db.fetch("SELECT id, payload FROM statement WHERE id = ANY($1::uuid[])", ids)
    }
    fresh: list[Prepared] = []
    for index, p in enumerate(batch):
        if p.id in existing:
            if not same(orjson.loads(existing[p.id]), p.original):
                raise Conflict(f"statement {p.id} already exists with different content", index=index)
        else:
            fresh.append(p)
    if not fresh:
        return 0
    head = await db.fetchrow(
        "SELECT clock_timestamp() AS now, s.seq, s.stored FROM (SELECT 1) one "
        "LEFT JOIN LATERAL (SELECT seq, stored FROM statement ORDER BY seq DESC LIMIT 1) s ON true"
    )
    last_seq = head["seq"] or 0
    stored = to_ms(head["now"])
    if head["stored"] is not None and stored < head["stored"]:
        stored = head["stored"]  # never decreases, even if the clock steps back
    stored_text = format_stored(stored)

    keys_by_id: dict[str, dict[str, bool]] = {p.id: dict(p.keys) for p in fresh}
    targets = {p.ref_target for p in fresh if p.ref_target is not None} - keys_by_id.keys()
    inherited: dict[str, dict[str, bool]] = {}
    if targets:
        for r in await db.fetch(
            "SELECT s.id, k.key, k.main FROM statement s JOIN statement_key k ON k.seq = s.seq "
            "WHERE s.id = ANY($1::uuid[])",
            list(targets),
        ):
            inherited.setdefault(str(r["id"]), {})[r["key"]] = r["main"]
    # StatementRef filter rule (C §2.1.3): a referrer matches what its target matches, recursively.
    for _ in range(len(fresh)):
        changed = False
        for p in fresh:
            if p.ref_target is None:
                continue
            source = keys_by_id.get(p.ref_target) or inherited.get(p.ref_target) or {}
            mine = keys_by_id[p.id]
            for key, main in source.items():
                if mine.get(key) is None or (main and not mine[key]):
                    mine[key] = mine.get(key, False) or main
                    changed = True
        if not changed:
            break

    seqs = {p.id: last_seq + i + 1 for i, p in enumerate(fresh)}
    await db.copy_records_to_table(
        "statement",
        records=[(seqs[p.id], p.id, stored, credential_id, p.is_voiding, p.payload(stored_text)) for p in fresh],
        columns=["seq", "id", "stored", "credential_id", "is_voiding", "payload"],
    )
    await db.copy_records_to_table(
        "statement_key",
        records=[(key, seqs[p.id], main) for p in fresh for key, main in keys_by_id[p.id].items()],
        columns=["key", "seq", "main"],
    )
    refs = [(p.ref_target, seqs[p.id]) for p in fresh if p.ref_target is not None]
    if refs:
        await db.executemany("INSERT INTO statement_ref (target, seq) VALUES ($1::uuid, $2)", refs)
        voids = [(p.ref_target, seqs[p.id]) for p in fresh if p.is_voiding]
        if voids:
            await db.executemany(
                "INSERT INTO voided (target, voiding_seq) VALUES ($1::uuid, $2) ON CONFLICT DO NOTHING", voids
            )
    await _backfill_referrers(db, {p.id: keys_by_id[p.id] for p in fresh})
    await _learn_definitions(db, [d for p in fresh for d in p.definitions])
    return len(fresh)


async def _backfill_referrers(db: Any, new: dict[str, dict[str, bool]]) -> None:
    """Give statements stored earlier that reference the new ones their targets' keys (late targets)."""
    pending = new
    for _ in range(16):
        if not pending:
            return
        rows = await db.fetch(
            "SELECT r.target, r.seq, s.id FROM statement_ref r JOIN statement s ON s.seq = r.seq "
            "WHERE r.target = ANY($1::uuid[])",
            list(pending),
        )
        nxt: dict[str, dict[str, bool]] = {}
        records: list[tuple[str, int, bool]] = []
        for r in rows:
            keys = pending[str(r["target"])]
            records.extend((key, r["seq"], main) for key, main in keys.items())
            nxt.setdefault(str(r["id"]), {}).update(keys)
        if records:
            await db.executemany(
                "INSERT INTO statement_key (key, seq, main) VALUES ($1, $2, $3) "
                "ON CONFLICT (key, seq) DO UPDATE SET main = true WHERE EXCLUDED.main AND NOT statement_key.main",
                records,
            )
        pending = nxt


async def _learn_definitions(db: Any, found: list[tuple[str, dict[str, Any]]]) -> None:
    """Fold the batch's activity definitions into the canonical ones (ADR 0003)."""
    if not found:
        return
    iris = list({iri for iri, _ in found})
    current: dict[str, dict[str, Any]] = {
        r["iri"]: orjson.loads(r["definition"])
        for r in await db.fetch("SELECT iri, definition::text AS definition FROM activity WHERE iri = ANY($1)", iris)
    }
    for iri, definition in found:
        current[iri] = merge_definition(current.get(iri), definition)
    await db.executemany(
        "INSERT INTO activity (iri, definition) VALUES ($1, $2::jsonb) "
        "ON CONFLICT (iri) DO UPDATE SET definition = EXCLUDED.definition, updated = now()",
        [(iri, orjson.dumps(current[iri]).decode()) for iri in iris],
    )


CONSISTENT_SQL = "SELECT lrs_idle_now($1) AS idle, (SELECT stored FROM statement ORDER BY seq DESC LIMIT 1) AS newest"


def consistent_instant(idle: dt.datetime | None, newest: dt.datetime | None) -> dt.datetime:
    """X-Experience-API-Consistent-Through (C §2.1.3) from the idle clock and the newest visible `stored`.

    Writers take `stored` = max(clock, newest stored) to the millisecond after taking WRITE_LOCK and commit before
    releasing it, so any statement still to become visible has `stored` >= the idle clock (read while nobody held
    the lock) or >= the newest visible `stored`. One millisecond before that bound, everything is already visible.
    """
    base = idle if idle is not None else newest
    if base is None:
        return EPOCH
    return to_ms(base) - _ONE_MS


async def consistent_through(conn: AsyncConnection) -> dt.datetime:
    """The instant up to which every statement is visible to queries (C §2.1.3; ADR 0002)."""
    db = await _driver(conn)
    r = await db.fetchrow(CONSISTENT_SQL, WRITE_LOCK)
    return consistent_instant(r["idle"], r["newest"])


async def get_statement(conn: AsyncConnection, statement_id: str) -> StoredRow | None:
    """The stored statement with this id, with whether it is voided (D §2.3.2)."""
    db = await _driver(conn)
    r = await db.fetchrow(
        "SELECT s.seq, s.payload, s.stored, s.credential_id, "
        "(NOT s.is_voiding AND EXISTS (SELECT 1 FROM voided v WHERE v.target = s.id)) AS voided "
        "FROM statement s WHERE s.id = $1::uuid",
        statement_id,
    )
    if r is None:
        return None
    return StoredRow(r["seq"], r["payload"], r["stored"], r["credential_id"], r["voided"])


async def activity_definitions(conn: AsyncConnection, iris: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Canonical definitions of these activities (for format=canonical and the Activities resource)."""
    if not iris:
        return {}
    db = await _driver(conn)
    rows = await db.fetch("SELECT iri, definition::text AS definition FROM activity WHERE iri = ANY($1)", list(iris))
    return {r["iri"]: orjson.loads(r["definition"]) for r in rows}


@dataclass(slots=True)
class Page:
    """A page of statements with what the `more` link and the headers need."""

    payloads: list[str]
    last_seq: int | None
    has_more: bool
    bound: int
    consistent_through: dt.datetime
    last_stored: dt.datetime | None


async def find_statements(conn: AsyncConnection, q: StatementQuery, limit: int) -> Page:
    """A page of statements matching `q` (C §2.1.3): driven by one filter-key index range, newest first
    unless ascending; voided statements excluded; `bound` pins the page set to the first page's snapshot."""
    db = await _driver(conn)
    head = await db.fetchrow(
        "SELECT lrs_idle_now($1) AS idle, s.seq, s.stored FROM (SELECT 1) one "
        "LEFT JOIN LATERAL (SELECT seq, stored FROM statement ORDER BY seq DESC LIMIT 1) s ON true",
        WRITE_LOCK,
    )
    ct = consistent_instant(head["idle"], head["stored"])
    bound = q.bound if q.bound is not None else int(head["seq"] or 0)
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    # since/until become seq bounds through the (stored, seq) index; exact because stored grows with seq.
    at = "coalesce((SELECT seq FROM statement WHERE stored <= {} ORDER BY stored DESC, seq DESC LIMIT 1), 0)"
    low = at.format(arg(q.since)) if q.since is not None else "0"
    high = arg(bound)
    if q.until is not None:
        high = f"LEAST({high}, {at.format(arg(q.until))})"
    if q.after is not None:
        if q.ascending:
            low = f"GREATEST({low}, {arg(q.after)})"
        else:
            high = f"LEAST({high}, {arg(q.after)} - 1)"
    filters: list[tuple[str, bool]] = []
    if q.registration is not None:
        filters.append(("r:" + q.registration, True))
    if q.activity is not None:
        filters.append(("o:" + q.activity, not q.related_activities))
    if q.verb is not None and q.agent is not None and not q.related_agents:
        filters.append(("x:" + q.verb + " " + q.agent, True))
    else:
        if q.agent is not None:
            filters.append(("a:" + q.agent, not q.related_agents))
        if q.verb is not None:
            filters.append(("v:" + q.verb, True))
    where = []
    if filters:
        key, main = filters[0]
        source = "statement_key d JOIN statement s ON s.seq = d.seq"
        order_col = "d.seq"
        where.append(f"d.key = {arg(key)} AND d.seq > {low} AND d.seq <= {high}")
        if main:
            where.append("d.main")
        for key, main in filters[1:]:
            extra = " AND k.main" if main else ""
            where.append(f"EXISTS (SELECT 1 FROM statement_key k WHERE k.key = {arg(key)} AND k.seq = s.seq{extra})")
    else:
        source = "statement s"
        order_col = "s.seq"
        where.append(f"s.seq > {low} AND s.seq <= {high}")
    if q.credential_id is not None:
        where.append(f"s.credential_id = {arg(q.credential_id)}")
    where.append("(s.is_voiding OR NOT EXISTS (SELECT 1 FROM voided v WHERE v.target = s.id))")
    sql = (
        f"SELECT s.seq, s.payload, s.stored FROM {source} WHERE {' AND '.join(where)} "
        f"ORDER BY {order_col} {'ASC' if q.ascending else 'DESC'} LIMIT {arg(limit + 1)}"
    )
    rows = await db.fetch(sql, *args)
    has_more = len(rows) > limit
    rows = rows[:limit]
    last_stored = max((r["stored"] for r in rows), default=None)
    return Page(
        payloads=[r["payload"] for r in rows],
        last_seq=int(rows[-1]["seq"]) if rows else None,
        has_more=has_more,
        bound=bound,
        consistent_through=ct,
        last_stored=last_stored,
    )
