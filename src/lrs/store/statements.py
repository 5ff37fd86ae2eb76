"""All SQL of the Statement resource: the serialised append (ADR 0002), lookups and filtered pages."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from lrs.errors import Conflict
from lrs.query.statements import StatementQuery
from lrs.store.attachments import Blob, store_contents
from lrs.store.engine import driver
from lrs.xapi.definition import merge_definition
from lrs.xapi.prepare import Prepared

# Key of the transaction-level advisory lock every statement writer holds from seq assignment to commit.
WRITE_LOCK = 0x1A5_57A7
_ONE_MS = dt.timedelta(milliseconds=1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def key_id(key: str) -> str:
    """The stored form of a filter key: a 128-bit BLAKE2b digest as a UUID, a fifth the size of the IRIs in the
    index and collision-free in practice (ADR 0002)."""
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def to_ms(value: dt.datetime) -> dt.datetime:
    """The instant truncated to milliseconds, the precision of `stored`."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def format_stored(value: dt.datetime) -> str:
    """`stored` as the LRS writes it: UTC with milliseconds and Z (D §2.4.8, §4.5)."""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class StoredRow:
    """One stored statement as a single GET needs it."""

    seq: int
    payload: str
    stored: dt.datetime
    credential_id: int | None
    voided: bool


Same = Callable[[dict[str, Any], dict[str, Any]], bool]


@dataclass(slots=True)
class Job:
    """One request's batch for the append: its statements, whose they are, and how to compare re-posts."""

    batch: Sequence[Prepared]
    credential_id: int | None
    same: Same


async def insert_statements(
    conn: AsyncConnection,
    batch: Sequence[Prepared],
    credential_id: int | None,
    same: Same,
    attachments: Mapping[str, Blob] | None = None,
) -> int:
    """Store a batch atomically in a transaction of its own (C §2.1.1-2.1.2, D §2.3.1-2.3.2); return how many
    were new. Ids already stored are compared with `same`: equal ones are skipped, different ones raise 409.
    `attachments` (content by lower-case sha2, C §1.5.2) is stored in the same transaction, before the write lock
    is taken so that copying large content does not hold up other writers (ADR 0007).
    """
    db = await driver(conn)
    async with db.transaction():
        if attachments:
            await store_contents(db, attachments.values())
        (outcome,), _ = await append_jobs(db, [Job(batch, credential_id, same)])
        if isinstance(outcome, Exception):
            raise outcome
    return outcome


APPEND_SQL = """
WITH s AS (
  INSERT INTO statement (seq, id, stored, credential_id, is_voiding, payload)
  SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::timestamptz[], $4::bigint[], $5::bool[], $6::text[])
), k AS (
  INSERT INTO statement_key (key, seq, main) SELECT * FROM unnest($7::uuid[], $8::bigint[], $9::bool[])
), r AS (
  INSERT INTO statement_ref (target, seq) SELECT * FROM unnest($10::uuid[], $11::bigint[])
), v AS (
  INSERT INTO voided (target, voiding_seq) SELECT * FROM unnest($12::uuid[], $13::bigint[]) ON CONFLICT DO NOTHING
), d AS (
  INSERT INTO activity AS a (iri, definition) SELECT * FROM unnest($14::text[], $15::jsonb[])
  ON CONFLICT (iri) DO UPDATE SET definition = lrs_merge_definition(a.definition, EXCLUDED.definition), updated = now()
  WHERE a.definition IS DISTINCT FROM lrs_merge_definition(a.definition, EXCLUDED.definition)
)
SELECT r.target::text AS target, r.seq, s2.id::text AS id
FROM statement_ref r JOIN statement s2 ON s2.seq = r.seq WHERE r.target = ANY($2::uuid[])
"""


def _inherit(
    fresh: Sequence[Prepared], keys_by_id: dict[str, dict[str, bool]], inherited: dict[str, dict[str, bool]]
) -> None:
    """StatementRef filter rule (C §2.1.3): a referrer matches what its target matches, recursively."""
    for _ in range(len(fresh)):
        changed = False
        for p in fresh:
            if p.ref_target is None:
                continue
            source = keys_by_id.get(p.ref_target) or inherited.get(p.ref_target) or {}
            mine = keys_by_id[p.id]
            for key, main in source.items():
                if key not in mine or (main and not mine[key]):
                    mine[key] = mine.get(key, False) or main
                    changed = True
        if not changed:
            return


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def _jsonb_text(definition: dict[str, Any]) -> str:
    """A definition as JSON for the jsonb column. jsonb cannot hold U+0000, which JSON strings may carry: in the
    canonical definition (not in the statement, stored as text) it becomes U+FFFD (ADR 0003)."""
    text = orjson.dumps(definition).decode()
    return orjson.dumps(_without_nul(definition)).decode() if "\\u0000" in text else text


async def append_jobs(db: Any, jobs: Sequence[Job]) -> tuple[list[int | Exception], dt.datetime | None]:
    """Append several requests' batches inside the caller's transaction in two round trips (ADR 0002):
    `lrs_append_begin` takes the write lock and reads the head, the ids already stored and the keys of
    StatementRef targets; one statement then inserts statements, filter keys, refs, voids and definitions.
    Each job's outcome is its number of new statements, or the Conflict that rejects that job alone; the second
    value is the `stored` of the new statements (None when every statement was already there)."""
    ids = [p.id for job in jobs for p in job.batch]
    targets = list({p.ref_target for job in jobs for p in job.batch if p.ref_target is not None})
    head = await db.fetchrow("SELECT * FROM lrs_append_begin($1, $2::uuid[], $3::uuid[])", WRITE_LOCK, ids, targets)
    existing = {str(i): payload for i, payload in orjson.loads(head["existing"] or "[]")}
    outcomes: list[int | Exception] = []
    fresh: list[Prepared] = []
    credentials: list[int | None] = []
    for job in jobs:
        mine: list[Prepared] = []
        failure: Exception | None = None
        for index, p in enumerate(job.batch):
            if p.id not in existing:
                mine.append(p)
            elif not job.same(orjson.loads(existing[p.id]), p.original):
                failure = Conflict(f"statement {p.id} already exists with different content", index=index)
                break
        outcomes.append(failure if failure is not None else len(mine))
        if failure is None:
            fresh.extend(mine)
            credentials.extend([job.credential_id] * len(mine))
    if not fresh:
        return outcomes, None
    stored = to_ms(head["now"])
    if head["last_stored"] is not None and stored < head["last_stored"]:
        stored = head["last_stored"]  # never decreases, even if the clock steps back
    stored_text = format_stored(stored)
    last_seq = head["last_seq"] or 0

    keys_by_id: dict[str, dict[str, bool]] = {p.id: {key_id(k): m for k, m in p.keys.items()} for p in fresh}
    inherited: dict[str, dict[str, bool]] = {}
    for target, key, main in orjson.loads(head["inherited"] or "[]"):
        inherited.setdefault(str(target), {})[key.replace("-", "")] = main
    _inherit(fresh, keys_by_id, inherited)

    seqs = range(last_seq + 1, last_seq + 1 + len(fresh))
    key_rows = [(k, seq, m) for p, seq in zip(fresh, seqs, strict=True) for k, m in keys_by_id[p.id].items()]
    refs = [(p.ref_target, seq) for p, seq in zip(fresh, seqs, strict=True) if p.ref_target is not None]
    voids = [(p.ref_target, seq) for p, seq in zip(fresh, seqs, strict=True) if p.is_voiding]
    definitions: dict[str, dict[str, Any]] = {}
    for p in fresh:
        for iri, definition in p.definitions:
            definitions[iri] = merge_definition(definitions.get(iri), definition)
    referrers = await db.fetch(
        APPEND_SQL,
        list(seqs),
        [p.id for p in fresh],
        [stored] * len(fresh),
        credentials,
        [p.is_voiding for p in fresh],
        [p.payload(stored_text) for p in fresh],
        [k for k, _, _ in key_rows],
        [s for _, s, _ in key_rows],
        [m for _, _, m in key_rows],
        [t for t, _ in refs],
        [s for _, s in refs],
        [t for t, _ in voids],
        [s for _, s in voids],
        list(definitions),
        [_jsonb_text(d) for d in definitions.values()],
    )
    if referrers:
        await _backfill_referrers(db, keys_by_id, referrers)
    return outcomes, stored


async def _backfill_referrers(db: Any, new: dict[str, dict[str, bool]], rows: Sequence[Any]) -> None:
    """Give statements stored earlier that reference the new ones their targets' keys (late targets)."""
    pending = new
    for _ in range(16):
        nxt: dict[str, dict[str, bool]] = {}
        records: list[tuple[str, int, bool]] = []
        for r in rows:
            keys = pending[r["target"]]
            records.extend((key, r["seq"], main) for key, main in keys.items())
            nxt.setdefault(r["id"], {}).update(keys)
        if records:
            await db.executemany(
                "INSERT INTO statement_key (key, seq, main) VALUES ($1, $2, $3) "
                "ON CONFLICT (key, seq) DO UPDATE SET main = true WHERE EXCLUDED.main AND NOT statement_key.main",
                records,
            )
        pending = nxt
        rows = await db.fetch(
            "SELECT r.target::text AS target, r.seq, s.id::text AS id FROM statement_ref r "
            "JOIN statement s ON s.seq = r.seq WHERE r.target = ANY($1::uuid[])",
            list(pending),
        )
        if not rows:
            return


HEAD_SQL = "SELECT * FROM lrs_head($1)"


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
    db = await driver(conn)
    r = await db.fetchrow(HEAD_SQL, WRITE_LOCK)
    return consistent_instant(r["idle"], r["last_stored"])


async def get_statement(conn: AsyncConnection, statement_id: str) -> StoredRow | None:
    """The stored statement with this id, with whether it is voided (D §2.3.2)."""
    db = await driver(conn)
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
    db = await driver(conn)
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
    db = await driver(conn)
    head = await db.fetchrow(HEAD_SQL, WRITE_LOCK)
    ct = consistent_instant(head["idle"], head["last_stored"])
    bound = q.bound if q.bound is not None else int(head["last_seq"] or 0)
    sql, args = page_sql(q, limit, bound)
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


def page_sql(q: StatementQuery, limit: int, bound: int) -> tuple[str, list[Any]]:
    """The one query of a page (ADR 0002): an index range on the most selective filter key ordered by seq, the
    other filters and voiding probed per row, so its cost follows the page, not the store."""
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
        where.append(f"d.key = {arg(key_id(key))}::uuid AND d.seq > {low} AND d.seq <= {high}")
        if main:
            where.append("d.main")
        for key, main in filters[1:]:
            # A scalar subquery is probed per row through the primary key; PostgreSQL turns EXISTS into a hashed
            # subplan that reads every row of the key, whose cost grows with the store (docs/benchmarks.md).
            probe = f"(SELECT k.main FROM statement_key k WHERE k.key = {arg(key_id(key))}::uuid AND k.seq = s.seq)"
            where.append(f"{probe} IS {'TRUE' if main else 'NOT NULL'}")
    else:
        source = "statement s"
        order_col = "s.seq"
        where.append(f"s.seq > {low} AND s.seq <= {high}")
    if q.credential_id is not None:
        where.append(f"s.credential_id = {arg(q.credential_id)}")
    where.append("(s.is_voiding OR (SELECT v.voiding_seq FROM voided v WHERE v.target = s.id) IS NULL)")
    sql = (
        f"SELECT s.seq, s.payload, s.stored FROM {source} WHERE {' AND '.join(where)} "
        f"ORDER BY {order_col} {'ASC' if q.ascending else 'DESC'} LIMIT {arg(limit + 1)}"
    )
    return sql, args
