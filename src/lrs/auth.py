"""HTTP Basic credentials to a Principal with xAPI scopes (C §4.0-4.2); scope checks."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from lrs.errors import Forbidden, Unauthorized
from lrs.store.credentials import Credential

CACHE_SECONDS = 30.0
_CACHE_MAX = 4096

READ_STATEMENTS = frozenset({"statements/read", "all/read", "all"})
WRITE_STATEMENTS = frozenset({"statements/write", "all"})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the credential id, its scopes and the authority Agent stamped on its statements."""

    credential_id: int
    scopes: frozenset[str]
    authority: dict[str, Any]

    def may(self, *scopes: str) -> bool:
        """True when the credential holds any of these scopes."""
        return not self.scopes.isdisjoint(scopes)

    def require(self, scopes: frozenset[str], action: str) -> None:
        """403 unless the credential holds one of `scopes` (C §3.2)."""
        if self.scopes.isdisjoint(scopes):
            raise Forbidden(f"this credential may not {action}; it needs one of the scopes {', '.join(sorted(scopes))}")


Verifier = Callable[[str, str], Awaitable[Credential | None]]


class Authenticator:
    """Checks Authorization headers against stored credentials, caching successes briefly (ADR 0004)."""

    def __init__(self, verify: Verifier) -> None:
        self._verify = verify
        self._cache: dict[bytes, tuple[float, Principal]] = {}
        self._checking: dict[bytes, asyncio.Future[Principal]] = {}

    async def principal(self, header: str | None) -> Principal:
        """The Principal of a Basic Authorization header; 401 when missing or wrong."""
        if not header:
            raise Unauthorized("credentials required: send an HTTP Basic Authorization header")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic" or not value.strip():
            raise Unauthorized("only HTTP Basic authentication is supported")
        digest = hashlib.sha256(header.encode()).digest()
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        pending = self._checking.get(digest)
        if pending is not None:  # the same credentials are being checked already: share that check
            return await asyncio.shield(pending)
        future: asyncio.Future[Principal] = asyncio.get_running_loop().create_future()
        self._checking[digest] = future
        try:
            principal = await self._check(value)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else needs to
            raise
        finally:
            del self._checking[digest]
        future.set_result(principal)
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        self._cache[digest] = (now + CACHE_SECONDS, principal)
        return principal

    async def _check(self, value: str) -> Principal:
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("the Basic credentials are not valid base64 of key:secret") from None
        key, sep, secret = decoded.partition(":")
        if not sep or not key:
            raise Unauthorized("the Basic credentials must be key:secret")
        found = await self._verify(key, secret)
        if found is None:
            raise Unauthorized("unknown key or wrong secret")
        return Principal(found.id, frozenset(found.scopes), found.authority)
