"""The Activities resource (C §2.5; 2.0 §4.1.6.4): GET /xapi/activities?activityId= returns the Activity."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from lrs.errors import BadRequest
from lrs.http.documents import json_response
from lrs.http.headers import http_date
from lrs.http.runtime import caller
from lrs.store.activities import get_activity
from lrs.xapi.document import activity_object, parse_activity_id
from lrs.xapi.parameter import check_names

router = APIRouter()
PATH = "/xapi/activities"


@router.api_route(PATH, methods=["GET", "HEAD"])
async def activities(request: Request) -> Response:
    """The canonical Activity (ADR 0003) with exactly this id, or a bare Activity when none is known (C §2.5);
    any valid credential may ask (ADR 0006)."""
    rt, _, _ = await caller(request)
    p = check_names(list(request.query_params.multi_items()), ("activityId",))
    if "activityId" not in p:
        raise BadRequest("parameter 'activityId' is required by the Activities resource")
    iri = parse_activity_id(p["activityId"], key=False)
    async with rt.pool.acquire() as db:
        found = await get_activity(db, iri)
    if found is None:
        return json_response(request, activity_object(iri, None))
    definition, updated = found
    return json_response(request, activity_object(iri, definition), http_date(updated))
