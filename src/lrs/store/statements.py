"""All SQL of the Statement resource: the append (parallel, committed in seq order; ADR 0002), lookups and
filtered pages."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from lrs.errors import Conflict
from lrs.query.statements import StatementQuery
from lrs.store.attachments import Blob, store_contents
from lrs.xapi.definition import merge_definition
from lrs.xapi.index import ACTIVITY, AGENT, REGISTRATION, VERB, verb_agent
from lrs.xapi.prepare import Prepared

# Key of the advisory lock that guards seq reservations: writers hold it exclusively while they take a range,
# readers of the head share it (ADR 0002, migration 0005).
WRITE_LOCK = 0x1A5_57A7
_ONE_MS = dt.timedelta(milliseconds=1)
NEVER = 2**63 - 1  # a seq no statement reaches
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@functools.lru_cache(maxsize=1 << 16)  # verbs, activities and agents repeat across statements
def key_id(key: str) -> str:
    """The stored form of a filter key: a 128-bit BLAKE2b digest as a UUID, a fifth the size of the IRIs in the
    index and collision-free in practice (ADR 0002)."""
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def to_ms(value: dt.datetime) -> dt.datetime:
    """The instant truncated to milliseconds, the precision of `stored`."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


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
    db: asyncpg.Connection,
    batch: Sequence[Prepared],
    credential_id: int | None,
    same: Same,
    attachments: Mapping[str, Blob] | None = None,
) -> int:
    """Store a batch atomically (C §2.1.1-2.1.2, D §2.3.1-2.3.2); return how many were new. Ids already stored
    are compared with `same`: equal ones are skipped, different ones raise 409. `attachments` (content by
    lower-case sha2, C §1.5.2) is stored in the same transaction, before the seq range is reserved so that copying
    large content does not hold up other writers (ADR 0007).
    """
    async with db.transaction() if attachments else contextlib.nullcontext():
        if attachments:
            await store_contents(db, attachments.values())
        (outcome,), _ = await append_jobs(db, [Job(batch, credential_id, same)])
        if isinstance(outcome, Exception):
            raise outcome  # inside the transaction, so the attachment content goes with it
    return outcome


# The per-statement arrays go as text PostgreSQL parses in C: asyncpg's per-element encoding of lists cost more
# than the rest of the call. The heads are joined by U+001E, which JSON text never holds unescaped (RFC 8259 §7).
HEAD_SEPARATOR = "\x1e"
APPEND_SQL = (
    "SELECT * FROM lrs_append($1, $2::text::uuid[], $3::text::bigint[], $4::text::bool[], "
    f"string_to_array($5::text, chr({ord(HEAD_SEPARATOR)})), $6::text::bool[], $7::text::int[], $8::text::uuid[], "
    "$9::text::bool[], $10::int[], $11::uuid[], $12::int[], $13::uuid[], $14::text::text[], $15::text::jsonb[])"
)


def _inherit(fresh: Sequence[Prepared], keys_by_id: dict[str, dict[str, bool]]) -> None:
    """StatementRef filter rule (C §2.1.3) inside one append: a referrer matches what its target matches,
    recursively; targets stored earlier are added by `lrs_append` from their key rows."""
    for _ in range(len(fresh)):
        changed = False
        for p in fresh:
            if p.ref_target is None or p.ref_target not in keys_by_id:
                continue
            mine = keys_by_id[p.id]
            for key, main in keys_by_id[p.ref_target].items():
                if key not in mine or (main and not mine[key]):
                    mine[key] = mine.get(key, False) or main
                    changed = True
        if not changed:
            return


def _root(p: Prepared, by_id: Mapping[str, Prepared]) -> str | None:
    """The first StatementRef target outside this append along p's chain of references, if any."""
    target = p.ref_target
    seen: set[str] = set()
    while target is not None and target in by_id and target not in seen:
        seen.add(target)
        target = by_id[target].ref_target
    return None if target is None or target in by_id else target


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


def _array(elements: Iterable[str]) -> str:
    """An array literal of elements already in literal form."""
    return "{" + ",".join(elements) + "}"


def _flags(values: Iterable[bool]) -> list[str]:
    """Bools as the elements of a bool[] literal."""
    return ["t" if v else "f" for v in values]


def _texts(values: Iterable[str]) -> str:
    """An array literal of texts, each quoted."""
    return _array(['"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values])


def append_args(fresh: Sequence[Prepared], credentials: Sequence[int | None]) -> list[Any]:
    """The arguments of `lrs_append` after the lock key: statements, filter keys (with StatementRef inheritance
    inside the append), references, and the batch's merged activity definitions."""
    by_id = {p.id: p for p in fresh}
    keys_of: list[dict[str, bool]] = [p.keys for p in fresh]
    if any(p.ref_target in by_id for p in fresh if p.ref_target is not None):
        keys_by_id = {p.id: dict(p.keys) for p in fresh}
        _inherit(fresh, keys_by_id)
        keys_of = [keys_by_id[p.id] for p in fresh]
    # The ~10 key rows per statement go as array literals, built a statement at a time.
    key_ix: list[str] = []
    keys: list[str] = []
    mains: list[str] = []
    root_ix: list[int] = []
    roots: list[str] = []
    ref_ix: list[int] = []
    refs: list[str] = []
    definitions: dict[str, dict[str, Any]] = {}
    for ix, (p, mine) in enumerate(zip(fresh, keys_of, strict=True), 1):
        if mine:
            key_ix.append(",".join([str(ix)] * len(mine)))
            keys.append(",".join(map(key_id, mine)))
            mains.append(",".join(_flags(mine.values())))
        if p.ref_target is not None:
            ref_ix.append(ix)
            refs.append(p.ref_target)
            root = _root(p, by_id)
            if root is not None:
                root_ix.append(ix)
                roots.append(root)
        for iri, definition in p.definitions:
            definitions[iri] = merge_definition(definitions.get(iri), definition)
    return [
        _array([p.id for p in fresh]),
        _array(["NULL" if c is None else str(c) for c in credentials]),
        _array(_flags(p.is_voiding for p in fresh)),
        HEAD_SEPARATOR.join([p.head.decode() for p in fresh]),
        _array(_flags(p.has_timestamp for p in fresh)),
        _array(key_ix),
        _array(keys),
        _array(mains),
        root_ix,
        roots,
        ref_ix,
        refs,
        _texts(definitions),
        _texts([_jsonb_text(d) for d in definitions.values()]),
    ]


async def append_jobs(db: Any, jobs: Sequence[Job]) -> tuple[list[int | Exception], dt.datetime | None]:
    """Append several requests' batches with one call of `lrs_append` (ADR 0002), a transaction of its own unless
    the caller opened one; other writers append in parallel. Each job's outcome is its number of new statements,
    or the Conflict that rejects that job alone; the second value is the `stored` of the new statements (None when
    every statement was already there). Ids found already stored are compared and the call repeated without them.
    """
    known: dict[str, str] = {}
    retries = 0
    while True:
        outcomes: list[int | Exception] = []
        fresh: list[Prepared] = []
        credentials: list[int | None] = []
        for job in jobs:
            mine: list[Prepared] = []
            failure: Exception | None = None
            for index, p in enumerate(job.batch):
                if p.id not in known:
                    mine.append(p)
                elif not job.same(orjson.loads(known[p.id]), p.original):
                    failure = Conflict(f"statement {p.id} already exists with different content", index=index)
                    break
            outcomes.append(failure if failure is not None else len(mine))
            if failure is None:
                fresh.extend(mine)
                credentials.extend([job.credential_id] * len(mine))
        if not fresh:
            return outcomes, None
        row = await _call_append(db, append_args(fresh, credentials), raise_race=retries >= 3)
        if row is None:
            # Another writer stored one of these ids in the meantime (ADR 0002): compare with it on the next pass.
            retries += 1
            rows = await db.fetch(
                "SELECT id::text AS id, payload FROM statement WHERE id = ANY($1::uuid[])", [p.id for p in fresh]
            )
            known.update((r["id"], r["payload"]) for r in rows)
            continue
        if row["existing"] is None:
            return outcomes, row["stored"]
        known.update((str(i), payload) for i, payload in orjson.loads(row["existing"]))


def _raced(exc: Exception) -> bool:
    """Whether an append failed because another writer was storing one of its ids at the same time (a unique
    violation of the statement id, or the deadlock two such writers can form; ADR 0002)."""
    if isinstance(exc, asyncpg.UniqueViolationError):
        return getattr(exc, "constraint_name", None) == "statement_id_key"
    return isinstance(exc, asyncpg.DeadlockDetectedError)


async def append_call(db: Any, args: list[Any]) -> Any | None:
    """One call of `lrs_append` with arguments built elsewhere (`lrs import` builds them in its worker processes):
    the result row, or None when an id was already stored or being stored by another writer, and nothing was
    written; the caller then stores the batch with `insert_statements`, which compares them."""
    row = await _call_append(db, args)
    return row if row is not None and row["existing"] is None else None


async def _call_append(db: Any, args: list[Any], *, raise_race: bool = False) -> Any | None:
    """One call of `lrs_append`: its row, or None when another writer was storing one of the same ids (`_raced`;
    raised instead when `raise_race`). Inside the caller's transaction it runs under a savepoint, so that such a
    race leaves the transaction usable for the retry."""
    try:
        if db.is_in_transaction():
            async with db.transaction():
                return await db.fetchrow(APPEND_SQL, WRITE_LOCK, *args)
        return await db.fetchrow(APPEND_SQL, WRITE_LOCK, *args)
    except (asyncpg.UniqueViolationError, asyncpg.DeadlockDetectedError) as exc:
        await release_locks(db)
        if raise_race or not _raced(exc):
            raise
        return None
    except BaseException:
        await release_locks(db)
        raise


async def release_locks(db: Any) -> None:
    """Drop any session-level advisory lock a failed call may have left on this pooled connection. The functions
    release the reservation lock themselves on any error or cancel; this covers a second interrupt arriving while
    they do, which would otherwise leave every writer waiting."""
    if db.is_closed():
        return
    try:
        await db.execute("SELECT pg_advisory_unlock_all()")
    except BaseException as exc:
        # In an aborted transaction, on a lost connection or when interrupted again the unlock cannot run, and a
        # session's advisory locks outlive a rollback: the session goes, and its locks with it.
        db.terminate()
        if not isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError | OSError):
            raise


# The newest statement of the calling query's own snapshot, and the clock bound `lrs_idle_at` gives for what that
# snapshot does not hold (ADR 0002): Consistent-Through comes with the rows it describes, in the same round trip.
# A first page's range is bounded by VISIBLE, so `top` is evaluated as the scan starts, close to the snapshot:
# the later the clock is read, the likelier a writer has reserved meanwhile and the header falls back.
TOP = (
    "top AS MATERIALIZED (SELECT coalesce(n.seq, 0) AS seq, n.stored, lrs_idle_at(coalesce(n.seq, 0)) AS idle "
    "FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT s.seq, s.stored FROM statement s ORDER BY s.seq DESC LIMIT 1) n "
    "ON true)"
)
VISIBLE = "(SELECT seq FROM top)"
HEAD_COLUMNS = f"{VISIBLE} AS top_seq, (SELECT stored FROM top) AS top_stored, (SELECT idle FROM top) AS idle"
HEAD_SQL = f"WITH {TOP} SELECT {HEAD_COLUMNS}"


def consistent_instant(idle: dt.datetime | None, newest: dt.datetime | None) -> dt.datetime:
    """X-Experience-API-Consistent-Through (C §2.1.3) from the idle clock and the newest visible `stored`.

    Writers take `stored` = max(clock, last reserved `stored`) to the millisecond with their seq range, and commit
    in seq order, so any statement still to become visible has `stored` >= the idle clock (when there is one) or
    >= the newest visible `stored`. One millisecond before that bound, everything is visible.
    """
    base = idle if idle is not None else newest
    if base is None:
        return EPOCH
    return to_ms(base) - _ONE_MS


def head_instant(row: Any) -> dt.datetime:
    """Consistent-Through from a row carrying HEAD_COLUMNS (ADR 0002)."""
    return consistent_instant(row["idle"], row["top_stored"])


async def consistent_through(db: asyncpg.Connection) -> dt.datetime:
    """The instant up to which every statement is visible to queries (C §2.1.3; ADR 0002)."""
    return head_instant(await db.fetchrow(HEAD_SQL))


async def get_statement(db: asyncpg.Connection, statement_id: str) -> tuple[StoredRow | None, dt.datetime]:
    """The stored statement with this id, with whether it is voided (D §2.3.2), and Consistent-Through."""
    r = await db.fetchrow(
        f"WITH {TOP} SELECT s.seq, s.payload, s.stored, s.credential_id, "
        "(NOT s.is_voiding AND EXISTS (SELECT 1 FROM voided v WHERE v.target = s.id)) AS voided, "
        f"{HEAD_COLUMNS} FROM (SELECT $1::uuid AS id) w LEFT JOIN statement s ON s.id = w.id",
        statement_id,
    )
    row = None if r["seq"] is None else StoredRow(r["seq"], r["payload"], r["stored"], r["credential_id"], r["voided"])
    return row, head_instant(r)


async def activity_definitions(db: asyncpg.Connection, iris: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Canonical definitions of these activities (for format=canonical and the Activities resource)."""
    if not iris:
        return {}
    rows = await db.fetch("SELECT iri, definition::text AS definition FROM activity WHERE iri = ANY($1)", list(iris))
    return {r["iri"]: orjson.loads(r["definition"]) for r in rows}


@dataclass(slots=True)
class Page:
    """A page of statements with what the `more` link and the headers need: the statements either each apart
    (`payloads`) or already joined by commas as the UTF-8 of a JSON array's inside (`joined`)."""

    payloads: list[str]
    joined: bytes | None
    last_seq: int | None
    has_more: bool
    bound: int
    consistent_through: dt.datetime
    last_stored: dt.datetime | None


async def find_statements(db: asyncpg.Connection, q: StatementQuery, limit: int, *, joined: bool = False) -> Page:
    """A page of statements matching `q` (C §2.1.3): driven by one filter-key index range, newest first
    unless ascending; voided statements excluded; `bound` pins the page set to the first page's snapshot.
    `joined` asks for the statements as one comma-joined UTF-8 text instead of each apart."""
    sql, args = page_sql(q, limit, q.bound, joined=joined)
    row = await db.fetchrow(sql, *args)
    seqs: list[int] = row["seqs"] or []
    has_more = len(seqs) > limit
    stored: list[dt.datetime] = (row["stored"] or [])[:limit]
    ct = head_instant(row)
    if q.bound is not None:
        # A later page describes the first page's snapshot (C §2.1.3): a statement stored after the bound's is
        # not in the set these pages show, whatever has become visible since.
        ct = min(ct, consistent_instant(None, row["bound_stored"]))
    return Page(
        payloads=[] if joined else (row["payloads"] or [])[:limit],
        joined=_without_beyond(row["joined"] or b"", row["beyond"]) if joined else None,
        last_seq=int(seqs[:limit][-1]) if seqs else None,
        has_more=has_more,
        bound=q.bound if q.bound is not None else int(row["top_seq"]),
        consistent_through=ct,
        last_stored=max(stored, default=None),
    )


def _without_beyond(joined: bytes, beyond: int | None) -> bytes:
    """A joined page without the statement beyond it (`beyond` bytes and their comma), when there is one."""
    return joined if beyond is None else joined[: len(joined) - beyond - 1]


def page_sql(q: StatementQuery, limit: int, bound: int | None, *, joined: bool = False) -> tuple[str, list[Any]]:
    """The one query of a page (ADR 0002): an index range on the most selective filter key ordered by seq, the
    other filters and voiding probed per row, so its cost follows the page, not the store. The rows come back
    as arrays in one row: PostgreSQL sends them at once and asyncpg decodes one message instead of a hundred
    trickling in (a third of the client CPU, docs/benchmarks.md); the aggregates use the index order, no sort.
    With the rows come HEAD_COLUMNS of the same snapshot; without a `bound` (a first page) the page is bounded
    by that snapshot's newest statement, which the `more` link then carries. `joined` returns the page's
    statements as one comma-joined bytea instead of an array of texts: PostgreSQL sends one value, and the client
    neither decodes a hundred texts nor encodes them again (docs/benchmarks.md)."""
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    # since/until become seq bounds through the (stored, seq) index; exact because stored grows with seq.
    at = "coalesce((SELECT seq FROM statement WHERE stored <= {} ORDER BY stored DESC, seq DESC LIMIT 1), 0)"
    low = at.format(arg(q.since)) if q.since is not None else "0"
    bound_arg = high = arg(bound) if bound is not None else VISIBLE
    if q.until is not None:
        high = f"LEAST({high}, {at.format(arg(q.until))})"
    if q.after is not None:
        if q.ascending:
            low = f"GREATEST({low}, {arg(q.after)})"
        else:
            high = f"LEAST({high}, {arg(q.after)} - 1)"
    filters: list[tuple[str, bool]] = []
    if q.registration is not None:
        filters.append((REGISTRATION + q.registration, True))
    if q.activity is not None:
        filters.append((ACTIVITY + q.activity, not q.related_activities))
    if q.verb is not None and q.agent is not None and not q.related_agents:
        filters.append((verb_agent(q.verb, q.agent), True))
    else:
        if q.agent is not None:
            filters.append((AGENT + q.agent, not q.related_agents))
        if q.verb is not None:
            filters.append((VERB + q.verb, True))
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
    # Hidden only when voided by a statement within the bound: a voiding stored after the first page leaves the
    # later pages of the same query unchanged.
    voided_by = "(SELECT v.voiding_seq FROM voided v WHERE v.target = s.id)"
    where.append(f"(s.is_voiding OR coalesce({voided_by}, {NEVER}) > {bound_arg})")
    direction = "ASC" if q.ascending else "DESC"
    # A later page describes the first page's snapshot: nothing stored after the bound's statement is in its set.
    bound_stored = (
        f"(SELECT b.stored FROM statement b WHERE b.seq <= {bound_arg} ORDER BY b.seq DESC LIMIT 1) AS bound_stored"
        if bound is not None
        else "NULL::timestamptz AS bound_stored"
    )
    # A joined page reads each payload as UTF-8 bytes, once: the row's text and its length in the join.
    payload = "convert_to(s.payload, 'UTF8') AS payload" if joined else "s.payload"
    rows = (
        f"SELECT s.seq, {payload}, s.stored FROM {source} WHERE {' AND '.join(where)} "
        f"ORDER BY {order_col} {direction} LIMIT {arg(limit + 1)}"
    )
    # The row beyond the page tells whether there is more; a joined page is cut before it by its length.
    payloads = (
        f"string_agg(p.payload, ','::bytea ORDER BY p.seq {direction}) AS joined, "
        f"(array_agg(octet_length(p.payload) ORDER BY p.seq {direction}))[{arg(limit + 1)}] AS beyond"
        if joined
        else f"array_agg(p.payload ORDER BY p.seq {direction}) AS payloads"
    )
    sql = (
        f"WITH {TOP} SELECT array_agg(p.seq ORDER BY p.seq {direction}) AS seqs, {payloads}, "
        f"array_agg(p.stored ORDER BY p.seq {direction}) AS stored, {HEAD_COLUMNS}, {bound_stored} FROM ({rows}) p"
    )
    return sql, args
