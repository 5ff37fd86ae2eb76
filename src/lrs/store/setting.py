"""Installation-wide values kept in the database so every worker and host agrees on them."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from lrs.store.tables import setting


async def signing_key(conn: AsyncConnection) -> bytes:
    """The key that signs `more` links, created once per database."""
    await conn.execute(insert(setting).values(name="more_key", value=secrets.token_hex(32)).on_conflict_do_nothing())
    value = (await conn.execute(select(setting.c.value).where(setting.c.name == "more_key"))).scalar_one()
    return bytes.fromhex(value)
