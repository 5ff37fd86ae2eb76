"""The LRS error tree: raised anywhere, mapped to an xAPI HTTP error in one place (C §3.2)."""

from __future__ import annotations


class LRSError(Exception):
    """Base of every error the LRS reports to a client."""

    status: int = 500

    def __init__(self, message: str, *, path: str | None = None, index: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.index = index
        self.headers: dict[str, str] = {}  # response headers the raiser already knows (e.g. Consistent-Through)

    def at(self, *, path: str | None = None, index: int | None = None) -> LRSError:
        """Return this error with a location (JSON path, batch index) filled in where it was unknown."""
        if self.path is None and path is not None:
            self.path = path
        if self.index is None and index is not None:
            self.index = index
        return self

    def to_json(self) -> dict[str, object]:
        """The JSON error body: the message, and where in the request the problem is."""
        body: dict[str, object] = {"error": True, "status": self.status, "message": self.describe()}
        if self.index is not None:
            body["statementIndex"] = self.index
        if self.path is not None:
            body["path"] = self.path
        return body

    def describe(self) -> str:
        """The message with its location, as a person would read it."""
        where = []
        if self.index is not None:
            where.append(f"statement {self.index}")
        if self.path is not None:
            where.append(self.path)
        return f"{self.message} ({', '.join(where)})" if where else self.message


class BadRequest(LRSError):
    """400: the request or a statement in it is malformed."""

    status = 400


class Unauthorized(LRSError):
    """401: missing or wrong credentials."""

    status = 401


class Forbidden(LRSError):
    """403: the credential lacks the scope for this request."""

    status = 403


class NotFound(LRSError):
    """404: no such statement or document."""

    status = 404


class MethodNotAllowed(LRSError):
    """405: the resource does not support this method."""

    status = 405


class Conflict(LRSError):
    """409: a statement with this id and different content exists, or a document write lacks preconditions."""

    status = 409


class PreconditionFailed(LRSError):
    """412: an If-Match / If-None-Match precondition does not hold."""

    status = 412


class PayloadTooLarge(LRSError):
    """413: the request body exceeds a configured limit."""

    status = 413


class ServiceUnavailable(LRSError):
    """503: the LRS cannot serve the request now (every database connection stayed busy); retry later."""

    status = 503


class UnsupportedMediaType(LRSError):
    """415: a content type the resource does not accept (reported as 400 where xAPI asks for it)."""

    status = 415
