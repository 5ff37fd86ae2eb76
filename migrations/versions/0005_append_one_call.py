"""statement append in one call: lock, existing ids, seq and stored, every insert and late-target backfill

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


def upgrade() -> None:
    # ADR 0002: the write lock is held from seq assignment to commit. Called outside an explicit transaction, this
    # function is its own transaction, so the lock is held only while PostgreSQL works, never while the caller's
    # event loop is busy elsewhere. Statements are addressed by their 1-based index `ix` in `ids`.
    # When an id is already stored nothing is written and `existing` lists (id, payload): the caller compares and
    # calls again without them.
    # Keys of StatementRef targets already stored are copied from their key rows (`root_*`: the first target
    # outside the call along each chain); statements stored earlier that reference the new ones (late targets)
    # get the new keys, recursively.
    op.execute(
        """
        CREATE FUNCTION lrs_append(
            lock_key bigint, ids uuid[], credential_ids bigint[], voiding bool[], heads text[], has_ts bool[],
            key_ix int[], keys uuid[], mains bool[], root_ix int[], root_targets uuid[],
            ref_ix int[], ref_targets uuid[], def_iris text[], defs jsonb[],
            OUT existing text, OUT stored timestamptz, OUT first_seq bigint)
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
          last_seq bigint;
          last_stored timestamptz;
          st text;
        BEGIN
          PERFORM pg_advisory_xact_lock(lock_key);
          SELECT json_agg(json_build_array(s.id, s.payload))::text INTO existing FROM statement s WHERE s.id = ANY(ids);
          IF existing IS NOT NULL THEN
            RETURN;
          END IF;
          SELECT s.seq, s.stored INTO last_seq, last_stored FROM statement s ORDER BY s.seq DESC LIMIT 1;
          stored := date_trunc('milliseconds', clock_timestamp());
          IF last_stored IS NOT NULL AND stored < last_stored THEN
            stored := last_stored;  -- never decreases, even if the clock steps back
          END IF;
          first_seq := coalesce(last_seq, 0) + 1;
          st := to_char(stored AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
          INSERT INTO statement (seq, id, stored, credential_id, is_voiding, payload)
            SELECT first_seq + u.ix - 1, u.id, stored, u.credential_id, u.voiding,
                   u.head || CASE WHEN u.has_ts THEN ',"stored":"' || st || '"}'
                                  ELSE ',"timestamp":"' || st || '","stored":"' || st || '"}' END
            FROM unnest(ids, credential_ids, voiding, heads, has_ts)
                 WITH ORDINALITY AS u(id, credential_id, voiding, head, has_ts, ix);
          INSERT INTO statement_key (key, seq, main)
            SELECT x.key, x.seq, bool_or(x.main) FROM (
              SELECT k.key, first_seq + k.ix - 1, k.main FROM unnest(keys, key_ix, mains) AS k(key, ix, main)
              UNION ALL
              SELECT tk.key, first_seq + r.ix - 1, tk.main
                FROM unnest(root_ix, root_targets) AS r(ix, target)
                JOIN statement t ON t.id = r.target
                JOIN statement_key tk ON tk.seq = t.seq
            ) AS x(key, seq, main)
            GROUP BY x.key, x.seq;
          INSERT INTO statement_ref (target, seq)
            SELECT r.target, first_seq + r.ix - 1 FROM unnest(ref_ix, ref_targets) AS r(ix, target);
          INSERT INTO voided (target, voiding_seq)
            SELECT r.target, first_seq + r.ix - 1 FROM unnest(ref_ix, ref_targets) AS r(ix, target)
            WHERE voiding[r.ix]
            ON CONFLICT DO NOTHING;
          INSERT INTO activity AS a (iri, definition) SELECT * FROM unnest(def_iris, defs)
            ON CONFLICT (iri) DO UPDATE SET definition = lrs_merge_definition(a.definition, EXCLUDED.definition),
              updated = now()
            WHERE a.definition IS DISTINCT FROM lrs_merge_definition(a.definition, EXCLUDED.definition);
          IF EXISTS (SELECT 1 FROM statement_ref r WHERE r.target = ANY(ids) AND r.seq < first_seq) THEN
            WITH RECURSIVE late(seq, source) AS (
              SELECT r.seq, n.seq FROM statement_ref r JOIN statement n ON n.id = r.target
                WHERE r.target = ANY(ids) AND r.seq < first_seq
              UNION
              SELECT r2.seq, l.source FROM late l
                JOIN statement s ON s.seq = l.seq
                JOIN statement_ref r2 ON r2.target = s.id
            )
            INSERT INTO statement_key (key, seq, main)
              SELECT k.key, l.seq, bool_or(k.main) FROM late l JOIN statement_key k ON k.seq = l.source
              GROUP BY k.key, l.seq
              ON CONFLICT (key, seq) DO UPDATE SET main = true WHERE EXCLUDED.main AND NOT statement_key.main;
          END IF;
        END $$
        """
    )
    op.execute("DROP FUNCTION IF EXISTS lrs_append_begin(bigint, uuid[], uuid[])")


def downgrade() -> None:
    op.execute(_APPEND_BEGIN_0004)
    op.execute(
        "DROP FUNCTION IF EXISTS lrs_append(bigint, uuid[], bigint[], bool[], text[], bool[], int[], uuid[], bool[], "
        "int[], uuid[], int[], uuid[], text[], jsonb[])"
    )


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
