"""statements, filter keys, voids, activities, credentials, settings

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "statement",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("id", pg.UUID(as_uuid=False), nullable=False, unique=True),
        sa.Column("stored", sa.DateTime(timezone=True), nullable=False),
        sa.Column("credential_id", sa.BigInteger, nullable=True),
        sa.Column("is_voiding", sa.Boolean, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_index("statement_stored_idx", "statement", ["stored", "seq"])
    # Append-only: the table refuses UPDATE and DELETE outright.
    op.execute(
        """
        CREATE FUNCTION lrs_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'the statement table is append-only';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER statement_append_only BEFORE UPDATE OR DELETE ON statement "
        "FOR EACH ROW EXECUTE FUNCTION lrs_refuse_change()"
    )
    # Consistent-Through (ADR 0002): the clock, read while no statement writer holds the write lock, else NULL.
    op.execute(
        """
        CREATE FUNCTION lrs_idle_now(lock_key bigint) RETURNS timestamptz LANGUAGE plpgsql AS $$
        DECLARE ts timestamptz;
        BEGIN
          IF pg_try_advisory_lock_shared(lock_key) THEN
            ts := clock_timestamp();
            PERFORM pg_advisory_unlock_shared(lock_key);
            RETURN ts;
          END IF;
          RETURN NULL;
        END $$
        """
    )
    op.create_table(
        "statement_key",
        sa.Column("key", pg.UUID(as_uuid=False), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("main", sa.Boolean, nullable=False),
        # INCLUDE (main): the plain filters (main rows only) stay an ordered index-only range scan, whatever the
        # share of related-only rows under the key.
        sa.PrimaryKeyConstraint("key", "seq", name="statement_key_pkey", postgresql_include=["main"]),
    )
    op.create_index("statement_key_seq_idx", "statement_key", ["seq"])
    op.create_table(
        "statement_ref",
        sa.Column("target", pg.UUID(as_uuid=False), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("target", "seq", name="statement_ref_pkey"),
    )
    op.create_table(
        "voided",
        sa.Column("target", pg.UUID(as_uuid=False), primary_key=True),
        sa.Column("voiding_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "activity",
        sa.Column("iri", sa.Text, primary_key=True),
        sa.Column("definition", pg.JSONB, nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )
    op.create_table(
        "credential",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("key", sa.Text, nullable=False, unique=True),
        sa.Column("secret_hash", sa.LargeBinary, nullable=False),
        sa.Column("salt", sa.LargeBinary, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("scopes", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("authority", pg.JSONB, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("revoked", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "setting",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for name in ("setting", "credential", "activity", "voided", "statement_ref", "statement_key", "statement"):
        op.drop_table(name)
    op.execute("DROP FUNCTION IF EXISTS lrs_refuse_change()")
    op.execute("DROP FUNCTION IF EXISTS lrs_idle_now(bigint)")
