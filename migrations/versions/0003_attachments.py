"""attachment content, stored once per sha2 in chunks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column("sha2", sa.Text, primary_key=True),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("length", sa.BigInteger, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )
    op.create_table(
        "attachment_chunk",
        sa.Column("sha2", sa.Text, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("sha2", "n", name="attachment_chunk_pkey"),
    )
    # Attachments are mostly compressed media already: store chunks out of line without trying to compress them.
    op.execute("ALTER TABLE attachment_chunk ALTER COLUMN content SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("attachment_chunk")
    op.drop_table("attachment")
