"""multipart/mixed statement requests and responses (C §1.5.2, RFC 2046), streamed with bounded memory.

`Parser` is a sans-I/O incremental RFC 2046 parser: bytes in, part events out; it never holds more than one
chunk plus a delimiter's length of body. `read_statements` drives it from the request stream: the first part
(the statements, application/json) is kept in memory within `max_body_bytes`; every later part is hashed while
it is spooled to a temporary file (memory up to `SPOOL_BYTES`, then disk) and checked against its
X-Experience-API-Hash. `check_attachments` then applies the matching rules of C §1.5.2 to the statements.
`MultipartWriter` renders the attachments=true response of GET (C §2.1.3).
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from lrs.errors import BadRequest, PayloadTooLarge
from lrs.xapi.signature import SIGNATURE_USAGE, attachments_of

SPOOL_BYTES = 1024 * 1024
READ_CHUNK = 256 * 1024
_MAX_HEADER_BYTES = 16 * 1024
# Hex digest length -> SHA-2 function (D §2.4.11 "sha2"; C §1.5.2 SHOULD SHA-256, SHA-384 or SHA-512).
_SHA2_BY_HEX_LENGTH = {56: "sha224", 64: "sha256", 96: "sha384", 128: "sha512"}
_HEX = re.compile(r"^[0-9a-fA-F]+$")


# --- content types ---------------------------------------------------------------------------------------------


def media_type_of(value: str | None) -> str:
    """The media type of a Content-Type value without parameters, lower-cased ('' when absent)."""
    return (value or "").split(";", 1)[0].strip().lower()


def content_type_params(value: str) -> dict[str, str]:
    """The parameters of a Content-Type value (RFC 2045 §5.1), names lower-cased, quotes removed."""
    params: dict[str, str] = {}
    rest = value.split(";", 1)[1] if ";" in value else ""
    pattern = re.compile(r'\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))\s*(?:;|$)')
    pos = 0
    while pos < len(rest):
        m = pattern.match(rest, pos)
        if m is None:
            nxt = rest.find(";", pos)
            if nxt < 0:
                break
            pos = nxt + 1
            continue
        quoted, plain = m.group(2), m.group(3)
        params[m.group(1).lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else plain.strip()
        pos = m.end()
    return params


def boundary_of(content_type: str) -> str:
    """The boundary parameter of a multipart/mixed Content-Type (RFC 2046 §5.1.1); 400 when absent or invalid."""
    boundary = content_type_params(content_type).get("boundary")
    if not boundary:
        raise BadRequest("Content-Type multipart/mixed needs a boundary parameter (RFC 2046 §5.1.1, C §1.5.2)")
    if len(boundary) > 200 or "\r" in boundary or "\n" in boundary:
        raise BadRequest(f"the multipart boundary {boundary[:80]!r} is not valid (RFC 2046 §5.1.1)")
    return boundary


# --- the incremental parser ------------------------------------------------------------------------------------


@dataclass(slots=True)
class PartStart:
    """A part begins; header names are lower-cased."""

    headers: dict[str, str]


@dataclass(slots=True)
class PartData:
    """Some bytes of the current part's body."""

    data: bytes


@dataclass(slots=True)
class PartEnd:
    """The current part is complete."""


Event = PartStart | PartData | PartEnd

_PREAMBLE, _AFTER_DELIMITER, _HEADERS, _BODY, _EPILOGUE = range(5)


class Parser:
    """Incremental multipart parser (RFC 2046 §5.1.1): `feed` chunks, then `close`; each returns events.

    Accepts a preamble (ignored), a first delimiter with or without a preceding CRLF, header lines with or without
    a space after the colon (folded lines joined), transport padding after delimiters, and a closing delimiter with
    or without a trailing CRLF (the epilogue is ignored). Raises BadRequest on a malformed body.
    """

    def __init__(self, boundary: str) -> None:
        self._delimiter = b"\r\n--" + boundary.encode("latin-1")
        self._keep = len(self._delimiter) - 1
        self._buf = bytearray(b"\r\n")  # so a delimiter at the very start is found like any other
        self._state = _PREAMBLE
        self._parts = 0

    @property
    def parts(self) -> int:
        """How many parts have started so far."""
        return self._parts

    def feed(self, data: bytes) -> list[Event]:
        """Consume `data`; return the events it completes."""
        if self._state == _EPILOGUE:
            return []
        self._buf += data
        events: list[Event] = []
        while self._step(events):
            pass
        return events

    def close(self) -> list[Event]:
        """The body has ended: 400 unless the closing delimiter was seen."""
        if self._state == _EPILOGUE:
            return []
        if self._state == _PREAMBLE:
            raise BadRequest(
                f"the multipart body has no delimiter line --{self._delimiter[4:].decode('latin-1')} "
                "(is the boundary parameter right?) (RFC 2046 §5.1.1)"
            )
        raise BadRequest("the multipart body ends before its closing delimiter --boundary-- (RFC 2046 §5.1.1)")

    def _step(self, events: list[Event]) -> bool:
        buf = self._buf
        if self._state == _PREAMBLE:
            at = buf.find(self._delimiter)
            if at < 0:
                if len(buf) > self._keep:
                    del buf[: len(buf) - self._keep]
                return False
            del buf[: at + len(self._delimiter)]
            self._state = _AFTER_DELIMITER
            return True
        if self._state == _AFTER_DELIMITER:
            if len(buf) < 2:
                return False
            if buf[:2] == b"--":
                self._state = _EPILOGUE
                buf.clear()
                return False
            eol = buf.find(b"\r\n")
            if eol < 0:
                if len(buf) > 1024 or buf.rstrip(b"\r").strip(b" \t"):
                    raise BadRequest("a multipart delimiter line has extra characters after the boundary (RFC 2046)")
                return False
            if buf[:eol].strip(b" \t"):
                raise BadRequest("a multipart delimiter line has extra characters after the boundary (RFC 2046)")
            del buf[: eol + 2]
            self._state = _HEADERS
            return True
        if self._state == _HEADERS:
            if buf[:2] == b"\r\n":
                headers: dict[str, str] = {}
                del buf[:2]
            else:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > _MAX_HEADER_BYTES:
                        raise BadRequest(
                            f"the headers of multipart part {self._parts} are over {_MAX_HEADER_BYTES} bytes"
                        )
                    return False
                headers = _parse_headers(bytes(buf[:end]), self._parts)
                del buf[: end + 4]
            self._parts += 1
            events.append(PartStart(headers))
            self._state = _BODY
            return True
        if self._state == _BODY:
            at = buf.find(self._delimiter)
            if at < 0:
                if len(buf) > self._keep:
                    cut = len(buf) - self._keep
                    events.append(PartData(bytes(buf[:cut])))
                    del buf[:cut]
                return False
            if at:
                events.append(PartData(bytes(buf[:at])))
            events.append(PartEnd())
            del buf[: at + len(self._delimiter)]
            self._state = _AFTER_DELIMITER
            return True
        return False


def _parse_headers(block: bytes, index: int) -> dict[str, str]:
    headers: dict[str, str] = {}
    last = ""
    for line in block.decode("latin-1").split("\r\n"):
        if line[:1] in (" ", "\t") and last:
            headers[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise BadRequest(f"multipart part {index} has a malformed header line {line[:80]!r} (RFC 2045, RFC 822)")
        last = name.strip().lower()
        headers[last] = value.strip()
    return headers


# --- reading a statement request -------------------------------------------------------------------------------


@dataclass(slots=True)
class Part:
    """One attachment part, verified against its hash and spooled (memory up to SPOOL_BYTES, then disk)."""

    sha2: str
    content_type: str
    length: int
    file: IO[bytes]

    def chunks(self, size: int = READ_CHUNK) -> Iterator[bytes]:
        """The content from the start, `size` bytes at a time."""
        self.file.seek(0)
        while chunk := self.file.read(size):
            yield chunk

    def read(self, limit: int) -> bytes:
        """The whole content; 400 when it is longer than `limit` bytes."""
        if self.length > limit:
            raise BadRequest(f"the part with X-Experience-API-Hash {self.sha2} is larger than {limit} bytes")
        self.file.seek(0)
        return self.file.read()


@dataclass(slots=True)
class Upload:
    """A parsed multipart/mixed statement request: the first part's JSON and the attachment parts by sha2."""

    statements: Any
    parts: dict[str, Part] = field(default_factory=dict)

    def close(self) -> None:
        """Discard the spooled parts."""
        for part in self.parts.values():
            part.file.close()
        self.parts.clear()


class _Sink:
    """Receives one attachment part: hashes and spools it."""

    def __init__(self, index: int, headers: dict[str, str]) -> None:
        declared = headers.get("x-experience-api-hash")
        if declared is None:
            if media_type_of(headers.get("content-type")) == "application/json":
                raise BadRequest(
                    f"multipart part {index} is a second application/json part: all statements must be in the "
                    "first part (C §1.5.2)"
                )
            raise BadRequest(f"multipart part {index} has no X-Experience-API-Hash header (C §1.5.2)")
        declared = declared.strip().lower()
        algorithm = _SHA2_BY_HEX_LENGTH.get(len(declared))
        if algorithm is None or not _HEX.match(declared):
            raise BadRequest(
                f"the X-Experience-API-Hash {declared[:140]!r} of multipart part {index} is not a hex SHA-2 digest"
            )
        encoding = headers.get("content-transfer-encoding")
        if encoding is not None and encoding.strip().lower() != "binary":
            raise BadRequest(
                f"multipart part {index} has Content-Transfer-Encoding {encoding!r}; attachment parts must be "
                "binary (C §1.5.2)"
            )
        self.index = index
        self.declared = declared
        self.content_type = headers.get("content-type") or "application/octet-stream"
        self.hasher = hashlib.new(algorithm)
        self.length = 0
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115

    def write(self, data: bytes) -> None:
        """Hash and spool the next bytes of the part."""
        self.hasher.update(data)
        self.length += len(data)
        self.file.write(data)

    def finish(self) -> Part:
        """The finished part; 400 when its content does not hash to its X-Experience-API-Hash (C §1.5.2)."""
        actual = self.hasher.hexdigest()
        if actual != self.declared:
            self.file.close()
            raise BadRequest(
                f"multipart part {self.index} declares X-Experience-API-Hash {self.declared} but its content "
                f"hashes to {actual} (C §1.5.2)"
            )
        return Part(self.declared, self.content_type, self.length, self.file)


async def read_statements(
    stream: AsyncIterator[bytes], content_type: str, *, max_json: int, max_attachments: int
) -> Upload:
    """Parse a multipart/mixed statement request (C §1.5.2): the first part as JSON, later parts spooled by hash.

    400 for a malformed body, a first part that is not application/json or not JSON, a later part without a
    valid hash or with content not matching it, or a Content-Transfer-Encoding other than binary; 413 when the
    statements exceed `max_json` bytes or the attachments together exceed `max_attachments` bytes.
    """
    parser = Parser(boundary_of(content_type))
    upload = Upload(statements=None)
    first = bytearray()
    sink: _Sink | None = None
    attachment_bytes = 0
    index = -1
    in_first = False
    first_done = False
    try:
        async for chunk in stream:
            for event in parser.feed(chunk):
                if isinstance(event, PartData):
                    if in_first:
                        first += event.data
                        if len(first) > max_json:
                            raise PayloadTooLarge(f"the statements part exceeds the limit of {max_json} bytes")
                    elif sink is not None:
                        attachment_bytes += len(event.data)
                        if attachment_bytes > max_attachments:
                            raise PayloadTooLarge(f"the attachments exceed the limit of {max_attachments} bytes")
                        sink.write(event.data)
                elif isinstance(event, PartStart):
                    index += 1
                    if index == 0:
                        kind = media_type_of(event.headers.get("content-type"))
                        if kind != "application/json":
                            raise BadRequest(
                                "the first part of a multipart/mixed statement request must be the statements with "
                                f"Content-Type application/json, got {kind or 'none'!r} (C §1.5.2)"
                            )
                        in_first = True
                    else:
                        sink = _Sink(index, event.headers)
                else:
                    if in_first:
                        in_first, first_done = False, True
                    elif sink is not None:
                        part = sink.finish()
                        sink = None
                        if part.sha2 in upload.parts:
                            part.file.close()  # a second copy of the same content
                        else:
                            upload.parts[part.sha2] = part
        parser.close()
        if not first_done:
            raise BadRequest("the multipart body has no parts; the first must be the statements (C §1.5.2)")
        try:
            upload.statements = orjson.loads(first) if bytes(first).strip() else None
        except orjson.JSONDecodeError as exc:
            raise BadRequest(
                f"the first multipart part is not valid JSON (are all delimiters in place?): {exc}"
            ) from None
        if upload.statements is None:
            raise BadRequest("the first multipart part is empty; expected the statements as JSON")
        return upload
    except BaseException:
        if sink is not None:
            sink.file.close()
        upload.close()
        raise


# --- matching attachments to parts (C §1.5.2) ------------------------------------------------------------------


def check_attachments(statements: Sequence[dict[str, Any]], parts: set[str]) -> None:
    """Every attachment needs a part (matched by sha2 only) or a fileUrl, a signature needs its JWS part, and every
    part must be some attachment's (C §1.5.1-1.5.2, D §2.6); 400 naming the first problem."""
    used: set[str] = set()
    for index, stmt in enumerate(statements):
        for path, att in attachments_of(stmt):
            sha2 = str(att["sha2"]).lower()
            if att.get("usageType") == SIGNATURE_USAGE:
                if media_type_of(att.get("contentType")) != "application/octet-stream":
                    raise BadRequest(
                        f"a signature attachment must have contentType application/octet-stream, got "
                        f"{att.get('contentType')!r} (D §2.6)",
                        path=f"{path}.contentType",
                        index=index,
                    )
                if sha2 not in parts:
                    raise BadRequest(
                        f"the signature attachment has no multipart part with X-Experience-API-Hash {sha2} "
                        "holding its JWS (D §2.6)",
                        path=path,
                        index=index,
                    )
            if sha2 in parts:
                used.add(sha2)
            elif "fileUrl" not in att:
                raise BadRequest(
                    f"the attachment has neither a fileUrl nor a multipart part with X-Experience-API-Hash {sha2} "
                    "(C §1.5.2)",
                    path=path,
                    index=index,
                )
    excess = sorted(parts - used)
    if excess:
        raise BadRequest(
            f"the multipart part with X-Experience-API-Hash {excess[0]} matches no attachment's sha2 "
            "(excess part, C §1.5.2)"
        )


# --- writing the attachments=true response ---------------------------------------------------------------------


@dataclass(slots=True)
class Outgoing:
    """An attachment to send: its hash, media type and length."""

    sha2: str
    content_type: str
    length: int


class MultipartWriter:
    """The framing of a multipart/mixed statement response (C §1.5.2, §2.1.3): JSON first, then attachments."""

    def __init__(self, boundary: str) -> None:
        self.boundary = boundary

    @property
    def content_type(self) -> str:
        """The response Content-Type, boundary as the first (only) parameter, unquoted."""
        return f"multipart/mixed; boundary={self.boundary}"

    def json_part(self, body: bytes) -> bytes:
        """The first part: the statement(s) JSON with its delimiter and headers."""
        return f"--{self.boundary}\r\nContent-Type: application/json\r\n\r\n".encode() + body

    def part_head(self, att: Outgoing) -> bytes:
        """What goes before an attachment's bytes: CRLF, delimiter and the part headers."""
        content_type = att.content_type.replace("\r", " ").replace("\n", " ")
        return (
            f"\r\n--{self.boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {att.sha2}\r\nContent-Length: {att.length}\r\n\r\n"
        ).encode("latin-1", "replace")

    def closing(self) -> bytes:
        """The closing delimiter."""
        return f"\r\n--{self.boundary}--\r\n".encode()

    def length(self, body: bytes, attachments: Sequence[Outgoing]) -> int:
        """The exact length of the whole response body."""
        return (
            len(self.json_part(body))
            + sum(len(self.part_head(a)) + a.length for a in attachments)
            + len(self.closing())
        )
