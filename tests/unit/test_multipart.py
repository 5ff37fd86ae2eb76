"""The multipart/mixed parser, reader, attachment matching and writer (C §1.5.2, RFC 2046)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson
import pytest

from lrs.errors import BadRequest, PayloadTooLarge
from lrs.http.multipart import (
    MultipartWriter,
    Outgoing,
    Parser,
    PartData,
    PartEnd,
    PartStart,
    boundary_of,
    check_attachments,
    content_type_params,
    read_statements,
)
from lrs.xapi.signature import SIGNATURE_USAGE

B = "-------314159265358979323846"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse(body: bytes, boundary: str = B, step: int | None = None) -> list[tuple[dict[str, str], bytes]]:
    """Run the parser over `body` (in `step`-byte pieces) and collect (headers, content) per part."""
    parser = Parser(boundary)
    events = []
    pieces = [body] if step is None else [body[i : i + step] for i in range(0, len(body), step)]
    for piece in pieces:
        events += parser.feed(piece)
    events += parser.close()
    parts: list[tuple[dict[str, str], bytes]] = []
    for event in events:
        if isinstance(event, PartStart):
            parts.append((event.headers, b""))
        elif isinstance(event, PartData):
            parts[-1] = (parts[-1][0], parts[-1][1] + event.data)
        else:
            assert isinstance(event, PartEnd)
    return parts


def body_of(*parts: tuple[list[str], bytes], boundary: str = B, sep: str = ": ", tail: str = "\r\n") -> bytes:
    """A multipart body from (header lines, content) pairs."""
    out = b""
    for headers, content in parts:
        out += f"--{boundary}\r\n".encode()
        out += "".join(h.replace(": ", sep, 1) + "\r\n" for h in headers).encode() + b"\r\n" + content + b"\r\n"
    return out + f"--{boundary}--{tail}".encode()


SIMPLE = body_of((["Content-Type: application/json"], b"{}"), (["X-Experience-API-Hash: ab"], b"here\r\nis data"))


def test_parses_parts_and_headers() -> None:
    parts = parse(SIMPLE)
    assert parts == [
        ({"content-type": "application/json"}, b"{}"),
        ({"x-experience-api-hash": "ab"}, b"here\r\nis data"),
    ]


@pytest.mark.parametrize("step", [1, 2, 3, 7, 31, 1000])
def test_any_chunking_gives_the_same_parts(step: int) -> None:
    assert parse(SIMPLE, step=step) == parse(SIMPLE)


def test_suite_shapes_preamble_no_space_no_trailing_crlf() -> None:
    body = b"\r\n" + body_of((["Content-Type: application/json"], b'{"a":1}'), sep=":", tail="")
    assert parse(body) == [({"content-type": "application/json"}, b'{"a":1}')]


def test_epilogue_and_transport_padding_and_folded_headers() -> None:
    body = (
        f"preamble text\r\n--{B}  \r\nContent-Type: text/plain;\r\n charset=ascii\r\n\r\nx\r\n--{B}--\r\nepilogue"
    ).encode()
    assert parse(body) == [({"content-type": "text/plain; charset=ascii"}, b"x")]


def test_part_without_headers_and_empty_content() -> None:
    body = f"--{B}\r\n\r\n\r\n--{B}--".encode()
    assert parse(body) == [({}, b"")]


def test_dashes_in_content_that_are_not_a_delimiter() -> None:
    content = f"--{B[:-1]}\r\n-- {B}".encode()
    assert parse(body_of(([], content)))[0][1] == content


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"no delimiter here", "no delimiter line"),
        (f"--{B}\r\nContent-Type: a/b\r\n\r\nabc".encode(), "before its closing delimiter"),
        (f"--{B}\r\nno colon line\r\n\r\nabc\r\n--{B}--".encode(), "malformed header line"),
        (f"--{B}junk\r\n\r\nabc\r\n--{B}--".encode(), "extra characters after the boundary"),
    ],
)
def test_malformed_bodies(body: bytes, words: str) -> None:
    with pytest.raises(BadRequest, match=words):
        parse(body)


def test_overlong_headers() -> None:
    with pytest.raises(BadRequest, match="headers"):
        parse(f"--{B}\r\nX-A: {'a' * 20000}".encode())


def test_content_type_params() -> None:
    assert content_type_params('multipart/mixed; boundary="a b;c"; Charset=x') == {"boundary": "a b;c", "charset": "x"}
    assert boundary_of("multipart/mixed;BOUNDARY=abc") == "abc"
    assert boundary_of(f"multipart/mixed; boundary={B}") == B
    with pytest.raises(BadRequest, match="boundary parameter"):
        boundary_of("multipart/mixed;")
    with pytest.raises(BadRequest, match="boundary parameter"):
        boundary_of("multipart/mixed; boundary=")


# --- read_statements ---------------------------------------------------------------------------------------------


async def stream(body: bytes, step: int) -> AsyncIterator[bytes]:
    for i in range(0, len(body), step):
        yield body[i : i + step]


async def read(body: bytes, max_json: int = 10_000, max_attachments: int = 10_000_000, step: int = 5) -> Any:
    return await read_statements(
        stream(body, step), f"multipart/mixed; boundary={B}", max_json=max_json, max_attachments=max_attachments
    )


def attachment_part(data: bytes, hash_: str | None = None, cte: str | None = "binary") -> tuple[list[str], bytes]:
    headers = ["Content-Type: text/plain"]
    if cte is not None:
        headers.append(f"Content-Transfer-Encoding: {cte}")
    headers.append(f"X-Experience-API-Hash: {hash_ or sha(data)}")
    return headers, data


JSON_PART = (["Content-Type: application/json; charset=utf-8"], b'[{"a": 1}]')


async def test_reads_statements_and_spools_verified_parts() -> None:
    big = bytes(range(256)) * 8000  # 2 MB: rolls over to disk
    upload = await read(body_of(JSON_PART, attachment_part(b"one"), attachment_part(big)))
    try:
        assert upload.statements == [{"a": 1}]
        assert set(upload.parts) == {sha(b"one"), sha(big)}
        part = upload.parts[sha(big)]
        assert part.length == len(big) and part.content_type == "text/plain"
        assert b"".join(part.chunks(100_000)) == big
        assert upload.parts[sha(b"one")].read(10) == b"one"
        with pytest.raises(BadRequest, match="larger than"):
            part.read(10)
    finally:
        upload.close()


@pytest.mark.parametrize("step", [1, 64, 1 << 30])
async def test_chunking_does_not_matter(step: int) -> None:
    upload = await read(body_of(JSON_PART, attachment_part(b"one"), attachment_part(b"two")), step=step)
    assert upload.statements == [{"a": 1}] and set(upload.parts) == {sha(b"one"), sha(b"two")}
    assert [p.read(10) for p in upload.parts.values()] == [b"one", b"two"]
    upload.close()


async def test_sha512_and_uppercase_hashes_and_duplicates() -> None:
    digest = hashlib.sha512(b"x").hexdigest().upper()
    upload = await read(body_of(JSON_PART, attachment_part(b"x", digest), attachment_part(b"x", digest)))
    assert list(upload.parts) == [digest.lower()]
    upload.close()


async def test_missing_transfer_encoding_is_binary() -> None:
    upload = await read(body_of(JSON_PART, attachment_part(b"x", cte=None)))
    assert list(upload.parts) == [sha(b"x")]
    upload.close()


@pytest.mark.parametrize(
    ("parts", "words"),
    [
        ([(["Content-Type: text/plain"], b"[]")], "must be the statements with Content-Type application/json"),
        ([([], b"[]")], "got 'none'"),
        ([JSON_PART, JSON_PART], "second application/json part"),
        ([JSON_PART, (["Content-Type: text/plain", "Content-Transfer-Encoding: binary"], b"x")], "no X-Experience"),
        ([JSON_PART, attachment_part(b"x", hash_=sha(b"y"))], "hashes to"),
        ([JSON_PART, attachment_part(b"x", hash_="abc")], "not a hex SHA-2 digest"),
        ([JSON_PART, attachment_part(b"x", hash_="z" * 64)], "not a hex SHA-2 digest"),
        ([JSON_PART, attachment_part(b"x", cte="base64")], "Content-Transfer-Encoding 'base64'"),
        ([(["Content-Type: application/json"], b'[{"a": 1}')], "not valid JSON"),
        ([(["Content-Type: application/json"], b"  ")], "empty"),
    ],
)
async def test_rejections(parts: list[tuple[list[str], bytes]], words: str) -> None:
    with pytest.raises(BadRequest, match=words):
        await read(body_of(*parts))


async def test_no_parts_at_all() -> None:
    with pytest.raises(BadRequest, match="no parts"):
        await read(f"--{B}--\r\n".encode())


async def test_limits() -> None:
    with pytest.raises(PayloadTooLarge, match="statements part"):
        await read(body_of(JSON_PART), max_json=5)
    with pytest.raises(PayloadTooLarge, match="attachments exceed"):
        await read(body_of(JSON_PART, attachment_part(b"x" * 100)), max_attachments=99)
    upload = await read(body_of(JSON_PART, attachment_part(b"x" * 100)), max_attachments=100)
    upload.close()


# --- check_attachments ---------------------------------------------------------------------------------------------


def att(sha2: str, **extra: Any) -> dict[str, Any]:
    return {"usageType": "http://example.com/u", "display": {"en": "a"}, "contentType": "text/plain",
            "length": 1, "sha2": sha2, **extra}  # fmt: skip


def test_check_attachments_accepts_parts_file_urls_and_substatements() -> None:
    statements: list[dict[str, Any]] = [
        {"attachments": [att("aa"), att("bb", fileUrl="http://x.example/f")]},
        {"object": {"objectType": "SubStatement", "attachments": [att("CC")]}, "attachments": [att("aa")]},
        {},
    ]
    check_attachments(statements, {"aa", "cc"})
    check_attachments([{"attachments": [att("bb", fileUrl="http://x.example/f")]}], set())
    check_attachments([{}], set())


@pytest.mark.parametrize(
    ("statements", "parts", "words"),
    [
        ([{"attachments": [att("aa")]}], set(), "neither a fileUrl nor a multipart part"),
        ([{"attachments": [att("aa")]}], {"aa", "bb"}, "bb matches no attachment"),
        ([{}], {"bb"}, "excess part"),
        ([{"attachments": [att("aa", usageType=SIGNATURE_USAGE)]}], {"aa"}, "application/octet-stream"),
        (
            [{"attachments": [att("aa", usageType=SIGNATURE_USAGE, contentType="application/octet-stream",
                                  fileUrl="http://x.example/s")]}],
            set(),
            "holding its JWS",
        ),
    ],
)  # fmt: skip
def test_check_attachments_rejections(statements: list[dict[str, Any]], parts: set[str], words: str) -> None:
    with pytest.raises(BadRequest, match=words):
        check_attachments(statements, parts)


def test_missing_part_error_names_statement_and_path() -> None:
    with pytest.raises(BadRequest) as info:
        check_attachments([{}, {"object": {"objectType": "SubStatement", "attachments": [att("aa")]}}], set())
    assert info.value.index == 1 and info.value.path == "$.object.attachments[0]"


# --- the writer ------------------------------------------------------------------------------------------------------


def test_writer_output_parses_back_and_length_is_exact() -> None:
    writer = MultipartWriter("b0undary")
    items = [(Outgoing(sha(b"abc"), "text/plain", 3), b"abc"), (Outgoing(sha(b""), "image/png", 0), b"")]
    chunks: Iterable[bytes] = [
        writer.json_part(b'{"statements":[]}'),
        *(piece for o, data in items for piece in (writer.part_head(o), data)),
        writer.closing(),
    ]
    body = b"".join(chunks)
    assert len(body) == writer.length(b'{"statements":[]}', [o for o, _ in items])
    assert writer.content_type == "multipart/mixed; boundary=b0undary"
    parts = parse(body, "b0undary")
    assert orjson.loads(parts[0][1]) == {"statements": []}
    assert parts[1] == (
        {
            "content-type": "text/plain",
            "content-transfer-encoding": "binary",
            "x-experience-api-hash": sha(b"abc"),
            "content-length": "3",
        },
        b"abc",
    )
    assert parts[2][1] == b""
