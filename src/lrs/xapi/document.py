"""Document resources (C §2.2-2.7, §3.1; 2.0 §4.1.4, §4.1.6.2-4.1.6.6): parameters, ETags and preconditions,
the JSON merge, the 409 rules per version, and the Person and Activity objects. Pure: no I/O.

The HTTP layer parses a request into a DocumentQuery and Preconditions, and hands `put`/`post`/`delete` to the
store as the decision to take *under the row lock* (ADR 0006): each receives the document as currently stored (or
None) and returns what to store (None: nothing), or raises the xAPI error (400, 409, 412).
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lrs.errors import BadRequest, Conflict, PreconditionFailed
from lrs.xapi.ifi import ifi_key
from lrs.xapi.parameter import agent_param, check_names
from lrs.xapi.syntax import is_iri, is_uuid
from lrs.xapi.validate import parse_timestamp
from lrs.xapi.version import Version

JSON_TYPE = "application/json"
DEFAULT_TYPE = "application/octet-stream"
# Longest activityId, agent identifier or stateId/profileId accepted, in UTF-8 bytes: the three together must fit
# in one btree index entry (at most 2704 bytes) of the documents' unique keys (ADR 0006).
MAX_KEY_BYTES = 800


class Kind(enum.Enum):
    """The three document resources; the value names the resource in messages."""

    STATE = "State"
    ACTIVITY_PROFILE = "Activity Profile"
    AGENT_PROFILE = "Agent Profile"

    @property
    def id_param(self) -> str:
        """The parameter naming one document: stateId or profileId."""
        return "stateId" if self is Kind.STATE else "profileId"

    @property
    def scope_params(self) -> tuple[str, ...]:
        """The parameters naming the documents' context (C §2.3, §2.6, §2.7)."""
        if self is Kind.STATE:
            return ("activityId", "agent", "registration")
        if self is Kind.ACTIVITY_PROFILE:
            return ("activityId",)
        return ("agent",)


@dataclass(frozen=True, slots=True)
class Document:
    """A document: its exact bytes, its Content-Type as sent, its ETag (SHA-1 hex) and when it last changed."""

    content: bytes
    content_type: str
    etag: str
    updated: datetime.datetime | None = None


def make_document(content: bytes, content_type: str | None) -> Document:
    """A document of these bytes; the ETag is the SHA-1 hex of the content (C §3.1)."""
    return Document(content, content_type or DEFAULT_TYPE, hashlib.sha1(content).hexdigest())


def quoted(etag: str) -> str:
    """The ETag header value: the tag in double quotes (C §3.1, RFC 7232 §2.3)."""
    return f'"{etag}"'


def is_json(content_type: str) -> bool:
    """True when the media type (parameters ignored, any case) is application/json (C §2.2 JSON procedure)."""
    return content_type.split(";", 1)[0].strip().lower() == JSON_TYPE


# --- parameters (C §2.3, §2.6, §2.7, §3.2) --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DocumentQuery:
    """The validated parameters of a document request; `agent` is the Agent's IFI key (lrs.xapi.ifi)."""

    kind: Kind
    activity_id: str | None = None
    agent: str | None = None
    registration: str | None = None
    doc_id: str | None = None
    since: datetime.datetime | None = None

    @property
    def single(self) -> bool:
        """True when one document is named (stateId/profileId given)."""
        return self.doc_id is not None


def _key_string(name: str, value: str) -> str:
    if value == "":
        raise BadRequest(f"parameter {name!r} must not be empty")
    if len(value.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise BadRequest(f"parameter {name!r} is longer than {MAX_KEY_BYTES} bytes")
    return value


def parse_activity_id(value: str, name: str = "activityId", *, key: bool = True) -> str:
    """An Activity id parameter: an absolute IRI (D §2.4.4.1), kept exactly as sent (simple string comparison);
    `key`: it keys documents, so MAX_KEY_BYTES applies."""
    if key:
        _key_string(name, value)
    if not is_iri(value):
        raise BadRequest(f"parameter {name!r} must be an IRI (an absolute IRI with a scheme), got {value!r}")
    return value


def agent_key(agent: dict[str, Any], name: str = "agent") -> str:
    """The key documents are stored under for this Agent: its IFI (D §2.4.2.3), within the key size limit."""
    key = ifi_key(agent)
    assert key is not None  # a validated Agent has exactly one IFI
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise BadRequest(f"parameter {name!r}: the Agent's identifier is longer than {MAX_KEY_BYTES} bytes")
    return key


def parse_document_query(kind: Kind, method: str, params: Sequence[tuple[str, str]], version: Version) -> DocumentQuery:
    """Validate the parameters of a document request (C §2.3, §2.6, §2.7; 2.0 §4.1.6.2): unknown, wrong-case,
    repeated, missing or malformed parameters are 400 naming the parameter."""
    id_param = kind.id_param
    reading = method in ("GET", "HEAD")
    allowed = (*kind.scope_params, id_param, *(("since",) if reading else ()))
    p = check_names(params, allowed)
    for required in kind.scope_params:
        if required != "registration" and required not in p:
            raise BadRequest(f"parameter {required!r} is required by the {kind.value} resource")
    multi_ok = reading or (method == "DELETE" and kind is Kind.STATE)
    if id_param not in p and not multi_ok:
        raise BadRequest(f"parameter {id_param!r} is required for {method} on the {kind.value} resource")
    if "since" in p and id_param in p:
        raise BadRequest(f"parameter 'since' lists ids; it is not allowed together with {id_param!r}")
    fields: dict[str, Any] = {}
    if "activityId" in p:
        fields["activity_id"] = parse_activity_id(p["activityId"])
    if "agent" in p:
        fields["agent"] = agent_key(agent_param(p["agent"], version, allow_group=False))
    if "registration" in p:
        value = p["registration"]
        if not is_uuid(value):
            raise BadRequest(f"parameter 'registration' must be a UUID, got {value!r}")
        fields["registration"] = value.lower()
    if id_param in p:
        fields["doc_id"] = _key_string(id_param, p[id_param])
    if "since" in p:
        try:
            fields["since"] = parse_timestamp(p["since"], version, path="since")
        except BadRequest as exc:
            raise BadRequest(f"parameter 'since' must be an ISO 8601 timestamp: {exc.describe()}") from None
    return DocumentQuery(kind, **fields)


# --- ETags and preconditions (C §3.1; RFC 7232 §2.3, §3.1-3.2) -----------------------------------------------

_TAG = re.compile(r'\s*(?:(W/)?"([^"]*)"|(?!W/)([^\s",]+))\s*(?:,|$)')


@dataclass(frozen=True, slots=True)
class TagList:
    """An If-Match or If-None-Match value: "*", or the opaque values of its strong and weak entity tags."""

    star: bool = False
    strong: frozenset[str] = frozenset()
    weak: frozenset[str] = frozenset()

    def matches_strong(self, etag: str) -> bool:
        """RFC 7232 strong comparison, as If-Match uses: "*" or an equal strong tag."""
        return self.star or etag in self.strong

    def matches_weak(self, etag: str) -> bool:
        """RFC 7232 weak comparison, as If-None-Match uses: "*" or any equal tag."""
        return self.star or etag in self.strong or etag in self.weak


def parse_tag_list(header: str, name: str) -> TagList:
    """Parse "*" or a list of entity tags (RFC 7232 §3.1); an unquoted tag is read as its quoted form."""
    value = header.strip()
    if value == "*":
        return TagList(star=True)
    strong: set[str] = set()
    weak: set[str] = set()
    pos = 0
    while pos < len(value):
        m = _TAG.match(value, pos)
        if m is None or m.end() == pos:
            raise BadRequest(f"header {name} must be * or a list of quoted entity tags, got {header!r}")
        if m.group(1):
            weak.add(m.group(2))
        else:
            strong.add(m.group(2) if m.group(2) is not None else m.group(3))
        pos = m.end()
    if not strong and not weak:
        raise BadRequest(f"header {name} must be * or a list of quoted entity tags, got {header!r}")
    return TagList(strong=frozenset(strong), weak=frozenset(weak))


@dataclass(frozen=True, slots=True)
class Preconditions:
    """The If-Match and If-None-Match headers of a request (None when absent)."""

    if_match: TagList | None = None
    if_none_match: TagList | None = None

    @property
    def given(self) -> bool:
        """True when either header was sent."""
        return self.if_match is not None or self.if_none_match is not None


def parse_preconditions(if_match: str | None, if_none_match: str | None) -> Preconditions:
    """The request's preconditions from its If-Match / If-None-Match header values (C §3.1)."""
    return Preconditions(
        parse_tag_list(if_match, "If-Match") if if_match is not None else None,
        parse_tag_list(if_none_match, "If-None-Match") if if_none_match is not None else None,
    )


def check_preconditions(current: Document | None, pre: Preconditions) -> None:
    """412 when If-Match names no current ETag (or nothing is stored), or If-None-Match matches it (C §3.1)."""
    if pre.if_match is not None:
        if current is None:
            raise PreconditionFailed("If-Match failed: no such document is stored")
        if not pre.if_match.matches_strong(current.etag):
            raise PreconditionFailed(
                f"If-Match failed: the document's current ETag is {quoted(current.etag)}; GET it and retry"
            )
    if pre.if_none_match is not None and current is not None and pre.if_none_match.matches_weak(current.etag):
        what = "a document already exists" if pre.if_none_match.star else "the document has a listed ETag"
        raise PreconditionFailed(f"If-None-Match failed: {what} (current ETag {quoted(current.etag)})")


def not_modified(current: Document, pre: Preconditions) -> bool:
    """For a GET (RFC 7232 §3.1-3.2): 412 if If-Match fails; True (answer 304) if If-None-Match matches."""
    if pre.if_match is not None and not pre.if_match.matches_strong(current.etag):
        raise PreconditionFailed(f"If-Match failed: the document's current ETag is {quoted(current.etag)}")
    return pre.if_none_match is not None and pre.if_none_match.matches_weak(current.etag)


# --- JSON documents and the merge (C §2.2 "JSON Procedure with Requirements") ----------------------------------


def _no_constant(token: str) -> Any:
    raise ValueError(f"{token} is not valid JSON")


def _finite(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise ValueError(f"number {token} is out of range")
    return value


def json_object(content: bytes, what: str) -> dict[str, Any]:
    """Parse a JSON document that must be an object, exactly (big integers kept); 400 naming `what` otherwise."""
    try:
        text = content.decode("utf-8")
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except UnicodeDecodeError:
        raise BadRequest(f"{what} is not UTF-8 (C §1.4)") from None
    except ValueError as exc:  # JSONDecodeError is a ValueError
        raise BadRequest(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadRequest(f"{what} must be a JSON object to be merged, got a JSON {type(value).__name__}")
    return value


def dump_json(value: dict[str, Any]) -> bytes:
    """A compact UTF-8 JSON serialisation of a merged document."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate escape: keep it escaped
        return json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def merge(stored: dict[str, Any], posted: dict[str, Any]) -> dict[str, Any]:
    """The shallow merge (C §2.2): each top-level property of the posted object replaces the stored one."""
    return {**stored, **posted}


@dataclass(frozen=True, slots=True)
class Posted:
    """A POSTed document, with its parsed object when its Content-Type is application/json."""

    document: Document
    fields: dict[str, Any] | None


def posted(content: bytes, content_type: str | None) -> Posted:
    """Read a POST body (C §2.2): an application/json body must be a JSON object (else 400, nothing stored)."""
    doc = make_document(content, content_type)
    if not is_json(doc.content_type):
        return Posted(doc, None)
    return Posted(doc, json_object(content, "the posted document"))


# --- the write decisions, taken under the document's row lock ---------------------------------------------------


def conflicts_without_preconditions(kind: Kind, version: Version) -> bool:
    """Whether a PUT without If-Match/If-None-Match on an existing document is 409 (C §3.1; 2.0 §4.1.4).

    1.0.3 exempts the State resource ("will permit PUT, POST and DELETE requests without concurrency headers");
    2.0 lists all three resources and drops the exemption, and the 2.0 suite tests State too."""
    return kind is not Kind.STATE or version is Version.V2


def requires_preconditions_to_create(kind: Kind, version: Version) -> bool:
    """Whether a PUT creating a profile document must carry If-Match/If-None-Match (1.0.3 C §3.1 client MUST;
    the 1.0.3 suite expects 400). 2.0 has no such client requirement, and its suite no such test."""
    return kind is not Kind.STATE and version is Version.V1


def put(current: Document | None, new: Document, pre: Preconditions, kind: Kind, version: Version) -> Document:
    """PUT (C §2.2-2.7, §3.1): the document to store, or 412 / 409 / 400 with nothing changed."""
    check_preconditions(current, pre)
    if not pre.given:
        if current is not None and conflicts_without_preconditions(kind, version):
            raise Conflict(
                f"this {kind.value} document already exists and the PUT has neither If-Match nor If-None-Match: "
                "GET the document to check its current state, then PUT with If-Match set to its ETag (C §3.1)"
            )
        if current is None and requires_preconditions_to_create(kind, version):
            raise BadRequest(
                f"a PUT to the {kind.value} resource must carry If-None-Match: * to create a document, or If-Match "
                "with the ETag of the stored one (C §3.1)"
            )
    return new


def post(current: Document | None, incoming: Posted, pre: Preconditions) -> Document:
    """POST (C §2.2): store when nothing is stored; merge two JSON objects; 400 for any other pair."""
    check_preconditions(current, pre)
    if current is None:
        return incoming.document
    if incoming.fields is None:
        raise BadRequest(
            "a POST to an existing document merges JSON objects: the posted document's Content-Type is "
            f"{incoming.document.content_type!r}, not application/json; use PUT to replace the document (C §2.2)"
        )
    if not is_json(current.content_type):
        raise BadRequest(
            f"the stored document's Content-Type is {current.content_type!r}, not application/json, so it cannot be "
            "merged; use PUT to replace it (C §2.2)"
        )
    merged = merge(json_object(current.content, "the stored document"), incoming.fields)
    return make_document(dump_json(merged), current.content_type)


def delete(current: Document | None, pre: Preconditions) -> None:
    """DELETE of one document (C §2.3, §2.6, §2.7, §3.1): 412 when a precondition fails; deleting nothing is fine."""
    check_preconditions(current, pre)


# --- Agents and Activities resources (C §2.4, §2.5) -------------------------------------------------------------


def person(agent: dict[str, Any]) -> dict[str, Any]:
    """The Person object for an Agent (C §2.4): objectType "Person" and one-element arrays of what it carries."""
    out: dict[str, Any] = {"objectType": "Person"}
    if "name" in agent:
        out["name"] = [agent["name"]]
    for ifi in ("mbox", "mbox_sha1sum", "openid"):
        if ifi in agent:
            out[ifi] = [agent[ifi]]
    if "account" in agent:
        account = agent["account"]
        out["account"] = [{"homePage": account["homePage"], "name": account["name"]}]
    return out


def activity_object(activity_id: str, definition: dict[str, Any] | None) -> dict[str, Any]:
    """The Activity object GET /activities returns (C §2.5): the canonical definition if one is known."""
    out: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if definition:
        out["definition"] = definition
    return out
