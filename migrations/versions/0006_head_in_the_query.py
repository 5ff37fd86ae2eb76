"""Consistent-Through read with the page: writers read the clock after publishing their range; lrs_idle_at

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARK = 1 << 62
APPEND = (
    "lrs_append(bigint, uuid[], bigint[], bool[], text[], bool[], int[], uuid[], bool[], int[], uuid[], int[], "
    "uuid[], text[], jsonb[])"
)

# The reservation of migration 0005 reads the clock before it publishes the range; ADR 0002 (revised for 0006)
# needs the clock read after, so a reader that has seen the range not yet published can trust its own clock.
_CLOCK_FIRST = f"""
            first_seq := (SELECT last_value FROM lrs_reserved_seq) + 1;
            -- `stored` never decreases, even if the clock steps back
            ms := greatest(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint,
                           (SELECT last_value FROM lrs_reserved_ms));
            PERFORM pg_advisory_xact_lock({MARK} + first_seq);
            PERFORM setval('lrs_reserved_seq', first_seq + cardinality(ids) - 1);
            PERFORM setval('lrs_reserved_ms', ms);
"""
_RANGE_FIRST = f"""
            first_seq := (SELECT last_value FROM lrs_reserved_seq) + 1;
            PERFORM pg_advisory_xact_lock({MARK} + first_seq);
            PERFORM setval('lrs_reserved_seq', first_seq + cardinality(ids) - 1);
            -- the clock is read after the range is published (lrs_idle_at); `stored` never decreases, even if the
            -- clock steps back
            ms := greatest(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint,
                           (SELECT last_value FROM lrs_reserved_ms));
            PERFORM setval('lrs_reserved_ms', ms);
"""


def _rewrite_append(old: str, new: str) -> None:
    """Replace one passage of lrs_append's body as it is stored, the rest of the function unchanged."""
    bind = op.get_bind()
    definition = bind.execute(sa.text(f"SELECT pg_get_functiondef('{APPEND}'::regprocedure)")).scalar_one()
    if old not in definition:
        raise RuntimeError("lrs_append does not hold the reservation this migration rewrites")
    op.execute(definition.replace(old, new, 1))


def upgrade() -> None:
    _rewrite_append(_CLOCK_FIRST, _RANGE_FIRST)
    # ADR 0002, Consistent-Through from the reader's own snapshot. `visible` is the newest seq the calling query's
    # snapshot holds; this function runs after that snapshot was taken, and each of its statements takes a newer
    # one. It returns a clock instant every statement still invisible to the caller is stored at or after, or
    # NULL when it cannot tell (the caller then uses the newest visible `stored`).
    # - If nothing beyond `visible` was reserved when the sequence is read, every later range is published after
    #   that read, and its writer reads the clock after publishing it: at or after `now`, read before.
    # - Otherwise, if no writer with a range up to `reserved` is still in flight and a fresh snapshot still shows
    #   nothing beyond `visible`, the ranges in between were all aborted: the same holds.
    op.execute(
        """
        CREATE FUNCTION lrs_idle_at(visible bigint) RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
          now timestamptz;
          reserved bigint;
        BEGIN
          now := clock_timestamp();
          reserved := (SELECT last_value FROM lrs_reserved_seq);  -- after the clock
          IF reserved <= visible THEN
            RETURN now;
          END IF;
          IF EXISTS (SELECT 1 FROM lrs_writers_below(reserved + 1)) THEN
            RETURN NULL;
          END IF;
          IF coalesce((SELECT max(seq) FROM statement), 0) <= visible THEN
            RETURN now;
          END IF;
          RETURN NULL;
        END $$
        """
    )
    # lrs_head (0005) is no longer called by this release but stays: servers of the previous release call it on
    # every GET while a rolling deploy replaces them, and it stays correct with either order of the reservation.


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS lrs_idle_at(bigint)")
    _rewrite_append(_RANGE_FIRST, _CLOCK_FIRST)
