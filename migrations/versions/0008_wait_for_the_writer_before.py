"""writers wait for the writer just before them, not for every writer found in pg_locks; lrs_idle_at likewise

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

import textwrap
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARK = 1 << 62
APPEND = (
    "lrs_append(bigint, uuid[], bigint[], bool[], text[], bool[], int[], uuid[], bool[], int[], uuid[], int[], "
    "uuid[], text[], jsonb[])"
)
IDLE_AT = "lrs_idle_at(bigint)"

# ADR 0002 step 4: a writer waited for every lower marker it found in pg_locks. Reading pg_locks copies the whole
# lock table under all of its partition locks, ~0.1-0.2 ms of PostgreSQL's CPU per append (docs/benchmarks.md).
# Now each reservation also records its range's start (`lrs_reserved_start`), and a writer waits for the writer
# just before it. Once the statement just below its range has committed, every writer below had ended: that
# statement's writer waited for them before its commit. Otherwise pg_locks decides, as before.
_DECLARE = """          below bigint;
"""
_DECLARE_PREV = """          below bigint;
          prev bigint;
"""
_RESERVE = f"""            first_seq := (SELECT last_value FROM lrs_reserved_seq) + 1;
            PERFORM pg_advisory_xact_lock({MARK} + first_seq);
            PERFORM setval('lrs_reserved_seq', first_seq + cardinality(ids) - 1);
"""
_RESERVE_PREV = f"""            first_seq := (SELECT last_value FROM lrs_reserved_seq) + 1;
            prev := (SELECT last_value FROM lrs_reserved_start);  -- the range reserved just before this one
            PERFORM pg_advisory_xact_lock({MARK} + first_seq);
            -- the start is published before the end: lrs_idle_at reads the end, then the start
            PERFORM setval('lrs_reserved_start', first_seq);
            PERFORM setval('lrs_reserved_seq', first_seq + cardinality(ids) - 1);
"""
_WAIT_ALL = """          FOR below IN SELECT lrs_writers_below(first_seq) LOOP
            PERFORM pg_advisory_xact_lock_shared(below);  -- returns once that writer has ended
          END LOOP;
"""
_WAIT_PREV = f"""          IF prev > 0 THEN
            PERFORM pg_advisory_xact_lock_shared({MARK} + prev);  -- returns once the writer before has ended
          END IF;
          -- The statement just below this range tells: committed, its writer had waited for every writer below it
          -- (whatever body of this function it ran). Not there: that writer rolled back, maybe before its own
          -- wait, or `prev` was not its range (a writer of the body before 0008, in flight at the upgrade, or a
          -- reservation cancelled between its two setvals).
          IF NOT EXISTS (SELECT 1 FROM statement WHERE seq = first_seq - 1) THEN
{textwrap.indent(_WAIT_ALL, "  ")}          END IF;
"""

# lrs_idle_at (0006): with a range reserved beyond the caller's snapshot, it asked pg_locks whether any writer up
# to the last reserved seq was in flight. The last range's start tells it the same at the cost of a lock probe,
# once the last reserved statement has committed. The start is read after the end, and published before it, so a
# start at or below the end read is that range's own, unless its writer ran the body before 0008 (then the probe
# may pass, and the statement's absence sends it to pg_locks).
_IDLE_DECLARE = """          reserved bigint;
"""
_IDLE_DECLARE_LAST = """          reserved bigint;
          last bigint;
"""
_IDLE_ALL = """          IF EXISTS (SELECT 1 FROM lrs_writers_below(reserved + 1)) THEN
            RETURN NULL;
          END IF;
"""
_IDLE_LAST = f"""          last := (SELECT last_value FROM lrs_reserved_start);  -- after the end
          IF last > reserved OR NOT pg_try_advisory_xact_lock_shared({MARK} + last) THEN
            RETURN NULL;  -- a writer is in flight
          END IF;
          -- the last reserved statement committed: every writer up to it has ended; else pg_locks tells
          IF NOT EXISTS (SELECT 1 FROM statement WHERE seq = reserved)
             AND EXISTS (SELECT 1 FROM lrs_writers_below(reserved + 1)) THEN
            RETURN NULL;
          END IF;
"""


def _rewrite(function: str, passages: Sequence[tuple[str, str]]) -> None:
    """Replace passages of a function's body as it is stored, the rest of the function unchanged."""
    bind = op.get_bind()
    definition = bind.execute(sa.text(f"SELECT pg_get_functiondef('{function}'::regprocedure)")).scalar_one()
    for old, new in passages:
        if definition.count(old) != 1:
            raise RuntimeError(f"{function} does not hold the passage this migration rewrites: {old.strip()!r}")
        definition = definition.replace(old, new)
    op.execute(definition)


def upgrade() -> None:
    # 0, never set: no range recorded yet, so the first writer after the upgrade asks pg_locks
    op.execute("CREATE SEQUENCE lrs_reserved_start MINVALUE 0 START 0")
    _rewrite(APPEND, [(_DECLARE, _DECLARE_PREV), (_RESERVE, _RESERVE_PREV), (_WAIT_ALL, _WAIT_PREV)])
    _rewrite(IDLE_AT, [(_IDLE_DECLARE, _IDLE_DECLARE_LAST), (_IDLE_ALL, _IDLE_LAST)])


def downgrade() -> None:
    _rewrite(IDLE_AT, [(_IDLE_DECLARE_LAST, _IDLE_DECLARE), (_IDLE_LAST, _IDLE_ALL)])
    _rewrite(APPEND, [(_DECLARE_PREV, _DECLARE), (_RESERVE_PREV, _RESERVE), (_WAIT_PREV, _WAIT_ALL)])
    op.execute("DROP SEQUENCE IF EXISTS lrs_reserved_start")
