"""The TAK listeners of one instance: CoT over plain TCP (TAK_COT_PORT, as TAK's 8087: no
authentication, for a trusted interface) and over TLS with client certificates (TAK_TLS_PORT,
as TAK's 8089: the deployment for real networks), each connection read by its own task.

Every bad input has one outcome, logged (at most one line per kind a second, hub/logs.py
ThrottledLog), and touches nothing but its own connection:

- ignored event: malformed XML or protobuf, a DTD or entity (XML bombs, external entities),
  an event over MAX_EVENT_BYTES, an unknown CoT type, an unknown uid, an impossible fix
  (coordinates out of range, a time in the future), a closed incident;
- closed connection: no `</event>` in MAX_UNTERMINATED_BYTES, a protobuf frame announcing more
  than MAX_EVENT_BYTES, nothing received for TAK_IDLE_TIMEOUT_S, more than
  TAK_MAX_CONNECTIONS open, a device that does not read what it is sent
  (MAX_OUTPUT_BUFFER_BYTES), a TLS client without a certificate of TAK_TLS_CA (refused in
  the handshake).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from functools import partial
from typing import Any

import takproto

from hub.actions.convoys import symbol_from_tak
from hub.context import Hub
from hub.convoys.pipeline import Outcome, PositionPipeline
from hub.convoys.symbols import sidc_of_cot
from hub.errors import HubError
from hub.logs import ThrottledLog
from hub.settings import Settings
from hub.tak.bridge import TakBridge
from hub.tak.cot import PING, PROTOCOL_REQUEST, CotError, CotEvent, parse_proto, parse_xml
from hub.tak.limits import (
    MAX_EVENT_BYTES,
    MAX_FIXES_IN_FLIGHT,
    MAX_OUTPUT_BUFFER_BYTES,
    READ_CHUNK_BYTES,
    TLS_HANDSHAKE_TIMEOUT_S,
)
from hub.tak.position import Registrations, tak_fix
from hub.tak.shapes import pong, protocol_response
from hub.tak.stream import Frame, Framer, StreamError
from models.base import utcnow

log = logging.getLogger(__name__)
# The TAK protocol version a client may ask for (t-x-takp-q): 1, the protobuf stream.
PROTOBUF = 1
CLOSE_WAIT_S = 5.0


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS listener's context: the hub's certificate, and client certificates required
    and checked against TAK_TLS_CA. Built at start-up, so a missing file fails the start."""
    if settings.tak_tls_port is None:
        return None
    assert settings.tak_tls_cert and settings.tak_tls_key and settings.tak_tls_ca
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.tak_tls_cert, settings.tak_tls_key)
    context.load_verify_locations(cafile=settings.tak_tls_ca)
    context.verify_mode = ssl.CERT_REQUIRED
    return context


class TakConnection:
    """One device's connection: what it is sent, in the format it speaks."""

    def __init__(self, writer: asyncio.StreamWriter, name: str) -> None:
        self.writer = writer
        self.name = name
        self.protocol = 0  # 0: CoT XML; 1: TAK protocol v1 (once it sent or asked for it)
        self.incidents: set[str] = set()
        self.in_flight = asyncio.Semaphore(MAX_FIXES_IN_FLIGHT)
        self.overflowed = False
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed or self.writer.transport.is_closing()

    def close(self) -> None:
        self._closed = True

    def send(self, data: bytes) -> None:
        """Queue one CoT event (XML) for the device, as protobuf if it speaks that. A device
        whose queue passes MAX_OUTPUT_BUFFER_BYTES is closed: it does not read."""
        if self.closed:
            return
        if self.protocol == PROTOBUF:
            data = bytes(takproto.xml2proto(data, takproto.TAKProtoVer.STREAM))
        transport = self.writer.transport
        if transport.get_write_buffer_size() + len(data) > MAX_OUTPUT_BUFFER_BYTES:
            self.overflowed = True
            self._closed = True
            transport.abort()
            return
        self.writer.write(data)


class TakListener:
    """Accepts TAK connections; started and closed by the instance (hub/instance.py)."""

    def __init__(
        self,
        hub: Hub,
        pipeline: PositionPipeline,
        bridge: TakBridge,
        registrations: Registrations,
        tls: ssl.SSLContext | None,
    ) -> None:
        self.hub = hub
        self.settings = hub.settings
        self.pipeline = pipeline
        self.bridge = bridge
        self.registrations = registrations
        self.tls = tls
        self.logs = ThrottledLog(log)
        self._servers: list[asyncio.Server] = []
        self._connections: set[TakConnection] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._fixes: set[asyncio.Task[Outcome]] = set()
        self.stored = 0  # fixes stored from TAK devices by this instance

    @property
    def connections(self) -> int:
        return len(self._connections)

    async def start(self) -> None:
        settings = self.settings
        if settings.tak_cot_port is not None:
            server = await asyncio.start_server(
                partial(self._serve, secure=False), settings.tak_bind, settings.tak_cot_port
            )
            self._servers.append(server)
            log.info("TAK CoT on tcp://%s:%s", settings.tak_bind, settings.tak_cot_port)
        if settings.tak_tls_port is not None and self.tls is not None:
            server = await asyncio.start_server(
                partial(self._serve, secure=True),
                settings.tak_bind,
                settings.tak_tls_port,
                ssl=self.tls,
                ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT_S,
            )
            self._servers.append(server)
            log.info("TAK CoT on tls://%s:%s", settings.tak_bind, settings.tak_tls_port)

    async def close(self) -> None:
        """Stops accepting, closes every connection, and waits for the fixes already handed to
        the pipeline (which closes after this)."""
        for server in self._servers:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._fixes:
            await asyncio.wait(list(self._fixes), timeout=CLOSE_WAIT_S)
        for task in list(self._fixes):
            task.cancel()
        await asyncio.gather(*self._fixes, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()

    # one connection ---------------------------------------------------------------------------

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, secure: bool
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        address = writer.get_extra_info("peername")
        name = f"{'tls' if secure else 'tcp'}:{address[0]}:{address[1]}" if address else "?"
        connection = TakConnection(writer, name)
        try:
            if len(self._connections) >= self.settings.tak_max_connections:
                self.logs.warning(
                    "tak-too-many",
                    "TAK %s closed: %d connections open (TAK_MAX_CONNECTIONS)",
                    name,
                    len(self._connections),
                )
                return
            self._connections.add(connection)
            closed = await self._read(connection, reader)
            if connection.overflowed:
                closed = ("tak-slow", f"it does not read ({MAX_OUTPUT_BUFFER_BYTES} bytes queued)")
            if closed is not None:
                self.logs.warning(closed[0], "TAK %s closed: %s", name, closed[1])
            else:
                log.info("TAK %s disconnected", name)
        except (ConnectionError, ssl.SSLError) as error:
            log.info("TAK %s lost: %s", name, error)
        except Exception:
            # The hub's fault (a database gone, a bug), not the device's: this connection
            # closes (the device reconnects) and the others go on.
            log.exception("TAK %s closed: the hub failed to serve it", name)
        finally:
            connection.close()
            self.bridge.detach(connection)
            self._connections.discard(connection)
            self._tasks.discard(task)
            await _close(writer)

    async def _read(
        self, connection: TakConnection, reader: asyncio.StreamReader
    ) -> tuple[str, str] | None:
        """Reads until the device leaves (None) or breaks a limit (its log kind, the reason)."""
        framer = Framer()
        idle = self.settings.tak_idle_timeout_s
        while not connection.closed:
            try:
                async with asyncio.timeout(idle):
                    data = await reader.read(READ_CHUNK_BYTES)
            except TimeoutError:
                return "tak-idle", f"nothing received for {idle:g} s"
            if not data:
                return None
            try:
                frames = framer.feed(data)
            except StreamError as error:
                return "tak-stream", str(error)
            for frame in frames:
                await self._frame(connection, frame)
        return None

    async def _frame(self, connection: TakConnection, frame: Frame) -> None:
        if frame.kind == "oversized":
            self.logs.warning(
                "tak-oversized",
                "TAK %s: an event of %d bytes ignored (limit %d)",
                connection.name,
                frame.size,
                MAX_EVENT_BYTES,
            )
            return
        try:
            event = parse_xml(frame.data) if frame.kind == "xml" else parse_proto(frame.data)
        except CotError as error:
            self.logs.warning(
                f"tak-{error.kind}", "TAK %s: event ignored: %s", connection.name, error
            )
            return
        if frame.kind == "proto":
            connection.protocol = PROTOBUF  # answered as it speaks
        await self._event(connection, event)

    async def _event(self, connection: TakConnection, event: CotEvent) -> None:
        if event.type == PING:
            connection.send(pong(utcnow()))
            return
        if event.type == PROTOCOL_REQUEST:
            granted = event.requested_protocol == PROTOBUF
            connection.send(protocol_response(utcnow(), granted))
            if granted:
                connection.protocol = PROTOBUF
            return
        if not event.is_position:
            self.logs.warning(
                "tak-type", "TAK %s: CoT type %r ignored", connection.name, event.type[:40]
            )
            return
        registration = await self.registrations.find(event.uid)
        if registration is None:
            self.logs.warning(
                "tak-uid", "TAK %s: unknown uid %r ignored", connection.name, event.uid[:80]
            )
            return
        try:
            fix = tak_fix(self.hub, registration, event)
        except HubError as error:
            self.logs.warning(
                "tak-fix",
                "TAK %s: fix of %r ignored: %s: %s",
                connection.name,
                event.uid[:80],
                error.code,
                error.message,
            )
            return
        symbol = sidc_of_cot(event.type) if registration.sidc is None else None
        if symbol is not None:
            # The device's own type draws it until a manager sets another (once: cached).
            self.registrations.symbolled(event.uid, symbol)
            try:
                await symbol_from_tak(self.hub, registration.vehicle_id, symbol)
            except HubError as error:
                self.logs.warning(
                    "tak-symbol", "TAK %s: symbol not set: %s", connection.name, error.message
                )
        if registration.incident_id not in connection.incidents:
            connection.incidents.add(registration.incident_id)
            await self.bridge.attach(connection, registration.incident_id)
        await connection.in_flight.acquire()
        task = asyncio.get_running_loop().create_task(self.pipeline.ingest(fix))
        self._fixes.add(task)
        task.add_done_callback(partial(self._stored, connection))

    def _stored(self, connection: TakConnection, task: asyncio.Task[Outcome]) -> None:
        self._fixes.discard(task)
        connection.in_flight.release()
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            self.stored += 1
        elif isinstance(error, HubError):
            self.logs.warning(
                "tak-refused",
                "TAK %s: fix not stored: %s: %s",
                connection.name,
                error.code,
                error.message,
            )
        else:
            self.logs.warning("tak-refused", "TAK %s: fix not stored: %r", connection.name, error)


async def _close(writer: asyncio.StreamWriter) -> None:
    """Close, and drop a TLS peer that does not answer the close within CLOSE_WAIT_S."""
    writer.close()
    try:
        async with asyncio.timeout(CLOSE_WAIT_S):
            await writer.wait_closed()
    except TimeoutError:
        writer.transport.abort()
    except (ConnectionError, ssl.SSLError, OSError):
        pass  # already gone
