"""All SQL of credentials: create, list, revoke, look up (HTTP Basic, C §4.0; scopes as in C §4.2)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lrs.store.tables import credential

SCOPES = (
    "statements/write",
    "statements/read",
    "statements/read/mine",
    "state",
    "define",
    "profile",
    "all/read",
    "all",
)


@dataclass(frozen=True, slots=True)
class Credential:
    """A stored credential, without its secret."""

    id: int
    key: str
    name: str
    scopes: tuple[str, ...]
    authority: dict[str, Any]
    created: dt.datetime
    revoked: dt.datetime | None


def hash_secret(secret: str, salt: bytes) -> bytes:
    """scrypt of the secret: slow enough to resist guessing, cached per process after a success (ADR 0004)."""
    return hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)


def authority_for(key: str, name: str, homepage: str) -> dict[str, Any]:
    """The authority Agent of a credential (D §2.4.9): an account on the LRS named by the key."""
    return {"objectType": "Agent", "name": name, "account": {"homePage": homepage, "name": key}}


def _row(r: Any) -> Credential:
    authority = r.authority if isinstance(r.authority, dict) else orjson.loads(r.authority)
    return Credential(r.id, r.key, r.name, tuple(r.scopes), authority, r.created, r.revoked)


async def create_credential(
    conn: AsyncConnection,
    *,
    name: str,
    scopes: list[str],
    homepage: str,
    key: str | None = None,
    secret: str | None = None,
) -> tuple[Credential, str]:
    """Create a credential and return it with its secret (shown once, stored hashed)."""
    for scope in scopes:
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}; known: {', '.join(SCOPES)}")
    key = key or secrets.token_hex(10)
    secret = secret or secrets.token_urlsafe(24)
    salt = secrets.token_bytes(16)
    r = (
        await conn.execute(
            insert(credential)
            .values(
                key=key,
                secret_hash=hash_secret(secret, salt),
                salt=salt,
                name=name,
                scopes=scopes,
                authority=authority_for(key, name, homepage),
            )
            .returning(credential)
        )
    ).one()
    return _row(r), secret


async def ensure_credential(
    conn: AsyncConnection, *, key: str, secret: str, scopes: list[str], name: str, homepage: str
) -> Credential:
    """Make sure an active credential with this key and secret exists (LRS_ADMIN_KEY / LRS_ADMIN_SECRET)."""
    r = (await conn.execute(select(credential).where(credential.c.key == key))).one_or_none()
    if r is not None and r.revoked is None and hmac.compare_digest(hash_secret(secret, r.salt), r.secret_hash):
        return _row(r)
    if r is not None:
        salt = secrets.token_bytes(16)
        await conn.execute(
            update(credential)
            .where(credential.c.id == r.id)
            .values(secret_hash=hash_secret(secret, salt), salt=salt, revoked=None, scopes=scopes)
        )
        return _row((await conn.execute(select(credential).where(credential.c.id == r.id))).one())
    created, _ = await create_credential(conn, name=name, scopes=scopes, homepage=homepage, key=key, secret=secret)
    return created


async def list_credentials(conn: AsyncConnection) -> list[Credential]:
    """Every credential, newest first."""
    rows = (await conn.execute(select(credential).order_by(credential.c.id.desc()))).all()
    return [_row(r) for r in rows]


async def revoke_credential(conn: AsyncConnection, key: str) -> bool:
    """Revoke a credential by key; False if there was no active one."""
    result = await conn.execute(
        update(credential).where(credential.c.key == key, credential.c.revoked.is_(None)).values(revoked=func.now())
    )
    return bool(result.rowcount)


async def verify(conn: AsyncConnection, key: str, secret: str) -> Credential | None:
    """The active credential whose key and secret these are, else None."""
    r = (
        await conn.execute(select(credential).where(credential.c.key == key, credential.c.revoked.is_(None)))
    ).one_or_none()
    if r is None:
        return None
    # scrypt takes tens of milliseconds of CPU: off the event loop, so other requests keep flowing.
    hashed = await asyncio.to_thread(hash_secret, secret, r.salt)
    if not hmac.compare_digest(hashed, r.secret_hash):
        return None
    return _row(r)
