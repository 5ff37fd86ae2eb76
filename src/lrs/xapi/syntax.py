"""Syntax checks for xAPI value formats (D §2.2, §4.2-4.6): UUID, IRI/IRL, mailto IRI, RFC 5646 language tag,
ISO 8601 timestamp and duration, hex digests, MIME type, statement version.

Pure functions on strings, shared by statement validation and query-parameter parsing. Every regex is compiled
once; the two checks that see the same few values over and over (IRIs, language tags) keep a bounded cache of
values already found valid.
"""

from __future__ import annotations

import datetime
import re

__all__ = [
    "VALID_IRIS",
    "VALID_LANGUAGE_TAGS",
    "is_duration",
    "is_iri",
    "is_irl",
    "is_language_tag",
    "is_mailto_iri",
    "is_mime_type",
    "is_sha1_hex",
    "is_sha2_hex",
    "is_statement_version",
    "is_timestamp",
    "is_uuid",
    "parse_timestamp_parts",
]

_CACHE_MAX = 8192


def _remember(cache: set[str], value: str) -> None:
    """Add a value found valid to a bounded cache (cleared in place when full; only short strings)."""
    if len(value) <= 512:
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache.add(value)


# --- UUID (D §4.4): the standard 8-4-4-4-12 hex string form, any version/variant, either case. --------------

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_uuid(value: str) -> bool:
    """True if value is a UUID in standard string form (D §4.4)."""
    return len(value) == 36 and _UUID.fullmatch(value) is not None


# --- IRIs (D §2.2, §4.3; RFC 3987) --------------------------------------------------------------------------
# Best-effort absolute IRI: a scheme (RFC 3986 §3.1), a colon, a non-empty remainder without whitespace,
# control characters or the characters RFC 3987 never allows (<>"{}|\^`), at most one "#", and "%" only as a
# %XX escape. Non-ASCII characters (ucschar) are allowed anywhere after the scheme.

_IRI_REST = r"[^\s<>\"{}|\\^`\x00-\x1f\x7f-\x9f#]"
_IRI = re.compile(rf"[A-Za-z][A-Za-z0-9+.\-]*:{_IRI_REST}+(?:#{_IRI_REST}*)?")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HIERARCHICAL_IRL = re.compile(r"(?:https?|ftps?|wss?)://[^/?#@\s]*@?[^/?#@\s:]+", re.IGNORECASE | re.ASCII)
_HIERARCHICAL_SCHEME = re.compile(r"(?:https?|ftps?|wss?):", re.IGNORECASE | re.ASCII)
_irl_ok: set[str] = set()
# Values already found valid (bounded; cleared in place when full). Callers may test membership directly as a
# fast path before calling is_iri / is_language_tag.
VALID_IRIS: set[str] = set()


def is_iri(value: str) -> bool:
    """True if value is an absolute IRI with a scheme (RFC 3987 §2.2; D §2.2, §4.3)."""
    if value in VALID_IRIS:
        return True
    if _IRI.fullmatch(value) is None or ("%" in value and _BAD_PERCENT.search(value) is not None):
        return False
    _remember(VALID_IRIS, value)
    return True


def is_irl(value: str) -> bool:
    """True if value is an IRL: an IRI that, for http(s)/ftp(s)/ws(s), has "//" and a host (D §4.3)."""
    if value in _irl_ok:
        return True
    if not is_iri(value):
        return False
    if _HIERARCHICAL_SCHEME.match(value) is not None and _HIERARCHICAL_IRL.match(value) is None:
        return False
    _remember(_irl_ok, value)
    return True


# --- mailto IRI (D §2.4.2.3): "mailto:" + one addr-spec; best effort on the address. ------------------------

_MAILTO = re.compile(r"mailto:[^\s@<>\"(),:;\[\]\\?#]+@(?:[^\s@<>\"(),:;\[\]\\/?#%.]+\.)*[^\s@<>\"(),:;\[\]\\/?#%.]+")


_mailto_ok: set[str] = set()


def is_mailto_iri(value: str) -> bool:
    """True if value is "mailto:" followed by a single email address (D §2.4.2.3 mbox)."""
    if value in _mailto_ok:
        return True
    if not value.startswith("mailto:") or _MAILTO.fullmatch(value) is None or not is_iri(value):
        return False
    _remember(_mailto_ok, value)
    return True


# --- RFC 5646 language tags (D §2.2, §4.2) ------------------------------------------------------------------
# The full "Language-Tag" production (langtag / privateuse / grandfathered), case-insensitive, ASCII only.

_LANGTAG = (
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})"  # language ["-" extlang]
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"  # variant
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"  # extension
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"  # privateuse
)
_GRANDFATHERED = (
    "en-GB-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn|i-tao|i-tay|i-tsu|"
    "sgn-BE-FR|sgn-BE-NL|sgn-CH-DE|art-lojban|cel-gaulish|no-bok|no-nyn|zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang"
)
_LANGUAGE_TAG = re.compile(rf"{_LANGTAG}|x(?:-[a-z0-9]{{1,8}})+|{_GRANDFATHERED}", re.IGNORECASE | re.ASCII)
VALID_LANGUAGE_TAGS: set[str] = set()


def is_language_tag(value: str) -> bool:
    """True if value is a well-formed RFC 5646 language tag (D §2.2 token lengths, §4.2 language maps)."""
    if value in VALID_LANGUAGE_TAGS:
        return True
    if _LANGUAGE_TAG.fullmatch(value) is None:
        return False
    _remember(VALID_LANGUAGE_TAGS, value)
    return True


# --- ISO 8601 durations (D §4.6): ISO 8601:2004 §4.4.3.2 format only (PnYnMnDTnHnMnS or PnW). ---------------
# A decimal fraction is allowed on the lowest-order component present; any precision is accepted (D §4.6
# SHOULD* NOT reject more than 0.01 s precision).

_N = r"[0-9]+(?:[.,][0-9]+)?"
_DURATION = re.compile(
    rf"P(?:{_N}W|(?=[0-9]|T[0-9])(?:{_N}Y)?(?:{_N}M)?(?:{_N}D)?(?:T(?=[0-9])(?:{_N}H)?(?:{_N}M)?(?:{_N}S)?)?)"
)
_FRACTION_LAST = re.compile(r"[0-9]+[.,][0-9]+[YMWDHS]")


_duration_ok: set[str] = set()


def is_duration(value: str) -> bool:
    """True if value is an ISO 8601:2004 §4.4.3.2 duration such as "PT1H0M0.1S" or "P4W" (D §4.6)."""
    if value in _duration_ok:
        return True
    if _DURATION.fullmatch(value) is None:
        return False
    if "." in value or "," in value:
        # only one fraction, and on the last component
        m = _FRACTION_LAST.search(value)
        if value.count(".") + value.count(",") != 1 or m is None or m.end() != len(value):
            return False
    _remember(_duration_ok, value)
    return True


# --- ISO 8601 timestamps (D §4.5) ---------------------------------------------------------------------------
# Calendar date and time of day, extended (2013-05-18T05:32:34.804+00:00) or basic (20130518T053234.804Z)
# format, seconds and fraction optional, offset Z / ±hh:mm / ±hhmm / ±hh or absent (read as UTC). "T" may be
# lower case (RFC 3339 §5.6). A negative zero offset (-00, -0000, -00:00) is rejected: ISO 8601 forbids it and
# RFC 3339 gives it the meaning "offset unknown", and both conformance suites (1.0.3 and 2.0,
# configs/timestamps.js) expect a 400.

_TZ = r"(?:([Zz])|([+-])([0-9]{2})(?::?([0-9]{2}))?)?"
_TS_EXTENDED = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?" + _TZ
)
_TS_BASIC = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})[Tt]([0-9]{2})([0-9]{2})(?:([0-9]{2})(?:[.,]([0-9]+))?)?" + _TZ)
_UTC = datetime.UTC
_offsets: dict[tuple[str, str, str | None], datetime.timezone] = {}


# Fast path for the common RFC 3339 shape (capture-free regex + datetime.fromisoformat, which agrees with the
# full parser on every string this regex admits); anything else goes through the full parser.
_TS_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
_fromisoformat = datetime.datetime.fromisoformat


def parse_timestamp_parts(value: str) -> tuple[datetime.datetime, str]:
    """Parse an ISO 8601 date-time (D §4.5) to (aware datetime, fraction digits); else ValueError."""
    if _TS_RFC3339.fullmatch(value) is not None and not value.endswith("-00:00"):
        try:
            dt = _fromisoformat(value)
        except ValueError:
            pass  # let the full parser explain
        else:
            fraction = value[20 : len(value) - (1 if value[-1] == "Z" else 6)] if value[19] == "." else ""
            return dt, fraction
    return _parse_timestamp_full(value)


def _parse_timestamp_full(value: str) -> tuple[datetime.datetime, str]:
    m = _TS_EXTENDED.fullmatch(value) or _TS_BASIC.fullmatch(value)
    if m is None:
        raise ValueError("is not an ISO 8601 date and time (e.g. 2013-05-18T05:32:34.804Z)")
    year, month, day, hour, minute, second, fraction, _z, sign, off_h, off_m = m.groups()
    if sign is None:
        tz = _UTC
    else:
        key = (sign, off_h, off_m)
        tz_cached = _offsets.get(key)
        if tz_cached is None:
            hours, minutes = int(off_h), int(off_m or "0")
            if hours > 23 or minutes > 59:
                raise ValueError("has a UTC offset out of range")
            if hours == 0 and minutes == 0 and sign == "-":
                raise ValueError("has a negative zero UTC offset (-00, -0000, -00:00); use Z or +00:00")
            delta = datetime.timedelta(hours=hours, minutes=minutes)
            tz_cached = datetime.timezone(-delta if sign == "-" else delta)
            if len(_offsets) < 1024:
                _offsets[key] = tz_cached
        tz = tz_cached
    micro = int((fraction + "00000")[:6]) if fraction else 0
    try:
        dt = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or "0"), micro, tz)
    except ValueError:
        raise ValueError("is not a valid calendar date and time") from None
    return dt, fraction or ""


def is_timestamp(value: str) -> bool:
    """True if value is an ISO 8601 timestamp acceptable to the LRS (D §4.5)."""
    try:
        parse_timestamp_parts(value)
    except ValueError:
        return False
    return True


# --- Hex digests (D §2.4.2.3 mbox_sha1sum, §2.4.11 sha2) ----------------------------------------------------

_SHA1 = re.compile(r"[0-9a-fA-F]{40}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_SHA2_LENGTHS = frozenset({56, 64, 96, 128})  # SHA-224, -256, -384, -512


def is_sha1_hex(value: str) -> bool:
    """True if value is a hex-encoded SHA-1 digest, 40 hex digits (D §2.4.2.3 mbox_sha1sum)."""
    return len(value) == 40 and _SHA1.fullmatch(value) is not None


def is_sha2_hex(value: str) -> bool:
    """True if value is a hex-encoded SHA-2 digest: SHA-224/256/384/512 (D §2.4.11 sha2)."""
    return len(value) in _SHA2_LENGTHS and _HEX.fullmatch(value) is not None


# --- Internet media type (D §2.4.11 contentType; RFC 2045 §5.1) ---------------------------------------------

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z\-]+"
_MIME = re.compile(rf"{_TOKEN}/{_TOKEN}(?:[ \t]*;[ \t]*{_TOKEN}=(?:{_TOKEN}|\"(?:[^\"\\\r\n]|\\.)*\"))*[ \t]*;?[ \t]*")


def is_mime_type(value: str) -> bool:
    """True if value is an Internet media type "type/subtype[; params]" (D §2.4.11, RFC 2045 §5.1)."""
    return _MIME.fullmatch(value) is not None


# --- Statement version (D §2.4.10; 2.0: IEEE 9274.1.1 §4.2.4.3) ---------------------------------------------

_VERSION_V1 = re.compile(r"1\.0(?:\.[0-9]+)?")
_VERSION_V2 = re.compile(r"(?:1\.0|2\.0)(?:\.[0-9]+)?")


def is_statement_version(value: str, *, allow_2_0: bool) -> bool:
    """True if value is an accepted statement "version": "1.0" or "1.0.x", plus "2.0"/"2.0.x" when allow_2_0
    (D §2.4.10; 2.0 §4.2.4.3)."""
    return (_VERSION_V2 if allow_2_0 else _VERSION_V1).fullmatch(value) is not None
