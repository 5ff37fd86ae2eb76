"""parallel statement appends: seq ranges reserved under a short lock, inserts in parallel, commits in seq order

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Advisory lock keys: `lock_key` (the caller's WRITE_LOCK) guards reservations, held exclusively by a writer for a
# few microseconds and shared by readers of the head; each writer holds MARK + its first seq until it ends.
MARK = 1 << 62
APPEND_SIGNATURE = (
    "bigint, uuid[], bigint[], bool[], text[], bool[], int[], uuid[], bool[], int[], uuid[], int[], uuid[], text[], "
    "jsonb[]"
)


def upgrade() -> None:
    # The last seq and `stored` (ms since the epoch) handed out. Sequences are not transactional: a reservation is
    # seen by the next writer at once, without waiting for the commit of the one that made it.
    op.execute("CREATE SEQUENCE lrs_reserved_seq MINVALUE 0 START 0")
    op.execute("CREATE SEQUENCE lrs_reserved_ms MINVALUE 0 START 0")
    op.execute("SELECT setval('lrs_reserved_seq', coalesce(max(seq), 0)) FROM statement")
    op.execute(
        "SELECT setval('lrs_reserved_ms', coalesce((extract(epoch FROM max(stored)) * 1000)::bigint, 0)) FROM statement"
    )
    # The in-flight writers with a seq range below `first`, by their markers.
    op.execute(
        f"""
        CREATE FUNCTION lrs_writers_below(first bigint) RETURNS SETOF bigint LANGUAGE sql VOLATILE AS $$
          SELECT k FROM (
            SELECT (l.classid::bigint << 32) | l.objid::bigint AS k FROM pg_locks l
            WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.mode = 'ExclusiveLock' AND l.granted
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          ) m WHERE m.k >= {MARK} AND m.k < {MARK} + first
        $$
        """
    )
    # ADR 0002, append as built: (1) ids already stored are reported and nothing is written; (2) under the
    # reservation lock, a seq range and `stored` are taken and the writer's marker lock is acquired; (3) the
    # statements, their own filter keys and their references are inserted in parallel with other writers; (4) the
    # writer waits until every writer with a lower range has ended, so commits happen in seq order and the rows
    # visible to a reader are always every statement up to some seq; (5) what depends on other writers is done in
    # that order: keys of StatementRef targets stored earlier (`root_*`, the first target outside the call along
    # each chain), keys for statements stored earlier that reference the new ones (late targets, recursively),
    # voids, and activity definitions (skipped when equal to the stored one, which the merge would not change).
    # Called outside an explicit transaction, the function is its own transaction. Statements are addressed by
    # their 1-based index `ix` in `ids`.
    op.execute(
        f"""
        CREATE FUNCTION lrs_append(
            lock_key bigint, ids uuid[], credential_ids bigint[], voiding bool[], heads text[], has_ts bool[],
            key_ix int[], keys uuid[], mains bool[], root_ix int[], root_targets uuid[],
            ref_ix int[], ref_targets uuid[], def_iris text[], defs jsonb[],
            OUT existing text, OUT stored timestamptz, OUT first_seq bigint)
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
          ms bigint;
          st text;
          below bigint;
        BEGIN
          IF current_setting('transaction_isolation') <> 'read committed' THEN
            -- steps 4 and 5 read what lower writers committed meanwhile: each statement needs a fresh snapshot
            RAISE EXCEPTION 'lrs_append needs READ COMMITTED, not %', current_setting('transaction_isolation');
          END IF;
          SELECT json_agg(json_build_array(s.id, s.payload))::text INTO existing FROM statement s WHERE s.id = ANY(ids);
          IF existing IS NOT NULL THEN
            RETURN;
          END IF;
          BEGIN  -- the lock is taken and released inside the block, so no error or cancel can leave it held
            PERFORM pg_advisory_lock(lock_key);
            first_seq := (SELECT last_value FROM lrs_reserved_seq) + 1;
            -- `stored` never decreases, even if the clock steps back
            ms := greatest(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint,
                           (SELECT last_value FROM lrs_reserved_ms));
            PERFORM pg_advisory_xact_lock({MARK} + first_seq);
            PERFORM setval('lrs_reserved_seq', first_seq + cardinality(ids) - 1);
            PERFORM setval('lrs_reserved_ms', ms);
            PERFORM pg_advisory_unlock(lock_key);
          EXCEPTION WHEN OTHERS OR query_canceled THEN
            PERFORM pg_advisory_unlock(lock_key);  -- a warning, not an error, if the lock was never obtained
            RAISE;
          END;
          stored := timestamptz 'epoch' + ms * interval '1 millisecond';
          st := to_char(stored AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
          INSERT INTO statement (seq, id, stored, credential_id, is_voiding, payload)
            SELECT first_seq + u.ix - 1, u.id, stored, u.credential_id, u.voiding,
                   u.head || CASE WHEN u.has_ts THEN ',"stored":"' || st || '"}}'
                                  ELSE ',"timestamp":"' || st || '","stored":"' || st || '"}}' END
            FROM unnest(ids, credential_ids, voiding, heads, has_ts)
                 WITH ORDINALITY AS u(id, credential_id, voiding, head, has_ts, ix);
          INSERT INTO statement_key (key, seq, main)
            SELECT k.key, first_seq + k.ix - 1, k.main FROM unnest(keys, key_ix, mains) AS k(key, ix, main);
          INSERT INTO statement_ref (target, seq)
            SELECT r.target, first_seq + r.ix - 1 FROM unnest(ref_ix, ref_targets) AS r(ix, target);

          FOR below IN SELECT lrs_writers_below(first_seq) LOOP
            PERFORM pg_advisory_xact_lock_shared(below);  -- returns once that writer has ended
          END LOOP;

          IF cardinality(root_ix) > 0 THEN
            INSERT INTO statement_key AS o (key, seq, main)
              SELECT tk.key, first_seq + r.ix - 1, bool_or(tk.main)
              FROM unnest(root_ix, root_targets) AS r(ix, target)
              JOIN statement t ON t.id = r.target
              JOIN statement_key tk ON tk.seq = t.seq
              GROUP BY tk.key, first_seq + r.ix - 1
              ON CONFLICT (key, seq) DO UPDATE SET main = true WHERE EXCLUDED.main AND NOT o.main;
          END IF;
          IF EXISTS (SELECT 1 FROM statement_ref r WHERE r.target = ANY(ids) AND r.seq < first_seq) THEN
            WITH RECURSIVE late(seq, source) AS (
              SELECT r.seq, n.seq FROM statement_ref r JOIN statement n ON n.id = r.target
                WHERE r.target = ANY(ids) AND r.seq < first_seq
              UNION
              SELECT r2.seq, l.source FROM late l
                JOIN statement s ON s.seq = l.seq
                JOIN statement_ref r2 ON r2.target = s.id
            )
            INSERT INTO statement_key AS o (key, seq, main)
              SELECT k.key, l.seq, bool_or(k.main) FROM late l JOIN statement_key k ON k.seq = l.source
              GROUP BY k.key, l.seq
              ON CONFLICT (key, seq) DO UPDATE SET main = true WHERE EXCLUDED.main AND NOT o.main;
          END IF;
          INSERT INTO voided (target, voiding_seq)
            SELECT r.target, first_seq + r.ix - 1 FROM unnest(ref_ix, ref_targets) AS r(ix, target)
            WHERE voiding[r.ix]
            ON CONFLICT DO NOTHING;
          INSERT INTO activity AS a (iri, definition)
            SELECT u.iri, u.definition FROM unnest(def_iris, defs) AS u(iri, definition)
            WHERE NOT EXISTS (SELECT 1 FROM activity c WHERE c.iri = u.iri AND c.definition = u.definition)
            ON CONFLICT (iri) DO UPDATE SET definition = lrs_merge_definition(a.definition, EXCLUDED.definition),
              updated = now()
            WHERE a.definition IS DISTINCT FROM lrs_merge_definition(a.definition, EXCLUDED.definition);
        END $$
        """
    )
    # The reader's view of the head (ADR 0002). Under the shared reservation lock no range is being handed out:
    # the clock and the last reserved seq are read there. If no writer with a range up to it is in flight
    # afterwards, any statement still to become visible is reserved later, with `stored` at or after that clock
    # (`idle`). The newest statement is read last, with a later snapshot.
    op.execute(
        """
        CREATE OR REPLACE FUNCTION lrs_head(
            lock_key bigint, OUT idle timestamptz, OUT last_seq bigint, OUT last_stored timestamptz)
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
          now timestamptz;
          reserved bigint;
          busy boolean;
        BEGIN
          BEGIN
            PERFORM pg_advisory_lock_shared(lock_key);
            now := clock_timestamp();
            reserved := (SELECT last_value FROM lrs_reserved_seq);
            PERFORM pg_advisory_unlock_shared(lock_key);
          EXCEPTION WHEN OTHERS OR query_canceled THEN
            PERFORM pg_advisory_unlock_shared(lock_key);
            RAISE;
          END;
          -- Every writer with a range up to `reserved` took its marker before that read: it is either visible
          -- now or still holds its marker. Later writers take `stored` at or after `now`.
          busy := reserved > coalesce((SELECT max(seq) FROM statement), 0)
                  AND EXISTS (SELECT 1 FROM lrs_writers_below(reserved + 1));
          IF NOT busy THEN
            idle := now;
          END IF;
          SELECT s.seq, s.stored INTO last_seq, last_stored FROM statement s ORDER BY s.seq DESC LIMIT 1;
        END $$
        """
    )
    op.execute("DROP FUNCTION IF EXISTS lrs_append_begin(bigint, uuid[], uuid[])")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS lrs_append({APPEND_SIGNATURE})")
    op.execute("DROP FUNCTION IF EXISTS lrs_writers_below(bigint)")
    op.execute("DROP SEQUENCE IF EXISTS lrs_reserved_seq")
    op.execute("DROP SEQUENCE IF EXISTS lrs_reserved_ms")
    op.execute(_HEAD_0004)
    op.execute(_APPEND_BEGIN_0004)


_HEAD_0004 = """
CREATE OR REPLACE FUNCTION lrs_head(
    lock_key bigint, OUT idle timestamptz, OUT last_seq bigint, OUT last_stored timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  idle := lrs_idle_now(lock_key);
  SELECT s.seq, s.stored INTO last_seq, last_stored FROM statement s ORDER BY s.seq DESC LIMIT 1;
END $$
"""

_APPEND_BEGIN_0004 = """
CREATE FUNCTION lrs_append_begin(
    lock_key bigint, ids uuid[], targets uuid[],
    OUT now timestamptz, OUT last_seq bigint, OUT last_stored timestamptz,
    OUT existing text, OUT inherited text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(lock_key);
  now := clock_timestamp();
  SELECT s.seq, s.stored INTO last_seq, last_stored FROM statement s ORDER BY s.seq DESC LIMIT 1;
  SELECT json_agg(json_build_array(s.id, s.payload))::text INTO existing FROM statement s WHERE s.id = ANY(ids);
  IF cardinality(targets) > 0 THEN
    SELECT json_agg(json_build_array(s.id, k.key, k.main))::text INTO inherited
      FROM statement s JOIN statement_key k ON k.seq = s.seq WHERE s.id = ANY(targets);
  END IF;
END $$
"""
