"""The xAPI 1.0.3 Alternate Request Syntax (C §1.3) as ASGI middleware; removed in xAPI 2.0."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lrs.http.headers import VERSION, answered_version

# Form fields that travel as headers in the alternate syntax (C §1.3); compared case-insensitively.
HEADER_FIELDS = {
    "authorization",
    "x-experience-api-version",
    "content-type",
    "content-length",
    "if-match",
    "if-none-match",
}
METHODS = {"GET", "PUT", "POST", "DELETE", "HEAD"}


class AlternateRequestSyntax:
    """Rewrites `POST ...?method=X` with a form body into the request it stands for."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, default_version: str) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.default_version = default_version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass ordinary requests through; rewrite or reject alternate-syntax ones."""
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        if not any(name == "method" for name, _ in query):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        version = headers.get("x-experience-api-version")
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                await _error(send, self.default_version, 413, "request body exceeds the size limit", version)
                return
            if not message.get("more_body", False):
                break
        form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        form_headers = {k.lower(): v for k, v in form if k.lower() in HEADER_FIELDS}
        version = form_headers.get("x-experience-api-version", version)
        if version is not None and version.strip().startswith("2."):
            await _error(
                send,
                self.default_version,
                400,
                "the alternate request syntax (?method=) is not supported in xAPI 2.0",
                version,
            )
            return
        if len(query) != 1:
            await _error(
                send,
                self.default_version,
                400,
                "with ?method= the query string may hold nothing else (C §1.3)",
                version,
            )
            return
        method = query[0][1].upper()
        if method not in METHODS:
            await _error(send, self.default_version, 400, f"unknown method {query[0][1]!r} in ?method=", version)
            return
        media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != "application/x-www-form-urlencoded":
            await _error(
                send,
                self.default_version,
                400,
                "an alternate-syntax request must be application/x-www-form-urlencoded",
                version,
            )
            return
        content = next((v for k, v in form if k == "content"), "").encode()
        params = [(k, v) for k, v in form if k != "content" and k.lower() not in HEADER_FIELDS]
        new_headers = {k: v for k, v in headers.items() if k not in ("content-type", "content-length")}
        new_headers.update(form_headers)
        new_headers["content-length"] = str(len(content))
        if "content-type" not in new_headers and content:
            new_headers["content-type"] = "application/json"
        new_scope = dict(scope)
        new_scope["method"] = method
        new_scope["query_string"] = urlencode(params).encode()
        new_scope["headers"] = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in new_headers.items()]
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": content, "more_body": False}
            return await receive()

        await self.app(new_scope, replay, send)


async def _error(send: Send, default: str, status: int, message: str, version: str | None) -> None:
    body = orjson.dumps({"error": True, "status": status, "message": message})
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (VERSION.lower().encode(), answered_version(version, default).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
