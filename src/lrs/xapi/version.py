"""xAPI version negotiation by the X-Experience-API-Version header (C §3.3, 2.0 §4.1.6.7)."""

from __future__ import annotations

import enum
import re

from lrs.errors import BadRequest


class Version(enum.Enum):
    """The two xAPI versions the LRS speaks; the value is the header it answers with."""

    V1 = "1.0.3"
    V2 = "2.0.0"


_HEADER = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")


def negotiate(header: str | None) -> Version:
    """Map a request's version header to the version it is answered in; 400 if missing or unsupported."""
    if header is None or header.strip() == "":
        raise BadRequest("X-Experience-API-Version header is required")
    m = _HEADER.match(header.strip())
    if m is None:
        raise BadRequest(f"X-Experience-API-Version {header!r} is not a version number")
    major, minor = int(m.group(1)), int(m.group(2))
    if (major, minor) == (1, 0):
        return Version.V1
    if (major, minor) == (2, 0):
        return Version.V2
    raise BadRequest(f"X-Experience-API-Version {header!r} is not supported; use 1.0.x or 2.0.x")
