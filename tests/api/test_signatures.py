"""Signed statements over HTTP (D §2.6): a JWS attachment part, checked before anything is stored."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import asyncpg
import jwt
import orjson
import pytest

from tests.api.helpers import statement
from tests.api.test_attachments import counts, mixed, parse_response
from tests.conftest import XAPI
from tests.unit.test_signature import certificate, rsa_key

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"


def signed_body(
    stmt: dict[str, Any],
    *,
    alg: str = "RS256",
    key: Any = None,
    payload: bytes | None = None,
    content_type: str = "application/octet-stream",
    boundary: str = "-------------1234567",
    **headers: Any,
) -> tuple[dict[str, Any], bytes, str]:
    """The ADL suite's signed request: (statement with its signature attachment, body, boundary).

    The body has a preamble CRLF, header lines without a space after the colon and no CRLF after the close.
    """
    raw = payload if payload is not None else orjson.dumps(stmt)
    token = jwt.PyJWS().encode(raw, key if key is not None else rsa_key(), algorithm=alg, headers=headers or None)
    sig = token.encode()
    sha2 = hashlib.sha256(sig).hexdigest()
    signed = {
        **stmt,
        "attachments": [
            {
                "usageType": SIGNATURE,
                "display": {"en-US": "Signed by the Test Suite"},
                "contentType": content_type,
                "length": len(sig),
                "sha2": sha2,
            }
        ],
    }
    body = (
        f"\r\n--{boundary}\r\nContent-Type:application/json\r\n\r\n".encode()
        + orjson.dumps(signed)
        + f"\r\n--{boundary}\r\nContent-Type:{content_type}\r\nContent-Transfer-Encoding:binary\r\n"
        f"X-Experience-API-Hash:{sha2}\r\n\r\n".encode()
        + sig
        + f"\r\n--{boundary}--".encode()
    )
    return signed, body, boundary


def base() -> dict[str, Any]:
    """A statement with an id, as the suite signs it."""
    return {"id": str(uuid.uuid4()), **statement()}


async def send(client: XAPI, body: bytes, boundary: str) -> Any:
    """POST a signed body."""
    return await client.post("/statements", content=body, headers=mixed(boundary))


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
async def test_rs_signatures_are_accepted_and_kept(client: XAPI, db: asyncpg.Connection, alg: str) -> None:
    """D §2.6: RS256/384/512 JWS over the statement is accepted; the JWS is returned as an attachment."""
    stmt = base()
    signed, body, boundary = signed_body(stmt, alg=alg)
    r = await send(client, body, boundary)
    assert r.status_code == 200, r.text
    assert await counts(db) == (1, 1, 1)
    got = await client.get("/statements", params={"statementId": stmt["id"], "attachments": "true"})
    parts = parse_response(got)
    assert parts[1][0]["x-experience-api-hash"] == signed["attachments"][0]["sha2"]
    assert jwt.PyJWS().decode(parts[1][1], rsa_key().public_key(), algorithms=[alg]) == orjson.dumps(stmt)


async def test_x5c_signature_is_verified(client: XAPI, db: asyncpg.Connection) -> None:
    """D §2.6: with x5c the signature is verified with the certificate's key."""
    _, body, boundary = signed_body(base(), x5c=[certificate(rsa_key(), "signer")])
    r = await send(client, body, boundary)
    assert r.status_code == 200, r.text


async def test_put_signed(client: XAPI, db: asyncpg.Connection) -> None:
    """D §2.6 applies to PUT as well."""
    stmt = base()
    _, body, boundary = signed_body(stmt)
    r = await client.put("/statements", params={"statementId": stmt["id"]}, content=body, headers=mixed(boundary))
    assert r.status_code == 204, r.text


async def test_duration_precision_in_signature(client2: XAPI, db: asyncpg.Connection) -> None:
    """xAPI 2.0 §4.2.7: durations compare to 0.01 s, also against the signed payload (ADL 2.0 suite)."""
    stmt = {**base(), "result": {"duration": "P1DT12H36M0.12S"}}
    _, body, boundary = signed_body(stmt)
    r = await send(client2, body.replace(b"0.12S", b"0.1237S", 1), boundary)
    assert r.status_code == 200, r.text


REJECTED: list[tuple[str, dict[str, Any], str]] = [
    ("HS256", {"alg": "HS256", "key": b"a-shared-secret-of-at-least-32-bytes!"}, "RS256, RS384 or RS512"),
    ("bad content type", {"content_type": "text/plain; charset=ascii"}, "application/octet-stream"),
    ("payload not JSON", {"payload": b"{'id': 1}"}, "not valid JSON"),
    ("payload differs", {"payload": orjson.dumps(statement(verb="http://example.com/v/other"))}, "differs"),
    ("wrong x5c key", {"x5c": "other"}, "does not verify"),
]


@pytest.mark.parametrize(("options", "words"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED])
async def test_malformed_signatures_are_400(
    client: XAPI, db: asyncpg.Connection, options: dict[str, Any], words: str
) -> None:
    """D §2.6: a malformed or mismatching signature is 400 with the reason; nothing is stored."""
    if options.get("x5c") == "other":
        options = {"x5c": [certificate(rsa_key(2), "someone else")]}
    _, body, boundary = signed_body(base(), **options)
    r = await send(client, body, boundary)
    assert r.status_code == 400, r.text
    assert words in r.json()["message"] and r.json()["statementIndex"] == 0
    assert await counts(db) == (0, 0, 0)


async def test_signature_without_its_part_is_400(client: XAPI, db: asyncpg.Connection) -> None:
    """D §2.6 (XAPI-00115): a signature attachment must come with its JWS, even with a fileUrl."""
    signed, _, _ = signed_body(base())
    signed["attachments"][0]["fileUrl"] = "http://example.com/sig.jws"
    r = await client.post("/statements", json=signed)
    assert r.status_code == 400
    assert "holding its JWS" in r.json()["message"]
    assert await counts(db) == (0, 0, 0)


async def test_one_bad_signature_fails_the_batch(client: XAPI, db: asyncpg.Connection) -> None:
    """C §3.2: a batch with one bad signature stores nothing."""
    good, good_body, boundary = signed_body(base())
    bad, bad_body, _ = signed_body(base(), payload=orjson.dumps(statement(verb="http://example.com/v/x")))
    good_sig = good_body.split(b"Content-Type:application/octet-stream")[1]
    bad_sig = bad_body.split(b"Content-Type:application/octet-stream")[1]
    body = (
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode()
        + orjson.dumps([good, bad])
        + f"\r\n--{boundary}\r\nContent-Type:application/octet-stream".encode()
        + good_sig.rsplit(f"\r\n--{boundary}--".encode(), 1)[0]
        + f"\r\n--{boundary}\r\nContent-Type:application/octet-stream".encode()
        + bad_sig
    )
    r = await send(client, body, boundary)
    assert r.status_code == 400, r.text
    assert r.json()["statementIndex"] == 1 and "differs" in r.json()["message"]
    assert await counts(db) == (0, 0, 0)
