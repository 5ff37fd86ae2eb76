"""Tables for the value-format checks in lrs.xapi.syntax (D §2.2, §4.2-4.6; RFC 3987, RFC 5646, ISO 8601)."""

from __future__ import annotations

import datetime

import pytest

from lrs.xapi import syntax


def _table(valid: list[str], invalid: list[str]) -> list[tuple[str, bool]]:
    return [(v, True) for v in valid] + [(v, False) for v in invalid]


# D §4.4: standard string form, any version/variant, either case.
UUIDS = _table(
    [
        "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "FD41C918-B88B-4B20-A0A5-A4C32391AAA0",
        "00000000-0000-0000-0000-000000000000",
    ],
    [
        "AA97B177-9383-4934-8543-0F91A7A028368",
        "MA97B177-9383-4934-8543-0F91A7A02836",
        "",
        "fd41c918b88b4b20a0a5a4c32391aaa0",
        "{fd41c918-b88b-4b20-a0a5-a4c32391aaa0}",
        "urn:uuid:fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "fd41c918-b88b-4b20-a0a5-a4c32391aaa0\n",
        "fd41c918-b88b-4b20-a0a5-a4c32391aa\u0660\u0660",
    ],  # Arabic-Indic digits are not hex digits
)

# D §2.2 (scheme required), §4.3; RFC 3987: best effort, must not over-reject.
IRIS = _table(
    [
        "http://example.com/xapi/verbs#sent",
        "https://example.com/a/b?c=d&e=f#g/h?i",
        "urn:uuid:1234",
        "mailto:a@example.com",
        "http://例え.テスト/動詞",
        "http://example.com/%E2%9C%93",
        "tag:example.com,2024:x",
        "http://[::1]:8080/p",
        "x-custom+scheme.v1:thing",
        "http://example.com/path/../x",
    ],
    [
        "",
        "example.com/path",
        "www.example.com",
        "ab=c://should.fail.com",
        "http:",
        "1http://example.com",
        "http://example.com/a b",
        "http://example.com/<x>",
        "http://example.com/%zz",
        "http://example.com/#a#b",
        "http://example.com/\x00",
        ":no-scheme",
        "http://example.com/\u0085",
    ],
)

# D §4.3: IRLs additionally need "//" and a host for hierarchical schemes.
IRLS = _table(
    [
        "http://www.example.com",
        "https://user@example.com:8443/x",
        "ftp://files.example.com/f.txt",
        "urn:example:locator",
    ],
    ["http:/example.com", "https://", "http:example.com", "homePage.com/testUser", "https://?q"],
)

# D §2.4.2.3 mbox.
MAILTOS = _table(
    ["mailto:xapi@adlnet.gov", "mailto:first.last+tag@sub.example.co.uk", "mailto:ünï@exämple.de"],
    [
        "xapi@adlnet.gov",
        "mailto:should.fail.com",
        "http://should.fail.com",
        "mailto:",
        "mailto:@example.com",
        "mailto:a@",
        "mailto:a@b@c",
        "mailto:a b@example.com",
        "MAILTO:xapi@adlnet.gov",
        "mailto:a@example.com?x=1",
        "mailto:a@example..com",
        "mailto:a@.example.com",
        "mailto:a@example.com,b@example.com",
    ],
)

# D §2.2, §4.2; RFC 5646 §2.1 (Language-Tag ABNF incl. grandfathered and private use).
LANGUAGE_TAGS = _table(
    [
        "en",
        "en-US",
        "EN-us",
        "und",
        "tlh",
        "zh-Hant-TW",
        "es-419",
        "de-CH-1901",
        "sl-rozaj-biske",
        "en-US-x-twain",
        "x-whatever",
        "i-klingon",
        "sgn-BE-FR",
        "zh-min-nan",
        "en-a-bbb-x-a-ccc",
        "zh-yue-HK",
        "abcdefgh",
        "qaa-Qaaa-QM-x-southern",
    ],
    [
        "",
        "a12345678",
        "something",
        "en_US",
        "en-",
        "-en",
        "e",
        "en--US",
        "abcdefghi",
        "en-US-",
        "x",
        "x-",
        "en-ÜS",
        "en-a",
        "12",
        "en-x-123456789",
        "en US",
    ],
)

# D §4.6: ISO 8601:2004 §4.4.3.2 only; any sub-second precision.
DURATIONS = _table(
    [
        "PT1H0M0S",
        "PT4H35M59.14S",
        "PT16559.14S",
        "P3Y1M29DT4H35M59.14S",
        "P3Y",
        "P4W",
        "P1DT12H36M0.12567S",
        "PT0S",
        "P0D",
        "PT0.5H",
        "P1,5D",
        "P1M",
        "PT1M",
    ],
    [
        "",
        "P",
        "PT",
        "P1DT",
        "P4W1D",
        "PA1H0M0S",
        "P0003-06-04T12:30:05",
        "1H",
        "-PT1H",
        "PT1.5H30M",
        "PT1H.5M",
        "P1.5Y2M",
        "PT1.2.3S",
        "pt1h",
        "P1H",
        "PT1D",
        "P1Y1Y",
        "PT\u0661S",
    ],
)

# D §4.5; suite timestamps.js (both versions reject negative-zero offsets).
TIMESTAMPS = _table(
    [
        "2013-05-18T05:32:34.804+00:00",
        "2013-05-18T05:32:34.804Z",
        "2013-05-18T05:32:34Z",
        "2013-05-18T05:32:34",
        "2013-05-18T05:32Z",
        "2013-05-18T05:32:34+0530",
        "2013-05-18T05:32:34-08",
        "2013-05-18t05:32:34z",
        "20130518T053234Z",
        "20130518T053234.5+0100",
        "2013-05-18T05:32:34,804Z",
        "2008-09-15T15:53:00.601+00:00",
        "2013-05-18T05:32:34.123456789Z",
        "2999-12-31T23:59:59.999Z",
        "2013-05-18T05:32:34+23:59",
    ],
    [
        "",
        "should fail",
        "01/011/2015",
        "2013-05-18",
        "2013-05-18 05:32:34Z",
        "2008-09-15T15:53:00.601-00",
        "2008-09-15T15:53:00.601-0000",
        "2008-09-15T15:53:00.601-00:00",
        "2013-02-30T00:00:00Z",
        "2013-05-18T24:00:00Z",
        "2013-05-18T05:32:60Z",
        "2013-05-18T05:32:34+24:00",
        "2013-05-18T05:32:34+00:60",
        "0000-01-01T00:00:00Z",
        "2013-05-18T05:32:34.Z",
        "2013-W20-6T05:32:34Z",
        "2013-05-18T05:32:34+05:30:00",
        "2013-05-18T05:32:34 +05:30",
        "\u0661\u0662\u0663\u0664-05-18T05:32:34Z",
    ],  # last: Arabic-Indic digits
)

SHA1 = _table(
    ["cd9b00a5611f94eaa7b1661edab976068e364975", "CD9B00A5611F94EAA7B1661EDAB976068E364975"],
    [
        "",
        "cd9b00a5611f94eaa7b1661edab976068e36497",
        "cd9b00a5611f94eaa7b1661edab976068e364975a",
        "zd9b00a5611f94eaa7b1661edab976068e364975",
    ],
)

SHA2 = _table(
    ["495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a", "a" * 56, "B" * 96, "0" * 128],
    ["", "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848", "a" * 40, "g" * 64, "a" * 129],
)

MIME_TYPES = _table(
    [
        "text/plain",
        "text/plain; charset=ascii",
        "application/octet-stream",
        "image/svg+xml",
        'multipart/mixed; boundary="a b"',
        "text/plain;charset=UTF-8",
        "application/vnd.ms-excel",
    ],
    ["", "text", "text/", "/plain", "text/plain; charset", "text plain", "text/pl ain"],
)


@pytest.mark.parametrize(("value", "expected"), UUIDS)
def test_is_uuid(value: str, expected: bool) -> None:
    assert syntax.is_uuid(value) is expected


@pytest.mark.parametrize(("value", "expected"), IRIS)
def test_is_iri(value: str, expected: bool) -> None:
    assert syntax.is_iri(value) is expected
    assert syntax.is_iri(value) is expected  # second call goes through the cache


@pytest.mark.parametrize(("value", "expected"), IRLS)
def test_is_irl(value: str, expected: bool) -> None:
    assert syntax.is_irl(value) is expected


@pytest.mark.parametrize(("value", "expected"), MAILTOS)
def test_is_mailto_iri(value: str, expected: bool) -> None:
    assert syntax.is_mailto_iri(value) is expected


@pytest.mark.parametrize(("value", "expected"), LANGUAGE_TAGS)
def test_is_language_tag(value: str, expected: bool) -> None:
    assert syntax.is_language_tag(value) is expected
    assert syntax.is_language_tag(value) is expected


@pytest.mark.parametrize(("value", "expected"), DURATIONS)
def test_is_duration(value: str, expected: bool) -> None:
    assert syntax.is_duration(value) is expected


@pytest.mark.parametrize(("value", "expected"), TIMESTAMPS)
def test_is_timestamp(value: str, expected: bool) -> None:
    assert syntax.is_timestamp(value) is expected


@pytest.mark.parametrize(("value", "expected"), SHA1)
def test_is_sha1_hex(value: str, expected: bool) -> None:
    assert syntax.is_sha1_hex(value) is expected


@pytest.mark.parametrize(("value", "expected"), SHA2)
def test_is_sha2_hex(value: str, expected: bool) -> None:
    assert syntax.is_sha2_hex(value) is expected


@pytest.mark.parametrize(("value", "expected"), MIME_TYPES)
def test_is_mime_type(value: str, expected: bool) -> None:
    assert syntax.is_mime_type(value) is expected


@pytest.mark.parametrize(
    ("value", "v1", "v2"),
    [
        ("1.0", True, True),
        ("1.0.0", True, True),
        ("1.0.3", True, True),
        ("1.0.19", True, True),
        ("2.0", False, True),
        ("2.0.0", False, True),
        ("1.1.0", False, False),
        ("0.9.9", False, False),
        ("1", False, False),
        ("1.0.", False, False),
        ("1.0.3-beta", False, False),
        ("3.0.0", False, False),
        ("", False, False),
    ],
)
def test_is_statement_version(value: str, v1: bool, v2: bool) -> None:
    """D §2.4.10 (1.0.x); 2.0 §4.2.4.3 (1.0.x and 2.0.x)."""
    assert syntax.is_statement_version(value, allow_2_0=False) is v1
    assert syntax.is_statement_version(value, allow_2_0=True) is v2


def test_parse_timestamp_parts_fast_and_full_paths_agree() -> None:
    """The RFC 3339 fast path and the full parser give the same instant and fraction digits."""
    for value in ["2013-05-18T05:32:34.804+05:30", "2013-05-18T05:32:34Z", "2013-05-18T05:32:34.123456789-07:00"]:
        assert syntax.parse_timestamp_parts(value) == syntax._parse_timestamp_full(value)
    dt, fraction = syntax.parse_timestamp_parts("2013-05-18T05:32:34.123456789-07:00")
    assert fraction == "123456789"
    assert dt.utcoffset() == datetime.timedelta(hours=-7)
    assert dt.microsecond == 123456


def test_parse_timestamp_parts_reasons() -> None:
    with pytest.raises(ValueError, match="negative zero"):
        syntax.parse_timestamp_parts("2008-09-15T15:53:00.601-00:00")
    with pytest.raises(ValueError, match="calendar"):
        syntax.parse_timestamp_parts("2013-02-29T00:00:00Z")
    with pytest.raises(ValueError, match="offset out of range"):
        syntax.parse_timestamp_parts("2013-05-18T05:32:34+00:60")
    with pytest.raises(ValueError, match="ISO 8601"):
        syntax.parse_timestamp_parts("yesterday")


def test_caches_stay_bounded() -> None:
    """The valid-value caches never grow past their bound."""
    for i in range(syntax._CACHE_MAX + 10):
        syntax.is_iri(f"urn:test:{i}")
    assert len(syntax.VALID_IRIS) <= syntax._CACHE_MAX
    assert syntax.is_iri("urn:test:again")
