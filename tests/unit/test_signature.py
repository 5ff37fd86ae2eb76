"""Signed statements (D §2.6): JWS decoding, algorithms, payload equivalence and x5c verification."""

from __future__ import annotations

import base64
import datetime as dt
import re
from functools import cache
from typing import Any

import jwt
import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from lrs.errors import BadRequest
from lrs.xapi.signature import SIGNATURE_USAGE, attachments_of, signature_hashes, verify_signature
from lrs.xapi.version import Version

V2 = Version.V2

STATEMENT: dict[str, Any] = {
    "id": "9e13cefd-53d3-4eac-b5ed-2cf6693903bb",
    "actor": {"mbox": "mailto:signer@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
    "object": {"id": "http://example.com/activity"},
    "result": {"duration": "PT1.12S"},
}

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@cache
def rsa_key(n: int = 0) -> rsa.RSAPrivateKey:
    """A test RSA key (n distinguishes several)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate(subject_key: PrivateKey, name: str, issuer_key: PrivateKey | None = None, issuer: str = "") -> str:
    """A base64 DER certificate for `subject_key`, signed by `issuer_key` (self-signed without one)."""
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer or name)]))
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(issuer_key or subject_key, hashes.SHA256())
    )
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def sign(payload: Any, alg: str = "RS256", key: Any = None, **headers: Any) -> bytes:
    """A compact JWS of `payload` (a dict, or raw bytes)."""
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    token = jwt.PyJWS().encode(raw, key if key is not None else rsa_key(), algorithm=alg, headers=headers or None)
    return token.encode()


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_accepts_rs_algorithms_without_x5c(alg: str) -> None:
    verify_signature(STATEMENT, sign(STATEMENT, alg), V2)


@pytest.mark.parametrize("alg", ["RS256", "RS512"])
def test_accepts_valid_x5c(alg: str) -> None:
    verify_signature(STATEMENT, sign(STATEMENT, alg, x5c=[certificate(rsa_key(), "signer")]), V2)


def test_payload_equivalence_rules() -> None:
    """The payload lacks attachments/authority/stored; durations compare to 0.01 s (D §2.3.1, 2.0 §4.2.7)."""
    received = {**STATEMENT, "result": {"duration": "PT1.1299S"}, "attachments": [], "authority": {"mbox": "x"}}
    verify_signature(received, sign(STATEMENT), V2)
    without_id = {k: v for k, v in STATEMENT.items() if k != "id"}
    verify_signature(STATEMENT, sign(without_id), V2)


def test_accepts_chain() -> None:
    ca = rsa_key(1)
    chain = [certificate(rsa_key(), "signer", ca, "ca"), certificate(ca, "ca")]
    verify_signature(STATEMENT, sign(STATEMENT, x5c=chain), V2)


@pytest.mark.parametrize(
    ("token", "words"),
    [
        (sign(STATEMENT, "HS256", key=b"a-shared-secret-of-at-least-32-bytes!"), "RS256, RS384 or RS512"),
        (sign(STATEMENT, "PS256"), "got 'PS256'"),
        (b"not a jws", "three dot-separated parts"),
        (b"a.b.c.d", "three dot-separated parts"),
        (b"!!!.@@@.###", "not a valid JWS"),
        (b'{"payload": "x", "signatures": []}', "JSON serialization"),
        ("é.é.é".encode(), "non-ASCII"),
        (sign(orjson.dumps(STATEMENT).replace(b'"', b"'", 1)), "payload is not valid JSON"),
        (sign(b"[1, 2]"), "a JSON object"),
        (sign({**STATEMENT, "verb": {"id": "http://example.com/other"}}), "differs from the one signed"),
        (sign({**STATEMENT, "result": {"duration": "PT1.13S"}}), "differs from the one signed"),
        (sign(STATEMENT, crit=["exp"]), "crit"),
        (sign(STATEMENT, x5c=[certificate(rsa_key(2), "someone else")]), "does not verify"),
        (sign(STATEMENT, x5c="MIIB"), "non-empty array"),
        (sign(STATEMENT, x5c=[]), "non-empty array"),
        (sign(STATEMENT, x5c=["not base64!"]), "x5c[0]"),
        (sign(STATEMENT, x5c=[base64.b64encode(b"not DER").decode()]), "x5c[0]"),
        (sign(STATEMENT, x5c=[certificate(rsa_key(), "signer", rsa_key(1), "ca"), certificate(rsa_key(2), "ca")]),
         "not issued and signed by x5c[1]"),
    ],
)  # fmt: skip
def test_rejections(token: bytes, words: str) -> None:
    with pytest.raises(BadRequest, match=re.escape(words)):
        verify_signature(STATEMENT, token, V2)


def test_rejects_non_rsa_certificate() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(BadRequest, match="RSA key"):
        verify_signature(STATEMENT, sign(STATEMENT, x5c=[certificate(ec_key, "ec")]), V2)


def test_attachments_of_and_signature_hashes() -> None:
    sig = {"usageType": SIGNATURE_USAGE, "sha2": "AB", "contentType": "application/octet-stream"}
    other = {"usageType": "http://example.com/u", "sha2": "cd"}
    stmt = {"attachments": [sig, other, "junk"], "object": {"objectType": "SubStatement", "attachments": [sig]}}
    assert [path for path, _ in attachments_of(stmt)] == [
        "$.attachments[0]",
        "$.attachments[1]",
        "$.object.attachments[0]",
    ]
    assert signature_hashes(stmt) == ["ab"]
    assert list(attachments_of("not a statement")) == []
