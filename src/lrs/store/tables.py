"""SQLAlchemy Core tables: the one description of the schema that migrations and queries share."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = MetaData()

# The append-only statement table. `seq` is assigned in commit order under the writers' lock (ADR 0002), so it
# orders `stored`, `since`/`until` and `more` paging. `payload` is the statement exactly as it is returned.
statement = Table(
    "statement",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("id", UUID(as_uuid=False), nullable=False, unique=True),
    Column("stored", DateTime(timezone=True), nullable=False),
    Column("credential_id", BigInteger, nullable=True),
    Column("is_voiding", Boolean, nullable=False),
    Column("payload", Text, nullable=False),
)
Index("statement_stored_idx", statement.c.stored, statement.c.seq)
# the pages of a `statements/read/mine` credential (C §4.2); imported statements have no credential
Index(
    "statement_credential_idx",
    statement.c.credential_id,
    statement.c.seq,
    postgresql_where=statement.c.credential_id.isnot(None),
)

# Filter keys: one row per (key, statement), the key stored as a 128-bit BLAKE2b digest (store.statements.key_id)
# of kind prefix + value (lrs.xapi.index): "a:" actor IFI, "o:" activity IRI, "v:" verb IRI, "r:" registration,
# "x:" verb IRI + " " + actor IFI. `main` is true where the plain filter matches (actor/object for agents, object
# for activities); related_* filters match any row. Rows of a StatementRef target are copied to the referrer.
statement_key = Table(
    "statement_key",
    metadata,
    Column("key", UUID(as_uuid=False), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("main", Boolean, nullable=False),
    PrimaryKeyConstraint("key", "seq", name="statement_key_pkey", postgresql_include=["main"]),
)
Index("statement_key_seq_idx", statement_key.c.seq)

# A StatementRef object: the referring statement's seq and the target id (for late-arriving targets).
statement_ref = Table(
    "statement_ref",
    metadata,
    Column("target", UUID(as_uuid=False), nullable=False),
    Column("seq", BigInteger, nullable=False),
    PrimaryKeyConstraint("target", "seq", name="statement_ref_pkey"),
)

# Voiding is recorded by an insert: the target id and the voiding statement's seq (D §2.3.2).
voided = Table(
    "voided",
    metadata,
    Column("target", UUID(as_uuid=False), primary_key=True),
    Column("voiding_seq", BigInteger, nullable=False),
)

# Canonical activity definitions learned from statements (ADR 0003).
activity = Table(
    "activity",
    metadata,
    Column("iri", Text, primary_key=True),
    Column("definition", JSONB, nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

credential = Table(
    "credential",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("key", Text, nullable=False, unique=True),
    Column("secret_hash", LargeBinary, nullable=False),
    Column("salt", LargeBinary, nullable=False),
    Column("name", Text, nullable=False),
    Column("scopes", ARRAY(Text), nullable=False),
    Column("authority", JSONB, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("revoked", DateTime(timezone=True), nullable=True),
)

# Installation-wide values, e.g. the key that signs `more` links, so every worker and host agrees.
setting = Table(
    "setting",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

# Attachment content (C §1.5.2, D §2.4.11), stored once per sha2 (lower-case hex) however many statements carry
# it; the bytes live in `attachment_chunk`, numbered pieces of at most lrs.store.attachments.CHUNK bytes.
attachment = Table(
    "attachment",
    metadata,
    Column("sha2", Text, primary_key=True),
    Column("content_type", Text, nullable=False),
    Column("length", BigInteger, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False, server_default=text("now()")),
)

attachment_chunk = Table(
    "attachment_chunk",
    metadata,
    Column("sha2", Text, nullable=False),
    Column("n", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    PrimaryKeyConstraint("sha2", "n", name="attachment_chunk_pkey"),
)


# Document resources (ADR 0006): one row per document, keyed by the resource's parameters; `agent` is the Agent's
# IFI key (lrs.xapi.ifi), `etag` the SHA-1 hex of `content`, `content_type` the Content-Type as sent.
def _document_columns() -> list[Column[object]]:
    return [
        Column("content_type", Text, nullable=False),
        Column("content", LargeBinary, nullable=False),
        Column("etag", Text, nullable=False),
        Column("updated", DateTime(timezone=True), nullable=False),
    ]


state_document = Table(
    "state_document",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("activity_id", Text, nullable=False),
    Column("agent", Text, nullable=False),
    Column("registration", UUID(as_uuid=False), nullable=True),
    Column("state_id", Text, nullable=False),
    *_document_columns(),
    UniqueConstraint(
        "activity_id",
        "agent",
        "registration",
        "state_id",
        name="state_document_key",
        postgresql_nulls_not_distinct=True,
    ),
)

activity_profile = Table(
    "activity_profile",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("activity_id", Text, nullable=False),
    Column("profile_id", Text, nullable=False),
    *_document_columns(),
    UniqueConstraint("activity_id", "profile_id", name="activity_profile_key"),
)

agent_profile = Table(
    "agent_profile",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("agent", Text, nullable=False),
    Column("profile_id", Text, nullable=False),
    *_document_columns(),
    UniqueConstraint("agent", "profile_id", name="agent_profile_key"),
)
