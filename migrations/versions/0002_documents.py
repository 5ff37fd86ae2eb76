"""document resources: state, activity profile, agent profile

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _document_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("etag", sa.Text, nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    # ADR 0006. One row per document; the key is the resource's parameters, `agent` is the Agent's IFI key.
    # NULLS NOT DISTINCT: a state without registration is one document, not one per NULL (PostgreSQL 15+).
    op.create_table(
        "state_document",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("activity_id", sa.Text, nullable=False),
        sa.Column("agent", sa.Text, nullable=False),
        sa.Column("registration", pg.UUID(as_uuid=False), nullable=True),
        sa.Column("state_id", sa.Text, nullable=False),
        *_document_columns(),
    )
    op.execute(
        "ALTER TABLE state_document ADD CONSTRAINT state_document_key "
        "UNIQUE NULLS NOT DISTINCT (activity_id, agent, registration, state_id)"
    )
    op.create_table(
        "activity_profile",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("activity_id", sa.Text, nullable=False),
        sa.Column("profile_id", sa.Text, nullable=False),
        *_document_columns(),
        sa.UniqueConstraint("activity_id", "profile_id", name="activity_profile_key"),
    )
    op.create_table(
        "agent_profile",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("agent", sa.Text, nullable=False),
        sa.Column("profile_id", sa.Text, nullable=False),
        *_document_columns(),
        sa.UniqueConstraint("agent", "profile_id", name="agent_profile_key"),
    )


def downgrade() -> None:
    for name in ("agent_profile", "activity_profile", "state_document"):
        op.drop_table(name)
