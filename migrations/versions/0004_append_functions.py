"""one-round-trip statement append: lock + head + existing ids + StatementRef target keys; definition merge

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Each statement inside this VOLATILE function takes a fresh snapshot (READ COMMITTED), so what it reads after
    # taking the write lock includes every statement committed before (ADR 0002).
    op.execute(
        """
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
    )
    # The reader's view of the head (ADR 0002): first the idle clock, then, with a later snapshot, the newest
    # statement. A writer committing after that read took the lock after the idle check, so its `stored` is at
    # or after the idle clock; one committing before is counted in last_seq.
    op.execute(
        """
        CREATE FUNCTION lrs_head(
            lock_key bigint, OUT idle timestamptz, OUT last_seq bigint, OUT last_stored timestamptz)
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
          idle := lrs_idle_now(lock_key);
          SELECT s.seq, s.stored INTO last_seq, last_stored FROM statement s ORDER BY s.seq DESC LIMIT 1;
        END $$
        """
    )
    # ADR 0003 in SQL: the new definition's properties win, name and description merge per language.
    op.execute(
        """
        CREATE FUNCTION lrs_merge_definition(old jsonb, new jsonb) RETURNS jsonb
        LANGUAGE sql IMMUTABLE AS $$
          SELECT old || new
            || CASE WHEN jsonb_typeof(old->'name') = 'object' AND jsonb_typeof(new->'name') = 'object'
                    THEN jsonb_build_object('name', (old->'name') || (new->'name')) ELSE '{}'::jsonb END
            || CASE WHEN jsonb_typeof(old->'description') = 'object' AND jsonb_typeof(new->'description') = 'object'
                    THEN jsonb_build_object('description', (old->'description') || (new->'description'))
                    ELSE '{}'::jsonb END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS lrs_merge_definition(jsonb, jsonb)")
    op.execute("DROP FUNCTION IF EXISTS lrs_head(bigint)")
    op.execute("DROP FUNCTION IF EXISTS lrs_append_begin(bigint, uuid[], uuid[])")
