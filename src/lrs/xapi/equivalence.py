"""Statement comparison (xAPI 1.0.3 Data §2.3.1 "Statement Comparison Requirements"; 2.0 §4.2.7).

Used when a statement arrives with an id that is already stored (C §2.1.1-2: 409 only if they differ)
and when a signed statement is checked against its JWS payload (D §2.6).

Two statements are *equivalent* when every difference between them could have been caused by an
exception to Statement Immutability (D §2.3.1); every other serialisation difference counts. Concretely:

* LRS-assigned properties: ``authority``, ``stored`` and ``version`` are ignored; ``id`` and ``timestamp``
  are ignored when the incoming statement lacks them (the LRS assigned them).
* Timestamps (D §4.5): compared as instants, so offsets/``Z``/trailing zeros do not matter; a timestamp
  the LRS truncated or rounded to >= 3 fractional digits (D §4.5 "MAY be truncated or rounded") also equals
  the finer one it came from. A timestamp without offset is read as UTC; one that cannot be parsed is
  compared as a string.
* Activity ``definition`` (anywhere an Activity appears) and Verb ``display`` are ignored.
* Group ``member`` is compared as an unordered multiset.
* ``attachments`` are ignored entirely, at every level: D §2.3.1 says Attachments "are not part of
  Statements" (the ADL suite's signer likewise drops them from the signed payload).
* Case-insensitive parts (D §2.3.1 "Case sensitivity", §2.4.2.3, §4.2): the ``mailto:`` scheme and the
  domain of ``mbox``; ``mbox_sha1sum`` hex; UUIDs (statement id, registration, StatementRef id);
  the ``context.language`` tag. IRIs (verb id, activity id, openid, account homePage, extension keys,
  relevantTypes) that differ as strings are compared after RFC 3987 §5.3.2 syntax-based normalisation,
  the only normalisation D §3.1 allows (scheme/host case, percent-encoding, NFC, dot segments).
* ``contextActivities``: a single Activity equals a one-element array holding it (the LRS returns arrays,
  D §2.4.6.2). Array order is otherwise significant.
* ``result.duration`` is a string (D §2.3.1), but seconds precision beyond 0.01 s is cut off before
  comparing: D §4.6 (1.0.3) says so as SHOULD*, and xAPI 2.0 as SHALL; the LRS MAY truncate on store.
  Units are never converted (``PT60S`` differs from ``PT1M``).
* Everything else must be equal exactly; numbers by value (``1 == 1.0``) but never ``true == 1``.
  ``objectType`` is compared as written (``{"objectType": "Agent", ...}`` differs from an Agent without it).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from typing import Any

from lrs.xapi.version import Version

__all__ = ["equivalent"]

_MISSING: Any = object()

# Properties the LRS may set or change, and attachments (not part of the statement), at any level.
_ALWAYS_IGNORED = frozenset({"authority", "stored", "version", "attachments"})
# Properties the LRS assigns when the client omits them.
_ASSIGNED_IF_ABSENT = frozenset({"id", "timestamp"})


def equivalent(stored: dict[str, Any], incoming: dict[str, Any], version: Version) -> bool:
    """True when `incoming` is the same statement as `stored` under D §2.3.1 (so re-posting it is not a 409).

    `version` is the request's xAPI version; the rules above apply to both 1.0.3 and 2.0 (see the module
    docstring for the duration decision), so it is accepted for API stability only.
    """
    return _statement_eq(stored, incoming, top=True)


# --- generic JSON ---------------------------------------------------------------------------------


def _json_eq(a: Any, b: Any) -> bool:
    """Exact JSON equality, numbers by value, booleans never equal to numbers."""
    if a is b:
        return True
    ta, tb = type(a), type(b)
    if ta is dict:
        if tb is not dict or len(a) != len(b):
            return False
        for k, va in a.items():
            vb = b.get(k, _MISSING)
            if vb is _MISSING or not _json_eq(va, vb):
                return False
        return True
    if ta is list:
        return tb is list and len(a) == len(b) and all(_json_eq(x, y) for x, y in zip(a, b, strict=True))
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta in (int, float):
        return tb in (int, float) and bool(a == b)
    return ta is tb and bool(a == b)


def _fields_eq(
    a: Any, b: Any, fields: dict[str, Callable[[Any, Any], bool]], ignored: frozenset[str] = frozenset()
) -> bool:
    """Compare two objects key by key with a per-key comparator (default exact JSON)."""
    if type(a) is not dict or type(b) is not dict:
        return _json_eq(a, b)
    for k in a.keys() | b.keys():
        if k in ignored:
            continue
        va, vb = a.get(k, _MISSING), b.get(k, _MISSING)
        if va is _MISSING or vb is _MISSING:
            return False
        if not fields.get(k, _json_eq)(va, vb):
            return False
    return True


def _list_eq(item: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """An ordered-array comparator applying `item` pairwise."""

    def eq(a: Any, b: Any) -> bool:
        if type(a) is not list or type(b) is not list:
            return _json_eq(a, b)
        return len(a) == len(b) and all(item(x, y) for x, y in zip(a, b, strict=True))

    return eq


# --- scalar kinds ---------------------------------------------------------------------------------


def _ci_eq(a: Any, b: Any) -> bool:
    """Case-insensitive string equality (UUIDs, language tags, hex digests)."""
    if type(a) is str and type(b) is str:
        return a == b or a.lower() == b.lower()
    return _json_eq(a, b)


_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):(?://([^/?#]*))?([^?#]*)(\?[^#]*)?(#.*)?$")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _pct(m: re.Match[str]) -> str:
    ch = chr(int(m.group(1), 16))
    return ch if ch in _UNRESERVED else "%" + m.group(1).upper()


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4."""
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    return "/".join(out)


def _norm_iri(iri: str) -> str:
    """RFC 3987 §5.3.2 syntax-based normalisation (the only kind D §3.1 allows)."""
    s = _PCT.sub(_pct, unicodedata.normalize("NFC", iri))
    m = _IRI.match(s)
    if m is None:
        return s
    scheme, authority, path, query, fragment = m.groups()
    out = scheme.lower() + ":"
    if authority is not None:
        userinfo, at, hostport = authority.rpartition("@")
        out += "//" + userinfo + at + hostport.lower()
    if path.startswith("/"):
        path = _remove_dot_segments(path)
    return out + path + (query or "") + (fragment or "")


def _iri_eq(a: Any, b: Any) -> bool:
    if type(a) is str and type(b) is str:
        return a == b or _norm_iri(a) == _norm_iri(b)
    return _json_eq(a, b)


def _norm_mbox(mbox: str) -> str:
    """mailto scheme and e-mail domain are case-insensitive (D §2.3.1, §2.4.2.3)."""
    if mbox[:7].lower() == "mailto:":
        mbox = "mailto:" + mbox[7:]
    local, at, domain = mbox.rpartition("@")
    return local + at + domain.lower() if at else mbox


def _mbox_eq(a: Any, b: Any) -> bool:
    if type(a) is str and type(b) is str:
        return a == b or _norm_mbox(a) == _norm_mbox(b)
    return _json_eq(a, b)


_TS = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$"
)


def _parse_ts(ts: str) -> tuple[int, str] | None:
    """ISO 8601 timestamp -> (UTC epoch seconds, fractional digits as written); None if not parseable."""
    m = _TS.match(ts)
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, _z, sign, oh, om = m.groups()
    secs = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(s or 0), 0, 0, 0))
    if sign is not None:
        offset = int(oh) * 3600 + int(om or 0) * 60
        secs += -offset if sign == "+" else offset
    return secs, frac or ""


def _units(secs: int, frac: str, digits: int, rounded: bool) -> int:
    """The instant in units of 10**-digits, truncated or rounded half-up."""
    padded = frac.ljust(digits + 1, "0")
    value: int = secs * 10**digits + int(padded[:digits] or "0")
    if rounded and padded[digits] >= "5":
        value += 1
    return value


def _timestamp_eq(a: Any, b: Any) -> bool:
    """Same instant (D §2.3.1 timestamp serialisation), allowing LRS truncation/rounding (D §4.5)."""
    if type(a) is not str or type(b) is not str:
        return _json_eq(a, b)
    if a == b:
        return True
    pa, pb = _parse_ts(a), _parse_ts(b)
    if pa is None or pb is None:
        return False
    (sa, fa), (sb, fb) = pa, pb
    if sa == sb and fa.rstrip("0") == fb.rstrip("0"):
        return True
    coarse, fine = (pa, pb) if len(fa) < len(fb) else (pb, pa)
    digits = len(coarse[1])
    if digits < 3 or digits == len(fine[1]):
        return False
    target = _units(coarse[0], coarse[1], digits, rounded=False)
    return target in (_units(fine[0], fine[1], digits, False), _units(fine[0], fine[1], digits, True))


_DURATION_FRACTION = re.compile(r"([.,]\d{2})\d+S$")


def _duration_eq(a: Any, b: Any) -> bool:
    """Durations are strings (D §2.3.1) with seconds beyond 0.01 s precision ignored (D §4.6, 2.0 §4.2.7)."""
    if type(a) is not str or type(b) is not str:
        return _json_eq(a, b)
    return a == b or _DURATION_FRACTION.sub(r"\1S", a) == _DURATION_FRACTION.sub(r"\1S", b)


def _extensions_eq(a: Any, b: Any) -> bool:
    """Extension values exactly; keys are IRIs (normalised only when the key sets differ)."""
    if type(a) is not dict or type(b) is not dict:
        return _json_eq(a, b)
    if len(a) != len(b):
        return False
    if a.keys() != b.keys():
        na = {_norm_iri(k): v for k, v in a.items()}
        nb = {_norm_iri(k): v for k, v in b.items()}
        return len(na) == len(a) and len(nb) == len(b) and _json_eq(na, nb)
    return _json_eq(a, b)


# --- agents and groups ----------------------------------------------------------------------------

_ACCOUNT_FIELDS: dict[str, Callable[[Any, Any], bool]] = {"homePage": _iri_eq}


def _member_key(agent: Any) -> Any:
    """A hashable form of a group member in which equivalent agents coincide."""
    if type(agent) is not dict:
        return ("?", repr(agent))
    items: list[tuple[str, Any]] = []
    for k, v in agent.items():
        if type(v) is str:
            if k == "mbox":
                v = _norm_mbox(v)
            elif k == "mbox_sha1sum":
                v = v.lower()
            elif k == "openid":
                v = _norm_iri(v)
        elif k == "account" and type(v) is dict:
            v = tuple(
                sorted(
                    (ak, _norm_iri(av) if ak == "homePage" and type(av) is str else repr(av)) for ak, av in v.items()
                )
            )
        else:
            v = repr(v)
        items.append((k, v))
    return tuple(sorted(items))


def _members_eq(a: Any, b: Any) -> bool:
    """Group members are an unordered list (D §2.3.1 "Serialization of un-ordered lists")."""
    if type(a) is not list or type(b) is not list:
        return _json_eq(a, b)
    if len(a) != len(b):
        return False
    if all(_actor_eq(x, y) for x, y in zip(a, b, strict=True)):
        return True
    return Counter(map(_member_key, a)) == Counter(map(_member_key, b))


def _actor_eq(a: Any, b: Any) -> bool:
    return _fields_eq(a, b, _ACTOR_FIELDS)


_ACTOR_FIELDS: dict[str, Callable[[Any, Any], bool]] = {
    "mbox": _mbox_eq,
    "mbox_sha1sum": _ci_eq,
    "openid": _iri_eq,
    "account": lambda a, b: _fields_eq(a, b, _ACCOUNT_FIELDS),
    "member": _members_eq,
}


# --- verbs, activities, objects -------------------------------------------------------------------

_VERB_FIELDS: dict[str, Callable[[Any, Any], bool]] = {"id": _iri_eq}
_NO_DISPLAY = frozenset({"display"})


def _verb_eq(a: Any, b: Any) -> bool:
    return _fields_eq(a, b, _VERB_FIELDS, _NO_DISPLAY)


_ACTIVITY_FIELDS: dict[str, Callable[[Any, Any], bool]] = {"id": _iri_eq}
_NO_DEFINITION = frozenset({"definition"})


def _activity_eq(a: Any, b: Any) -> bool:
    """Activity definitions are not part of the statement (D §2.3.1)."""
    return _fields_eq(a, b, _ACTIVITY_FIELDS, _NO_DEFINITION)


_STATEMENT_REF_FIELDS: dict[str, Callable[[Any, Any], bool]] = {"id": _ci_eq}


def _statement_ref_eq(a: Any, b: Any) -> bool:
    return _fields_eq(a, b, _STATEMENT_REF_FIELDS)


def _object_eq(a: Any, b: Any) -> bool:
    if type(a) is not dict or type(b) is not dict:
        return _json_eq(a, b)
    kind = a.get("objectType", "Activity")
    if b.get("objectType", "Activity") != kind:
        return False
    if kind == "Activity":
        return _activity_eq(a, b)
    if kind in ("Agent", "Group"):
        return _actor_eq(a, b)
    if kind == "StatementRef":
        return _statement_ref_eq(a, b)
    if kind == "SubStatement":
        return _statement_eq(a, b, top=False)
    return _json_eq(a, b)


# --- result and context ---------------------------------------------------------------------------

_RESULT_FIELDS: dict[str, Callable[[Any, Any], bool]] = {
    "duration": _duration_eq,
    "extensions": _extensions_eq,
}


def _as_list(v: Any) -> Any:
    return [v] if type(v) is dict else v


def _context_activities_eq(a: Any, b: Any) -> bool:
    """Each value may be one Activity or an array of them; one Activity == [that Activity] (D §2.4.6.2)."""
    if type(a) is not dict or type(b) is not dict:
        return _json_eq(a, b)
    if a.keys() != b.keys():
        return False
    return all(_ACTIVITY_LIST_EQ(_as_list(v), _as_list(b[k])) for k, v in a.items())


_ACTIVITY_LIST_EQ = _list_eq(_activity_eq)
_RELEVANT_TYPES_EQ = _list_eq(_iri_eq)
_CONTEXT_AGENT_FIELDS: dict[str, Callable[[Any, Any], bool]] = {
    "agent": _actor_eq,
    "relevantTypes": _RELEVANT_TYPES_EQ,
}
_CONTEXT_GROUP_FIELDS: dict[str, Callable[[Any, Any], bool]] = {
    "group": _actor_eq,
    "relevantTypes": _RELEVANT_TYPES_EQ,
}

_CONTEXT_FIELDS: dict[str, Callable[[Any, Any], bool]] = {
    "registration": _ci_eq,
    "instructor": _actor_eq,
    "team": _actor_eq,
    "contextActivities": _context_activities_eq,
    "language": _ci_eq,
    "statement": _statement_ref_eq,
    "extensions": _extensions_eq,
    "contextAgents": _list_eq(lambda a, b: _fields_eq(a, b, _CONTEXT_AGENT_FIELDS)),
    "contextGroups": _list_eq(lambda a, b: _fields_eq(a, b, _CONTEXT_GROUP_FIELDS)),
}


# --- statements -----------------------------------------------------------------------------------

_STATEMENT_FIELDS: dict[str, Callable[[Any, Any], bool]] = {
    "id": _ci_eq,
    "actor": _actor_eq,
    "verb": _verb_eq,
    "object": _object_eq,
    "result": lambda a, b: _fields_eq(a, b, _RESULT_FIELDS),
    "context": lambda a, b: _fields_eq(a, b, _CONTEXT_FIELDS),
    "timestamp": _timestamp_eq,
}


def _statement_eq(a: Any, b: Any, *, top: bool) -> bool:
    """A Statement (top) or SubStatement; `a` is the stored one, `b` the incoming one."""
    if type(a) is not dict or type(b) is not dict:
        return _json_eq(a, b)
    for k in a.keys() | b.keys():
        if k in _ALWAYS_IGNORED:
            continue
        vb = b.get(k, _MISSING)
        if vb is _MISSING and top and k in _ASSIGNED_IF_ABSENT:
            continue
        va = a.get(k, _MISSING)
        if va is _MISSING or vb is _MISSING:
            return False
        if not _STATEMENT_FIELDS.get(k, _json_eq)(va, vb):
            return False
    return True
