"""xAPI response headers (C §2.1.3, §3.3): version, consistent-through, Last-Modified."""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime

from starlette.requests import Request
from starlette.responses import Response

VERSION = "X-Experience-API-Version"
CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"


def iso(moment: dt.datetime) -> str:
    """An ISO 8601 UTC timestamp with milliseconds, as the LRS writes them in headers."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def http_date(moment: dt.datetime) -> str:
    """An RFC 7231 HTTP-date for Last-Modified."""
    return format_datetime(moment.astimezone(dt.UTC), usegmt=True)


def answered_version(header: str | None, default: str = "2.0.0") -> str:
    """The version a response carries (C §3.3): 1.0.3 for a 1.0.x request, 2.0.0 for 2.0.x, else `default`."""
    if header is not None:
        value = header.strip()
        if value.startswith("1.0"):
            return "1.0.3"
        if value.startswith("2.0"):
            return "2.0.0"
    return default


def head_aware(request: Request, response: Response) -> Response:
    """Answer HEAD with GET's headers, Content-Length included, and no body (C §1.1)."""
    if request.method == "HEAD":
        response.headers["content-length"] = str(len(response.body))
        response.body = b""
    return response
