"""SQL of the Activities resource (C §2.5): the canonical definition learned from statements (ADR 0003)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection


async def get_activity(conn: AsyncConnection, iri: str) -> tuple[dict[str, Any], dt.datetime] | None:
    """The canonical definition of the activity with exactly this id, and when it last changed; None if unknown."""
    raw = await conn.get_raw_connection()
    db: Any = raw.driver_connection
    row = await db.fetchrow("SELECT definition::text AS definition, updated FROM activity WHERE iri = $1", iri)
    if row is None:
        return None
    definition: dict[str, Any] = orjson.loads(row["definition"])
    return definition, row["updated"]
