"""Connection hygiene: a test closes every Socket.IO client and HTTP session it opens.

aiohttp (under python-socketio's client) reports an unclosed session only from its `__del__`,
as a ResourceWarning and through the event loop's exception handler: nothing fails at the
place of the leak, and the message comes out in whichever later test collects it, or after the
last one. A client left reconnecting to a hub the test stopped is never collected at all: it
goes on trying, with an open session, until the interpreter exits. So the fixtures at the end
of tests/conftest.py look for what is still open once a test and its fixtures are done.
"""

from __future__ import annotations

import gc

import engineio.base_client
import socketio.base_client
from aiohttp import ClientSession

# Leaks already reported, by id, so that one leak fails one test and not every later one; the
# objects are kept alive so that their __del__ cannot fail a later, innocent test either.
_reported: dict[int, object] = {}


def leaks(*, sessions: bool) -> list[str]:
    """What is open now and was not reported before: connected Engine.IO clients, Socket.IO
    clients in their reconnection loop and (when `sessions`, a scan of the heap) unclosed
    aiohttp sessions."""
    found: list[tuple[object, str]] = [
        (client, f"a Socket.IO client still reconnecting (last to {client.eio.base_url!r})")
        for client in socketio.base_client.reconnecting_clients
    ]
    found += [
        (client, f"an Engine.IO client still connected to {client.base_url!r}")
        for client in engineio.base_client.connected_clients
    ]
    if sessions:
        # type() rather than isinstance(): no __class__ lookups on arbitrary heap objects.
        found += [
            (obj, "an unclosed aiohttp session (a socketio.AsyncClient's, most likely)")
            for obj in gc.get_objects()
            if type(obj) is ClientSession and not obj.closed
        ]
    new = [(obj, what) for obj, what in found if id(obj) not in _reported]
    _reported.update((id(obj), obj) for obj, _ in new)
    return [what for _, what in new]
