"""All SQL of attachment content (C §1.5.2, D §2.4.11): stored once per sha2, in chunks, streamed in and out.

`attachment` holds one row per distinct sha2 (media type, length); `attachment_chunk` holds the content in
CHUNK-byte pieces numbered from 0, so neither writing nor reading ever needs a whole attachment in memory.
Content is written inside the statement writer's transaction (`lrs.store.statements.insert_statements`), so a
statement and the attachments it carries become visible together or not at all. Rows are never updated.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg

CHUNK = 512 * 1024


class Blob(Protocol):
    """Attachment content to store: a verified hash, a media type, a length and its bytes in pieces."""

    @property
    def sha2(self) -> str:
        """The lower-case hex SHA-2 of the content."""
        ...

    @property
    def content_type(self) -> str:
        """The part's Content-Type."""
        ...

    @property
    def length(self) -> int:
        """The content length in octets."""
        ...

    def chunks(self, size: int) -> Iterator[bytes]:
        """The content from the start, `size` bytes at a time."""
        ...


@dataclass(slots=True)
class StoredAttachment:
    """The metadata of stored content."""

    sha2: str
    content_type: str
    length: int


def _records(blob: Blob) -> Iterator[tuple[str, int, bytes]]:
    for n, piece in enumerate(blob.chunks(CHUNK)):
        yield blob.sha2, n, piece


async def store_contents(db: Any, blobs: Iterable[Blob]) -> None:
    """Store content not stored yet, on the asyncpg connection `db` inside the caller's transaction (C §1.5.2).

    Concurrent writers of the same sha2 meet on the primary key: the second waits for the first to commit and then
    skips it (or stores it if the first rolled back). Rows are taken in sha2 order, so two writers never deadlock.
    """
    wanted = {b.sha2: b for b in blobs}
    if not wanted:
        return
    have = {r["sha2"] for r in await db.fetch("SELECT sha2 FROM attachment WHERE sha2 = ANY($1::text[])", list(wanted))}
    for sha2, blob in sorted(wanted.items()):
        if sha2 in have:
            continue
        inserted = await db.fetchval(
            "INSERT INTO attachment (sha2, content_type, length) VALUES ($1, $2, $3) "
            "ON CONFLICT (sha2) DO NOTHING RETURNING true",
            sha2,
            blob.content_type,
            blob.length,
        )
        if inserted:
            await db.copy_records_to_table("attachment_chunk", records=_records(blob), columns=["sha2", "n", "content"])


async def find_attachments(db: asyncpg.Connection, hashes: Sequence[str]) -> list[StoredAttachment]:
    """The stored content among `hashes` (lower-case), in the order asked (C §2.1.3 attachments=true)."""
    if not hashes:
        return []
    rows = await db.fetch(
        "SELECT sha2, content_type, length FROM attachment WHERE sha2 = ANY($1::text[])", list(hashes)
    )
    found = {r["sha2"]: StoredAttachment(r["sha2"], r["content_type"], int(r["length"])) for r in rows}
    return [found[h] for h in hashes if h in found]


async def read_content(db: asyncpg.Connection, sha2: str, prefetch: int = 4) -> AsyncGenerator[bytes, None]:
    """The stored content of `sha2`, chunk by chunk (at most `prefetch` chunks in memory)."""
    async with db.transaction(readonly=True):
        async for row in db.cursor(
            "SELECT content FROM attachment_chunk WHERE sha2 = $1 ORDER BY n", sha2, prefetch=prefetch
        ):
            yield bytes(row["content"])
