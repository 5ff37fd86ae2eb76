"""The State resource (C §2.3; 2.0 §4.1.6.2): /xapi/activities/state."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from lrs.http import documents
from lrs.xapi.document import Kind

router = APIRouter()
PATH = "/xapi/activities/state"


@router.api_route(PATH, methods=documents.METHODS)
async def state(request: Request) -> Response:
    """One state document by activityId + agent [+ registration] + stateId, or the context's ids / all (C §2.3)."""
    return await documents.handle(request, Kind.STATE)
