"""Attachments of a statement and the checks of Signed Statements (D §2.4.11, §2.6; RFC 7515 JWS).

A signature is an attachment with usageType SIGNATURE_USAGE whose content is a JWS in compact serialization.
`verify_signature` decodes it (PyJWT), requires RS256/RS384/RS512, requires its payload to be a JSON object
logically equivalent to the statement (D §2.3.1 comparison, `lrs.xapi.equivalence`), and, when the header has
`x5c`, verifies the signature with the first certificate's RSA key and each certificate of the chain with the
next one's key. Without `x5c` the LRS has no key, so the signature itself cannot be checked (D §2.6 asks only
for the x5c case). Certificates are not checked for validity dates or trust: D §2.6 says the check catches
mistakes and is not a security measure.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Any

import jwt
import orjson
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from lrs.errors import BadRequest
from lrs.xapi.equivalence import equivalent
from lrs.xapi.version import Version

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
ALGORITHMS = ("RS256", "RS384", "RS512")

_jws = jwt.PyJWS()


def has_attachments(stmt: Any) -> bool:
    """Whether a statement or its SubStatement declares attachments (D §2.4.11), without walking them."""
    if not isinstance(stmt, dict):
        return False
    if "attachments" in stmt:
        return True
    obj = stmt.get("object")
    return isinstance(obj, dict) and "attachments" in obj


def attachments_of(stmt: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """The Attachment objects of a statement and of its SubStatement, with their JSON paths (D §2.4.11)."""
    if not isinstance(stmt, dict):
        return
    for i, att in enumerate(_list(stmt.get("attachments"))):
        if isinstance(att, dict) and "sha2" in att:
            yield f"$.attachments[{i}]", att
    obj = stmt.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        for i, att in enumerate(_list(obj.get("attachments"))):
            if isinstance(att, dict) and "sha2" in att:
                yield f"$.object.attachments[{i}]", att


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def signature_hashes(stmt: dict[str, Any]) -> list[str]:
    """The sha2 (lower-case) of each signature attachment of the statement itself (D §2.6)."""
    return [
        str(att["sha2"]).lower()
        for path, att in attachments_of(stmt)
        if att.get("usageType") == SIGNATURE_USAGE and not path.startswith("$.object")
    ]


def verify_signature(stmt: dict[str, Any], token: bytes, version: Version) -> None:
    """Check a statement's JWS signature (D §2.6 LRS Requirements); 400 naming what is malformed."""
    try:
        text = token.decode("ascii").strip()
    except UnicodeDecodeError:
        raise BadRequest("the signature is not a JWS compact serialization (non-ASCII bytes) (D §2.6)") from None
    if text.startswith("{"):
        raise BadRequest("the signature uses JWS JSON serialization; only compact serialization is accepted (D §2.6)")
    if text.count(".") != 2:
        raise BadRequest("the signature is not a JWS compact serialization of three dot-separated parts (D §2.6)")
    try:
        decoded = _jws.decode_complete(text, options={"verify_signature": False})
    except jwt.exceptions.PyJWTError as exc:
        raise BadRequest(f"the signature is not a valid JWS: {exc} (D §2.6, RFC 7515)") from None
    header: dict[str, Any] = decoded["header"]
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise BadRequest(f"the signature's JWS algorithm must be RS256, RS384 or RS512, got {alg!r} (D §2.6)")
    if "crit" in header:
        raise BadRequest("the signature's JWS header has 'crit' extensions this LRS does not understand (RFC 7515)")
    try:
        payload = orjson.loads(decoded["payload"])
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the signature's JWS payload is not valid JSON: {exc} (D §2.6)") from None
    if not isinstance(payload, dict):
        raise BadRequest("the signature's JWS payload must be the signed statement, a JSON object (D §2.6)")
    if not equivalent(stmt, payload, version):
        raise BadRequest(
            "the statement differs from the one signed in its JWS payload (D §2.6, D §2.3.1 comparison rules)"
        )
    if "x5c" in header:
        key = _certificate_key(header["x5c"])
        try:
            _jws.decode_complete(text, key=key, algorithms=[alg])
        except jwt.exceptions.InvalidSignatureError:
            raise BadRequest(
                "the signature does not verify with the public key of the first x5c certificate (D §2.6)"
            ) from None
        except jwt.exceptions.PyJWTError as exc:
            raise BadRequest(f"the signature could not be verified with its x5c certificate: {exc} (D §2.6)") from None


def _certificate_key(x5c: Any) -> RSAPublicKey:
    """The RSA public key of the first certificate of an x5c chain, after checking each link (RFC 7515 §4.1.6)."""
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
        raise BadRequest("the JWS header 'x5c' must be a non-empty array of base64 DER certificates (RFC 7515)")
    certs: list[x509.Certificate] = []
    for i, text in enumerate(x5c):
        try:
            certs.append(x509.load_der_x509_certificate(base64.b64decode(text, validate=True)))
        except (ValueError, binascii.Error):
            raise BadRequest(f"x5c[{i}] of the signature is not a base64 DER X.509 certificate (RFC 7515)") from None
    for i in range(len(certs) - 1):
        try:
            certs[i].verify_directly_issued_by(certs[i + 1])
        except Exception:
            raise BadRequest(f"x5c[{i}] of the signature is not issued and signed by x5c[{i + 1}] (RFC 7515)") from None
    key = certs[0].public_key()
    if not isinstance(key, RSAPublicKey):
        raise BadRequest("the first x5c certificate of the signature must hold an RSA key for RS256/384/512 (D §2.6)")
    return key
