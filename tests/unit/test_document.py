"""Pure document logic: parameters (C §2.3, §2.6, §2.7, §3.2), ETags and preconditions (C §3.1, RFC 7232), the
JSON merge (C §2.2), the 409 rules per version (C §3.1; 2.0 §4.1.4), Person and Activity objects (C §2.4-2.5)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from lrs.errors import BadRequest, Conflict, PreconditionFailed
from lrs.xapi import document as doc
from lrs.xapi.document import Document, Kind, Preconditions
from lrs.xapi.version import Version

V1, V2 = Version.V1, Version.V2
ACT = "http://example.com/act/1"
AGENT = json.dumps({"mbox": "mailto:ann@example.com"})
REG = "EC531277-B57B-4C15-8D91-D292C5B2B8F7"


def state_params(**over: str | None) -> list[tuple[str, str]]:
    base: dict[str, str | None] = {"activityId": ACT, "agent": AGENT, "stateId": "s1"}
    base.update(over)
    return [(k, v) for k, v in base.items() if v is not None]


def jdoc(value: Any) -> Document:
    return doc.make_document(json.dumps(value).encode(), "application/json")


# --- parameters -------------------------------------------------------------------------------------------------


def test_state_parameters_parsed() -> None:
    """C §2.3: activityId, agent (stored by IFI), registration (lower-cased UUID), stateId."""
    q = doc.parse_document_query(Kind.STATE, "PUT", state_params(registration=REG), V2)
    assert (q.activity_id, q.agent, q.registration, q.doc_id) == (ACT, "mbox|mailto:ann@example.com", REG.lower(), "s1")
    assert q.single


def test_agent_key_ignores_name() -> None:
    """D §2.4.2.3: an Agent is identified by its IFI; its name does not change which documents it has."""
    named = json.dumps({"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"})
    a = doc.parse_document_query(Kind.AGENT_PROFILE, "GET", [("agent", named), ("profileId", "p")], V1)
    b = doc.parse_document_query(Kind.AGENT_PROFILE, "GET", [("agent", AGENT), ("profileId", "p")], V1)
    assert a.agent == b.agent


@pytest.mark.parametrize(
    ("kind", "method", "params", "named"),
    [
        (Kind.STATE, "PUT", state_params(activityId=None), "activityId"),
        (Kind.STATE, "GET", state_params(agent=None), "agent"),
        (Kind.STATE, "POST", state_params(stateId=None), "stateId"),
        (Kind.STATE, "PUT", state_params(activityId="not an iri"), "activityId"),
        (Kind.STATE, "PUT", state_params(agent="not JSON"), "agent"),
        (Kind.STATE, "PUT", state_params(agent="true"), "agent"),
        (Kind.STATE, "PUT", state_params(agent=json.dumps({"name": "no ifi"})), "agent"),
        (
            Kind.STATE,
            "PUT",
            state_params(agent=json.dumps({"objectType": "Group", "mbox": "mailto:g@example.com"})),
            "agent",
        ),
        (Kind.STATE, "PUT", state_params(registration="true"), "registration"),
        (Kind.STATE, "PUT", state_params(stateId=""), "stateId"),
        (Kind.STATE, "PUT", state_params(stateId="x" * (doc.MAX_KEY_BYTES + 1)), "stateId"),
        (Kind.STATE, "GET", state_params(stateId=None, since="yesterday"), "since"),
        (Kind.STATE, "GET", state_params(since="2024-01-01T00:00:00Z"), "since"),
        (Kind.STATE, "PUT", state_params(since="2024-01-01T00:00:00Z"), "since"),
        (Kind.STATE, "GET", [*state_params(), ("StateId", "x")], "StateId"),
        (Kind.STATE, "GET", [*state_params(), ("stateId", "again")], "stateId"),
        (Kind.STATE, "GET", [*state_params(), ("profileId", "x")], "profileId"),
        (Kind.ACTIVITY_PROFILE, "DELETE", [("activityId", ACT)], "profileId"),
        (Kind.ACTIVITY_PROFILE, "GET", [("activityId", ACT), ("agent", AGENT)], "agent"),
        (Kind.AGENT_PROFILE, "DELETE", [("agent", AGENT)], "profileId"),
        (Kind.AGENT_PROFILE, "PUT", [("profileId", "p")], "agent"),
        (Kind.AGENT_PROFILE, "GET", [("agent", AGENT), ("activityId", ACT)], "activityId"),
    ],
)
def test_bad_parameters_are_400_naming_them(kind: Kind, method: str, params: list[tuple[str, str]], named: str) -> None:
    """C §3.2, §2.3-2.7: missing, malformed, unknown, wrong-case or repeated parameters are 400 naming them."""
    with pytest.raises(BadRequest) as err:
        doc.parse_document_query(kind, method, params, V2)
    assert named in err.value.describe()


def test_listing_and_deleting_need_no_id() -> None:
    """C §2.3: GET without stateId lists ids (since optional); DELETE without stateId deletes the context."""
    q = doc.parse_document_query(Kind.STATE, "GET", state_params(stateId=None, since="2024-01-01T00:00:00Z"), V1)
    assert not q.single and q.since is not None
    assert not doc.parse_document_query(Kind.STATE, "DELETE", state_params(stateId=None), V1).single
    assert not doc.parse_document_query(Kind.AGENT_PROFILE, "GET", [("agent", AGENT)], V1).single


# --- ETags and preconditions --------------------------------------------------------------------------------------


def test_etag_is_sha1_of_content() -> None:
    """C §3.1: the ETag is the SHA-1 hex digest (lower case) of the content, quoted in the header."""
    d = doc.make_document(b"hello", "text/plain")
    assert d.etag == hashlib.sha1(b"hello").hexdigest()
    assert doc.quoted(d.etag) == f'"{d.etag}"'


def test_content_type_defaults_to_octet_stream() -> None:
    """A document sent without Content-Type is stored as application/octet-stream."""
    assert doc.make_document(b"x", None).content_type == "application/octet-stream"


@pytest.mark.parametrize(
    ("header", "strong", "weak"),
    [
        ('"abc"', {"abc"}, set()),
        ('"a", W/"b" ,"c"', {"a", "c"}, {"b"}),
        ("abc", {"abc"}, set()),
    ],
)
def test_tag_lists(header: str, strong: set[str], weak: set[str]) -> None:
    """RFC 7232 §3.1: a list of strong and weak entity tags (an unquoted tag is read leniently)."""
    tags = doc.parse_tag_list(header, "If-Match")
    assert (set(tags.strong), set(tags.weak), tags.star) == (strong, weak, False)


@pytest.mark.parametrize("header", ["", ",", '"a" "b"', "W/"])
def test_malformed_tag_lists_are_400(header: str) -> None:
    """A header that is neither * nor a list of entity tags is a bad request naming the header."""
    with pytest.raises(BadRequest, match="If-Match"):
        doc.parse_tag_list(header, "If-Match")


def test_if_match() -> None:
    """C §3.1: If-Match passes only for the current ETag (strong comparison), and fails when nothing is stored."""
    current = jdoc({"a": 1})
    doc.check_preconditions(current, doc.parse_preconditions(f'"{current.etag}"', None))
    doc.check_preconditions(current, doc.parse_preconditions("*", None))
    for header in ('"1234"', f'W/"{current.etag}"'):
        with pytest.raises(PreconditionFailed):
            doc.check_preconditions(current, doc.parse_preconditions(header, None))
    with pytest.raises(PreconditionFailed):
        doc.check_preconditions(None, doc.parse_preconditions("*", None))


def test_if_none_match() -> None:
    """C §3.1: If-None-Match: * fails when a document exists, passes when none does; listed tags compare weakly."""
    current = jdoc({"a": 1})
    doc.check_preconditions(None, doc.parse_preconditions(None, "*"))
    doc.check_preconditions(current, doc.parse_preconditions(None, '"other"'))
    for header in ("*", f'W/"{current.etag}"'):
        with pytest.raises(PreconditionFailed):
            doc.check_preconditions(current, doc.parse_preconditions(None, header))


def test_get_conditions() -> None:
    """RFC 7232: a GET whose If-None-Match matches is 304; one whose If-Match fails is 412."""
    current = jdoc({"a": 1})
    assert doc.not_modified(current, doc.parse_preconditions(None, f'"{current.etag}"'))
    assert not doc.not_modified(current, Preconditions())
    with pytest.raises(PreconditionFailed):
        doc.not_modified(current, doc.parse_preconditions('"x"', None))


# --- PUT and the 409 rules ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "version", "conflict"),
    [
        (Kind.STATE, V1, False),
        (Kind.STATE, V2, True),
        (Kind.ACTIVITY_PROFILE, V1, True),
        (Kind.ACTIVITY_PROFILE, V2, True),
        (Kind.AGENT_PROFILE, V1, True),
        (Kind.AGENT_PROFILE, V2, True),
    ],
)
def test_put_without_preconditions_on_existing(kind: Kind, version: Version, conflict: bool) -> None:
    """C §3.1: a PUT without If-Match/If-None-Match on an existing document is 409, except on the 1.0.3 State
    resource, which permits it; 2.0 §4.1.4 applies the rule to all three resources."""
    new = jdoc({"b": 2})
    if conflict:
        with pytest.raises(Conflict, match="If-Match"):
            doc.put(jdoc({"a": 1}), new, Preconditions(), kind, version)
    else:
        assert doc.put(jdoc({"a": 1}), new, Preconditions(), kind, version) is new


@pytest.mark.parametrize("kind", [Kind.ACTIVITY_PROFILE, Kind.AGENT_PROFILE])
def test_creating_a_profile_without_preconditions(kind: Kind) -> None:
    """1.0.3 C §3.1: a client MUST send If-Match or If-None-Match on a profile PUT (400); 2.0 has no such rule."""
    new = jdoc({"b": 2})
    with pytest.raises(BadRequest, match="If-None-Match"):
        doc.put(None, new, Preconditions(), kind, V1)
    assert doc.put(None, new, Preconditions(), kind, V2) is new
    assert doc.put(None, new, Preconditions(), Kind.STATE, V1) is new


def test_put_with_matching_etag_replaces() -> None:
    """C §3.1: If-Match with the current ETag lets a PUT replace the document."""
    current, new = jdoc({"a": 1}), doc.make_document(b"raw", "text/plain")
    assert doc.put(current, new, doc.parse_preconditions(f'"{current.etag}"', None), Kind.AGENT_PROFILE, V1) is new


# --- POST and the merge -----------------------------------------------------------------------------------------


def test_merge_is_shallow() -> None:
    """C §2.2: top-level properties of the posted object replace the stored ones whole; others are kept."""
    stored = {"x": "foo", "y": "bar", "o": {"a": 1, "b": 2}}
    assert doc.merge(stored, {"x": "bash", "z": "faz", "o": {"c": 3}}) == {
        "x": "bash",
        "y": "bar",
        "z": "faz",
        "o": {"c": 3},
    }


def test_post_merges_json_objects() -> None:
    """C §2.2: POSTing a JSON object onto a stored JSON object stores the merge, with its own ETag."""
    result = doc.post(jdoc({"x": "foo", "y": "bar"}), doc.posted(b'{"x":"bash","z":"faz"}', JSON), Preconditions())
    assert json.loads(result.content) == {"x": "bash", "y": "bar", "z": "faz"}
    assert result.etag == hashlib.sha1(result.content).hexdigest()
    assert doc.is_json(result.content_type)


JSON = "application/json; charset=utf-8"


def test_post_keeps_big_numbers_exactly() -> None:
    """Merging must not alter untouched values: integers beyond 64 bits survive exactly."""
    stored = doc.make_document(b'{"big": 123456789012345678901234567890, "f": 0.1}', "application/json")
    result = doc.post(stored, doc.posted(b'{"n": "\\u00e9\\ud83d\\ude00"}', JSON), Preconditions())
    assert json.loads(result.content) == {"big": 123456789012345678901234567890, "f": 0.1, "n": "é😀"}


def test_post_to_nothing_stores_as_is() -> None:
    """C §2.2 (XAPI-00233): a POST for a document not stored yet stores it, whatever its type."""
    raw = doc.posted(b"\x00\x01", "application/octet-stream")
    assert doc.post(None, raw, Preconditions()) is raw.document


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"a": 1', "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"a": NaN}', "not valid JSON"),
        (b'{"a": 1e999}', "out of range"),
        (b'{"a": "\xff"}', "UTF-8"),
        (b"", "not valid JSON"),
    ],
)
def test_posting_bad_json_is_400(body: bytes, problem: str) -> None:
    """C §2.2 (XAPI-00235, XAPI-00314): an application/json POST body must be a JSON object."""
    with pytest.raises(BadRequest, match=problem):
        doc.posted(body, "application/json")


def test_post_needs_json_on_both_sides() -> None:
    """C §2.2: a non-JSON posted document, or a non-JSON stored one, is 400 (nothing changes)."""
    with pytest.raises(BadRequest, match="posted document's Content-Type"):
        doc.post(jdoc({"a": 1}), doc.posted(b"abc", "text/plain"), Preconditions())
    with pytest.raises(BadRequest, match="stored document's Content-Type"):
        doc.post(doc.make_document(b"abc", "application/octet-stream"), doc.posted(b"{}", JSON), Preconditions())
    with pytest.raises(BadRequest, match="stored document"):
        doc.post(doc.make_document(b"[1]", "application/json"), doc.posted(b"{}", JSON), Preconditions())


def test_post_and_delete_honour_preconditions() -> None:
    """C §3.1 (2.0 §4.1.4 shall): If-Match on POST and DELETE is checked; a failed one is 412."""
    current = jdoc({"a": 1})
    wrong = doc.parse_preconditions('"1234"', None)
    with pytest.raises(PreconditionFailed):
        doc.post(current, doc.posted(b"{}", JSON), wrong)
    with pytest.raises(PreconditionFailed):
        doc.delete(current, wrong)
    doc.delete(None, Preconditions())


# --- Person and Activity ------------------------------------------------------------------------------------------


def test_person_of_each_identifier() -> None:
    """C §2.4: a Person has objectType "Person" and arrays; only what the Agent carries."""
    assert doc.person({"objectType": "Agent", "name": "Ann", "mbox": "mailto:a@example.com"}) == {
        "objectType": "Person",
        "name": ["Ann"],
        "mbox": ["mailto:a@example.com"],
    }
    account = {"homePage": "http://example.com", "name": "ann"}
    assert doc.person({"account": account}) == {"objectType": "Person", "account": [account]}
    assert doc.person({"openid": "http://id.example.com/ann"})["openid"] == ["http://id.example.com/ann"]
    sha = "cd9b00a5611f94eaa7b1661edab976068e364975"
    assert doc.person({"mbox_sha1sum": sha})["mbox_sha1sum"] == [sha]


def test_activity_object() -> None:
    """C §2.5: the canonical definition when known, else just objectType and id."""
    assert doc.activity_object(ACT, None) == {"objectType": "Activity", "id": ACT}
    definition = {"name": {"en-US": "x"}}
    assert doc.activity_object(ACT, definition) == {"objectType": "Activity", "id": ACT, "definition": definition}
