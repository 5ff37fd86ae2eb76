"""The `more` link (D §2.5): a short, signed, stateless token that rebuilds the next page's query."""

from __future__ import annotations

import base64
import hmac
import time

import orjson

from lrs.errors import BadRequest
from lrs.query.statements import StatementQuery, as_mapping, from_mapping

_MAC_BYTES = 12


def encode(q: StatementQuery, key: bytes, ttl_seconds: int, now: float | None = None) -> str:
    """A URL-safe token for `q`, valid for ttl_seconds (at least 24 h per D §2.5)."""
    expires = int((now if now is not None else time.time()) + ttl_seconds)
    body = orjson.dumps([expires, as_mapping(q)])
    mac = hmac.digest(key, body, "sha256")[:_MAC_BYTES]  # one-shot: the same bytes, half the cost
    return base64.urlsafe_b64encode(mac + body).rstrip(b"=").decode()


def decode(token: str, key: bytes, now: float | None = None) -> StatementQuery:
    """The query a token stands for; 400 if it was tampered with or has expired."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        raise BadRequest("the 'more' token is malformed") from None
    mac, body = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    if not hmac.compare_digest(mac, hmac.digest(key, body, "sha256")[:_MAC_BYTES]):
        raise BadRequest("the 'more' token is not valid for this LRS")
    expires, data = orjson.loads(body)
    if (now if now is not None else time.time()) > expires:
        raise BadRequest("the 'more' token has expired; run the query again")
    return from_mapping(data)
