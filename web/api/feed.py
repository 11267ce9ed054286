"""The feed of an incident: entries and their corrections."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request

from hub.actions import feed
from hub.auth import Principal
from models.responses import (
    FeedEntryOut,
    FeedPage,
)
from models.shapes import (
    FeedCorrectIn,
    FeedPostIn,
)
from web.api.endpoint import INCIDENT, Endpoint
from web.http import hub_of, query_int, read_json
from web.openapi import integer

log = logging.getLogger(__name__)


async def list_feed(request: Request, principal: Principal) -> Any:
    limit = query_int(request, "limit", 100, 1, 1000) or 100
    before = query_int(request, "before_seq", None, 1, 2**62)
    entries = await feed.list_entries(
        hub_of(request),
        principal,
        request.path_params["incident_id"],
        limit=limit,
        before_seq=before,
    )
    return {"entries": entries}


async def post_feed(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, FeedPostIn, incident_id=request.path_params["incident_id"])
    return {"entry": await feed.post_entry(hub_of(request), principal, payload)}


async def correct_feed(request: Request, principal: Principal) -> Any:
    params = request.path_params
    payload = await read_json(
        request, FeedCorrectIn, incident_id=params["incident_id"], entry_id=params["entry_id"]
    )
    return {"entry": await feed.correct_entry(hub_of(request), principal, payload)}


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "GET",
        INCIDENT + "/feed",
        "Feed entries, oldest first",
        list_feed,
        response=FeedPage,
        query={
            "limit": ("the last this many entries", integer(1, 1000, 100)),
            "before_seq": ("page backwards: entries before this seq", integer(1, 2**62)),
        },
    ),
    Endpoint(
        "POST",
        INCIDENT + "/feed",
        "Post a feed entry (same rules as feed.post)",
        post_feed,
        FeedPostIn,
        FeedEntryOut,
        status=201,
    ),
    Endpoint(
        "POST",
        INCIDENT + "/feed/{entry_id}/corrections",
        "Correct an entry: a new entry pointing at it",
        correct_feed,
        FeedCorrectIn,
        FeedEntryOut,
        status=201,
    ),
]
