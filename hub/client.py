"""A Python client that keeps incidents in step by seq (design principle 2).

Used by the tests, the benchmarks and the simulators; web/frontend/src/recovery.js is its
JavaScript twin. It applies `incident.event`s in seq order, drops duplicates, and on a gap or a
reconnect asks `incident.join` with `since` for exactly what it missed.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import socketio

log = logging.getLogger(__name__)


class AckError(Exception):
    def __init__(self, ack: dict[str, Any]) -> None:
        error = ack.get("error") or {}
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")
        self.ack = ack


@dataclass
class IncidentState:
    """What a client holds of one incident: the last seq applied and everything applied."""

    incident_id: str
    seq: int = 0
    snapshot: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    resets: int = 0
    catching_up: asyncio.Task[None] | None = None
    seen_beyond: int = 0  # highest live seq noticed while a catch-up was running
    # Until the first join ack arrives, live events (the hub enters us in the room before it
    # reads the state) are held here, so they do not look like a gap from seq 0.
    joined: bool = False
    early: list[dict[str, Any]] = field(default_factory=list)


class HubClient:
    def __init__(
        self,
        url: str | list[str],
        token: str,
        *,
        transports: list[str] | None = None,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        reconnection_delay: float = 0.2,
        presence: Literal["changes", "list"] = "changes",
    ) -> None:
        # Several URLs (hub instances): each reconnection attempt tries the next one, so a
        # client of an instance that died fails over to a live one.
        self.urls = [url] if isinstance(url, str) else list(url)
        self.url = self.urls[0]  # the instance of the current (or last) connection
        self._next_url = 0
        self.token = token
        self.transports = transports or ["websocket"]
        self.on_event = on_event
        self.incidents: dict[str, IncidentState] = {}
        self.positions: list[dict[str, Any]] = []
        # `alert.progress` messages as received (coalesced, unsequenced).
        self.alert_progress: list[dict[str, Any]] = []
        # Who is online per incident, kept from `presence.changed` on top of the join's list
        # ("changes", issue 18) or replaced by each `presence` ("list", as v1 clients do).
        self.presence_mode = presence
        self.presence: dict[str, list[dict[str, Any]]] = {}
        self.presence_versions: dict[str, int] = {}
        self.presence_resyncs = 0  # times a missed change made this client ask again
        self.presence_changes: list[dict[str, Any]] = []  # `presence.changed` as received
        self._resyncing: dict[str, asyncio.Task[None]] = {}
        self.connected = asyncio.Event()
        self.sio = socketio.AsyncClient(
            reconnection=True,
            reconnection_delay=reconnection_delay,
            reconnection_delay_max=1.0,
            randomization_factor=0.2,
        )
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("incident.event", self._on_event)
        self.sio.on("convoy.positions", self._on_positions)
        self.sio.on("alert.progress", self._on_alert_progress)
        self.sio.on("presence", self._on_presence)
        self.sio.on("presence.changed", self._on_presence_changed)
        self.sio.on("incident.left", self._on_left)
        self.left: list[dict[str, Any]] = []  # incidents the hub made us leave, and why
        self._connected_once = False

    # connection ---------------------------------------------------------------------------

    async def connect(self, timeout: float = 10) -> None:
        try:
            await self.sio.connect(
                self._pick_url,
                auth={"token": self.token},
                transports=self.transports,
                wait_timeout=timeout,
                retry=True,
            )
            await asyncio.wait_for(self.connected.wait(), timeout)
        except BaseException:
            # A failed attempt leaves engineio's aiohttp session open (and maybe a reconnection
            # loop running): a caller that gets an exception has no client to close.
            await self.close()
            raise

    def _pick_url(self) -> str:
        self.url = self.urls[self._next_url % len(self.urls)]
        self._next_url += 1
        return self.url

    async def close(self) -> None:
        """Disconnect, stop reconnecting and release the HTTP session; safe to call twice."""
        for state in self.incidents.values():
            if state.catching_up is not None:
                state.catching_up.cancel()
        # shutdown(), not disconnect(): when the hub is gone the client is in its reconnection
        # loop, which disconnect() leaves running (a new aiohttp session at every attempt).
        # Yield once first, so that a reconnection task scheduled by a disconnect just noticed
        # has started: python-socketio makes the event shutdown() sets only then (before, it
        # fails on None, and the task, starting later, would clear the event and carry on).
        await asyncio.sleep(0)
        await self.sio.shutdown()
        if self.sio.connected:  # an attempt under way when shutdown() stopped the loop succeeded
            await self.sio.disconnect()
        # engineio closes its aiohttp session on a disconnect but not after a failed connection
        # attempt; disconnecting engineio once more (a no-op otherwise) closes it.
        await self.sio.eio.disconnect()

    async def _on_connect(self) -> None:
        self.connected.set()
        if self._connected_once:
            # A reconnect (maybe to another instance): ask each incident for what we missed.
            # A catch-up still waiting on the old connection would never be answered: replace it.
            for state in self.incidents.values():
                if state.catching_up is not None:
                    state.catching_up.cancel()
                    state.catching_up = None
                self._catch_up(state)
        self._connected_once = True

    async def _on_disconnect(self, *args: Any) -> None:
        self.connected.clear()

    # requests -----------------------------------------------------------------------------

    async def call(self, event: str, payload: Any, timeout: float = 10) -> dict[str, Any]:
        ack: dict[str, Any] = await self.sio.call(event, payload, timeout=timeout)
        return ack

    async def request(self, event: str, payload: Any, timeout: float = 10) -> dict[str, Any]:
        """call(), raising AckError unless the ack is ok."""
        ack = await self.call(event, payload, timeout)
        if not ack.get("ok"):
            raise AckError(ack)
        return ack

    async def until_acked(
        self, event: str, payload: dict[str, Any], *, attempts: int = 50, timeout: float = 3
    ) -> dict[str, Any]:
        """Send until the hub acknowledges: safe because `client_id` makes retries idempotent.

        Retries lost acks, disconnects and `unavailable`; other errors are final.
        """
        payload.setdefault("client_id", str(uuid.uuid4()))
        last: Exception | None = None
        for _ in range(attempts):
            try:
                if not self.connected.is_set():
                    await asyncio.wait_for(self.connected.wait(), timeout)
                ack = await self.call(event, payload, timeout)
            except (TimeoutError, socketio.exceptions.SocketIOError) as error:
                last = error
                await asyncio.sleep(0.1)
                continue
            if ack.get("ok"):
                return ack
            if ack.get("error", {}).get("code") not in ("unavailable", "rate_limited"):
                raise AckError(ack)
            last = AckError(ack)
            await asyncio.sleep(0.2)
        raise TimeoutError(f"{event} not acknowledged after {attempts} attempts: {last}")

    # incidents ----------------------------------------------------------------------------

    async def join(self, incident_id: str) -> dict[str, Any]:
        state = self.incidents.setdefault(incident_id, IncidentState(incident_id))
        try:
            ack = await self.request(
                "incident.join", {"incident_id": incident_id, "presence": self.presence_mode}
            )
        except BaseException:
            self.incidents.pop(incident_id, None)
            raise
        self._apply_join(state, ack)
        state.joined = True
        early, state.early = state.early, []
        for event in sorted(early, key=lambda e: int(e["seq"])):
            await self._on_event(event)
        return ack

    async def leave(self, incident_id: str) -> None:
        await self.request("incident.leave", {"incident_id": incident_id})
        state = self.incidents.pop(incident_id, None)
        if state is not None and state.catching_up is not None:
            state.catching_up.cancel()

    def seq(self, incident_id: str) -> int:
        return self.incidents[incident_id].seq

    async def wait_for_seq(self, incident_id: str, seq: int, timeout: float = 10) -> None:
        """Until this client holds seq (catching up if it must, as a gap would make it)."""
        state = self.incidents[incident_id]
        deadline = asyncio.get_running_loop().time() + timeout
        while state.seq < seq:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{incident_id}: at seq {state.seq}, waited for {seq}")
            if state.catching_up is None and self.connected.is_set():
                state.seen_beyond = max(state.seen_beyond, seq)
                self._catch_up(state)
            await asyncio.sleep(0.05)

    # events -------------------------------------------------------------------------------

    async def _on_event(self, event: dict[str, Any]) -> None:
        state = self.incidents.get(event.get("incident_id", ""))
        if state is None:
            return
        if not state.joined:
            state.early.append(event)
            return
        seq = event["seq"]
        if seq <= state.seq:
            return  # a duplicate: already applied through a replay
        if seq == state.seq + 1 and state.catching_up is None:
            self._apply(state, event)
            return
        state.seen_beyond = max(state.seen_beyond, seq)
        self._catch_up(state)

    def _apply(self, state: IncidentState, event: dict[str, Any]) -> None:
        state.seq = event["seq"]
        state.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    def _apply_join(self, state: IncidentState, ack: dict[str, Any]) -> None:
        if "presence" in ack:
            self._presence_page(ack["presence"], first=True)
        if "events" in ack:
            for event in ack["events"]:
                if event["seq"] == state.seq + 1:
                    self._apply(state, event)
        else:
            if ack.get("reset"):
                state.resets += 1
            state.snapshot = ack["snapshot"]
            state.seq = max(state.seq, ack["seq"]) if not ack.get("reset") else ack["seq"]

    def _catch_up(self, state: IncidentState) -> None:
        if state.catching_up is None or state.catching_up.done():
            state.catching_up = asyncio.get_running_loop().create_task(self._catch_up_run(state))

    async def _catch_up_run(self, state: IncidentState) -> None:
        delay = 0.1
        try:
            for _ in range(100):  # bounded: a hub that refuses for that long needs a human
                try:
                    ack = await self.call(
                        "incident.join",
                        {
                            "incident_id": state.incident_id,
                            "since": state.seq,
                            "presence": self.presence_mode,
                        },
                    )
                except (TimeoutError, socketio.exceptions.SocketIOError):
                    if not self.connected.is_set():
                        return  # the reconnect handler starts again
                    ack = {"ok": False, "error": {"code": "unavailable"}}
                if not ack.get("ok"):
                    if ack.get("error", {}).get("code") not in ("unavailable", "rate_limited"):
                        log.warning("catch-up of %s refused: %s", state.incident_id, ack["error"])
                        return
                    await asyncio.sleep(delay)  # the hub or its database is restarting
                    delay = min(delay * 2, 2.0)
                    continue
                self._apply_join(state, ack)
                # More may have been committed while we replayed (or a page was capped).
                if state.seq >= max(state.seen_beyond, ack["seq"]):
                    return
        finally:
            if state.catching_up is asyncio.current_task():
                state.catching_up = None

    async def _on_positions(self, message: dict[str, Any]) -> None:
        self.positions.append(message)

    async def _on_alert_progress(self, message: dict[str, Any]) -> None:
        self.alert_progress.append(message)

    async def _on_left(self, message: dict[str, Any]) -> None:
        """Removed from the incident (on any instance): stop following it."""
        self.left.append(message)
        state = self.incidents.pop(message.get("incident_id", ""), None)
        if state is not None and state.catching_up is not None:
            state.catching_up.cancel()

    async def _on_presence(self, message: dict[str, Any]) -> None:
        self.presence[message["incident_id"]] = message["online"]

    async def _on_presence_changed(self, message: dict[str, Any]) -> None:
        self.presence_changes.append(message)
        incident_id, version = message["incident_id"], message["version"]
        held = self.presence_versions.get(incident_id)
        if held is None or incident_id in self._resyncing or version <= held:
            return  # not joined yet, being read again, or already applied
        if version != held + 1:
            self._resync(incident_id)  # one was missed: read the list again
            return
        gone = set(message["left"]) | {user["user_id"] for user in message["joined"]}
        online = [
            user for user in self.presence.get(incident_id, []) if user["user_id"] not in gone
        ]
        online.extend(message["joined"])
        online.sort(key=lambda user: (user["name"], user["user_id"]))
        self.presence[incident_id] = online
        self.presence_versions[incident_id] = version

    def _presence_page(self, page: dict[str, Any], *, first: bool) -> bool:
        """Applies a page of the list; True when it was the last one."""
        incident_id = page["incident_id"]
        if first or page["offset"] == 0:
            self.presence[incident_id] = []
        self.presence[incident_id] = [*self.presence[incident_id], *page["online"]]
        self.presence_versions[incident_id] = page["version"]
        complete: bool = page["offset"] + len(page["online"]) >= page["total"]
        if first and not complete:
            self._resync(incident_id)  # a long list: the rest page by page
        return complete

    def _resync(self, incident_id: str) -> None:
        if incident_id not in self._resyncing:
            self.presence_resyncs += 1
            self._resyncing[incident_id] = asyncio.get_running_loop().create_task(
                self._read_presence(incident_id)
            )

    async def _read_presence(self, incident_id: str) -> None:
        """The whole list at one version, page by page (bounded: a list that keeps changing
        under the reader is read again at most a few times)."""
        try:
            for _ in range(5):
                offset, version = 0, None
                while True:
                    ack = await self.call(
                        "presence.get", {"incident_id": incident_id, "offset": offset}
                    )
                    if not ack.get("ok"):
                        return
                    page = ack["presence"]
                    if version is not None and page["version"] != version:
                        break  # it changed between pages: start again
                    version = page["version"]
                    if self._presence_page(page, first=False) or not page["online"]:
                        return
                    offset += len(page["online"])
        except (TimeoutError, socketio.exceptions.SocketIOError):
            return  # disconnected: the rejoin brings the list
        finally:
            self._resyncing.pop(incident_id, None)
