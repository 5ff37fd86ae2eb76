"""The Activity Profile resource (C §2.7; 2.0 §4.1.6.6): /xapi/activities/profile."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from lrs.http import documents
from lrs.xapi.document import Kind

router = APIRouter()
PATH = "/xapi/activities/profile"


@router.api_route(PATH, methods=documents.METHODS)
async def activity_profile(request: Request) -> Response:
    """One profile document by activityId + profileId, or the activity's profile ids (C §2.7)."""
    return await documents.handle(request, Kind.ACTIVITY_PROFILE)
