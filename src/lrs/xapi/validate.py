"""Statement validation for xAPI 1.0.3 and 2.0 (D §2.2-2.6, §4; IEEE 9274.1.1 §4.2).

Strict: exact JSON types (a bool is not a number), no nulls outside extension values, no unknown properties
at any level, case-sensitive property names and enumerated values. Every error is a BadRequest whose `path` is
the JSON path of the offending value ("$.context.contextActivities.parent[0].id") and whose message names it.

Hand-written for speed (it runs on every write): one function per object kind, allowed keys as frozensets
compared with `allowed.issuperset(obj)`, precompiled regexes in `lrs.xapi.syntax`, paths built on descent.

Version differences (from the two ADL conformance suites):
- 2.0 adds context.contextAgents and context.contextGroups; in 1.0.3 they are unknown properties (rejected).
- statement "version": 1.0.3 accepts "1.0" / "1.0.x" only; 2.0 also accepts "2.0" / "2.0.x".
- normalize_timestamp converts to UTC for 2.0 and leaves 1.0.3 timestamps as sent.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from typing import Any, NoReturn

from lrs.errors import BadRequest
from lrs.xapi import syntax
from lrs.xapi.version import Version

__all__ = ["normalize_timestamp", "parse_timestamp", "validate_agent", "validate_batch", "validate_statement"]

VOIDED_VERB = "http://adlnet.gov/expapi/verbs/voided"

_STATEMENT_KEYS = frozenset(
    {
        "id",
        "actor",
        "verb",
        "object",
        "result",
        "context",
        "timestamp",
        "stored",
        "authority",
        "version",
        "attachments",
    }
)
_SUBSTATEMENT_KEYS = frozenset(
    {"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
)
_SUBSTATEMENT_FORBIDDEN = frozenset({"id", "stored", "version", "authority"})
_IFI_KEYS = frozenset({"mbox", "mbox_sha1sum", "openid", "account"})
_AGENT_KEYS = frozenset({"objectType", "name"}) | _IFI_KEYS
_GROUP_KEYS = _AGENT_KEYS | {"member"}
_ACCOUNT_KEYS = frozenset({"homePage", "name"})
_VERB_KEYS = frozenset({"id", "display"})
_ACTIVITY_KEYS = frozenset({"objectType", "id", "definition"})
_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
_INTERACTION_KEYS = frozenset({"correctResponsesPattern", *_COMPONENT_LISTS})
_DEFINITION_KEYS = frozenset({"name", "description", "type", "moreInfo", "extensions", "interactionType"}) | (
    _INTERACTION_KEYS
)
_COMPONENT_KEYS = frozenset({"id", "description"})
_STATEMENT_REF_KEYS = frozenset({"objectType", "id"})
_RESULT_KEYS = frozenset({"score", "success", "completion", "response", "duration", "extensions"})
_SCORE_KEYS = frozenset({"scaled", "raw", "min", "max"})
_CONTEXT_KEYS_V1 = frozenset(
    {
        "registration",
        "instructor",
        "team",
        "contextActivities",
        "revision",
        "platform",
        "language",
        "statement",
        "extensions",
    }
)
_CONTEXT_KEYS_V2_ONLY = frozenset({"contextAgents", "contextGroups"})
_CONTEXT_KEYS_V2 = _CONTEXT_KEYS_V1 | _CONTEXT_KEYS_V2_ONLY
_CONTEXT_ACTIVITIES_KEYS = frozenset({"parent", "grouping", "category", "other"})
_CONTEXT_AGENT_KEYS = frozenset({"objectType", "agent", "relevantTypes"})
_CONTEXT_GROUP_KEYS = frozenset({"objectType", "group", "relevantTypes"})
_ATTACHMENT_KEYS = frozenset({"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"})
# D §2.4.4.1 "Interaction Components": the component lists each interactionType supports.
_INTERACTION_TYPES: dict[str, frozenset[str]] = {
    "true-false": frozenset(),
    "choice": frozenset({"choices"}),
    "fill-in": frozenset(),
    "long-fill-in": frozenset(),
    "matching": frozenset({"source", "target"}),
    "performance": frozenset({"steps"}),
    "sequencing": frozenset({"choices"}),
    "likert": frozenset({"scale"}),
    "numeric": frozenset(),
    "other": frozenset(),
}
_OBJECT_TYPES = ("Activity", "Agent", "Group", "SubStatement", "StatementRef")
_NUMBER = (int, float)
_ABSENT: Any = object()


# --- error helpers (only run on the failure path) -----------------------------------------------------------


def _label(path: str, root: str) -> str:
    if path == "$":
        return root
    if path.startswith("$."):
        return path[2:]
    if path.startswith("$"):
        return root + path[1:]
    return path


def _child(path: str, key: object) -> str:
    if type(key) is str and key.isidentifier():
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=False) if type(key) is str else repr(key)}]"


def _got(value: object) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return f"boolean {'true' if value else 'false'}"
    if type(value) is str:
        return repr(value) if len(value) <= 80 else repr(value[:77] + "...")
    if type(value) in _NUMBER:
        return f"number {value!r}"
    if type(value) is list:
        return "an array"
    if type(value) is dict:
        return "an object"
    return type(value).__name__


def _fail(path: str, message: str, root: str = "statement") -> NoReturn:
    raise BadRequest(f"{_label(path, root)} {message}", path=path)


def _type_fail(path: str, expected: str, value: object, root: str = "statement") -> NoReturn:
    _fail(path, f"must be {expected}, got {_got(value)}", root)


def _key_fail(path: str, key: object, problem: str) -> NoReturn:
    raise BadRequest(f"{_label(path, 'statement')} key {_got(key)} {problem}", path=_child(path, key))


def _unknown(obj: dict[str, Any], allowed: frozenset[str], path: str, root: str = "statement") -> NoReturn:
    for key in obj:
        if key in allowed:
            continue
        if type(key) is str:
            near = [a for a in allowed if a.lower() == key.lower()]
            if near:
                hint = f" (property names are case-sensitive: did you mean {near[0]!r}?)"
            elif key in _CONTEXT_KEYS_V2_ONLY:
                hint = " (contextAgents and contextGroups are xAPI 2.0 properties)"
            else:
                hint = ""
        else:
            hint = ""
        raise BadRequest(f"{_label(path, root)} has unknown property {key!r}{hint}", path=_child(path, key))
    raise AssertionError("unreachable")  # pragma: no cover


def _required(path: str, key: str, what: str = "") -> NoReturn:
    _fail(f"{path}.{key}", f"is required{what}")


# --- leaf checks: each reads obj[key] and builds the value's path only when it fails --------------------------

_VALID_IRIS = syntax.VALID_IRIS
_VALID_TAGS = syntax.VALID_LANGUAGE_TAGS
_is_iri = syntax.is_iri
_is_language_tag = syntax.is_language_tag


def _string_at(obj: dict[str, Any], key: str, path: str) -> None:
    if type(obj[key]) is not str:
        _type_fail(f"{path}.{key}", "a string", obj[key])


def _bool_at(obj: dict[str, Any], key: str, path: str) -> None:
    if type(obj[key]) is not bool:
        _type_fail(f"{path}.{key}", "a boolean", obj[key])


def _number_at(obj: dict[str, Any], key: str, path: str) -> int | float:
    # int | float, not float: compiled by mypyc (ADR 0010), a `float` return would turn 0 into 0.0 in messages
    v = obj[key]
    if type(v) is int:
        return v
    if type(v) is not float:
        _type_fail(f"{path}.{key}", "a number", v)
    if not math.isfinite(v):
        _fail(f"{path}.{key}", f"must be a finite number, got {v!r}")
    return v


def _iri_at(obj: dict[str, Any], key: str, path: str) -> Any:
    v = obj[key]
    if type(v) is str and (v in _VALID_IRIS or _is_iri(v)):
        return v
    if type(v) is not str:
        _type_fail(f"{path}.{key}", "an IRI string", v)
    _fail(f"{path}.{key}", f"must be an absolute IRI with a scheme, got {_got(v)}")


def _irl_at(obj: dict[str, Any], key: str, path: str) -> None:
    v = obj[key]
    if type(v) is not str:
        _type_fail(f"{path}.{key}", "an IRL string", v)
    if not syntax.is_irl(v):
        _fail(f"{path}.{key}", f"must be an absolute IRL (e.g. http://example.com/...), got {_got(v)}")


def _uuid_at(obj: dict[str, Any], key: str, path: str) -> None:
    v = obj[key]
    if type(v) is not str:
        _type_fail(f"{path}.{key}", "a UUID string", v)
    if not syntax.is_uuid(v):
        _fail(f"{path}.{key}", f"must be a UUID in standard string form, got {_got(v)}")


def _language_map_at(obj: dict[str, Any], key: str, path: str) -> None:
    """D §4.2: an object whose keys are RFC 5646 tags and whose values are strings."""
    m = obj[key]
    if type(m) is not dict:
        _type_fail(f"{path}.{key}", "a language map (an object of language tag to string)", m)
    for tag, text in m.items():
        if type(text) is not str:
            _type_fail(_child(f"{path}.{key}", tag), "a string", text)
        if tag not in _VALID_TAGS and (type(tag) is not str or not _is_language_tag(tag)):
            _key_fail(f"{path}.{key}", tag, "is not an RFC 5646 language tag")


def _extensions_at(obj: dict[str, Any], key: str, path: str) -> None:
    """D §4.1: an object whose keys are IRIs; any values, null included."""
    e = obj[key]
    if type(e) is not dict:
        _type_fail(f"{path}.{key}", "an object of IRI to any value", e)
    for k in e:
        if k not in _VALID_IRIS and (type(k) is not str or not _is_iri(k)):
            _key_fail(f"{path}.{key}", k, "is not an absolute IRI")


def _timestamp_at(obj: dict[str, Any], key: str, path: str) -> None:
    v = obj[key]
    if type(v) is not str:
        _type_fail(f"{path}.{key}", "an ISO 8601 timestamp string", v)
    try:
        syntax.parse_timestamp_parts(v)
    except ValueError as exc:
        _fail(f"{path}.{key}", f"{exc}, got {_got(v)}")


# --- actors (D §2.4.2) ----------------------------------------------------------------------------------------


def _ifis(obj: dict[str, Any], path: str) -> int:
    """Check each Inverse Functional Identifier present (D §2.4.2.3-4); return how many there are."""
    n = 0
    if "mbox" in obj:
        n += 1
        v = obj["mbox"]
        if type(v) is not str or not syntax.is_mailto_iri(v):
            if type(v) is not str:
                _type_fail(f"{path}.mbox", "a mailto: IRI string", v)
            _fail(f"{path}.mbox", f"must be a mailto: IRI (mailto:name@example.com), got {_got(v)}")
    if "mbox_sha1sum" in obj:
        n += 1
        v = obj["mbox_sha1sum"]
        if type(v) is not str or not syntax.is_sha1_hex(v):
            if type(v) is not str:
                _type_fail(f"{path}.mbox_sha1sum", "a string of 40 hex digits", v)
            _fail(f"{path}.mbox_sha1sum", f"must be a hex SHA-1 digest (40 hex digits), got {_got(v)}")
    if "openid" in obj:
        n += 1
        v = obj["openid"]
        if type(v) is not str or not _is_iri(v):
            if type(v) is not str:
                _type_fail(f"{path}.openid", "a URI string", v)
            _fail(f"{path}.openid", f"must be an absolute URI with a scheme, got {_got(v)}")
    if "account" in obj:
        n += 1
        acct = obj["account"]
        if type(acct) is not dict:
            _type_fail(f"{path}.account", "an object with homePage and name", acct)
        if not _ACCOUNT_KEYS.issuperset(acct):
            _unknown(acct, _ACCOUNT_KEYS, f"{path}.account")
        if "homePage" not in acct:
            _required(f"{path}.account", "homePage")
        if "name" not in acct:
            _required(f"{path}.account", "name")
        _irl_at(acct, "homePage", f"{path}.account")
        _string_at(acct, "name", f"{path}.account")
    return n


def _ifi_list(obj: dict[str, Any]) -> str:
    return ", ".join(k for k in obj if k in _IFI_KEYS)


def _agent_or_group(
    obj: object, path: str, *, allow_group: bool = True, require_type: bool = False, root: str = "statement"
) -> str:
    """Validate an Agent or Group (D §2.4.2.1-2.4.2.4) and return its kind, "Agent" or "Group"."""
    if type(obj) is not dict:
        _type_fail(path, "an Agent or Group object" if allow_group else "an Agent object", obj, root)
    ot = obj.get("objectType", _ABSENT)
    if ot == "Agent" or (ot is _ABSENT and not require_type and "member" not in obj):
        if not _AGENT_KEYS.issuperset(obj):
            _unknown(obj, _AGENT_KEYS, path, root)
        n = _ifis(obj, path)
        if n != 1:
            if n == 0:
                _fail(path, "must have exactly one of mbox, mbox_sha1sum, openid, account (D 2.4.2.1)", root)
            _fail(path, f"must have exactly one inverse functional identifier, got {_ifi_list(obj)}", root)
        kind = "Agent"
    elif ot == "Group" and allow_group:
        if not _GROUP_KEYS.issuperset(obj):
            _unknown(obj, _GROUP_KEYS, path, root)
        n = _ifis(obj, path)
        if n > 1:
            _fail(path, f"must have at most one inverse functional identifier, got {_ifi_list(obj)}", root)
        if "member" in obj:
            members = obj["member"]
            if type(members) is not list:
                _type_fail(f"{path}.member", "an array of Agents", members, root)
            for i, m in enumerate(members):
                if type(m) is dict and m.get("objectType") == "Group":
                    _fail(f"{path}.member[{i}].objectType", "must not be 'Group': members are Agents", root)
                _agent_or_group(m, f"{path}.member[{i}]", allow_group=False, root=root)
        elif n == 0:
            _fail(f"{path}.member", "is required for an anonymous Group (one without an identifier)", root)
        kind = "Group"
    elif ot is _ABSENT:
        if "member" in obj:
            _fail(f"{path}.objectType", "is required ('Group') for a Group", root)
        _fail(f"{path}.objectType", "is required when the object is an Agent or Group (D 2.4.4.2)", root)
    elif ot == "Group":
        _fail(f"{path}.objectType", "must be 'Agent' here (a Group is not allowed), got 'Group'", root)
    else:
        expected = "'Agent' or 'Group'" if allow_group else "'Agent'"
        _fail(f"{path}.objectType", f"must be {expected}, got {_got(ot)}", root)
    if "name" in obj:
        _string_at(obj, "name", path)
    return kind


def _authority(obj: object, path: str) -> None:
    """D §2.4.9: an Agent, or (3-legged OAuth) an anonymous Group of exactly two Agents."""
    if _agent_or_group(obj, path) == "Group":
        assert type(obj) is dict
        if not _IFI_KEYS.isdisjoint(obj):
            _fail(path, "must be an Agent or an anonymous Group of two Agents, got an identified Group")
        if len(obj["member"]) != 2:
            _fail(f"{path}.member", f"must list exactly two Agents (OAuth app and user), got {len(obj['member'])}")


# --- verb, objects (D §2.4.3, §2.4.4) -------------------------------------------------------------------------


def _verb(obj: object, path: str) -> Any:
    if type(obj) is not dict:
        _type_fail(path, "a Verb object", obj)
    if not _VERB_KEYS.issuperset(obj):
        _unknown(obj, _VERB_KEYS, path)
    if "id" not in obj:
        _required(path, "id")
    if "display" in obj:
        _language_map_at(obj, "display", path)
    return _iri_at(obj, "id", path)


def _components(value: object, path: str) -> None:
    """D §2.4.4.1 Interaction Components: an array of {id, description}, ids distinct."""
    if type(value) is not list:
        _type_fail(path, "an array of interaction components", value)
    seen: set[str] = set()
    for i, comp in enumerate(value):
        if type(comp) is not dict:
            _type_fail(f"{path}[{i}]", "an interaction component object", comp)
        if not _COMPONENT_KEYS.issuperset(comp):
            _unknown(comp, _COMPONENT_KEYS, f"{path}[{i}]")
        if "id" not in comp:
            _required(f"{path}[{i}]", "id")
        cid = comp["id"]
        if type(cid) is not str:
            _type_fail(f"{path}[{i}].id", "a string", cid)
        if cid in seen:
            _fail(f"{path}[{i}].id", f"repeats the id {_got(cid)} of an earlier component; ids must be distinct")
        seen.add(cid)
        if "description" in comp:
            _language_map_at(comp, "description", f"{path}[{i}]")


def _interaction(obj: dict[str, Any], path: str) -> None:
    """D §2.4.4.1 Interaction Activities: interactionType, correctResponsesPattern, component lists."""
    itype = obj.get("interactionType", _ABSENT)
    if itype is _ABSENT:
        used = ", ".join(k for k in obj if k in _INTERACTION_KEYS)
        _required(path, "interactionType", f" when {used} is present (D 2.4.4.1)")
    allowed = _INTERACTION_TYPES.get(itype) if type(itype) is str else None
    if allowed is None:
        _fail(f"{path}.interactionType", f"must be one of {', '.join(_INTERACTION_TYPES)}, got {_got(itype)}")
    if "correctResponsesPattern" in obj:
        crp = obj["correctResponsesPattern"]
        if type(crp) is not list:
            _type_fail(f"{path}.correctResponsesPattern", "an array of strings", crp)
        for i, pattern in enumerate(crp):
            if type(pattern) is not str:
                _type_fail(f"{path}.correctResponsesPattern[{i}]", "a string", pattern)
    for key in _COMPONENT_LISTS:
        if key in obj:
            if key not in allowed:
                supported = ", ".join(sorted(allowed)) or "no component lists"
                _fail(f"{path}.{key}", f"is not allowed for interactionType {itype!r} (it supports {supported})")
            _components(obj[key], f"{path}.{key}")


def _definition(obj: object, path: str) -> None:
    """D §2.4.4.1 Activity Definition, including Interaction Activities."""
    if type(obj) is not dict:
        _type_fail(path, "an Activity Definition object", obj)
    if not _DEFINITION_KEYS.issuperset(obj):
        _unknown(obj, _DEFINITION_KEYS, path)
    if "name" in obj:
        _language_map_at(obj, "name", path)
    if "description" in obj:
        _language_map_at(obj, "description", path)
    if "type" in obj:
        _iri_at(obj, "type", path)
    if "moreInfo" in obj:
        _irl_at(obj, "moreInfo", path)
    if "extensions" in obj:
        _extensions_at(obj, "extensions", path)
    if "interactionType" in obj or not _INTERACTION_KEYS.isdisjoint(obj):
        _interaction(obj, path)


def _activity(obj: object, path: str) -> None:
    """D §2.4.4.1: {objectType?: "Activity", id: IRI, definition?}."""
    if type(obj) is not dict:
        _type_fail(path, "an Activity object", obj)
    if not _ACTIVITY_KEYS.issuperset(obj):
        _unknown(obj, _ACTIVITY_KEYS, path)
    if "objectType" in obj and obj["objectType"] != "Activity":
        _fail(f"{path}.objectType", f"must be 'Activity', got {_got(obj['objectType'])}")
    if "id" not in obj:
        _required(path, "id")
    _iri_at(obj, "id", path)
    if "definition" in obj:
        _definition(obj["definition"], f"{path}.definition")


def _statement_ref(obj: object, path: str) -> None:
    """D §2.4.4.3 Statement References: {objectType: "StatementRef", id: UUID}."""
    if type(obj) is not dict:
        _type_fail(path, "a StatementRef object", obj)
    if not _STATEMENT_REF_KEYS.issuperset(obj):
        _unknown(obj, _STATEMENT_REF_KEYS, path)
    ot = obj.get("objectType", _ABSENT)
    if ot != "StatementRef":
        if ot is _ABSENT:
            _required(path, "objectType", " ('StatementRef')")
        _fail(f"{path}.objectType", f"must be 'StatementRef', got {_got(ot)}")
    if "id" not in obj:
        _required(path, "id")
    _uuid_at(obj, "id", path)


def _object(obj: object, path: str, version: Version, in_sub: bool) -> str:
    """D §2.4.4: dispatch on objectType (default Activity); return the effective objectType."""
    if type(obj) is not dict:
        _type_fail(path, "an object (Activity, Agent, Group, SubStatement or StatementRef)", obj)
    ot = obj.get("objectType", _ABSENT)
    if ot is _ABSENT or ot == "Activity":
        if ot is _ABSENT and ("member" in obj or not _IFI_KEYS.isdisjoint(obj)):
            _fail(f"{path}.objectType", "is required when the object is an Agent or Group (D 2.4.4.2)")
        _activity(obj, path)
        return "Activity"
    if ot == "Agent" or ot == "Group":
        return _agent_or_group(obj, path, require_type=True)
    if ot == "StatementRef":
        _statement_ref(obj, path)
        return "StatementRef"
    if ot == "SubStatement":
        if in_sub:
            _fail(f"{path}.objectType", "must not be 'SubStatement': a SubStatement cannot contain another")
        _statement(obj, path, version, sub=True)
        return "SubStatement"
    _fail(f"{path}.objectType", f"must be one of {', '.join(map(repr, _OBJECT_TYPES))}, got {_got(ot)}")


# --- result, context, attachments (D §2.4.5, §2.4.6, §2.4.11) -------------------------------------------------


def _score(obj: object, path: str) -> None:
    """D §2.4.5.1: scaled in [-1, 1]; min < max; raw within [min, max]."""
    if type(obj) is not dict:
        _type_fail(path, "a Score object", obj)
    if not _SCORE_KEYS.issuperset(obj):
        _unknown(obj, _SCORE_KEYS, path)
    if "scaled" in obj:
        scaled = _number_at(obj, "scaled", path)
        if not -1 <= scaled <= 1:
            _fail(f"{path}.scaled", f"must be between -1 and 1, got {scaled!r}")
    lo = _number_at(obj, "min", path) if "min" in obj else None
    hi = _number_at(obj, "max", path) if "max" in obj else None
    if lo is not None and hi is not None and not lo < hi:
        _fail(f"{path}.max", f"must be greater than min ({lo!r}), got {hi!r}")
    if "raw" in obj:
        raw = _number_at(obj, "raw", path)
        if lo is not None and raw < lo:
            _fail(f"{path}.raw", f"must not be less than min ({lo!r}), got {raw!r}")
        if hi is not None and raw > hi:
            _fail(f"{path}.raw", f"must not be greater than max ({hi!r}), got {raw!r}")


def _result(obj: object, path: str) -> None:
    """D §2.4.5."""
    if type(obj) is not dict:
        _type_fail(path, "a Result object", obj)
    if not _RESULT_KEYS.issuperset(obj):
        _unknown(obj, _RESULT_KEYS, path)
    if "score" in obj:
        _score(obj["score"], f"{path}.score")
    if "success" in obj:
        _bool_at(obj, "success", path)
    if "completion" in obj:
        _bool_at(obj, "completion", path)
    if "response" in obj:
        _string_at(obj, "response", path)
    if "duration" in obj:
        d = obj["duration"]
        if type(d) is not str or not syntax.is_duration(d):
            if type(d) is not str:
                _type_fail(f"{path}.duration", "an ISO 8601 duration string", d)
            _fail(f"{path}.duration", f"must be an ISO 8601 duration such as PT1H30M5.25S, got {_got(d)}")
    if "extensions" in obj:
        _extensions_at(obj, "extensions", path)


def _context_activities(obj: object, path: str) -> None:
    """D §2.4.6.2: keys parent/grouping/category/other; each an Activity or an array of Activities."""
    if type(obj) is not dict:
        _type_fail(path, "an object with parent, grouping, category or other", obj)
    if not _CONTEXT_ACTIVITIES_KEYS.issuperset(obj):
        _unknown(obj, _CONTEXT_ACTIVITIES_KEYS, path)
    for key, value in obj.items():
        if type(value) is list:
            for i, act in enumerate(value):
                _activity(act, f"{path}.{key}[{i}]")
        elif type(value) is dict:
            _activity(value, f"{path}.{key}")
        else:
            _type_fail(f"{path}.{key}", "an Activity or an array of Activities", value)


def _relevant_types(obj: dict[str, Any], path: str) -> None:
    if "relevantTypes" in obj:
        rts = obj["relevantTypes"]
        if type(rts) is not list:
            _type_fail(f"{path}.relevantTypes", "a non-empty array of IRIs", rts)
        if not rts:
            _fail(f"{path}.relevantTypes", "must not be empty")
        for i, rt in enumerate(rts):
            if type(rt) is not str or not _is_iri(rt):
                if type(rt) is not str:
                    _type_fail(f"{path}.relevantTypes[{i}]", "an IRI string", rt)
                _fail(f"{path}.relevantTypes[{i}]", f"must be an absolute IRI with a scheme, got {_got(rt)}")


def _context_members(value: object, path: str, kind: str, member: str, keys: frozenset[str]) -> None:
    """2.0 §4.2.2.5: an array of {objectType: kind, <member>: Agent or Group, relevantTypes?: [IRI, ...]}."""
    if type(value) is not list:
        _type_fail(path, f"an array of {kind} objects", value)
    for i, item in enumerate(value):
        ipath = f"{path}[{i}]"
        if type(item) is not dict:
            _type_fail(ipath, f"a {kind} object", item)
        if not keys.issuperset(item):
            _unknown(item, keys, ipath)
        ot = item.get("objectType", _ABSENT)
        if ot != kind:
            if ot is _ABSENT:
                _required(ipath, "objectType", f" ('{kind}')")
            _fail(f"{ipath}.objectType", f"must be '{kind}', got {_got(ot)}")
        if member not in item:
            _required(ipath, member)
        if member == "agent":
            _agent_or_group(item["agent"], f"{ipath}.agent", allow_group=False)
        else:
            _group(item["group"], f"{ipath}.group")
        _relevant_types(item, ipath)


def _group(obj: object, path: str) -> None:
    """A value that must be a Group (context.team, contextGroup.group): objectType "Group" is required."""
    if type(obj) is dict and obj.get("objectType") != "Group":
        ot = obj.get("objectType", _ABSENT)
        if ot is _ABSENT:
            _required(path, "objectType", " ('Group')")
        _fail(f"{path}.objectType", f"must be 'Group', got {_got(ot)}")
    if type(obj) is not dict:
        _type_fail(path, "a Group object", obj)
    _agent_or_group(obj, path)


def _context(obj: object, path: str, version: Version, object_type: str) -> None:
    """D §2.4.6; 2.0 adds contextAgents and contextGroups."""
    if type(obj) is not dict:
        _type_fail(path, "a Context object", obj)
    allowed = _CONTEXT_KEYS_V2 if version is Version.V2 else _CONTEXT_KEYS_V1
    if not allowed.issuperset(obj):
        _unknown(obj, allowed, path)
    if "registration" in obj:
        _uuid_at(obj, "registration", path)
    if "instructor" in obj:
        _agent_or_group(obj["instructor"], f"{path}.instructor")
    if "team" in obj:
        _group(obj["team"], f"{path}.team")
    if "contextActivities" in obj:
        _context_activities(obj["contextActivities"], f"{path}.contextActivities")
    if "revision" in obj:
        _string_at(obj, "revision", path)
        if object_type != "Activity":
            _fail(f"{path}.revision", f"is only allowed when the object is an Activity, not a {object_type}")
    if "platform" in obj:
        _string_at(obj, "platform", path)
        if object_type != "Activity":
            _fail(f"{path}.platform", f"is only allowed when the object is an Activity, not a {object_type}")
    if "language" in obj:
        lang = obj["language"]
        if type(lang) is not str or (lang not in _VALID_TAGS and not _is_language_tag(lang)):
            if type(lang) is not str:
                _type_fail(f"{path}.language", "an RFC 5646 language tag string", lang)
            _fail(f"{path}.language", f"must be an RFC 5646 language tag, got {_got(lang)}")
    if "statement" in obj:
        _statement_ref(obj["statement"], f"{path}.statement")
    if "extensions" in obj:
        _extensions_at(obj, "extensions", path)
    if "contextAgents" in obj:
        _context_members(obj["contextAgents"], f"{path}.contextAgents", "contextAgent", "agent", _CONTEXT_AGENT_KEYS)
    if "contextGroups" in obj:
        _context_members(obj["contextGroups"], f"{path}.contextGroups", "contextGroup", "group", _CONTEXT_GROUP_KEYS)


def _attachments(value: object, path: str) -> None:
    """D §2.4.11: an array of Attachment objects."""
    if type(value) is not list:
        _type_fail(path, "an array of Attachment objects", value)
    for i, att in enumerate(value):
        apath = f"{path}[{i}]"
        if type(att) is not dict:
            _type_fail(apath, "an Attachment object", att)
        if not _ATTACHMENT_KEYS.issuperset(att):
            _unknown(att, _ATTACHMENT_KEYS, apath)
        for key in ("usageType", "display", "contentType", "length", "sha2"):
            if key not in att:
                _required(apath, key)
        _iri_at(att, "usageType", apath)
        _language_map_at(att, "display", apath)
        if "description" in att:
            _language_map_at(att, "description", apath)
        ct = att["contentType"]
        if type(ct) is not str:
            _type_fail(f"{apath}.contentType", "an Internet media type string", ct)
        if not syntax.is_mime_type(ct):
            _fail(f"{apath}.contentType", f"must be an Internet media type such as text/plain, got {_got(ct)}")
        length = att["length"]
        if type(length) is not int and not (type(length) is float and length.is_integer()):
            _type_fail(f"{apath}.length", "an integer", length)
        if length < 0:
            _fail(f"{apath}.length", f"must not be negative, got {length!r}")
        sha2 = att["sha2"]
        if type(sha2) is not str:
            _type_fail(f"{apath}.sha2", "a hex SHA-2 digest string", sha2)
        if not syntax.is_sha2_hex(sha2):
            _fail(f"{apath}.sha2", f"must be a hex SHA-2 digest (64 hex digits for SHA-256), got {_got(sha2)}")
        if "fileUrl" in att:
            _irl_at(att, "fileUrl", apath)


# --- statements (D §2.2-2.4) ----------------------------------------------------------------------------------


def _statement(obj: object, path: str, version: Version, *, sub: bool) -> None:
    if type(obj) is not dict:
        _type_fail(path, "a Statement object", obj)
    allowed = _SUBSTATEMENT_KEYS if sub else _STATEMENT_KEYS
    if not allowed.issuperset(obj):
        if sub:
            for key in obj:
                if key in _SUBSTATEMENT_FORBIDDEN:
                    _fail(f"{path}.{key}", "must not be present in a SubStatement (D 2.4.4.3)")
        _unknown(obj, allowed, path)
    if "actor" not in obj:
        _required(path, "actor")
    if "verb" not in obj:
        _required(path, "verb")
    if "object" not in obj:
        _required(path, "object")
    if not sub and "id" in obj:
        _uuid_at(obj, "id", path)
    _agent_or_group(obj["actor"], f"{path}.actor")
    verb_id = _verb(obj["verb"], f"{path}.verb")
    object_type = _object(obj["object"], f"{path}.object", version, sub)
    if "result" in obj:
        _result(obj["result"], f"{path}.result")
    if "context" in obj:
        _context(obj["context"], f"{path}.context", version, object_type)
    if "timestamp" in obj:
        _timestamp_at(obj, "timestamp", path)
    if "attachments" in obj:
        _attachments(obj["attachments"], f"{path}.attachments")
    if sub:
        return
    if "stored" in obj:
        _timestamp_at(obj, "stored", path)
    if "authority" in obj:
        _authority(obj["authority"], f"{path}.authority")
    if "version" in obj:
        ver = obj["version"]
        if type(ver) is not str:
            _type_fail(f"{path}.version", "a version string", ver)
        if not syntax.is_statement_version(ver, allow_2_0=version is Version.V2):
            accepted = "1.0.x or 2.0.x" if version is Version.V2 else "1.0 or 1.0.x"
            _fail(f"{path}.version", f"must be {accepted}, got {_got(ver)}")
    if verb_id == VOIDED_VERB and object_type != "StatementRef":
        _fail(f"{path}.object", f"must be a StatementRef in a voiding statement (D 2.3.2), got {object_type}")


# --- public API ---------------------------------------------------------------------------------------------


def validate_statement(stmt: object, version: Version, *, path: str = "$") -> dict[str, Any]:
    """Validate one statement (D §2.2-2.6); return it (the same dict) or raise BadRequest(msg, path=...)."""
    _statement(stmt, path, version, sub=False)
    return stmt  # type: ignore[return-value]


def validate_batch(body: object, version: Version) -> list[dict[str, Any]]:
    """Validate a POST body: a statement or an array of them (C §2.1.2); errors carry index= and path=."""
    if type(body) is dict:
        return [validate_statement(body, version)]
    if type(body) is not list:
        raise BadRequest(
            f"request body must be a statement object or an array of statements, got {_got(body)}", path="$"
        )
    ids: set[str] = set()
    for i, stmt in enumerate(body):
        try:
            _statement(stmt, "$", version, sub=False)
        except BadRequest as exc:
            raise exc.at(index=i) from None
        sid = stmt.get("id")  # a valid UUID string if present
        if sid is not None:
            key = sid.lower()
            if key in ids:
                raise BadRequest(f"id {sid!r} is used by more than one statement in the batch", path="$.id", index=i)
            ids.add(key)
    return body


def validate_agent(obj: object, version: Version, *, path: str = "$", allow_group: bool = True) -> dict[str, Any]:
    """Validate an Agent or Group (D §2.4.2); also for `agent` parameters (allow_group=False: Agent only)."""
    _agent_or_group(obj, path, allow_group=allow_group, root="agent")
    return obj  # type: ignore[return-value]


def parse_timestamp(value: object, version: Version, *, path: str = "$") -> datetime.datetime:
    """Parse an ISO 8601 timestamp as xAPI requires (D §4.5): aware result, no offset read as UTC.

    Raises BadRequest on a bad one; -00, -0000 and -00:00 offsets are rejected in both versions (both
    conformance suites' configs/timestamps.js expect 400)."""
    if type(value) is not str:
        _type_fail(path, "an ISO 8601 timestamp string", value, "timestamp")
    try:
        return syntax.parse_timestamp_parts(value)[0]
    except ValueError as exc:
        _fail(path, f"{exc}, got {_got(value)}", "timestamp")


_CANONICAL_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3,}Z")


def normalize_timestamp(value: str, version: Version) -> str:
    """Return the timestamp to store (D §4.5; 2.0 §4.2.7): for 2.0 in UTC ("Z") keeping the sub-second digits
    as given (at least milliseconds); for 1.0.3 unchanged."""
    if version is not Version.V2 or _CANONICAL_UTC.fullmatch(value):
        return value  # 1.0.3 keeps it; an already canonical UTC value is its own normal form
    try:
        dt, fraction = syntax.parse_timestamp_parts(value)
        u = dt.astimezone(datetime.UTC)
    except ValueError as exc:
        _fail("$", f"{exc}, got {_got(value)}", "timestamp")
    except OverflowError:
        _fail("$", f"is out of range when converted to UTC, got {_got(value)}", "timestamp")
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{fraction.ljust(3, '0')}Z"
    )
