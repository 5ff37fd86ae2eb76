"""an index of statements by the credential that stored them, for `statements/read/mine` pages

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A credential limited to `statements/read/mine` reads only the statements it stored (C §4.2): without this its
    # pages scanned the store for its own. Imported statements have no credential and are not indexed.
    op.execute(
        "CREATE INDEX statement_credential_idx ON statement (credential_id, seq) WHERE credential_id IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS statement_credential_idx")
