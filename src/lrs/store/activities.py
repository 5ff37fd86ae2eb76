"""SQL of the Activities resource (C §2.5): the canonical definition learned from statements (ADR 0003)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import orjson


async def get_activity(db: asyncpg.Connection, iri: str) -> tuple[dict[str, Any], dt.datetime] | None:
    """The canonical definition of the activity with exactly this id, and when it last changed; None if unknown."""
    row = await db.fetchrow("SELECT definition::text AS definition, updated FROM activity WHERE iri = $1", iri)
    if row is None:
        return None
    definition: dict[str, Any] = orjson.loads(row["definition"])
    return definition, row["updated"]
